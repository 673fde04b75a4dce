"""Tiled inference (``srgan_lib.upscale``): exactness against whole-image inference,
the receptive field, image kinds, files and the ``srgan upscale`` command."""
import os

import numpy as np
import pytest
from PIL import Image

import keras

from srgan_lib import cli, inference, models
from srgan_lib.degrade import imresize
from srgan_lib.errors import OutputExistsError, UserError
import srgan_lib.upscale as U
from test_inference import assert_equal_up_to_rounding, keras_float, randomise_stats

SCALE = 4
#: kernels whose float32 summation order does not depend on the tensor shape (module docstring)
EXACT = keras.backend.backend() == "jax" or os.environ.get("TF_ENABLE_ONEDNN_OPTS") == "0"


@pytest.fixture(scope="module")
def small():
    keras.utils.set_random_seed(0)
    return randomise_stats(models.srresnet(num_blocks=2, filters=16))


@pytest.fixture(scope="module")
def pred(small):
    return inference.make_predictor(small)


@pytest.fixture(scope="module")
def small_file(small, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "small.keras"
    small.save(path)
    return path


def _tiled_float(img, pred, tile, overlap, batch=None):
    """The float32 network output of tiled inference, stitched."""
    h, w = img.shape[:2]
    out = np.full((h * SCALE, w * SCALE, 3), np.nan, np.float32)
    for (y0, y1, x0, x1), sr in U._sr_tiles(img, pred.predict_float, SCALE, tile, overlap, batch, False):
        out[y0 * SCALE:y1 * SCALE, x0 * SCALE:x1 * SCALE] = sr
    return out


def _assert_tiled_equals_whole(tiled, whole_uint8, whole_float):
    if EXACT:
        np.testing.assert_array_equal(tiled, whole_uint8)
    else:
        assert_equal_up_to_rounding(tiled, whole_uint8, whole_float)


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
    assert U.receptive_radius(model) == U.SRRESNET_RECEPTIVE_FIELD == 40
    assert _measured_receptive_field(model, 2 * 40 + 11) == 40


@pytest.mark.backend
@pytest.mark.parametrize("blocks", [0, 2])
def test_receptive_field_formula_small(blocks):
    keras.utils.set_random_seed(0)
    model = models.srresnet(num_blocks=blocks, filters=8)
    assert U.receptive_radius(model) == 8 + 2 * blocks
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
def test_tiled_equals_whole_image(pred, shape):
    """Tiled output == whole-image output of the same predictor, for tile sizes that do not divide
    the image and batches of 1 to 3 windows: byte-identical with shape-independent kernels
    (JAX: float32 differences of an ulp or two from XLA's per-shape fusion, ~2e-8, too small to
    move these images' uint8 values), else up to off-by-one at rounding boundaries (TensorFlow
    + oneDNN: float32 differences ~1e-6)."""
    rng = np.random.default_rng(sum(shape))
    img = rng.integers(0, 256, shape + (3,), dtype=np.uint8)
    rf = U.receptive_radius(pred.model)
    whole_f = pred.predict_float(img[None])[0]
    whole_u = U.upscale(img, pred, tile=0)
    np.testing.assert_array_equal(whole_u, pred(img[None])[0])
    # 29/31/40 do not divide the sizes; 64 > the image
    for tile, batch in ((29, 1), (29, 3), (31, 2), (40, 1), (64, 1)):
        tiled_f = _tiled_float(img, pred, tile, rf, batch)
        np.testing.assert_allclose(tiled_f, whole_f, rtol=0, atol=1e-6 if EXACT else 2e-5)
        tiled = U.upscale(img, pred, tile=tile, overlap=rf, batch=batch)
        assert tiled.shape == (shape[0] * SCALE, shape[1] * SCALE, 3) and tiled.dtype == np.uint8
        _assert_tiled_equals_whole(tiled, whole_u, whole_f)


@pytest.mark.backend
def test_upscale_matches_the_keras_model(small, pred):
    """BN folding and uint8 on the device: the result is the plain Keras generator's, up to
    off-by-one at rounding boundaries."""
    img = np.random.default_rng(2).integers(0, 256, (30, 37, 3), dtype=np.uint8)
    assert_equal_up_to_rounding(U.upscale(img, small, tile=30),
                                models.super_resolve(small, img), keras_float(small, img))


@pytest.mark.backend
def test_too_small_overlap_is_not_exact(pred):
    """The equality above is not vacuous: one pixel less than the receptive field breaks it."""
    img = np.random.default_rng(3).integers(0, 256, (48, 48, 3), dtype=np.uint8)
    rf = U.receptive_radius(pred.model)
    whole_f = pred.predict_float(img[None])[0]
    tiled_f = _tiled_float(img, pred, 2 * rf + 4, rf - 1)
    # well above the 2e-5 tolerance of test_tiled_equals_whole_image (measured: ~5e-4;
    # the far edge of the receptive field has a small but real influence)
    assert np.abs(tiled_f - whole_f).max() > 1e-4
    tiled_f = _tiled_float(img, pred, 2 * rf + 4, rf // 2)
    assert np.abs(tiled_f - whole_f).max() > 1e-2


@pytest.mark.backend
def test_default_overlap_is_receptive_field(pred):
    img = np.random.default_rng(4).integers(0, 256, (60, 30, 3), dtype=np.uint8)
    tiled = U.upscale(img, pred, tile=28)  # overlap=None -> receptive field (12)
    _assert_tiled_equals_whole(tiled, U.upscale(img, pred, tile=0), pred.predict_float(img[None])[0])


@pytest.mark.backend
def test_wrong_scale_is_reported(pred):
    img = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(UserError, match="upscales by 4"):
        U.upscale(img, pred, scale=2)
    assert U.upscale(img, pred, scale=4).shape == (32, 32, 3)


# ---------------------------------------------------------------------------------------
# image kinds

def _whole_alpha(alpha):
    h, w = alpha.shape
    up = imresize(alpha.astype(np.float64), output_shape=(h * SCALE, w * SCALE))
    return np.clip(np.rint(up), 0, 255).astype(np.uint8)


@pytest.mark.backend
def test_rgba_alpha_is_bicubic_per_tile(pred):
    """Alpha is upscaled tile by tile, yet equals the whole-image MATLAB bicubic resize exactly,
    whatever the tiling (also with no overlap)."""
    rng = np.random.default_rng(5)
    rgba = rng.integers(0, 256, (37, 30, 4), dtype=np.uint8)
    want_alpha = _whole_alpha(rgba[:, :, 3])
    for tile, overlap in ((0, 0), (26, 12), (7, 0), (5, 1)):
        out = U.upscale(rgba, pred, tile=tile, overlap=overlap)
        assert out.shape == (148, 120, 4)
        np.testing.assert_array_equal(out[:, :, 3], want_alpha)
        np.testing.assert_array_equal(out[:, :, :3], U.upscale(rgba[:, :, :3], pred, tile=tile,
                                                                overlap=overlap))


@pytest.mark.backend
def test_grayscale_in_grayscale_out(pred):
    g = np.random.default_rng(6).integers(0, 256, (10, 11), dtype=np.uint8)
    out = U.upscale(g, pred, tile=0)
    assert out.shape == (40, 44) and out.dtype == np.uint8
    rgb = U.upscale(np.repeat(g[:, :, None], 3, axis=2), pred, tile=0)
    np.testing.assert_array_equal(out, np.asarray(Image.fromarray(rgb).convert("L")))
    assert U.upscale(g[:, :, None], pred).shape == (40, 44, 1)
    la = U.upscale(Image.fromarray(np.dstack([g, g[::-1]]), "LA"), pred)
    assert la.mode == "LA"
    np.testing.assert_array_equal(np.asarray(la)[:, :, 0], out)
    np.testing.assert_array_equal(np.asarray(la)[:, :, 1], _whole_alpha(g[::-1]))


@pytest.mark.backend
def test_pil_in_pil_out(pred):
    rng = np.random.default_rng(7)
    rgb = rng.integers(0, 256, (9, 8, 3), dtype=np.uint8)
    out = U.upscale(Image.fromarray(rgb), pred)
    assert isinstance(out, Image.Image) and out.mode == "RGB" and out.size == (32, 36)
    np.testing.assert_array_equal(np.asarray(out), U.upscale(rgb, pred))
    assert U.upscale(Image.fromarray(rgb).convert("L"), pred).mode == "L"
    assert U.upscale(Image.fromarray(rgb).convert("RGBA"), pred).mode == "RGBA"
    pal = Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    p_out = U.upscale(pal, pred)
    assert p_out.mode == "RGB" and p_out.size == (32, 36)
    i16 = Image.fromarray(rgb[:, :, 0].astype(np.uint16) * 257)
    assert i16.mode.startswith("I")
    assert U.upscale(i16, pred).mode == "L"


@pytest.mark.backend
def test_pil_input_exif_orientation(pred):
    """A PIL image with an EXIF orientation tag is upscaled as displayed (as files are)."""
    rgb = np.random.default_rng(12).integers(0, 256, (6, 10, 3), dtype=np.uint8)
    im = Image.fromarray(rgb)
    im.getexif()[0x0112] = 6  # rotate 90 degrees clockwise for display
    out = U.upscale(im, pred)
    assert out.size == (24, 40)
    np.testing.assert_array_equal(np.asarray(out), U.upscale(np.rot90(rgb, -1), pred))


def test_bad_array_rejected(pred):
    with pytest.raises(ValueError, match="uint8"):
        U.upscale(np.zeros((4, 4, 3), np.float32), pred)
    with pytest.raises(ValueError, match="shape"):
        U.upscale(np.zeros((4, 4, 2), np.uint8), pred)


# ---------------------------------------------------------------------------------------
# files and the command line

def _write(path, arr, mode=None, **kw):
    Image.fromarray(arr, mode=mode).save(path, **kw)
    return path


@pytest.mark.backend
def test_upscale_file_kinds(pred, tmp_path):
    rng = np.random.default_rng(8)
    rgb = rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)
    gray = _write(tmp_path / "g.png", rgb[:, :, 0])
    g16 = tmp_path / "g16.png"
    Image.fromarray(rgb[:, :, 1].astype(np.uint16) * 257).save(g16)
    rgba = _write(tmp_path / "a.png", np.dstack([rgb, rgb[:, :, 2]]))
    la = _write(tmp_path / "la.png", np.dstack([rgb[:, :, 0], rgb[:, :, 1]]), "LA")
    pal = tmp_path / "p.png"
    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=8).save(pal)
    gray_pal = tmp_path / "gp.png"
    Image.fromarray(rgb[:, :, 0]).convert("P").save(gray_pal)  # a palette of grays
    out = U.upscale_file(gray, tmp_path / "g_x4.png", pred)
    with Image.open(out) as im:
        assert im.mode == "L" and im.size == (48, 40)
        np.testing.assert_array_equal(np.asarray(im), U.upscale(rgb[:, :, 0], pred))
    with Image.open(U.upscale_file(g16, tmp_path / "g16_x4.png", pred)) as im:
        assert im.mode == "L" and im.size == (48, 40)
    with Image.open(U.upscale_file(rgba, tmp_path / "a_x4.png", pred)) as im:
        assert im.mode == "RGBA" and im.size == (48, 40)
        np.testing.assert_array_equal(np.asarray(im)[:, :, 3], _whole_alpha(rgb[:, :, 2]))
    with Image.open(U.upscale_file(la, tmp_path / "la_x4.png", pred)) as im:
        assert im.mode == "LA" and im.size == (48, 40)
    with Image.open(U.upscale_file(pal, tmp_path / "p_x4.png", pred)) as im:
        assert im.mode == "RGB" and im.size == (48, 40)
    with Image.open(U.upscale_file(gray_pal, tmp_path / "gp_x4.png", pred)) as im:
        assert im.mode == "L"
    with pytest.raises(UserError, match="alpha"):
        U.upscale_file(rgba, tmp_path / "a_x4.jpg", pred)
    assert not (tmp_path / "a_x4.jpg").exists()


