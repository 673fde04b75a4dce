"""SSIM taken apart: its luminance, contrast and structure terms (Wang et al. 2004, Eqs. 6, 9, 10, 12).

For local means ``mu``, variances ``sigma^2`` and covariance ``sigma_xy`` (Gaussian window, sigma 1.5,
11 taps) and the constants ``C1 = (K1 L)^2``, ``C2 = (K2 L)^2``, ``C3 = C2 / 2``:

    l = (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1)              luminance
    c = (2 sigma_x sigma_y + C2) / (sigma_x^2 + sigma_y^2 + C2)   contrast
    s = (sigma_xy + C3) / (sigma_x sigma_y + C3)                  structure

and ``SSIM = l * c * s``, which with ``C3 = C2 / 2`` is the familiar one-line formula (``c * s`` =
``(2 sigma_xy + C2) / (sigma_x^2 + sigma_y^2 + C2)``).  :func:`ssim_terms` computes the three maps
with the same filter as :func:`srgan_lib.metrics.ssim` (scikit-image's: ``scipy.ndimage``
Gaussian, truncate 3.5, population covariances, the 5-pixel margin of the map left out), so the
mean of its ``ssim`` map is the benchmark SSIM.  Teaching only: the benchmark uses
:func:`srgan_lib.metrics.ssim`.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from srgan_lib import metrics
from srgan_lib.errors import UserError

__all__ = ["SSIMTerms", "ssim_terms"]

SIGMA, TRUNCATE, K1, K2, L = 1.5, 3.5, 0.01, 0.03, 255.0
MARGIN = int(TRUNCATE * SIGMA + 0.5)  # 5: half the 11-tap window


@dataclasses.dataclass
class SSIMTerms:
    """The maps (valid windows only) of the three terms and of SSIM, with their means."""

    luminance: np.ndarray
    contrast: np.ndarray
    structure: np.ndarray
    ssim: np.ndarray

    def means(self) -> dict[str, float]:
        return {k: float(np.mean(getattr(self, k))) for k in ("luminance", "contrast", "structure", "ssim")}


def _plane(img) -> np.ndarray:
    x = np.asarray(img)
    if x.ndim == 3 and x.shape[2] == 1:
        x = x[:, :, 0]
    if x.ndim == 3 and x.shape[2] == 3:
        return metrics.rgb_to_y(x)
    if x.ndim != 2:
        raise UserError(f"ssim_terms expects (H,W) or (H,W,3) images, got shape {x.shape}")
    return x.astype(np.float64)


def ssim_terms(sr, hr, border: int = 4) -> SSIMTerms:
    """The luminance, contrast and structure maps of SSIM between ``sr`` and ``hr``.

    RGB images are compared on BT.601 studio-range Y (:func:`srgan_lib.metrics.rgb_to_y`), gray
    ones on their values; ``border`` pixels are removed first, as in the benchmark protocol.  The
    mean of ``.ssim`` equals ``metrics.ssim(sr, hr, border=border)``.
    """
    from scipy.ndimage import gaussian_filter

    x, y = _plane(sr), _plane(hr)
    if x.shape != y.shape:
        raise UserError(f"ssim_terms: shape mismatch, sr {x.shape} vs hr {y.shape}")
    if border:
        x, y = x[border:-border, border:-border], y[border:-border, border:-border]
    if min(x.shape) < 2 * MARGIN + 1:
        raise UserError(f"ssim_terms: need at least 11x11 pixels after the border crop, got {x.shape}")

    def blur(a):
        return gaussian_filter(a, sigma=SIGMA, truncate=TRUNCATE)

    mx, my = blur(x), blur(y)
    vx, vy = blur(x * x) - mx * mx, blur(y * y) - my * my
    vxy = blur(x * y) - mx * my
    c1, c2 = (K1 * L) ** 2, (K2 * L) ** 2
    c3 = c2 / 2
    sx, sy = np.sqrt(np.maximum(vx, 0.0)), np.sqrt(np.maximum(vy, 0.0))
    lum = (2 * mx * my + c1) / (mx ** 2 + my ** 2 + c1)
    con = (2 * sx * sy + c2) / (vx + vy + c2)
    struct = (vxy + c3) / (sx * sy + c3)
    full = lum * (2 * vxy + c2) / (vx + vy + c2)
    crop = (slice(MARGIN, -MARGIN), slice(MARGIN, -MARGIN))
    return SSIMTerms(lum[crop], con[crop], struct[crop], full[crop])
