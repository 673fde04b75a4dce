"""The VGG feature scale: its criterion and the calibration study that fixes it (Ledig et al., Sec. 3.2).

The paper rescales the feature maps "by a factor of 1/12.75 ... to obtain VGG losses of a scale
that is comparable to the MSE loss" (Sec. 3.2), one constant for every layer.  Under Keras'
caffe preprocessing (inputs 0..255, not [0, 1]) the activations of phi_{2,2} are much larger
than those of phi_{5,4}, so one constant cannot make both losses comparable to the pixel MSE.
Here the divisor of each layer is fixed by a stated criterion, evaluated at the point where
SRGAN training starts: the shipped SRResNet-MSE generator on *calibration batches* of the
training data (:func:`calibration_statistics`; ``scripts/calibrate_content_scale.py`` recomputes
it on 16 batches of 16 random 96x96 patches of distinct images of T91 + BSD200 + General100,
bicubic x4, no augmentation, seed 0: :data:`CALIBRATION`):

(a) the VGG54 loss keeps the paper's 1/12.75 (:data:`srgan_lib.vgg.PAPER_SCALE`) as long as it
    lies within a factor :data:`MAX_RATIO_TO_PIXEL_MSE` (about an order of magnitude) of the pixel
    MSE, the paper's "comparable"; otherwise its divisor is the one that makes it equal to the pixel MSE;
(b) every other layer's divisor makes its loss *equal* to the VGG54 loss (to within
    :data:`EQUAL_LOSS_TOLERANCE` with the rounded constant), so that ``srgan-vgg22`` and
    ``srgan-vgg54`` start GAN training with the same content : adversarial balance (the
    adversarial weight 1e-3 of Eq. 3 is the same for both) and the paper's VGG22-vs-VGG54
    ablation compares the layers, not two loss weights.  Since the loss is quadratic in the
    features, ``FEATURE_SCALE[l] = FEATURE_SCALE["54"] * sqrt(raw_l / raw_54)`` with ``raw`` the
    unscaled feature MSEs (:func:`scales_from_calibration`).

(a) keeps phi_{5,4} / 12.75 (and with it the shipped ``srgan-vgg54``); (b) gives phi_{2,2} / 361.
Both constants are recorded in a training run's ``config.json``; ``srgan eval
--feature-distance`` reports distances on the same scale.  All losses are means over batch,
pixels *and channels* (see :mod:`srgan_lib.losses`): the constants are calibrated for that
convention.
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np
from keras import ops

from srgan_lib.errors import UserError
from srgan_lib.vgg import LAYERS, PAPER_SCALE, normalise_layer, vgg_features

__all__ = ["MAX_RATIO_TO_PIXEL_MSE", "EQUAL_LOSS_TOLERANCE", "REFERENCE_LAYER", "CALIBRATION",
           "calibration_batches", "calibration_statistics", "scales_from_calibration"]

#: Criterion (a): the VGG54 loss keeps 1/12.75 while within this factor of the pixel MSE.
MAX_RATIO_TO_PIXEL_MSE = 20.0
#: Criterion (b): the VGG losses of all layers agree to within this relative difference.
EQUAL_LOSS_TOLERANCE = 0.10
#: The layer that keeps the paper's constant; the others are scaled to its loss.
REFERENCE_LAYER = "54"

#: The calibration point of :data:`srgan_lib.vgg.FEATURE_SCALE`: the generator where SRGAN training starts and
#: the batches of the training stream (:class:`srgan_lib.patches.PatchSequence`, bicubic x4).
CALIBRATION = {"generator": "srresnet-mse", "data": "T91,BSD200,General100", "batches": 16,
               "batch_size": 16, "patch_size": 96, "scale": 4, "seed": 0, "augment": False,
               "distinct_images": True}


def calibration_batches(data=None, batches=None, batch_size=None, patch_size=None, seed=None,
                        images=None) -> list:
    """The ``(lr, hr)`` calibration batches ``0 .. batches - 1`` of the training patch stream.

    Every argument left None comes from :data:`CALIBRATION`; ``images`` (uint8 HR images)
    replaces loading ``data`` with :func:`srgan_lib.data.load_training_images`.
    """
    from srgan_lib.patches import PatchSequence

    c = dict(CALIBRATION)
    c.update({k: v for k, v in dict(data=data, batches=batches, batch_size=batch_size,
                                    patch_size=patch_size, seed=seed).items() if v is not None})
    if images is None:
        from srgan_lib.data import load_training_images

        images = load_training_images(c["data"], min_size=c["patch_size"])
    seq = PatchSequence(images, batch_size=c["batch_size"], patch_size=c["patch_size"], scale=c["scale"],
                        degradation="bicubic", seed=c["seed"], augment=c["augment"],
                        distinct_images=c["distinct_images"])
    return [seq.batch(i) for i in range(c["batches"])]


def calibration_statistics(generator, batches: Iterable, layers=tuple(LAYERS), weights=None) -> dict:
    """The unscaled losses that fix :data:`srgan_lib.vgg.FEATURE_SCALE`, measured on ``(lr, hr)`` batches.

    ``generator`` maps LR in [0, 1] to SR in [-1, 1] (the shipped SRResNet-MSE, where SRGAN
    training starts); ``batches`` yields ``(lr, hr)`` pairs as
    :meth:`srgan_lib.patches.PatchSequence.batch` returns them.  Returns
    ``{"batches", "patches", "pixel_mse", "raw_mse": {layer: ...}, "mean_activation": {layer: ...}}``:
    the means over the batches of the pixel MSE (Eq. 4, [-1, 1] units), of the raw feature MSE
    (Eq. 5 with ``scale=1``) and of the raw activations phi_{i,j}(I^HR).
    """
    from srgan_lib import losses

    keys = [normalise_layer(layer) for layer in layers]
    raw = {k: vgg_features(k, weights, scale=1.0) for k in keys}
    pixel, raw_mse, activation = [], {k: [] for k in keys}, {k: [] for k in keys}
    patches = 0
    for lr, hr in batches:
        sr = ops.cast(generator(lr, training=False), "float32")
        pixel.append(float(losses.mse(sr, hr)))
        for k in keys:
            f_hr = raw[k](hr, training=False)
            raw_mse[k].append(float(losses.mse(raw[k](sr, training=False), f_hr)))
            activation[k].append(float(ops.mean(f_hr)))
        patches += int(ops.shape(hr)[0])
    if not pixel:
        raise UserError("calibration_statistics: no calibration batches given")
    return {"batches": len(pixel), "patches": patches, "pixel_mse": float(np.mean(pixel)),
            "raw_mse": {k: float(np.mean(v)) for k, v in raw_mse.items()},
            "mean_activation": {k: float(np.mean(v)) for k, v in activation.items()}}


def scales_from_calibration(pixel_mse: float, raw_mse: dict) -> dict[str, float]:
    """The feature divisors the criterion of this module gives for measured losses.

    ``pixel_mse`` and ``raw_mse`` (``{layer: unscaled feature MSE}``, must include ``"54"``) are
    measured at the calibration point (:func:`calibration_statistics`).  (a) The VGG54 divisor is
    :data:`srgan_lib.vgg.PAPER_SCALE` if ``raw_54 / 12.75**2`` is within :data:`MAX_RATIO_TO_PIXEL_MSE` of
    ``pixel_mse``, else ``sqrt(raw_54 / pixel_mse)`` (the loss equals the pixel MSE); (b) each
    layer ``l`` gets ``scale_54 * sqrt(raw_l / raw_54)`` (its loss equals the VGG54 loss).
    """
    raw = {normalise_layer(k): float(v) for k, v in raw_mse.items()}
    if REFERENCE_LAYER not in raw:
        raise UserError(f"scales_from_calibration: raw_mse needs the reference layer "
                        f"{REFERENCE_LAYER!r}, got {sorted(raw)}")
    if not (pixel_mse > 0 and all(v > 0 for v in raw.values())):
        raise UserError(f"scales_from_calibration: losses must be positive, got pixel_mse={pixel_mse!r}, "
                        f"raw_mse={raw!r}")
    ref = raw[REFERENCE_LAYER]
    ratio = ref / PAPER_SCALE ** 2 / pixel_mse
    ref_scale = PAPER_SCALE if 1 / MAX_RATIO_TO_PIXEL_MSE <= ratio <= MAX_RATIO_TO_PIXEL_MSE \
        else math.sqrt(ref / pixel_mse)
    return {k: ref_scale * math.sqrt(v / ref) for k, v in raw.items()}
