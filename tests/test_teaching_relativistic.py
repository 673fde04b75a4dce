"""Tests for srgan_lib.teaching.relativistic: the RaGAN losses against ESRGAN's formulas written with
explicit sigmoids and logs, the real/fake symmetry, and finite values for extreme logits."""
import numpy as np
import pytest


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


@pytest.mark.backend
def test_ragan_losses_match_the_formulas_of_esrgan():
    from srgan_lib.teaching.relativistic import (ragan_discriminator_loss, ragan_generator_loss,
                                                 relativistic_logits)
    rng = np.random.default_rng(0)
    real, fake = rng.normal(1, 1.5, (6, 1)), rng.normal(-1, 1.0, (6, 1))
    d_rf = _sigmoid(real - fake.mean())   # D_Ra(x_r, x_f)
    d_fr = _sigmoid(fake - real.mean())   # D_Ra(x_f, x_r)
    l_d = -np.mean(np.log(d_rf)) - np.mean(np.log(1 - d_fr))
    l_g = -np.mean(np.log(1 - d_rf)) - np.mean(np.log(d_fr))
    assert float(ragan_discriminator_loss(real, fake)) == pytest.approx(l_d, rel=1e-5)
    assert float(ragan_generator_loss(real, fake)) == pytest.approx(l_g, rel=1e-5)
    assert float(ragan_generator_loss(real, fake)) == pytest.approx(float(ragan_discriminator_loss(fake, real)),
                                                                    rel=1e-6)
    r, f = relativistic_logits(real, fake)
    np.testing.assert_allclose(np.asarray(r), real - fake.mean(), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(f), fake - real.mean(), rtol=1e-5)


@pytest.mark.backend
def test_ragan_losses_are_finite_and_shift_invariant():
    from srgan_lib.teaching.relativistic import ragan_discriminator_loss, ragan_generator_loss
    real, fake = np.array([200.0, 150.0]), np.array([-300.0, -250.0])
    assert float(ragan_discriminator_loss(real, fake)) == pytest.approx(0.0, abs=1e-6)
    # softplus(z) = z for large z: L_G = mean(475, 425) + mean(475, 425)
    assert float(ragan_generator_loss(real, fake)) == pytest.approx(900.0, rel=1e-6)
    x, y = np.array([0.3, -0.2, 1.1]), np.array([0.0, -1.0])
    # only differences of logits matter: adding a constant to every logit changes nothing
    assert float(ragan_discriminator_loss(x + 7, y + 7)) == pytest.approx(float(ragan_discriminator_loss(x, y)),
                                                                         rel=1e-5)
