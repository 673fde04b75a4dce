"""``srgan upscale`` before and after the compiled predictor: CPU time of a 4K frame, and peak
memory against the input size.

    python bench/bench_upscale.py                      # both parts, markdown tables on stdout
    python bench/bench_upscale.py --part frame --frame-reps 3 --frame-models pointwise
    python bench/bench_upscale.py --part memory --memory pointwise:512,2048 2x16:512

"old" is git HEAD's ``srgan_lib/upscale.py`` (``git show HEAD:srgan_lib/upscale.py`` is written
to a temporary file and imported; ``--old-rev`` picks another revision), "new" the working
tree's.  Every case runs in a fresh subprocess, which reports its own peak resident set size
(``ru_maxrss``).  Generators have random weights (time and memory do not depend on the values).

frame
    ``upscale(img, model, overlap=40)`` of a random 960x540 RGB array -> 3840x2160 with the
    default tile (256; 18 windows), after a warm-up call on 300x300 that compiles the window
    shape; the time is the mean of ``--frame-reps`` calls.  Generators: the paper's SRResNet
    (16 blocks, 64 filters) and ``pointwise`` (one 1x1 convolution, pixel shuffle x4, tanh),
    whose network time is negligible, so that its frame time is the per-tile overhead and the
    conversions.  "new" builds its predictor once (``inference.make_predictor``), as a video
    loop would; the old code took the Keras model.
memory
    ``upscale_file(in.png, out.png, model)`` of random RGB PNGs of N x N (written beforehand by
    the parent process), after a warm-up call on a 300x300 file.  Generators: ``pointwise`` up
    to 6000 x 6000 (the full model would take hours for the large inputs on 2 CPU cores) and a
    2-block, 16-filter SRResNet up to 2048 x 2048; the activations of one tile, not the input
    size, set the network's working memory.  Reported: wall time of the call (PNG decode and
    encode included), peak RSS, and peak RSS minus the output image buffer that any PNG writer
    needs (Pillow holds RGB as 4 bytes per pixel: ``16 N^2 * 4`` bytes).  For N = ``--readback``
    the new code's output is read back with ``images.read_image`` (Pillow alone refuses images
    above 179 million pixels).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FRAME = (540, 960)


def _rss_mib() -> float:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load_impl(impl: str, old_file: str | None):
    if impl == "new":
        import srgan_lib.upscale as U
        return U
    import importlib.util
    spec = importlib.util.spec_from_file_location("old_upscale", old_file)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["old_upscale"] = mod
    spec.loader.exec_module(mod)
    return mod


def _model(spec: str):
    """``"BxF"``: ``srresnet(num_blocks=B, filters=F)``; ``"pointwise"``: a 1x1 convolution to
    48 channels, pixel shuffle x4 and tanh (a x4 generator with almost no compute)."""
    import keras
    from srgan_lib import models
    keras.utils.set_random_seed(0)
    if spec == "pointwise":
        x = keras.Input((None, None, 3))
        y = models.PixelShuffle(4)(keras.layers.Conv2D(48, 1, padding="same")(x))
        return keras.Model(x, keras.layers.Activation("tanh")(y), name="pointwise")
    blocks, filters = (int(v) for v in spec.split("x"))
    return models.srresnet(num_blocks=blocks, filters=filters)


def _label(spec: str) -> str:
    if spec == "pointwise":
        return "pointwise (1x1 conv + pixel shuffle)"
    blocks, filters = spec.split("x")
    return f"SRResNet, {blocks} blocks x {filters} filters"


def child_frame(impl, old_file, spec, reps):
    import numpy as np

    U = _load_impl(impl, old_file)
    model = _model(spec)
    t0 = time.perf_counter()
    if impl == "new":
        from srgan_lib.inference import make_predictor
        model = make_predictor(model)
    warm = np.zeros((300, 300, 3), np.uint8)  # windows of the frame's shape: compiles them
    U.upscale(warm, model, overlap=40)
    first = time.perf_counter() - t0
    img = np.random.default_rng(0).integers(0, 256, FRAME + (3,), dtype=np.uint8)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        out = U.upscale(img, model, overlap=40)
        times.append(time.perf_counter() - t0)
    assert out.shape == (FRAME[0] * 4, FRAME[1] * 4, 3) and out.dtype == np.uint8
    return {"first_s": first, "frame_s": sum(times) / len(times), "frames": len(times),
            "peak_rss_mib": _rss_mib()}


def child_file(impl, old_file, spec, src, readback):
    U = _load_impl(impl, old_file)
    model = _model(spec)
    work = Path(src).parent
    if impl == "new":
        from srgan_lib.inference import make_predictor
        model = make_predictor(model)
    warm = work / f"warm-{impl}.png"
    U.upscale_file(work / "warm.png", warm, model, overwrite=True)
    warm.unlink()
    base = _rss_mib()
    dst = work / f"out-{impl}.png"
    t0 = time.perf_counter()
    U.upscale_file(src, dst, model, overwrite=True)
    wall = time.perf_counter() - t0
    peak = _rss_mib()
    res = {"wall_s": wall, "peak_rss_mib": peak, "rss_before_mib": base}
    if readback:
        from srgan_lib.images import read_image
        t0 = time.perf_counter()
        h, w, _ = read_image(dst).shape
        res.update(readback_shape=[h, w], readback_s=time.perf_counter() - t0,
                   peak_rss_with_readback_mib=_rss_mib())
    dst.unlink()
    return res


def _run(args: list[str], timeout: float) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    try:
        p = subprocess.run([sys.executable, __file__, "--child", json.dumps(args)],
                           capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        tail = (p.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": f"exit {p.returncode}: {tail[:200]}"}
    return json.loads(lines[-1])


def _make_png(path: Path, n: int) -> None:
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(n)
    Image.fromarray(rng.integers(0, 256, (n, n, 3), dtype=np.uint8)).save(path, compress_level=1)


def _versions() -> str:
    import keras
    out = [f"Python {platform.python_version()}", f"Keras {keras.__version__}",
           f"backend {keras.backend.backend()}"]
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        out.append(f"TensorFlow {tf.__version__}")
    else:
        import jax
        out.append(f"JAX {jax.__version__}")
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    return ", ".join(out) + f"; {cpu}, {os.cpu_count()} CPUs"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("frame", "memory", "all"), default="all")
    ap.add_argument("--frame-reps", type=int, default=1)
    ap.add_argument("--frame-models", nargs="+", default=["16x64", "pointwise"],
                    help="generators of the frame part: BLOCKSxFILTERS (srresnet) or pointwise")
    ap.add_argument("--memory", nargs="+", default=["pointwise:512,1024,2048,4096,6000",
                                                   "2x16:512,1024,2048"],
                    help="MODEL:N,N,... generators and N x N input sizes of the memory part")
    ap.add_argument("--readback", type=int, default=6000,
                    help="for inputs of this N, the new code's output is read back with read_image")
    ap.add_argument("--old-rev", default="HEAD")
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, *rest = json.loads(args.child)
        res = child_frame(*rest) if kind == "frame" else child_file(*rest)
        print(json.dumps(res))
        return 0

    print(f"<!-- {_versions()} -->", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench_upscale_") as tmp:
        tmp = Path(tmp)
        old_file = tmp / "old_upscale.py"
        old_file.write_text(subprocess.run(["git", "show", f"{args.old_rev}:srgan_lib/upscale.py"],
                                           cwd=ROOT, check=True, capture_output=True, text=True).stdout)
        if args.part in ("frame", "all"):
            print("\n| generator | code | compile + 300x300 warm-up (s) | 4K frame (s) | peak RSS (MiB) |")
            print("|---|---|---|---|---|", flush=True)
            for spec in args.frame_models:
                for impl in ("old", "new"):
                    r = _run(["frame", impl, str(old_file), spec, args.frame_reps], args.timeout)
                    if "error" in r:
                        print(f"| {_label(spec)} | {impl} | failed: {r['error']} | | |", flush=True)
                    else:
                        print(f"| {_label(spec)} | {impl} | {r['first_s']:.2f} | {r['frame_s']:.2f} "
                              f"(mean of {r['frames']}) | {r['peak_rss_mib']:.0f} |", flush=True)
        if args.part in ("memory", "all"):
            _make_png(tmp / "warm.png", 300)
            print("\n| generator | LR -> SR | code | wall (s) | peak RSS (MiB) | output buffer (MiB) | "
                  "peak RSS - output buffer (MiB) | peak RSS before the call (MiB) |")
            print("|---|---|---|---|---|---|---|---|", flush=True)
            for item in args.memory:
                spec, sizes = item.split(":")
                for n in (int(v) for v in sizes.split(",")):
                    src = tmp / f"in-{n}.png"
                    _make_png(src, n)
                    for impl in ("old", "new"):
                        readback = impl == "new" and n == args.readback
                        r = _run(["file", impl, str(old_file), spec, str(src), readback], args.timeout)
                        buf = 16 * n * n * 4 / 2 ** 20
                        row = f"| {_label(spec)} | {n}x{n} -> {4 * n}x{4 * n} | {impl}"
                        if "error" in r:
                            print(f"{row} | failed: {r['error']} | | | | |", flush=True)
                            continue
                        if readback:
                            row += (f" (output read back with read_image: {r['readback_s']:.1f} s, "
                                    f"peak {r['peak_rss_with_readback_mib']:.0f} MiB)")
                        print(f"{row} | {r['wall_s']:.1f} | {r['peak_rss_mib']:.0f} | {buf:.0f} | "
                              f"{r['peak_rss_mib'] - buf:.0f} | {r['rss_before_mib']:.0f} |", flush=True)
                    src.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
