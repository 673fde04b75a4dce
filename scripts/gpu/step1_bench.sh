#!/usr/bin/env bash
# GPU call 1: sanity check + training throughput with the device loop (JAX backend), and the host
# cost per step of the old fit() path vs the device loop (bench/bench_train.py, figures in bench/RESULTS.md).
source scripts/gpu/common.sh
python3 bench/bench_train.py throughput --presets srresnet-mse --batch 16 64 --mixed-precision both --steps 3000 \
  --json $OUT/bench_srresnet.json 2>&1 | grep -v "Warning\|warn("
python3 bench/bench_train.py throughput --presets srgan-vgg54 --batch 16 --mixed-precision both --steps 1500 \
  --json $OUT/bench_srgan.json 2>&1 | grep -v "Warning\|warn("
python3 bench/bench_train.py host-cost --preset srgan-vgg54 --steps 300 --json $OUT/bench_host_cost.json 2>&1 \
  | grep -v "Warning\|warn(" | tail -30
