"""The standard datasets: registry, cache lookup, checked downloads, training images (``srgan data``).

=============  ===============================================================================
registry       which sets exist and where they come from (``datasets.json``, ``manifests.json``)
cache          where they live: ``$SRGAN_DATA_DIR`` (default ``~/.cache/srgan_lib/datasets``)
download       atomic, checked downloads into the cache (a cached set is a no-op)
lookup         a name or folder resolved to image files (the cache first, else a download)
benchmark      a test set loaded for evaluation (mod-cropped HR images, gray ones marked)
verify         checking a folder against a per-file SHA-256 manifest
training       every usable training image of one or more sets
=============  ===============================================================================

The names below are the package's API; import them from ``srgan_lib.data``.  The command line,
``srgan data``, is :mod:`srgan_lib.cli.data`.
"""
from srgan_lib.data.cache import ENV_VAR, cached_folder, dataset_images, dataset_label, default_cache_dir
from srgan_lib.data.download import download_dataset, safe_extract
from srgan_lib.data.lookup import resolve_dataset
from srgan_lib.data.registry import DATASETS, Dataset, Source, get_dataset, is_known
from srgan_lib.data.training import DataWarning, load_training_images
from srgan_lib.data.verify import VerifyReport, file_digest, read_sha256sums, verify_dataset

__all__ = ["ENV_VAR", "DATASETS", "Dataset", "Source", "DataWarning", "VerifyReport",
           "get_dataset", "is_known", "default_cache_dir", "dataset_images", "dataset_label",
           "cached_folder", "resolve_dataset", "download_dataset", "safe_extract",
           "file_digest", "read_sha256sums", "verify_dataset", "load_training_images"]
