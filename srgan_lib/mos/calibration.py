"""Calibration images (paper Sec. 3.4): the NN (score 1) and HR (score 5) versions of images
separate from the study, shown to every rater before the study.

The paper used 20 images of the BSDS300 training set; the default here is the same set
(``BSD200``).  A calibration image must never be a study image: one that is (same pixels, whatever
its file or dataset name) is left out, and a calibration set holding only study images is refused.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from srgan_lib.errors import InputNotFoundError, UserError
from srgan_lib.images import center_crop
from srgan_lib.mos.sequence import seeded_rng

#: the paper calibrated its raters on 20 images of the BSDS300 training set
CALIBRATION_DATASET = "BSD200"
CALIBRATION_IMAGES = 20


def picture_digest(hr: np.ndarray) -> str:
    """Identity of an HR picture, whatever file or dataset name it was loaded from."""
    return hashlib.sha256(repr(hr.shape).encode() + np.ascontiguousarray(hr).tobytes()).hexdigest()


def find_files(dataset) -> list[Path]:
    """The image files of the calibration set (checked before any study image is computed)."""
    from srgan_lib import data
    try:
        return [Path(f) for f in data.resolve_dataset(dataset)]
    except FileNotFoundError as exc:  # InputNotFoundError too: not cached and no download possible
        raise InputNotFoundError(
            f"calibration images {dataset!r} are not available ({exc}); the paper calibrated its raters on "
            f"20 BSDS300 training images (`srgan data download {CALIBRATION_DATASET}`); give "
            "--calibration-dataset with images separate from the study, or --calibration 0") from None


def images(dataset, files, n, seed, scale, crop, study_digests: set, progress):
    """Yield (image, nn, hr) for ``n`` of the calibration ``files`` drawn with ``seed``, none of
    them a study image (same pixels, whatever its file name)."""
    from srgan_lib.degrade import degrade, modcrop, upscale_nearest
    from srgan_lib.images import read_image

    found = skipped = 0
    for j in seeded_rng("calibration", seed).permutation(len(files)):
        if found == n:
            break
        hr = modcrop(read_image(files[j]), scale)
        if picture_digest(hr) in study_digests:
            skipped += 1
            continue
        found += 1
        nn = upscale_nearest(degrade(hr, scale, "bicubic"), scale)
        yield files[j].stem, center_crop(nn, crop), center_crop(hr, crop)
    if skipped:
        progress(f"note: {skipped} image(s) of the calibration set {dataset} are study images; left out")
    if found == 0:
        raise UserError(f"calibration set {dataset!r} holds only images of the study; calibration images "
                        f"must be separate from the study (default: {CALIBRATION_DATASET})")
