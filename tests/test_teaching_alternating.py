"""srgan_lib.teaching.alternating: where the discriminator's gradient goes (chapter 5)."""
import numpy as np
import pytest

from srgan_lib import models
from srgan_lib.teaching import alternating

pytestmark = pytest.mark.backend


def _models_and_batch():
    import keras

    keras.utils.set_random_seed(0)
    g = models.srresnet(scale=4, num_blocks=1, filters=8)
    d = models.discriminator(input_shape=(16, 16, 3))
    rng = np.random.default_rng(0)
    lr = rng.random((2, 4, 4, 3), dtype=np.float32)
    hr = rng.random((2, 16, 16, 3), dtype=np.float32) * 2 - 1
    return g, d, lr, hr


def test_detach_removes_the_generator_gradient_only():
    g, d, lr, hr = _models_and_batch()
    rows = {r["detach"]: r for r in alternating.discriminator_gradient_norms(g, d, lr, hr)}
    assert rows[True]["g_grad_norm"] == 0.0 and rows[True]["g_grads"] == 0
    assert rows[False]["g_grad_norm"] > 0
    assert rows[False]["g_grads"] == len(g.trainable_variables)
    for r in rows.values():
        assert np.isfinite(r["d_loss"]) and r["d_grad_norm"] > 0


@pytest.mark.parametrize("detach", [True, False])
def test_a_discriminator_optimizer_never_moves_the_generator(detach):
    g, d, lr, hr = _models_and_batch()
    before = [np.array(v) for v in d.get_weights() + g.get_weights()]
    moved = alternating.discriminator_step_moves(g, d, lr, hr, detach=detach)
    assert moved["g_moved"] == 0.0
    assert moved["d_moved"] > 0
    # measured from the weights it was given, which it leaves as they were: a second call moves D
    # by exactly as much
    assert all(np.array_equal(a, b) for a, b in zip(before, d.get_weights() + g.get_weights()))
    assert alternating.discriminator_step_moves(g, d, lr, hr, detach=detach) == moved
