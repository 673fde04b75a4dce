"""SRResNet generator and SRGAN discriminator (Ledig et al., CVPR 2017, Fig. 4).

Value ranges (paper, Sec. 3.2): the generator takes LR images scaled to [0, 1] and
produces HR images in [-1, 1] (tanh output).  The discriminator takes HR-range images
([-1, 1]) and returns *logits* (no sigmoid): the losses in :mod:`srgan_lib.losses` work on
logits so that they stay finite for confident predictions.

Generator (``srresnet``), Fig. 4 top::

    LR -> conv9x9(64) -> PReLU ---------------------------------+  (long skip)
       -> B x [conv3x3(64) -> BN -> PReLU -> conv3x3(64) -> BN -> + skip]
       -> conv3x3(64) -> BN -> + long skip
       -> log2(scale) x [conv3x3(256) -> pixel shuffle x2 -> PReLU]
       -> conv9x9(3) -> tanh -> SR

PReLU has one learned slope per channel (``shared_axes=[1, 2]``), so the model is fully
convolutional and accepts LR images of any height and width.  The slopes start at
``prelu_init`` = 0.25, the initialisation of He et al. ("Delving Deep into Rectifiers", ICCV
2015), whose PReLU the paper uses; Keras' own default (0, a ReLU at the start) is
``prelu_init=0``.

Mixed precision: under a ``mixed_*`` dtype policy the layers compute in the low-precision type,
except the generator's last convolution + tanh and the discriminator's logit layer, which are
pinned to float32 (the Keras mixed-precision guide's advice for the numerically sensitive output
layers): the SR image and the logits are always float32.

``upsample="nearest"`` replaces each sub-pixel block by a *resize-convolution* (Odena et
al., "Deconvolution and Checkerboard Artifacts", Distill 2016)::

    UpSampling2D(2, nearest) -> conv3x3(filters) -> PReLU

This is the upsampler of the seed blog's Keras reproduction (which used nearest-neighbour
``UpSampling2D``) with two deliberate changes: the convolution comes *after* the
upsampling and maps ``filters -> filters`` channels (the seed convolved to 256 channels
first and kept 256 channels through both blocks), and PReLU is used instead of ReLU.  With
this choice every upsampling block of both variants outputs ``filters`` channels, so the
two generators differ only in the upsampling operator (learned sub-pixel convolution vs.
fixed nearest-neighbour resize) and are directly comparable.

Discriminator (``discriminator``), Fig. 4 bottom: eight conv3x3 layers with
64-64-128-128-256-256-512-512 filters and strides 1-2-1-2-1-2-1-2, LeakyReLU(0.2), batch
normalisation on every convolution except the first.  ``head="dense"`` is the paper's head
(Flatten -> Dense(1024) -> LeakyReLU(0.2) -> Dense(1)), one logit per image, shape (N, 1).
``head="patch"`` is a PatchGAN-style variant after the seed blog: the same convolutional trunk
followed by a single conv3x3 with one output channel, one logit per position on a 16-pixel grid,
shape (N, H/16, W/16, 1), each seeing 93x93 input pixels (the seed's own head, Dense(1024) ->
Dense(1, sigmoid) applied per position of the 4-D map, sees 61x61).  The seed trained its
discriminator with least-squares targets (see :func:`srgan_lib.losses.lsgan_discriminator_loss`)
and its generator with binary cross-entropy, i.e. -log D (Eq. 6); the patch
head is fully convolutional and accepts any input size (``input_shape`` may contain None).

Exact parameter counts (``model.count_params()``, including the BN moving statistics):

- ``srresnet()`` (scale 4, 16 blocks, 64 filters): 1,554,883 (1,550,659 trainable)
- ``srresnet(upsample="nearest")``: 1,333,315
- ``srresnet(scale=2)``: 1,407,107; ``srresnet(scale=8)``: 1,702,659
- ``discriminator()`` (96x96x3, dense head): 23,569,217
- ``discriminator(head="patch")`` (any input size): 4,697,409
"""
from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers, ops

__all__ = [
    "PixelShuffle", "srresnet", "residual_block", "subpixel_block", "resize_conv_block", "discriminator", "PRELU_INIT",
    "LR_FROM_UINT8", "HR_FROM_UINT8", "lr_from_uint8", "hr_from_uint8", "hr_to_uint8",
    "super_resolve", "params_by_layer_type",
]

