"""Tiled inference: upscale images of any size with a trained generator (``srgan upscale``).

Tiling
------
The LR image is cut into overlapping windows of at most ``tile x tile`` LR pixels (the
network's input, so ``tile`` bounds the memory whatever the image size).  Consecutive
windows overlap by ``2 * overlap`` pixels; of each window's SR output only the *interior*
is kept -- the part at least ``overlap`` LR pixels away from every window edge that is not
also an image edge -- and the interiors are stitched edge to edge.  Windows are all the
same shape (the last one in each row/column is shifted back to end at the image edge), so
the compiled forward pass (:mod:`srgan_lib.inference`) is built once per image size, not
once per tile, and windows go through it in batches of ``batch``.

A convolution with ``padding="same"`` zero-pads at the window edge instead of seeing the
neighbouring pixels; the error this introduces travels inwards by the kernel radius per
layer, i.e. by at most the network's *receptive-field radius* ``R`` (in LR pixels).  When
``overlap >= R`` every kept pixel sees exactly the data it sees in whole-image inference,
and windows that touch an image edge get the same zero padding there as the whole image.
BatchNorm in inference mode is a per-pixel affine map (and is folded into the convolution
before it, :func:`srgan_lib.inference.fold_batchnorm`), so the tiled result equals the
whole-image result up to float rounding: both compute the same sums, and only the order of
the float32 additions can change with the window shape, where the backend's kernels choose it
(TensorFlow's default CPU kernels, oneDNN, pick an algorithm per shape; XLA's fusions on JAX
can move the last bit).  A value that sits within that rounding error of a .5 boundary can
then come out one step higher or lower in ``uint8``.  ``tests/test_upscale.py`` asserts tiled
``uint8`` output byte-identical to whole-image output of the same predictor on JAX and on
TensorFlow with ``TF_ENABLE_ONEDNN_OPTS=0`` (set before it is imported), and off by one only
at rounding boundaries with oneDNN.

Receptive field of the default SRResNet (16 residual blocks, x4), derived from the kernel
sizes by :func:`receptive_radius` walking the layers backwards from the output (an
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
needs ``8 + 2*B``; 12 for B=2); ``tests/test_upscale.py`` checks the formula against the
gradient of one output pixel with respect to the input.  ``overlap`` defaults to the model's
receptive field, ``tile`` to :data:`DEFAULT_TILE`: the largest window (a multiple of 8 LR pixels)
whose activations stay within :data:`TILE_MEMORY_BUDGET` (2 GiB) for the paper's x4 SRResNet, 344 LR
pixels, so that a typical photo (e.g. 240x320) is one piece and pays for no overlap.

Memory
------
The image is processed window by window: besides the input and one batch of windows, only
the ``uint8`` output exists at full size (:func:`upscale_file` pastes the tiles straight into
the Pillow image it saves).  Alpha is not fed to the network: it is upscaled with
MATLAB-style bicubic (:func:`srgan_lib.degrade.imresize`) per kept tile, from a window with
:data:`ALPHA_MARGIN` LR pixels of context, enough for the 4-tap bicubic kernel, so it equals
the whole-image resize exactly.

Images
------
:func:`upscale` takes ``uint8`` arrays ``(H, W)`` (grayscale), ``(H, W, 1)``,
``(H, W, 3)`` (RGB), ``(H, W, 4)`` (RGBA) or a PIL image and returns the same kind.  Images
are converted by :func:`srgan_lib.images.pixels_from_pil` (palette, 16-bit, EXIF orientation).
Grayscale goes through the network as three equal channels and comes back as one channel
(the BT.601 luma of the SR output, computed by Pillow's ``convert("L")``), so grayscale in
gives grayscale out (mode ``L`` / ``LA``).  Files are written 8-bit, atomically, never over
an existing file unless asked, and never over an input of the same command.

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
import math
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from srgan_lib.degrade import check_scale
from srgan_lib.errors import UserError

__all__ = ["DEFAULT_TILE", "BATCH_PIXELS", "TILE_MEMORY_BUDGET", "PREDICTOR_BYTES_PER_LR_PIXEL", "ALPHA_MARGIN", "SRRESNET_RECEPTIVE_FIELD",
           "receptive_radius", "tile_windows", "upscale", "upscale_file", "device_scope",
           "output_path_for", "checked_predictor", "OUTPUT_FORMATS"]

#: Peak memory of one call of the compiled paper's SRResNet (x4, :mod:`srgan_lib.inference`) per LR
#: pixel of its input, the larger of the two backends (TensorFlow; ``bench/RESULTS.md``).
PREDICTOR_BYTES_PER_LR_PIXEL = 18_000
#: The memory the network's activations may take in one call when ``tile`` and ``batch`` are not given.
TILE_MEMORY_BUDGET = 2 * 1024 ** 3
#: The largest multiple of 8 whose square window fits :data:`TILE_MEMORY_BUDGET` (344 LR pixels).
DEFAULT_TILE = math.isqrt(TILE_MEMORY_BUDGET // PREDICTOR_BYTES_PER_LR_PIXEL) // 8 * 8
#: LR pixels per call of the compiled forward pass when ``batch`` is not given: one default window,
#: or as many smaller windows as hold the same pixels.
BATCH_PIXELS = DEFAULT_TILE ** 2
#: LR pixels of context around each kept tile for the bicubic upscale of alpha (the kernel
#: reaches 2 LR pixels).
ALPHA_MARGIN = 3
#: Receptive-field radius in LR pixels of the default ``srresnet()`` (16 blocks, x4).
SRRESNET_RECEPTIVE_FIELD = 40
#: Memory per output pixel beside the tiles: the Pillow output image and its encoder.
OUTPUT_BYTES_PER_PIXEL = 8


def input_bytes_per_pixel(scale: int, tile) -> int:
    """Memory per input pixel of upscaling a file by ``scale``: decoding, the output image, and,
    with ``tile`` 0 (one piece), the generator's activations over the whole output."""
    from srgan_lib.data.benchmark import GENERATOR_BYTES_PER_PIXEL
    from srgan_lib.images import DECODE_BYTES_PER_PIXEL

    per_output = OUTPUT_BYTES_PER_PIXEL + (GENERATOR_BYTES_PER_PIXEL if tile is not None and int(tile) == 0 else 0)
    return DECODE_BYTES_PER_PIXEL + per_output * int(scale) ** 2

