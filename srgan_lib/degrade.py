"""MATLAB-compatible bicubic resizing and the LR degradations.

Ledig et al. (2017), Sec. 3: "We obtained the LR images by downsampling the HR
images using bicubic kernel with downsampling factor r = 4."  The benchmark
numbers of the SR literature (and the paper's Table 1/2) use MATLAB's
``imresize(img, 1/4, 'bicubic')``, whose output is not PIL's, OpenCV's or Keras'
bicubic resize (chapter 1 of the book measures the difference), so :func:`imresize`
re-implements MATLAB's algorithm exactly:

* Keys' cubic kernel with ``a = -0.5``;
* when downscaling (``scale < 1``) the kernel is stretched by ``1/scale`` and
  scaled by ``scale`` (antialiasing), e.g. 16 non-zero taps for x4;
* output pixel ``x`` (1-based) samples input coordinate
  ``u = x/scale + 0.5*(1 - 1/scale)``, and the weights of each output pixel are
  normalised to sum to 1;
* out-of-range taps are mirrored symmetrically (``... 2 1 | 1 2 3 ... n | n n-1 ...``),
  as MATLAB's ``contributions`` does.

Resizing is separable and linear, so each axis is a ``(out, in)`` weight matrix
(cached); a batch ``(N, H, W, C)`` is resized with two matrix products.

The degradation of the seed blog (a Gaussian blur with sigma 1.5 before the
bicubic x4 downscale) is :func:`gaussian_bicubic`.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from srgan_lib.errors import UserError

DEGRADATIONS = ("bicubic", "gaussian_bicubic")

#: Gaussian blur used by ``gaussian_bicubic``: scipy.ndimage.gaussian_filter with this
#: truncate (radius = round(4 * sigma), i.e. 6 pixels for sigma 1.5) and border mode
#: ("reflect" = symmetric, d c b a | a b c d, the same convention as imresize's mirror).
GAUSSIAN_TRUNCATE = 4.0
GAUSSIAN_MODE = "reflect"

__all__ = ["DEGRADATIONS", "check_scale", "imresize", "resize_weights", "modcrop", "bicubic", "gaussian_bicubic",
           "degrade", "upscale_bicubic", "upscale_nearest"]


def _cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB's ``cubic``)."""
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    return ((1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1)
            + (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * ((ax > 1) & (ax <= 2)))


@functools.lru_cache(maxsize=256)
def resize_weights(in_length: int, out_length: int, scale: float) -> np.ndarray:
    """The ``(out_length, in_length)`` float64 matrix of MATLAB's bicubic ``imresize`` along one axis.

    ``scale`` is MATLAB's scale factor (``out/in``, e.g. 0.25 for a x4 downscale).  The result is
    cached and read-only; ``resize_weights(...) @ column`` resizes a column like MATLAB.
    """
    in_length, out_length, scale = int(in_length), int(out_length), float(scale)
    if in_length < 1 or out_length < 1 or not scale > 0:
        raise ValueError(f"invalid resize: {in_length} -> {out_length} pixels at scale {scale}")
    kernel_width = 4.0
    if scale < 1:  # antialiasing: widen the kernel by 1/scale
        def h(x):
            return scale * _cubic(scale * x)
        kernel_width = kernel_width / scale
    else:
        h = _cubic
    x = np.arange(1, out_length + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)
    left = np.floor(u - kernel_width / 2.0)
    p = int(math.ceil(kernel_width)) + 2
    ind = left[:, None] + np.arange(p, dtype=np.float64)[None, :]  # 1-based input indices
    w = h(u[:, None] - ind)
    w = w / w.sum(axis=1, keepdims=True)
    # symmetric mirroring of out-of-range indices: aux = [1..n, n..1]
    aux = np.concatenate([np.arange(in_length), np.arange(in_length - 1, -1, -1)])
    idx = aux[np.mod(ind.astype(np.int64) - 1, 2 * in_length)]
    mat = np.zeros((out_length, in_length), dtype=np.float64)
    rows = np.repeat(np.arange(out_length), p)
    np.add.at(mat, (rows, idx.ravel()), w.ravel())
    mat.setflags(write=False)
    return mat


def _hw_axes(ndim: int) -> tuple[int, int]:
    if ndim in (2, 3):
        return 0, 1
    if ndim == 4:
        return 1, 2
    raise ValueError(f"expected an (H,W), (H,W,C) or (N,H,W,C) array, got {ndim} dimensions")


def _output_shape(h: int, w: int, scale, output_shape) -> tuple[tuple[int, int], tuple[float, float]]:
    if (scale is None) == (output_shape is None):
        raise ValueError("give exactly one of scale and output_shape")
    if scale is not None:
        scale = float(scale)
        if not scale > 0:
            raise ValueError(f"scale must be positive, got {scale}")
        # MATLAB: output size ceil(scale * input size); the kernel uses the given scale.
        return (int(math.ceil(h * scale - 1e-9)), int(math.ceil(w * scale - 1e-9))), (scale, scale)
    oh, ow = (int(v) for v in output_shape)
    if oh < 1 or ow < 1:
        raise ValueError(f"output_shape must be positive, got {tuple(output_shape)}")
    return (oh, ow), (oh / h, ow / w)


def _apply_h(mat: np.ndarray, x: np.ndarray, axis: int) -> np.ndarray:
    """Multiply axis ``axis`` (0 or 1 = the H axis, followed by W[,C]) by ``mat``."""
    lead = x.shape[:axis]
    n = x.shape[axis]
    rest = x.shape[axis + 1:]
    y = mat @ x.reshape(lead + (n, -1))  # (..., out, W*C): one (batched) GEMM
    return y.reshape(lead + (mat.shape[0],) + rest)


def _apply_w(mat: np.ndarray, x: np.ndarray, axis: int) -> np.ndarray:
    """Multiply axis ``axis`` (the W axis, last or followed by C) by ``mat``."""
    if axis == x.ndim - 1:
        return x @ mat.T
    # (..., W, C): contract W with a single tensordot (one GEMM), then move the axis back
    y = np.tensordot(x, mat, axes=([axis], [1]))  # (..., C, out)
    return np.ascontiguousarray(np.moveaxis(y, -1, axis))


def imresize(img, scale=None, output_shape=None) -> np.ndarray:
    """MATLAB ``imresize(img, scale, 'bicubic')`` (antialiased), float64 output, no rounding.

    ``img`` is ``(H,W)``, ``(H,W,C)`` or ``(N,H,W,C)``, any real dtype (uint8 is used as 0..255);
    the H and W axes are resized.  Give ``scale`` (output size ``ceil(scale * size)``, e.g. 0.25
    for the x4 downscale of Ledig et al., Sec. 3) or ``output_shape=(out_h, out_w)``.
    """
    x = np.asarray(img)
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool) or np.iscomplexobj(x):
        raise ValueError(f"imresize needs a real-valued array, got dtype {x.dtype}")
    x = x.astype(np.float64, copy=False)
    ah, aw = _hw_axes(x.ndim)
    h, w = x.shape[ah], x.shape[aw]
    (oh, ow), (sh, sw) = _output_shape(h, w, scale, output_shape)
    y = x
    if (oh, sh) != (h, 1.0):
        y = _apply_h(resize_weights(h, oh, sh), y, ah)
    if (ow, sw) != (w, 1.0):
        y = _apply_w(resize_weights(w, ow, sw), y, aw)
    if y is x:
        y = x.copy()
    return y


