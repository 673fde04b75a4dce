"""Tests for srgan_lib.losses (Eq. 3-6) against hand-computed numpy values, and for
srgan_lib.vgg (phi_{2,2}, phi_{5,4} / 12.75) against keras.applications.VGG19."""
import numpy as np
import pytest


def _np(x):
    from keras import ops
    return np.asarray(ops.convert_to_numpy(x), dtype=np.float64)


def _softplus(x):
    return np.logaddexp(0.0, x)


LOGITS_REAL = np.array([[2.0], [-0.5], [100.0], [-100.0]], np.float32)
LOGITS_FAKE = np.array([[-3.0], [0.25], [-100.0], [100.0]], np.float32)


# ---------------------------------------------------------------- losses

@pytest.mark.backend
def test_mse_and_perceptual():
    from srgan_lib import losses
    a = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    b = np.array([[0.0, 2.0], [5.0, 1.0]], np.float32)
    assert _np(losses.mse(a, b)) == pytest.approx((1 + 0 + 4 + 9) / 4)
    assert _np(losses.perceptual_loss(0.5, 2.0)) == pytest.approx(0.502)
    assert _np(losses.perceptual_loss(0.5, 2.0, weight=0.1)) == pytest.approx(0.7)


@pytest.mark.backend
def test_generator_adversarial_loss_values_and_stability():
    from srgan_lib import losses
    x = LOGITS_FAKE.astype(np.float64)
    expected = np.mean(-np.log(1 / (1 + np.exp(-x[:2]))))  # direct formula where it is safe
    assert _np(losses.generator_adversarial_loss(LOGITS_FAKE[:2])) == pytest.approx(expected, rel=1e-5)
    value = _np(losses.generator_adversarial_loss(LOGITS_FAKE))
    assert np.isfinite(value)
    assert value == pytest.approx(np.mean(_softplus(-x)), rel=1e-5)
    # -log sigmoid(-100) = 100 (naive float32 log(sigmoid) would give inf)
    assert _np(losses.generator_adversarial_loss(np.float32([[-100.0]]))) == pytest.approx(100.0)
    assert _np(losses.generator_adversarial_loss(np.float32([[100.0]]))) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.backend
def test_saturating_generator_loss():
    from srgan_lib import losses
    x = LOGITS_FAKE.astype(np.float64)
    assert _np(losses.saturating_generator_loss(LOGITS_FAKE[:2])) == pytest.approx(
        np.mean(np.log(1 - 1 / (1 + np.exp(-x[:2])))), rel=1e-5)
    assert _np(losses.saturating_generator_loss(np.float32([[100.0]]))) == pytest.approx(-100.0)
    assert _np(losses.saturating_generator_loss(np.float32([[-100.0]]))) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.backend
def test_discriminator_loss_and_accuracy():
    from srgan_lib import losses
    r, f = LOGITS_REAL.astype(np.float64), LOGITS_FAKE.astype(np.float64)
    value = _np(losses.discriminator_loss(LOGITS_REAL, LOGITS_FAKE))
    assert np.isfinite(value)
    assert value == pytest.approx(np.mean(_softplus(-r)) + np.mean(_softplus(f)), rel=1e-5)
    # hand value for the first two entries: BCE(real->1) + BCE(fake->0)
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    hand = np.mean(-np.log(sig(r[:2]))) + np.mean(-np.log(1 - sig(f[:2])))
    assert _np(losses.discriminator_loss(LOGITS_REAL[:2], LOGITS_FAKE[:2])) == pytest.approx(hand, rel=1e-5)
    # real: 2>0 yes, -0.5 no, 100 yes, -100 no; fake: -3<0 yes, .25 no, -100 yes, 100 no
    assert _np(losses.discriminator_accuracy(LOGITS_REAL, LOGITS_FAKE)) == pytest.approx(0.5)
    patch = np.ones((2, 3, 3, 1), np.float32)
    assert _np(losses.discriminator_accuracy(patch, -patch)) == pytest.approx(1.0)
    assert _np(losses.discriminator_accuracy(-patch, patch)) == pytest.approx(0.0)


@pytest.mark.backend
def test_lsgan_losses():
    from srgan_lib import losses
    real = np.array([1.0, 0.5, 2.0], np.float32)
    fake = np.array([0.0, 0.5, -1.0, 1.0], np.float32)
    assert _np(losses.lsgan_generator_loss(fake)) == pytest.approx((1 + 0.25 + 4 + 0) / 4)
    assert _np(losses.lsgan_discriminator_loss(real, fake)) == pytest.approx(
        (0 + 0.25 + 1) / 3 + (0 + 0.25 + 1 + 1) / 4)


