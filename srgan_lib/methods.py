"""Super-resolution methods by name: the baselines and trained generators as ``lr uint8 -> sr uint8``.

``"nearest"`` and ``"bicubic"`` (MATLAB bicubic, rounded; :mod:`srgan_lib.degrade`) are the paper's
baselines (Ledig et al. 2017, Table 2); any other spec is a generator (a run folder, a ``.keras`` /
``.weights.h5`` file or a shipped model name, :func:`srgan_lib.weights.load_generator`).  ``"hr"``
names HR itself, where every measure has its perfect value (``srgan eval --model hr``).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from srgan_lib.data.benchmark import EVAL_BYTES_PER_PIXEL, GENERATOR_BYTES_PER_PIXEL
from srgan_lib.degrade import upscale_bicubic, upscale_nearest
from srgan_lib.errors import UserError

__all__ = ["BASELINES", "HR_METHOD", "make_method", "eval_bytes_per_pixel"]

BASELINES = ("nearest", "bicubic")
#: the method name that scores HR itself (the perfect values of every measure)
HR_METHOD = "hr"


def eval_bytes_per_pixel(specs) -> int:
    """Memory per HR pixel of evaluating the method specs ``specs`` (a generator costs most)."""
    cheap = BASELINES + (HR_METHOD,)
    return GENERATOR_BYTES_PER_PIXEL if any(str(s).strip() not in cheap for s in specs) else EVAL_BYTES_PER_PIXEL


def make_method(spec: str, scale: int = 4) -> Callable[[np.ndarray], np.ndarray]:
    """A callable ``lr uint8 (h,w,3) -> sr uint8 (h*scale, w*scale, 3)`` for a method spec.

    ``"nearest"`` and ``"bicubic"`` (MATLAB bicubic, rounded) are the baselines; any other
    spec is loaded with :func:`srgan_lib.weights.load_generator` (a run directory, a
    ``.keras`` / ``.weights.h5`` file or a shipped model name) and applied with
    :func:`srgan_lib.models.super_resolve`.
    """
    scale = int(scale)
    spec = str(spec).strip()
    if not spec:
        raise UserError("empty model name; use nearest, bicubic or a generator (run dir, .keras file, "
                        "shipped model name)")
    if spec == "nearest":
        def method(lr):
            return upscale_nearest(lr, scale)
    elif spec == "bicubic":
        def method(lr):
            return upscale_bicubic(lr, scale)
    else:
        from srgan_lib import models, weights

        generator = weights.load_generator(spec)

        def method(lr):
            sr = np.asarray(models.super_resolve(generator, lr))
            want = (lr.shape[0] * scale, lr.shape[1] * scale)
            if sr.shape[:2] != want:
                raise UserError(f"model {spec!r} produced {sr.shape[1]}x{sr.shape[0]} from a "
                                f"{lr.shape[1]}x{lr.shape[0]} input, expected x{scale} "
                                f"({want[1]}x{want[0]}); is it a x{scale} model?")
            return sr
    method.name = spec
    return method
