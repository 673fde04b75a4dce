"""Benchmark sets loaded for evaluation: mod-cropped HR images, gray ones marked (Ledig et al. 2017, Sec. 3.1).

The protocol's test sets (Set5, Set14, BSD100, or any folder) as :class:`EvalSet` lists of
``(name, hr_uint8)``: every image mod-cropped to the scale, a gray file replicated to RGB and listed in
``.gray`` so that it can be scored on its gray levels, as the literature's MATLAB scripts do
(:mod:`srgan_lib.evaluate`).  Used by ``srgan eval``, training validation, MOS studies and the book.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from srgan_lib.data.cache import dataset_label
from srgan_lib.data.lookup import resolve_dataset
from srgan_lib.degrade import modcrop
from srgan_lib.errors import UserError
from srgan_lib.images import read_pixels

__all__ = ["EVAL_BYTES_PER_PIXEL", "GENERATOR_BYTES_PER_PIXEL", "EvalSet", "image_names", "load_eval_set"]

#: Memory per HR pixel that evaluating an image takes at its peak (bicubic degradation and the
#: float64 metrics; ``bench/RESULTS.md``), and with a generator run on the whole image.
EVAL_BYTES_PER_PIXEL = 160
GENERATOR_BYTES_PER_PIXEL = 4096


class EvalSet(list):
    """A benchmark set: the list ``[(name, hr_uint8 (H,W,3) modcropped), ...]`` plus

    ``name``: the dataset's name (its folder, e.g. ``"Set14"``), and ``gray``: the names of the
    gray images (a single-channel or gray-palette file, :func:`srgan_lib.images.read_pixels`;
    their ``hr`` is the gray image replicated to RGB).
    """

    def __init__(self, items, name: str, gray=()):
        super().__init__(items)
        self.name, self.gray = name, frozenset(gray)


def image_names(files: list[Path]) -> list[str]:
    """The stem of each file, or its whole name where two files share a stem (``a.png``, ``a.jpg``)."""
    stems = Counter(f.stem for f in files)
    return [f.stem if stems[f.stem] == 1 else f.name for f in files]


def load_eval_set(name_or_dir, scale: int = 4, bytes_per_pixel: int = EVAL_BYTES_PER_PIXEL, *,
                  cache_dir=None, download: bool = True, limit: int | None = None) -> EvalSet:
    """Load a benchmark set as an :class:`EvalSet` ``[(name, hr_uint8 (H,W,3) modcropped to scale), ...]``.

    ``name_or_dir`` is a folder (its ``HR/`` subfolder is used if present) or a dataset name,
    looked up by :func:`srgan_lib.data.resolve_dataset` (``cache_dir`` or ``$SRGAN_DATA_DIR``, else
    a checked download of a registered set unless ``download`` is false); ``limit`` keeps the first
    ``limit`` files (the others are not decoded).  Names are file stems (whole file names where two files share
    a stem).  Gray files are replicated to RGB and listed in ``.gray``.  Unreadable or too small
    files raise :class:`srgan_lib.errors.UserError` naming the file, and so does an image whose
    evaluation, ``bytes_per_pixel`` per pixel (:func:`srgan_lib.methods.eval_bytes_per_pixel`), would not fit in
    memory (:func:`srgan_lib.images.check_memory`, checked before it is decoded).
    """
    scale = int(scale)
    files = resolve_dataset(name_or_dir, cache_dir=cache_dir, download=download)[:limit]
    items, gray = [], []
    for name, f in zip(image_names(files), files):
        pixels = read_pixels(f, bytes_per_pixel=bytes_per_pixel, work="evaluating it")
        hr = pixels.rgb
        if hr.shape[0] < scale or hr.shape[1] < scale:
            raise UserError(f"image {str(f)!r} ({hr.shape[1]}x{hr.shape[0]}) is smaller than the scale {scale}")
        items.append((name, np.ascontiguousarray(modcrop(hr, scale))))
        if pixels.gray:
            gray.append(name)
    return EvalSet(items, dataset_label(files), gray)
