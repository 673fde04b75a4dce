"""Finding a dataset by name or folder (:func:`resolve_dataset`), in order:

1. as a local folder path (its ``HR/`` sub-folder is used when it has one);
2. as ``NAME/HR/*`` or ``NAME/*`` under the cache folder ``$SRGAN_DATA_DIR``
   (default ``~/.cache/srgan_lib/datasets``), the name matched exactly, then as the registry
   spells it, then case-insensitively -- no network is used then;
3. by downloading it from the registry into that cache (:func:`srgan_lib.data.download_dataset`).
"""
from __future__ import annotations

import os
from pathlib import Path

from srgan_lib.data.cache import cached_folder, dataset_images, default_cache_dir
from srgan_lib.data import download as download_module  # its function looked up when called
from srgan_lib.data.registry import DATASETS, get_dataset, is_known
from srgan_lib.errors import InputNotFoundError, UserError
from srgan_lib.images import IMAGE_EXTENSIONS

__all__ = ["resolve_dataset"]


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
    return dataset_images(download_module.download_dataset(spec, cache_dir=cache))
