"""The training patch pipeline (Ledig et al. 2017, Sec. 3.2: "For each mini-batch we crop 16
random 96 x 96 HR sub images of distinct training images").

Design, chosen so that a resumed run sees exactly the batches an uninterrupted run would have seen:

* Every training image is decoded once and kept in memory (uint8), together with its
  low-resolution version made by the chosen degradation on the *whole* image
  (``srgan_lib.degrade.degrade``, MATLAB-compatible bicubic by default).  LR/HR patch
  pairs are then aligned crops of the two, exactly as the benchmark LR images are made
  (no border effects from degrading a small crop).
* Batch ``i`` is a pure function of ``(seed, i)``: :meth:`PatchSequence.draw` takes
  ``np.random.default_rng([seed, i])`` and draws the images, the crop positions and (with
  ``augment``) one of the 8 flips/90-degree rotations.  Resuming at step ``k`` is therefore just
  starting the stream at ``k``.  :meth:`PatchSequence.batch` crops those patches on the host;
  the training loop gathers the same patches on the device from the same draws
  (:mod:`srgan_lib.train.device_patches`).
* uint8 values become floats through the library's one conversion, the tables
  :data:`srgan_lib.models.LR_FROM_UINT8` / :data:`~srgan_lib.models.HR_FROM_UINT8`.

Two choices of the pipeline are options, with the paper's choice as the default:

* ``distinct_images=True``: the crops of a batch come from distinct images (the paper); with
  fewer images than the batch size every image is used as evenly as possible.  ``False`` draws
  images with replacement, so a batch may hold two crops of one image.
* ``augment=False``: no augmentation (the paper mentions none; it trained on 350 thousand ImageNet
  images).  ``True`` applies one of the 8 symmetries of the square to each crop pair.

Value ranges follow the paper: LR in [0, 1], HR in [-1, 1].
"""
from __future__ import annotations

import collections
import concurrent.futures
import itertools
import os
from typing import Iterator, NamedTuple, Sequence

import numpy as np

from srgan_lib import degrade as _degrade
from srgan_lib.models import HR_FROM_UINT8, LR_FROM_UINT8


def _augment(patch: np.ndarray, code: int) -> np.ndarray:
    """One of the 8 symmetries of the square: ``code`` bit 0 = horizontal flip, bits 1-2 = k*90 deg."""
    if code & 1:
        patch = patch[:, ::-1]
    k = (code >> 1) & 3
    if k:
        patch = np.rot90(patch, k)
    return patch


def augment_sources(size: int) -> np.ndarray:
    """``(8, size, size, 2)`` int32: entry ``[code, i, j]`` is the ``(row, column)`` of the crop
    pixel that symmetry ``code`` moves to ``(i, j)`` -- :func:`_augment` applied to a grid of
    coordinates, so an index gather with these tables equals ``_augment`` exactly."""
    grid = np.stack(np.meshgrid(np.arange(size), np.arange(size), indexing="ij"), axis=-1)
    return np.stack([_augment(grid, code) for code in range(8)]).astype(np.int32)


class Draw(NamedTuple):
    """The random choices of one batch: image numbers, LR top-left corners, symmetry codes."""
    which: np.ndarray  # (B,) image index
    y: np.ndarray      # (B,) LR row of the crop's top-left corner
    x: np.ndarray      # (B,) LR column
    code: np.ndarray   # (B,) symmetry code 0..7 (0: identity)


