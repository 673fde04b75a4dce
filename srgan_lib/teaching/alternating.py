"""Where the discriminator's gradient goes in one alternating update (chapter 5).

The D step of :class:`srgan_lib.train.SRGANTrainer` minimises
``L_D = -log D(I_HR) - log(1 - D(G(I_LR)))`` with G's output detached (``stop_gradient``).  With
one optimizer per network, the D optimizer applies gradients to D's variables only, so the detach
does not decide *whether* G moves during the D step -- it never does -- but whether the backward pass
of ``L_D`` runs on through the generator, computing gradients that are then thrown away.  A single
optimizer over the variables of both networks (or a Keras model whose ``trainable`` flags were not
set) is different: there the gradient of ``L_D`` with respect to G would be applied, and G would be
trained to make its images *easier* to reject.

:func:`discriminator_gradient_norms` measures both halves of this on one batch:
the norm of d L_D / d theta_D and of d L_D / d theta_G, with and without the detach.
:func:`discriminator_step_moves` applies one Adam step to D's variables and reports how far
each network's weights moved.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import ops

from srgan_lib import backend, losses

__all__ = ["discriminator_gradient_norms", "discriminator_step_moves"]


def _norm(grads) -> float:
    total = 0.0
    for g in grads:
        if g is not None:
            total += float(np.sum(np.square(ops.convert_to_numpy(g).astype(np.float64))))
    return float(np.sqrt(total))


def _d_loss(generator, discriminator, lr, hr, detach: bool):
    sr = generator(lr, training=True)
    if detach:
        sr = ops.stop_gradient(sr)
    real = discriminator(hr, training=True)
    fake = discriminator(sr, training=True)
    return losses.discriminator_loss(real, fake)


def _gradients(generator, discriminator, lr, hr, detach: bool):
    """``(loss, grads of D's trainable variables, grads of G's trainable variables)``; a gradient
    that does not exist (detached) is None."""
    d_vars = list(discriminator.trainable_variables)
    g_vars = list(generator.trainable_variables)
    loss, grads = backend.variable_gradients(lambda: _d_loss(generator, discriminator, lr, hr, detach),
                                             d_vars + g_vars)
    # A gradient that is exactly zero everywhere is absent: TensorFlow says None, JAX gives zeros.
    grads = [None if g is None or not np.any(ops.convert_to_numpy(g)) else g for g in grads]
    return float(loss), grads[:len(d_vars)], grads[len(d_vars):]


def discriminator_gradient_norms(generator, discriminator, lr, hr) -> list[dict]:
    """The gradient of the D loss on one batch, with G's output detached and not.

    ``lr``, ``hr``: float batches in the models' ranges (LR in [0, 1], HR in [-1, 1]).
    Returns one row per setting: ``{"detach", "d_loss", "d_grad_norm", "g_grad_norm",
    "g_grads"}`` where ``g_grads`` counts the generator variables that received a gradient
    (0 when detached).  Nothing is updated.  The models run in training mode, so their
    BatchNormalization layers update their moving statistics (as in a real D step);
    pass copies if that matters.
    """
    rows = []
    for detach in (True, False):
        loss, gd, gg = _gradients(generator, discriminator, lr, hr, detach)
        rows.append({"detach": detach, "d_loss": loss, "d_grad_norm": _norm(gd),
                     "g_grad_norm": _norm(gg), "g_grads": sum(g is not None for g in gg)})
    return rows


def discriminator_step_moves(generator, discriminator, lr, hr, detach: bool = False,
                             learning_rate: float = 1e-4) -> dict:
    """Apply one Adam step to D's trainable variables with the gradient of the D loss (G's
    output detached or not) and return how far each network's trainable weights moved:
    ``{"d_moved": L2 norm of the change of D's weights, "g_moved": the same for G}``.

    The optimizer is built over D's variables only, as :class:`srgan_lib.train.SRGANTrainer`'s
    is; ``g_moved`` is therefore 0 whatever ``detach`` is.  Every variable of both models (BatchNorm's
    moving statistics included) is restored afterwards, so that two calls measure from the same
    weights.
    """
    d_vars = list(discriminator.trainable_variables)
    before_d = [np.array(ops.convert_to_numpy(v.value)) for v in d_vars]
    before_g = [np.array(ops.convert_to_numpy(v.value)) for v in generator.trainable_variables]
    saved = [(v, np.array(ops.convert_to_numpy(v.value)))
             for m in (generator, discriminator) for v in m.variables]
    _, gd, _ = _gradients(generator, discriminator, lr, hr, detach)
    opt = keras.optimizers.Adam(learning_rate=learning_rate, beta_1=0.9)
    opt.build(d_vars)
    opt.apply(gd, d_vars)

    def moved(variables, before):
        return float(np.sqrt(sum(np.sum((ops.convert_to_numpy(v.value).astype(np.float64)
                                         - b.astype(np.float64)) ** 2)
                                 for v, b in zip(variables, before))))

    result = {"d_moved": moved(d_vars, before_d),
              "g_moved": moved(generator.trainable_variables, before_g)}
    for v, value in saved:
        v.assign(value)
    return result
