"""A guided tour of the SRResNet generator (chapter 2): what each part computes and costs.

* :func:`pixel_shuffle_reference` / :func:`pixel_shuffle_torch_order`: the pixel shuffle written
  as explicit loops, in the ordering of TensorFlow's ``depth_to_space`` (what
  :class:`srgan_lib.models.PixelShuffle` uses) and in PyTorch's ``nn.PixelShuffle`` ordering;
* :func:`seed_generator`: the seed blog's Keras generator, layer for layer (Conv-ReLU-BN blocks,
  BN momentum 0.8, ``deconv2d`` = Conv2D(256) -> UpSampling2D -> ReLU), named like
  :func:`srgan_lib.models.srresnet` so the two can be compared layer by layer;
* :func:`conv_costs` / :func:`costs_by_part`: parameters and multiply-accumulates of every
  convolution for a given LR size;
* :func:`residual_ratios`: how large each residual branch is compared with the signal it is added
  to, measured inside a trained generator on a real image;
* :func:`prelu_slopes`, :func:`with_prelu_slopes`, :func:`without_block`: the learned PReLU
  slopes, and edited copies of a generator for experiments (the original is never changed);
* :func:`busiest_box`, :func:`window_sr` and :func:`crop_panels`: where to crop (the most textured
  window), the SR crop computed from an LR window only, and ``(title, crop)`` panels with
  PSNR/SSIM of each crop in its title;
* :func:`shipped_training_log`: the training log of a shipped generator (``log.csv``, ``val.csv``).
"""
from __future__ import annotations

import csv
import math

import numpy as np

from srgan_lib.errors import UserError

__all__ = ["pixel_shuffle_reference", "pixel_shuffle_torch_order", "seed_generator", "conv_costs",
           "costs_by_part", "PARTS", "residual_ratios", "prelu_slopes", "with_prelu_slopes",
           "without_block", "window_sr", "crop_panels", "shipped_training_log", "busiest_box"]


def _check_shuffle_input(x, r: int) -> tuple[np.ndarray, int]:
    x = np.asarray(x)
    r = int(r)
    if x.ndim != 4 or r < 1 or x.shape[-1] % (r * r):
        raise UserError(f"pixel shuffle needs (N, H, W, C*r*r) and r >= 1, got {x.shape} and r={r}")
    return x, x.shape[-1] // (r * r)


def pixel_shuffle_reference(x, r: int) -> np.ndarray:
    """``out[n, h*r + i, w*r + j, c] = x[n, h, w, (i*r + j)*C + c]``, with explicit loops: the
    ordering of ``depth_to_space`` (TensorFlow, Keras), where the channel index runs fastest."""
    x, c_out = _check_shuffle_input(x, r)
    n, h, w, _ = x.shape
    out = np.empty((n, h * r, w * r, c_out), x.dtype)
    for i in range(r):
        for j in range(r):
            for c in range(c_out):
                out[:, i::r, j::r, c] = x[:, :, :, (i * r + j) * c_out + c]
    return out


def pixel_shuffle_torch_order(x, r: int) -> np.ndarray:
    """The same rearrangement in PyTorch's ``nn.PixelShuffle`` ordering (channels first there):
    ``out[n, h*r + i, w*r + j, c] = x[n, h, w, c*r*r + i*r + j]`` -- the output channel runs slowest."""
    x, c_out = _check_shuffle_input(x, r)
    n, h, w, _ = x.shape
    out = np.empty((n, h * r, w * r, c_out), x.dtype)
    for i in range(r):
        for j in range(r):
            for c in range(c_out):
                out[:, i::r, j::r, c] = x[:, :, :, c * r * r + i * r + j]
    return out