class PatchSequence:
    """Random aligned (LR, HR) training patches.

    Args:
        images: HR training images, uint8 arrays (H, W, 3), each at least ``patch_size`` on both sides.
        batch_size: patches per batch (the paper: 16).
        patch_size: HR patch side (the paper: 96); must be a multiple of ``scale``.
        scale: upscaling factor (the paper: 4).
        degradation: ``"bicubic"`` (benchmark standard) or ``"gaussian_bicubic"`` (the seed's).
        seed: seed of the batch stream.
        augment: random flips and 90-degree rotations (the paper: none).
        distinct_images: the crops of one batch come from distinct images (the paper: yes).

    ``batch(i)`` returns ``(lr, hr)``: float32 arrays (B, p/s, p/s, 3) in [0, 1] and (B, p, p, 3) in [-1, 1].
    """

    def __init__(self, images: Sequence[np.ndarray], batch_size: int = 16, patch_size: int = 96,
                 scale: int = 4, degradation: str = "bicubic", seed: int = 0, augment: bool = False,
                 distinct_images: bool = True):
        if patch_size % scale:
            raise ValueError(f"patch_size {patch_size} is not a multiple of scale {scale}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if not len(images):
            raise ValueError("PatchSequence needs at least one training image")
        self.batch_size, self.patch_size, self.scale = int(batch_size), int(patch_size), int(scale)
        self.degradation, self.seed = degradation, int(seed)
        self.augment, self.distinct_images = bool(augment), bool(distinct_images)
        self.hr: list[np.ndarray] = []
        self.lr: list[np.ndarray] = []
        for k, img in enumerate(images):
            img = np.asarray(img)
            if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
                raise ValueError(f"training image {k} must be uint8 (H, W, 3), got {img.dtype} {img.shape}")
            hr = _degrade.modcrop(img, scale)
            if min(hr.shape[:2]) < patch_size:
                raise ValueError(f"training image {k} ({img.shape[1]}x{img.shape[0]}) is smaller than the "
                                 f"{patch_size}x{patch_size} crop")
            self.hr.append(np.ascontiguousarray(hr))
            self.lr.append(np.ascontiguousarray(_degrade.degrade(hr, scale=scale, kind=degradation)))
        # Largest LR top-left corner + 1 of each image, for the crop positions.
        q = self.patch_size // self.scale
        self._room = np.array([[lr.shape[0] - q + 1, lr.shape[1] - q + 1] for lr in self.lr], np.int64)

    def __len__(self) -> int:  # number of images, for information
        return len(self.hr)

    def draw(self, index: int) -> Draw:
        """The random choices of batch ``index`` (a pure function of ``seed`` and ``index``)."""
        rng = np.random.default_rng([self.seed, int(index)])
        n, b = len(self.hr), self.batch_size
        if not self.distinct_images:
            which = rng.integers(0, n, size=b)
        elif n >= b:
            which = rng.choice(n, size=b, replace=False)
        else:  # fewer images than crops: every image ceil or floor(b / n) times
            which = np.concatenate([rng.permutation(n) for _ in range(-(-b // n))])[:b]
        ux = rng.random(b)
        uy = rng.random(b)
        codes = rng.integers(0, 8, size=b) if self.augment else np.zeros(b, np.int64)
        room = self._room[which]
        return Draw(which, (uy * room[:, 0]).astype(np.int64), (ux * room[:, 1]).astype(np.int64), codes)

    def batch(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Batch number ``index`` of the stream, cropped on the host."""
        d = self.draw(index)
        s, p = self.scale, self.patch_size
        q = p // s
        lr_out = np.empty((self.batch_size, q, q, 3), np.uint8)
        hr_out = np.empty((self.batch_size, p, p, 3), np.uint8)
        for b in range(self.batch_size):
            y, x, code = int(d.y[b]), int(d.x[b]), int(d.code[b])
            lr_out[b] = _augment(self.lr[d.which[b]][y:y + q, x:x + q], code)
            hr_out[b] = _augment(self.hr[d.which[b]][y * s:(y + q) * s, x * s:(x + q) * s], code)
        return LR_FROM_UINT8[lr_out], HR_FROM_UINT8[hr_out]

    def stream(self, start: int = 0, stop: int | None = None, workers: int | None = None,
               lookahead: int = 8) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``batch(start), batch(start + 1), ...`` (up to ``stop``, exclusive), prepared ahead in threads."""
        workers = workers or max(1, min(4, (os.cpu_count() or 2) - 1))
        indices = iter(range(start, stop) if stop is not None else itertools.count(start))
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            pending: collections.deque = collections.deque()
            for i in indices:
                pending.append(pool.submit(self.batch, i))
                if len(pending) >= lookahead:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
