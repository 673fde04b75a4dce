"""Training images: every usable image of one or more datasets or folders, as uint8 RGB arrays."""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from srgan_lib.data.lookup import resolve_dataset
from srgan_lib.errors import UserError
from srgan_lib.images import ImageReadError, ImageTooLargeError, read_image

__all__ = ["DataWarning", "load_training_images"]


class DataWarning(UserWarning):
    """A training file was skipped (unreadable, or smaller than ``min_size``)."""


def _split_specs(names_or_dirs) -> list[str]:
    if isinstance(names_or_dirs, (str, os.PathLike)):
        spec = os.fspath(names_or_dirs)
        if spec.strip() and Path(spec).expanduser().exists():
            return [spec]
        items = spec.split(",")
    else:
        items = [os.fspath(x) for x in names_or_dirs]
    items = [s.strip() for s in items if s.strip()]
    if not items:
        raise UserError("no dataset name or folder given")
    return items


def load_training_images(names_or_dirs, min_size: int = 96, *, cache_dir=None,
                         download: bool = True) -> list[np.ndarray]:
    """All usable images (uint8 HxWx3) of one or more datasets/folders, concatenated.

    ``names_or_dirs``: a name or folder, a comma-separated string (``"T91,BSD200"``) or a
    list (names are looked up with :func:`srgan_lib.data.resolve_dataset`).  Unreadable files,
    images too large to decode in memory (:func:`srgan_lib.images.check_memory`) and images
    smaller than ``min_size`` in either dimension are skipped with one
    :class:`DataWarning` each naming the file; a dataset with no usable image raises
    :class:`UserError` naming it.
    """
    out: list[np.ndarray] = []
    for spec in _split_specs(names_or_dirs):
        files = resolve_dataset(spec, cache_dir=cache_dir, download=download)
        usable = 0
        for f in files:
            try:
                img = read_image(f)
            except ImageTooLargeError as exc:
                warnings.warn(f"skipping {str(f)!r}: {exc.reason}", DataWarning, stacklevel=2)
                continue
            except ImageReadError as exc:
                warnings.warn(f"skipping unreadable file {str(f)!r}: {exc.reason}", DataWarning, stacklevel=2)
                continue
            h, w = img.shape[:2]
            if h < min_size or w < min_size:
                warnings.warn(f"skipping {str(f)!r}: {w}x{h} is smaller than min_size={min_size}",
                              DataWarning, stacklevel=2)
                continue
            out.append(img)
            usable += 1
        if not usable:
            raise UserError(f"no usable training image in {spec!r} ({str(files[0].parent)!r}): "
                            f"all {len(files)} files are unreadable or smaller than {min_size} px")
    return out
