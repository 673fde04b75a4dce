"""Helper for tests/test_train.py: training checks that need a fresh process.

* ``step BACKEND_STATE_OUT [--init NPZ]``: one SRGAN (srgan-mse) step on a fixed batch with the
  current KERAS_BACKEND, from the weights in ``--init`` (a checkpoint-keyed npz) or from the
  seeded initialisation; writes the initial state (``init.npz`` beside the output) and the
  updated state + logs to the output npz.  Comparing a TensorFlow and a JAX run checks that the
  two train steps implement the same alternating update.
* ``kill CONFIG_JSON IMAGES_NPZ RUN_DIR (--after-step K | --in-checkpoint K)``: ``train.train``
  the run, and SIGKILL this process once the logs of step K have been read (a step inside a
  block; the first checkpoint is let finish first), or in the middle of writing checkpoint K (after half of its file is written, as a
  temporary file).
* ``dp OUT_JSON``: with two virtual CPU devices (``tf.distribute.MirroredStrategy`` on
  TensorFlow, ``keras.distribution.DataParallel`` on JAX), compares one data-parallel step with a
  single-device step from the same weights on the same global batch, then runs
  ``train.train(..., data_parallel=True)`` for 2 steps.  Writes the results as JSON.

The device set-up must happen before TensorFlow / JAX create any device, hence a subprocess.
"""
import json
import os
import sys


def cmd_kill(config_json):
    import signal
    import time

    import numpy as np

    from srgan_lib import train
    from srgan_lib.train import checkpoints, monitor

    images_npz, run_dir, how, k = sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
    with open(config_json) as f:
        cfg = train.TrainConfig(**json.load(f))
    with np.load(images_npz) as z:
        imgs = [z[n] for n in sorted(z.files)]
    if how == "--after-step":
        steps = monitor.Monitor.steps

        def steps_then_kill(self, first, values):
            steps(self, first, values)
            if self.step >= k:
                deadline = time.time() + 120
                while checkpoints.latest_checkpoint(run_dir) is None and time.time() < deadline:
                    time.sleep(0.01)  # the background writer is still writing the first checkpoint
                os.kill(os.getpid(), signal.SIGKILL)

        monitor.Monitor.steps = steps_then_kill
    else:
        write = checkpoints._write_checkpoint

        def write_then_kill(run_dir, step, arrays, export, keep):
            if step != k:
                return write(run_dir, step, arrays, export, keep)
            folder = os.path.join(run_dir, checkpoints.CKPT_DIR)
            data = b"PK\x03\x04" + bytes(1000)  # the start of a zip file, as a killed np.savez leaves it
            with open(os.path.join(folder, f".{checkpoints.checkpoint_name(step)}.x1y2z3.tmp"), "wb") as f:
                f.write(data)
            os.kill(os.getpid(), signal.SIGKILL)

        checkpoints._write_checkpoint = write_then_kill
    train.train(cfg, run_dir, images=imgs, verbose=0, echo=lambda *a: None)
    raise SystemExit("the run ended without being killed")


def tiny_config(**kw):
    from srgan_lib import train

    base = dict(preset="srgan-mse", steps=2, batch_size=4, patch_size=24, num_blocks=1, filters=8,
                init="random", val_data=None, log_every=1, checkpoint_every=1000, lr=1.0, lr_decay_at="never")
    base.update(kw)
    return train.TrainConfig(**base).resolved()


def images():
    import numpy as np

    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (40, 48, 3), dtype=np.uint8) for _ in range(2)]


def fixed_batch(batch_size=4, duplicate=False):
    """A fixed (lr, hr) batch.  ``duplicate``: the second half repeats the first."""
    import numpy as np

    from srgan_lib.patches import PatchSequence

    half = batch_size // 2 if duplicate else batch_size
    lr, hr = PatchSequence(images(), batch_size=half, patch_size=24, seed=3).batch(0)
    if duplicate:
        lr, hr = np.concatenate([lr, lr]), np.concatenate([hr, hr])
    return lr, hr


