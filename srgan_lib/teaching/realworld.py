"""A simple "real-world" degradation of an LR image: Gaussian noise, then JPEG (chapter 7).

The benchmark LR image is a clean bicubic downscale (Ledig et al., Sec. 3.2), and so is every
training pair of the shipped generators.  Photographs that people want to enlarge are not: they
carry sensor noise and compression artefacts.  Real-ESRGAN (Wang et al., ICCV Workshops 2021) writes
the classical degradation as

    x = [ (y * k) downsampled by r  +  n ]_JPEG

(blur k, downsampling, additive noise n, JPEG compression) and applies it twice ("high-order"
degradation); BSRGAN (Zhang et al., ICCV 2021) shuffles blur, downsampling and noise steps at random.
:func:`noisy_jpeg` is the last two steps of that model, applied to an LR image, with fixed and
documented parameters, so that a chapter can show what generators trained on clean bicubic LR do
with such an input:

1. add i.i.d. Gaussian noise of standard deviation ``noise_sigma`` grey levels (0..255 scale) to every
   channel of every pixel (``numpy.random.default_rng(seed).normal``), round to integers and clip to
   0..255;
2. encode the result as a baseline JPEG with Pillow at ``quality`` (1..95) with 4:2:0 chroma
   subsampling (the usual setting of cameras and the web), decode it, and return the RGB pixels.

``noise_sigma=0`` skips step 1, ``quality=None`` skips step 2.
"""
from __future__ import annotations

import io

import numpy as np

from srgan_lib.errors import UserError

__all__ = ["noisy_jpeg", "add_gaussian_noise", "jpeg_roundtrip", "NOISE_SIGMA", "JPEG_QUALITY"]

#: the chapter's default noise level (grey levels of 0..255) and JPEG quality
NOISE_SIGMA = 8.0
JPEG_QUALITY = 75


def _check_rgb_uint8(img, what: str) -> np.ndarray:
    x = np.asarray(img)
    if x.dtype != np.uint8 or x.ndim != 3 or x.shape[2] != 3:
        raise UserError(f"{what} expects an RGB uint8 image (H, W, 3), got {x.dtype} {x.shape}")
    return x


def add_gaussian_noise(img_uint8, sigma: float, seed: int = 0) -> np.ndarray:
    """``clip(round(img + N(0, sigma^2)), 0, 255)`` as uint8, one draw per pixel and channel."""
    x = _check_rgb_uint8(img_uint8, "add_gaussian_noise")
    sigma = float(sigma)
    if not np.isfinite(sigma) or sigma < 0:
        raise UserError(f"noise sigma must be a non-negative number of grey levels, got {sigma!r}")
    if sigma == 0:
        return x.copy()
    noise = np.random.default_rng(seed).normal(0.0, sigma, x.shape)
    return np.clip(np.rint(x + noise), 0, 255).astype(np.uint8)


def jpeg_roundtrip(img_uint8, quality: int) -> np.ndarray:
    """Encode as JPEG with Pillow (``quality``, 4:2:0 subsampling) and decode: the RGB uint8 pixels."""
    from PIL import Image

    x = _check_rgb_uint8(img_uint8, "jpeg_roundtrip")
    if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)) or not 1 <= quality <= 95:
        raise UserError(f"JPEG quality must be an integer in 1..95, got {quality!r}")
    buf = io.BytesIO()
    Image.fromarray(x, "RGB").save(buf, format="JPEG", quality=int(quality), subsampling="4:2:0")
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("RGB"))


def noisy_jpeg(lr_uint8, noise_sigma: float = NOISE_SIGMA, quality: int | None = JPEG_QUALITY,
               seed: int = 0) -> np.ndarray:
    """The degradation of the module docstring: Gaussian noise (``noise_sigma`` grey levels), then a
    JPEG round trip at ``quality``; deterministic for a given ``seed``.  Same shape, uint8."""
    x = add_gaussian_noise(lr_uint8, noise_sigma, seed)
    return x if quality is None else jpeg_roundtrip(x, quality)
