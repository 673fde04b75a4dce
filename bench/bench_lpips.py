"""Cost per image of the perceptual measures of ``srgan eval``: LPIPS (AlexNet, VGG16) against the VGG54
feature distance, side by side in one process, on the current Keras backend.

    KERAS_BACKEND=tensorflow python bench/bench_lpips.py            # markdown table on stdout
    KERAS_BACKEND=jax python bench/bench_lpips.py --reps 5 --sizes 321x481,512x512

Each measure scores one SR/HR pair of random uint8 RGB images of each size (the time does not depend
on the values) through the function ``srgan eval`` calls per image (:func:`srgan_lib.lpips.lpips_distance`,
``vgg.feature_distance`` with one ``vgg.vgg_features("54")`` model), after one warm-up call on that size (weights
loaded, kernels compiled); the time is the median of ``--reps`` calls. 321x481 is a BSD100 image.
Needs the VGG19 weights ($SRGAN_VGG19_WEIGHTS) and the LPIPS weights (:mod:`srgan_lib.lpips`).
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
    parser.add_argument("--sizes", default="321x481,256x256", help="HxW,... (default 321x481,256x256)")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    import keras

    from srgan_lib import lpips, vgg

    features = vgg.vgg_features("54")
    measures = {
        "VGG54 distance": lambda sr, hr: vgg.feature_distance(sr, hr, features=features),
        "LPIPS (AlexNet)": lambda sr, hr: lpips.lpips_distance(sr, hr, "alex"),
        "LPIPS (VGG16)": lambda sr, hr: lpips.lpips_distance(sr, hr, "vgg"),
    }
    rng = np.random.default_rng(0)
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    print(f"Keras {keras.__version__}, backend {keras.backend.backend()}, {os.cpu_count()} CPUs "
          f"({platform.processor() or platform.machine()}), median of {args.reps} calls after one warm-up\n")
    print("| measure | " + " | ".join(f"{h}x{w} (s/image)" for h, w in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    rows = {name: [] for name in measures}
    for h, w in sizes:
        sr, hr = (rng.integers(0, 256, (h, w, 3)).astype(np.uint8) for _ in range(2))
        for name, fn in measures.items():
            fn(sr, hr)  # warm-up
            times = []
            for _ in range(args.reps):
                t = time.perf_counter()
                fn(sr, hr)
                times.append(time.perf_counter() - t)
            rows[name].append(statistics.median(times))
    for name, times in rows.items():
        print(f"| {name} | " + " | ".join(f"{t:.3f}" for t in times) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