OUTPUT_FORMATS = {"png": ".png", "jpg": ".jpg", "jpeg": ".jpg", "bmp": ".bmp", "tif": ".tif",
                  "tiff": ".tif", "webp": ".webp"}
_NO_ALPHA_SUFFIXES = {".jpg", ".jpeg", ".bmp"}
_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


# ----------------------------------------------------------------------------------------
# receptive field and tiling geometry

def receptive_radius(model) -> int:
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
    :class:`~srgan_lib.errors.UserError` (a ``ValueError``).
    """
    import keras

    radius = 0
    for layer in reversed(model.layers):
        name = type(layer).__name__
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, (keras.layers.Conv2DTranspose,)) or "Pool" in name:
            raise UserError(f"receptive_radius: cannot handle layer {layer.name!r} ({name})")
        if isinstance(layer, keras.layers.Conv2D) or name in ("DepthwiseConv2D", "SeparableConv2D"):
            if any(int(s) != 1 for s in layer.strides):
                raise UserError(f"receptive_radius: strided convolution {layer.name!r} is not supported")
            k = max(int(v) for v in layer.kernel_size)
            d = max(int(v) for v in layer.dilation_rate)
            if layer.padding != "same":
                raise UserError(f"receptive_radius: convolution {layer.name!r} has padding "
                                 f"{layer.padding!r}; tiling needs 'same'")
            radius += d * (k - 1) // 2
        elif name == "PixelShuffle" or isinstance(layer, keras.layers.UpSampling2D):
            f = layer.block_size if name == "PixelShuffle" else max(int(v) for v in layer.size)
            radius = -(-radius // int(f))
        elif isinstance(layer, keras.Model):  # a nested model: recurse
            radius += receptive_radius(layer)
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
        raise UserError(f"cannot tile an empty axis (length {length})")
    if overlap < 0:
        raise UserError(f"overlap must be >= 0 (got {overlap})")
    if tile <= 0 or length <= tile:
        return [(0, length, 0, length)]
    step = tile - 2 * overlap
    if step < 1:
        raise UserError(f"tile ({tile}) must be larger than 2 * overlap ({2 * overlap}): "
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
    return any(d.startswith("gpu") for d in keras.distribution.list_devices())


def device_scope(device: str | None):
    """Context manager placing computation on ``"cpu"`` or ``"gpu"`` (``None``: backend default).

    Uses ``keras.device`` (``tf.device`` / ``jax.default_device``).  Raises
    :class:`~srgan_lib.errors.UserError` for ``"gpu"`` when the Keras backend sees no GPU.
    """
    if device is None:
        return contextlib.nullcontext()
    device = str(device).lower()
    if device not in ("cpu", "gpu"):
        raise UserError(f"device must be 'cpu' or 'gpu' (got {device!r})")
    import keras

    if device == "gpu" and not _gpu_available():
        raise UserError(f"--device gpu: the {keras.backend.backend()} backend sees no GPU "
                        f"(use --device cpu, or install a GPU build of the backend)")
    return keras.device(f"{device}:0")


# ----------------------------------------------------------------------------------------
# core: windows -> batches -> kept tiles

def _sr_tiles(rgb, forward, scale: int, tile, overlap, batch, progress: bool):
    """Run ``forward`` (uint8 ``(N, h, w, 3)`` -> ``(N, h*s, w*s, C)``) over the windows of the
    RGB uint8 image ``rgb`` and yield ``((y0, y1, x0, x1), sr)`` for each kept tile: its LR
    rows/columns and its SR pixels, in row-major order."""
    h, w = rgb.shape[:2]
    rows, cols = tile_windows(h, tile, overlap), tile_windows(w, tile, overlap)
    windows = [(r, c) for r in rows for c in cols]
    wh, ww = rows[0][1] - rows[0][0], cols[0][1] - cols[0][0]
    if batch is None:
        batch = max(1, BATCH_PIXELS // (wh * ww))
    batch = min(int(batch), len(windows))
    lr = np.empty((batch, wh, ww, 3), np.uint8)
    s = scale
    bar = None
    if progress and len(windows) > 1:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(windows), desc="tiles", unit="tile", leave=False, disable=None,
                   file=sys.stderr)
    try:
        for i in range(0, len(windows), batch):
            group = windows[i:i + batch]
            for j, ((y0, y1, _, _), (x0, x1, _, _)) in enumerate(group):
                lr[j] = rgb[y0:y1, x0:x1]
            lr[len(group):] = lr[len(group) - 1]  # pad the last batch: one shape, one compile
            sr = forward(lr)
            for j, ((y0, _, ky0, ky1), (x0, _, kx0, kx1)) in enumerate(group):
                yield (ky0, ky1, kx0, kx1), sr[j, (ky0 - y0) * s:(ky1 - y0) * s,
                                               (kx0 - x0) * s:(kx1 - x0) * s]
            if bar is not None:
                bar.update(len(group))
    finally:
        if bar is not None:
            bar.close()


def _alpha_tile(alpha, box, scale: int) -> np.ndarray:
    """Bicubic x``scale`` of ``alpha[y0:y1, x0:x1]``, computed from a window with
    :data:`ALPHA_MARGIN` pixels of context: equal to the same part of the whole-image resize."""
    from srgan_lib.degrade import imresize

    (y0, y1, x0, x1), m, s = box, ALPHA_MARGIN, scale
    h, w = alpha.shape
    a0, a1, b0, b1 = max(0, y0 - m), min(h, y1 + m), max(0, x0 - m), min(w, x1 + m)
    up = imresize(alpha[a0:a1, b0:b1], output_shape=((a1 - a0) * s, (b1 - b0) * s))
    up = up[(y0 - a0) * s:(y1 - a0) * s, (x0 - b0) * s:(x1 - b0) * s]
    return np.clip(np.rint(up), 0, 255).astype(np.uint8)


def _output_tiles(px, predictor, tile, overlap, batch, progress):
    """Yield ``(y, x, tile)``: the final uint8 pixels (gray: 1 channel, then alpha) of each kept
    tile and its top-left corner in the output."""
    s = predictor.scale
    h, w = px.rgb.shape[:2]
    if tile is None:
        tile = DEFAULT_TILE
    tile = int(tile)
    if overlap is None:
        overlap = receptive_radius(predictor.model) if tile > 0 and (h > tile or w > tile) else 0
    for box, sr in _sr_tiles(px.rgb, predictor, s, tile, overlap, batch, progress):
        parts = [np.asarray(Image.fromarray(sr).convert("L"))[:, :, None] if px.gray else sr]
        if px.alpha is not None:
            parts.append(_alpha_tile(px.alpha, box, s)[:, :, None])
        out = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=2)
        yield box[0] * s, box[2] * s, out


def _channels(px) -> int:
    return (1 if px.gray else 3) + (px.alpha is not None)


def _to_array(px, predictor, tile, overlap, batch, progress) -> np.ndarray:
    h, w = px.rgb.shape[:2]
    s = predictor.scale
    out = np.empty((h * s, w * s, _channels(px)), np.uint8)
    for y, x, t in _output_tiles(px, predictor, tile, overlap, batch, progress):
        out[y:y + t.shape[0], x:x + t.shape[1]] = t
    return out


def _to_pil(px, predictor, tile, overlap, batch, progress):
    h, w = px.rgb.shape[:2]
    s = predictor.scale
    im = Image.new(_MODES[_channels(px)], (w * s, h * s))
    for y, x, t in _output_tiles(px, predictor, tile, overlap, batch, progress):
        im.paste(Image.fromarray(t[:, :, 0] if t.shape[2] == 1 else t), (x, y))
    return im


def checked_predictor(model, scale):
    """``model`` compiled (:func:`srgan_lib.inference.make_predictor`) unless it is a predictor;
    a ``scale`` other than the model's is a :class:`UserError`."""
    from srgan_lib.inference import Predictor, make_predictor

    predictor = model if isinstance(model, Predictor) else make_predictor(model)
    if scale is not None and check_scale(scale) != predictor.scale:
        raise UserError(f"the model upscales by {predictor.scale}, not by scale {scale}")
    return predictor


