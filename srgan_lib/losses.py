"""SRGAN losses (Ledig et al., CVPR 2017, Sec. 2.2), written with ``keras.ops`` only.

Equations (paper numbering):

- Eq. 3, perceptual loss:  l^SR = l^SR_X + 10^-3 * l^SR_Gen  -> :func:`perceptual_loss`
- Eq. 4, pixel-wise MSE:   l^SR_MSE = 1/(r^2 W H) sum_x,y (I^HR - G(I^LR))^2  -> :func:`mse`
- Eq. 5, VGG loss:         l^SR_VGG/i,j = 1/(W_ij H_ij) sum_x,y (phi_ij(I^HR) - phi_ij(G(I^LR)))^2
                           -> :func:`content_loss` with a :func:`srgan_lib.vgg.vgg_features` model
- Eq. 6, adversarial loss: l^SR_Gen = sum_n -log D(G(I^LR))  -> :func:`generator_adversarial_loss`
  (the non-saturating form; the paper minimises -log D(G(x)) "instead of" log(1 - D(G(x))) for
  better gradients.  :func:`saturating_generator_loss` is the latter, for comparison plots.)

Means instead of sums.  Every loss here is a mean over all elements: for the content losses over
batch, pixels *and channels*.  The mean over the batch (Eq. 6 sums over the N training samples;
Eq. 4-5 are per image) divides the content and the adversarial term alike, a pure rescaling of
l^SR.  The mean over channels is not: Eq. 4-5 sum the squared differences over the positions
x, y (and, for vectors, over their C components) and divide by W H only, so the library's
content losses are 1/C of the paper's (C = 3 for pixels, 128 for phi_2,2, 512 for phi_5,4) while
the adversarial term is not divided.  This changes the content : adversarial ratio of Eq. 3, by a
different factor per layer; :data:`srgan_lib.vgg.FEATURE_SCALE` is calibrated for this mean
convention (its criterion is stated in :mod:`srgan_lib.vgg`).

Discriminator outputs are *logits* (the models have no sigmoid): D(x) = sigmoid(logit).
Log-probabilities are computed with ``softplus`` so they stay finite for any logit, e.g.
-log sigmoid(x) = softplus(-x) and -log(1 - sigmoid(x)) = softplus(x).

The least-squares losses (Mao et al., "Least Squares GAN", ICCV 2017) are on raw scores.  The
seed blog's Keras reproduction used least squares only for its *discriminator*: a sigmoid output
per position of a 1/16-resolution map, compiled with ``loss="mse"`` against all-ones / all-zeros
maps, i.e. :func:`lsgan_discriminator_loss` of ``sigmoid(logits)``.  Its *generator* (the
``combined`` model) was compiled with ``loss=["binary_crossentropy", "mse"]`` and
``loss_weights=[1e-3, 1/12.75**2]``: binary cross-entropy against ones, -log D(G(x)), the
non-saturating loss of Eq. 6 (:func:`generator_adversarial_loss`), plus the MSE of VGG19
``layers[9]`` features (phi_3,3 of un-preprocessed [-1, 1] images; see :mod:`srgan_lib.vgg`).
"""
from __future__ import annotations

from keras import ops

__all__ = [
    "mse", "content_loss", "generator_adversarial_loss", "saturating_generator_loss",
    "discriminator_loss", "discriminator_accuracy", "perceptual_loss",
    "lsgan_discriminator_loss",
]


def mse(a, b):
    """Mean squared error over all elements (Eq. 4 when a, b are images)."""
    return ops.mean(ops.square(ops.convert_to_tensor(a) - ops.convert_to_tensor(b)))


