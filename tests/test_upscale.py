"""Tiled inference (``srgan_lib.upscale``): exactness against whole-image inference,
the receptive field, image kinds, files and the ``srgan upscale`` command."""
import numpy as np
import pytest
from PIL import Image

import keras

from srgan_lib import cli, models
from srgan_lib.degrade import imresize
import srgan_lib.upscale as U

SCALE = 4


def _randomise_stats(model, seed=0):
    """Non-trivial BN statistics / PReLU slopes so inference-mode BN is a real affine map."""
    r = np.random.default_rng(seed)
    for w in model.weights:
        v = keras.ops.convert_to_numpy(w)
        if "moving_variance" in w.path:
            w.assign(r.uniform(0.5, 2.0, v.shape).astype("float32"))
        elif any(k in w.path for k in ("moving_mean", "beta", "alpha", "gamma")):
            w.assign(r.uniform(-0.3, 0.3, v.shape).astype("float32") + (1.0 if "gamma" in w.path else 0.0))
    return model


@pytest.fixture(scope="module")
def small():
    keras.utils.set_random_seed(0)
    return _randomise_stats(models.srresnet(num_blocks=2, filters=16))


@pytest.fixture(scope="module")
def small_file(small, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "small.keras"
    small.save(path)
    return path


def _whole_float(model, img):
    x = models.lr_from_uint8(img)[None]
    return keras.ops.convert_to_numpy(model(x, training=False))[0]


def _assert_equal_up_to_rounding(tiled, whole_uint8, whole_float):
    """Tiled uint8 == whole-image uint8, except off-by-one where the float output sits on a
    rounding boundary (x.5 after scaling to 0..255; float32 error ~1e-6)."""
    diff = tiled.astype(int) - whole_uint8.astype(int)
    assert np.abs(diff).max(initial=0) <= 1
    bad = diff != 0
    if bad.any():
        v = (whole_float.astype(np.float64)[bad] + 1.0) * 127.5
        assert np.all(np.abs(v - np.floor(v) - 0.5) < 2e-3), "difference away from a rounding boundary"
    assert bad.mean() < 1e-3


# ---------------------------------------------------------------------------------------
# receptive field

def _measured_receptive_field(model, size):
    """Gradient of one HR output pixel w.r.t. the LR input: the LR pixels with a non-zero
    gradient are its receptive field.  Returns the largest Chebyshev distance, in LR pixels,
    from the LR pixel under the output pixel, over output pixels in the centre LR cell."""
    rng = np.random.default_rng(1)
    x = rng.uniform(0.0, 1.0, (1, size, size, 3)).astype("float32")
    c = size // 2
    backend = keras.backend.backend()
    radius = 0
    for q in (c * SCALE, c * SCALE + SCALE - 1):  # both extreme sub-pixel positions
        if backend == "tensorflow":
            import tensorflow as tf
            xt = tf.constant(x)
            with tf.GradientTape() as tape:
                tape.watch(xt)
                y = model(xt, training=False)[0, q, q, :]
                loss = tf.reduce_sum(y)
            g = tape.gradient(loss, xt).numpy()
        elif backend == "jax":
            import jax
            g = np.asarray(jax.grad(lambda t: model(t, training=False)[0, q, q, :].sum())(x))
        else:
            pytest.skip(f"no gradient helper for backend {backend}")
        nz = np.argwhere(np.abs(g[0]).sum(-1) > 0)
        assert nz.size, "zero gradient"
        assert nz.min() > 0 and nz.max() < size - 1, "input too small for the receptive field"
        radius = max(radius, int(np.abs(nz - c).max()))
    return radius


@pytest.mark.backend
def test_receptive_field_default_srresnet_derived_and_measured():
    keras.utils.set_random_seed(0)
    model = models.srresnet()  # the paper's 16-block x4 model
    assert U.receptive_field(model) == U.SRRESNET_RECEPTIVE_FIELD == 40
    assert _measured_receptive_field(model, 2 * 40 + 11) == 40


@pytest.mark.backend
@pytest.mark.parametrize("blocks", [0, 2])
def test_receptive_field_formula_small(blocks):
    keras.utils.set_random_seed(0)
    model = models.srresnet(num_blocks=blocks, filters=8)
    assert U.receptive_field(model) == 8 + 2 * blocks
    assert _measured_receptive_field(model, 2 * (8 + 2 * blocks) + 9) == 8 + 2 * blocks


def test_tile_windows_partition():
    for length in (1, 2, 7, 30, 31, 53, 100, 257):
        for tile, overlap in ((5, 2), (8, 0), (30, 12), (31, 12), (64, 12), (0, 3), (1000, 40)):
            wins = U.tile_windows(length, tile, overlap)
            pos = 0
            for s, e, ks, ke in wins:
                assert ks == pos and ke > ks
                assert 0 <= s <= ks and ke <= e <= length
                assert e - s == (min(tile, length) if tile > 0 else length)
                if s > 0:
                    assert ks - s >= overlap
                if e < length:
                    assert e - ke >= overlap
                pos = ke
            assert pos == length
    with pytest.raises(ValueError, match="larger than 2 \\* overlap"):
        U.tile_windows(100, 24, 12)


# ---------------------------------------------------------------------------------------
# tiled == whole

@pytest.mark.backend
@pytest.mark.parametrize("shape", [(53, 71), (40, 40), (1, 57), (45, 1), (9, 13)])
def test_tiled_equals_whole_image(small, shape):
    rng = np.random.default_rng(sum(shape))
    img = rng.integers(0, 256, shape + (3,), dtype=np.uint8)
    rf = U.receptive_field(small)
    whole_f = _whole_float(small, img)
    whole_u = models.super_resolve(small, img)
    for tile in (29, 31, 40, 64):  # 29/31/40 do not divide the sizes; 64 > the image
        tiled_f = U._sr_rgb(img, small, tile, rf, SCALE, False, as_float=True)
        np.testing.assert_allclose(tiled_f, whole_f, rtol=0, atol=2e-5)
        tiled = U.upscale(img, small, tile=tile, overlap=rf)
        assert tiled.shape == (shape[0] * SCALE, shape[1] * SCALE, 3) and tiled.dtype == np.uint8
        _assert_equal_up_to_rounding(tiled, whole_u, whole_f)


@pytest.mark.backend
def test_too_small_overlap_is_not_exact(small):
    """The equality above is not vacuous: one pixel less than the receptive field breaks it."""
    img = np.random.default_rng(3).integers(0, 256, (48, 48, 3), dtype=np.uint8)
    rf = U.receptive_field(small)
    whole_f = _whole_float(small, img)
    tiled_f = U._sr_rgb(img, small, 2 * rf + 4, rf - 1, SCALE, False, as_float=True)
    # well above the 2e-5 tolerance of test_tiled_equals_whole_image (measured: ~5e-4;
    # the far edge of the receptive field has a small but real influence)
    assert np.abs(tiled_f - whole_f).max() > 1e-4
    tiled_f = U._sr_rgb(img, small, 2 * rf + 4, rf // 2, SCALE, False, as_float=True)
    assert np.abs(tiled_f - whole_f).max() > 1e-2


@pytest.mark.backend
def test_default_overlap_is_receptive_field(small):
    img = np.random.default_rng(4).integers(0, 256, (60, 30, 3), dtype=np.uint8)
    whole_f = _whole_float(small, img)
    tiled = U.upscale(img, small, tile=28)  # overlap=None -> receptive field (12)
    _assert_equal_up_to_rounding(tiled, models.super_resolve(small, img), whole_f)


@pytest.mark.backend
def test_wrong_scale_is_reported(small):
    img = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="upscales by 4"):
        U.upscale(img, small, scale=2)


# ---------------------------------------------------------------------------------------
# image kinds

@pytest.mark.backend
def test_rgba_alpha_is_bicubic(small):
    rng = np.random.default_rng(5)
    rgba = rng.integers(0, 256, (12, 10, 4), dtype=np.uint8)
    out = U.upscale(rgba, small, tile=0)
    assert out.shape == (48, 40, 4)
    np.testing.assert_array_equal(out[:, :, :3], models.super_resolve(small, rgba[:, :, :3]))
    want = np.clip(np.rint(imresize(rgba[:, :, 3].astype(np.float64), output_shape=(48, 40))), 0, 255)
    np.testing.assert_array_equal(out[:, :, 3], want.astype(np.uint8))


@pytest.mark.backend
def test_grayscale_in_grayscale_out(small):
    g = np.random.default_rng(6).integers(0, 256, (10, 11), dtype=np.uint8)
    out = U.upscale(g, small, tile=0)
    assert out.shape == (40, 44) and out.dtype == np.uint8
    rgb = U.upscale(np.repeat(g[:, :, None], 3, axis=2), small, tile=0).astype(np.float64)
    want = np.clip(np.rint(rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(out, want)
    assert U.upscale(g[:, :, None], small).shape == (40, 44, 1)


@pytest.mark.backend
def test_pil_in_pil_out(small):
    rng = np.random.default_rng(7)
    rgb = rng.integers(0, 256, (9, 8, 3), dtype=np.uint8)
    out = U.upscale(Image.fromarray(rgb), small)
    assert isinstance(out, Image.Image) and out.mode == "RGB" and out.size == (32, 36)
    np.testing.assert_array_equal(np.asarray(out), U.upscale(rgb, small))
    assert U.upscale(Image.fromarray(rgb).convert("L"), small).mode == "L"
    assert U.upscale(Image.fromarray(rgb).convert("RGBA"), small).mode == "RGBA"
    pal = Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    p_out = U.upscale(pal, small)
    assert p_out.mode == "RGB" and p_out.size == (32, 36)
    i16 = Image.fromarray(rgb[:, :, 0].astype(np.uint16) * 257)
    assert i16.mode.startswith("I")
    assert U.upscale(i16, small).mode == "L"


def test_bad_array_rejected(small):
    with pytest.raises(ValueError, match="uint8"):
        U.upscale(np.zeros((4, 4, 3), np.float32), small)
    with pytest.raises(ValueError, match="shape"):
        U.upscale(np.zeros((4, 4, 2), np.uint8), small)


# ---------------------------------------------------------------------------------------
# files and the command line

def _write(path, arr, mode=None, **kw):
    Image.fromarray(arr, mode=mode).save(path, **kw)
    return path


@pytest.mark.backend
def test_upscale_file_kinds(small, tmp_path):
    rng = np.random.default_rng(8)
    rgb = rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)
    gray = _write(tmp_path / "g.png", rgb[:, :, 0])
    g16 = tmp_path / "g16.png"
    Image.fromarray(rgb[:, :, 1].astype(np.uint16) * 257).save(g16)
    rgba = _write(tmp_path / "a.png", np.dstack([rgb, rgb[:, :, 2]]))
    pal = tmp_path / "p.png"
    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=8).save(pal)
    out = U.upscale_file(gray, tmp_path / "g_x4.png", small)
    with Image.open(out) as im:
        assert im.mode == "L" and im.size == (48, 40)
    with Image.open(U.upscale_file(g16, tmp_path / "g16_x4.png", small)) as im:
        assert im.mode == "L" and im.size == (48, 40)
    with Image.open(U.upscale_file(rgba, tmp_path / "a_x4.png", small)) as im:
        assert im.mode == "RGBA" and im.size == (48, 40)
        np.testing.assert_array_equal(np.asarray(im)[:, :, 3], U._upscale_alpha(rgb[:, :, 2], 4))
    with Image.open(U.upscale_file(pal, tmp_path / "p_x4.png", small)) as im:
        assert im.mode == "RGB" and im.size == (48, 40)


@pytest.mark.backend
def test_exif_orientation_respected(small, tmp_path):
    rgb = np.random.default_rng(9).integers(0, 256, (6, 10, 3), dtype=np.uint8)
    im = Image.fromarray(rgb)
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise for display
    path = tmp_path / "rot.png"
    im.save(path, exif=exif)
    out = U.upscale_file(path, tmp_path / "rot_x4.png", small)
    with Image.open(out) as o:
        assert o.size == (24, 40)  # (W, H): displayed orientation is 10 high, 6 wide


@pytest.mark.backend
def test_upscale_file_never_overwrites(small, tmp_path):
    src = _write(tmp_path / "a.png", np.zeros((5, 5, 3), np.uint8))
    dst = tmp_path / "a_x4.png"
    dst.write_bytes(b"keep me")
    with pytest.raises(FileExistsError, match="a_x4.png"):
        U.upscale_file(src, dst, small)
    assert dst.read_bytes() == b"keep me"
    U.upscale_file(src, dst, small, overwrite=True)
    with Image.open(dst) as im:
        assert im.size == (20, 20)


def test_output_paths(tmp_path):
    f = tmp_path / "a.jpg"
    assert U.output_path_for(f, None, None, 4, None, True) == tmp_path / "a_x4.jpg"
    assert U.output_path_for(f, None, None, 4, "png", True) == tmp_path / "a_x4.png"
    assert U.output_path_for(f, None, tmp_path / "o.png", 4, None, True) == tmp_path / "o.png"
    assert U.output_path_for(f, None, tmp_path / "out", 4, None, True) == tmp_path / "out" / "a.jpg"
    d = tmp_path / "imgs"
    assert U.output_path_for(d / "b.tif", d, None, 4, None, False) == tmp_path / "imgs_x4" / "b.tif"


@pytest.mark.backend
def test_cli_end_to_end(small, small_file, tmp_path, capsys):
    rng = np.random.default_rng(10)
    src = tmp_path / "in"
    src.mkdir()
    imgs = {"a.png": rng.integers(0, 256, (20, 30, 3), dtype=np.uint8),
            "b.jpg": rng.integers(0, 256, (9, 7, 3), dtype=np.uint8),
            "c.png": rng.integers(0, 256, (1, 17, 3), dtype=np.uint8)}
    for name, arr in imgs.items():
        _write(src / name, arr, quality=95) if name.endswith("jpg") else _write(src / name, arr)
    (src / "broken.png").write_bytes(b"this is not a png")
    out = tmp_path / "out"
    argv = ["upscale", str(src), "-o", str(out), "--model", str(small_file), "--tile", "26"]
    assert cli.main(argv) == 1  # one file failed
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if "error" in ln]
    assert len(lines) == 1 and "broken.png" in lines[0]
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.jpg", "c.png"]
    from srgan_lib.images import read_image
    a_out = read_image(out / "a.png")
    whole = models.super_resolve(small, imgs["a.png"])
    _assert_equal_up_to_rounding(a_out, whole, _whole_float(small, imgs["a.png"]))
    assert read_image(out / "b.jpg").shape == (36, 28, 3)
    assert read_image(out / "c.png").shape == (4, 68, 3)

    # rerun: nothing is overwritten without --overwrite, and the message names the file
    before = (out / "a.png").read_bytes()
    (src / "broken.png").unlink()
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert "a.png" in err and "--overwrite" in err
    assert (out / "a.png").read_bytes() == before
    assert cli.main(argv + ["--overwrite", "--format", "png"]) == 0
    assert (out / "b.png").is_file()

    # a single file with the default output name
    one = _write(tmp_path / "one.png", imgs["b.jpg"])
    assert cli.main(["upscale", str(one), "--model", str(small_file), "--device", "cpu"]) == 0
    assert (tmp_path / "one_x4.png").is_file()


