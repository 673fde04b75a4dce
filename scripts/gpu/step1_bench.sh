#!/usr/bin/env bash
# GPU call 1: sanity check + throughput of the train step (JAX backend), batch 16 and larger.
source scripts/gpu/common.sh
python3 bench/bench_train.py --data T91 --batch 16 64 --presets srresnet-mse --steps 30 --json $OUT/bench_srresnet.json
python3 bench/bench_train.py --data T91 --batch 16 32 --presets srgan-vgg54 --steps 20 --json $OUT/bench_srgan.json
