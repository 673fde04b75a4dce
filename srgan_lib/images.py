"""Robust image reading and atomic writing.

Every image that enters the library goes through :func:`pixels_from_pil` (files: through
:func:`read_image` or :func:`read_pixels`), the one place that
turns any Pillow image into ``uint8`` arrays:

* grayscale (``1``, ``L``, ``LA``, 16-bit, float, or a palette of grays) is replicated to three
  RGB channels and flagged ``gray`` (so that ``srgan upscale`` writes grayscale back);
* alpha (``RGBA``, ``LA``, ``PA``, palette or single-colour transparency) is split off, and
  :func:`read_image` drops it;
* palette (``P``), ``CMYK``, ``YCbCr``, ``LAB``, ``HSV`` are converted to RGB by Pillow;
* 16-bit grayscale (``I;16*`` and ``I`` modes, as Pillow opens 16-bit PNG/TIFF) is scaled to
  8 bits with ``round(v * 255 / 65535)`` (not truncated); 32-bit float (``F``) is taken as
  0..255 and clipped;
* the EXIF orientation tag is applied (``PIL.ImageOps.exif_transpose``).

A file that cannot be decoded (not an image, truncated, empty, a folder) raises
:class:`ImageReadError`, an :class:`srgan_lib.errors.UserError` (a ``ValueError``) whose
message is one line naming the file; a missing file raises
:class:`srgan_lib.errors.InputNotFoundError`.

Size limit: Pillow refuses images above about 179 million pixels (``Image.MAX_IMAGE_PIXELS``,
a guard against "decompression bombs" from untrusted sources), which the x4 output of a
3400x3400 photo already exceeds.  The readers here take ``max_pixels`` instead, by default
:data:`MAX_PIXELS` = 2**30 (e.g. 32768 x 32768, the x4 output of an 8192 x 8192 input), meant
for the user's own local files; a larger image raises :class:`ImageReadError` naming its size
before it is decoded.  Pillow's global limit is switched off only while a file header is parsed
(under a lock) and restored afterwards.
"""
from __future__ import annotations

import contextlib
import os
import re
import threading
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from srgan_lib.atomic import atomic_write, refuse_existing
from srgan_lib.errors import InputNotFoundError, UserError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")

#: Largest image (in pixels) the readers decode unless told otherwise (``max_pixels``).
MAX_PIXELS = 2 ** 30
#: Environment variable: the memory (bytes, or with a K/M/G/T suffix) that the work on one image
#: may take; default: the memory the system has available (``MemAvailable``).
MEMORY_BUDGET_ENV = "SRGAN_MEMORY_BUDGET"
#: Bytes per pixel that decoding an image takes at its peak (Pillow's 4-byte pixels, the uint8
#: RGB array and a conversion): what :func:`read_pixels` checks by default.
DECODE_BYTES_PER_PIXEL = 12

__all__ = ["ImageReadError", "ImageTooLargeError", "IMAGE_EXTENSIONS", "MAX_PIXELS", "MEMORY_BUDGET_ENV",
           "DECODE_BYTES_PER_PIXEL", "memory_budget", "check_memory", "Pixels", "pixels_from_pil",
           "read_pixels", "read_image", "write_image", "list_images",
           "center_crop"]


class ImageReadError(UserError):
    """A file could not be read as an image.  ``str(err)`` is one line naming the file."""

    def __init__(self, path, reason: str):
        self.path = Path(path)
        self.reason = " ".join(str(reason).split())
        super().__init__(f"cannot read image {str(self.path)!r}: {self.reason}")


class ImageTooLargeError(ImageReadError):
    """An image whose work would need more memory than :func:`memory_budget` allows."""


_UNITS = {"": 1, "B": 1, "K": 2 ** 10, "M": 2 ** 20, "G": 2 ** 30, "T": 2 ** 40}


def _format_bytes(n: float) -> str:
    return f"{n / 2 ** 30:.1f} GiB" if n >= 2 ** 30 else f"{n / 2 ** 20:.0f} MiB"


def memory_budget() -> tuple[int | None, str]:
    """``(bytes, where it comes from)``: the memory the work on one image may take.

    ``$SRGAN_MEMORY_BUDGET`` when set (``8G``, ``512M``, ``1.5G``, or bytes), else the memory
    the system has available now (``MemAvailable`` of ``/proc/meminfo``, else free physical
    pages); ``None`` when neither can be had (no check).
    """
    text = os.environ.get(MEMORY_BUDGET_ENV, "").strip()
    if text:
        m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?", text, re.IGNORECASE)
        if not m:
            raise UserError(f"{MEMORY_BUDGET_ENV}={text!r} is not a size: use bytes or a number with K, M, G "
                            f"or T (e.g. {MEMORY_BUDGET_ENV}=16G)")
        return int(float(m.group(1)) * _UNITS[m.group(2).upper()]), f"{MEMORY_BUDGET_ENV}={text}"
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024, "the memory available"
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"), "the memory available"
    except (ValueError, OSError, AttributeError):
        return None, "unknown"


