"""PSNR and SSIM with the SR-benchmark protocol.

Ledig et al. (2017), Sec. 3.1: "PSNR [dB] and SSIM are calculated on the
y-channel of center-cropped, removal of a 4-pixel wide strip from each border
images."  The Y channel is MATLAB's ``rgb2ycbcr`` (ITU-R BT.601, studio range):

    Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255      for R, G, B in 0..255

(equivalently ``16 + 65.481 R + 128.553 G + 24.966 B`` for R, G, B in [0, 1]),
so Y lies in 16..235.  :func:`rgb_to_y` returns it in float64 **without rounding**
(MATLAB's ``rgb2ycbcr`` on a uint8 image would round to uint8; the reference
numbers of this project are computed on the unrounded Y; pass ``round=True``
for the rounded variant).

Single-channel images, ``(H, W)`` or ``(H, W, 1)``, are scored on their values as they are: the
literature's MATLAB scripts convert only 3-channel images to Y (``if size(im, 3) == 3``), so a
gray test image (Set14's ``bridge``) is compared on its gray levels, not on the studio-range Y of
its replicated RGB (which would compress the differences by 219/255 and add exactly
``20 log10(255/219)`` dB).  :func:`to_gray` gives the gray levels of a method's RGB output.

``rgb_to_y(img, full_range=True)`` is the *other* BT.601 luma, full range 0..255, as JPEG/JFIF
and PIL's ``Image.convert("L")`` compute it: ``Y' = 0.299 R + 0.587 G + 0.114 B``.  It is NOT the
benchmark protocol; ``psnr``/``ssim(..., y_range="full")`` use it to measure that common pitfall.
Since ``Y_studio - 16 = (219/255) Y_full`` exactly (65.481 = 219 * 0.299, ...), full-range PSNR is
lower than studio-range PSNR by exactly ``20 log10(255/219) = 1.3219`` dB (unrounded Y).
PIL rounds Y' to uint8 with 16-bit fixed-point coefficients
(``(19595 R + 38470 G + 7471 B + 32768) >> 16``), so ``round=True`` can differ from PIL by one
grey level near .5 ties (the test suite measures how often, over all 2**24 colours).

SSIM follows Wang et al., "Image quality assessment: from error visibility to
structural similarity", IEEE TIP 2004: an 11x11 Gaussian window with sigma 1.5,
K1 = 0.01, K2 = 0.03, L = 255, and the mean of the SSIM map over the *valid*
windows only (MATLAB ``ssim_index``: ``filter2(window, img, 'valid')``).
It is computed with ``skimage.metrics.structural_similarity(gaussian_weights=True,
sigma=1.5, use_sample_covariance=False, data_range=255)``: skimage filters with
an 11-tap window (truncate 3.5) and then drops the 5-pixel border of the SSIM
map before averaging, which leaves exactly the valid windows (the test suite
checks this against a direct 'valid' implementation).
"""
from __future__ import annotations

import numpy as np

__all__ = ["rgb_to_y", "to_gray", "psnr", "ssim", "Y_RANGES", "PROTOCOL_VARIANTS"]

_Y_COEFFS = np.array([65.481, 128.553, 24.966]) / 255.0
_Y_COEFFS_FULL = np.array([0.299, 0.587, 0.114])
#: accepted values of ``y_range``: "studio" (the benchmark protocol, MATLAB rgb2ycbcr, 16..235)
#: and "full" (JPEG / PIL ``convert("L")``, 0..255)
Y_RANGES = ("studio", "full")

#: One protocol change per entry, as keyword arguments of :func:`psnr` / :func:`ssim`: the
#: benchmark protocol and the three common mistakes measured in the book's chapter 6.
PROTOCOL_VARIANTS = {
    "protocol: studio-range Y, 4-px crop": {},
    "RGB, 4-px crop": {"y_channel": False},
    "full-range Y (JPEG/PIL 'L'), 4-px crop": {"y_range": "full"},
    "studio-range Y, no crop": {"border": 0},
}


def rgb_to_y(img, round: bool = False, full_range: bool = False) -> np.ndarray:  # noqa: A002
    """BT.601 luma of an RGB image in 0..255 (uint8 or float), as float64.

    ``full_range=False`` (default, the benchmark protocol): studio range 16..235, MATLAB
    ``rgb2ycbcr``, ``Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255``.
    ``full_range=True``: JPEG/PIL luma 0..255, ``Y' = 0.299 R + 0.587 G + 0.114 B``.
    ``img`` is ``(..., 3)``.  ``round=True`` rounds to integers like MATLAB's (or PIL's) uint8 output.
    """
    x = np.asarray(img)
    if x.ndim < 1 or x.shape[-1] != 3:
        raise ValueError(f"rgb_to_y expects an (..., 3) RGB image, got shape {x.shape}")
    if full_range:
        y = x.astype(np.float64) @ _Y_COEFFS_FULL
    else:
        y = 16.0 + x.astype(np.float64) @ _Y_COEFFS
    return np.rint(y) if round else y


