"""``srgan upscale``'s default tile, before (256 LR pixels, 65,536 LR pixels per call) and after
(:data:`srgan_lib.upscale.DEFAULT_TILE`, the largest window within the stated memory budget), side by side.

    KERAS_BACKEND=tensorflow python bench/bench_tile.py           # markdown table on stdout
    KERAS_BACKEND=jax python bench/bench_tile.py --sizes 240x320,480x640 --reps 3

The paper's SRResNet (16 blocks, 64 filters, random weights: time does not depend on the values),
compiled once (:func:`srgan_lib.inference.make_predictor`); for each LR size, a random RGB image is
upscaled x4 with each setting after one warm-up call (which compiles the window shape), the time is
the median of ``--reps`` calls, and the two outputs are compared byte for byte (the overlap is the
receptive field, so tiling changes no output value).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="240x320,480x640", help="LR HxW,... (default 240x320,480x640)")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    import keras

    from srgan_lib import inference, models, upscale

    keras.utils.set_random_seed(0)
    predictor = inference.make_predictor(models.srresnet())
    settings = {"old default (tile 256, 65,536 px per call)": dict(tile=256, batch=None, old=True),
                f"new default (tile {upscale.DEFAULT_TILE})": dict(tile=None, batch=None, old=False)}
    print(f"Keras {keras.__version__}, backend {keras.backend.backend()}, {os.cpu_count()} CPUs "
          f"({platform.machine()}), median of {args.reps} calls after a warm-up call\n")
    print("| LR size | setting | windows | time (s) | identical output |")
    print("|---|---|---:|---:|---|")
    rng = np.random.default_rng(0)
    for size in args.sizes.split(","):
        h, w = (int(v) for v in size.split("x"))
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        outputs = {}
        for name, s in settings.items():
            tile = s["tile"] or upscale.DEFAULT_TILE
            rf = upscale.receptive_radius(predictor.model)
            windows = len(upscale.tile_windows(h, tile, rf)) * len(upscale.tile_windows(w, tile, rf))
            batch = max(1, 256 * 256 // (min(h, tile) * min(w, tile))) if s["old"] else None

            def run():
                return upscale.upscale(img, predictor, tile=s["tile"], batch=batch)

            run()  # warm-up: compiles this window shape
            times = []
            for _ in range(args.reps):
                t = time.perf_counter()
                outputs[name] = run()
                times.append(time.perf_counter() - t)
            outputs[name + "/windows"] = windows
            outputs[name + "/time"] = statistics.median(times)
        first = next(iter(settings))
        for name in settings:
            same = np.array_equal(outputs[name], outputs[first])
            print(f"| {h}x{w} | {name} | {outputs[name + '/windows']} | {outputs[name + '/time']:.2f} | "
                  f"{'yes' if same else 'NO'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
