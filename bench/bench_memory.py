"""Memory per pixel of the work the size checks guard (``srgan_lib.images.check_memory``).

    python bench/bench_memory.py                 # markdown table on stdout
    python bench/bench_memory.py --sides 1024 2048

Each case runs in a fresh subprocess on a random RGB image of N x N and reports the growth of its
peak resident set size (``ru_maxrss``) during the work, divided by the pixels the work is counted in:

decode
    ``images.read_image`` of an N x N PNG (bytes per pixel of the image);
eval, bicubic
    ``degrade`` -> ``make_method("bicubic")`` -> ``psnr`` and ``ssim`` on an N x N HR image
    (bytes per HR pixel: ``data.benchmark.EVAL_BYTES_PER_PIXEL``);
eval, generator
    the same with the paper's SRResNet (16 blocks, 64 filters, random weights) on the whole LR image
    (bytes per HR pixel: ``data.benchmark.GENERATOR_BYTES_PER_PIXEL``).

Two sides show whether the cost is per pixel (it is, when the two rows agree).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile

CASE = r"""
import json, os, resource, sys
import numpy as np
case, side, png = sys.argv[1], int(sys.argv[2]), sys.argv[3]
from srgan_lib import degrade, evaluate, images, metrics, models
rng = np.random.default_rng(0)
hr = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
if case == "eval, generator":
    import keras
    keras.utils.set_random_seed(0)
    gen = models.srresnet()
    fn = lambda lr: models.super_resolve(gen, lr)
elif case.startswith("eval"):
    fn = evaluate.make_method("bicubic", 4)
if case != "decode":
    lr = degrade.degrade(hr, 4, "bicubic")
    fn(lr[:8, :8])  # warm-up: build, trace
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if case == "decode":
    images.read_image(png)
else:
    sr = np.asarray(fn(lr))
    metrics.psnr(sr, hr, border=4), metrics.ssim(sr, hr, border=4)
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * 1024
print(json.dumps({"bytes_per_pixel": grown / (side * side)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sides", type=int, nargs="+", default=[1024, 2048])
    args = parser.parse_args()
    import numpy as np
    from PIL import Image

    import keras

    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, Keras {keras.__version__} ({keras.backend.backend()})\n")
    print("| work | N x N | bytes per pixel (peak RSS growth / pixels) |")
    print("|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for side in args.sides:
            png = os.path.join(tmp, f"{side}.png")
            rng = np.random.default_rng(side)
            Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(png)
            for case in ("decode", "eval, bicubic", "eval, generator"):
                out = subprocess.run([sys.executable, "-c", CASE, case, str(side), png], capture_output=True,
                                     text=True, check=True)
                value = json.loads(out.stdout.strip().splitlines()[-1])["bytes_per_pixel"]
                print(f"| {case} | {side} | {value:.0f} |", flush=True)


if __name__ == "__main__":
    main()