def check_memory(path, width: int, height: int, bytes_per_pixel: float, work: str = "decoding it") -> None:
    """Raise :class:`ImageTooLargeError` naming ``path`` when ``width`` x ``height`` pixels at
    ``bytes_per_pixel`` need more than :func:`memory_budget`; the message says the limit and
    how to raise it.  Called before any pixel is decoded or computed."""
    budget, source = memory_budget()
    need = float(width) * float(height) * float(bytes_per_pixel)
    if budget is None or need <= budget:
        return
    raise ImageTooLargeError(path, f"{width}x{height} pixels: {work} needs about {_format_bytes(need)}, more "
                                   f"than {source} ({_format_bytes(budget)}); use a smaller image or a "
                                   f"machine with more memory, or raise the limit with {MEMORY_BUDGET_ENV} "
                                   f"(e.g. {MEMORY_BUDGET_ENV}={max(1, int(-(-need // 2 ** 30)))}G)")


class Pixels(NamedTuple):
    """An image as arrays: ``rgb`` ``(H, W, 3)`` uint8, ``alpha`` ``(H, W)`` uint8 or ``None``,
    and ``gray``, whether the source was grayscale (its three RGB channels are then equal)."""

    rgb: np.ndarray
    alpha: np.ndarray | None
    gray: bool


_GRAY_MODES = {"1", "L", "LA", "La", "I", "F"}
_ALPHA_MODES = {"RGBA", "RGBa", "LA", "La", "PA"}
_PILLOW_LIMIT_LOCK = threading.Lock()