@pytest.mark.backend
def test_exif_orientation_respected(pred, tmp_path):
    rgb = np.random.default_rng(9).integers(0, 256, (6, 10, 3), dtype=np.uint8)
    im = Image.fromarray(rgb)
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise for display
    path = tmp_path / "rot.png"
    im.save(path, exif=exif)
    out = U.upscale_file(path, tmp_path / "rot_x4.png", pred)
    with Image.open(out) as o:
        assert o.size == (24, 40)  # (W, H): displayed orientation is 10 high, 6 wide


@pytest.mark.backend
def test_upscale_file_never_overwrites(pred, tmp_path):
    src = _write(tmp_path / "a.png", np.zeros((5, 5, 3), np.uint8))
    dst = tmp_path / "a_x4.png"
    dst.write_bytes(b"keep me")
    with pytest.raises(OutputExistsError, match="a_x4.png"):
        U.upscale_file(src, dst, pred)
    assert dst.read_bytes() == b"keep me"
    U.upscale_file(src, dst, pred, overwrite=True)
    with Image.open(dst) as im:
        assert im.size == (20, 20)
    with pytest.raises(UserError, match="replace its input"):
        U.upscale_file(src, src, pred, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "a_x4.png"]


def test_output_paths(tmp_path):
    f = tmp_path / "a.jpg"
    assert U.output_path_for(f, None, None, 4, None, True) == tmp_path / "a_x4.jpg"
    assert U.output_path_for(f, None, None, 4, "png", True) == tmp_path / "a_x4.png"
    assert U.output_path_for(f, None, tmp_path / "o.png", 4, None, True) == tmp_path / "o.png"
    assert U.output_path_for(f, None, tmp_path / "out", 4, None, True) == tmp_path / "out" / "a.jpg"
    d = tmp_path / "imgs"
    assert U.output_path_for(d / "b.tif", d, None, 4, None, False) == tmp_path / "imgs_x4" / "b.tif"


