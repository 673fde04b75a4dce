"""Where datasets live: the cache folder (``$SRGAN_DATA_DIR``, default ``~/.cache/srgan_lib/datasets``),
the image files of a dataset folder, and a cached dataset's folder by name.  Finding a dataset by name or
folder, downloading it when needed, is :mod:`srgan_lib.data.lookup`.
"""
from __future__ import annotations

import os
from pathlib import Path

from srgan_lib.data.registry import get_dataset, is_known
from srgan_lib.errors import UserError
from srgan_lib.images import list_images

__all__ = ["ENV_VAR", "default_cache_dir", "dataset_images", "cached_folder", "dataset_label"]

ENV_VAR = "SRGAN_DATA_DIR"


def default_cache_dir() -> Path:
    """``$SRGAN_DATA_DIR``, else ``~/.cache/srgan_lib/datasets``."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "srgan_lib" / "datasets"


def _images_in(folder: Path) -> list[Path]:
    """:func:`srgan_lib.images.list_images` of ``folder``; [] if it is not a folder or has no image."""
    if not folder.is_dir():
        return []
    try:
        return list_images(folder)
    except UserError:  # list_images: the folder holds no image file
        return []


def dataset_images(folder) -> list[Path]:
    """Images of ``folder/HR`` if it has any, else of ``folder`` (sorted; [] when none)."""
    folder = Path(folder)
    return _images_in(folder / "HR") or _images_in(folder)


def dataset_label(files: list[Path]) -> str:
    """The name of the dataset folder holding ``files`` (the parent of an ``HR/`` folder)."""
    folder = Path(files[0]).parent
    return folder.parent.name if folder.name == "HR" and folder.parent.name else folder.name


def cached_folder(name: str, cache: Path) -> Path | None:
    """The folder of dataset ``name`` in ``cache`` holding images, or None."""
    candidates = [name] + ([get_dataset(name).name] if is_known(name) else [])
    if cache.is_dir():
        candidates += sorted(p.name for p in cache.iterdir() if p.name.lower() == str(name).lower())
    for cand in dict.fromkeys(candidates):
        if dataset_images(cache / cand):
            return cache / cand
    return None