def modcrop(img, scale: int) -> np.ndarray:
    """Crop H and W down to multiples of ``scale`` (bottom/right rows and columns are dropped)."""
    x = np.asarray(img)
    scale = int(scale)
    if scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale}")
    ah, aw = _hw_axes(x.ndim)
    h, w = x.shape[ah] - x.shape[ah] % scale, x.shape[aw] - x.shape[aw] % scale
    if h == 0 or w == 0:
        raise ValueError(f"image of shape {x.shape} is smaller than the scale factor {scale}")
    index = [slice(None)] * x.ndim
    index[ah], index[aw] = slice(0, h), slice(0, w)
    return x[tuple(index)]


def _round_to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _check_uint8(img, what: str) -> np.ndarray:
    x = np.asarray(img)
    if x.dtype != np.uint8:
        raise ValueError(f"{what} expects a uint8 image, got dtype {x.dtype}")
    return x


def check_scale(scale) -> int:
    """``scale`` as an int; anything but a positive integer is a :class:`UserError` (a ValueError)."""
    if int(scale) != scale or int(scale) < 1:
        raise UserError(f"scale must be a positive integer, got {scale!r}")
    return int(scale)


def _check_divisible(x: np.ndarray, scale: int) -> None:
    ah, aw = _hw_axes(x.ndim)
    if x.shape[ah] % scale or x.shape[aw] % scale:
        raise ValueError(f"image of shape {x.shape} is not divisible by the scale {scale}; "
                         f"apply modcrop(img, {scale}) first")


