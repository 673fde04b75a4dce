"""The relativistic average GAN losses of ESRGAN (chapter 7).

Wang et al. (ESRGAN, ECCV Workshops 2018, Sec. 3.2) replace SRGAN's discriminator, which estimates
the probability D(x) = sigmoid(C(x)) that x is real (C: the raw output, a logit), by the
relativistic average discriminator of Jolicoeur-Martineau (2018), which estimates how much more
realistic a real image is than the average fake one (and vice versa):

    D_Ra(x_r, x_f) = sigmoid(C(x_r) - E_{x_f}[C(x_f)]),    D_Ra(x_f, x_r) = sigmoid(C(x_f) - E_{x_r}[C(x_r)])

    L_D^Ra = -E_{x_r}[log D_Ra(x_r, x_f)] - E_{x_f}[log(1 - D_Ra(x_f, x_r))]
    L_G^Ra = -E_{x_r}[log(1 - D_Ra(x_r, x_f))] - E_{x_f}[log D_Ra(x_f, x_r)]

The expectations over the other kind are batch means.  The generator's loss is the discriminator's
with the roles of real and fake swapped, so the generator gets gradients from the real images too
(through the batch mean of the fake logits), not only from its own outputs as with Eq. 6 of SRGAN.
As in :mod:`srgan_lib.losses`, the inputs are logits and the logs are written with ``softplus``:
-log sigmoid(z) = softplus(-z), -log(1 - sigmoid(z)) = softplus(z).
"""
from __future__ import annotations

from keras import ops

__all__ = ["relativistic_logits", "ragan_discriminator_loss", "ragan_generator_loss"]


def relativistic_logits(real_logits, fake_logits):
    """``(C(x_r) - mean C(x_f), C(x_f) - mean C(x_r))``: the logits of D_Ra for each real and fake."""
    real = ops.convert_to_tensor(real_logits, "float32")
    fake = ops.convert_to_tensor(fake_logits, "float32")
    return real - ops.mean(fake), fake - ops.mean(real)


def ragan_discriminator_loss(real_logits, fake_logits):
    """L_D^Ra = mean(softplus(-(C_r - mean C_f))) + mean(softplus(C_f - mean C_r))."""
    real_rel, fake_rel = relativistic_logits(real_logits, fake_logits)
    return ops.mean(ops.softplus(-real_rel)) + ops.mean(ops.softplus(fake_rel))


def ragan_generator_loss(real_logits, fake_logits):
    """L_G^Ra = mean(softplus(C_r - mean C_f)) + mean(softplus(-(C_f - mean C_r))), which equals
    ``ragan_discriminator_loss(fake_logits, real_logits)``."""
    real_rel, fake_rel = relativistic_logits(real_logits, fake_logits)
    return ops.mean(ops.softplus(real_rel)) + ops.mean(ops.softplus(-fake_rel))