def linearise(trainer):
    """Adam's first step is lr * g / (|g| + eps): with the default eps it is ~lr * sign(g), which turns
    round-off in near-zero gradients (e.g. a conv bias before BatchNormalization) into full-size
    differences.  eps = 1 and lr = 1 (tiny_config) make the step ~g, so updated weights carry the
    gradients."""
    for opt in (trainer.optimizer, getattr(trainer, "d_optimizer", None)):
        if opt is not None:
            opt.epsilon = 1.0
    return trainer


def one_step(trainer, batch):
    lr, hr = batch
    hist = trainer.fit(lr, hr, batch_size=len(lr), epochs=1, shuffle=False, verbose=0)
    return {k: float(v[-1]) for k, v in hist.history.items()}


def max_diffs(a, b):
    import numpy as np

    assert set(a) == set(b), (sorted(set(a) ^ set(b)))
    return {k: float(np.max(np.abs(a[k].astype(np.float64) - b[k].astype(np.float64)))) if a[k].size else 0.0
            for k in a}


def cmd_step(out):
    import numpy as np

    from srgan_lib import train
    from srgan_lib.train import checkpoints

    init = sys.argv[sys.argv.index("--init") + 1] if "--init" in sys.argv else None
    trainer = linearise(train.build_trainer(tiny_config()))
    if init:
        with np.load(init) as z:
            checkpoints.restore(trainer, {k: z[k] for k in z.files}, init)
    else:
        np.savez(os.path.join(os.path.dirname(out), "init.npz"), **checkpoints.snapshot(trainer))
    logs = one_step(trainer, fixed_batch())
    np.savez(out, **checkpoints.snapshot(trainer), **{f"log/{k}": np.float64(v) for k, v in logs.items()})


def cmd_dp(out):
    backend = os.environ["KERAS_BACKEND"]
    if backend == "tensorflow":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras

    from srgan_lib import train
    from srgan_lib.train import checkpoints

    result = {"backend": backend}
    # Single device, then data parallel, from the same weights on the same global batch.  TF's
    # MirroredStrategy normalises each replica's half batch on its own (BatchNormalization is not
    # synchronised): with identical halves the statistics agree, so the step must agree exactly.
    # JAX's DataParallel computes the global batch's statistics, so any batch must agree.
    batch = fixed_batch(4, duplicate=(backend == "tensorflow"))
    cfg = tiny_config()
    single = linearise(train.build_trainer(cfg))
    init = checkpoints.snapshot(single)
    result["single_logs"] = one_step(single, batch)
    ref = checkpoints.snapshot(single)
    with train.data_parallel_scope(cfg.replace(data_parallel=True)):
        dp = linearise(train.build_trainer(cfg))
    checkpoints.restore(dp, init, "init")
    if backend == "tensorflow":
        result["replicas"] = dp.distribute_strategy.num_replicas_in_sync
    else:
        dist = keras.distribution.distribution()
        result["replicas"] = len(dist.device_mesh.devices.flatten())
        kernel = dp.generator.trainable_variables[0]
        result["variable_sharding"] = str(kernel.value.sharding)
        result["variable_devices"] = len(kernel.value.sharding.device_set)
        result["batch_axes"] = list(dist.get_data_layout(batch[0].shape).axes)
    result["dp_logs"] = one_step(dp, batch)
    diffs = max_diffs(ref, checkpoints.snapshot(dp))
    result["max_diff"] = max(diffs.values())
    result["worst"] = sorted(diffs.items(), key=lambda kv: -kv[1])[:8]
    result["ref_absmax"] = {k: float(abs(ref[k]).max()) for k, _ in result["worst"]}
    # The same through train() (creates the strategy / distribution itself).
    run = os.path.join(os.path.dirname(out), "run")
    summary = train.train(cfg.replace(data_parallel=True, steps=2, lr=1e-3), run, images=images(),
                          verbose=0, echo=lambda *a: None)
    result["train_step"] = summary["step"]
    with open(out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    {"step": cmd_step, "dp": cmd_dp, "kill": cmd_kill}[sys.argv[1]](sys.argv[2])
