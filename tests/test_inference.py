"""``srgan_lib.inference``: the compiled forward pass (uint8 in and out, BatchNorm folded) against
the plain Keras generator."""
import numpy as np
import pytest

import keras

from srgan_lib import inference, models
from srgan_lib.errors import UserError


def randomise_stats(model, seed=0):
    """Non-trivial BN statistics / PReLU slopes so inference-mode BN is a real affine map."""
    r = np.random.default_rng(seed)
    for w in model.weights:
        v = keras.ops.convert_to_numpy(w)
        if "moving_variance" in w.path:
            w.assign(r.uniform(0.5, 2.0, v.shape).astype("float32"))
        elif any(k in w.path for k in ("moving_mean", "beta", "alpha", "gamma")):
            w.assign(r.uniform(-0.3, 0.3, v.shape).astype("float32") + (1.0 if "gamma" in w.path else 0.0))
    return model


def keras_float(model, img):
    """The generator's own float32 output for uint8 LR ``img`` (H, W, 3) or (N, H, W, 3)."""
    x = models.lr_from_uint8(img if img.ndim == 4 else img[None])
    y = keras.ops.convert_to_numpy(model(x, training=False))
    return y if img.ndim == 4 else y[0]


def assert_equal_up_to_rounding(got, want_uint8, want_float):
    """``got`` == ``want_uint8``, except off-by-one where the float output sits on a rounding
    boundary (x.5 after scaling to 0..255; float32 error ~1e-6), at under 0.1 % of the values."""
    diff = got.astype(int) - want_uint8.astype(int)
    assert np.abs(diff).max(initial=0) <= 1
    bad = diff != 0
    if bad.any():
        v = (want_float.astype(np.float64)[bad] + 1.0) * 127.5
        assert np.all(np.abs(v - np.floor(v) - 0.5) < 2e-3), "difference away from a rounding boundary"
    assert bad.mean() < 1e-3


@pytest.fixture(scope="module")
def small():
    keras.utils.set_random_seed(0)
    return randomise_stats(models.srresnet(num_blocks=2, filters=16))


def _bn_layers(model):
    return [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]


@pytest.mark.backend
def test_folded_model_matches_keras_model(small):
    pred = inference.make_predictor(small)
    assert pred.folded and pred.scale == 4 and pred.model is small
    folded = inference.fold_batchnorm(small)
    assert len(_bn_layers(small)) == 5 and _bn_layers(folded) == []  # 2 blocks x 2 + body
    assert folded.count_params() == small.count_params() - sum(b.count_params() for b in _bn_layers(small))
    img = np.random.default_rng(0).integers(0, 256, (2, 23, 31, 3), dtype=np.uint8)
    want = keras_float(small, img)
    got = pred.predict_float(img)
    assert got.dtype == np.float32 and got.shape == (2, 92, 124, 3)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    sr = pred(img)
    assert sr.dtype == np.uint8 and sr.shape == (2, 92, 124, 3)
    assert_equal_up_to_rounding(sr, models.super_resolve(small, img, batch=True), want)


@pytest.mark.backend
def test_unfolded_predictor_and_uint8_on_device(small):
    pred = inference.make_predictor(small, fold=False)
    assert not pred.folded
    img = np.random.default_rng(1).integers(0, 256, (1, 17, 12, 3), dtype=np.uint8)
    f = pred.predict_float(img)
    np.testing.assert_allclose(f, keras_float(small, img), rtol=0, atol=1e-6)
    # uint8 computed on the device in float32 == round((y + 1) * 127.5) in float64, up to ties
    assert_equal_up_to_rounding(pred(img), models.hr_to_uint8(f), f)


def _tiny_model(use_bias, center, scale, shared_output):
    x_in = keras.Input((None, None, 3))
    c = keras.layers.Conv2D(6, 3, padding="same", use_bias=use_bias, name="c1")(x_in)
    b = keras.layers.BatchNormalization(center=center, scale=scale, name="bn1")(c)
    y = keras.layers.Conv2D(12, 3, padding="same", name="c2")(b)
    if shared_output:  # c2's output also feeds the add: bn2 cannot be folded into c2
        y = keras.layers.Add(name="add")([keras.layers.BatchNormalization(name="bn2")(y), y])
    else:
        y = keras.layers.BatchNormalization(name="bn2")(y)
    out = models.PixelShuffle(2, name="shuffle")(y)
    return randomise_stats(keras.Model(x_in, out), seed=3)


@pytest.mark.backend
@pytest.mark.parametrize("use_bias,center,scale,shared", [(False, True, True, False),
                                                          (True, False, False, False),
                                                          (True, True, True, True)])
def test_fold_variants(use_bias, center, scale, shared):
    keras.utils.set_random_seed(1)
    model = _tiny_model(use_bias, center, scale, shared)
    folded = inference.fold_batchnorm(model)
    assert [b.name for b in _bn_layers(folded)] == (["bn2"] if shared else [])
    assert folded.get_layer("c1").use_bias
    x = np.random.default_rng(2).uniform(0, 1, (1, 9, 11, 3)).astype("float32")
    want = keras.ops.convert_to_numpy(model(x, training=False))
    got = keras.ops.convert_to_numpy(folded(x, training=False))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    assert np.abs(want).max() > 0.1  # not a vacuous comparison
    assert inference.make_predictor(model).scale == 2


def test_not_an_upscaler_and_bad_input(small):
    x_in = keras.Input((None, None, 3))
    with pytest.raises(UserError, match="not an RGB upscaler"):
        inference.make_predictor(keras.Model(x_in, keras.layers.Conv2D(1, 3, padding="same")(x_in)))
    pred = inference.make_predictor(small)
    with pytest.raises(ValueError, match="uint8 batch"):
        pred(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8 batch"):
        pred(np.zeros((1, 4, 4, 3), np.float32))
