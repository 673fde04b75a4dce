"""VGG features before and after the ReLU: ESRGAN's perceptual loss (chapter 7).

SRGAN's content loss compares phi_{i,j}, "the feature map obtained by the j-th convolution (after
activation)" (Ledig et al., Sec. 2.2.1).  ESRGAN (Wang et al., ECCV Workshops 2018, Sec. 3.3)
compares the features *before* the activation instead, because the activated features are very
sparse: a ReLU output of 0 carries no gradient, so wherever SR and HR features are both negative
the loss says nothing.

In ``keras.applications.VGG19`` the ReLU is inside each convolution layer (``activation="relu"``),
so the network has no tensor "before the activation".  :func:`features_before_and_after` builds it:
the output of the previous layer (the input of the convolution) is convolved with the layer's own
kernel and bias with no activation (``keras.ops.conv``, stride 1, "same" padding, as VGG19's
3x3 convolutions), which is exactly the pre-activation of the layer; the activated map is the
library's :func:`srgan_lib.vgg.vgg_features` output.  Both are raw (``scale=1``, no 1/12.75).
"""
from __future__ import annotations

import numpy as np

from srgan_lib.errors import UserError

__all__ = ["features_before_and_after", "active_fraction", "pre_activation_model"]

_CACHE: dict = {}


def pre_activation_model(layer: str = "54", weights=None):
    """``(to_input, conv)``: a model from the preprocessed VGG input to the *input* of the VGG19
    convolution of ``layer`` (``"54"``: block5_conv4, ``"22"``: block2_conv2), and that convolution
    layer (its kernel and bias give the pre-activation).  Built from the cached
    :func:`srgan_lib.vgg.vgg_features` model (same weights)."""
    import keras

    from srgan_lib import vgg

    key = str(layer).lower().removeprefix("vgg")
    if key not in vgg.LAYERS:
        raise UserError(f"layer must be one of {', '.join(vgg.LAYERS)}, got {layer!r}")
    features = vgg.vgg_features(key, weights=weights, scale=1.0)
    cache_key = id(features)
    if cache_key not in _CACHE:
        inner = next(lay for lay in features.layers if isinstance(lay, keras.Model))
        conv = inner.get_layer(vgg.LAYERS[key])
        names = [lay.name for lay in inner.layers]
        before = inner.layers[names.index(conv.name) - 1]
        _CACHE[cache_key] = (keras.Model(inner.inputs, before.output), conv, features)
    to_input, conv, _ = _CACHE[cache_key]
    return to_input, conv


def features_before_and_after(image_uint8, layer: str = "54", weights=None):
    """``(pre, post)``: the VGG19 feature map of ``layer`` before and after its ReLU for one RGB uint8
    image, each float32 ``(h, w, channels)``, raw (not divided by the feature scale).

    ``post`` is :func:`srgan_lib.vgg.vgg_features` (``scale=1``); ``pre`` is the convolution of the
    previous layer's output with the layer's kernel and bias, no activation, so that
    ``post == relu(pre)`` up to float32 rounding.
    """
    from keras import ops

    from srgan_lib import vgg
    from srgan_lib.models import hr_from_uint8

    x = np.asarray(image_uint8)
    if x.dtype != np.uint8 or x.ndim != 3 or x.shape[2] != 3:
        raise UserError(f"features_before_and_after expects an RGB uint8 image, got {x.dtype} {x.shape}")
    to_input, conv = pre_activation_model(layer, weights)
    batch = hr_from_uint8(x[None])
    z = to_input(vgg.preprocess_for_vgg(batch))
    pre = ops.conv(z, conv.kernel, strides=conv.strides, padding=conv.padding) + conv.bias
    post = vgg.vgg_features(layer, weights=weights, scale=1.0)(batch)
    return (ops.convert_to_numpy(pre)[0].astype(np.float32),
            ops.convert_to_numpy(post)[0].astype(np.float32))


def active_fraction(features) -> float:
    """The fraction of entries that are > 0 (the "activated neurons" of a ReLU feature map)."""
    f = np.asarray(features)
    if f.size == 0:
        raise UserError("active_fraction of an empty feature map")
    return float(np.mean(f > 0))