def _pixels_from_array(image):
    from srgan_lib.images import Pixels

    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise ValueError(f"upscale: expected a uint8 image, got dtype {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 2:
        return Pixels(np.repeat(arr[:, :, None], 3, axis=2), None, True)
    if arr.ndim == 3 and arr.shape[2] in (3, 4):
        return Pixels(np.ascontiguousarray(arr[:, :, :3]),
                      arr[:, :, 3] if arr.shape[2] == 4 else None, False)
    raise ValueError(f"upscale: expected an image of shape (H,W), (H,W,1), (H,W,3) or (H,W,4), "
                     f"got {arr.shape}")


def upscale(image, model, tile=None, overlap=None, scale=None, progress=False, batch=None):
    """Super-resolve one image with a generator, in overlapping tiles.

    Args:
        image: ``uint8`` array ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)``,
            or a PIL image (any mode; 16-bit is scaled to 8 bits, EXIF orientation applied).
        model: a ``keras.Model`` generator (LR [0,1] -> HR [-1,1]), e.g. from
            :func:`srgan_lib.weights.load_generator`, or a
            :class:`srgan_lib.inference.Predictor` built from one with
            :func:`srgan_lib.inference.make_predictor` (build it once for many images: a
            model is compiled anew on every call).
        tile: LR window size (the network input); ``None`` -> :data:`DEFAULT_TILE`,
            ``0`` -> whole-image inference in one call.
        overlap: LR pixels of context on each inner window edge; ``None`` -> the model's
            :func:`receptive_radius` (40 for the default SRResNet), which makes the result
            equal to whole-image inference.
        scale: the upscaling factor expected of the model (``None``: the model's own).
        progress: show a tqdm bar over the tiles.
        batch: windows per call of the forward pass; ``None`` -> :data:`BATCH_PIXELS` LR
            pixels per call.

    Returns:
        The same kind as ``image``: a ``uint8`` array ``(H*s, W*s[, C])`` with the same
        channel layout (grayscale stays one channel, alpha is bicubic-upscaled), or a PIL
        image of mode ``L``, ``LA``, ``RGB`` or ``RGBA``.
    """
    predictor = checked_predictor(model, scale)
    if isinstance(image, Image.Image):
        from srgan_lib.images import pixels_from_pil
        return _to_pil(pixels_from_pil(image), predictor, tile, overlap, batch, progress)
    out = _to_array(_pixels_from_array(image), predictor, tile, overlap, batch, progress)
    keep_axis = np.ndim(image) == 3
    return out if keep_axis else out[:, :, 0]


def upscale_file(input_path, output_path, model, tile=None, overlap=None, scale=None,
                 overwrite=False, progress=False, batch=None) -> Path:
    """Read ``input_path``, :func:`upscale` it and write ``output_path`` atomically.

    The output format follows ``output_path``'s suffix.  Grayscale files give grayscale
    files, alpha is kept (bicubic).  Raises :class:`~srgan_lib.errors.OutputExistsError`
    (before any work) when ``output_path`` exists and ``overwrite`` is false,
    :class:`~srgan_lib.errors.UserError` when it is the input itself or cannot store the
    input's alpha, :class:`~srgan_lib.images.ImageReadError` for an unreadable input, and
    :class:`~srgan_lib.images.ImageTooLargeError` for one whose output (or, with ``tile=0``,
    whole-image inference) would not fit in memory (:func:`input_bytes_per_pixel`).
    Returns the output path.
    """
    from srgan_lib.atomic import refuse_existing
    from srgan_lib.images import read_pixels, write_image

    input_path, output_path = Path(input_path), Path(output_path)
    if output_path.resolve() == input_path.resolve():
        raise UserError(f"output {str(output_path)!r} would replace its input")
    refuse_existing([output_path], overwrite)
    predictor = checked_predictor(model, scale)
    whole = tile is not None and int(tile) == 0
    work = (f"upscaling it x{predictor.scale} in one piece (--tile 0; tiles, e.g. --tile {DEFAULT_TILE}, need "
            f"far less)" if whole else f"upscaling it x{predictor.scale}")
    px = read_pixels(input_path, bytes_per_pixel=input_bytes_per_pixel(predictor.scale, tile), work=work)
    if px.alpha is not None and output_path.suffix.lower() in _NO_ALPHA_SUFFIXES:
        raise UserError(f"{str(input_path)!r} has an alpha channel, which "
                        f"{output_path.suffix} cannot store (use --format png)")
    im = _to_pil(px, predictor, tile, overlap, batch, progress)
    return write_image(output_path, im, overwrite=overwrite)


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
    suffix = OUTPUT_FORMATS[fmt] if fmt else src.suffix
    if out is not None:
        from srgan_lib.images import IMAGE_EXTENSIONS
        if single_file and out.suffix.lower() in IMAGE_EXTENSIONS:
            return out if not fmt else out.with_suffix(suffix)
        return out / (src.stem + suffix)
    if root is None:
        return src.with_name(f"{src.stem}_x{scale}{suffix}")
    return root.parent / f"{root.name}_x{scale}" / (src.stem + suffix)
