"""Tiled inference: upscale images of any size with a trained generator (``srgan upscale``).

Tiling
------
The LR image is cut into overlapping windows of at most ``tile x tile`` LR pixels (the
network's input, so ``tile`` bounds the memory whatever the image size).  Consecutive
windows overlap by ``2 * overlap`` pixels; of each window's SR output only the *interior*
is kept -- the part at least ``overlap`` LR pixels away from every window edge that is not
also an image edge -- and the interiors are stitched edge to edge.  Windows are all the
same shape (the last one in each row/column is shifted back to end at the image edge), so
a compiled predict function is traced once per image size, not once per tile.

A convolution with ``padding="same"`` zero-pads at the window edge instead of seeing the
neighbouring pixels; the error this introduces travels inwards by the kernel radius per
layer, i.e. by at most the network's *receptive-field radius* ``R`` (in LR pixels).  When
``overlap >= R`` every kept pixel sees exactly the data it sees in whole-image inference,
and windows that touch an image edge get the same zero padding there as the whole image.
BatchNorm in inference mode is a per-pixel affine map, so the tiled result equals the
whole-image result up to float rounding.  Measured (``tests/test_upscale.py``, TF-CPU 2.21):
the kept pixels of a window are bit-identical in float32 to the same pixels of a larger input
for most shapes, but oneDNN (TensorFlow's default CPU kernels) picks its convolution kernel
by tensor shape, and some window shapes change the float32 summation order (|diff| ~1e-6);
graph (``predict_on_batch``) vs eager (``models.super_resolve``) execution does the same.  The
``uint8`` output then differs by exactly 1 at a handful of pixels whose value sits on a .5
rounding boundary (0 to 7 of 40,000 pixels in the tests; 0 with ``TF_ENABLE_ONEDNN_OPTS=0``).
With kernels whose summation order does not depend on the shape -- the JAX backend (XLA), or
TensorFlow with ``TF_ENABLE_ONEDNN_OPTS=0`` set before it is imported -- the tiled ``uint8``
output is byte-identical to whole-image output for every tile size tested
(``test_tiled_uint8_identical_to_whole_with_deterministic_kernels``).  With oneDNN on, the tests
assert identical ``uint8`` except off-by-one at rounding boundaries, and float32 agreement
within 2e-5.

Receptive field of the default SRResNet (16 residual blocks, x4), derived from the kernel
sizes by :func:`receptive_field` walking the layers backwards from the output (an
upsampling by ``f`` maps a radius ``r`` to ``ceil(r / f)`` coarser pixels)::

    tail conv9x9 (HR)                 r = 4   HR pixels
    pixel shuffle x2                  r = ceil(4/2) = 2
    up2 conv3x3                       r = 3
    pixel shuffle x2                  r = ceil(3/2) = 2   LR pixels
    up1 conv3x3                       r = 3
    body conv3x3                      r = 4
    16 blocks x 2 conv3x3             r = 36
    head conv9x9                      r = 40  LR pixels

so **the default model needs ``overlap >= 40``** LR pixels (``srresnet(num_blocks=B)``
needs ``8 + 2*B``; 12 for B=2).  The same number is measured empirically from the gradient
of one output pixel with respect to the input in ``tests/test_upscale.py``.  ``overlap``
defaults to the model's receptive field, ``tile`` to :data:`DEFAULT_TILE` (256 LR pixels,
i.e. 176-pixel interiors with the default overlap).

Images
------
:func:`upscale` takes ``uint8`` arrays ``(H, W)`` (grayscale), ``(H, W, 3)`` (RGB),
``(H, W, 4)`` (RGBA) or a PIL image and returns the same kind.  Grayscale goes through the
network as three equal channels and comes back as one channel (the BT.601 luma
``0.299 R + 0.587 G + 0.114 B`` of the SR output, as Pillow's ``convert("L")``), so grayscale
in gives grayscale out (mode ``L`` / ``(H*s, W*s)``).  Alpha is not fed to the network: it
is upscaled separately with MATLAB-style bicubic (:func:`srgan_lib.degrade.imresize`).
Files are read with :func:`srgan_lib.images.read_image_with_alpha` (palette, 16-bit, EXIF
orientation handled there) and written 8-bit, atomically, never over an existing file
unless asked.

Device
------
``device="cpu"|"gpu"`` runs model loading and inference inside ``keras.device("cpu:0")`` /
``keras.device("gpu:0")``, which is ``tf.device`` on TensorFlow and ``jax.default_device``
on JAX, so it works on either backend without restarting the process (unlike
``CUDA_VISIBLE_DEVICES``, which must be set before the backend is imported).  Asking for
``gpu`` when the backend sees none is an error, never a silent CPU fallback.
"""
from __future__ import annotations