UPSAMPLE_MODES = ("subpixel", "nearest")
DISCRIMINATOR_HEADS = ("dense", "patch")
#: initial PReLU slope (He et al. 2015, the paper's PReLU)
PRELU_INIT = 0.25

#: The one uint8 -> float conversion of the library, as 256-entry float32 tables indexed by the
#: uint8 value: ``LR_FROM_UINT8[v] = v / 255`` (LR range [0, 1]) and
#: ``HR_FROM_UINT8[v] = v / 127.5 - 1`` (HR range [-1, 1]), each computed in float32.  The host
#: patch pipeline, the on-device patch gather of the training loop and :func:`lr_from_uint8` /
#: :func:`hr_from_uint8` all look values up here, so they agree bit for bit (a device computing
#: ``v * (1/255)`` or a fused multiply-add would not).
LR_FROM_UINT8 = np.arange(256, dtype=np.float32) / np.float32(255.0)
HR_FROM_UINT8 = np.arange(256, dtype=np.float32) / np.float32(127.5) - np.float32(1.0)
LR_FROM_UINT8.flags.writeable = False
HR_FROM_UINT8.flags.writeable = False


@keras.saving.register_keras_serializable(package="srgan_lib")
class PixelShuffle(layers.Layer):
    """Sub-pixel convolution's rearrangement ("pixel shuffle", Shi et al., CVPR 2016).

    (N, H, W, C*r*r) -> (N, H*r, W*r, C) with the TensorFlow ``depth_to_space`` ordering:
    ``out[n, h*r + i, w*r + j, c] = in[n, h, w, (i*r + j)*C + c]``.  Written as a reshape to
    (N, H, W, r, r, C), a transpose to (N, H, r, W, r, C) and a reshape, with ``keras.ops``, so it
    runs on every backend and every Keras 3 release (``keras.ops.depth_to_space`` arrived only in
    Keras 3.14, and the Keras Colab preinstalls may be older: tests/colab/colab-constraints.txt).
    """

    def __init__(self, block_size: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.block_size = int(block_size)

    def call(self, x):
        r = self.block_size
        n, h, w, c = ops.shape(x)
        x = ops.reshape(x, (n, h, w, r, r, c // (r * r)))
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
        return ops.reshape(x, (n, h * r, w * r, c // (r * r)))

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        r = self.block_size
        return (n, None if h is None else h * r, None if w is None else w * r,
                None if c is None else c // (r * r))

    def get_config(self):
        return {**super().get_config(), "block_size": self.block_size}


def residual_block(x, filters: int, name: str, bn_momentum: float = 0.99, prelu_init: float = PRELU_INIT):
    """One residual block of Fig. 4: conv3x3 -> BN -> PReLU -> conv3x3 -> BN, added to ``x``."""
    y = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv1")(x)
    y = layers.BatchNormalization(momentum=bn_momentum, name=f"{name}_bn1")(y)
    y = _prelu(f"{name}_prelu", prelu_init)(y)
    y = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(y)
    y = layers.BatchNormalization(momentum=bn_momentum, name=f"{name}_bn2")(y)
    return layers.Add(name=f"{name}_add")([x, y])


def subpixel_block(x, filters: int, name: str, prelu_init: float = PRELU_INIT):
    """One x2 upsampling step of Fig. 4: conv3x3 to ``4 * filters`` channels -> pixel shuffle -> PReLU."""
    x = layers.Conv2D(filters * 4, 3, padding="same", name=f"{name}_conv")(x)
    x = PixelShuffle(2, name=f"{name}_shuffle")(x)
    return _prelu(f"{name}_prelu", prelu_init)(x)


def resize_conv_block(x, filters: int, name: str, prelu_init: float = PRELU_INIT):
    """One x2 resize-convolution step: nearest-neighbour x2 -> conv3x3 -> PReLU (see the module docstring)."""
    x = layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_nearest")(x)
    x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv")(x)
    return _prelu(f"{name}_prelu", prelu_init)(x)


def _prelu(name: str, prelu_init: float):
    return layers.PReLU(alpha_initializer=keras.initializers.Constant(float(prelu_init)), shared_axes=[1, 2],
                        name=name)


def srresnet(scale: int = 4, num_blocks: int = 16, filters: int = 64,
             upsample="subpixel", name: str = "srresnet",
             bn_momentum: float = 0.99, prelu_init: float = PRELU_INIT, block=None) -> keras.Model:
    """Build the SRResNet generator of Fig. 4 (also SRGAN's generator).

    Args:
        scale: upscaling factor, 2, 4 or 8 (``log2(scale)`` x2 upsampling blocks).
        num_blocks: number of residual blocks B (16 in the paper).
        filters: feature channels (64 in the paper).
        upsample: ``"subpixel"`` (the paper: :func:`subpixel_block`), ``"nearest"`` (the
            resize-convolution, :func:`resize_conv_block`) or your own function
            ``(x, filters, name) -> y`` that builds one x2 step on the Keras tensor ``x``.
        name: model name.
        bn_momentum: momentum of the batch-normalisation moving statistics.
        prelu_init: initial slope of every PReLU (0.25: He et al. 2015; 0: Keras' default).
        block: None (the paper's :func:`residual_block`) or your own function
            ``(x, filters, name) -> y`` that builds one residual block on ``x`` (``y`` must have
            ``filters`` channels); ``name`` is unique per block.

    Returns:
        A functional ``keras.Model`` mapping (N, h, w, 3) LR in [0, 1] to
        (N, h*scale, w*scale, 3) HR in [-1, 1]; h and w can be anything.
    """
    if scale not in (2, 4, 8):
        raise ValueError(f"srresnet: scale must be 2, 4 or 8 (got {scale!r})")
    if not callable(upsample) and upsample not in UPSAMPLE_MODES:
        raise ValueError(f"srresnet: upsample must be one of {UPSAMPLE_MODES} or a function (got {upsample!r})")
    if block is not None and not callable(block):
        raise ValueError(f"srresnet: block must be None or a function (x, filters, name) -> y (got {block!r})")
    if int(num_blocks) < 0 or int(filters) < 1:
        raise ValueError(f"srresnet: need num_blocks >= 0 and filters >= 1 "
                         f"(got num_blocks={num_blocks!r}, filters={filters!r})")
    num_blocks, filters = int(num_blocks), int(filters)
    if block is None:
        def block(x, filters, name):
            return residual_block(x, filters, name, bn_momentum, prelu_init)
    if not callable(upsample):
        step = subpixel_block if upsample == "subpixel" else resize_conv_block

        def upsample(x, filters, name):
            return step(x, filters, name, prelu_init)

    lr = keras.Input(shape=(None, None, 3), name="lr")
    x = layers.Conv2D(filters, 9, padding="same", name="head_conv")(lr)
    x = _prelu("head_prelu", prelu_init)(x)
    head = x
    for b in range(num_blocks):
        x = block(x, filters, f"res{b + 1}")
    x = layers.Conv2D(filters, 3, padding="same", name="body_conv")(x)
    x = layers.BatchNormalization(momentum=bn_momentum, name="body_bn")(x)
    x = layers.Add(name="long_skip")([head, x])
    for u in range(int(round(math.log2(scale)))):
        x = upsample(x, filters, f"up{u + 1}")
    sr = layers.Conv2D(3, 9, padding="same", activation="tanh", name="tail_conv", dtype="float32")(x)
    return keras.Model(lr, sr, name=name)


def discriminator(input_shape=(96, 96, 3), head="dense", name: str = "discriminator",
                  bn_momentum: float = 0.99) -> keras.Model:
    """Build the SRGAN discriminator of Fig. 4 (``head="dense"``) or a PatchGAN-style
    variant after the seed (``head="patch"``).  Outputs logits / scores, never probabilities.

    Args:
        input_shape: (H, W, 3) of the HR patches; the dense head needs fixed H and W
            (Flatten), the patch head accepts None.
        head: ``"dense"`` -> (N, 1) logits; ``"patch"`` -> (N, ceil(H/16), ceil(W/16), 1); or a
            callable ``head(x) -> logits`` on the trunk's (N, H/16, W/16, 512) feature map, a
            reader's own head (its output is cast to float32, like the library's heads).
    """
    if not callable(head) and head not in DISCRIMINATOR_HEADS:
        raise ValueError(f"discriminator: head must be one of {DISCRIMINATOR_HEADS} or a callable "
                         f"(got {head!r})")
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError(f"discriminator: input_shape must be (H, W, C) (got {input_shape!r})")
    if head == "dense" and (input_shape[0] is None or input_shape[1] is None):
        raise ValueError("discriminator: the dense head needs a fixed input size "
                         f"(got input_shape={input_shape!r}); use head='patch' for any size")

    hr = keras.Input(shape=input_shape, name="hr")
    x = hr
    spec = [(64, 1), (64, 2), (128, 1), (128, 2), (256, 1), (256, 2), (512, 1), (512, 2)]
    for i, (f, s) in enumerate(spec):
        p = f"d{i + 1}"
        x = layers.Conv2D(f, 3, strides=s, padding="same", name=f"{p}_conv")(x)
        if i > 0:
            x = layers.BatchNormalization(momentum=bn_momentum, name=f"{p}_bn")(x)
        x = layers.LeakyReLU(negative_slope=0.2, name=f"{p}_lrelu")(x)
    if callable(head):
        out = head(x)
        if keras.backend.standardize_dtype(out.dtype) != "float32":
            out = layers.Activation("linear", dtype="float32", name="logits_float32")(out)
    elif head == "dense":
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(1024, name="fc1")(x)
        x = layers.LeakyReLU(negative_slope=0.2, name="fc1_lrelu")(x)
        out = layers.Dense(1, name="logit", dtype="float32")(x)
    else:
        out = layers.Conv2D(1, 3, padding="same", name="patch_logits", dtype="float32")(x)
    return keras.Model(hr, out, name=name)


# ----------------------------------------------------------------------------------------
# numpy helpers for the value ranges (LR in [0, 1], HR in [-1, 1])

def lr_from_uint8(x) -> np.ndarray:
    """uint8 (0..255) -> float32 in [0, 1] (generator input range), looked up in
    :data:`LR_FROM_UINT8`; other dtypes are converted with the same float32 formula."""
    x = np.asarray(x)
    if x.dtype == np.uint8:
        return LR_FROM_UINT8[x]
    return x.astype(np.float32) / np.float32(255.0)


def hr_from_uint8(x) -> np.ndarray:
    """uint8 (0..255) -> float32 in [-1, 1] (generator output / discriminator input range),
    looked up in :data:`HR_FROM_UINT8`; other dtypes are converted with the same float32 formula."""
    x = np.asarray(x)
    if x.dtype == np.uint8:
        return HR_FROM_UINT8[x]
    return x.astype(np.float32) / np.float32(127.5) - np.float32(1.0)


def hr_to_uint8(y) -> np.ndarray:
    """float in [-1, 1] -> uint8, ``round((y + 1) * 127.5)`` clipped to 0..255."""
    y = np.asarray(y, dtype=np.float64)
    return np.clip(np.round((y + 1.0) * 127.5), 0, 255).astype(np.uint8)


def super_resolve(generator, lr_uint8, batch: bool = False) -> np.ndarray:
    """Whole-image inference: uint8 LR (H, W, 3) -> uint8 SR (H*s, W*s, 3).

    With ``batch=True`` the input is (N, H, W, 3) and the output (N, H*s, W*s, 3).  The
    generator is called with ``training=False`` (BN uses its moving statistics).  For very
    large images use :func:`srgan_lib.upscale.upscale`, which tiles.
    """
    x = np.asarray(lr_uint8)
    want = 4 if batch else 3
    if x.ndim != want or x.shape[-1] != 3:
        shape = "(N, H, W, 3)" if batch else "(H, W, 3)"
        raise ValueError(f"super_resolve: expected an RGB uint8 array of shape {shape} "
                         f"(got shape {x.shape})")
    if x.dtype != np.uint8:
        raise ValueError(f"super_resolve: expected dtype uint8 (got {x.dtype})")
    inp = lr_from_uint8(x if batch else x[None])
    out = ops.convert_to_numpy(generator(inp, training=False))
    sr = hr_to_uint8(out)
    return sr if batch else sr[0]


def params_by_layer_type(model) -> dict[str, int]:
    """``{layer class name: parameters}`` over ``model.layers`` (trainable and not, e.g. BN's
    moving statistics), in order of first appearance, types without parameters left out.
    The values sum to ``model.count_params()`` for the flat models of this module."""
    out: dict[str, int] = {}
    for layer in model.layers:
        n = int(layer.count_params())
        if n:
            name = type(layer).__name__
            out[name] = out.get(name, 0) + n
    return out