def bicubic(hr_uint8, scale: int = 4) -> np.ndarray:
    """LR image of Ledig et al. (2017), Sec. 3: MATLAB bicubic x``scale`` downscale, rounded to uint8.

    ``hr_uint8`` must be divisible by ``scale`` (see :func:`modcrop`); works on batches too.
    """
    x = _check_uint8(hr_uint8, "bicubic")
    scale = check_scale(scale)
    _check_divisible(x, scale)
    return _round_to_uint8(imresize(x, scale=1.0 / scale))


def gaussian_bicubic(hr_uint8, scale: int = 4, sigma: float = 1.5) -> np.ndarray:
    """The seed blog's degradation: Gaussian blur (sigma 1.5) then MATLAB bicubic downscale, uint8.

    The blur is ``scipy.ndimage.gaussian_filter`` over H and W only, in float64, with
    ``truncate=4.0`` (a 13-tap kernel for sigma 1.5) and ``mode="reflect"`` (symmetric border).
    (The blog itself used PIL's ``GaussianBlur(1.5)``, a box-filter approximation.)
    """
    from scipy.ndimage import gaussian_filter

    x = _check_uint8(hr_uint8, "gaussian_bicubic")
    scale = check_scale(scale)
    _check_divisible(x, scale)
    ah, aw = _hw_axes(x.ndim)
    sig = [0.0] * x.ndim
    sig[ah] = sig[aw] = float(sigma)
    blurred = gaussian_filter(x.astype(np.float64), sigma=sig, mode=GAUSSIAN_MODE, truncate=GAUSSIAN_TRUNCATE)
    return _round_to_uint8(imresize(blurred, scale=1.0 / scale))


def degrade(hr_uint8, scale: int = 4, kind: str = "bicubic") -> np.ndarray:
    """Apply the named degradation (one of :data:`DEGRADATIONS`) to a uint8 HR image."""
    if kind == "bicubic":
        return bicubic(hr_uint8, scale)
    if kind == "gaussian_bicubic":
        return gaussian_bicubic(hr_uint8, scale)
    raise UserError(f"unknown degradation {kind!r}; choose one of {', '.join(DEGRADATIONS)}")


def upscale_bicubic(lr_uint8, scale: int = 4) -> np.ndarray:
    """The bicubic baseline: MATLAB bicubic x``scale`` upscale, rounded to uint8."""
    x = _check_uint8(lr_uint8, "upscale_bicubic")
    return _round_to_uint8(imresize(x, scale=check_scale(scale)))


def upscale_nearest(lr_uint8, scale: int = 4) -> np.ndarray:
    """The nearest-neighbour baseline (each LR pixel becomes a ``scale`` x ``scale`` block)."""
    x = _check_uint8(lr_uint8, "upscale_nearest")
    scale = check_scale(scale)
    ah, aw = _hw_axes(x.ndim)
    return np.repeat(np.repeat(x, scale, axis=ah), scale, axis=aw)
