"""srgan_lib.metrics: BT.601 Y, PSNR and SSIM (Wang et al. 2004) with the benchmark protocol."""
import math

import numpy as np
import pytest
from scipy.signal import convolve2d

from srgan_lib.metrics import psnr, rgb_to_y, ssim


def test_rgb_to_y_matlab_values():
    px = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255]]], dtype=np.uint8)
    y = rgb_to_y(px)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y[0], [16.0, 235.0, 16 + 65.481, 16 + 128.553, 16 + 24.966], atol=1e-12)
    # (65.481*128 + 128.553*64 + 24.966*32) / 255 = 17407.872 / 255 = 68.2662 -> Y = 84.2662, rounded 84
    v = rgb_to_y(np.array([128, 64, 32], dtype=np.uint8))
    assert v == pytest.approx(84.26616470588, abs=1e-9)
    assert rgb_to_y(np.array([128, 64, 32], dtype=np.uint8), round=True) == 84
    # float 0..255 input gives the same as uint8
    np.testing.assert_allclose(rgb_to_y(px.astype(np.float32)), y)
    with pytest.raises(ValueError):
        rgb_to_y(np.zeros((4, 4)))


def test_psnr_constant_offset_exact(rng):
    hr = rng.integers(20, 200, size=(20, 24, 3), dtype=np.uint8)
    sr = hr + np.uint8(10)
    # Y difference is 10 * (65.481 + 128.553 + 24.966) / 255 = 10 * 219 / 255
    assert psnr(sr, hr) == pytest.approx(20 * math.log10(255 / (10 * 219 / 255)), abs=1e-9)
    assert psnr(sr, hr, y_channel=False) == pytest.approx(20 * math.log10(255 / 10), abs=1e-9)
    # float input in 0..255 is the same as uint8
    assert psnr(sr.astype(np.float64), hr.astype(np.float64)) == pytest.approx(psnr(sr, hr))


def test_psnr_border_is_cropped(rng):
    hr = rng.integers(0, 256, size=(16, 16, 3), dtype=np.uint8)
    sr = hr.copy()
    sr[:4] = 0
    sr[:, -4:] = 255  # errors only in the 4-pixel border
    assert psnr(sr, hr, border=4) == math.inf
    assert psnr(sr, hr, border=0) < 30
    sr2 = hr.copy()
    sr2[8, 8, 0] = hr[8, 8, 0] ^ 0xFF  # one interior pixel, one channel
    mse = (int(sr2[8, 8, 0]) - int(hr[8, 8, 0])) ** 2 / (8 * 8 * 3)
    assert psnr(sr2, hr, y_channel=False) == pytest.approx(10 * math.log10(255 ** 2 / mse))


def test_identical_images(rng):
    hr = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    assert psnr(hr, hr) == math.inf
    assert ssim(hr, hr) == pytest.approx(1.0)
    assert ssim(hr, hr, y_channel=False) == pytest.approx(1.0)


def test_shape_mismatch_names_both_shapes():
    a, b = np.zeros((20, 20, 3), np.uint8), np.zeros((20, 24, 3), np.uint8)
    for f in (psnr, ssim):
        with pytest.raises(ValueError, match=r"\(20, 20, 3\).*\(20, 24, 3\)"):
            f(a, b)


def test_ssim_constant_images_hand_computed():
    # Constant images have zero variance, so SSIM reduces to the luminance term
    # (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1) with C1 = (0.01 * 255)^2 = 6.5025.
    a, b = np.full((24, 24), 100.0), np.full((24, 24), 110.0)
    expected = (2 * 100 * 110 + 6.5025) / (100 ** 2 + 110 ** 2 + 6.5025)  # 0.9954764...
    assert ssim(a, b) == pytest.approx(expected, abs=1e-12)
    assert expected == pytest.approx(0.9954764, abs=1e-7)


def test_ssim_single_window_hand_computed(rng):
    # An 11x11 image (border 0) has exactly one valid window: SSIM is Wang et al.'s formula
    # with Gaussian-weighted statistics over the whole image.
    x = rng.uniform(0, 255, size=(11, 11))
    y = np.clip(x + rng.normal(0, 20, size=x.shape), 0, 255)
    g = np.exp(-(np.arange(11) - 5) ** 2 / (2 * 1.5 ** 2))
    w = np.outer(g, g) / np.outer(g, g).sum()
    mx, my = (w * x).sum(), (w * y).sum()
    vx, vy = (w * (x - mx) ** 2).sum(), (w * (y - my) ** 2).sum()
    cxy = (w * (x - mx) * (y - my)).sum()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    expected = (2 * mx * my + c1) * (2 * cxy + c2) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))
    assert ssim(x, y, border=0) == pytest.approx(expected, abs=1e-10)


