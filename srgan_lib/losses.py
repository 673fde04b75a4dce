"""SRGAN losses (Ledig et al., CVPR 2017, Sec. 2.2), written with ``keras.ops`` only.

Equations (paper numbering):

- Eq. 3, perceptual loss:  l^SR = l^SR_X + 10^-3 * l^SR_Gen  -> :func:`perceptual_loss`
- Eq. 4, pixel-wise MSE:   l^SR_MSE = 1/(r^2 W H) sum (I^HR - G(I^LR))^2  -> :func:`mse`
- Eq. 5, VGG loss:         l^SR_VGG/i,j = 1/(W_ij H_ij) sum (phi_ij(I^HR) - phi_ij(G(I^LR)))^2
                           -> :func:`content_loss` with a :func:`srgan_lib.vgg.vgg_features` model
- Eq. 6, adversarial loss: l^SR_Gen = sum_n -log D(G(I^LR))  -> :func:`generator_adversarial_loss`
  (the non-saturating form; the paper minimises -log D(G(x)) "instead of" log(1 - D(G(x))) for
  better gradients.  :func:`saturating_generator_loss` is the latter, for comparison plots.)

All "sums" are implemented as means (over batch, pixels and channels), the usual practice;
this only rescales the loss.  Discriminator outputs are *logits* (the models have no
sigmoid): D(x) = sigmoid(logit).  Log-probabilities are computed with ``softplus`` so they
stay finite for any logit, e.g. -log sigmoid(x) = softplus(-x) and
-log(1 - sigmoid(x)) = softplus(x).

The least-squares losses (Mao et al., "Least Squares GAN", ICCV 2017) are the objective of
the seed blog's Keras reproduction, which trained a PatchGAN discriminator
(``discriminator(head="patch")``) with ``loss="mse"`` against all-ones / all-zeros maps.
"""
from __future__ import annotations

from keras import ops

__all__ = [
    "mse", "content_loss", "generator_adversarial_loss", "saturating_generator_loss",
    "discriminator_loss", "discriminator_accuracy", "perceptual_loss",
    "lsgan_generator_loss", "lsgan_discriminator_loss", "loss_curve",
    "regression_to_the_mean",
]


def mse(a, b):
    """Mean squared error over all elements (Eq. 4 when a, b are images)."""
    return ops.mean(ops.square(ops.convert_to_tensor(a) - ops.convert_to_tensor(b)))


def content_loss(features, sr, hr):
    """Content loss l^SR_X: MSE between feature maps (Eq. 5), or pixels (Eq. 4).

    Args:
        features: a feature extractor (e.g. ``vgg_features("54")``), called with
            ``training=False``; ``None`` gives the pixel-wise MSE of Eq. 4.
        sr: generated images G(I^LR) in [-1, 1].
        hr: ground-truth images I^HR in [-1, 1]; its features are wrapped in
            ``stop_gradient`` (they are a fixed target).
    """
    if features is None:
        return mse(sr, ops.stop_gradient(ops.convert_to_tensor(hr)))
    f_sr = features(sr, training=False)
    f_hr = ops.stop_gradient(features(hr, training=False))
    return mse(f_sr, f_hr)


def generator_adversarial_loss(fake_logits):
    """Eq. 6, non-saturating: mean(-log sigmoid(logits)) = mean(softplus(-logits))."""
    return ops.mean(ops.softplus(-ops.convert_to_tensor(fake_logits)))


def saturating_generator_loss(fake_logits):
    """The original minimax generator objective mean(log(1 - sigmoid(logits))) (to be
    *minimised* by G), computed stably as mean(-softplus(logits)).  Its gradient vanishes
    when D confidently rejects the fakes (logits << 0), which is why Eq. 6 is used."""
    return ops.mean(-ops.softplus(ops.convert_to_tensor(fake_logits)))


def discriminator_loss(real_logits, fake_logits):
    """Binary cross-entropy from logits with targets real -> 1, fake -> 0:
    mean(softplus(-real)) + mean(softplus(fake)) = -mean log D(I^HR) - mean log(1 - D(G(I^LR))).

    The two terms are summed (the standard GAN discriminator objective); Keras'
    ``BinaryCrossentropy`` on the concatenated batch would give half of this."""
    real = ops.convert_to_tensor(real_logits)
    fake = ops.convert_to_tensor(fake_logits)
    return ops.mean(ops.softplus(-real)) + ops.mean(ops.softplus(fake))


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


def lsgan_generator_loss(fake_scores):
    """Least-squares generator loss: mean((D(G(x)) - 1)^2) (the seed's ``loss="mse"``)."""
    return ops.mean(ops.square(ops.convert_to_tensor(fake_scores) - 1.0))


def lsgan_discriminator_loss(real_scores, fake_scores):
    """Least-squares discriminator loss: mean((D(real) - 1)^2) + mean(D(fake)^2).

    Summed like :func:`discriminator_loss`; the seed averaged its two ``train_on_batch``
    losses, i.e. reported half of this value."""
    real = ops.convert_to_tensor(real_scores)
    fake = ops.convert_to_tensor(fake_scores)
    return ops.mean(ops.square(real - 1.0)) + ops.mean(ops.square(fake))


def loss_curve(loss_fn, logits):
    """``(values, slopes)`` of a per-batch loss evaluated on each logit of a 1-D grid alone.

    ``values[k] = loss_fn([logits[k]])`` (a batch of one), ``slopes = numpy.gradient(values,
    logits)``: central differences (one-sided at the ends), i.e. d loss / d logit to
    O(spacing^2).  For :func:`generator_adversarial_loss` the slope is ``sigmoid(l) - 1``, for
    :func:`saturating_generator_loss` it is ``-sigmoid(l)``: the saturation plot of chapter 4.
    """
    import numpy as np

    grid = np.asarray(logits, dtype=np.float32).ravel()
    if grid.size < 2:
        raise ValueError("loss_curve needs at least two logits")
    values = np.array([float(loss_fn(np.array([v], np.float32))) for v in grid])
    return values, np.gradient(values, grid.astype(np.float64))


def regression_to_the_mean(patch, shift: int = 2) -> dict:
    """Why the pixel-MSE optimum is blurred (chapter 3): shifted copies as "plausible answers".

    ``answers`` are the 8 copies of ``patch`` rolled by ``(dy, dx)`` with ``dy, dx`` in
    ``(-shift, 0, shift)``, ``(0, 0)`` excluded (float64, ``(8, H, W[, C])``); ``mean`` is their
    average (the MSE optimum); ``mse_mean`` the mean MSE of ``mean`` to the answers and
    ``mse_one`` the mean MSE of the first answer to the 7 others.  Always
    ``mse_one = 8/7 (MSE(answers[0], mean) + mse_mean) >= mse_mean``.
    """
    import numpy as np

    x = np.asarray(patch, dtype=np.float64)
    if x.ndim not in (2, 3):
        raise ValueError(f"expected an (H, W[, C]) patch, got shape {x.shape}")
    shifts = [(dy, dx) for dy in (-shift, 0, shift) for dx in (-shift, 0, shift) if (dy, dx) != (0, 0)]
    answers = np.stack([np.roll(x, s, axis=(0, 1)) for s in shifts])
    mean = answers.mean(axis=0)
    return {"shifts": shifts, "answers": answers, "mean": mean,
            "mse_mean": float(np.mean([(mean - a) ** 2 for a in answers])),
            "mse_one": float(np.mean([(answers[0] - a) ** 2 for a in answers[1:]]))}
