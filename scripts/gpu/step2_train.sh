#!/usr/bin/env bash
# GPU call 2: train srresnet-mse, then srgan-vgg54 initialised from it, on T91 + BSD200 + General100.
# Usage: step2_train.sh SRRESNET_STEPS SRRESNET_BATCH SRGAN_STEPS SRGAN_BATCH SRRESNET_SECONDS
source scripts/gpu/common.sh
RS=$1; RB=$2; GS=$3; GB=$4; RT=$5
mkdir -p .gpu/runs
set +e
timeout $RT python3 -m srgan_lib.cli train srresnet-mse --out .gpu/runs/srresnet-mse --steps $RS --batch-size $RB \
  --checkpoint-every 500 --val-every 4000 --sample-every 4000 --log-every 50 --quiet 2>&1 | grep -v "^WARNING\|Warning" | tail -40
echo "srresnet exit ${PIPESTATUS[0]}"
timeout ${GT:-220} python3 -m srgan_lib.cli train srgan-vgg54 --out .gpu/runs/srgan-vgg54 --init .gpu/runs/srresnet-mse --steps $GS --batch-size $GB \
  --checkpoint-every 250 --val-every 1000 --sample-every 1000 --log-every 25 --quiet 2>&1 | grep -v "^WARNING\|Warning" | tail -40
echo "srgan exit ${PIPESTATUS[0]}"
tar czf $OUT/runs.tgz --exclude='checkpoints' --exclude='tensorboard' -C .gpu runs
ls -la $OUT