def _ssim_valid_reference(a, b):
    """Wang et al.'s ssim_index.m: filter2(window, ., 'valid') with fspecial('gaussian', 11, 1.5)."""
    g = np.exp(-(np.arange(11) - 5) ** 2 / (2 * 1.5 ** 2))
    w = np.outer(g, g)
    w /= w.sum()

    def f(z):
        return convolve2d(z, w[::-1, ::-1], mode="valid")

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu1, mu2 = f(a), f(b)
    s1, s2, s12 = f(a * a) - mu1 ** 2, f(b * b) - mu2 ** 2, f(a * b) - mu1 * mu2
    smap = (2 * mu1 * mu2 + c1) * (2 * s12 + c2) / ((mu1 ** 2 + mu2 ** 2 + c1) * (s1 + s2 + c2))
    return smap.mean()


@pytest.mark.parametrize("shape", [(40, 52), (23, 31)])
def test_ssim_equals_matlab_valid_mean(rng, shape):
    hr = rng.integers(0, 256, size=shape + (3,), dtype=np.uint8)
    noise = rng.normal(0, 25, size=hr.shape)
    sr = np.clip(np.rint(hr + noise), 0, 255).astype(np.uint8)
    b = 4
    ya = rgb_to_y(sr)[b:-b, b:-b]
    yb = rgb_to_y(hr)[b:-b, b:-b]
    assert ssim(sr, hr, border=b) == pytest.approx(_ssim_valid_reference(ya, yb), abs=1e-10)
    # RGB without Y conversion: the mean of the per-channel SSIMs
    per_channel = [_ssim_valid_reference(sr[b:-b, b:-b, c].astype(float), hr[b:-b, b:-b, c].astype(float))
                   for c in range(3)]
    assert ssim(sr, hr, border=b, y_channel=False) == pytest.approx(np.mean(per_channel), abs=1e-10)


def test_ssim_too_small():
    with pytest.raises(ValueError, match="11x11"):
        ssim(np.zeros((16, 16, 3), np.uint8), np.zeros((16, 16, 3), np.uint8), border=4)


# --------------------------------------------------------------------------- full-range Y (the pitfall)
def test_rgb_to_y_full_range_values_and_pil():
    from PIL import Image

    px = np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255], [128, 64, 32]], np.uint8)
    np.testing.assert_allclose(rgb_to_y(px, full_range=True),
                               [0.0, 255.0, 76.245, 149.685, 29.07, 0.299 * 128 + 0.587 * 64 + 0.114 * 32],
                               atol=1e-9)
    assert rgb_to_y(np.array([128, 64, 32], np.uint8), full_range=True) == pytest.approx(79.488, abs=1e-9)  # 38.272 + 37.568 + 3.648
    # against PIL's convert("L") on all 2**24 colours: within 0.501 unrounded; rounded, off by one
    # grey level on 0.057% of them (PIL's 16-bit fixed-point coefficients), equal elsewhere
    v = np.arange(256, dtype=np.uint8)
    img = np.stack(np.meshgrid(v, v, v, indexing="ij"), -1).reshape(4096, 4096, 3)
    pil = np.asarray(Image.fromarray(img).convert("L")).astype(np.int64)
    y = rgb_to_y(img, full_range=True)
    assert np.abs(pil - y).max() < 0.502
    diff = pil - rgb_to_y(img, round=True, full_range=True).astype(np.int64)
    assert np.abs(diff).max() == 1 and 0.0004 < np.mean(diff != 0) < 0.0007
    # studio range is the full range squeezed into 16..235
    np.testing.assert_allclose(rgb_to_y(img[::7, ::7]) - 16, rgb_to_y(img[::7, ::7], full_range=True) * 219 / 255,
                               atol=1e-9)