def seed_generator(num_blocks: int = 16, name: str = "seed_generator"):
    """The seed blog's ``build_generator`` (its Keras reproduction), layer for layer.

    Differences from the paper's Fig. 4 that it keeps on purpose: ReLU instead of PReLU, the
    residual block's order Conv -> ReLU -> BN (the paper: Conv -> BN -> PReLU), BN momentum 0.8,
    and the upsampling block ``deconv2d`` = Conv2D(256, 3) at the *input* resolution, then
    nearest-neighbour UpSampling2D(2), then ReLU, twice (so the second convolution maps 256 to 256
    channels at twice the LR resolution and the last 9x9 convolution reads 256 channels).
    """
    import keras
    from keras import layers

    lr = keras.Input(shape=(None, None, 3), name="lr")
    c1 = layers.Conv2D(64, 9, padding="same", name="head_conv")(lr)
    c1 = layers.Activation("relu", name="head_relu")(c1)
    r = c1
    for b in range(int(num_blocks)):
        p = f"res{b + 1}"
        d = layers.Conv2D(64, 3, padding="same", name=f"{p}_conv1")(r)
        d = layers.Activation("relu", name=f"{p}_relu")(d)
        d = layers.BatchNormalization(momentum=0.8, name=f"{p}_bn1")(d)
        d = layers.Conv2D(64, 3, padding="same", name=f"{p}_conv2")(d)
        d = layers.BatchNormalization(momentum=0.8, name=f"{p}_bn2")(d)
        r = layers.Add(name=f"{p}_add")([d, r])
    c2 = layers.Conv2D(64, 3, padding="same", name="body_conv")(r)
    c2 = layers.BatchNormalization(momentum=0.8, name="body_bn")(c2)
    u = layers.Add(name="long_skip")([c2, c1])
    for k in (1, 2):
        u = layers.Conv2D(256, 3, padding="same", name=f"up{k}_conv")(u)
        u = layers.UpSampling2D(2, name=f"up{k}_nearest")(u)
        u = layers.Activation("relu", name=f"up{k}_relu")(u)
    hr = layers.Conv2D(3, 9, padding="same", activation="tanh", name="tail_conv")(u)
    return keras.Model(lr, hr, name=name)


#: the parts of a generator, by layer-name prefix (the naming of :func:`srgan_lib.models.srresnet`)
PARTS = (("head", "head"), ("res", "residual blocks"), ("body", "body conv + long skip"),
         ("up", "upsampling"), ("tail", "output conv"))


def _part(name: str) -> str:
    for prefix, label in PARTS:
        if name.startswith(prefix):
            return label
    return "other"


def conv_costs(model, lr_height: int = 24, lr_width: int | None = None) -> list[dict]:
    """One row per Conv2D layer of ``model`` for an LR input of ``lr_height`` x ``lr_width``:
    ``{"layer", "part", "kernel", "in", "out", "height", "width", "params", "macs"}``, where
    ``macs = height * width * kernel**2 * in * out`` multiply-accumulates at the layer's output
    size (stride 1, "same" padding: the generators' convolutions)."""
    import keras

    lr_width = lr_height if lr_width is None else lr_width
    convs = [lay for lay in model.layers if isinstance(lay, keras.layers.Conv2D)]
    if not convs:
        raise UserError(f"model {model.name!r} has no Conv2D layer")
    probe = keras.Model(model.input, [lay.output for lay in convs])
    outs = probe(np.zeros((1, int(lr_height), int(lr_width), 3), "float32"))
    rows = []
    for lay, out in zip(convs, outs if isinstance(outs, (list, tuple)) else [outs]):
        kh, kw, cin, cout = (int(v) for v in lay.kernel.shape)
        _, h, w, _ = (int(v) for v in out.shape)
        rows.append({"layer": lay.name, "part": _part(lay.name), "kernel": kh, "in": cin, "out": cout,
                     "height": h, "width": w, "params": int(lay.count_params()),
                     "macs": h * w * kh * kw * cin * cout})
    return rows


def costs_by_part(rows) -> dict[str, dict]:
    """``{part: {"params", "macs"}}`` summed over :func:`conv_costs` rows, in the order of :data:`PARTS`."""
    out: dict[str, dict] = {}
    for label in [lab for _, lab in PARTS] + ["other"]:
        sel = [r for r in rows if r["part"] == label]
        if sel:
            out[label] = {"params": sum(r["params"] for r in sel), "macs": sum(r["macs"] for r in sel)}
    return out


