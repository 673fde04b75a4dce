"""Training speed: host cost per step (old fit() path vs the device loop), a tiny model's
``srgan train`` time per step, and steps/s of the presets.

    python bench/bench_train.py host-cost [--preset srgan-vgg54] [--steps 200] [--json OUT]
    python bench/bench_train.py tiny [--steps 400] [--repeat 3] [--json OUT]
    python bench/bench_train.py throughput [--presets srresnet-mse srgan-vgg54] [--batch 16 64]
                                           [--mixed-precision both] [--steps 2000] [--json OUT]

``host-cost``: the real state of a preset (G, D, both Adams, VGG: every leaf), with its step
replaced by a *pass-through* (the logs are the means of the batch, the state is unchanged), so
that what is timed is everything around the model: the data, the dispatch, the logs.  Both paths
run in the same process: the old one (``fit()`` over ``PatchSequence.stream`` with a callback
that reads the losses every step, as the trainer's ``RunMonitor`` did) and the device loop of
``srgan train`` (records per block, patches gathered on the device, logs read one block late);
on JAX both of its forms, the fused ``fori_loop`` (accelerators) and one dispatch per step (CPU).
Reported per step: wall time, CPU time of the whole process, CPU time of the main thread.

``tiny``: ``train.train`` of SRResNet-MSE with 1 block, 8 filters, 24-px patches, batch 16 on T91
(``srgan train srresnet-mse --num-blocks 1 --filters 8 --patch-size 24 --batch-size 16``): the
device loop (on TensorFlow also forced to XLA) and the host loop (Keras ``train_on_batch``,
per-step logs), each of ``--repeat`` sessions; the steady rate excludes the first block
(compilation).  Also the *compute floor*: the same compiled device loop fed batch 0 at every step,
without the host's draws or the session around it.

``throughput``: steps/s of the device loop (steady rate of a ``train.train`` session) per preset,
batch size and precision (for the GPU machine: ``scripts/gpu/step1_bench.sh``).
"""
import argparse
import json
import os
import platform
import shutil
import tempfile
import time

import numpy as np


def _machine() -> dict:
    import keras

    info = {"backend": keras.backend.backend(), "keras": keras.__version__, "machine": platform.machine(),
            "processor": platform.processor(), "cpus": os.cpu_count(), "python": platform.python_version()}
    try:
        with open("/proc/loadavg") as f:
            info["loadavg_start"] = f.read().split()[:3]
    except OSError:
        pass
    if info["backend"] == "jax":
        import jax

        info["jax"], info["devices"] = jax.__version__, [str(d) for d in jax.devices()]
    else:
        import tensorflow as tf

        info["tensorflow"], info["devices"] = tf.__version__, [d.name for d in tf.config.list_logical_devices()]
    return info


def _timed(fn) -> dict:
    t, c, m = time.perf_counter(), time.process_time(), time.thread_time()
    n = fn()
    return {"wall_ms": 1e3 * (time.perf_counter() - t) / n, "process_cpu_ms": 1e3 * (time.process_time() - c) / n,
            "main_thread_cpu_ms": 1e3 * (time.thread_time() - m) / n}


def host_cost(args) -> dict:
    import keras
    from keras import ops

    from srgan_lib import data, train
    from srgan_lib.patches import PatchSequence
    from srgan_lib.train.loop import DeviceLoop

    cfg = train.TrainConfig(preset=args.preset, init="random", val_data=None).resolved()
    trainer = train.build_trainer(cfg)
    leaves = len(trainer.trainable_variables) + len(trainer.non_trainable_variables) + len(trainer.optimizer.variables)

    def logs_of(lr, hr):
        return {k: ops.mean(lr) + ops.mean(hr) for k in trainer.log_keys}

    # The pass-through steps (both backends' signatures).
    trainer.train_step_jax = lambda state, batch: (logs_of(*keras.utils.unpack_x_y_sample_weight(batch)[:2]), state)
    trainer.train_step_tf = lambda batch: logs_of(*keras.utils.unpack_x_y_sample_weight(batch)[:2])
    trainer.compile(trainer.optimizer, trainer.d_optimizer, jit_compile=True)
    seq = PatchSequence(data.load_training_images(args.data, min_size=cfg.patches.patch_size), batch_size=cfg.patches.batch_size,
                        patch_size=cfg.patches.patch_size, seed=0)
    n = args.steps

    class ReadEveryStep(keras.callbacks.Callback):  # what RunMonitor did: every loss, every step
        def on_train_batch_end(self, batch, logs=None):
            {k: float(ops.convert_to_numpy(v)) for k, v in (logs or {}).items()}

    def old():
        trainer.fit(seq.stream(0, n), steps_per_epoch=n, epochs=1, verbose=0, callbacks=[ReadEveryStep()],
                    shuffle=False)
        return n

    old()  # compile
    loops = []

    def new():
        loop, pending, s = loops[-1], [], 0
        while s < n:
            k = min(100, n - s)
            pending.append(loop.dispatch(s, k))
            s += k
            if len(pending) == 2:
                loop.result(pending.pop(0))
        for p in pending:
            loop.result(p)
        loop.sync()  # the Keras variables hold the (donated) state again, for fit()
        return n

    def fresh_loop(per_step):  # after fit(), which donates the arrays the previous loop held
        loops.append(DeviceLoop(trainer, seq, block_steps=100, cache_key=("bench", args.preset), per_step=per_step))
        return loops[-1]

    variants = {"device_loop": False}
    if keras.backend.backend() == "jax":  # the fused fori_loop, and one dispatch per step (JAX's CPU mode)
        variants["device_loop_per_step"] = True
    for per_step in variants.values():
        fresh_loop(per_step).result(loops[-1].dispatch(0, 100))  # compile
        loops[-1].sync()
    result = {"preset": args.preset, "state_leaves": leaves, "steps": n, "batch": cfg.patches.batch_size}
    for again in ("", "_again"):
        result["fit_path" + again] = _timed(old)
        for name, per_step in variants.items():
            fresh_loop(per_step)
            result[name + again] = _timed(new)
    return result


