"""Wall time and peak memory of ``srgan_lib.upscale`` with and without tiling.

Each case runs in a fresh subprocess (TensorFlow's allocations are invisible to
tracemalloc), which reports its own peak resident set size (``ru_maxrss`` of
``RUSAGE_SELF``) and the wall time of one ``upscale()`` call on a random uint8 image.
The generator is the paper's default SRResNet (16 blocks, x4) with *random* weights:
timing and memory do not depend on the weight values.  Before the timed call the model is
run once on a 16x16 image (graph building); the timed call includes tracing for the new
tile shape, as a user's first image would.

    python bench/bench_upscale.py                     # all cases, markdown table on stdout
    python bench/bench_upscale.py --sizes 256 1024 --tiles 0 256
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def child(size: int, tile: int) -> None:
    import resource

    import numpy as np
    import keras

    from srgan_lib import models
    import srgan_lib.upscale as U

    keras.utils.set_random_seed(0)
    model = models.srresnet()
    U.upscale(np.zeros((16, 16, 3), np.uint8), model, tile=0)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    img = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    t0 = time.perf_counter()
    out = U.upscale(img, model, tile=tile)
    wall = time.perf_counter() - t0
    assert out.shape == (4 * size, 4 * size, 3)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"size": size, "tile": tile, "wall_s": wall, "peak_rss_mib": peak / 1024,
                      "model_rss_mib": base / 1024}))


def run_case(size: int, tile: int, timeout: float) -> dict:
    cmd = [sys.executable, __file__, "--child", str(size), str(tile)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"size": size, "tile": tile, "error": f"timed out after {timeout:.0f} s"}
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        tail = (p.stderr.strip().splitlines() or ["?"])[-1]
        return {"size": size, "tile": tile, "error": f"exit {p.returncode} ({p.returncode == -9 and 'killed, out of memory?' or tail[:120]})"}
    return json.loads(lines[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    ap.add_argument("--tiles", type=int, nargs="+", default=[0, 128, 256, 512],
                    help="LR tile sizes; 0 = whole image (tiles >= the image size are skipped)")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--child", type=int, nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return 0
    print("| LR -> SR | tile (LR px, overlap 40) | wall time (s) | peak RSS (MiB) | RSS after model build (MiB) |")
    print("|---|---|---|---|---|")
    for size in args.sizes:
        for tile in args.tiles:
            if tile and tile >= size:
                continue
            r = run_case(size, tile, args.timeout)
            label = "none (whole image)" if tile == 0 else str(tile)
            sr = f"{size}x{size} -> {4 * size}x{4 * size}"
            if "error" in r:
                print(f"| {sr} | {label} | failed: {r['error']} | | |", flush=True)
            else:
                print(f"| {sr} | {label} | {r['wall_s']:.1f} | {r['peak_rss_mib']:.0f} | "
                      f"{r['model_rss_mib']:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
