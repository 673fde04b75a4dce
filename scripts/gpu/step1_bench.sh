#!/usr/bin/env bash
# GPU call 1: sanity check + throughput of the train step (JAX backend).
source scripts/gpu/common.sh
python3 bench/bench_train.py --data T91 --batch 16 64 --presets srresnet-mse --steps 40 --json $OUT/bench_srresnet.json 2>&1 | grep -v "Warning\|warn("
python3 bench/bench_train.py --data T91 --batch 16 32 --presets srgan-vgg54 --steps 20 --warmup 2 --json $OUT/bench_srgan.json 2>&1 | grep -v "Warning\|warn("