@pytest.mark.backend
def test_cli_end_to_end(pred, small_file, tmp_path, capsys):
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
    assert cli.main(argv) == 1  # one file failed, the others were written
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if "error" in ln]
    assert len(lines) == 1 and "broken.png" in lines[0]
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.jpg", "c.png"]
    from srgan_lib.images import read_image
    a = imgs["a.png"]
    _assert_tiled_equals_whole(read_image(out / "a.png"), U.upscale(a, pred, tile=0),
                               pred.predict_float(a[None])[0])
    assert read_image(out / "b.jpg").shape == (36, 28, 3)
    assert read_image(out / "c.png").shape == (4, 68, 3)

    # rerun: every target is checked before any work, nothing is overwritten without --overwrite
    before = (out / "a.png").read_bytes()
    (src / "broken.png").unlink()
    (out / "c.png").unlink()
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "a.png" in err[0] and "--overwrite" in err[0]
    assert (out / "a.png").read_bytes() == before and not (out / "c.png").exists()
    assert cli.main(argv + ["--overwrite", "--format", "png", "--batch", "2"]) == 0
    assert (out / "b.png").is_file() and (out / "c.png").is_file()
    np.testing.assert_array_equal(read_image(out / "a.png"), read_image(out / "a.png"))

    # a single file with the default output name
    one = _write(tmp_path / "one.png", imgs["b.jpg"])
    assert cli.main(["upscale", str(one), "--model", str(small_file), "--device", "cpu"]) == 0
    assert (tmp_path / "one_x4.png").is_file()