def _gray_palette(im: Image.Image) -> bool:
    pal = np.asarray(im.getpalette() or [], dtype=np.int64)
    rgb = pal[: pal.size // 3 * 3].reshape(-1, 3)
    return bool(len(rgb)) and bool(np.all(rgb == rgb[:, :1]))


def _upright(im: Image.Image) -> Image.Image:
    """``im`` turned as its EXIF orientation tag says (a transposed copy), or ``im`` itself."""
    try:
        if im.getexif().get(0x0112, 1) in (1, None):
            return im
        return ImageOps.exif_transpose(im)
    except Exception:  # a malformed EXIF block must not make a good image unreadable
        return im


def pixels_from_pil(im: Image.Image, source="PIL image") -> Pixels:
    """A Pillow image of any mode as :class:`Pixels`, EXIF orientation applied (module docstring).

    ``source`` names the image in the :class:`ImageReadError` of a mode Pillow cannot convert.
    """
    im = _upright(im)
    mode = im.mode
    if mode.startswith("I") or mode == "F":
        arr = np.asarray(im)
        if mode == "F":
            g = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
        else:  # round(v / 257) with integers: v / 257 is never exactly k + 1/2
            g = ((np.clip(arr, 0, 65535).astype(np.uint32) + 128) // 257).astype(np.uint8)
        return Pixels(np.repeat(g[:, :, None], 3, axis=2), None, True)
    gray = mode in _GRAY_MODES or (mode in ("P", "PA") and _gray_palette(im))
    has_alpha = mode in _ALPHA_MODES or "transparency" in im.info
    try:
        if has_alpha:
            rgba = np.asarray(im.convert("RGBA"))
            return Pixels(np.ascontiguousarray(rgba[:, :, :3]),
                          np.ascontiguousarray(rgba[:, :, 3]), gray)
        if mode == "L":
            return Pixels(np.repeat(np.asarray(im)[:, :, None], 3, axis=2), None, True)
        return Pixels(np.asarray(im if mode == "RGB" else im.convert("RGB")), None, gray)
    except (ValueError, OSError) as exc:  # Pillow has no conversion for this mode
        raise ImageReadError(source, f"unsupported image mode {mode!r} ({exc})") from None


@contextlib.contextmanager
def _pillow_limit_off():
    with _PILLOW_LIMIT_LOCK:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def read_pixels(path, max_pixels: int | None = MAX_PIXELS, bytes_per_pixel: float = DECODE_BYTES_PER_PIXEL,
                work: str = "decoding it") -> Pixels:
    """Read an image file as :class:`Pixels` (RGB, alpha, gray flag).

    Raises :class:`srgan_lib.errors.InputNotFoundError` for a missing file and
    :class:`ImageReadError` for a folder, a file that is not a readable image, or an image of
    more than ``max_pixels`` pixels (``None``: no limit).  Before decoding, the size in the file's
    header is checked against the memory that the caller's ``work`` needs, ``bytes_per_pixel``
    per pixel (:func:`check_memory`: an :class:`ImageTooLargeError` when it does not fit).
    """
    path = Path(path)
    if not path.exists():
        raise InputNotFoundError(f"image file not found: {str(path)!r}")
    if path.is_dir():
        raise ImageReadError(path, "this is a folder, not an image file")
    decode_errors = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
                     Image.DecompressionBombError)
    try:
        with _pillow_limit_off():
            im = Image.open(path)  # reads the header only
    except decode_errors as exc:
        reason = "not a recognised image format" if isinstance(exc, UnidentifiedImageError) else exc
        raise ImageReadError(path, str(reason) or type(exc).__name__) from None
    with im:
        w, h = im.size
        if max_pixels is not None and w * h > max_pixels:
            raise ImageReadError(path, f"{w}x{h} = {w * h:,} pixels is more than "
                                       f"max_pixels={max_pixels:,} (a guard against decompression "
                                       f"bombs; pass a larger max_pixels for a trusted file)")
        check_memory(path, w, h, max(bytes_per_pixel, DECODE_BYTES_PER_PIXEL), work)
        try:
            im.load()  # decode now: truncated files fail here, not later
        except decode_errors as exc:
            raise ImageReadError(path, str(exc) or type(exc).__name__) from None
        return pixels_from_pil(im, path)


def read_image(path, max_pixels: int | None = MAX_PIXELS, bytes_per_pixel: float = DECODE_BYTES_PER_PIXEL,
               work: str = "decoding it") -> np.ndarray:
    """Read any supported image file as an ``(H, W, 3)`` ``uint8`` RGB array (alpha dropped).

    Errors as :func:`read_pixels`.
    """
    return read_pixels(path, max_pixels, bytes_per_pixel, work).rgb


def _format_for(path: Path) -> str:
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None or fmt not in Image.SAVE:
        raise UserError(f"cannot write {str(path)!r}: unknown image file extension {path.suffix!r} "
                        f"(use one of {', '.join(IMAGE_EXTENSIONS)})")
    return fmt


def write_image(path, image, overwrite: bool = False) -> Path:
    """Write a ``uint8`` array ``(H,W)``, ``(H,W,1)``, ``(H,W,2)`` (gray + alpha), ``(H,W,3)``
    or ``(H,W,4)``, or a Pillow image, atomically (:func:`srgan_lib.atomic.atomic_write`).

    The format comes from the suffix (an unknown one raises :class:`UserError`, as does alpha
    for JPEG).  Raises :class:`srgan_lib.errors.OutputExistsError` if ``path`` exists and
    ``overwrite`` is false, :class:`srgan_lib.errors.OutputError` when it cannot be written
    (e.g. its folder does not exist).  Returns the path.
    """
    path = Path(path)
    fmt = _format_for(path)
    if isinstance(image, Image.Image):
        im = image
    else:
        arr = np.asarray(image)
        if arr.dtype != np.uint8:
            raise ValueError(f"cannot write {str(path)!r}: expected a uint8 array, got dtype {arr.dtype}")
        if arr.ndim == 3 and arr.shape[2] == 1:
            arr = arr[:, :, 0]
        if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (2, 3, 4))):
            raise ValueError(f"cannot write {str(path)!r}: expected (H,W), (H,W,2), (H,W,3) or "
                             f"(H,W,4), got {arr.shape}")
        im = Image.fromarray(np.ascontiguousarray(arr))
    if fmt == "JPEG" and im.mode in _ALPHA_MODES:
        raise UserError(f"cannot write {str(path)!r}: JPEG has no alpha channel (use .png)")
    refuse_existing([path], overwrite)

    def save(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            im.save(f, format=fmt)

    return atomic_write(path, save, overwrite=overwrite)


def list_images(folder) -> list[Path]:
    """Sorted image files (by extension, case-insensitive; hidden files skipped) in ``folder``.

    Raises :class:`srgan_lib.errors.InputNotFoundError` for a missing folder and
    :class:`srgan_lib.errors.UserError` for a file or a folder without image files.
    """
    folder = Path(folder)
    if not folder.exists():
        raise InputNotFoundError(f"folder not found: {str(folder)!r}")
    if not folder.is_dir():
        raise UserError(f"not a folder: {str(folder)!r}")
    files = sorted(p for p in folder.iterdir()
                   if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise UserError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) in folder {str(folder)!r}")
    return files


def center_crop(img, size) -> np.ndarray:
    """The central ``size`` x ``size`` (or ``(height, width)``) window of an ``(H, W[, C])`` image.

    The top-left corner is ``((H - h) // 2, (W - w) // 2)``; a window larger than the image is
    clipped to it; ``size`` ``None``/0 returns ``img`` unchanged.  Returns a contiguous copy.
    """
    x = np.asarray(img)
    if not size:
        return x
    ch, cw = (size, size) if np.isscalar(size) else tuple(size)
    if int(ch) < 1 or int(cw) < 1:
        raise ValueError(f"crop size must be positive, got {size!r}")
    h, w = x.shape[:2]
    ch, cw = min(int(ch), h), min(int(cw), w)
    top, left = (h - ch) // 2, (w - cw) // 2
    return np.ascontiguousarray(x[top:top + ch, left:left + cw])
