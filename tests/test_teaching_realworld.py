"""Tests for srgan_lib.teaching.realworld: the Gaussian noise (its statistics, rounding, clipping,
determinism), the JPEG round trip (Pillow's own decoder agrees; quality orders the error) and their
composition."""
import io

import numpy as np
import pytest


def _image(h=48, w=40, seed=0):
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([yy * 4, xx * 5, (yy + xx) * 2], -1) + 20
    img = img + np.random.default_rng(seed).normal(0, 6, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def test_gaussian_noise_has_the_requested_spread_and_is_deterministic():
    from srgan_lib.teaching.realworld import add_gaussian_noise
    flat = np.full((200, 200, 3), 128, np.uint8)
    noisy = add_gaussian_noise(flat, 5.0, seed=1)
    diff = noisy.astype(np.float64) - 128
    assert noisy.dtype == np.uint8 and noisy.shape == flat.shape
    assert abs(diff.mean()) < 0.05 and diff.std() == pytest.approx(np.sqrt(25 + 1 / 12), rel=0.02)
    np.testing.assert_array_equal(noisy, add_gaussian_noise(flat, 5.0, seed=1))
    assert not np.array_equal(noisy, add_gaussian_noise(flat, 5.0, seed=2))
    want = np.clip(np.rint(128 + np.random.default_rng(1).normal(0, 5.0, flat.shape)), 0, 255)
    np.testing.assert_array_equal(noisy, want)
    np.testing.assert_array_equal(add_gaussian_noise(flat, 0.0), flat)
    extremes = add_gaussian_noise(np.array([[[0, 255, 0]]], np.uint8), 50.0, seed=0)
    assert extremes.min() >= 0 and extremes.max() <= 255


def test_jpeg_roundtrip_is_pillows_and_quality_orders_the_error():
    from PIL import Image

    from srgan_lib.teaching.realworld import jpeg_roundtrip
    img = _image()
    out = jpeg_roundtrip(img, 50)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=50, subsampling=2)
    np.testing.assert_array_equal(out, np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")))
    errors = [np.mean((jpeg_roundtrip(img, q).astype(float) - img) ** 2) for q in (10, 50, 95)]
    assert errors[0] > errors[1] > errors[2] > 0


def test_noisy_jpeg_composes_the_two_steps_and_checks_its_input():
    from srgan_lib.errors import UserError
    from srgan_lib.teaching.realworld import add_gaussian_noise, jpeg_roundtrip, noisy_jpeg
    img = _image()
    np.testing.assert_array_equal(noisy_jpeg(img, 3.0, 40, seed=5),
                                  jpeg_roundtrip(add_gaussian_noise(img, 3.0, seed=5), 40))
    np.testing.assert_array_equal(noisy_jpeg(img, 3.0, None, seed=5), add_gaussian_noise(img, 3.0, seed=5))
    np.testing.assert_array_equal(noisy_jpeg(img, 0.0, None), img)
    with pytest.raises(UserError, match="RGB uint8"):
        noisy_jpeg(img.astype(np.float32))
    with pytest.raises(UserError, match="RGB uint8"):
        noisy_jpeg(img[..., 0])
    with pytest.raises(UserError, match="non-negative"):
        noisy_jpeg(img, -1.0)
    for q in (0, 96, 50.0, True):
        with pytest.raises(UserError, match="1..95"):
            noisy_jpeg(img, 1.0, q)
