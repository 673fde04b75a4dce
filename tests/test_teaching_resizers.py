"""srgan_lib.teaching.resizers: every library's "bicubic" LR image (the book's chapter 1)."""
import numpy as np
import pytest

from srgan_lib import degrade as D
from srgan_lib.errors import UserError
from srgan_lib.evaluate import load_eval_set
from srgan_lib.metrics import psnr
from srgan_lib.teaching import resizers as R


@pytest.mark.parametrize("library", R.RESIZE_LIBRARIES)
def test_resize_with_shapes_and_dtype(rng, library):
    img = rng.integers(0, 256, size=(48, 40, 3), dtype=np.uint8)
    out = R.resize_with(img, 4, library)
    assert out.shape == (12, 10, 3) and out.dtype == np.uint8
    flat = np.full((32, 32, 3), 77, np.uint8)  # every resize keeps a flat image flat
    assert np.all(np.abs(R.resize_with(flat, 4, library).astype(int) - 77) <= 1)


def test_resize_with_matlab_is_imresize_rounded(rng):
    img = rng.integers(0, 256, size=(36, 44, 3), dtype=np.uint8)
    np.testing.assert_array_equal(R.resize_with(img, 4, "matlab"),
                                  np.clip(np.rint(D.imresize(img, scale=0.25)), 0, 255).astype(np.uint8))
    np.testing.assert_array_equal(R.resize_with(img, 2, "matlab"), D.bicubic(img, 2))
    with pytest.raises(UserError, match="unknown library"):
        R.resize_with(img, 4, "opencv")
    with pytest.raises(ValueError, match="uint8"):
        R.resize_with(img.astype(float), 4, "pil")


def test_resize_with_pil_is_pillow_bicubic(rng):
    from PIL import Image

    img = rng.integers(0, 256, size=(40, 48, 3), dtype=np.uint8)
    np.testing.assert_array_equal(R.resize_with(img, 4, "pil"),
                                  np.asarray(Image.fromarray(img).resize((12, 10), Image.Resampling.BICUBIC)))


def test_resize_with_keras_aliases_without_antialias():
    # a zone plate: plain keras bicubic samples it (aliasing: large differences from MATLAB),
    # the antialiased resizes agree with MATLAB to within a few grey levels
    z = R.zone_plate(128)
    ref = D.bicubic(z, 4).astype(int)
    err = {lib: np.abs(R.resize_with(z, 4, lib).astype(int) - ref).mean() for lib in R.RESIZE_LIBRARIES}
    assert err["matlab"] == 0
    assert err["pil"] < 1 and err["keras-antialias"] < 1
    assert err["keras"] > 20 * max(err["pil"], err["keras-antialias"], 0.5)


@pytest.mark.needs_data
def test_resize_with_differs_from_matlab_by_measured_amounts_on_set5(data_dir):
    """Set5 x4 (TensorFlow backend): mean PSNR of the LR image vs MATLAB's LR image (Y, 1-px border)
    and of its MATLAB-bicubic upscale vs HR.  Measured: pil 62.0 / 28.431, keras 31.1 / 28.002,
    keras-antialias 70.7 / 28.431, skimage 42.2 / 27.928; matlab inf / 28.431."""
    imgs = load_eval_set(data_dir / "Set5", 4)
    lr_db, base_db = {}, {}
    for lib in R.RESIZE_LIBRARIES:
        pairs = [(hr, D.bicubic(hr, 4), R.resize_with(hr, 4, lib)) for _, hr in imgs]
        lr_db[lib] = np.mean([psnr(lr, ref, border=1) for _, ref, lr in pairs])
        base_db[lib] = np.mean([psnr(D.upscale_bicubic(lr, 4), hr) for hr, _, lr in pairs])
    assert np.isinf(lr_db["matlab"]) and base_db["matlab"] == pytest.approx(28.431, abs=0.002)
    assert 58 < lr_db["pil"] < 66 and abs(base_db["pil"] - base_db["matlab"]) < 0.01
    assert 64 < lr_db["keras-antialias"] < 78 and abs(base_db["keras-antialias"] - base_db["matlab"]) < 0.01
    assert 28 < lr_db["keras"] < 35 and -0.6 < base_db["keras"] - base_db["matlab"] < -0.3
    assert 38 < lr_db["skimage"] < 46 and -0.7 < base_db["skimage"] - base_db["matlab"] < -0.35


def test_zone_plate_values():
    z = R.zone_plate(64)
    assert z.shape == (64, 64, 3) and z.dtype == np.uint8
    assert z[32, 32, 0] == 255  # r = 0: cos(0) = 1
    assert z[32, 40, 0] == 0  # r^2 = 64 = size: cos(pi) = -1
    np.testing.assert_array_equal(z[32, 32 - 5], z[32, 32 + 5])  # radially symmetric
    np.testing.assert_array_equal(z[:, :, 0], z[:, :, 2])
    assert R.zone_plate(16, channels=0).shape == (16, 16)


def test_compare_resizers_rows(rng):
    imgs = [("r", rng.integers(0, 256, size=(32, 40, 3), dtype=np.uint8))]
    rows = R.compare_resizers(imgs, 4, libraries=("matlab", "pil", "keras"))
    assert [r["library"] for r in rows] == ["matlab", "pil", "keras"]
    hr = imgs[0][1]
    assert np.isinf(rows[0]["lr_psnr"]) and rows[0]["baseline_diff"] == 0
    assert rows[0]["baseline_psnr"] == pytest.approx(psnr(D.upscale_bicubic(D.bicubic(hr, 4), 4), hr))
    for r in rows[1:]:
        assert np.isfinite(r["lr_psnr"]) and r["images"][0]["name"] == "r"
        assert r["baseline_diff"] == pytest.approx(r["baseline_psnr"] - rows[0]["baseline_psnr"])


@pytest.mark.needs_data
def test_compare_resizers_set5(data_dir):
    rows = {r["library"]: r for r in R.compare_resizers(load_eval_set(data_dir / "Set5"), 4)}
    assert rows["matlab"]["baseline_psnr"] == pytest.approx(28.431, abs=0.002)
    assert abs(rows["pil"]["baseline_diff"]) < 0.01 and -0.6 < rows["keras"]["baseline_diff"] < -0.3
