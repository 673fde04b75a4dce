"""Blinding: the study's images are written so that nothing but their pixels tells them apart.

A rater receives ``rater/items/<id>.png`` for every study and calibration image.  Everything a
file system or a file format carries besides the pixels is made independent of the method:

* **ids** are ``secrets.token_hex`` values (:func:`new_id`), recorded only in the analyst's
  ``manifest.json``; no seed or counter can regenerate them;
* **bytes**: uncompressed PNG without metadata chunks (:func:`png_bytes`), so every image of the
  same width and height has exactly the same size (compressed, a nearest-neighbour upscale is far
  smaller than an SR output or the HR image);
* **write order**: :func:`write_items` writes the files in an order drawn from
  ``secrets.SystemRandom``, so creation order, inode numbers, change times and directory order
  say nothing;
* **times**: every item's access and modification time is set to :data:`NEUTRAL_TIME`.

The pixels themselves are what the raters judge.
"""
from __future__ import annotations

import io
import os
import secrets
from pathlib import Path

import numpy as np

from srgan_lib.errors import UserError

#: 2000-01-01T00:00:00Z: the access and modification time of every item file
NEUTRAL_TIME = 946684800
#: random bytes per item id (12 hex digits)
ID_BYTES = 6


def new_id(used: set[str]) -> str:
    """A fresh random item id (``secrets.token_hex``) not in ``used``; it is added to ``used``."""
    while True:
        i = secrets.token_hex(ID_BYTES)
        if i not in used:
            used.add(i)
            return i


def png_bytes(img) -> bytes:
    """``img`` (uint8 (H, W, 3)) as an uncompressed PNG with no ancillary chunks: its length
    depends on H and W only."""
    from PIL import Image

    img = np.asarray(img)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise UserError(f"study images must be uint8 (H, W, 3), got {img.dtype} {img.shape}")
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(img)).save(buf, format="PNG", compress_level=0)
    return buf.getvalue()


def write_items(items_dir: Path, staged: dict[str, Path]) -> dict[str, int]:
    """Move the staged item files ``{id: path}`` to ``items_dir/<id>.png`` in a secret random order.

    Every file is written anew (new inode, new change time, in the shuffled order) with
    :data:`NEUTRAL_TIME` as its times, and its staged copy is deleted.  ``items_dir`` is
    inside a folder that :func:`srgan_lib.atomic.atomic_dir` renames into place at the end.
    Returns ``{id: size in bytes}``.
    """
    order = list(staged)
    secrets.SystemRandom().shuffle(order)
    sizes = {}
    for i in order:
        data = staged[i].read_bytes()
        target = items_dir / f"{i}.png"
        target.write_bytes(data)
        os.utime(target, (NEUTRAL_TIME, NEUTRAL_TIME))
        staged[i].unlink()
        sizes[i] = len(data)
    return sizes
