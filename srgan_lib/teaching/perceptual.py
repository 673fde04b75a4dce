"""What each content loss asks of an image, shown without training (the book's chapter 3).

The content losses of SRGAN (Ledig et al., Sec. 2.2.1): the pixel MSE (Eq. 4) and the VGG losses
on phi_{2,2} and phi_{5,4} (Eq. 5, on the training scale of :data:`srgan_lib.vgg.FEATURE_SCALE`),
named as in the training presets: ``"mse"``, ``"vgg22"``, ``"vgg54"``.

- :func:`regression_to_the_mean`: why the pixel-MSE optimum is blurred (the mean of the
  plausible answers).
- :func:`feature_maps`: the feature maps a VGG layer computes for an image.
- :func:`gradient_image`: d loss / d I^SR of one loss at an image (e.g. the bicubic upscale):
  the direction in which that loss pushes the pixels.
- :func:`invert`: feature inversion (Mahendran & Vedaldi, CVPR 2015): optimise the pixels of an
  image, starting from the bicubic upscale, with Adam to minimise one loss to an HR crop.  What
  the result gains (or not) is what the loss rewards.

Images are uint8 (H, W, 3) RGB; losses and gradients are in the library's [-1, 1] HR units.
The gradient comes from the backend seam (:func:`srgan_lib.backend.value_and_grad`).
"""
from __future__ import annotations

import dataclasses

import keras
import numpy as np
from keras import ops

from srgan_lib import backend, degrade, losses, vgg
from srgan_lib.errors import UserError
from srgan_lib.models import hr_from_uint8, hr_to_uint8

__all__ = ["CONTENT_LOSSES", "regression_to_the_mean", "feature_maps",
           "gradient_image", "gradient_magnitude", "Inversion", "invert", "bicubic_start"]

#: content losses by preset name: None = pixel MSE (Eq. 4), else the VGG layer (Eq. 5)
CONTENT_LOSSES = {"mse": None, "vgg22": "22", "vgg54": "54"}


# --------------------------------------------------------------------------- regression to the mean

def regression_to_the_mean(patch, shift: int = 2) -> dict:
    """Why the pixel-MSE optimum is blurred: shifted copies as "plausible answers".

    ``answers`` are the 8 copies of ``patch`` rolled by ``(dy, dx)`` with ``dy, dx`` in
    ``(-shift, 0, shift)``, ``(0, 0)`` excluded (float64, ``(8, H, W[, C])``); ``mean`` is their
    average (the MSE optimum); ``mse_mean`` the mean MSE of ``mean`` to the answers and
    ``mse_one`` the mean MSE of the first answer to the 7 others.  Always
    ``mse_one = 8/7 (MSE(answers[0], mean) + mse_mean) >= mse_mean``.
    """
    x = np.asarray(patch, dtype=np.float64)
    if x.ndim not in (2, 3):
        raise UserError(f"regression_to_the_mean: expected an (H, W[, C]) patch, got shape {x.shape}")
    shifts = [(dy, dx) for dy in (-shift, 0, shift) for dx in (-shift, 0, shift) if (dy, dx) != (0, 0)]
    answers = np.stack([np.roll(x, s, axis=(0, 1)) for s in shifts])
    mean = answers.mean(axis=0)
    return {"shifts": shifts, "answers": answers, "mean": mean,
            "mse_mean": float(np.mean([(mean - a) ** 2 for a in answers])),
            "mse_one": float(np.mean([(answers[0] - a) ** 2 for a in answers[1:]]))}


# --------------------------------------------------------------------------- features and losses

def _check_image(image, what: str) -> np.ndarray:
    x = np.asarray(image)
    if x.dtype != np.uint8 or x.ndim != 3 or x.shape[2] != 3:
        raise UserError(f"{what}: expected one uint8 (H, W, 3) RGB image, got {x.dtype} {x.shape}")
    return x


def feature_maps(features, image_uint8) -> np.ndarray:
    """The feature maps ``features`` computes for one uint8 RGB image, as a numpy ``(h, w, c)``.

    ``features`` is a model of :func:`srgan_lib.vgg.vgg_features` (phi_{i,j} / scale of a [-1, 1]
    image); the image is mapped to [-1, 1] with :func:`srgan_lib.models.hr_from_uint8` first.
    """
    x = _check_image(image_uint8, "feature_maps")
    return ops.convert_to_numpy(features(hr_from_uint8(x[None]), training=False))[0]


def _features(loss: str, weights=None):
    if loss not in CONTENT_LOSSES:
        raise UserError(f"unknown content loss {loss!r}; choose one of {', '.join(CONTENT_LOSSES)}")
    layer = CONTENT_LOSSES[loss]
    return None if layer is None else vgg.vgg_features(layer, weights=weights)


def _fixed_target(features, target_uint8, what: str):
    """The constant the loss compares with: the target's pixels, or its features."""
    target = hr_from_uint8(_check_image(target_uint8, what)[None])
    if features is None:
        return ops.convert_to_tensor(target)
    return ops.convert_to_tensor(ops.convert_to_numpy(features(target, training=False)), "float32")


def _loss(apply, x, fixed):
    """Eq. 4 (``apply`` None) or Eq. 5 (``apply`` computes the features) of ``x`` to ``fixed``."""
    return losses.mse(ops.cast(x if apply is None else apply(x), "float32"), fixed)


