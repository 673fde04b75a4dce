"""Training patches gathered on the device, equal bit for bit to :meth:`PatchSequence.batch`.

The uint8 LR and HR images of a :class:`~srgan_lib.patches.PatchSequence` are packed once into
two flat pools, stored as ``(rows, 2**ROW_BITS)`` uint8 arrays, and uploaded to the device.  Per
step the host sends only the random draws of the batch (:meth:`PatchSequence.draw`, so the
stream stays a pure function of ``(seed, step)``), turned into one record of 7 int32 per crop::

    lr_row, lr_col, lr_stride, hr_row, hr_col, hr_stride, code

the pool position of the crop's top-left pixel (as row and column of the pool array, so that
pools beyond 2**31 bytes need no 64-bit integers), the image's row length in bytes, and the
symmetry code.  On the device each crop pixel's position is
``top-left + src_row * stride + src_col * 3 + channel``, where ``(src_row, src_col)`` comes from
:func:`srgan_lib.patches.augment_sources` (the augmentation as an index table), and the uint8
values become floats through the tables :data:`srgan_lib.models.LR_FROM_UINT8` /
:data:`~srgan_lib.models.HR_FROM_UINT8`: the same bytes and the same table entries as on the
host, so the same floats.
"""
from __future__ import annotations

import numpy as np
from keras import ops

from srgan_lib import backend
from srgan_lib.models import HR_FROM_UINT8, LR_FROM_UINT8
from srgan_lib.patches import PatchSequence, augment_sources

ROW_BITS = 16


def _pack(images: list[np.ndarray], row_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """``(start offsets (int64), pool (rows, 2**row_bits) uint8)`` of the images laid end to end."""
    sizes = np.array([im.size for im in images], np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    width = 1 << row_bits
    pool = np.zeros(-(-int(sizes.sum()) // width) * width, np.uint8)
    for start, im in zip(starts, images):
        pool[start:start + im.size] = im.reshape(-1)
    return starts, pool.reshape(-1, width)


class DevicePatches:
    """The pools and index tables of a :class:`PatchSequence`, and the gather that uses them."""

    def __init__(self, seq: PatchSequence, row_bits: int = ROW_BITS):
        self.seq, self.row_bits = seq, int(row_bits)
        self._lr_start, lr_pool = _pack(seq.lr, self.row_bits)
        self._hr_start, hr_pool = _pack(seq.hr, self.row_bits)
        self._lr_stride = np.array([im.shape[1] * 3 for im in seq.lr], np.int64)
        self._hr_stride = np.array([im.shape[1] * 3 for im in seq.hr], np.int64)
        q, p = seq.patch_size // seq.scale, seq.patch_size
        self.host = {"lr_pool": lr_pool, "hr_pool": hr_pool,
                     "lr_src": augment_sources(q), "hr_src": augment_sources(p),
                     "lr_table": LR_FROM_UINT8, "hr_table": HR_FROM_UINT8}
        self.device = None

    def upload(self) -> dict:
        """The pools and tables as device arrays (once)."""
        if self.device is None:
            self.device = {k: backend.device_constant(v) for k, v in self.host.items()}
        return self.device

    def records(self, start: int, n: int, rows: int | None = None) -> np.ndarray:
        """``(rows, B, 7)`` int32: the records of steps ``start .. start + n - 1`` (zeros after)."""
        seq, s, bits = self.seq, self.seq.scale, self.row_bits
        which, y, x, code = (np.stack(column) for column in zip(*(seq.draw(start + k) for k in range(n))))
        lr = self._lr_start[which] + y * self._lr_stride[which] + x * 3
        hr = self._hr_start[which] + y * s * self._hr_stride[which] + x * s * 3
        out = np.zeros((rows or n, seq.batch_size, 7), np.int32)
        mask = (1 << bits) - 1
        out[:n] = np.stack([lr >> bits, lr & mask, self._lr_stride[which], hr >> bits, hr & mask,
                            self._hr_stride[which], code], axis=-1)
        return out

    def gather(self, device: dict, record):
        """``(lr, hr)`` float32 batches for one step's ``(B, 7)`` record (inside the compiled loop)."""
        return gather(device, record, self.row_bits)


def gather(device: dict, record, row_bits: int = ROW_BITS):
    """``(lr, hr)`` float32 batches from the uploaded pools ``device`` for one ``(B, 7)`` record."""
    lr = _crop(device["lr_pool"], record[:, 0], record[:, 1], record[:, 2], record[:, 6], device["lr_src"],
               device["lr_table"], row_bits)
    hr = _crop(device["hr_pool"], record[:, 3], record[:, 4], record[:, 5], record[:, 6], device["hr_src"],
               device["hr_table"], row_bits)
    return lr, hr


def _crop(pool, row, col, stride, code, src, table, row_bits):
    where = ops.take(src, code, axis=0)                                   # (B, n, n, 2)
    offset = where[..., 0] * stride[:, None, None] + where[..., 1] * 3    # (B, n, n)
    offset = offset[..., None] + ops.arange(3, dtype="int32")             # (B, n, n, 3)
    col = col[:, None, None, None] + offset
    row = row[:, None, None, None] + ops.right_shift(col, row_bits)
    col = ops.bitwise_and(col, (1 << row_bits) - 1)
    values = backend.gather_2d(pool, row, col)
    return ops.take(table, ops.cast(values, "int32"), axis=0)