def to_gray(img) -> np.ndarray:
    """The gray levels ``(H, W)`` float64 of an image, for scoring it against a gray (single-channel)
    ground truth.

    A ``(H, W)`` or ``(H, W, 1)`` image: its values.  An RGB image whose three channels are equal
    (the bicubic upscale of a gray image replicated to RGB): that channel, exactly.  Any other RGB
    image (a generator's output for a gray input): its BT.601 luma ``0.299 R + 0.587 G + 0.114 B``
    (:func:`rgb_to_y` with ``full_range=True``, the gray level of a colour on the 0..255 scale).
    """
    x = np.asarray(img)
    if x.ndim == 3 and x.shape[2] == 1:
        x = x[:, :, 0]
    if x.ndim == 2:
        return x.astype(np.float64)
    if x.ndim != 3 or x.shape[2] != 3:
        raise ValueError(f"to_gray expects an (H,W), (H,W,1) or (H,W,3) image, got shape {x.shape}")
    if np.array_equal(x[:, :, 0], x[:, :, 1]) and np.array_equal(x[:, :, 0], x[:, :, 2]):
        return x[:, :, 0].astype(np.float64)
    return rgb_to_y(x, full_range=True)


def _full_range(y_range: str, what: str) -> bool:
    if y_range not in Y_RANGES:
        raise ValueError(f"{what}: y_range must be one of {Y_RANGES}, got {y_range!r}")
    return y_range == "full"


def _prepare(sr, hr, border: int, y_channel: bool, what: str,
             y_range: str = "studio") -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(sr), np.asarray(hr)
    if a.shape != b.shape:
        raise ValueError(f"{what}: shape mismatch, sr {a.shape} vs hr {b.shape}")
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (1, 3)):
        raise ValueError(f"{what}: expected (H,W) or (H,W,1|3) images in 0..255, got shape {a.shape}")
    full = _full_range(y_range, what)
    border = int(border)
    if border < 0:
        raise ValueError(f"{what}: border must be >= 0, got {border}")
    if a.ndim == 3 and a.shape[2] == 1:
        a, b = a[:, :, 0], b[:, :, 0]
    if y_channel and a.ndim == 3:
        a, b = rgb_to_y(a, full_range=full), rgb_to_y(b, full_range=full)
    else:
        a, b = a.astype(np.float64), b.astype(np.float64)
    if border:
        if a.shape[0] <= 2 * border or a.shape[1] <= 2 * border:
            raise ValueError(f"{what}: image of shape {np.asarray(sr).shape} is too small for border {border}")
        a, b = a[border:-border, border:-border], b[border:-border, border:-border]
    return a, b


def psnr(sr, hr, border: int = 4, y_channel: bool = True, y_range: str = "studio") -> float:
    """PSNR in dB (peak 255) of ``sr`` against ``hr`` (Ledig et al. 2017, Sec. 3.1).

    Inputs are uint8 or 0..255 float, ``(H,W,3)`` RGB or ``(H,W)`` single-channel.
    With ``y_channel=True`` (default) RGB is converted to Y (:func:`rgb_to_y`); with
    ``y_channel=False`` the MSE is taken over all pixels and channels together.
    ``border`` pixels are removed from each side first.  Identical images give ``inf``.
    ``y_range="full"`` uses full-range (JPEG/PIL) luma instead of the protocol's studio range:
    exactly 1.3219 dB lower (see the module docstring); for measuring that pitfall only.
    """
    a, b = _prepare(sr, hr, border, y_channel, "psnr", y_range)
    mse = float(np.mean((a - b) ** 2))
    if mse == 0:
        return float("inf")
    return float(10.0 * np.log10(255.0 ** 2 / mse))


def ssim(sr, hr, border: int = 4, y_channel: bool = True, y_range: str = "studio") -> float:
    """SSIM of Wang et al. (2004) with the benchmark protocol (Ledig et al. 2017, Sec. 3.1).

    11x11 Gaussian window (sigma 1.5), K1=0.01, K2=0.03, L=255, mean over the valid
    windows, computed after removing ``border`` pixels from each side.  With
    ``y_channel=True`` (default) RGB is converted to Y; with ``y_channel=False`` SSIM is
    computed per channel and the three values are averaged.  The cropped image must be
    at least 11x11.  ``y_range="full"``: full-range (JPEG/PIL) luma, the pitfall (C1, C2 stay
    relative to L = 255, so SSIM changes too, slightly).
    """
    from skimage.metrics import structural_similarity

    a, b = _prepare(sr, hr, border, y_channel, "ssim", y_range)
    if a.shape[0] < 11 or a.shape[1] < 11:
        raise ValueError(f"ssim: need at least 11x11 pixels after the border crop, got {a.shape[:2]}")
    kwargs = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255.0,
                  K1=0.01, K2=0.03)
    if a.ndim == 3:
        return float(np.mean([structural_similarity(a[:, :, c], b[:, :, c], **kwargs)
                              for c in range(a.shape[2])]))
    return float(structural_similarity(a, b, **kwargs))
