"""Where datasets live: the cache folder and the lookup of a dataset name or folder.

A dataset is found, in order:

1. as a local folder path (its ``HR/`` sub-folder is used when it has one);
2. as ``NAME/HR/*`` or ``NAME/*`` under the cache folder ``$SRGAN_DATA_DIR``
   (default ``~/.cache/srgan_lib/datasets``), the name matched exactly, then as the registry
   spells it, then case-insensitively -- no network is used then;
3. by downloading it from the registry into that cache (:func:`srgan_lib.data.download_dataset`).
"""
from __future__ import annotations

import os
from pathlib import Path

from srgan_lib.data.registry import DATASETS, get_dataset, is_known
from srgan_lib.errors import InputNotFoundError, UserError
from srgan_lib.images import IMAGE_EXTENSIONS, list_images

__all__ = ["ENV_VAR", "default_cache_dir", "dataset_images", "cached_folder", "resolve_dataset",
           "dataset_label", "is_cached"]

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


def resolve_dataset(name_or_dir, *, cache_dir=None, download: bool = True) -> list[Path]:
    """Sorted image files of a folder path or of a dataset NAME (cache first, else download).

    Raises :class:`InputNotFoundError` for a missing folder, an unknown name or (with
    ``download=False``) a set that is not cached, :class:`UserError` for a folder holding no
    image files or a file given where a folder is expected.
    """
    spec = os.fspath(name_or_dir)
    if not spec.strip():
        raise UserError("the dataset name or folder is empty ('' would mean the working directory): "
                        "name a dataset or a folder")
    path = Path(spec).expanduser()
    if path.is_dir():
        files = dataset_images(path)
        if not files:
            raise UserError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) in folder {str(path)!r}"
                            " (nor in its HR/ sub-folder)")
        return files
    if path.exists():
        raise UserError(f"expected a folder or a dataset name, got a file: {spec!r}")
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    folder = cached_folder(spec, cache)
    if folder is not None:
        return dataset_images(folder)
    if not is_known(spec):
        if os.sep in spec or "/" in spec or spec.startswith("."):
            raise InputNotFoundError(f"folder not found: {spec!r}")
        raise InputNotFoundError(f"{spec!r} is neither a folder nor a known dataset "
                                 f"(known: {', '.join(DATASETS)}; cache: {str(cache)!r})")
    if not download:
        raise InputNotFoundError(f"dataset {get_dataset(spec).name} is not in the cache {str(cache)!r}"
                                 " (run `srgan data download`)")
    from srgan_lib.data.download import download_dataset

    return dataset_images(download_dataset(spec, cache_dir=cache))


def is_cached(name_or_dir, *, cache_dir=None) -> bool:
    """Whether ``name_or_dir`` is a folder with images or a dataset already in the cache
    (``$SRGAN_DATA_DIR``): true exactly when :func:`resolve_dataset` would need no download."""
    try:
        resolve_dataset(name_or_dir, cache_dir=cache_dir, download=False)
    except (InputNotFoundError, UserError):
        return False
    return True
