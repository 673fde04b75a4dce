"""Several SR methods on one image, each with its PSNR: the book's side-by-side figures.

:func:`compare_methods` super-resolves one LR image with each method and scores the result against
HR with the benchmark PSNR (BT.601 Y, a ``scale``-pixel border, :func:`srgan_lib.metrics.psnr`);
:func:`methods_figure` draws the row.  The LR image defaults to the paper's bicubic downscale of HR
(Sec. 3.2); pass another one (e.g. :func:`srgan_lib.teaching.realworld.noisy_jpeg` of it) to see
what the same methods do with a different input.  The site's home page uses it for its opening
figure, chapter 7 for the degraded inputs.
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple

import numpy as np

from srgan_lib import degrade, metrics, models
from srgan_lib.methods import make_method
from srgan_lib.errors import UserError

__all__ = ["as_method", "Result", "compare_methods", "methods_figure"]


def as_method(method) -> Callable[[np.ndarray], np.ndarray]:
    """``lr uint8 -> sr uint8`` for a method spec of :func:`srgan_lib.methods.make_method`
    (``"nearest"``, ``"bicubic"``, a shipped generator's name, ...), a Keras generator, or a callable."""
    if isinstance(method, str):
        return make_method(method)
    if hasattr(method, "get_weights"):  # a Keras generator
        def run(lr):
            return models.super_resolve(method, lr)
        return run
    if callable(method):
        return method
    raise UserError(f"a method is a spec string, a generator or a callable, not {type(method).__name__}")


class Result(NamedTuple):
    """One panel: the method's ``label``, its uint8 ``image`` and its ``psnr`` (dB; inf for HR)."""

    label: str
    image: np.ndarray
    psnr: float


def compare_methods(hr_uint8, methods, lr_uint8=None, scale: int = 4, with_hr: bool = True) -> list[Result]:
    """Each of ``methods`` (``{label: method}``, see :func:`as_method`) on the LR image of ``hr_uint8``.

    ``hr_uint8`` is mod-cropped to ``scale``; ``lr_uint8`` defaults to its bicubic downscale
    (:func:`srgan_lib.degrade.bicubic`) and must be ``scale`` times smaller.  The PSNR is the
    benchmark's (Y, ``scale``-pixel border).  ``with_hr`` appends the HR image as the last panel.
    """
    hr = np.ascontiguousarray(degrade.modcrop(np.asarray(hr_uint8), scale))
    if hr.dtype != np.uint8 or hr.ndim != 3 or hr.shape[2] != 3:
        raise UserError(f"compare_methods expects an RGB uint8 HR image, got {hr.dtype} {hr.shape}")
    lr = degrade.bicubic(hr, scale) if lr_uint8 is None else np.asarray(lr_uint8)
    if lr.shape != (hr.shape[0] // scale, hr.shape[1] // scale, 3) or lr.dtype != np.uint8:
        raise UserError(f"the LR image must be uint8 {hr.shape[1] // scale}x{hr.shape[0] // scale}x3 for "
                        f"this HR image at x{scale}, got {lr.dtype} {lr.shape}")
    out = []
    for label, method in dict(methods).items():
        sr = np.asarray(as_method(method)(lr))
        if sr.shape != hr.shape or sr.dtype != np.uint8:
            raise UserError(f"method {label!r} returned {sr.dtype} {sr.shape}, expected uint8 {hr.shape}")
        out.append(Result(str(label), sr, metrics.psnr(sr, hr, border=scale)))
    if with_hr:
        out.append(Result("HR", hr, math.inf))
    return out


def methods_figure(results, panel_size: float = 2.6, fontsize: int = 9):
    """One row of panels titled ``label`` and ``PSNR .. dB`` (HR: ``reference``); returns the Figure."""
    from srgan_lib.teaching.plots import compare_images

    panels = [(f"{r.label}\n" + ("reference" if math.isinf(r.psnr) else f"PSNR {r.psnr:.2f} dB"), r.image)
              for r in results]
    return compare_images(panels, panel_size=panel_size, fontsize=fontsize)
