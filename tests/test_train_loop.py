"""The pieces of a training session: the device loop against Keras' path, the blow-up check, the
background checkpoint writer, the run-folder lock and the record of the VGG weights."""
import hashlib
import threading
import time

import keras
import numpy as np
import pytest

from srgan_lib import errors
from srgan_lib.train import checkpoints, config, monitor, run_dir
from test_train import latest_arrays, smooth_images  # tests/ is on sys.path under pytest

BACKEND = keras.backend.backend()


def tiny(**kw):
    base = dict(preset="srresnet-mse", steps=4, batch_size=2, patch_size=24, num_blocks=1, filters=8, init="random",
                val_data=None, log_every=1, lr=1e-3, lr_decay_at="never", jit_compile=False if BACKEND == "tensorflow" else None)
    base.update(kw)
    return config.TrainConfig(**base)


@pytest.mark.backend
def test_device_loop_equals_the_keras_path(tmp_path):
    """The same 4 steps through the fused device loop and through Keras' train_on_batch: the same
    weights (bit for bit on TensorFlow without XLA, where both run the same kernels)."""
    from srgan_lib import train

    images = smooth_images(2)
    train.train(tiny(), tmp_path / "device", images=images, verbose=0, echo=lambda *a: None)
    train.train(tiny(loop="host"), tmp_path / "host", images=images, verbose=0, echo=lambda *a: None)
    a, b = latest_arrays(tmp_path / "device"), latest_arrays(tmp_path / "host")
    assert sorted(a) == sorted(b) and int(a["step"]) == 4
    moved = False
    for k in a:
        if BACKEND == "tensorflow":
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        else:
            np.testing.assert_allclose(a[k], b[k], rtol=1e-4, atol=1e-5, err_msg=k)
        moved |= k.endswith("kernel") and a[k].size > 0
    assert moved


@pytest.mark.skipif(BACKEND != "tensorflow", reason="XLA switch of the TensorFlow backend")
def test_tensorflow_xla_switch():
    """XLA by default where a GPU is present (on the CPU the plain graph is faster), forced by True,
    never with --no-xla (False)."""
    import tensorflow as tf

    from srgan_lib.patches import PatchSequence
    from srgan_lib.train.loop import DeviceLoop
    from srgan_lib.train.trainer import build_trainer

    seq = PatchSequence(smooth_images(2), batch_size=2, patch_size=24)
    gpu = bool(tf.config.list_logical_devices("GPU"))
    for flag, xla in ((None, gpu), (True, True), (False, False)):
        cfg = tiny(jit_compile=flag).resolved()
        loop = DeviceLoop(build_trainer(cfg), seq, 4, cfg.runtime.jit_compile)
        assert loop._block._jit_compile is xla, flag


# --------------------------------------------------------------------------------------------
# The blow-up check


COLUMNS = ("content_loss", "g_loss", "g_norm")


def test_first_bad_step_non_finite_and_exploding():
    rows = np.array([[0.3, 0.3, 10.0], [0.2, 0.2, 10.1], [np.nan, np.nan, 10.2], [0.2, 0.2, np.inf]], np.float32)
    assert monitor.first_bad_step(rows, COLUMNS, [10.0], 2.0) == (2, "non-finite content_loss=nan, g_loss=nan")
    assert monitor.first_bad_step(rows[3:], COLUMNS, [10.0], 2.0) == (0, "non-finite g_norm=inf")
    assert monitor.first_bad_step(rows[:2], COLUMNS, [10.0], 2.0) is None
    # A finite explosion: the norm more than doubles in one step (relative to the step before).
    grow = np.array([[0.3, 0.3, 15.0], [0.3, 0.3, 29.0], [0.3, 0.3, 59.0]], np.float32)
    row, reason = monitor.first_bad_step(grow, COLUMNS, [10.0], 2.0)
    assert row == 2 and reason == "the generator's weight norm grew 2.03x in one step"
    assert monitor.first_bad_step(grow, COLUMNS, [10.0], 0.0) is None  # 0: off
    two = ("d_loss", "g_norm", "d_norm")
    assert monitor.first_bad_step(np.array([[1.0, 1.0, 7.0]]), two, [1.0, 2.0], 3.0) == \
        (0, "the discriminator's weight norm grew 3.5x in one step")


# --------------------------------------------------------------------------------------------
# The background checkpoint writer


def test_checkpoint_writer_one_write_in_flight(tmp_path, monkeypatch):
    active, seen, order = [0], [], []
    write = checkpoints._write_checkpoint

    def slow(folder, step, arrays, export, keep):
        active[0] += 1
        seen.append(active[0])
        time.sleep(0.05)
        order.append(step)
        try:
            return write(folder, step, arrays, export, keep)
        finally:
            active[0] -= 1

    monkeypatch.setattr(checkpoints, "_write_checkpoint", slow)
    writer = checkpoints.CheckpointWriter(tmp_path, keep=2)
    for step in (1, 2, 3, 4):
        writer.submit(step, {"g/w": np.full(3, step, np.float32)})
        assert threading.active_count() >= 1
    assert writer.wait().name == "ckpt-00000004.npz"
    assert seen == [1, 1, 1, 1] and order == [1, 2, 3, 4]
    assert sorted(p.name for p in (tmp_path / "checkpoints").glob("*.npz")) == ["ckpt-00000003.npz", "ckpt-00000004.npz"]
    assert checkpoints.latest_checkpoint(tmp_path).name == "ckpt-00000004.npz"
    with np.load(tmp_path / "checkpoints" / "ckpt-00000004.npz") as z:
        assert int(z["step"]) == 4 and z["g/w"].tolist() == [4.0, 4.0, 4.0]


