"""What the statistics of batch normalisation do to a generator's output (chapter 7).

During training a BatchNormalization layer standardises each channel with the mean and variance of
the current mini-batch; at test time it uses the moving averages collected during training ("we turn
batch-normalization update off to obtain an output that deterministically depends only on the
input", Ledig et al., Sec. 3.2).  The function a BN network computes therefore depends on statistics
that are not in the image: the batch's in training, the training set's averages at test time.  Lim
et al. (EDSR, CVPR Workshops 2017) removed BN from their SR network, and Wang et al. (ESRGAN, 2018,
Sec. 3.1) from the generator, observing that BN tends to introduce unpleasant artefacts when the
statistics of training and test data differ a lot.

:func:`batch_statistics_generator` makes a copy of a generator whose BN layers standardise with the
statistics of the input itself (training mode), and :func:`super_resolve_with_batch_statistics` runs
it: the same weights, only the statistics differ, so the gap to
:func:`srgan_lib.models.super_resolve` (the moving averages) measures how much the output depends
on them.  The original generator is never changed (training-mode calls update the *copy's* moving
averages, which training mode does not use).
"""
from __future__ import annotations

import numpy as np

from srgan_lib.errors import UserError

__all__ = ["batch_statistics_generator", "super_resolve_with_batch_statistics"]


def batch_statistics_generator(generator):
    """A copy of ``generator`` (same architecture and weights) for
    :func:`super_resolve_with_batch_statistics`; :class:`UserError` if it has no BatchNormalization."""
    import keras

    if not any(isinstance(lay, keras.layers.BatchNormalization) for lay in generator.layers):
        raise UserError(f"model {generator.name!r} has no BatchNormalization layer")
    copy = keras.models.clone_model(generator)
    copy.set_weights(generator.get_weights())
    return copy


def super_resolve_with_batch_statistics(copy, lr_uint8, batch: bool = False) -> np.ndarray:
    """Like :func:`srgan_lib.models.super_resolve`, but every BN layer of ``copy`` (a
    :func:`batch_statistics_generator`) standardises with the mean and variance of this input
    (``training=True``): of the one image, or with ``batch=True`` of the (N, H, W, 3) batch."""
    from keras import ops

    from srgan_lib.models import hr_to_uint8, lr_from_uint8

    x = np.asarray(lr_uint8)
    if x.dtype != np.uint8 or x.ndim != (4 if batch else 3) or x.shape[-1] != 3:
        raise UserError(f"expected RGB uint8 LR {'batch (N, H, W, 3)' if batch else 'image (H, W, 3)'}, "
                        f"got {x.dtype} {x.shape}")
    out = hr_to_uint8(ops.convert_to_numpy(copy(lr_from_uint8(x if batch else x[None]), training=True)))
    return out if batch else out[0]