@pytest.mark.backend
def test_adversarial_gradients():
    """The non-saturating loss keeps a gradient where the saturating one vanishes."""
    import keras
    from srgan_lib import losses
    if keras.backend.backend() == "jax":
        import jax
        grad = lambda fn, x: np.asarray(jax.grad(lambda z: fn(z))(x))  # noqa: E731
    else:
        import tensorflow as tf

        def grad(fn, x):
            x = tf.constant(x)
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = fn(x)
            return tape.gradient(y, x).numpy()
    x = np.float32([-10.0])
    # d/dx softplus(-x) = -sigmoid(-x) ~ -1; d/dx -softplus(x) = -sigmoid(x) ~ -4.5e-5
    assert grad(losses.generator_adversarial_loss, x)[0] == pytest.approx(-1.0, abs=1e-4)
    assert abs(grad(losses.saturating_generator_loss, x)[0]) < 1e-4
    big = np.float32([-100.0, 100.0])
    assert np.all(np.isfinite(grad(losses.generator_adversarial_loss, big)))
    assert np.all(np.isfinite(grad(losses.saturating_generator_loss, big)))


@pytest.mark.backend
def test_content_loss_pixel_and_callable():
    from srgan_lib import losses
    rng = np.random.default_rng(0)
    sr = rng.uniform(-1, 1, (2, 4, 4, 3)).astype(np.float32)
    hr = rng.uniform(-1, 1, (2, 4, 4, 3)).astype(np.float32)
    assert _np(losses.content_loss(None, sr, hr)) == pytest.approx(np.mean((sr - hr) ** 2.0), rel=1e-5)

    def features(x, training=False):
        from keras import ops
        return ops.convert_to_tensor(x) * 2.0 + 1.0
    assert _np(losses.content_loss(features, sr, hr)) == pytest.approx(
        np.mean((2 * sr - 2 * hr) ** 2.0), rel=1e-5)


# ---------------------------------------------------------------- VGG

def test_vgg_layer_names_validated():
    from srgan_lib import vgg
    with pytest.raises(ValueError, match="'22' or '54'"):
        vgg.vgg_features("33", weights="/nonexistent/vgg.h5")
    assert vgg._normalise_layer("vgg22") == "22" and vgg._normalise_layer("VGG54") == "54"
    assert vgg._normalise_layer(54) == "54"


def test_vgg_missing_and_bad_weights_file(tmp_path):
    from srgan_lib import vgg
    missing = tmp_path / "nope" / "vgg19_notop.h5"
    with pytest.raises(FileNotFoundError) as e:
        vgg.vgg_features("22", weights=missing)
    msg = str(e.value)
    assert "\n" not in msg and str(missing) in msg and "HDF5" in msg and "VGG19" in msg
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"this is not an HDF5 file")
    with pytest.raises(ValueError) as e:
        vgg.vgg_features("22", weights=bad)
    msg = str(e.value)
    assert "\n" not in msg and str(bad) in msg and "HDF5" in msg and "notop" in msg


def test_vgg_weights_from_environment(monkeypatch, tmp_path):
    from srgan_lib import vgg
    missing = tmp_path / "env_weights.h5"
    monkeypatch.setenv("SRGAN_VGG19_WEIGHTS", str(missing))
    with pytest.raises(FileNotFoundError, match="env_weights.h5"):
        vgg.vgg_features("54")


@pytest.mark.backend
def test_vgg_preprocessing_matches_keras():
    import keras
    from srgan_lib import vgg
    img = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 3)).astype(np.float32)
    expected = keras.applications.vgg19.preprocess_input(img.copy())
    got = _np(vgg.preprocess_for_vgg(img / 127.5 - 1.0))
    np.testing.assert_allclose(got, expected, atol=1e-3)


@pytest.mark.backend
def test_vgg_feature_shapes_frozen_and_cached(vgg_weights):
    from srgan_lib import vgg
    x = np.random.default_rng(1).uniform(-1, 1, (1, 96, 96, 3)).astype(np.float32)
    f22 = vgg.vgg_features("22", weights=vgg_weights)
    f54 = vgg.vgg_features("vgg54", weights=vgg_weights)
    assert tuple(f22(x).shape) == (1, 48, 48, 128)
    assert tuple(f54(x).shape) == (1, 6, 6, 512)
    for f in (f22, f54):
        assert f.trainable is False and len(f.trainable_weights) == 0
    assert vgg.vgg_features("vgg22", weights=str(vgg_weights)) is f22
    assert vgg.vgg_features("54") is f54  # SRGAN_VGG19_WEIGHTS is the fixture's file
    # truncation: phi_{2,2} does not contain any block3..5 layer
    inner = [layer.name for sub in f22.layers if hasattr(sub, "layers") for layer in sub.layers]
    assert "block2_conv2" in inner and not any(n.startswith(("block3", "block5")) for n in inner)