def residual_ratios(generator, lr_uint8) -> list[dict]:
    """For each residual block of an :func:`srgan_lib.models.srresnet` generator (and the long skip),
    on one LR image: ``{"block", "input_rms", "branch_rms", "ratio"}`` where the branch is what the
    block adds (the output of its second BN) and the input what it is added to; ``ratio`` =
    ``branch_rms / input_rms``.  Inference mode (BN moving statistics)."""
    import keras
    from keras import ops

    from srgan_lib.models import lr_from_uint8

    names = [lay.name for lay in generator.layers]
    blocks = sorted({int(n[3:].split("_")[0]) for n in names if n.startswith("res") and n.endswith("_add")})
    if not blocks:
        raise UserError(f"model {generator.name!r} has no residual blocks named res<k>_add")
    pairs = []
    for b in blocks:
        add = generator.get_layer(f"res{b}_add")
        branch = generator.get_layer(f"res{b}_bn2").output
        trunk = [t for t in add.input if t is not branch][0]
        pairs.append((f"block {b}", trunk, branch))
    if "long_skip" in names:
        pairs.append(("long skip", generator.get_layer("head_prelu").output, generator.get_layer("body_bn").output))
    probe = keras.Model(generator.input, [t for _, a, c in pairs for t in (a, c)])
    x = lr_from_uint8(np.asarray(lr_uint8)[None])
    outs = [ops.convert_to_numpy(o).astype(np.float64) for o in probe(x, training=False)]
    rows = []
    for k, (label, _, _) in enumerate(pairs):
        a, c = outs[2 * k], outs[2 * k + 1]
        ra, rc = float(np.sqrt(np.mean(a ** 2))), float(np.sqrt(np.mean(c ** 2)))
        rows.append({"block": label, "input_rms": ra, "branch_rms": rc, "ratio": rc / ra if ra else math.inf})
    return rows


def prelu_slopes(generator) -> dict[str, np.ndarray]:
    """``{layer name: slopes}`` of every PReLU layer (one slope per channel: shared over space)."""
    import keras

    out = {lay.name: np.asarray(lay.get_weights()[0]).reshape(-1) for lay in generator.layers
           if isinstance(lay, keras.layers.PReLU)}
    if not out:
        raise UserError(f"model {generator.name!r} has no PReLU layer")
    return out


def _copy(generator):
    import keras

    copy = keras.models.clone_model(generator)
    copy.set_weights(generator.get_weights())
    return copy


def with_prelu_slopes(generator, value: float = 0.0):
    """A copy of ``generator`` with every PReLU slope set to ``value`` (0: every PReLU becomes a ReLU)."""
    import keras

    prelu_slopes(generator)  # raises if there is none
    copy = _copy(generator)
    for lay in copy.layers:
        if isinstance(lay, keras.layers.PReLU):
            (alpha,) = lay.get_weights()
            lay.set_weights([np.full_like(alpha, float(value))])
    return copy


def without_block(generator, block: int, into=None):
    """A copy of ``generator`` in which residual block ``block`` (1-based) adds nothing: the gamma and
    beta of its second BN are zeroed, so the block is the identity.  ``into``: a copy made before
    (e.g. by an earlier call), which gets the generator's weights again instead of a new clone."""
    names = {lay.name for lay in generator.layers}
    if f"res{int(block)}_bn2" not in names:
        raise UserError(f"model {generator.name!r} has no residual block {block}")
    if into is None:
        copy = _copy(generator)
    else:
        copy = into
        copy.set_weights(generator.get_weights())
    bn = copy.get_layer(f"res{int(block)}_bn2")
    bn.gamma.assign(np.zeros(bn.gamma.shape, "float32"))
    bn.beta.assign(np.zeros(bn.beta.shape, "float32"))
    return copy


