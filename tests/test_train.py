"""Training: presets, overfitting, resume, divergence, run folders, CLI, mixed precision, data parallel.

Everything runs a tiny SRResNet (1 residual block, 8 filters) on 24x24 HR patches for a few
steps.  On JAX the in-process runs use ``jit_compile=False``: the eager ops are compiled once per
shape and reused by every run of this module, where a jitted step would be recompiled for each
new trainer (~20 s each); the jitted step is covered by the overfitting test and the subprocess
tests (data parallel, TensorFlow-vs-JAX).
"""
import csv
import dataclasses
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from srgan_lib import cli, train
from srgan_lib.patches import PatchSequence

BACKEND = keras.backend.backend()
HELPER = Path(__file__).with_name("train_subprocess.py")
LOG_COLUMNS = ["step", "time", "content_loss", "adv_loss", "g_loss", "d_loss", "d_real", "d_fake", "d_acc", "lr"]
ADV_COLUMNS = ["adv_loss", "d_loss", "d_real", "d_fake", "d_acc"]
QUIET = dict(verbose=0, echo=lambda *a: None)


def tiny(preset="srgan-mse", **kw) -> train.TrainConfig:
    base = dict(preset=preset, steps=2, batch_size=2, patch_size=24, num_blocks=1, filters=8, init="none",
                val_data=None, log_every=1, checkpoint_every=1000,
                jit_compile=False if BACKEND == "jax" else "auto")
    base.update(kw)
    return train.TrainConfig(**base)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    # Smooth-ish random images (a random field upsampled) so that the losses are meaningful.
    out = []
    for _ in range(2):
        small = rng.integers(0, 256, (10, 12, 3)).astype(np.float64)
        big = np.kron(small, np.ones((4, 4, 1))) + rng.normal(0, 8, (40, 48, 3))
        out.append(np.clip(big, 0, 255).astype(np.uint8))
    return out