def test_psnr_full_range_is_exactly_1_32_db_lower(rng):
    hr = rng.integers(0, 256, size=(40, 36, 3), dtype=np.uint8)
    sr = np.clip(np.rint(hr + rng.normal(0, 12, hr.shape)), 0, 255).astype(np.uint8)
    gap = psnr(sr, hr) - psnr(sr, hr, y_range="full")
    assert gap == pytest.approx(20 * math.log10(255 / 219), abs=1e-12) and gap == pytest.approx(1.3219, abs=1e-4)
    # the same number as computing PSNR on full-range Y planes by hand
    assert psnr(sr, hr, y_range="full") == pytest.approx(
        psnr(rgb_to_y(sr, full_range=True), rgb_to_y(hr, full_range=True)), abs=1e-12)
    # PIL's rounded 8-bit luma gives nearly the same PSNR (rounding noise only)
    from PIL import Image
    luma = lambda im: np.asarray(Image.fromarray(im).convert("L"))  # noqa: E731
    assert psnr(luma(sr), luma(hr)) == pytest.approx(psnr(sr, hr, y_range="full"), abs=0.05)
    s_full, s_studio = ssim(sr, hr, y_range="full"), ssim(sr, hr)
    assert s_full == pytest.approx(ssim(rgb_to_y(sr, full_range=True), rgb_to_y(hr, full_range=True)), abs=1e-12)
    assert s_full != s_studio and abs(s_full - s_studio) < 0.02
    # y_range has no effect without Y conversion, and bad values are refused
    assert psnr(sr, hr, y_channel=False, y_range="full") == psnr(sr, hr, y_channel=False)
    with pytest.raises(ValueError, match="y_range"):
        psnr(sr, hr, y_range="pc")
    with pytest.raises(ValueError, match="y_range"):
        ssim(sr, hr, y_range="limited")


def test_protocol_variants_are_psnr_keywords(rng):
    from srgan_lib.metrics import PROTOCOL_VARIANTS

    hr = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    sr = np.clip(hr.astype(int) + 5, 0, 255).astype(np.uint8)
    vals = {k: psnr(sr, hr, **kw) for k, kw in PROTOCOL_VARIANTS.items()}
    assert len(vals) == 4 and vals["protocol: studio-range Y, 4-px crop"] == psnr(sr, hr)
    assert vals["full-range Y (JPEG/PIL 'L'), 4-px crop"] == pytest.approx(
        vals["protocol: studio-range Y, 4-px crop"] - 20 * math.log10(255 / 219), abs=1e-9)
    for kw in PROTOCOL_VARIANTS.values():
        assert np.isfinite(ssim(sr, hr, **kw))


@pytest.mark.needs_data
def test_full_range_pitfall_on_set5(data_dir):
    from srgan_lib import degrade, evaluate

    pairs = [(hr, degrade.upscale_bicubic(degrade.bicubic(hr, 4), 4)) for _, hr in evaluate.load_eval_set(data_dir / "Set5")]
    studio = np.mean([psnr(sr, hr) for hr, sr in pairs])
    full = np.mean([psnr(sr, hr, y_range="full") for hr, sr in pairs])
    assert studio == pytest.approx(28.43, abs=0.01)
    assert studio - full == pytest.approx(1.3219, abs=1e-4)


def test_to_gray_and_single_channel_scoring(rng):
    """Gray images are scored on their gray levels: a replicated gray image's Y compresses every
    difference by 219/255, i.e. adds exactly 20 log10(255/219) dB (the Set14 `bridge` question)."""
    from srgan_lib.metrics import to_gray

    g = rng.integers(0, 256, size=(30, 26), dtype=np.uint8)
    noisy = np.clip(g.astype(int) + rng.integers(-9, 10, size=g.shape), 0, 255).astype(np.uint8)
    rep = lambda x: np.repeat(x[:, :, None], 3, axis=2)  # noqa: E731
    np.testing.assert_array_equal(to_gray(rep(g)), g)  # equal channels: exactly that channel
    np.testing.assert_array_equal(to_gray(g[:, :, None]), g)
    assert to_gray(g).dtype == np.float64
    assert psnr(rep(noisy), rep(g)) - psnr(noisy, g) == pytest.approx(20 * math.log10(255 / 219), abs=1e-12)
    assert psnr(to_gray(rep(g)), to_gray(rep(g))) == float("inf")
    colour = rng.integers(0, 256, size=(30, 26, 3), dtype=np.uint8)
    np.testing.assert_allclose(to_gray(colour), colour @ np.array([0.299, 0.587, 0.114]), atol=1e-12)
    np.testing.assert_array_equal(to_gray(colour), rgb_to_y(colour, full_range=True))
    with pytest.raises(ValueError, match="to_gray"):
        to_gray(np.zeros((4, 4, 2)))