_COMPILED: dict = {}


def _value_and_grad(features):
    """A compiled ``(x, fixed) -> (loss, d loss / d x)`` of the content loss with ``features``
    (None: pixels), compiled once per feature model (:func:`srgan_lib.backend.value_and_grad`)."""
    key = id(features)
    if key not in _COMPILED:
        apply = None if features is None else (lambda z: features(z, training=False))
        grad = backend.value_and_grad(lambda x, fixed: _loss(apply, x, fixed),
                                      models=[] if features is None else [features], compile=True)
        _COMPILED[key] = (features, grad)  # keeps the model alive with its id
    return _COMPILED[key][1]


def gradient_image(loss: str, image_uint8, target_uint8, weights=None) -> tuple[float, np.ndarray]:
    """``(value, gradient)``: the content loss ``loss`` of ``image`` to ``target`` and its gradient
    d loss / d I^SR with respect to the pixels of ``image`` (in [-1, 1] units), a float32
    ``(H, W, 3)`` array.  Minus the gradient is the direction in which the loss moves the pixels.
    """
    x = hr_from_uint8(_check_image(image_uint8, "gradient_image")[None])
    if np.asarray(target_uint8).shape != x.shape[1:]:
        raise UserError(f"gradient_image: image {x.shape[1:]} and target {np.asarray(target_uint8).shape} "
                        f"differ in shape")
    features = _features(loss, weights)
    value, grad = _value_and_grad(features)(ops.convert_to_tensor(x),
                                            _fixed_target(features, target_uint8, "gradient_image"))
    return float(ops.convert_to_numpy(value)), np.asarray(ops.convert_to_numpy(grad))[0]


def gradient_magnitude(gradient) -> np.ndarray:
    """Per-pixel Euclidean norm over the channels of an ``(H, W, 3)`` gradient, scaled to [0, 1] by
    its maximum (all zeros stays zeros): the gradient image as a greyscale map for display."""
    g = np.linalg.norm(np.asarray(gradient, dtype=np.float64), axis=-1)
    top = g.max()
    return g / top if top > 0 else g


# --------------------------------------------------------------------------- feature inversion

def bicubic_start(target_uint8, scale: int = 4) -> np.ndarray:
    """The bicubic x``scale`` upscale of the bicubic LR of ``target``: where SR starts."""
    hr = _check_image(target_uint8, "bicubic_start")
    return degrade.upscale_bicubic(degrade.bicubic(degrade.modcrop(hr, scale), scale), scale)


@dataclasses.dataclass
class Inversion:
    """The result of :func:`invert`: ``image`` (uint8), ``pixels`` (float32 [-1, 1], the optimised
    variable), ``history`` (the loss before each step and after the last: ``steps + 1`` values),
    and the settings."""

    loss: str
    image: np.ndarray
    pixels: np.ndarray
    history: np.ndarray
    steps: int
    learning_rate: float


def invert(target_uint8, loss: str = "vgg22", start=None, steps: int = 200, learning_rate: float = 0.01,
           scale: int = 4, weights=None) -> Inversion:
    """Feature inversion: optimise pixels to minimise the content loss ``loss`` to ``target``.

    Starts from ``start`` (uint8, the shape of ``target``; default :func:`bicubic_start`) and
    makes ``steps`` Adam steps (``keras.optimizers.Adam(learning_rate)``, on the [-1, 1] pixels)
    on ``loss`` in ``("mse", "vgg22", "vgg54")``, clipping the pixels to [-1, 1] after each step.
    Deterministic: the same inputs give the same result.  A ``target`` of 64-96 px and a few
    hundred steps is the intended size (VGG54 is the slow one).
    """
    target = _check_image(target_uint8, "invert")
    steps = int(steps)
    if steps < 1:
        raise UserError(f"invert: steps must be at least 1, got {steps}")
    if not learning_rate > 0:
        raise UserError(f"invert: learning_rate must be positive, got {learning_rate!r}")
    if start is None:
        target = degrade.modcrop(target, scale)
        start = bicubic_start(target, scale)
    start = _check_image(start, "invert (start)")
    if start.shape != target.shape:
        raise UserError(f"invert: start {start.shape} and target {target.shape} differ in shape")
    features = _features(loss, weights)
    value_and_grad = _value_and_grad(features)
    fixed = _fixed_target(features, target, "invert")
    x = keras.Variable(hr_from_uint8(start[None]), dtype="float32", trainable=True, name="pixels")
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    optimizer.build([x])
    history = []
    for _ in range(steps):
        value, grad = value_and_grad(ops.convert_to_tensor(x.value), fixed)
        history.append(float(ops.convert_to_numpy(value)))
        optimizer.apply([grad], [x])
        x.assign(ops.clip(x.value, -1.0, 1.0))
    history.append(float(ops.convert_to_numpy(value_and_grad(ops.convert_to_tensor(x.value), fixed)[0])))
    pixels = np.asarray(ops.convert_to_numpy(x.value))[0]
    return Inversion(loss=loss, image=hr_to_uint8(pixels), pixels=pixels, history=np.asarray(history),
                     steps=steps, learning_rate=float(learning_rate))
