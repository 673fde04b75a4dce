"""Tests for srgan_lib.teaching.batchnorm: batch statistics change the output, the original generator
is untouched, and the copy standardises with the input's own statistics."""
import numpy as np
import pytest


@pytest.mark.backend
def test_batch_statistics_change_the_output_but_not_the_generator():
    import keras

    from srgan_lib import models
    from srgan_lib.errors import UserError
    from srgan_lib.teaching.batchnorm import batch_statistics_generator, super_resolve_with_batch_statistics
    keras.utils.set_random_seed(0)
    g = models.srresnet(num_blocks=2, filters=8)
    rng = np.random.default_rng(0)
    # moving statistics that differ from any image's: the two modes must then disagree
    g.set_weights([w + rng.uniform(0.5, 1.0, w.shape).astype(w.dtype) if "moving" in v.path else w
                   for w, v in zip(g.get_weights(), g.weights)])
    before = [w.copy() for w in g.get_weights()]
    lr = rng.integers(0, 256, (16, 12, 3)).astype(np.uint8)
    copy = batch_statistics_generator(g)
    out = super_resolve_with_batch_statistics(copy, lr)
    assert out.shape == (64, 48, 3) and out.dtype == np.uint8
    assert not np.array_equal(out, models.super_resolve(g, lr))
    assert all(np.array_equal(a, b) for a, b in zip(before, g.get_weights()))
    # with batch statistics the output does not depend on the moving averages at all
    np.testing.assert_array_equal(out, super_resolve_with_batch_statistics(copy, lr))
    pair = super_resolve_with_batch_statistics(copy, np.stack([lr, lr]), batch=True)
    np.testing.assert_array_equal(pair[0], out)
    with pytest.raises(UserError, match="RGB uint8"):
        super_resolve_with_batch_statistics(copy, lr[None])
    with pytest.raises(UserError, match="no BatchNormalization"):
        batch_statistics_generator(keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Conv2D(3, 1)]))
