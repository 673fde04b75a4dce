"""Training throughput: the patch pipeline alone, and one train step of SRResNet / SRGAN.

    python bench/bench_train.py [--data T91] [--batch 16 64] [--presets srresnet-mse srgan-vgg54]
                                [--steps 20] [--json OUT.json]

Reports patches/s of ``PatchSequence`` (single thread, and the threaded ``stream``) and, for each
preset and batch size, steps/s and images/s of ``SRGANTrainer.fit`` after a warm-up (the first
fit call compiles).  The backend is KERAS_BACKEND's.  Figures go to bench/RESULTS.md by hand,
with the command and the hardware.
"""
import argparse
import json
import os
import platform
import shutil
import tempfile
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="T91")
    ap.add_argument("--batch", type=int, nargs="+", default=[16])
    ap.add_argument("--presets", nargs="+", default=["srresnet-mse", "srgan-vgg54"])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--json")
    args = ap.parse_args()

    import keras
    from srgan_lib import data, train
    from srgan_lib.patches import PatchSequence

    imgs = data.load_training_images(args.data, min_size=96)
    results = {"backend": keras.backend.backend(), "data": args.data, "machine": platform.processor() or platform.machine(),
               "cpus": os.cpu_count(), "pipeline": {}, "steps": []}
    try:
        import jax
        results["devices"] = [str(d) for d in jax.devices()]
    except Exception:
        pass
    seq = PatchSequence(imgs, batch_size=16)
    t = time.perf_counter()
    for i in range(50):
        seq.batch(i)
    single = 50 * 16 / (time.perf_counter() - t)
    t = time.perf_counter()
    n = 0
    for lr, hr in seq.stream(0, 200):
        n += lr.shape[0]
    streamed = n / (time.perf_counter() - t)
    results["pipeline"] = {"patches_per_s_single_thread": round(single), "patches_per_s_stream": round(streamed)}
    print(f"pipeline: {single:.0f} patches/s (one thread), {streamed:.0f} patches/s (stream)", flush=True)

    for preset in args.presets:
        for b in args.batch:
            out = tempfile.mkdtemp()
            shutil.rmtree(out)
            cfg = train.TrainConfig(preset=preset, steps=args.warmup + args.steps, batch_size=b, init="none",
                                    val_data=None, checkpoint_every=args.warmup, log_every=10**9)
            seqb = PatchSequence(imgs, batch_size=b)
            trainer = train.build_trainer(cfg.resolved())
            trainer.fit(seqb.stream(0, args.warmup), steps_per_epoch=args.warmup, epochs=1, verbose=0, shuffle=False)
            t = time.perf_counter()
            hist = trainer.fit(seqb.stream(args.warmup, args.warmup + args.steps), steps_per_epoch=args.steps,
                               epochs=1, verbose=0, shuffle=False)
            float(np.asarray(hist.history["g_loss"][-1]))
            dt = time.perf_counter() - t
            row = {"preset": preset, "batch": b, "steps_per_s": round(args.steps / dt, 3),
                   "images_per_s": round(args.steps * b / dt, 1), "ms_per_step": round(1000 * dt / args.steps, 1)}
            results["steps"].append(row)
            print(row, flush=True)
            del trainer
            keras.backend.clear_session()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
