"""What an SR image adds that its LR input does not support: LR consistency and sub-pixel artefact energy.

PSNR and SSIM against HR measure distortion; a GAN generator is *meant* to move away from HR in
texture. Two of its failures can still be measured without a human rater:

* **LR consistency** (:func:`lr_consistency`). A super-resolved image ``SR`` should explain its input:
  degraded by the benchmark's own degradation ``D`` (x``s`` MATLAB bicubic, :func:`srgan_lib.degrade.
  degrade`), it should give back ``LR``. The PSNR of ``D(SR)`` against ``LR`` (RGB, 0..255) and the
  per-channel mean offset ``mean(D(SR)) - mean(LR)`` show what the generator changed that survives the
  x``s`` low-pass: a colour cast, a brightness drift, moved edges. A colour cast shows in the offsets
  even where the Y-channel PSNR of the benchmark protocol barely moves. Zero-mean high-frequency detail
  (texture, speckle, a grid) mostly vanishes in the downscale, so this measure hardly sees it. HR itself
  scores ``D(HR) = LR`` exactly, so the perfect value is an infinite PSNR and zero offsets.
* **Sub-pixel artefact energy** (:func:`artefact_energy`). Pixel shuffle (Shi et al. 2016) builds every
  output pixel of an ``s x s`` block from a different group of channels; a generator whose groups
  disagree stamps a pattern of period ``s`` on the image, the "checkerboard" or grid (Odena et al. 2016;
  Aitken et al. 2017). A pattern of period ``s`` in both axes has all its energy at the spatial frequencies
  ``(k/s, l/s)`` cycles per pixel, ``0 <= k, l < s`` (the x2 stage's pattern at the multiples of 1/2 is
  among them). The measure is the energy of the SR image's DFT at those frequencies (DC left out), summed
  over RGB, divided by the HR image's energy there: 1 is "as much as the real image has", more is energy
  the generator added at exactly the frequencies its upsampling imprints. (A nearest-neighbour upscale
  scores 0: a box of ``s`` pixels has zeros at those frequencies.) The ratio is sensitive by design:
  natural images have little energy there, so a faint pattern of a few grey levels already gives many
  times HR's energy, while white noise of the same strength adds little (its energy is spread over all
  frequencies).

Both take uint8 images (``(H, W, 3)``; HR and SR the same size, LR ``s`` times smaller) and work in
numpy: they are evaluation measures, not losses.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from srgan_lib.degrade import degrade
from srgan_lib.errors import UserError

__all__ = ["LRConsistency", "lr_consistency", "artefact_frequencies", "artefact_energy"]


class LRConsistency(NamedTuple):
    """``psnr``: dB of ``D(SR)`` against ``LR`` over RGB (``inf`` when equal); ``offset``: the mean of
    ``D(SR) - LR`` per channel (R, G, B) in 0..255 levels; ``offset_max``: the largest of their
    absolute values."""

    psnr: float
    offset: tuple[float, float, float]
    offset_max: float


def _rgb_uint8(x, what: str) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3:
        raise UserError(f"{what} must be a uint8 (H, W, 3) image, got {a.dtype} {a.shape}")
    return a


def lr_consistency(sr, lr, scale: int = 4, degradation: str = "bicubic") -> LRConsistency:
    """Degrade ``sr`` as the benchmark degraded HR (``degradation``, x``scale``) and compare with ``lr``."""
    sr, lr = _rgb_uint8(sr, "sr"), _rgb_uint8(lr, "lr")
    if sr.shape[:2] != (lr.shape[0] * scale, lr.shape[1] * scale):
        raise UserError(f"sr {sr.shape[:2]} is not {scale} x lr {lr.shape[:2]}")
    back = degrade(sr, scale, degradation).astype(np.float64)
    diff = back - lr.astype(np.float64)
    mse = float(np.mean(diff ** 2))
    psnr = math.inf if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)
    offset = tuple(float(v) for v in diff.reshape(-1, 3).mean(axis=0))
    return LRConsistency(psnr, offset, max(abs(v) for v in offset))


def artefact_frequencies(height: int, width: int, scale: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the DFT bins at ``(k/scale, l/scale)`` cycles per pixel, DC excluded;
    ``height`` and ``width`` must be multiples of ``scale`` so that the frequencies fall on bins."""
    if height % scale or width % scale:
        raise UserError(f"artefact_energy: the image ({height}x{width}) must be a multiple of the scale {scale}")
    ky = np.arange(scale) * (height // scale)
    kx = np.arange(scale) * (width // scale)
    rows, cols = np.meshgrid(ky, kx, indexing="ij")
    keep = (rows != 0) | (cols != 0)
    return rows[keep], cols[keep]


def _grid_energy(img: np.ndarray, scale: int) -> float:
    x = img.astype(np.float64)
    rows, cols = artefact_frequencies(x.shape[0], x.shape[1], scale)
    spectrum = np.fft.fft2(x, axes=(0, 1))
    return float(np.sum(np.abs(spectrum[rows, cols, :]) ** 2))


def artefact_energy(sr, hr, scale: int = 4) -> float:
    """``E(SR) / E(HR)``: the spectral energy at the pixel-shuffle frequencies of ``sr`` relative to
    ``hr``'s (module docstring); ``nan`` when neither has any, ``inf`` when only the SR image has."""
    sr, hr = _rgb_uint8(sr, "sr"), _rgb_uint8(hr, "hr")
    if sr.shape != hr.shape:
        raise UserError(f"sr {sr.shape} and hr {hr.shape} differ in size")
    e_sr, e_hr = _grid_energy(sr, scale), _grid_energy(hr, scale)
    if e_hr == 0:
        return math.nan if e_sr == 0 else math.inf
    return e_sr / e_hr