def test_cli_refuses_to_overwrite_an_input(small_file, tmp_path, capsys):
    """``srgan upscale a.png a_x4.png --overwrite`` would replace the second input by the upscale
    of the first before reading it: refused, naming both, before any work."""
    a = _write(tmp_path / "a.png", np.zeros((4, 4, 3), np.uint8))
    a4 = _write(tmp_path / "a_x4.png", np.full((4, 4, 3), 7, np.uint8))
    before = a4.read_bytes()
    argv = ["upscale", str(a), str(a4), "--model", str(small_file), "--overwrite"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'" + str(a) + "'" in err[0] and str(a4) in err[0] and "input" in err[0]
    assert a4.read_bytes() == before and not (tmp_path / "a_x4_x4.png").exists()
    assert cli.main(["upscale", str(a), "-o", str(a), "--model", str(small_file), "--overwrite"]) == 2
    assert "also an input" in capsys.readouterr().err


def test_cli_unwritable_output_is_one_line(small_file, tmp_path, capsys):
    img = _write(tmp_path / "x.png", np.zeros((4, 4, 3), np.uint8))
    (tmp_path / "file").write_text("a file, not a folder")
    argv = ["upscale", str(img), "-o", str(tmp_path / "file" / "out"), "--model", str(small_file)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot create the folder" in err[0] and "file" in err[0]


def test_cli_errors(small_file, tmp_path, capsys):
    assert cli.main(["upscale", str(tmp_path / "missing.png"), "--model", str(small_file)]) == 2
    assert "missing.png" in capsys.readouterr().err
    img = _write(tmp_path / "x.png", np.zeros((4, 4, 3), np.uint8))
    assert cli.main(["upscale", str(img), "--model", str(small_file), "--tile", "20"]) == 2
    assert "--tile 20" in capsys.readouterr().err
    assert cli.main(["upscale", str(img), "--model", str(small_file), "--scale", "2"]) == 2
    assert "upscales by 4, not by scale 2" in capsys.readouterr().err
    assert cli.main(["upscale", str(img), "--model", str(small_file), "--batch", "0"]) == 2
    assert "--batch" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.png"]


def test_gpu_request_without_gpu(monkeypatch):
    monkeypatch.setattr(U, "_gpu_available", lambda: False)
    with pytest.raises(UserError, match="sees no GPU"):
        U.device_scope("gpu")
    with U.device_scope("cpu"):
        pass
    with pytest.raises(UserError):
        U.device_scope("tpu")


def test_package_attribute_is_the_module():
    """``srgan_lib.upscale`` is the module (the function: ``from srgan_lib.upscale import
    upscale``), and ``import srgan_lib`` / ``import srgan_lib.upscale`` import no backend."""
    import subprocess
    import sys

    code = ("import sys, srgan_lib, srgan_lib.upscale as U\n"
            "assert srgan_lib.upscale is U and callable(U.upscale) and not callable(U)\n"
            "assert not {'keras', 'tensorflow', 'jax'} & set(sys.modules), 'backend imported'\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]


def test_tiled_uint8_identical_to_whole_without_onednn():
    """TensorFlow without oneDNN (kernels whose summation order does not depend on the tensor
    shape): tiled output is *identical* to whole-image output of the same predictor, byte for
    byte, for every tile size and batch, when the overlap covers the receptive field.  (JAX is
    covered by test_tiled_equals_whole_image with KERAS_BACKEND=jax; TensorFlow's default oneDNN
    kernels pick an algorithm per shape, and then a few values per image sit on a rounding
    boundary and differ by 1, as test_tiled_equals_whole_image allows.)"""
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).with_name("upscale_exact_subprocess.py")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600,
                       env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow",
                            "TF_ENABLE_ONEDNN_OPTS": "0"})
    assert r.returncode == 0, r.stderr[-3000:]
    diffs = json.loads(r.stdout)
    assert len(diffs) == 25 and all(v == 0 for v in diffs.values()), diffs


def test_default_tile_is_the_largest_within_the_memory_budget():
    """#22: the default window is the largest multiple of 8 whose activations fit the stated budget, so a
    typical photo (240x320 LR) is one piece with no overlap to pay for."""
    side = U.DEFAULT_TILE
    assert side % 8 == 0 and side * side * U.PREDICTOR_BYTES_PER_LR_PIXEL <= U.TILE_MEMORY_BUDGET
    assert (side + 8) ** 2 * U.PREDICTOR_BYTES_PER_LR_PIXEL > U.TILE_MEMORY_BUDGET
    assert U.BATCH_PIXELS == side * side
    for length in (240, 320):
        assert U.tile_windows(length, U.DEFAULT_TILE, U.SRRESNET_RECEPTIVE_FIELD) == [(0, length, 0, length)]
