"""Tests for srgan_lib.teaching.ssim_terms: the three SSIM terms multiply to the benchmark SSIM of
srgan_lib.metrics.ssim, each term is at most 1 and exactly 1 for identical images."""
import numpy as np
import pytest

from srgan_lib import metrics
from srgan_lib.errors import UserError
from srgan_lib.teaching.ssim_terms import ssim_terms


@pytest.fixture
def pair(rng):
    hr = rng.integers(0, 256, (48, 40, 3), dtype=np.uint8)
    noisy = np.clip(hr.astype(int) + rng.integers(-30, 31, hr.shape), 0, 255).astype(np.uint8)
    return noisy, hr


def test_mean_of_the_map_is_the_benchmark_ssim(pair):
    sr, hr = pair
    for border in (0, 4):
        t = ssim_terms(sr, hr, border=border)
        assert t.means()["ssim"] == pytest.approx(metrics.ssim(sr, hr, border=border), abs=1e-12)
        assert t.ssim.shape == (48 - 2 * border - 10, 40 - 2 * border - 10)
    gray_sr, gray_hr = sr[:, :, 0], hr[:, :, 0]
    assert ssim_terms(gray_sr, gray_hr).means()["ssim"] == pytest.approx(metrics.ssim(gray_sr, gray_hr), abs=1e-12)


def test_the_product_of_the_terms_is_ssim_and_each_is_at_most_one(pair):
    t = ssim_terms(*pair)
    np.testing.assert_allclose(t.luminance * t.contrast * t.structure, t.ssim, rtol=1e-9, atol=1e-12)
    for m in (t.luminance, t.contrast):
        assert np.all(m <= 1 + 1e-12) and np.all(m > 0)
    assert np.all(np.abs(t.structure) <= 1 + 1e-9)


def test_identical_images_and_pure_changes(pair):
    _, hr = pair
    same = ssim_terms(hr, hr).means()
    assert all(v == pytest.approx(1.0, abs=1e-12) for v in same.values())
    brighter = np.clip(hr.astype(int) + 40, 0, 255).astype(np.uint8)
    flat = np.full_like(hr, 128)
    b, f = ssim_terms(brighter, hr).means(), ssim_terms(flat, hr).means()
    assert b["luminance"] < 1 and b["luminance"] < b["contrast"]   # a shift mostly costs luminance
    # a flat image has no contrast; its structure term is C3 / C3 = 1: SSIM's structure ignores flat patches
    assert f["contrast"] < 0.2 and f["structure"] == pytest.approx(1.0, abs=1e-9)
    with pytest.raises(UserError, match="shape mismatch"):
        ssim_terms(hr, hr[:-1])
    with pytest.raises(UserError, match="at least 11x11"):
        ssim_terms(hr[:18, :18], hr[:18, :18])