def tiny(args) -> dict:
    import keras

    from srgan_lib import data, train
    from srgan_lib.patches import PatchSequence
    from srgan_lib.train.loop import DeviceLoop
    from srgan_lib.train.trainer import build_trainer

    images = data.load_training_images("T91", min_size=24)
    variants = [("device", {}), ("host", {"loop": "host"})]
    if keras.backend.backend() == "tensorflow":
        variants.insert(1, ("device, XLA", {"jit_compile": True}))  # "auto" is XLA only on a GPU
    out = {"sessions": {}}
    for name, kw in variants:
        steps = args.steps if name.startswith("device") else max(50, args.steps // 8)
        runs = []
        for _ in range(args.repeat):
            folder = tempfile.mkdtemp()
            shutil.rmtree(folder)
            t = time.perf_counter()
            s = train.train(_tiny_config(steps, **kw), folder, images=images, verbose=0, echo=lambda *a: None)
            runs.append({"steady_ms_per_step": 1e3 / s["steps_per_s"], "session_s": s["wall_s"],
                         "call_s": time.perf_counter() - t})
            shutil.rmtree(folder)
        out["sessions"][name] = {"steps": steps, "runs": runs,
                                 "best_steady_ms_per_step": min(r["steady_ms_per_step"] for r in runs)}
    # The compute floor: the compiled device loop on batch 0 for every step (no draws, no session).
    cfg = _tiny_config(args.steps).resolved()
    loop = DeviceLoop(build_trainer(cfg), PatchSequence(images, batch_size=16, patch_size=24), 100)
    first = loop.data.records(0, 1)[0]
    loop.data.records = lambda start, n, rows=None: np.broadcast_to(first, (rows or n,) + first.shape).copy()
    loop.result(loop.dispatch(0, 100))
    best = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        pending = [loop.dispatch(s, 100) for s in range(0, 1000, 100)]
        for p in pending:
            loop.result(p)
        best.append(1e3 * (time.perf_counter() - t) / 1000)
    out["compute_floor_ms_per_step"] = min(best)
    return out


def _tiny_config(steps, **kw):
    from srgan_lib import train

    return train.TrainConfig(preset="srresnet-mse", steps=steps, batch_size=16, patch_size=24, num_blocks=1, filters=8,
                             init="random", val_data=None, data="T91", checkpoint_every=10 ** 9, log_every=10, **kw)


def throughput(args) -> dict:
    from srgan_lib import data, train

    rows = []
    precisions = {"both": [False, True], "on": [True], "off": [False]}[args.mixed_precision]
    images = data.load_training_images(args.data, min_size=96)
    for preset in args.presets:
        for b in args.batch:
            for mixed in precisions:
                folder = tempfile.mkdtemp()
                shutil.rmtree(folder)
                cfg = train.TrainConfig(preset=preset, steps=args.steps, batch_size=b, init="random", val_data=None,
                                        checkpoint_every=10 ** 9, log_every=100, mixed_precision=mixed)
                s = train.train(cfg, folder, images=images, verbose=0, echo=lambda *a: None)
                row = {"preset": preset, "batch": b, "mixed_precision": mixed, "steps": args.steps,
                       "steps_per_s": round(s["steps_per_s"], 2), "images_per_s": round(s["steps_per_s"] * b, 1),
                       "session_s": round(s["wall_s"], 1)}
                rows.append(row)
                print(row, flush=True)
                shutil.rmtree(folder)
    return {"rows": rows}


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="what", required=True)
    p = sub.add_parser("host-cost")
    p.add_argument("--preset", default="srgan-vgg54")
    p.add_argument("--data", default="T91")
    p.add_argument("--steps", type=int, default=200)
    p = sub.add_parser("tiny")
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--repeat", type=int, default=3)
    p = sub.add_parser("throughput")
    p.add_argument("--presets", nargs="+", default=["srresnet-mse", "srgan-vgg54"])
    p.add_argument("--batch", type=int, nargs="+", default=[16])
    p.add_argument("--mixed-precision", choices=["both", "on", "off"], default="both")
    p.add_argument("--data", default="T91")
    p.add_argument("--steps", type=int, default=2000)
    for p in sub.choices.values():
        p.add_argument("--json")
    args = ap.parse_args()
    result = {"machine": _machine(), "command": args.what,
              **{"host-cost": host_cost, "tiny": tiny, "throughput": throughput}[args.what](args)}
    print(json.dumps(result, indent=2), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