@pytest.mark.backend
def test_vgg_identical_inputs_zero_content_loss(vgg_weights):
    from srgan_lib import losses, vgg
    f = vgg.vgg_features("54", weights=vgg_weights)
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    assert _np(losses.content_loss(f, x, x.copy())) == 0.0
    y = np.clip(x + rng.normal(0, 0.3, x.shape), -1, 1).astype(np.float32)
    assert _np(losses.content_loss(f, y, x)) > 1e-4


@pytest.mark.backend
@pytest.mark.parametrize("layer, block", [("22", "block2_conv2"), ("54", "block5_conv4")])
def test_vgg_features_equal_keras_vgg19(vgg_weights, layer, block):
    import keras
    from srgan_lib import vgg
    rng = np.random.default_rng(3)
    # a smooth "image" (gradients + noise) so deep features are not all zero
    yy, xx = np.mgrid[0:64, 0:64] / 63.0
    img = np.stack([yy, xx, 0.5 * (yy + xx)], -1)[None] * 255.0
    img = np.clip(img + rng.normal(0, 20, img.shape), 0, 255).astype(np.float32)
    full = keras.applications.VGG19(include_top=False, weights=str(vgg_weights))
    ref_model = keras.Model(full.input, full.get_layer(block).output)
    ref = _np(ref_model(keras.applications.vgg19.preprocess_input(img.copy()))) / 12.75
    got = _np(vgg.vgg_features(layer, weights=vgg_weights)(img / 127.5 - 1.0))
    assert got.shape == ref.shape and np.abs(ref).max() > 0.1
    np.testing.assert_allclose(got, ref, rtol=1e-3, atol=1e-3 * np.abs(ref).max())


# ---------------------------------------------------------------- book helpers
def test_loss_curve_slopes_are_the_sigmoid():
    from srgan_lib import losses
    logits = np.linspace(-8, 8, 321).astype(np.float32)
    sig = 1 / (1 + np.exp(-logits.astype(np.float64)))
    v, g = losses.loss_curve(losses.generator_adversarial_loss, logits)
    np.testing.assert_allclose(v, _softplus(-logits.astype(np.float64)), atol=1e-5)
    np.testing.assert_allclose(g[1:-1], (sig - 1)[1:-1], atol=2e-3)  # central differences, step 0.05
    v, g = losses.loss_curve(losses.saturating_generator_loss, logits)
    np.testing.assert_allclose(g[1:-1], -sig[1:-1], atol=2e-3)
    # the saturation of chapter 4: at D(G(x)) = sigmoid(-8) the saturating slope is ~3e-4, the other ~1
    assert abs(g[0]) < 1e-3 and abs(losses.loss_curve(losses.generator_adversarial_loss, logits)[1][0]) > 0.99
    with pytest.raises(ValueError):
        losses.loss_curve(losses.mse, [1.0])


def test_regression_to_the_mean_identity():
    from srgan_lib import losses
    rng = np.random.default_rng(0)
    patch = rng.integers(0, 256, (16, 16, 3)).astype(np.uint8)
    r = losses.regression_to_the_mean(patch, shift=2)
    assert r["answers"].shape == (8, 16, 16, 3) and len(r["shifts"]) == 8 and (0, 0) not in r["shifts"]
    np.testing.assert_array_equal(r["answers"][0], np.roll(patch, (-2, -2), axis=(0, 1)))
    mse_a0_mean = np.mean((r["answers"][0] - r["mean"]) ** 2)
    assert r["mse_one"] == pytest.approx(8 / 7 * (mse_a0_mean + r["mse_mean"]), rel=1e-12)
    assert r["mse_mean"] < r["mse_one"]
    flat = losses.regression_to_the_mean(np.full((8, 8), 7.0))
    assert flat["mse_mean"] == 0 and flat["mse_one"] == 0


def test_feature_maps_maps_uint8_to_minus_one_one():
    from srgan_lib import vgg
    img = np.array([[[0, 255, 51]]], np.uint8)
    out = vgg.feature_maps(lambda x, training=False: x * 2, img)
    np.testing.assert_allclose(out, [[[-2.0, 2.0, 2 * (51 / 127.5 - 1)]]], atol=1e-6)
    with pytest.raises(ValueError):
        vgg.feature_maps(lambda x, training=False: x, img[None])
