"""VGG19 feature maps phi_{i,j} for the VGG content loss (Ledig et al., Sec. 2.2.1, Eq. 5).

``phi_{i,j}`` is "the feature map obtained by the j-th convolution (after activation)
before the i-th maxpooling layer within the VGG19 network" (Simonyan & Zisserman, ICLR
2015).  In ``keras.applications.VGG19`` these are the (ReLU-activated) outputs of

- ``phi_{2,2}`` -> ``block2_conv2`` (128 channels, 1/2 resolution),  layer ``"22"``
- ``phi_{5,4}`` -> ``block5_conv4`` (512 channels, 1/16 resolution), layer ``"54"``

:func:`vgg_features` returns a frozen model that takes images in the HR range [-1, 1],
converts them to what VGG19 was trained on (0..255 RGB -> BGR minus the ImageNet channel
means, Keras' "caffe" preprocessing) and returns ``phi_{i,j} / FEATURE_SCALE[layer]``.  The
VGG loss of :func:`srgan_lib.losses.content_loss` is the mean squared difference of these
maps, so it is the raw feature MSE divided by ``FEATURE_SCALE[layer] ** 2``.

The feature scale
-----------------
The paper rescales the feature maps "by a factor of 1/12.75 ... to obtain VGG losses of a scale
that is comparable to the MSE loss" (Sec. 3.2), one constant for every layer.  Under Keras' caffe
preprocessing one constant cannot make both layers' losses comparable to the pixel MSE, so each
layer has its own divisor, :data:`FEATURE_SCALE`: phi_{5,4} / 12.75 and phi_{2,2} / 361, fixed by
the criterion and the calibration study of :mod:`srgan_lib.content_scale`.  Both constants are
recorded in a training run's ``config.json``; ``srgan eval --feature-distance`` reports distances on
the same scale.  All losses are means over batch, pixels *and channels* (see
:mod:`srgan_lib.losses`): the constants are calibrated for that convention.

The seed blog's reproduction used neither layer: its content loss was ``mse`` of VGG19
``layers[9]`` (``block3_conv3`` = phi_{3,3}) applied to the un-preprocessed [-1, 1] images, with
``loss_weights=[1e-3, 1/12.75**2]`` (dividing the MSE by 12.75**2 equals dividing the features
by 12.75).

Mixed precision: the models follow the global dtype policy at construction
(``keras.mixed_precision``; under ``mixed_bfloat16`` the VGG convolutions compute in bfloat16),
and the cache of :func:`vgg_features` is keyed by that policy.  The preprocessing, which maps
[-1, 1] to values up to 255 (where bfloat16's 8 significant bits are off by up to 0.5), and the
final rescaling are pinned to float32, as the Keras mixed-precision guide recommends for
numerically sensitive layers and for model outputs: the input arithmetic and the output are float32.

Weights: ``weights=None`` uses ``$SRGAN_VGG19_WEIGHTS`` when set, else ``"imagenet"``
(Keras downloads the official file; needs internet).  A path loads a local HDF5 file in the
Keras "notop" layout, e.g. ``../shared/weights/vgg19_imagenet_uint8_notop.h5`` (an 8-bit
de-quantised copy: perceptual-loss values differ slightly from the official weights).
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import keras
import numpy as np
from keras import layers, ops

from srgan_lib.errors import InputNotFoundError, UserError, one_line

__all__ = ["vgg_features", "VGGPreprocess", "preprocess_for_vgg", "LAYERS", "FEATURE_SCALE",
           "PAPER_SCALE", "IMAGENET_MEAN_BGR", "normalise_layer", "feature_distance"]

#: canonical layer name -> keras.applications.VGG19 layer
LAYERS = {"22": "block2_conv2", "54": "block5_conv4"}
#: The paper's divisor of the feature maps (Sec. 3.2), kept for phi_{5,4} by criterion (a).
PAPER_SCALE = 12.75
#: phi_{i,j} is divided by FEATURE_SCALE[layer] (:mod:`srgan_lib.content_scale` gives the criterion;
#: ``scripts/calibrate_content_scale.py`` recomputes the constants).
FEATURE_SCALE = {"22": 361.0, "54": PAPER_SCALE}
#: ImageNet channel means in BGR order, as in keras.applications.imagenet_utils ("caffe")
IMAGENET_MEAN_BGR = (103.939, 116.779, 123.68)
WEIGHTS_ENV = "SRGAN_VGG19_WEIGHTS"

_CACHE: dict = {}


def preprocess_for_vgg(x):
    """[-1, 1] RGB (N, H, W, 3) -> VGG19 input: 0..255, RGB -> BGR, minus ImageNet means.

    Equals ``keras.applications.vgg19.preprocess_input((x + 1) * 127.5)``, written with
    ``keras.ops`` so it is differentiable on every backend.
    """
    x = (ops.convert_to_tensor(x) + 1.0) * 127.5
    x = ops.flip(x, axis=-1)  # RGB -> BGR
    mean = ops.convert_to_tensor(IMAGENET_MEAN_BGR, dtype=x.dtype)
    return x - ops.reshape(mean, (1, 1, 1, 3))


@keras.saving.register_keras_serializable(package="srgan_lib")
class VGGPreprocess(layers.Layer):
    """Layer form of :func:`preprocess_for_vgg` (no weights)."""

    def call(self, x):
        return preprocess_for_vgg(x)

    def compute_output_shape(self, input_shape):
        return input_shape


def normalise_layer(layer) -> str:
    """``"22"`` or ``"54"`` for the spellings of a layer (``"vgg54"``, ``"5,4"``, ...); else a UserError."""
    key = str(layer).lower().strip()
    if key.startswith("vgg"):
        key = key[3:]
    key = key.replace("_", "").replace(",", "")
    if key not in LAYERS:
        raise UserError(f"vgg_features: layer must be '22' or '54' (also 'vgg22'/'vgg54'), "
                        f"got {layer!r}")
    return key


def resolve_weights(weights=None) -> str:
    """The VGG19 weights that ``weights`` designates: ``"imagenet"`` or an absolute path.

    None means ``$SRGAN_VGG19_WEIGHTS`` when it is set, else ``"imagenet"``; a path is expanded
    (``~``) and made absolute.  Whether the file exists is checked when it is loaded.
    """
    if weights is None:
        weights = os.environ.get(WEIGHTS_ENV) or "imagenet"
    if weights == "imagenet":
        return weights
    return str(Path(os.fspath(weights)).expanduser().resolve())


def _load_vgg19(weights: str):
    if weights == "imagenet":
        try:
            return keras.applications.VGG19(include_top=False, weights="imagenet",
                                            input_shape=(None, None, 3))
        except Exception as e:  # keras.utils.get_file: "URL fetch failure on ...", or an OSError
            if not (isinstance(e, OSError) or "URL fetch failure" in str(e)):
                raise
            raise UserError(f"could not download the VGG19 ImageNet weights ({one_line(e)[:160]}); offline, set "
                            f"{WEIGHTS_ENV} to a local copy of vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 "
                            f"(or pass weights=PATH / --vgg-weights PATH)") from None
    expected = ("an HDF5 file of VGG19 ImageNet 'notop' weights in the Keras layout "
                "(vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5)")
    path = Path(weights)
    if not path.is_file():
        raise InputNotFoundError(f"VGG19 weights file not found: {weights} (expected {expected}; "
                                 f"set {WEIGHTS_ENV} or pass weights=PATH)")
    if path.suffix.lower() not in (".h5", ".hdf5"):
        raise UserError(f"VGG19 weights file {weights} must end in .h5 or .hdf5 (expected {expected})")
    try:
        return keras.applications.VGG19(include_top=False, weights=str(path),
                                        input_shape=(None, None, 3))
    except Exception as e:  # h5py OSError, keras ValueError on a layout mismatch, ...
        reason = one_line(e)[:200]
        raise UserError(f"could not load VGG19 weights from {weights}: expected {expected} "
                        f"({type(e).__name__}: {reason})") from None


def vgg_features(layer="54", weights=None, scale=None) -> keras.Model:
    """Frozen feature extractor ``x in [-1, 1] -> phi_{i,j}(x) / scale``.

    Args:
        layer: ``"22"`` (phi_{2,2}, block2_conv2) or ``"54"`` (phi_{5,4}, block5_conv4);
            ``"vgg22"``/``"vgg54"`` are accepted too.
        weights: None (``$SRGAN_VGG19_WEIGHTS`` or ``"imagenet"``), ``"imagenet"``, or the
            path of a Keras VGG19 notop HDF5 weights file.
        scale: the divisor of the features; None: :data:`FEATURE_SCALE` of the layer (the
            scale the training uses); ``1.0`` gives the raw activations.

    Returns:
        A ``keras.Model`` with ``trainable = False``, input (N, H, W, 3) in [-1, 1], output
        (N, H/2, W/2, 128) for "22" or (N, H/16, W/16, 512) for "54", float32.  The network is
        truncated at the requested layer (nothing after it is computed).  The VGG layers
        compute in the global dtype policy's compute dtype; preprocessing and rescaling in
        float32.  Models are cached per (layer, weights, scale, global dtype policy) within the
        process, so repeated calls return the same object.

    Raises:
        UserError: unknown layer, a non-positive scale, or a weights file that is not VGG19
            notop HDF5 weights.
        InputNotFoundError: the weights file does not exist.
    """
    key = normalise_layer(layer)
    w = resolve_weights(weights)
    scale = float(FEATURE_SCALE[key] if scale is None else scale)
    if not scale > 0 or not math.isfinite(scale):
        raise UserError(f"vgg_features: scale must be a positive number, got {scale!r}")
    policy = keras.mixed_precision.global_policy().name
    cache_key = (key, w, scale, policy)
    if cache_key in _CACHE:
        return _CACHE[cache_key]
    base = _load_vgg19(w)
    truncated = keras.Model(base.inputs, base.get_layer(LAYERS[key]).output,
                            name=f"vgg19_to_{LAYERS[key]}")
    truncated.trainable = False
    inp = keras.Input(shape=(None, None, 3), name="image_pm1")
    x = VGGPreprocess(name="vgg_preprocess", dtype="float32")(inp)
    x = truncated(x, training=False)
    out = layers.Rescaling(1.0 / scale, name=f"rescale_1_over_{scale:g}".replace(".", "_"),
                           dtype="float32")(x)
    model = keras.Model(inp, out, name=f"vgg{key}_features")
    model.trainable = False
    _CACHE[cache_key] = model
    return model


def feature_distance(sr_uint8, hr_uint8, layer: str = "54", weights=None, features=None) -> float:
    """Mean squared distance between the VGG19 feature maps of SR and HR (Eq. 5).

    The paper's VGG content loss used as a *measure*, on the scale the training uses
    (``phi / FEATURE_SCALE[layer]``, :func:`vgg_features`): lower means the SR image is perceptually
    closer to HR in VGG's feature space (layer ``"22"`` or ``"54"``; ``features``: a model of
    :func:`vgg_features` built once by the caller).  Images are uint8 (H, W, 3); the border is not
    cropped (features see the whole image).
    """
    from srgan_lib.models import hr_from_uint8

    features = features if features is not None else vgg_features(layer, weights=weights)
    f = ops.convert_to_numpy(features(np.stack([hr_from_uint8(sr_uint8), hr_from_uint8(hr_uint8)])))
    return float(np.mean((f[0].astype(np.float64) - f[1]) ** 2))
