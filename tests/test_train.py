"""Training runs end to end: presets, resume (also after SIGKILL), divergence, run folders, CLI.

Everything runs a tiny SRResNet (1 residual block, 8 filters) on 24x24 HR patches for a few
steps.  The device loop (the default of ``train.train``) is compiled once per configuration:
on JAX the compiled program is reused by every later run with the same structure (same
``compile_key``), so the tests share a few configurations (``tiny``'s defaults); on TensorFlow
in-process runs use ``jit_compile=False`` (a plain ``tf.function``, traced per run) except the
killed-run test, which uses XLA.  The preset smoke runs use the host loop (Keras' ``train_on_batch``;
eager on JAX) so that five model variants need no compilation of a multi-step program.
"""
import collections
import csv
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

from srgan_lib import cli, errors, losses, train
from srgan_lib.patches import PatchSequence
from srgan_lib.train import checkpoints, loop

BACKEND = keras.backend.backend()
HELPER = Path(__file__).with_name("train_subprocess.py")
LOG_COLUMNS = ["step", "time", "content_loss", "adv_loss", "g_loss", "d_loss", "d_real", "d_fake", "d_acc", "lr"]
ADV_COLUMNS = ["adv_loss", "d_loss", "d_real", "d_fake", "d_acc"]
QUIET = dict(verbose=0, echo=lambda *a: None)


def tiny(preset="srresnet-mse", **kw) -> train.TrainConfig:
    base = dict(preset=preset, steps=2, batch_size=2, patch_size=24, num_blocks=1, filters=8, init="random",
                val_data=None, log_every=1, checkpoint_every=1000, lr=1e-3, lr_decay_at="never",
                jit_compile=False if BACKEND == "tensorflow" else None)
    base.update(kw)
    return train.TrainConfig(**base)


