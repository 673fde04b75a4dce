"""Every library's "bicubic" is a different LR image (the book's chapter 1).

:func:`resize_with` makes the x``scale`` LR image the way MATLAB, Pillow, Keras and scikit-image
do; :func:`compare_resizers` measures what that does to the benchmark; :func:`zone_plate` is the
test pattern that shows aliasing.  The benchmark itself always uses MATLAB's
(:func:`srgan_lib.degrade.bicubic`).
"""
from __future__ import annotations

import numpy as np

from srgan_lib.degrade import _check_uint8, _round_to_uint8, check_scale, bicubic, upscale_bicubic
from srgan_lib.errors import UserError
from srgan_lib.metrics import psnr

__all__ = ["RESIZE_LIBRARIES", "resize_with", "compare_resizers", "zone_plate"]

#: libraries whose "bicubic" downscale :func:`resize_with` reproduces
RESIZE_LIBRARIES = ("matlab", "pil", "keras", "keras-antialias", "skimage")


def resize_with(img_uint8, scale: int = 4, library: str = "matlab") -> np.ndarray:
    """The x``scale`` "bicubic" downscale of ``img_uint8`` as another library computes it, uint8.

    The output is ``(H // scale, W // scale, C)``, rounded half-to-even and clipped to uint8.
    ``library``:

    ``"matlab"``
        :func:`srgan_lib.degrade.bicubic` (MATLAB ``imresize(img, 1/scale, 'bicubic')``, Keys
        a=-0.5 stretched by ``scale``, i.e. antialiased; 16 taps at x4).  Needs H, W divisible by scale.
    ``"pil"``
        ``PIL.Image.fromarray(img).resize((W//s, H//s), Image.Resampling.BICUBIC)``: Pillow's
        bicubic, Keys with a = -0.5, also stretched by the scale factor (antialiased); Pillow
        works in 8-bit fixed point per pass and rounds after each of its two passes.
    ``"keras"``
        ``keras.ops.image.resize(x[None], (H//s, W//s), "bicubic")`` on float32 0..255, NOT
        antialiased: the cubic kernel keeps its 4 taps, so it samples the image (aliasing).  With
        the TensorFlow backend this is ``tf.image.resize(method="bicubic")`` (Keys a = -0.5,
        half-pixel centres); other backends (JAX) may differ.
    ``"keras-antialias"``
        the same call with ``antialias=True``: the kernel is stretched by the scale factor, as in
        MATLAB (TensorFlow: ``scale_and_translate`` with Keys' cubic).
    ``"skimage"``
        ``skimage.transform.resize(img, (H//s, W//s), order=3, anti_aliasing=True,
        preserve_range=True)`` on float64: a Gaussian pre-filter with sigma ``(s - 1) / 2``
        (1.5 at x4, ``mode="mirror"``) followed by cubic B-spline interpolation
        (``scipy.ndimage.zoom(order=3, grid_mode=True)``) -- neither Keys' kernel nor its width.
    """
    x = _check_uint8(img_uint8, "resize_with")
    scale = check_scale(scale)
    if x.ndim not in (2, 3):
        raise ValueError(f"resize_with expects an (H,W) or (H,W,C) image, got shape {x.shape}")
    if library not in RESIZE_LIBRARIES:
        raise UserError(f"unknown library {library!r}; choose one of {', '.join(RESIZE_LIBRARIES)}")
    h, w = x.shape[0] // scale, x.shape[1] // scale
    if h < 1 or w < 1:
        raise ValueError(f"image of shape {x.shape} is smaller than the scale factor {scale}")
    if library == "matlab":
        return bicubic(x, scale)
    if library == "pil":
        from PIL import Image

        return np.asarray(Image.fromarray(x).resize((w, h), Image.Resampling.BICUBIC))
    if library == "skimage":
        from skimage.transform import resize

        y = resize(x.astype(np.float64), (h, w) + x.shape[2:], order=3, anti_aliasing=True,
                   preserve_range=True)
        return _round_to_uint8(y)
    import keras

    batch = x.astype(np.float32)[None] if x.ndim == 3 else x.astype(np.float32)[None, :, :, None]
    y = keras.ops.image.resize(batch, (h, w), interpolation="bicubic",
                               antialias=(library == "keras-antialias"))
    y = keras.ops.convert_to_numpy(y)[0]
    return _round_to_uint8(y if x.ndim == 3 else y[:, :, 0])


def compare_resizers(images, scale: int = 4, libraries=None) -> list[dict]:
    """What another library's "bicubic" LR image does to the benchmark.

    For each library of :data:`RESIZE_LIBRARIES` (or ``libraries``) and each ``(name, hr_uint8)``
    of ``images`` (divisible by ``scale``): the LR image :func:`resize_with`, its PSNR against the
    MATLAB LR image (:func:`srgan_lib.degrade.bicubic`; Y channel, 1-pixel border; ``inf`` when
    identical) and the PSNR of its MATLAB-bicubic upscale against HR (the bicubic baseline,
    protocol of :func:`srgan_lib.metrics.psnr`).  Returns one dict per library: ``{"library",
    "lr_psnr", "baseline_psnr", "baseline_diff", "images": [{"name", "lr_psnr", "baseline_psnr"}]}``
    with means over the images, and ``baseline_diff`` the difference of the mean baseline from
    MATLAB's (so 0 for ``"matlab"``).
    """
    libraries = tuple(libraries or RESIZE_LIBRARIES)
    images = list(images)
    if not images:
        raise UserError("compare_resizers needs at least one image")
    refs = [(name, hr, bicubic(hr, scale)) for name, hr in images]
    out = []
    for lib in libraries:
        rows = []
        for name, hr, ref in refs:
            lr = resize_with(hr, scale, lib)
            rows.append({"name": name, "lr_psnr": psnr(lr, ref, border=1),
                         "baseline_psnr": psnr(upscale_bicubic(lr, scale), hr)})
        out.append({"library": lib, "lr_psnr": float(np.mean([r["lr_psnr"] for r in rows])),
                    "baseline_psnr": float(np.mean([r["baseline_psnr"] for r in rows])), "images": rows})
    matlab = float(np.mean([psnr(upscale_bicubic(ref, scale), hr) for _, hr, ref in refs]))
    for r in out:
        r["baseline_diff"] = r["baseline_psnr"] - matlab
    return out


def zone_plate(size: int = 256, channels: int = 3) -> np.ndarray:
    """A zone plate, ``127.5 (1 + cos(pi r^2 / size))`` as uint8 ``(size, size[, channels])``.

    Its local frequency grows linearly with the radius ``r`` (from the centre ``size/2``), from 0
    to the Nyquist limit at the middle of each edge (``r = size/2``), so any downscale without
    a low-pass filter shows aliasing as false rings (chapter 1's figure).
    """
    size = int(size)
    if size < 2:
        raise UserError(f"size must be >= 2, got {size}")
    yy, xx = np.mgrid[0:size, 0:size] - size / 2
    z = _round_to_uint8(127.5 * (1 + np.cos(np.pi * (xx ** 2 + yy ** 2) / size)))
    return np.repeat(z[:, :, None], channels, axis=2) if channels else z