def read_log(run_dir) -> tuple[list[str], list[dict]]:
    with open(Path(run_dir) / "log.csv", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


def checkpoint_arrays(path) -> dict:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def latest_arrays(run_dir) -> dict:
    return checkpoint_arrays(train.latest_checkpoint(run_dir))


def snapshot(folder) -> dict:
    """Name -> sha256 of every file below ``folder`` (to prove nothing was touched)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def all_finite(arrays: dict) -> bool:
    return all(np.isfinite(a).all() for a in arrays.values() if a.dtype.kind == "f")


# --------------------------------------------------------------------------------------------
# 1. Every preset: a short run writes a complete run folder


@pytest.mark.backend
@pytest.mark.parametrize("preset", list(train.PRESETS))
def test_preset_short_run(preset, images, tmp_path, request):
    kw = {}
    if train.PRESETS[preset].content != "mse":
        kw["vgg_weights"] = str(request.getfixturevalue("vgg_weights"))
    cfg = tiny(preset, checkpoint_every=1, **kw)
    run = tmp_path / "run"
    summary = train.train(cfg, run, images=images, **QUIET)
    assert summary["step"] == 2 and summary["start_step"] == 0

    stored = json.loads((run / "config.json").read_text())
    assert stored == dataclasses.asdict(cfg.resolved())
    assert sorted(p.name for p in (run / "checkpoints").glob("ckpt-*.npz")) == \
        ["ckpt-00000001.npz", "ckpt-00000002.npz"]
    assert json.loads((run / "checkpoints" / "latest.json").read_text()) == {"step": 2, "file": "ckpt-00000002.npz"}
    arrays = latest_arrays(run)
    assert int(arrays["step"]) == 2 and all_finite(arrays)
    assert any(k.startswith("d/") for k in arrays) == train.PRESETS[preset].adversarial

    # generator.weights.h5 is the latest generator and loads through the run folder.
    from srgan_lib import weights

    gen = weights.load_generator(run)
    assert len(gen.weights) == sum(k.startswith("g/") for k in arrays)
    for k, v in enumerate(gen.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(v.value), arrays[f"g/{k:04d}"])

    header, rows = read_log(run)
    assert header == LOG_COLUMNS
    assert [int(r["step"]) for r in rows] == [1, 2]
    for r in rows:
        for col in ("content_loss", "g_loss", "lr", "time"):
            assert math.isfinite(float(r[col])), (col, r)
        if train.PRESETS[preset].adversarial:
            for col in ADV_COLUMNS:
                assert math.isfinite(float(r[col])), (col, r)
            assert 0 <= float(r["d_real"]) <= 1 and 0 <= float(r["d_acc"]) <= 1
            # Eq. 3: l_SR = l_content + 1e-3 * l_adv
            assert float(r["g_loss"]) == pytest.approx(
                float(r["content_loss"]) + train.ADVERSARIAL_WEIGHT * float(r["adv_loss"]), rel=1e-4)
        else:
            assert all(r[col] == "" for col in ADV_COLUMNS), r
            assert float(r["g_loss"]) == pytest.approx(float(r["content_loss"]), rel=1e-6)


# --------------------------------------------------------------------------------------------
# 2. The generator overfits one fixed batch


@pytest.mark.backend
def test_generator_overfits_a_fixed_batch(images):
    # The backend's default compilation (XLA-jitted step on JAX, tf.function on TensorFlow).
    cfg = tiny("srresnet-mse", lr=2e-3, lr_decay_at=None, batch_size=1, jit_compile="auto").resolved()
    trainer = train.build_trainer(cfg)
    lr, hr = PatchSequence(images[:1], batch_size=1, patch_size=24, augment=False, seed=1).batch(0)
    n = 150
    losses = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: losses.append(float(keras.ops.convert_to_numpy(logs["content_loss"]))))
    trainer.fit(np.repeat(lr, n, 0), np.repeat(hr, n, 0), batch_size=1, epochs=1, shuffle=False, verbose=0,
                callbacks=[record])
    assert len(losses) == n and all(math.isfinite(v) for v in losses)
    final = float(np.mean(losses[-5:]))
    assert final < losses[0] / 10, (losses[0], final)


# --------------------------------------------------------------------------------------------
# 3. Resume == uninterrupted; damaged checkpoints


@pytest.fixture(scope="module")
def resume_runs(images, tmp_path_factory):
    """srgan-mse (G, D and both optimizers): A runs 6 steps in one go; B runs 3, then is
    continued with ``steps=6``.  The learning rate drops 10x after iteration 2, i.e. inside the
    continued part (B's stored, derived schedule must be kept when ``--steps`` grows)."""
    root = tmp_path_factory.mktemp("resume")
    a, b = root / "a", root / "b"
    train.train(tiny("srgan-mse", steps=6, lr=1e-3, lr_decay_at=2), a, images=images, **QUIET)
    # B: lr_decay_at left at the preset default: derived from steps=3 -> 2.
    first = train.train(tiny("srgan-mse", steps=3, lr=1e-3), b, images=images, **QUIET)
    messages = []
    second = train.train(tiny("srgan-mse", steps=6, lr=1e-3), b, images=images, verbose=0, echo=messages.append)
    return a, b, first, second, messages


@pytest.mark.backend
def test_resume_equals_uninterrupted_run(resume_runs):
    a, b, first, second, messages = resume_runs
    assert first["step"] == 3 and second["start_step"] == 3 and second["step"] == 6
    assert any("resuming" in m and "ckpt-00000003.npz" in m for m in messages), messages
    assert json.loads((b / "config.json").read_text())["steps"] == 6
    assert json.loads((b / "config.json").read_text())["lr_decay_at"] == 2
    ca, cb = latest_arrays(a), latest_arrays(b)
    assert sorted(ca) == sorted(cb)
    groups = {k.split("/")[0] for k in ca}
    assert {"g", "g_opt", "d", "d_opt", "step"} <= groups
    assert int(ca["step"]) == int(cb["step"]) == 6
    for k in ca:
        diff = np.max(np.abs(ca[k].astype(np.float64) - cb[k].astype(np.float64))) if ca[k].size else 0.0
        assert diff < 1e-5, (k, diff)
    # The weights did move (the comparison is not between two untouched initialisations).
    b3 = checkpoint_arrays(b / "checkpoints" / "ckpt-00000003.npz")
    assert max(np.max(np.abs(cb[k] - b3[k])) for k in cb if k.startswith("g/")) > 1e-4
    # The log of the continued run is the log of the uninterrupted one.
    _, ra = read_log(a)
    _, rb = read_log(b)
    assert [r["step"] for r in rb] == [str(i) for i in range(1, 7)]
    for x, y in zip(ra, rb):
        for col in ("content_loss", "g_loss", "d_loss", "adv_loss"):
            assert float(x[col]) == pytest.approx(float(y[col]), rel=1e-4, abs=1e-6), (x["step"], col)
    assert float(rb[1]["lr"]) == pytest.approx(1e-3) and float(rb[-1]["lr"]) == pytest.approx(1e-4)
    # The logged rate is the one the update of that step used: Keras' PiecewiseConstantDecay gives
    # lr(iterations) = 1e-3 while iterations <= 2, and step k is the update with iterations = k - 1.
    assert [float(r["lr"]) for r in rb[1:4]] == pytest.approx([1e-3, 1e-3, 1e-4])


@pytest.mark.backend
def test_resume_ignores_partial_temp_file_and_stale_pointer(resume_runs, images, tmp_path):
    """A kill during a checkpoint leaves a partial *temporary* file (never the final name) and, at
    worst, a latest.json naming a missing file: resume falls back to the newest complete checkpoint."""
    run = tmp_path / "run"
    shutil.copytree(resume_runs[0], run)
    good = (run / "checkpoints" / "ckpt-00000006.npz").read_bytes()
    (run / "checkpoints" / ".ckpt-00000007.npz.tmp-12345").write_bytes(good[: len(good) // 2])
    (run / "checkpoints" / "latest.json").write_text(json.dumps({"step": 7, "file": "ckpt-00000007.npz"}))
    assert train.latest_checkpoint(run) == run / "checkpoints" / "ckpt-00000006.npz"
    messages = []
    summary = train.train(tiny("srgan-mse", steps=6, lr=1e-3, lr_decay_at=2), run, images=images, verbose=0,
                          echo=messages.append)
    assert summary["start_step"] == 6 and summary["step"] == 6
    assert any("ckpt-00000006.npz" in m for m in messages), messages


@pytest.mark.backend
def test_resume_from_damaged_checkpoint_errors_clearly(resume_runs, images, tmp_path):
    """A damaged file under a final checkpoint name cannot come from an interrupted (atomic)
    write: it is reported, naming the file, and nothing in the run folder is changed."""
    run = tmp_path / "run"
    shutil.copytree(resume_runs[0], run)
    good = (run / "checkpoints" / "ckpt-00000006.npz").read_bytes()
    bad = run / "checkpoints" / "ckpt-00000007.npz"
    bad.write_bytes(good[: len(good) // 2])
    (run / "checkpoints" / "latest.json").write_text(json.dumps({"step": 7, "file": bad.name}))
    before = snapshot(run)
    with pytest.raises(ValueError, match=r"ckpt-00000007\.npz cannot be read.*damaged"):
        train.train(tiny("srgan-mse", steps=8, lr=1e-3, lr_decay_at=2), run, images=images, **QUIET)
    after = snapshot(run)
    after.pop("config.json"), before.pop("config.json")  # steps 6 -> 8 is recorded before loading
    assert after == before


# --------------------------------------------------------------------------------------------
# 4. Divergence


def _nan_from(index):
    original = PatchSequence.batch

    def batch(self, i):
        lr, hr = original(self, i)
        if i >= index:
            lr = np.full_like(lr, np.nan)
        return lr, hr

    return batch


@pytest.mark.backend
def test_diverging_run_stops_and_keeps_last_good_checkpoint(images, tmp_path, monkeypatch):
    monkeypatch.setattr(PatchSequence, "batch", _nan_from(2))  # step 3 sees NaN input
    run = tmp_path / "run"
    cfg = tiny("srresnet-mse", steps=6, checkpoint_every=2)
    with pytest.raises(train.DivergedError) as err:
        train.train(cfg, run, images=images, **QUIET)
    msg = str(err.value)
    assert "\n" not in msg and "diverged at step 3" in msg and "ckpt-00000002.npz" in msg, msg
    assert train.latest_checkpoint(run).name == "ckpt-00000002.npz"
    assert sorted(p.name for p in (run / "checkpoints").glob("ckpt-*")) == ["ckpt-00000002.npz"]
    assert all_finite(latest_arrays(run))
    from srgan_lib import weights

    gen = weights.load_generator(run)
    assert all(np.isfinite(keras.ops.convert_to_numpy(v.value)).all() for v in gen.weights)
    _, rows = read_log(run)
    assert [r["step"] for r in rows] == ["1", "2"]  # the non-finite step is not logged

    # Continued with a sparse log: the NaN step is not logged, but the non-finite weights are
    # caught before the next checkpoint (and the continuation started from the good one).
    messages = []
    with pytest.raises(train.DivergedError, match=r"diverged at step 4 \(non-finite weights\)"):
        train.train(dataclasses.replace(cfg, log_every=100), run, images=images, verbose=0, echo=messages.append)
    assert any("resuming" in m and "ckpt-00000002.npz" in m for m in messages)
    assert train.latest_checkpoint(run).name == "ckpt-00000002.npz"
    assert all_finite(latest_arrays(run))


def _image_folder(folder: Path, sizes, bad=None) -> Path:
    from srgan_lib import images as im

    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for k, (h, w) in enumerate(sizes):
        small = rng.integers(0, 256, (h // 4, w // 4, 3)).astype(np.float64)
        im.write_image(folder / f"img{k}.png", np.kron(small, np.ones((4, 4, 1))).astype(np.uint8))
    if bad:
        (folder / bad).write_bytes(b"not a png at all")
    return folder


def _cli_args(run, data, *extra):
    return ["train", "srresnet-mse", "--out", str(run), "--data", str(data), "--steps", "2", "--batch-size", "2",
            "--patch-size", "24", "--num-blocks", "1", "--filters", "8", "--init", "none", "--quiet", *extra]


def test_cli_diverging_run_exits_nonzero_with_one_line(tmp_path, monkeypatch, capsys):
    data = _image_folder(tmp_path / "data", [(40, 48)])
    monkeypatch.setattr(PatchSequence, "batch", _nan_from(1))
    run = tmp_path / "run"
    rc = cli.main(_cli_args(run, data, "--val", "", "--checkpoint-every", "1", "--log-every", "1"))
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 3
    assert len(err) == 1 and err[0].startswith("srgan train: error: training diverged at step 2"), err
    assert train.latest_checkpoint(run).name == "ckpt-00000001.npz"


# --------------------------------------------------------------------------------------------
# 5. Run-folder safety


@pytest.mark.backend
def test_run_folder_safety(resume_runs, images, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(resume_runs[0], run)
    same = tiny("srgan-mse", steps=6, lr=1e-3, lr_decay_at=2)
    before = snapshot(run)
    # A different run in an existing folder: refused, nothing written.
    with pytest.raises(ValueError, match=r"holds a different run \(num_blocks: 1 -> 2\)"):
        train.train(dataclasses.replace(same, num_blocks=2), run, images=images, **QUIET)
    with pytest.raises(ValueError, match=r"holds a different run \(lr: 0\.001 -> 0\.0001\)"):
        train.train(dataclasses.replace(same, lr=None), run, images=images, **QUIET)
    with pytest.raises(ValueError, match="already holds a run"):
        train.train(same, run, resume=False, images=images, **QUIET)
    assert snapshot(run) == before
    # Re-running the same command continues the run (here: already complete).
    messages = []
    summary = train.train(same, run, images=images, verbose=0, echo=messages.append)
    assert summary["start_step"] == 6 and summary["step"] == 6
    assert any("resuming" in m for m in messages) and any("already trained" in m for m in messages)
    assert {k: v for k, v in snapshot(run).items() if k != "config.json"} == \
        {k: v for k, v in before.items() if k != "config.json"}

    # A folder that is not a run: refused, untouched.
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="is not a run folder"):
        train.train(same, other, images=images, **QUIET)
    assert snapshot(other) == {"notes.txt": hashlib.sha256(b"mine").hexdigest()}

    # --resume on an empty / missing folder: refused (API and CLI, one line, exit status 2).
    empty = tmp_path / "empty"
    empty.mkdir()
    for folder in (empty, tmp_path / "missing"):
        with pytest.raises(ValueError, match="holds no run to continue"):
            train.train(same, folder, resume=True, images=images, **QUIET)
    assert list(empty.iterdir()) == [] and not (tmp_path / "missing").exists()
    capsys.readouterr()
    rc = cli.main(_cli_args(empty, tmp_path, "--resume"))
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "holds no run to continue" in err[0], err
    assert list(empty.iterdir()) == []


# --------------------------------------------------------------------------------------------
# 6. The CLI end to end


def test_cli_train_end_to_end(tmp_path, capsys):
    from srgan_lib import data as data_mod
    from srgan_lib import images as im

    data = _image_folder(tmp_path / "data", [(40, 48), (48, 40)], bad="broken.png")
    val = _image_folder(tmp_path / "val", [(32, 36)])
    run = tmp_path / "run"
    args = _cli_args(run, data, "--val", str(val), "--val-every", "2", "--sample-every", "2", "--log-every", "1")
    with pytest.warns(data_mod.DataWarning, match="broken.png"):
        rc = cli.main(args)
    out = capsys.readouterr().out
    assert rc == 0 and f"done: {run} at step 2" in out, out
    _, rows = read_log(run)
    assert [r["step"] for r in rows] == ["1", "2"]
    with open(run / "val.csv", newline="") as f:
        val_rows = list(csv.DictReader(f))
    assert [r["step"] for r in val_rows] == ["2"] and val_rows[0]["dataset"] == str(val)
    assert 0 < float(val_rows[0]["psnr"]) < 100 and -1 <= float(val_rows[0]["ssim"]) <= 1
    sample = im.read_image(run / "samples" / "step-00000002.png")
    assert sample.shape == (32, 4 * 36, 3)  # nearest | bicubic | SR | HR
    assert (run / "generator.weights.h5").is_file()
    # The same command again: resumes (nothing left to do), exit status 0.
    assert cli.main(args) == 0
    assert "already trained to step 2" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------
# 7. Mixed precision


@pytest.mark.backend
@pytest.mark.parametrize("preset", ["srgan-mse", "srgan-vgg22"])
def test_mixed_precision_short_run(preset, images, tmp_path, request):
    kw = {}
    if preset != "srgan-mse":
        kw["vgg_weights"] = str(request.getfixturevalue("vgg_weights"))
    assert keras.mixed_precision.global_policy().name == "float32"
    cfg = tiny(preset, mixed_precision=True, **kw)
    try:
        trainer = train.build_trainer(cfg.resolved())
        assert keras.mixed_precision.global_policy().name == "float32"  # not leaked
        assert trainer.generator.layers[1].compute_dtype == "bfloat16"
        assert trainer.discriminator.layers[1].compute_dtype == "bfloat16"
        assert all(v.dtype == "float32" for v in trainer.generator.weights + trainer.discriminator.weights)
        del trainer
        train.train(cfg, tmp_path / "run", images=images, **QUIET)
    finally:
        leaked = keras.mixed_precision.global_policy().name
        keras.mixed_precision.set_global_policy("float32")
    assert leaked == "float32"
    _, rows = read_log(tmp_path / "run")
    assert len(rows) == 2
    for r in rows:
        for col in ("content_loss", "g_loss") + tuple(ADV_COLUMNS):
            assert math.isfinite(float(r[col])), (col, r)
    arrays = latest_arrays(tmp_path / "run")
    assert all_finite(arrays) and all(a.dtype == np.float32 or a.dtype.kind in "iu" for a in arrays.values())


def test_build_trainer_restores_the_callers_policy():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        train.build_trainer(tiny("srresnet-mse", mixed_precision=True).resolved())
        assert keras.mixed_precision.global_policy().name == "mixed_float16"
        trainer = train.build_trainer(tiny("srresnet-mse").resolved())
        assert keras.mixed_precision.global_policy().name == "mixed_float16"
        # mixed_precision=False means float32 models, whatever the ambient policy.
        assert trainer.generator.layers[1].compute_dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


# --------------------------------------------------------------------------------------------
# 8. Data parallel (two virtual CPU devices) and TensorFlow == JAX, in fresh processes


def _run_helper(args, backend, tmp_path, extra_env=None, timeout=600):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", PYTHONHASHSEED="0")
    env.pop("XLA_FLAGS", None)
    env.update(extra_env or {})
    proc = subprocess.run([sys.executable, str(HELPER), *args], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-4000:]


@pytest.mark.backend
def test_data_parallel_two_devices_matches_single_device(tmp_path):
    extra = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"} if BACKEND == "jax" else {}
    _run_helper(["dp", str(tmp_path / "dp.json")], BACKEND, tmp_path, extra)
    r = json.loads((tmp_path / "dp.json").read_text())
    assert r["replicas"] == 2
    if BACKEND == "jax":
        assert r["variable_devices"] == 2 and "P(None, None, None, None)" in r["variable_sharding"]  # replicated
        assert r["batch_axes"][0] == "batch" and all(a is None for a in r["batch_axes"][1:])  # sharded batch
    for k, v in r["single_logs"].items():
        assert r["dp_logs"][k] == pytest.approx(v, rel=1e-4, abs=1e-5), k
    assert r["max_diff"] < 1e-4, r["worst"]
    assert r["train_step"] == 2


def test_tensorflow_and_jax_train_steps_agree(tmp_path):
    _run_helper(["step", str(tmp_path / "tf.npz")], "tensorflow", tmp_path)
    _run_helper(["step", str(tmp_path / "jax.npz"), "--init", str(tmp_path / "init.npz")], "jax", tmp_path)
    a, b, init = (checkpoint_arrays(tmp_path / n) for n in ("tf.npz", "jax.npz", "init.npz"))
    assert sorted(a) == sorted(b)
    assert {k.split("/")[0] for k in a} == {"g", "g_opt", "d", "d_opt", "log"}
    for k in a:
        if k.startswith("log/"):
            assert float(a[k]) == pytest.approx(float(b[k]), rel=1e-4, abs=1e-5), k
        elif a[k].size:
            scale = max(1.0, float(np.max(np.abs(a[k]))))
            assert np.max(np.abs(a[k] - b[k])) < 1e-4 * scale, k
    # Both steps moved G and D away from the common start.
    for g in ("g", "d"):
        assert max(np.max(np.abs(a[k] - init[k])) for k in a if k.startswith(g + "/")) > 1e-3