def test_checkpoint_writer_reports_a_failed_write(tmp_path):
    (tmp_path / "checkpoints").write_text("a file where the folder should be")
    writer = checkpoints.CheckpointWriter(tmp_path)
    writer.submit(1, {"g/w": np.zeros(1, np.float32)})
    with pytest.raises(OSError):
        writer.wait()
    writer.wait()  # reported once


# --------------------------------------------------------------------------------------------
# The run folder: lock and VGG weights record


def test_run_folder_lock(tmp_path):
    cfg = tiny()
    with run_dir.RunFolder.open(cfg, tmp_path / "run", echo=lambda *a: None):
        with pytest.raises(errors.OutputError, match=r"in use by another training process \(pid \d+\)"):
            run_dir.RunFolder.open(cfg, tmp_path / "run", echo=lambda *a: None)
    with run_dir.RunFolder.open(cfg, tmp_path / "run", echo=lambda *a: None) as folder:
        assert folder.resuming


def test_vgg_weights_are_recorded_and_checked_on_resume(tmp_path, monkeypatch):
    """config.json records the VGG19 file a run uses (absolute path + sha256).  Continuing the run
    without --vgg-weights reuses it even if $SRGAN_VGG19_WEIGHTS now names another file; a moved
    copy with the same bytes is accepted; a different file is refused before anything is written."""
    a = tmp_path / "vgg_a.h5"
    a.write_bytes(b"weights A" * 100)
    b = tmp_path / "vgg_b.h5"
    b.write_bytes(b"weights B" * 100)
    sha_a = hashlib.sha256(a.read_bytes()).hexdigest()
    monkeypatch.setenv("SRGAN_VGG19_WEIGHTS", str(a))
    run = tmp_path / "run"
    cfg = tiny(preset="srgan-vgg54")
    quiet = dict(echo=lambda *x: None)
    with run_dir.RunFolder.open(cfg, run, **quiet) as folder:
        assert (folder.cfg.loss.vgg_weights, folder.cfg.loss.vgg_weights_sha256) == (str(a.resolve()), sha_a)
        assert folder.cfg.loss.vgg_scale == 12.75
    monkeypatch.setenv("SRGAN_VGG19_WEIGHTS", str(b))
    with run_dir.RunFolder.open(cfg, run, **quiet) as folder:
        assert folder.cfg.loss.vgg_weights == str(a.resolve())
    before = (run / "config.json").read_text()
    with pytest.raises(errors.UserError, match="holds a different run .*vgg_weights_sha256"):
        run_dir.RunFolder.open(cfg.replace(vgg_weights=str(b)), run, **quiet)
    assert (run / "config.json").read_text() == before
    moved = tmp_path / "elsewhere" / "vgg.h5"
    moved.parent.mkdir()
    a.rename(moved)
    with run_dir.RunFolder.open(cfg.replace(vgg_weights=str(moved)), run, **quiet) as f:
        assert (f.cfg.loss.vgg_weights, f.cfg.loss.vgg_weights_sha256) == (str(moved.resolve()), sha_a)
    # An MSE preset records no VGG weights.
    with run_dir.RunFolder.open(tiny(vgg_weights=str(b)), tmp_path / "mse", **quiet) as folder:
        assert folder.cfg.loss.vgg_weights is None and folder.cfg.loss.vgg_scale is None
    # The divisor is part of the run: another one is another run.
    with pytest.raises(errors.UserError, match=r"vgg_scale: 12\.75 -> 10\.0"):
        run_dir.RunFolder.open(cfg.replace(vgg_scale=10.0), run, **quiet)


def test_step_rate_is_steady_when_results_are_read_in_bursts():
    """Blocks of 10 steps take 10 s each; with two in flight, their results may be read back to back
    (a dispatch that computes before returning).  The rate must stay 1 step/s, never one burst's 0.001 s."""
    from srgan_lib.train.session import StepRate

    rate = StepRate(in_flight=2)
    got = [rate.read(t, 10) for t in (20.0, 20.001, 40.0, 40.001, 60.0, 60.001)]
    assert got[:2] == [None, None]
    assert got[2:] == pytest.approx([1.0, 1.0, 1.0, 1.0], rel=1e-3)
    steady = StepRate(in_flight=2)  # evenly spaced reads
    assert [steady.read(t, 5) for t in (1.0, 2.0, 3.0, 4.0)] == [None, None, 5.0, 5.0]
