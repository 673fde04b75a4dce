"""The training patch pipeline (Ledig et al. 2017, Sec. 3.2: "random 96x96 HR sub images").

Design, chosen so that training never waits for data and a resumed run sees exactly
the batches an uninterrupted run would have seen:

* Every training image is decoded once and kept in memory (uint8), together with its
  low-resolution version made by the chosen degradation on the *whole* image
  (``srgan_lib.degrade.degrade``, MATLAB-compatible bicubic by default).  LR/HR patch
  pairs are then aligned crops of the two, exactly as the benchmark LR images are made
  (no border effects from degrading a small crop).
* Batch ``i`` is a pure function of ``(seed, i)``: ``np.random.default_rng([seed, i])``
  picks the images, the crop positions and one of the 8 flips/90-degree rotations.
  Resuming at step ``k`` is therefore just starting the stream at ``k``.
* :meth:`PatchSequence.stream` prepares batches ahead of the trainer in a small pool of
  threads (numpy slicing and copying release the GIL), in index order.

Value ranges follow the paper: LR in [0, 1], HR in [-1, 1].
"""
from __future__ import annotations

import collections
import concurrent.futures
import os
from typing import Iterator, Sequence

import numpy as np

from srgan_lib import degrade as _degrade


def _augment(patch: np.ndarray, code: int) -> np.ndarray:
    """One of the 8 symmetries of the square: ``code`` bit 0 = horizontal flip, bits 1-2 = k*90 deg."""
    if code & 1:
        patch = patch[:, ::-1]
    k = (code >> 1) & 3
    if k:
        patch = np.rot90(patch, k)
    return patch


class PatchSequence:
    """Random aligned (LR, HR) training patches.

    Args:
        images: HR training images, uint8 arrays (H, W, 3), each at least ``patch_size`` on both sides.
        batch_size: patches per batch (the paper: 16).
        patch_size: HR patch side (the paper: 96); must be a multiple of ``scale``.
        scale: upscaling factor (the paper: 4).
        degradation: ``"bicubic"`` (benchmark standard) or ``"gaussian_bicubic"`` (the seed's).
        seed: seed of the batch stream.
        augment: random flips and 90-degree rotations.

    ``batch(i)`` returns ``(lr, hr)``: float32 arrays (B, p/s, p/s, 3) in [0, 1] and (B, p, p, 3) in [-1, 1].
    """

    def __init__(self, images: Sequence[np.ndarray], batch_size: int = 16, patch_size: int = 96,
                 scale: int = 4, degradation: str = "bicubic", seed: int = 0, augment: bool = True):
        if patch_size % scale:
            raise ValueError(f"patch_size {patch_size} is not a multiple of scale {scale}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if not len(images):
            raise ValueError("PatchSequence needs at least one training image")
        self.batch_size, self.patch_size, self.scale = int(batch_size), int(patch_size), int(scale)
        self.degradation, self.seed, self.augment = degradation, int(seed), bool(augment)
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

    def __len__(self) -> int:  # number of images, for information
        return len(self.hr)

    def batch(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Batch number ``index`` of the stream (a pure function of ``seed`` and ``index``)."""
        rng = np.random.default_rng([self.seed, int(index)])
        s, p = self.scale, self.patch_size
        q = p // s
        which = rng.integers(0, len(self.hr), size=self.batch_size)
        ux = rng.random(self.batch_size)
        uy = rng.random(self.batch_size)
        codes = rng.integers(0, 8, size=self.batch_size) if self.augment else np.zeros(self.batch_size, int)
        lr_out = np.empty((self.batch_size, q, q, 3), np.uint8)
        hr_out = np.empty((self.batch_size, p, p, 3), np.uint8)
        for b in range(self.batch_size):
            lr_img, hr_img = self.lr[which[b]], self.hr[which[b]]
            y = int(uy[b] * (lr_img.shape[0] - q + 1))
            x = int(ux[b] * (lr_img.shape[1] - q + 1))
            lr_out[b] = _augment(lr_img[y:y + q, x:x + q], int(codes[b]))
            hr_out[b] = _augment(hr_img[y * s:(y + q) * s, x * s:(x + q) * s], int(codes[b]))
        lr = lr_out.astype(np.float32) * np.float32(1 / 255)
        hr = hr_out.astype(np.float32) * np.float32(1 / 127.5) - np.float32(1)
        return lr, hr

    def stream(self, start: int = 0, stop: int | None = None, workers: int | None = None,
               lookahead: int = 8) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``batch(start), batch(start + 1), ...`` (up to ``stop``, exclusive), prepared ahead in threads."""
        workers = workers or max(1, min(4, (os.cpu_count() or 2) - 1))
        indices = iter(range(start, stop) if stop is not None else _count(start))
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            pending: collections.deque = collections.deque()
            for i in indices:
                pending.append(pool.submit(self.batch, i))
                if len(pending) >= lookahead:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()


def _count(start: int):
    i = start
    while True:
        yield i
        i += 1
