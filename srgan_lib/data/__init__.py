"""The standard datasets: registry, cache lookup, checked downloads, training images (``srgan data``).

=============  ===============================================================================
registry       which sets exist and where they come from (``datasets.json``, ``manifests.json``)
cache          where they live: ``$SRGAN_DATA_DIR`` (default ``~/.cache/srgan_lib/datasets``),
               and how a name or folder is resolved to image files
download       atomic, checked downloads into the cache (a cached set is a no-op)
verify         checking a folder against a per-file SHA-256 manifest
training       every usable training image of one or more sets
command        the ``srgan data`` command
=============  ===============================================================================

The names below are the package's API; import them from ``srgan_lib.data``.
"""
from srgan_lib.data.cache import (ENV_VAR, cached_folder, dataset_images, dataset_label, default_cache_dir,
                                  is_cached, resolve_dataset)
from srgan_lib.data.command import add_arguments, main
from srgan_lib.data.download import download_dataset, safe_extract
from srgan_lib.data.registry import DATASETS, Dataset, Source, get_dataset, is_known
from srgan_lib.data.training import DataWarning, load_training_images
from srgan_lib.data.verify import VerifyReport, file_digest, read_sha256sums, verify_dataset

__all__ = ["ENV_VAR", "DATASETS", "Dataset", "Source", "DataWarning", "VerifyReport",
           "get_dataset", "is_known", "default_cache_dir", "dataset_images", "dataset_label",
           "cached_folder", "resolve_dataset", "is_cached", "download_dataset", "safe_extract",
           "file_digest", "read_sha256sums", "verify_dataset", "load_training_images",
           "add_arguments", "main"]
