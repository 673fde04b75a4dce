"""VGG19 feature maps phi_{i,j} for the VGG content loss (Ledig et al., Sec. 2.2.1, Eq. 5).

``phi_{i,j}`` is "the feature map obtained by the j-th convolution (after activation)
before the i-th maxpooling layer within the VGG19 network" (Simonyan & Zisserman, ICLR
2015).  In ``keras.applications.VGG19`` these are the (ReLU-activated) outputs of

- ``phi_{2,2}`` -> ``block2_conv2`` (128 channels, 1/2 resolution),  layer ``"22"``
- ``phi_{5,4}`` -> ``block5_conv4`` (512 channels, 1/16 resolution), layer ``"54"``

:func:`vgg_features` returns a frozen model that takes images in the HR range [-1, 1],
converts them to what VGG19 was trained on (0..255 RGB -> BGR minus the ImageNet channel
means, Keras' "caffe" preprocessing) and returns ``phi / 12.75``.  The division follows the
paper (Sec. 3.2): the VGG feature maps "were also rescaled by a factor of 1/12.75 ... to
obtain VGG losses of a scale that is comparable to the MSE loss".  (12.75 = 255 / 20; the
MSE of the rescaled features equals the MSE of the raw features divided by 12.75**2, which
is how the seed blog's reproduction wrote it: ``loss_weights=[1e-3, 1/12.75**2]``.)

Weights: ``weights=None`` uses ``$SRGAN_VGG19_WEIGHTS`` when set, else ``"imagenet"``
(Keras downloads the official file; needs internet).  A path loads a local HDF5 file in the
Keras "notop" layout, e.g. ``../shared/weights/vgg19_imagenet_uint8_notop.h5`` (an 8-bit
de-quantised copy: perceptual-loss values differ slightly from the official weights).
"""
from __future__ import annotations

import os
from pathlib import Path

import keras
from keras import layers, ops

__all__ = ["vgg_features", "VGGPreprocess", "preprocess_for_vgg", "LAYERS",
           "FEATURE_SCALE", "IMAGENET_MEAN_BGR", "clear_cache", "feature_maps"]

#: canonical layer name -> keras.applications.VGG19 layer
LAYERS = {"22": "block2_conv2", "54": "block5_conv4"}
#: phi_{i,j} is divided by FEATURE_SCALE[layer] before the loss.  phi_5,4: the paper's 1/12.75
#: (Sec. 3.2).  phi_2,2: the divisor that gives the VGG22 loss the scale of the VGG54 loss at the
#: SRResNet-MSE initialisation on the training patches (measured; see the book's chapter 3).
FEATURE_SCALE = {"22": 361.0, "54": 12.75}
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


def _normalise_layer(layer) -> str:
    key = str(layer).lower().strip()
    if key.startswith("vgg"):
        key = key[3:]
    key = key.replace("_", "").replace(",", "")
    if key not in LAYERS:
        raise ValueError(f"vgg_features: layer must be '22' or '54' (also 'vgg22'/'vgg54'), "
                         f"got {layer!r}")
    return key


def _resolve_weights(weights):
    if weights is None:
        weights = os.environ.get(WEIGHTS_ENV) or "imagenet"
    if weights == "imagenet":
        return weights
    return str(Path(os.fspath(weights)).expanduser().resolve())


def _load_vgg19(weights: str):
    if weights == "imagenet":
        return keras.applications.VGG19(include_top=False, weights="imagenet",
                                        input_shape=(None, None, 3))
    expected = ("an HDF5 file of VGG19 ImageNet 'notop' weights in the Keras layout "
                "(vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5)")
    path = Path(weights)
    if not path.is_file():
        raise FileNotFoundError(f"VGG19 weights file not found: {weights} (expected {expected}; "
                                f"set {WEIGHTS_ENV} or pass weights=PATH)")
    if path.suffix.lower() not in (".h5", ".hdf5"):
        raise ValueError(f"VGG19 weights file {weights} must end in .h5 or .hdf5 "
                         f"(expected {expected})")
    try:
        return keras.applications.VGG19(include_top=False, weights=str(path),
                                        input_shape=(None, None, 3))
    except Exception as e:  # h5py OSError, keras ValueError on a layout mismatch, ...
        reason = " ".join(str(e).split())[:200]
        raise ValueError(f"could not load VGG19 weights from {weights}: expected {expected} "
                         f"({type(e).__name__}: {reason})") from None


def vgg_features(layer="54", weights=None, scale=None) -> keras.Model:
    """Frozen feature extractor ``x in [-1, 1] -> phi_{i,j}(x) / 12.75``.

    Args:
        layer: ``"22"`` (phi_{2,2}, block2_conv2) or ``"54"`` (phi_{5,4}, block5_conv4);
            ``"vgg22"``/``"vgg54"`` are accepted too.
        weights: None (``$SRGAN_VGG19_WEIGHTS`` or ``"imagenet"``), ``"imagenet"``, or the
            path of a Keras VGG19 notop HDF5 weights file.
        scale: the divisor of the features; None: :data:`FEATURE_SCALE` of the layer.

    Returns:
        A ``keras.Model`` with ``trainable = False``, input (N, H, W, 3) in [-1, 1], output
        (N, H/2, W/2, 128) for "22" or (N, H/16, W/16, 512) for "54".  The network is
        truncated at the requested layer (nothing after it is computed).  Models are cached
        per (layer, weights) within the process, so repeated calls return the same object.

    Raises:
        ValueError: unknown layer, or a weights file that is not VGG19 notop HDF5 weights.
        FileNotFoundError: the weights file does not exist.
    """
    key = _normalise_layer(layer)
    w = _resolve_weights(weights)
    scale = float(FEATURE_SCALE[key] if scale is None else scale)
    if not scale > 0:
        raise ValueError(f"vgg_features: scale must be positive, got {scale!r}")
    cache_key = (key, w, scale)
    if cache_key in _CACHE:
        return _CACHE[cache_key]
    base = _load_vgg19(w)
    truncated = keras.Model(base.inputs, base.get_layer(LAYERS[key]).output,
                            name=f"vgg19_to_{LAYERS[key]}")
    truncated.trainable = False
    inp = keras.Input(shape=(None, None, 3), name="image_pm1")
    x = VGGPreprocess(name="vgg_preprocess")(inp)
    x = truncated(x, training=False)
    out = layers.Rescaling(1.0 / scale, name=f"rescale_1_over_{scale:g}".replace(".", "_"))(x)
    model = keras.Model(inp, out, name=f"vgg{key}_features")
    model.trainable = False
    _CACHE[cache_key] = model
    return model


def clear_cache() -> None:
    """Forget the cached feature models (e.g. after ``keras.backend.clear_session()``)."""
    _CACHE.clear()


def feature_maps(features, image_uint8):
    """The feature maps ``features`` computes for one uint8 RGB image, as a numpy ``(h, w, c)``.

    ``features`` is a model of :func:`vgg_features` (``phi_ij / 12.75`` of a [-1, 1] image);
    the image is mapped to [-1, 1] with :func:`srgan_lib.models.hr_from_uint8` first.
    """
    import numpy as np

    from srgan_lib.models import hr_from_uint8

    x = np.asarray(image_uint8)
    if x.dtype != np.uint8 or x.ndim != 3 or x.shape[2] != 3:
        raise ValueError(f"feature_maps expects one uint8 (H, W, 3) image, got {x.dtype} {x.shape}")
    return ops.convert_to_numpy(features(hr_from_uint8(x[None]), training=False))[0]