import contextlib
import sys
import types
from pathlib import Path

import numpy as np

__all__ = ["DEFAULT_TILE", "SRRESNET_RECEPTIVE_FIELD", "receptive_field", "tile_windows",
           "upscale", "upscale_file", "device_scope", "output_path_for",
           "add_arguments", "main"]

DEFAULT_TILE = 256
#: Receptive-field radius in LR pixels of the default ``srresnet()`` (16 blocks, x4).
SRRESNET_RECEPTIVE_FIELD = 40

_GRAY_MODES = {"1", "L", "LA", "La", "I", "F"}
_FORMAT_SUFFIX = {"png": ".png", "jpg": ".jpg", "jpeg": ".jpg", "bmp": ".bmp", "tif": ".tif",
                  "tiff": ".tif", "webp": ".webp"}
_NO_ALPHA_SUFFIXES = {".jpg", ".jpeg", ".bmp"}


# ----------------------------------------------------------------------------------------
# receptive field and tiling geometry

def receptive_field(model) -> int:
    """Receptive-field radius of a fully convolutional generator, in LR (input) pixels.

    Walks ``model.layers`` from the output back to the input: a ``Conv2D`` with kernel
    ``k`` and dilation ``d`` adds ``d * (k - 1) // 2`` pixels at its resolution; an
    upsampling by ``f`` (``PixelShuffle``, ``UpSampling2D``) maps a radius ``r`` to
    ``ceil(r / f)`` pixels of the coarser resolution (output pixel ``q`` comes from input
    pixel ``floor(q / f)``).  Every convolution is counted, so for a model with branches
    the result is an upper bound; for SRResNet every convolution lies on the longest path
    (the skips are identities) and the bound is exact: 40 for the default 16-block model,
    ``8 + 2 * num_blocks`` in general.  Layers that move pixels in ways this does not model
    (strides, pooling, transposed convolutions, resizing by non-integers) raise
    ``ValueError``.
    """
    import keras

    radius = 0
    for layer in reversed(model.layers):
        name = type(layer).__name__
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, (keras.layers.Conv2DTranspose,)) or "Pool" in name:
            raise ValueError(f"receptive_field: cannot handle layer {layer.name!r} ({name})")
        if isinstance(layer, keras.layers.Conv2D) or name in ("DepthwiseConv2D", "SeparableConv2D"):
            if any(int(s) != 1 for s in layer.strides):
                raise ValueError(f"receptive_field: strided convolution {layer.name!r} is not supported")
            k = max(int(v) for v in layer.kernel_size)
            d = max(int(v) for v in layer.dilation_rate)
            if layer.padding != "same":
                raise ValueError(f"receptive_field: convolution {layer.name!r} has padding "
                                 f"{layer.padding!r}; tiling needs 'same'")
            radius += d * (k - 1) // 2
        elif name == "PixelShuffle" or isinstance(layer, keras.layers.UpSampling2D):
            f = layer.block_size if name == "PixelShuffle" else max(int(v) for v in layer.size)
            radius = -(-radius // int(f))
        elif isinstance(layer, keras.Model):  # a nested model: recurse
            radius += receptive_field(layer)
    return int(radius)


def tile_windows(length: int, tile: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """Split ``range(length)`` into windows for tiled inference.

    Returns ``(start, stop, keep_start, keep_stop)`` tuples: the network sees
    ``[start, stop)`` (``min(tile, length)`` pixels, all windows the same size) and
    ``[keep_start, keep_stop)`` is the part of its output that is kept.  The kept parts
    partition ``range(length)`` in order, and each lies at least ``overlap`` pixels away
    from every window edge that is not an image edge.  ``tile <= 0`` means one window.
    """
    length, tile, overlap = int(length), int(tile), int(overlap)
    if length < 1:
        raise ValueError(f"cannot tile an empty axis (length {length})")
    if overlap < 0:
        raise ValueError(f"overlap must be >= 0 (got {overlap})")
    if tile <= 0 or length <= tile:
        return [(0, length, 0, length)]
    step = tile - 2 * overlap
    if step < 1:
        raise ValueError(f"tile ({tile}) must be larger than 2 * overlap ({2 * overlap}): "
                         f"use a larger --tile or a smaller --overlap")
    starts = []
    s = 0
    while s + tile < length:
        starts.append(s)
        s += step
    starts.append(length - tile)
    out = []
    prev_end = 0
    for i, s in enumerate(starts):
        e = s + tile
        valid_start = 0 if s == 0 else s + overlap
        valid_end = length if e == length else e - overlap
        keep_end = valid_end if i < len(starts) - 1 else length
        if prev_end < valid_start or keep_end <= prev_end:  # pragma: no cover - geometry guard
            raise AssertionError(f"tiling gap: {starts} {tile} {overlap}")
        out.append((s, e, prev_end, keep_end))
        prev_end = keep_end
    return out


# ----------------------------------------------------------------------------------------
# device selection

def _gpu_available() -> bool:
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf
        return bool(tf.config.list_physical_devices("GPU"))
    if backend == "jax":
        import jax
        try:
            return bool(jax.devices("gpu"))
        except RuntimeError:
            return False
    if backend == "torch":
        import torch
        return bool(torch.cuda.is_available())
    return False


def device_scope(device: str | None):
    """Context manager placing computation on ``"cpu"`` or ``"gpu"`` (``None``: backend default).

    Uses ``keras.device`` (``tf.device`` / ``jax.default_device``).  Raises ``ValueError``
    for ``"gpu"`` when the Keras backend sees no GPU.
    """
    if device is None:
        return contextlib.nullcontext()
    device = str(device).lower()
    if device not in ("cpu", "gpu"):
        raise ValueError(f"device must be 'cpu' or 'gpu' (got {device!r})")
    import keras

    if device == "gpu" and not _gpu_available():
        raise ValueError(f"--device gpu: the {keras.backend.backend()} backend sees no GPU "
                         f"(use --device cpu, or install a GPU build of the backend)")
    return keras.device(f"{device}:0")


# ----------------------------------------------------------------------------------------
# core

def _luma(rgb: np.ndarray) -> np.ndarray:
    y = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    return np.clip(np.rint(y), 0, 255).astype(np.uint8)


def _upscale_alpha(alpha: np.ndarray, scale: int) -> np.ndarray:
    from srgan_lib.degrade import imresize

    h, w = alpha.shape
    up = imresize(alpha.astype(np.float64), output_shape=(h * scale, w * scale))
    return np.clip(np.rint(up), 0, 255).astype(np.uint8)


def _predict(model, lr_uint8: np.ndarray) -> np.ndarray:
    from srgan_lib.models import lr_from_uint8

    x = lr_from_uint8(lr_uint8)[None]
    y = model.predict_on_batch(x)
    return np.asarray(y)[0]


def _sr_rgb(rgb: np.ndarray, model, tile, overlap, scale: int, progress: bool,
            as_float: bool = False) -> np.ndarray:
    """Tiled SR of an RGB uint8 image -> uint8 (or the float32 [-1,1] network output)."""
    from srgan_lib.models import hr_to_uint8

    h, w = rgb.shape[:2]
    if tile is None:
        tile = DEFAULT_TILE
    tile = int(tile)
    if overlap is None:
        overlap = receptive_field(model) if tile > 0 and (h > tile or w > tile) else 0
    rows = tile_windows(h, tile, overlap)
    cols = tile_windows(w, tile, overlap)
    out = np.empty((h * scale, w * scale, 3), dtype=np.float32 if as_float else np.uint8)
    s = scale
    bar = None
    n = len(rows) * len(cols)
    if progress and n > 1:
        from tqdm.auto import tqdm
        bar = tqdm(total=n, desc="tiles", unit="tile", leave=False, disable=None, file=sys.stderr)
    try:
        for (y0, y1, ky0, ky1) in rows:
            for (x0, x1, kx0, kx1) in cols:
                sr = _predict(model, rgb[y0:y1, x0:x1])
                if sr.shape[:2] != ((y1 - y0) * s, (x1 - x0) * s):
                    got = sr.shape[0] / (y1 - y0)
                    raise ValueError(f"the model upscales by {got:g}, not by --scale {scale} "
                                     f"(output {sr.shape[:2]} for input {(y1 - y0, x1 - x0)})")
                crop = sr[(ky0 - y0) * s:(ky1 - y0) * s, (kx0 - x0) * s:(kx1 - x0) * s]
                out[ky0 * s:ky1 * s, kx0 * s:kx1 * s] = crop if as_float else hr_to_uint8(crop)
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return out


def _check_scale(scale) -> int:
    if int(scale) != scale or int(scale) < 1:
        raise ValueError(f"scale must be a positive integer (got {scale!r})")
    return int(scale)


def _upscale_arrays(rgb, alpha, gray: bool, model, tile, overlap, scale, progress):
    sr = _sr_rgb(rgb, model, tile, overlap, scale, progress)
    if gray:
        sr = _luma(sr)
    if alpha is not None:
        a = _upscale_alpha(alpha, scale)
        sr = np.dstack([sr, a]) if gray else np.concatenate([sr, a[:, :, None]], axis=2)
    return sr


def _pil_to_arrays(im):
    """PIL image -> (rgb uint8, alpha or None, gray?, output mode)."""
    mode = im.mode
    if mode.startswith("I") or mode == "F":
        arr = np.asarray(im)
        if mode == "F":
            g = np.clip(np.rint(arr.astype(np.float64)), 0, 255).astype(np.uint8)
        else:
            g = np.clip(np.rint(arr.astype(np.float64) * (255.0 / 65535.0)), 0, 255).astype(np.uint8)
        return np.repeat(g[:, :, None], 3, axis=2), None, True, "L"
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info
    gray = mode in _GRAY_MODES
    if has_alpha:
        rgba = np.asarray(im.convert("RGBA"))
        rgb, alpha = rgba[:, :, :3], rgba[:, :, 3]
    else:
        rgb, alpha = np.asarray(im.convert("RGB")), None
    out_mode = ("LA" if alpha is not None else "L") if gray else ("RGBA" if alpha is not None else "RGB")
    return np.ascontiguousarray(rgb), alpha, gray, out_mode


def upscale(image, model, tile=None, overlap=None, scale=4, progress=False):
    """Super-resolve one image with a generator, in overlapping tiles.

    Args:
        image: ``uint8`` array ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)``,
            or a PIL image (any mode; 16-bit is scaled to 8 bits).
        model: a ``keras.Model`` generator (LR [0,1] -> HR [-1,1]), e.g. from
            :func:`srgan_lib.weights.load_generator`.
        tile: LR window size (the network input); ``None`` -> :data:`DEFAULT_TILE`,
            ``0`` -> whole-image inference in one call.
        overlap: LR pixels of context on each inner window edge; ``None`` -> the model's
            :func:`receptive_field` (40 for the default SRResNet), which makes the result
            equal to whole-image inference.
        scale: the model's upscaling factor (checked against the model's output).
        progress: show a tqdm bar over the tiles.

    Returns:
        The same kind as ``image``: a ``uint8`` array ``(H*s, W*s[, C])`` with the same
        channel layout (grayscale stays one channel, alpha is bicubic-upscaled), or a PIL
        image of mode ``L``, ``LA``, ``RGB`` or ``RGBA``.
    """
    scale = _check_scale(scale)
    try:
        from PIL import Image
        is_pil = isinstance(image, Image.Image)
    except ImportError:  # pragma: no cover
        is_pil = False
    if is_pil:
        rgb, alpha, gray, mode = _pil_to_arrays(image)
        out = _upscale_arrays(rgb, alpha, gray, model, tile, overlap, scale, progress)
        return Image.fromarray(out, mode=mode)
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise ValueError(f"upscale: expected a uint8 image, got dtype {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        return _upscale_arrays(np.repeat(arr, 3, axis=2), None, True, model, tile, overlap,
                               scale, progress)[:, :, None]
    if arr.ndim == 2:
        return _upscale_arrays(np.repeat(arr[:, :, None], 3, axis=2), None, True, model, tile,
                               overlap, scale, progress)
    if arr.ndim == 3 and arr.shape[2] == 3:
        return _upscale_arrays(arr, None, False, model, tile, overlap, scale, progress)
    if arr.ndim == 3 and arr.shape[2] == 4:
        return _upscale_arrays(np.ascontiguousarray(arr[:, :, :3]), arr[:, :, 3], False, model,
                               tile, overlap, scale, progress)
    raise ValueError(f"upscale: expected an image of shape (H,W), (H,W,1), (H,W,3) or (H,W,4), "
                     f"got {arr.shape}")


def _source_is_gray(path) -> bool:
    """Whether the file holds a grayscale image (reads the header only)."""
    from PIL import Image
    try:
        with Image.open(path) as im:
            mode = im.mode
            if mode == "P":
                pal = im.getpalette() or []
                rgb = np.asarray(pal[: (len(pal) // 3) * 3]).reshape(-1, 3)
                return bool(len(rgb)) and bool(np.all(rgb[:, 0] == rgb[:, 1]) and
                                               np.all(rgb[:, 1] == rgb[:, 2]))
            return mode in _GRAY_MODES or mode.startswith("I;16")
    except Exception:
        return False


def upscale_file(input_path, output_path, model, tile=None, overlap=None, scale=4,
                 overwrite=False, progress=False) -> Path:
    """Read ``input_path``, :func:`upscale` it and write ``output_path`` atomically.

    The output format follows ``output_path``'s suffix.  Grayscale files give grayscale
    files, alpha is kept (bicubic).  Raises ``FileExistsError`` (before any work) when
    ``output_path`` exists and ``overwrite`` is false, ``ImageReadError`` (a
    ``ValueError`` naming the file) for an unreadable input.  Returns the output path.
    """
    from srgan_lib.images import read_image_with_alpha, write_image

    scale = _check_scale(scale)
    input_path, output_path = Path(input_path), Path(output_path)
    if output_path.exists() and not overwrite:
        raise FileExistsError(f"refusing to overwrite existing file {str(output_path)!r} "
                              f"(use --overwrite)")
    if input_path.exists() and output_path.exists() and input_path.resolve() == output_path.resolve():
        raise FileExistsError(f"output {str(output_path)!r} would replace its input")
    rgb, alpha = read_image_with_alpha(input_path)
    if alpha is not None and output_path.suffix.lower() in _NO_ALPHA_SUFFIXES:
        raise ValueError(f"{str(input_path)!r} has an alpha channel, which "
                         f"{output_path.suffix} cannot store (use --format png)")
    gray = _source_is_gray(input_path)
    out = _upscale_arrays(rgb, alpha, gray, model, tile, overlap, scale, progress)
    if out.ndim == 3 and out.shape[2] == 2:  # gray + alpha: files store it as RGBA
        out = np.dstack([out[:, :, 0]] * 3 + [out[:, :, 1]])
    return write_image(output_path, out, overwrite=overwrite)


# ----------------------------------------------------------------------------------------
# command line

def output_path_for(src: Path, root: Path | None, out: Path | None, scale: int,
                    fmt: str | None, single_file: bool) -> Path:
    """Where ``srgan upscale`` writes the result for input ``src``.

    ``root`` is the folder given on the command line that ``src`` was found in (None for a
    file argument).  Without ``-o``: a file ``a.png`` gives ``a_x4.png`` beside it and a
    folder ``imgs/`` gives ``imgs_x4/`` (same file names).  With ``-o``: a single file
    argument and an ``-o`` with an image suffix name the output file itself; otherwise
    ``-o`` is a folder receiving files of the same names.  ``fmt`` replaces the suffix.
    """
    suffix = _FORMAT_SUFFIX[fmt] if fmt else src.suffix
    if out is not None:
        from srgan_lib.images import IMAGE_EXTENSIONS
        if single_file and out.suffix.lower() in IMAGE_EXTENSIONS:
            return out if not fmt else out.with_suffix(suffix)
        return out / (src.stem + suffix)
    if root is None:
        return src.with_name(f"{src.stem}_x{scale}{suffix}")
    return root.parent / f"{root.name}_x{scale}" / (src.stem + suffix)


def add_arguments(parser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="image files and/or folders of images (png, jpg, bmp, tif, webp)")
    parser.add_argument("-o", "--output", default=None, metavar="OUT",
                        help="output folder (created if needed), or the output file for a single "
                             "input file; default: a.png -> a_x4.png beside it, folder DIR -> DIR_x4/")
    parser.add_argument("--model", required=True, metavar="RUN_DIR|WEIGHTS|PRESET",
                        help="generator: a training run folder, a .keras / .weights.h5 file or a "
                             "preset name (see srgan_lib.weights)")
    parser.add_argument("--tile", type=int, default=DEFAULT_TILE, metavar="T",
                        help=f"LR tile size fed to the network (bounds memory); 0 = whole image "
                             f"at once (default {DEFAULT_TILE})")
    parser.add_argument("--overlap", type=int, default=None, metavar="O",
                        help="LR pixels of context on each inner tile edge; default: the model's "
                             f"receptive field ({SRRESNET_RECEPTIVE_FIELD} for the default 16-block "
                             "SRResNet), which makes tiled output equal to whole-image output (up to float32 "
                             "rounding: rarely a pixel off by one at a .5 boundary)")
    parser.add_argument("--device", choices=("cpu", "gpu"), default=None,
                        help="run on the CPU or the GPU (keras.device; default: the backend's choice)")
    parser.add_argument("--scale", type=int, default=4, help="upscaling factor of the model (default 4)")
    parser.add_argument("--format", choices=sorted(_FORMAT_SUFFIX), default=None,
                        help="output file format (default: same as each input)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")


def _collect(inputs, out, scale, fmt):
    from srgan_lib.images import list_images

    paths = [Path(p) for p in inputs]
    single_file = len(paths) == 1 and paths[0].is_file()
    jobs = []
    for p in paths:
        if p.is_dir():
            for f in list_images(p):
                jobs.append((f, output_path_for(f, p, out, scale, fmt, False)))
        elif p.exists():
            jobs.append((p, output_path_for(p, None, out, scale, fmt, single_file)))
        else:
            raise FileNotFoundError(f"input not found: {str(p)!r}")
    seen = {}
    for src, dst in jobs:
        key = dst.resolve()
        if key in seen:
            raise ValueError(f"{str(seen[key])!r} and {str(src)!r} would both be written to "
                             f"{str(dst)!r}; use separate -o folders")
        seen[key] = src
    return jobs


def main(args) -> int:
    from srgan_lib.cli import UserError

    scale = _check_scale(args.scale)
    out = Path(args.output) if args.output else None
    jobs = _collect(args.inputs, out, scale, args.format)
    if args.tile < 0:
        raise UserError(f"--tile must be >= 0 (got {args.tile})")
    if args.overlap is not None and args.overlap < 0:
        raise UserError(f"--overlap must be >= 0 (got {args.overlap})")
    from tqdm.auto import tqdm

    failed = 0
    with device_scope(args.device):
        from srgan_lib.weights import load_generator
        model = load_generator(args.model)
        overlap = args.overlap if args.overlap is not None else receptive_field(model)
        if args.tile and args.tile <= 2 * overlap:
            raise UserError(f"--tile {args.tile} must be larger than 2 x overlap ({2 * overlap})")
        many = len(jobs) > 1
        for src, dst in tqdm(jobs, desc="images", unit="img", disable=None if many else True,
                             file=sys.stderr):
            try:
                dst.parent.mkdir(parents=True, exist_ok=True)
                upscale_file(src, dst, model, tile=args.tile, overlap=overlap, scale=scale,
                             overwrite=args.overwrite, progress=True)
            except (ValueError, OSError) as exc:
                failed += 1
                msg = " ".join(str(exc).split())
                if str(src) not in msg:
                    msg = f"{str(src)!r}: {msg}"
                tqdm.write(f"srgan upscale: error: {msg}", file=sys.stderr)
    done = len(jobs) - failed
    print(f"upscaled {done} of {len(jobs)} image(s) x{scale}", file=sys.stderr)
    return 1 if failed else 0


class _CallableModule(types.ModuleType):
    """``import srgan_lib.upscale`` binds the package attribute ``srgan_lib.upscale`` to this
    module; making the module callable keeps ``srgan_lib.upscale(image, model)`` working."""

    def __call__(self, *args, **kwargs):
        return upscale(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