def smooth_images(n, seed=0, size=(40, 48)):
    """Smooth-ish random images (a random field upsampled) so that the losses are meaningful."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        small = rng.integers(0, 256, (size[0] // 4, size[1] // 4, 3)).astype(np.float64)
        big = np.kron(small, np.ones((4, 4, 1))) + rng.normal(0, 8, (size[0], size[1], 3))
        out.append(np.clip(big, 0, 254).astype(np.uint8))
    return out


@pytest.fixture(scope="module")
def images():
    return smooth_images(2)


def read_csv(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


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


def assert_same_arrays(a: dict, b: dict):
    assert sorted(a) == sorted(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def assert_same_log_rows(a, b):
    """Equal rows of two log.csv files, except the wall time."""
    assert [{k: v for k, v in r.items() if k != "time"} for r in a] == \
        [{k: v for k, v in r.items() if k != "time"} for r in b]


# --------------------------------------------------------------------------------------------
# 1. Every preset: a short run writes a complete run folder


@pytest.mark.backend
@pytest.mark.parametrize("preset", list(train.PRESETS))
def test_preset_short_run(preset, images, tmp_path, request):
    kw = {}
    spec = train.PRESETS[preset]
    if spec.content != "mse":
        kw["vgg_weights"] = str(request.getfixturevalue("vgg_weights"))
    cfg = tiny(preset, checkpoint_every=1, loop="host", jit_compile=False, lr=1e-4, **kw)
    run = tmp_path / "run"
    summary = train.train(cfg, run, images=images, **QUIET)
    assert summary["step"] == 2 and summary["start_step"] == 0

    stored = json.loads((run / "config.json").read_text())
    resolved = cfg.resolved().flat()
    if spec.vgg_layer:
        # The VGG weights actually used, with their sha256; the divisor of the preset's layer.
        vgg_file = Path(kw["vgg_weights"]).resolve()
        resolved.update(vgg_weights=str(vgg_file),
                        vgg_weights_sha256=hashlib.sha256(vgg_file.read_bytes()).hexdigest())
        from srgan_lib import vgg

        assert stored["vgg_scale"] == vgg.FEATURE_SCALE[spec.vgg_layer]
    else:
        assert stored["vgg_scale"] is None and stored["vgg_weights"] is None
    assert stored == resolved
    assert sorted(p.name for p in (run / "checkpoints").glob("ckpt-*.npz")) == \
        ["ckpt-00000001.npz", "ckpt-00000002.npz"]
    assert json.loads((run / "checkpoints" / "latest.json").read_text()) == {"step": 2, "file": "ckpt-00000002.npz"}
    arrays = latest_arrays(run)
    assert int(arrays["step"]) == 2 and all_finite(arrays)
    assert any(k.startswith("d/") for k in arrays) == spec.adversarial
    assert "g/head_conv/kernel" in arrays and "g_opt/iteration" in arrays  # keyed by variable path
    assert int(arrays["g_opt/iteration"]) == 2

    # generator.weights.h5 is the latest checkpoint's generator and loads through the run folder.
    from srgan_lib import weights

    gen = weights.load_generator(run)
    assert len(gen.weights) == sum(k.startswith("g/") for k in arrays)
    for v in gen.weights:
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(v.value), arrays[f"g/{v.path}"])

    header, rows = read_log(run)
    assert header == LOG_COLUMNS
    assert [int(r["step"]) for r in rows] == [1, 2]
    for r in rows:
        for col in ("content_loss", "g_loss", "lr", "time"):
            assert math.isfinite(float(r[col])), (col, r)
        if spec.adversarial:
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
# 2. The generator overfits one fixed batch (the Keras fit() API)


@pytest.mark.backend
def test_generator_overfits_a_fixed_batch(images):
    # The backend's default compilation (XLA-jitted step on both backends).
    cfg = tiny("srresnet-mse", lr=2e-3, batch_size=1, jit_compile=None).resolved()
    trainer = train.build_trainer(cfg)
    lr, hr = PatchSequence(images[:1], batch_size=1, patch_size=24, seed=1).batch(0)
    n = 150
    values = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: values.append(float(keras.ops.convert_to_numpy(logs["content_loss"]))))
    trainer.fit(np.repeat(lr, n, 0), np.repeat(hr, n, 0), batch_size=1, epochs=1, shuffle=False, verbose=0,
                callbacks=[record])
    assert len(values) == n and all(math.isfinite(v) for v in values)
    final = float(np.mean(values[-5:]))
    assert final < values[0] / 10, (values[0], final)


# --------------------------------------------------------------------------------------------
# 3. Resumed and partitioned runs == uninterrupted run, bit for bit


@pytest.fixture(scope="module")
def resume_runs(images, tmp_path_factory):
    """srgan-mse (G, D and both optimizers): A runs 6 steps in one go; B runs 3, then is
    continued with ``steps=6``.  The learning rate drops 10x after step 2.  The two runs cut the
    steps into different blocks (block lengths never change the arithmetic)."""
    root = tmp_path_factory.mktemp("resume")
    a, b = root / "a", root / "b"
    train.train(tiny("srgan-mse", steps=6, lr_decay_at=2, checkpoint_every=3), a, images=images, **QUIET)
    first = train.train(tiny("srgan-mse", steps=3, lr_decay_at=2, checkpoint_every=3), b, images=images, **QUIET)
    messages = []
    second = train.train(tiny("srgan-mse", steps=6, lr_decay_at=2, checkpoint_every=3), b, images=images, verbose=0,
                         echo=messages.append)
    return a, b, first, second, messages


@pytest.mark.backend
def test_resume_equals_uninterrupted_run(resume_runs):
    a, b, first, second, messages = resume_runs
    assert first["step"] == 3 and second["start_step"] == 3 and second["step"] == 6
    assert any("resuming" in m and "ckpt-00000003.npz" in m for m in messages), messages
    assert json.loads((b / "config.json").read_text())["steps"] == 6
    ca, cb = latest_arrays(a), latest_arrays(b)
    assert {k.split("/")[0] for k in ca} == {"g", "g_opt", "d", "d_opt", "step"}
    assert int(ca["step"]) == int(cb["step"]) == 6
    assert_same_arrays(ca, cb)
    # The weights did move (the comparison is not between two untouched initialisations).
    b3 = checkpoint_arrays(b / "checkpoints" / "ckpt-00000003.npz")
    assert max(np.max(np.abs(cb[k] - b3[k])) for k in cb if k.startswith("g/")) > 1e-4
    # The log of the continued run is the log of the uninterrupted one.
    _, ra = read_log(a)
    _, rb = read_log(b)
    assert [r["step"] for r in rb] == [str(i) for i in range(1, 7)]
    assert_same_log_rows(ra, rb)
    # The paper's schedule: steps 1 .. lr_decay_at at lr, later steps at lr / 10.
    assert [float(r["lr"]) for r in rb] == pytest.approx([1e-3, 1e-3, 1e-4, 1e-4, 1e-4, 1e-4])
    assert int(ca["g_opt/iteration"]) == int(ca["d_opt/iteration"]) == 6


@pytest.mark.backend
def test_tensorboard_uses_the_global_step(resume_runs):
    tf = pytest.importorskip("tensorflow")
    pytest.importorskip("tensorboard")
    _, b, _, _, _ = resume_runs
    steps = {}
    for f in sorted((b / "tensorboard").glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(f)):
            for v in event.summary.value:
                steps.setdefault(v.tag, []).append(event.step)
    # Two sessions (steps 1-3, then 4-6), one scalar per logged step, never restarting at 0.
    assert steps["g_loss"] == [1, 2, 3, 4, 5, 6] and steps["lr"] == [1, 2, 3, 4, 5, 6]


@pytest.mark.backend
def test_killed_run_resumes_to_the_uninterrupted_result(images, tmp_path):
    """SIGKILL at an arbitrary step (5, inside a block: the run checkpoints every 3 steps and has
    read the logs of step 5, of which nothing is flushed) in a fresh process; continued here, the
    run ends bit for bit as an uninterrupted one, and its logs have no missing or duplicate row.
    On TensorFlow the step is XLA-compiled here (in every other in-process run it is not)."""
    cfg = tiny("srresnet-mse", steps=9, checkpoint_every=3, jit_compile=True)  # TensorFlow: XLA
    ref = tmp_path / "ref"
    train.train(cfg, ref, images=images, **QUIET)
    run = tmp_path / "run"
    (tmp_path / "cfg.json").write_text(json.dumps(cfg.flat()))
    np.savez(tmp_path / "images.npz", **{f"i{k}": im for k, im in enumerate(images)})
    env = dict(os.environ, KERAS_BACKEND=BACKEND, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, str(HELPER), "kill", str(tmp_path / "cfg.json"),
                           str(tmp_path / "images.npz"), str(run), "--after-step", "5"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == -9, proc.stderr[-3000:]
    assert train.latest_checkpoint(run).name == "ckpt-00000003.npz"
    messages = []
    summary = train.train(cfg, run, images=images, verbose=0, echo=messages.append)
    assert summary["start_step"] == 3 and summary["step"] == 9
    assert_same_arrays(latest_arrays(ref), latest_arrays(run))
    _, rows = read_log(run)
    assert [int(r["step"]) for r in rows] == list(range(1, 10))
    assert_same_log_rows(read_log(ref)[1], rows)
    assert not (run / "diverged.json").exists()


@pytest.mark.backend
def test_resume_ignores_temporaries_and_a_bad_pointer(resume_runs, images, tmp_path):
    """A kill during a checkpoint leaves temporary files (never a final name) and, at worst, a
    latest.json naming a missing file.  latest.json naming a file outside checkpoints/ is never
    followed.  Resume uses the newest complete checkpoint and removes the temporaries."""
    run = tmp_path / "run"
    shutil.copytree(resume_runs[0], run)
    good = (run / "checkpoints" / "ckpt-00000006.npz").read_bytes()
    temporaries = [run / "checkpoints" / ".ckpt-00000007.npz.k2j4h1.tmp", run / ".log.csv.abc123.tmp",
                   run / ".generator.weights.h5.x9y8z7.weights.h5"]
    for t in temporaries:
        t.write_bytes(good[: len(good) // 2])
    (run / "checkpoints" / "latest.json").write_text(json.dumps({"step": 7, "file": "ckpt-00000007.npz"}))
    assert train.latest_checkpoint(run) == run / "checkpoints" / "ckpt-00000006.npz"
    outside = tmp_path / "ckpt-00000009.npz"
    shutil.copy(run / "checkpoints" / "ckpt-00000006.npz", outside)
    for name in (str(outside), "../../ckpt-00000009.npz"):
        (run / "checkpoints" / "latest.json").write_text(json.dumps({"step": 9, "file": name}))
        assert train.latest_checkpoint(run) == run / "checkpoints" / "ckpt-00000006.npz"
    messages = []
    summary = train.train(tiny("srgan-mse", steps=6, lr_decay_at=2, checkpoint_every=3), run, images=images,
                          verbose=0, echo=messages.append)
    assert summary["start_step"] == 6 and summary["step"] == 6
    assert any("ckpt-00000006.npz" in m for m in messages), messages
    assert not any(t.exists() for t in temporaries)


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
    with pytest.raises(errors.UserError, match=r"ckpt-00000007\.npz cannot be read.*damaged"):
        train.train(tiny("srgan-mse", steps=8, lr_decay_at=2, checkpoint_every=3), run, images=images, **QUIET)
    after = snapshot(run)
    for files in (after, before):
        files.pop("config.json"), files.pop(".lock", None)  # steps 6 -> 8 is recorded before loading
    assert after == before


def test_checkpoints_are_restored_by_variable_path(resume_runs, tmp_path):
    """Restoring matches arrays to variables by name: the order of the arrays in the file does not
    matter, a position-keyed checkpoint (older srgan-lib) and a foreign one are refused."""
    a = resume_runs[0]
    arrays = latest_arrays(a)
    cfg = train.TrainConfig.from_stored(json.loads((a / "config.json").read_text()))
    reversed_file = tmp_path / "reversed.npz"
    np.savez(reversed_file, **dict(reversed(list(arrays.items()))))
    trainer = train.build_trainer(cfg)
    assert checkpoints.load_checkpoint(trainer, reversed_file) == 6
    assert_same_arrays(checkpoints.snapshot(trainer), {k: v for k, v in arrays.items() if k != "step"})
    # Two BN arrays of the same shape are never swapped: each lands on its own variable.
    bn = trainer.generator.get_layer("res1_bn1")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(bn.moving_mean), arrays["g/res1_bn1/moving_mean"])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(bn.moving_variance),
                                  arrays["g/res1_bn1/moving_variance"])
    positional = {"step": arrays["step"]}
    for group in ("g", "g_opt", "d", "d_opt"):
        keys = [k for k in arrays if k.startswith(group + "/")]
        positional.update({f"{group}/{i:04d}": arrays[k] for i, k in enumerate(keys)})
    np.savez(tmp_path / "old.npz", **positional)
    with pytest.raises(errors.UserError, match="older srgan-lib"):
        checkpoints.load_checkpoint(trainer, tmp_path / "old.npz")
    foreign = dict(arrays)
    foreign["g/extra/kernel"] = foreign.pop("g/head_conv/kernel")
    np.savez(tmp_path / "foreign.npz", **foreign)
    with pytest.raises(errors.UserError, match="different model configuration"):
        checkpoints.load_checkpoint(trainer, tmp_path / "foreign.npz")


# --------------------------------------------------------------------------------------------
# 4. Divergence: non-finite and exploding steps


@pytest.mark.backend
def test_nan_stops_at_the_exact_step_and_a_lower_lr_continues(images, tmp_path, monkeypatch):
    """The content loss becomes NaN exactly on the batches that hold a crop of the white image.
    The run stops at the first such step (inside a block), keeps the last good checkpoint, logs
    the steps before it; the message's advice (a lower --lr, same command) continues the run from
    the checkpoint, with the log cut back to it."""
    white = np.full((40, 48, 3), 255, np.uint8)
    imgs = smooth_images(9) + [white]  # the others stay below 255
    cfg = tiny("srresnet-mse", steps=40, checkpoint_every=4)
    seq = PatchSequence(imgs, batch_size=2, patch_size=24)
    first = next(i for i in range(40) if 9 in seq.draw(i).which) + 1  # the step that sees the white image
    assert first > 4 and first % 4, first  # after the first checkpoint, inside a block
    content_loss = losses.content_loss

    def poisoned(features, sr, hr):
        nan = keras.ops.where(keras.ops.max(hr) >= 1.0, float("nan"), 0.0)
        return content_loss(features, sr, hr) + nan

    monkeypatch.setattr(losses, "content_loss", poisoned)
    monkeypatch.setattr(loop, "COMPILED", collections.OrderedDict())  # never share the poisoned program
    run = tmp_path / "run"
    with pytest.raises(errors.TrainingDiverged) as err:
        train.train(cfg, run, images=imgs, **QUIET)
    msg = str(err.value)
    good = (first - 1) // 4 * 4
    assert "\n" not in msg and f"diverged at step {first} (non-finite content_loss=nan" in msg, msg
    assert f"ckpt-{good:08d}.npz" in msg and "--lr 0.0001" in msg, msg
    assert train.latest_checkpoint(run).name == f"ckpt-{good:08d}.npz"
    assert all_finite(latest_arrays(run))
    _, rows = read_log(run)
    assert [int(r["step"]) for r in rows] == list(range(1, first))  # every good step, none after
    assert json.loads((run / "diverged.json").read_text())["step"] == first

    # The advice: the same command with a lower learning rate continues from the good checkpoint.
    monkeypatch.setattr(losses, "content_loss", content_loss)
    messages = []
    summary = train.train(cfg.replace(lr=1e-4, steps=good + 2), run, images=imgs, verbose=0,
                          echo=messages.append)
    assert summary["start_step"] == good and summary["step"] == good + 2
    assert any("learning rate 0.001 -> 0.0001" in m for m in messages), messages
    assert json.loads((run / "config.json").read_text())["lr"] == 1e-4
    assert not (run / "diverged.json").exists()
    _, rows = read_log(run)
    assert [int(r["step"]) for r in rows] == list(range(1, good + 3))
    assert [float(r["lr"]) for r in rows[-3:]] == pytest.approx([1e-3, 1e-4, 1e-4])
    # Without a divergence a new learning rate is a different run.
    with pytest.raises(errors.UserError, match=r"holds a different run \(lr: 0\.0001 -> 0\.001\)"):
        train.train(cfg.replace(steps=good + 4), run, images=imgs, **QUIET)


@pytest.mark.backend
def test_finite_blowup_is_detected_and_the_run_restarts_with_a_lower_lr(images, tmp_path):
    """lr 1e3: Adam moves every weight by ~1e3 in the first step; BatchNormalization and tanh keep
    the losses finite (the run used to end "done" at a flat loss).  The norm check stops it at
    step 1, before any checkpoint; the same command with a lower lr starts the run over."""
    run = tmp_path / "run"
    with pytest.raises(errors.TrainingDiverged, match=r"diverged at step 1 \(the generator's weight norm grew "
                                                      r"[0-9.e+]+x in one step\) before the first checkpoint"):
        train.train(tiny("srresnet-mse", steps=4, lr=1e3), run, images=images, **QUIET)
    assert train.latest_checkpoint(run) is None and read_log(run)[1] == []
    ref = tmp_path / "ref"
    train.train(tiny("srresnet-mse", steps=4), ref, images=images, **QUIET)
    summary = train.train(tiny("srresnet-mse", steps=4), run, images=images, **QUIET)
    assert summary["start_step"] == 0 and summary["step"] == 4
    assert_same_arrays(latest_arrays(ref), latest_arrays(run))
    assert_same_log_rows(read_log(ref)[1], read_log(run)[1])


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
    no_xla = ["--no-xla"] if BACKEND == "tensorflow" else []
    return ["train", "srresnet-mse", "--out", str(run), "--data", str(data), "--steps", "2", "--batch-size", "2",
            "--patch-size", "24", "--num-blocks", "1", "--filters", "8", "--init", "none", "--quiet", *no_xla, *extra]


def test_cli_diverging_run_exits_3_with_one_line(tmp_path, capsys):
    data = _image_folder(tmp_path / "data", [(40, 48), (48, 40)])
    run = tmp_path / "run"
    rc = cli.main(_cli_args(run, data, "--val", "", "--lr", "1000", "--lr-decay-at", "0"))
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 3
    assert len(err) == 1 and err[0].startswith("srgan train: error: training diverged at step 1"), err
    assert "--lr 100 " in err[0]


# --------------------------------------------------------------------------------------------
# 5. Run-folder safety


@pytest.mark.backend
def test_run_folder_safety(resume_runs, images, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(resume_runs[0], run)
    same = tiny("srgan-mse", steps=6, lr_decay_at=2, checkpoint_every=3)
    before = snapshot(run)
    # A different run in an existing folder: refused, nothing written.
    with pytest.raises(errors.UserError, match=r"holds a different run \(num_blocks: 1 -> 2\)"):
        train.train(same.replace(num_blocks=2), run, images=images, **QUIET)
    with pytest.raises(errors.UserError, match=r"holds a different run \(lr: 0\.001 -> 0\.0001\)"):
        train.train(same.replace(lr=None), run, images=images, **QUIET)
    with pytest.raises(errors.UserError, match="already holds a run"):
        train.train(same, run, resume=False, images=images, **QUIET)
    assert snapshot(run) == before
    # Re-running the same command continues the run (here: already complete).
    messages = []
    summary = train.train(same, run, images=images, verbose=0, echo=messages.append)
    assert summary["start_step"] == 6 and summary["step"] == 6
    assert any("resuming" in m for m in messages) and any("already trained" in m for m in messages)
    assert {k: v for k, v in snapshot(run).items() if k not in ("config.json", ".lock")} == \
        {k: v for k, v in before.items() if k not in ("config.json", ".lock")}

    # A folder that is not a run: refused, untouched.
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(errors.UserError, match="is not a run folder"):
        train.train(same, other, images=images, **QUIET)
    assert snapshot(other) == {"notes.txt": hashlib.sha256(b"mine").hexdigest()}

    # --resume on an empty / missing folder: refused (API and CLI, one line, exit status 2).
    empty = tmp_path / "empty"
    empty.mkdir()
    for folder in (empty, tmp_path / "missing"):
        with pytest.raises(errors.UserError, match="holds no run to continue"):
            train.train(same, folder, resume=True, images=images, **QUIET)
    assert list(empty.iterdir()) == [] and not (tmp_path / "missing").exists()
    capsys.readouterr()
    rc = cli.main(_cli_args(empty, tmp_path, "--resume"))
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "holds no run to continue" in err[0], err
    assert list(empty.iterdir()) == []


def test_a_second_process_on_the_same_run_fails_at_once(resume_runs, images, tmp_path, capsys):
    """While another process holds the run folder, train() fails at once with a one-line error and
    writes nothing; once that process is killed (-9: nothing cleans up) the folder is free."""
    run = tmp_path / "run"
    shutil.copytree(resume_runs[0], run)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys, time\n"
         f"fd = os.open({str(run / '.lock')!r}, os.O_RDWR | os.O_CREAT)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX); os.write(fd, str(os.getpid()).encode())\n"
         "print('locked', flush=True); time.sleep(600)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = snapshot(run)
        same = tiny("srgan-mse", steps=6, lr_decay_at=2, checkpoint_every=3)
        with pytest.raises(errors.OutputError, match=rf"in use by another training process \(pid {holder.pid}\)"):
            train.train(same, run, images=images, **QUIET)
        capsys.readouterr()
        rc = cli.main(["train", "srgan-mse", "--out", str(run), "--steps", "6", "--batch-size", "2",
                       "--patch-size", "24", "--num-blocks", "1", "--filters", "8", "--init", "none", "--lr",
                       "1e-3", "--lr-decay-at", "2", "--checkpoint-every", "3", "--val", "", "--log-every", "1",
                       "--quiet"])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and len(err) == 1 and "in use by another training process" in err[0], err
        assert snapshot(run) == before
    finally:
        holder.kill()
        holder.wait()
    summary = train.train(tiny("srgan-mse", steps=6, lr_decay_at=2, checkpoint_every=3), run, images=images, **QUIET)
    assert summary["step"] == 6


# --------------------------------------------------------------------------------------------
# 6. The CLI end to end; validation; progress bar


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
    val_rows = read_csv(run / "val.csv")
    assert [r["step"] for r in val_rows] == ["2"] and val_rows[0]["dataset"] == str(val)
    assert 0 < float(val_rows[0]["psnr"]) < 100 and -1 <= float(val_rows[0]["ssim"]) <= 1
    sample = im.read_image(run / "samples" / "step-00000002.png")
    assert sample.shape == (32, 4 * 36, 3)  # nearest | bicubic | SR | HR
    assert (run / "generator.weights.h5").is_file()
    # The same command again: resumes (nothing left to do), exit status 0.
    assert cli.main(args) == 0
    assert "already trained to step 2" in capsys.readouterr().out


def test_cli_defaults_come_from_train_config(tmp_path):
    import argparse

    from srgan_lib.cli import train as train_command

    p = argparse.ArgumentParser()
    train_command.add_arguments(p)
    cfg = train_command.config_from_args(p.parse_args(["srgan-vgg54", "--out", str(tmp_path)]))
    assert cfg == train.TrainConfig(preset="srgan-vgg54")
    cfg = train_command.config_from_args(p.parse_args(["srresnet-mse", "--out", str(tmp_path), "--augment", "--repeat-images",
                                               "--no-xla", "--val", "", "--lr-decay-at", "0", "--prelu-init", "0"]))
    assert (cfg.patches.augment, cfg.patches.distinct_images, cfg.runtime.jit_compile, cfg.output.val_data, cfg.model.prelu_init) == \
        (True, False, False, None, 0.0)
    assert cfg.schedule.lr_decay_at == "never" and cfg.resolved().schedule.lr_decay_at == "never"


@pytest.mark.backend
def test_offline_validation_set_disables_validation_with_a_warning(images, tmp_path, monkeypatch):
    import urllib.error

    from srgan_lib.data import benchmark

    def offline(name, scale=4, **kw):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(benchmark, "load_eval_set", offline)
    messages = []
    summary = train.train(tiny(val_data="Set5", val_every=1, sample_every=1), tmp_path / "run", images=images,
                          verbose=0, echo=messages.append)
    assert summary["step"] == 2
    assert any(m.startswith("warning: validation disabled:") and "name resolution" in m for m in messages), messages
    assert not (tmp_path / "run" / "val.csv").exists()


@pytest.mark.backend
def test_progress_bar_only_when_verbose(images, tmp_path, capsys):
    train.train(tiny(), tmp_path / "quiet", images=images, verbose=0, echo=lambda *a: None)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""
    train.train(tiny(), tmp_path / "bar", images=images, verbose=1, echo=lambda *a: None)
    err = capsys.readouterr().err
    assert "2/2" in err and "step" in err, err


@pytest.mark.backend
def test_checkpoints_every_few_minutes(images, tmp_path):
    """checkpoint_minutes: a checkpoint at the first block end after the interval (here: every one)."""
    summary = train.train(tiny(steps=12, checkpoint_minutes=1e-9, keep_checkpoints=100), tmp_path / "run",
                          images=images, **QUIET)
    assert summary["step"] == 12
    steps = sorted(int(p.stem[5:]) for p in (tmp_path / "run" / "checkpoints").glob("ckpt-*.npz"))
    assert len(steps) >= 3 and steps[-1] == 12, steps


# --------------------------------------------------------------------------------------------
# 7. Mixed precision


@pytest.mark.backend
def test_mixed_precision_short_run(images, tmp_path):
    assert keras.mixed_precision.global_policy().name == "float32"
    cfg = tiny("srgan-mse", mixed_precision=True)
    try:
        trainer = train.build_trainer(cfg.resolved())
        assert keras.mixed_precision.global_policy().name == "float32"  # not leaked
        assert trainer.generator.get_layer("head_conv").compute_dtype == "bfloat16"
        assert trainer.discriminator.get_layer("d1_conv").compute_dtype == "bfloat16"
        # The output layers are pinned to float32 (Keras' mixed-precision advice).
        assert trainer.generator.get_layer("tail_conv").compute_dtype == "float32"
        assert trainer.discriminator.get_layer("logit").compute_dtype == "float32"
        assert all(v.dtype == "float32" for v in trainer.generator.weights + trainer.discriminator.weights)
        lr, hr = PatchSequence(images, batch_size=2, patch_size=24).batch(0)
        assert keras.ops.convert_to_numpy(trainer.generator(lr)).dtype == np.float32
        del trainer
        train.train(tiny("srresnet-mse", mixed_precision=True), tmp_path / "run", images=images, **QUIET)
    finally:
        leaked = keras.mixed_precision.global_policy().name
        keras.mixed_precision.set_global_policy("float32")
    assert leaked == "float32"
    _, rows = read_log(tmp_path / "run")
    assert len(rows) == 2 and all(math.isfinite(float(r["content_loss"])) for r in rows)
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