def window_sr(method, lr_uint8, box, scale: int = 4, margin: int = 32) -> np.ndarray:
    """The SR crop of HR ``box = (top, left, size)`` (multiples of ``scale``) computed from a window
    of the LR image only: the LR pixels of the box plus ``margin`` LR pixels on every side (clipped
    at the border), super-resolved with ``method`` (``lr uint8 -> sr uint8``), then cut to the box.
    A fully convolutional generator in inference mode gives exactly the whole-image result once the
    margin covers its receptive field (24 LR pixels suffice for the shipped x4 SRResNet); it costs
    a window instead of the whole image."""
    lr = np.asarray(lr_uint8)
    top, left, size = (int(v) for v in box)
    s = int(scale)
    if top % s or left % s or size % s:
        raise UserError(f"box {box} must be made of multiples of the scale {s}")
    t, lt, n = top // s, left // s, size // s
    a, b = max(0, t - margin), max(0, lt - margin)
    window = np.ascontiguousarray(lr[a:t + n + margin, b:lt + n + margin])
    sr = np.asarray(method(window))
    return sr[(t - a) * s:(t - a + n) * s, (lt - b) * s:(lt - b + n) * s]


def crop_panels(images, box, hr=None) -> list[tuple[str, np.ndarray]]:
    """``[(title, crop)]`` of ``images`` (``{label: uint8 image}``) cut to ``box = (top, left, size)``;
    an image that is already ``size`` x ``size`` (e.g. from :func:`window_sr`) is taken as the crop.
    With ``hr`` (whole or cropped alike) each title carries the crop's PSNR (dB) and SSIM on Y
    against the HR crop, with no border (the crop is a window of a whole-image result), and the HR
    crop comes last."""
    from srgan_lib import metrics

    top, left, size = (int(v) for v in box)

    def cut(label, img):
        img = np.asarray(img)
        crop = img if img.shape[:2] == (size, size) else img[top:top + size, left:left + size]
        if crop.shape[:2] != (size, size):
            raise UserError(f"{label}: the box {box} does not fit an image of shape {img.shape}")
        return crop

    ref = None if hr is None else cut("HR", hr)
    panels = []
    for label, img in dict(images).items():
        crop = cut(label, img)
        title = str(label)
        if ref is not None:
            title += (f"\nPSNR {metrics.psnr(crop, ref, border=0):.2f} dB, "
                      f"SSIM {metrics.ssim(crop, ref, border=0):.3f}")
        panels.append((title, crop))
    if ref is not None:
        panels.append(("HR", ref))
    return panels


def shipped_training_log(name: str = "srresnet-mse") -> dict[str, dict[str, np.ndarray]]:
    """``{"log": {column: array}, "val": {column: array}}`` of a shipped generator's training run
    (``training_logs/<name>/`` beside the shipped weights); empty columns are left out."""
    from srgan_lib import weights

    root = weights.shipped_dir()
    folder = None if root is None else root / "training_logs" / name
    if folder is None or not (folder / "log.csv").is_file():
        raise UserError(f"no training log is shipped for {name!r}")
    out = {}
    for key in ("log", "val"):
        path = folder / f"{key}.csv"
        if not path.is_file():
            continue
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
        cols = {}
        for col in (rows[0] if rows else {}):
            values = [r[col] for r in rows]
            if all(v == "" for v in values):
                continue
            try:
                cols[col] = np.array([float(v) for v in values])
            except ValueError:
                cols[col] = np.array(values)
        out[key] = cols
    return out


def busiest_box(hr_uint8, size: int, scale: int = 4, margin: int | None = None) -> tuple[int, int, int]:
    """``(top, left, size)`` of the ``size`` x ``size`` window with the most texture, with ``top``/``left``
    multiples of ``scale`` and at least ``margin`` (default ``2 * scale``) pixels from the border: where a
    crop shows what SR does (:func:`srgan_lib.teaching.degradations.texture_box`, ``"busiest"``)."""
    from srgan_lib.teaching.degradations import texture_box

    return texture_box(hr_uint8, size, scale, "busiest", margin)
