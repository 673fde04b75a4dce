"""Robust image reading and atomic writing.

Every image that enters the library goes through :func:`read_image`, which
always returns an ``(H, W, 3)`` ``uint8`` RGB array, whatever the file holds:

* grayscale (``L``, ``LA``, ``1``) is replicated to three channels;
* alpha (``RGBA``, ``LA``, ``PA``, palette transparency) is dropped
  (use :func:`read_image_with_alpha` to keep it);
* palette (``P``), ``CMYK``, ``YCbCr``, ``LAB``, ``HSV`` are converted to RGB;
* 16-bit grayscale (``I;16*`` and ``I`` modes, as Pillow opens 16-bit PNG/TIFF)
  is scaled to 8 bits with ``round(v * 255 / 65535)`` (not truncated);
  32-bit float (``F``) is taken as 0..255 and clipped;
* the EXIF orientation tag is applied (``PIL.ImageOps.exif_transpose``).

A file that cannot be decoded (not an image, truncated, empty) raises
:class:`ImageReadError`, a :class:`ValueError` whose message is one line naming
the file, so that the ``srgan`` command can report it without a traceback.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from srgan_lib.atomic import atomic_write

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")

__all__ = ["ImageReadError", "IMAGE_EXTENSIONS", "read_image", "read_image_with_alpha",
           "write_image", "list_images", "center_crop"]


class ImageReadError(ValueError):
    """A file could not be read as an image.  ``str(err)`` is one line naming the file."""

    def __init__(self, path, reason: str):
        self.path = Path(path)
        self.reason = " ".join(str(reason).split())  # keep the message on one line
        super().__init__(f"cannot read image {str(self.path)!r}: {self.reason}")


def _open(path) -> Image.Image:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"image file not found: {str(path)!r}")
    if path.is_dir():
        raise IsADirectoryError(f"expected an image file, got a directory: {str(path)!r}")
    try:
        with Image.open(path) as im:
            im.load()  # decode now: truncated files fail here, not later
            try:
                out = ImageOps.exif_transpose(im)  # a new image, detached from the file
            except Exception:  # a malformed EXIF block must not make a good image unreadable
                out = im.copy()
            return out
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
            Image.DecompressionBombError) as exc:
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, UnidentifiedImageError):
            reason = "not a recognised image format"
        raise ImageReadError(path, reason) from None


def _high_bit_to_uint8(im: Image.Image) -> np.ndarray:
    """``I;16*`` / ``I`` / ``F`` mode -> (H, W) uint8."""
    arr = np.asarray(im)
    if im.mode == "F":
        return np.clip(np.rint(arr.astype(np.float64)), 0, 255).astype(np.uint8)
    arr = arr.astype(np.float64)
    # 16-bit data (Pillow opens 16-bit grayscale PNG as "I;16" or "I"): full scale is 65535.
    return np.clip(np.rint(arr * (255.0 / 65535.0)), 0, 255).astype(np.uint8)


def _to_rgb_alpha(im: Image.Image, path) -> tuple[np.ndarray, np.ndarray | None]:
    mode = im.mode
    if mode.startswith("I") or mode == "F":
        gray = _high_bit_to_uint8(im)
        return np.repeat(gray[:, :, None], 3, axis=2), None
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode == "P" and "transparency" in im.info) or (
        mode in ("L", "RGB") and "transparency" in im.info)
    try:
        if has_alpha:
            rgba = np.asarray(im.convert("RGBA"))
            rgb, alpha = rgba[:, :, :3], rgba[:, :, 3]
        else:
            rgb, alpha = np.asarray(im.convert("RGB")), None
    except (ValueError, OSError) as exc:
        raise ImageReadError(path, f"unsupported image mode {mode!r} ({exc})") from None
    return np.ascontiguousarray(rgb, dtype=np.uint8), (
        None if alpha is None else np.ascontiguousarray(alpha, dtype=np.uint8))


def read_image(path) -> np.ndarray:
    """Read any supported image file as an ``(H, W, 3)`` ``uint8`` RGB array (alpha dropped).

    Raises :class:`FileNotFoundError` for a missing file and :class:`ImageReadError`
    (a ``ValueError``) for a file that is not a readable image.
    """
    rgb, _ = _to_rgb_alpha(_open(path), path)
    return rgb


def read_image_with_alpha(path) -> tuple[np.ndarray, np.ndarray | None]:
    """Read an image as ``(rgb uint8 (H,W,3), alpha uint8 (H,W) or None)``.

    ``alpha`` is ``None`` when the file has no alpha channel or transparency.
    """
    return _to_rgb_alpha(_open(path), path)


def _format_for(path: Path) -> str:
    ext = path.suffix.lower()
    fmt = Image.registered_extensions().get(ext)
    if fmt is None or fmt not in Image.SAVE:
        raise ValueError(f"cannot write {str(path)!r}: unknown image file extension {path.suffix!r} "
                         f"(use one of {', '.join(IMAGE_EXTENSIONS)})")
    return fmt


def write_image(path, array, overwrite: bool = False) -> Path:
    """Write a ``uint8`` image ``(H,W)``, ``(H,W,3)`` or ``(H,W,4)`` atomically.

    The format comes from the suffix.  The data goes to a temporary file in the
    destination folder which is then moved into place with :func:`os.replace`, so
    a crash never leaves a half-written file.  Raises :class:`FileExistsError` if
    ``path`` exists and ``overwrite`` is false.  Returns the path.
    """
    path = Path(path)
    fmt = _format_for(path)
    arr = np.asarray(array)
    if arr.dtype != np.uint8:
        raise ValueError(f"cannot write {str(path)!r}: expected a uint8 array, got dtype {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (3, 4))):
        raise ValueError(f"cannot write {str(path)!r}: expected (H,W), (H,W,3) or (H,W,4), got {arr.shape}")
    if path.exists() and not overwrite:
        raise FileExistsError(f"refusing to overwrite existing file {str(path)!r} (use overwrite)")
    parent = path.parent
    if not parent.is_dir():
        raise FileNotFoundError(f"output folder does not exist: {str(parent)!r}")
    im = Image.fromarray(np.ascontiguousarray(arr))
    if fmt == "JPEG" and im.mode == "RGBA":
        raise ValueError(f"cannot write {str(path)!r}: JPEG has no alpha channel")
    def save(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            im.save(f, format=fmt)

    atomic_write(path, save, overwrite=overwrite)
    return path


def list_images(folder) -> list[Path]:
    """Sorted image files (by extension, case-insensitive; hidden files skipped) in ``folder``.

    Raises :class:`FileNotFoundError` for a missing folder, :class:`NotADirectoryError`
    for a file, and :class:`ValueError` when the folder holds no image files.
    """
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"folder not found: {str(folder)!r}")
    if not folder.is_dir():
        raise NotADirectoryError(f"not a folder: {str(folder)!r}")
    files = sorted(p for p in folder.iterdir()
                   if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise ValueError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) in folder {str(folder)!r}")
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
