"""The adversarial losses as functions of the discriminator's logit (the book's chapter 4).

Why SRGAN minimises -log D(G(x)) (Eq. 6) rather than log(1 - D(G(x))) (Goodfellow et al., 2014):
:func:`loss_curve` evaluates a loss of :mod:`srgan_lib.losses` on a grid of logits and returns
its slope, which for the saturating loss vanishes where the discriminator confidently rejects the
fakes.
"""
from __future__ import annotations

import numpy as np

from srgan_lib.errors import UserError

__all__ = ["loss_curve"]


def loss_curve(loss_fn, logits):
    """``(values, slopes)`` of a per-batch loss evaluated on each logit of a 1-D grid alone.

    ``values[k] = loss_fn([logits[k]])`` (a batch of one), ``slopes = numpy.gradient(values,
    logits)``: central differences (one-sided at the ends), i.e. d loss / d logit to
    O(spacing^2).  For :func:`srgan_lib.losses.generator_adversarial_loss` the slope is
    ``sigmoid(l) - 1``, for :func:`srgan_lib.losses.saturating_generator_loss` it is
    ``-sigmoid(l)``: the saturation plot of chapter 4.
    """
    grid = np.asarray(logits, dtype=np.float32).ravel()
    if grid.size < 2:
        raise UserError(f"loss_curve needs at least two logits, got {grid.size}")
    values = np.array([float(loss_fn(np.array([v], np.float32))) for v in grid])
    return values, np.gradient(values, grid.astype(np.float64))