def test_cli_errors(small_file, tmp_path, capsys):
    assert cli.main(["upscale", str(tmp_path / "missing.png"), "--model", str(small_file)]) == 2
    assert "missing.png" in capsys.readouterr().err
    img = _write(tmp_path / "x.png", np.zeros((4, 4, 3), np.uint8))
    assert cli.main(["upscale", str(img), "--model", str(small_file), "--tile", "20"]) == 2
    assert "--tile 20" in capsys.readouterr().err


def test_gpu_request_without_gpu(monkeypatch):
    monkeypatch.setattr(U, "_gpu_available", lambda: False)
    with pytest.raises(ValueError, match="sees no GPU"):
        U.device_scope("gpu")
    with U.device_scope("cpu"):
        pass
    with pytest.raises(ValueError):
        U.device_scope("tpu")


@pytest.mark.backend
def test_package_attribute_is_callable(small):
    """``srgan_lib.upscale(...)`` works even after ``import srgan_lib.upscale`` has bound the
    package attribute to the module (the module is callable)."""
    import srgan_lib
    img = np.random.default_rng(11).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    np.testing.assert_array_equal(srgan_lib.upscale(img, small), U.upscale(img, small))


@pytest.mark.parametrize("env", [{"KERAS_BACKEND": "jax"},
                                 {"KERAS_BACKEND": "tensorflow", "TF_ENABLE_ONEDNN_OPTS": "0"}])
def test_tiled_uint8_identical_to_whole_with_deterministic_kernels(env):
    """With kernels whose summation order does not depend on the tensor shape (XLA on JAX, or
    TensorFlow without oneDNN), tiled output is *identical* to whole-image output, byte for byte,
    for every tile size, when the overlap covers the receptive field.  (TensorFlow's default oneDNN
    kernels pick an algorithm per shape; then at most a few pixels per image sit on a rounding
    boundary and differ by 1, as test_tiled_equals_whole_image allows.)"""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).with_name("upscale_exact_subprocess.py")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600,
                       env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env})
    assert r.returncode == 0, r.stderr[-3000:]
    diffs = json.loads(r.stdout)
    assert len(diffs) == 20 and all(v == 0 for v in diffs.values()), diffs