def content_loss(features, sr, hr):
    """Content loss l^SR_X: MSE between feature maps (Eq. 5), or pixels (Eq. 4).

    Args:
        features: a feature extractor (e.g. ``vgg_features("54")``, whose divisor
            :data:`srgan_lib.vgg.FEATURE_SCALE` sets the loss scale), called with
            ``training=False``; ``None`` gives the pixel-wise MSE of Eq. 4.
        sr: generated images G(I^LR) in [-1, 1].
        hr: ground-truth images I^HR in [-1, 1]; it (or its features) is wrapped in
            ``stop_gradient``: a fixed target.

    The difference is taken in float32 whatever the inputs' or features' dtype (bfloat16 under
    mixed precision), so the loss is the same maths under every dtype policy.
    """
    sr = ops.cast(sr, "float32")
    hr = ops.cast(hr, "float32")
    if features is None:
        return mse(sr, ops.stop_gradient(hr))
    f_sr = ops.cast(features(sr, training=False), "float32")
    f_hr = ops.stop_gradient(ops.cast(features(hr, training=False), "float32"))
    return mse(f_sr, f_hr)


def generator_adversarial_loss(fake_logits):
    """Eq. 6, non-saturating: mean(-log sigmoid(logits)) = mean(softplus(-logits))."""
    return ops.mean(ops.softplus(-ops.convert_to_tensor(fake_logits)))


def saturating_generator_loss(fake_logits):
    """The original minimax generator objective mean(log(1 - sigmoid(logits))) (to be
    *minimised* by G), computed stably as mean(-softplus(logits)).  Its gradient vanishes
    when D confidently rejects the fakes (logits << 0), which is why Eq. 6 is used."""
    return ops.mean(-ops.softplus(ops.convert_to_tensor(fake_logits)))


def discriminator_loss(real_logits, fake_logits, real_target=1.0):
    """Binary cross-entropy from logits with targets real -> 1, fake -> 0:
    mean(softplus(-real)) + mean(softplus(fake)) = -mean log D(I^HR) - mean log(1 - D(G(I^LR))).

    The two terms are summed (the standard GAN discriminator objective); Keras'
    ``BinaryCrossentropy`` on the concatenated batch would give half of this.  ``real_target``
    below 1 is one-sided label smoothing (Salimans et al. 2016, Sec. 3.4): the real term becomes
    the cross-entropy against ``real_target``, ``t softplus(-real) + (1 - t) softplus(real)``, and
    the fake target stays 0."""
    real = ops.convert_to_tensor(real_logits)
    fake = ops.convert_to_tensor(fake_logits)
    t = float(real_target)
    real_term = ops.softplus(-real) if t == 1.0 else t * ops.softplus(-real) + (1.0 - t) * ops.softplus(real)
    return ops.mean(real_term) + ops.mean(ops.softplus(fake))


def discriminator_accuracy(real_logits, fake_logits):
    """Fraction of correct decisions: real logits > 0 and fake logits < 0, over all
    elements of both tensors (works for (N, 1) logits and patch maps)."""
    real = ops.reshape(ops.convert_to_tensor(real_logits), (-1,))
    fake = ops.reshape(ops.convert_to_tensor(fake_logits), (-1,))
    hits = ops.concatenate([ops.cast(real > 0, "float32"), ops.cast(fake < 0, "float32")])
    return ops.mean(hits)


def perceptual_loss(content, adversarial, weight=1e-3):
    """Eq. 3: l^SR = l^SR_X + weight * l^SR_Gen (weight 10^-3 in the paper)."""
    return content + weight * adversarial


def lsgan_discriminator_loss(real_scores, fake_scores):
    """Least-squares discriminator loss: mean((D(real) - 1)^2) + mean(D(fake)^2).

    Summed like :func:`discriminator_loss`.  The seed's discriminator loss is this of its
    sigmoid outputs (``loss="mse"``); the seed averaged its two ``train_on_batch`` losses, i.e.
    reported half of this value."""
    real = ops.convert_to_tensor(real_scores)
    fake = ops.convert_to_tensor(fake_scores)
    return ops.mean(ops.square(real - 1.0)) + ops.mean(ops.square(fake))
