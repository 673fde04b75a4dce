"""Tests for srgan_lib.losses (Eq. 3-6) against hand-computed numpy values, and for
srgan_lib.vgg (phi_{2,2} / 361, phi_{5,4} / 12.75) against keras.applications.VGG19, including its
dtype-policy behaviour.  The criterion behind the feature scales is tested in test_content_scale.py."""
from pathlib import Path

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


@pytest.mark.backend
def test_content_loss_is_float32_for_bfloat16_inputs_and_features():
    from keras import ops
    from srgan_lib import losses
    rng = np.random.default_rng(1)
    sr = ops.cast(rng.uniform(-1, 1, (2, 4, 4, 3)).astype(np.float32), "bfloat16")
    hr = rng.uniform(-1, 1, (2, 4, 4, 3)).astype(np.float32)
    expected = np.mean((_np(sr) - hr.astype(np.float64)) ** 2)  # sr's bf16 values, exactly
    for features in (None, lambda x, training=False: ops.cast(x, "bfloat16")):
        value = losses.content_loss(features, sr, hr)
        assert str(ops.convert_to_numpy(value).dtype) == "float32"
    assert _np(losses.content_loss(None, sr, hr)) == pytest.approx(expected, rel=1e-6)


# ---------------------------------------------------------------- VGG

def test_vgg_layer_names_and_scale_validated():
    from srgan_lib import vgg
    from srgan_lib.errors import UserError
    with pytest.raises(UserError, match="'22' or '54'"):
        vgg.vgg_features("33", weights="/nonexistent/vgg.h5")
    for bad in (0, -1.0, float("inf"), float("nan")):
        with pytest.raises(UserError, match="scale must be a positive number"):
            vgg.vgg_features("22", weights="/nonexistent/vgg.h5", scale=bad)
    assert vgg.normalise_layer("vgg22") == "22" and vgg.normalise_layer("VGG54") == "54"
    assert vgg.normalise_layer(54) == "54"


def test_vgg_missing_and_bad_weights_file(tmp_path):
    from srgan_lib import vgg
    from srgan_lib.errors import InputNotFoundError, UserError
    missing = tmp_path / "nope" / "vgg19_notop.h5"
    with pytest.raises(InputNotFoundError) as e:
        vgg.vgg_features("22", weights=missing)
    msg = str(e.value)
    assert "\n" not in msg and str(missing) in msg and "HDF5" in msg and "VGG19" in msg
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"this is not an HDF5 file")
    with pytest.raises(UserError) as e:
        vgg.vgg_features("22", weights=bad)
    msg = str(e.value)
    assert "\n" not in msg and str(bad) in msg and "HDF5" in msg and "notop" in msg


def test_vgg_weights_from_environment(monkeypatch, tmp_path):
    from srgan_lib import vgg
    missing = tmp_path / "env_weights.h5"
    monkeypatch.setenv("SRGAN_VGG19_WEIGHTS", str(missing))
    with pytest.raises(FileNotFoundError, match="env_weights.h5"):
        vgg.vgg_features("54")


def test_resolve_weights(monkeypatch, tmp_path):
    from srgan_lib import vgg
    monkeypatch.delenv("SRGAN_VGG19_WEIGHTS", raising=False)
    assert vgg.resolve_weights() == vgg.resolve_weights(None) == vgg.resolve_weights("imagenet") == "imagenet"
    monkeypatch.setenv("SRGAN_VGG19_WEIGHTS", str(tmp_path / "env.h5"))
    assert vgg.resolve_weights() == str(tmp_path / "env.h5")
    assert vgg.resolve_weights("imagenet") == "imagenet"  # an explicit choice wins over the environment
    monkeypatch.setenv("HOME", str(tmp_path))
    assert vgg.resolve_weights("~/w.h5") == str(tmp_path / "w.h5")
    monkeypatch.chdir(tmp_path)
    assert vgg.resolve_weights(Path("rel.h5")) == str(tmp_path / "rel.h5")


@pytest.mark.backend
def test_vgg_preprocessing_matches_keras():
    import keras
    from srgan_lib import vgg
    img = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 3)).astype(np.float32)
    expected = keras.applications.vgg19.preprocess_input(img.copy())
    got = _np(vgg.preprocess_for_vgg(img / 127.5 - 1.0))
    np.testing.assert_allclose(got, expected, atol=1e-3)


@pytest.mark.backend
@pytest.mark.needs_vgg
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
@pytest.mark.needs_vgg
def test_vgg_identical_inputs_zero_content_loss(vgg_weights):
    from srgan_lib import losses, vgg
    f = vgg.vgg_features("54", weights=vgg_weights)
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    assert _np(losses.content_loss(f, x, x.copy())) == 0.0
    y = np.clip(x + rng.normal(0, 0.3, x.shape), -1, 1).astype(np.float32)
    assert _np(losses.content_loss(f, y, x)) > 1e-4


@pytest.mark.backend
@pytest.mark.needs_vgg
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
    raw = _np(ref_model(keras.applications.vgg19.preprocess_input(img.copy())))
    assert vgg.FEATURE_SCALE == {"22": 361.0, "54": 12.75}
    for scale, divisor in [(None, vgg.FEATURE_SCALE[layer]), (1.0, 1.0), (12.75, 12.75)]:
        ref = raw / divisor
        got = _np(vgg.vgg_features(layer, weights=vgg_weights, scale=scale)(img / 127.5 - 1.0))
        assert got.shape == ref.shape and np.abs(ref).max() > 0.1
        np.testing.assert_allclose(got, ref, rtol=1e-3, atol=1e-3 * np.abs(ref).max())
    assert vgg.vgg_features(layer, weights=vgg_weights, scale=None) is \
        vgg.vgg_features(layer, weights=vgg_weights, scale=vgg.FEATURE_SCALE[layer])


def _compute_dtypes(model):
    """{layer name: compute dtype} of a vgg_features model, nested VGG19 layers included."""
    out = {}
    for layer in model.layers:
        out[layer.name] = layer.compute_dtype
        for inner in getattr(layer, "layers", []):
            out[inner.name] = inner.compute_dtype
    return out


@pytest.mark.backend
@pytest.mark.needs_vgg
def test_vgg_cache_follows_the_dtype_policy(vgg_weights):
    """#13: a float32 vgg_features() after a mixed-precision one is a float32 model, and the
    mixed-precision model runs its preprocessing and rescaling in float32."""
    import keras
    from keras import ops
    from srgan_lib import vgg
    previous = keras.mixed_precision.global_policy()
    try:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
        mixed = vgg.vgg_features("22", weights=vgg_weights)
        assert vgg.vgg_features("22", weights=vgg_weights) is mixed
    finally:
        keras.mixed_precision.set_global_policy(previous)
    plain = vgg.vgg_features("22", weights=vgg_weights)
    assert plain is not mixed
    d_mixed, d_plain = _compute_dtypes(mixed), _compute_dtypes(plain)
    assert d_mixed["block1_conv1"] == d_mixed["block2_conv2"] == "bfloat16"
    assert d_mixed["vgg_preprocess"] == "float32" and d_mixed["rescale_1_over_361"] == "float32"
    assert set(d_plain.values()) == {"float32"}
    x = np.random.default_rng(4).uniform(-1, 1, (1, 32, 32, 3)).astype(np.float32)
    f_mixed, f_plain = mixed(x), plain(x)
    assert str(ops.convert_to_numpy(f_mixed).dtype) == "float32"
    assert str(ops.convert_to_numpy(f_plain).dtype) == "float32"
    a, b = _np(f_mixed), _np(f_plain)
    # bfloat16 convolutions: close to the float32 features, but not equal
    assert 0 < np.abs(a - b).max() and np.sqrt(np.mean((a - b) ** 2)) < 0.05 * np.sqrt(np.mean(b ** 2))


@pytest.mark.backend
def test_vgg_preprocess_layer_is_float32_under_mixed_precision():
    """The preprocessing maps [-1, 1] to -124..152: in bfloat16 (8 significant bits) that is off
    by up to 0.5; pinned to float32 it equals Keras' preprocess_input to float32 rounding."""
    import keras
    from keras import ops
    from srgan_lib import vgg
    img = np.random.default_rng(5).integers(0, 256, (1, 8, 8, 3)).astype(np.float32)
    expected = keras.applications.vgg19.preprocess_input(img.copy())
    previous = keras.mixed_precision.global_policy()
    try:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
        pinned = vgg.VGGPreprocess(dtype="float32")
        default = vgg.VGGPreprocess()
        got, rough = pinned(img / 127.5 - 1.0), default(img / 127.5 - 1.0)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    assert str(ops.convert_to_numpy(got).dtype) == "float32"
    np.testing.assert_allclose(_np(got), expected, atol=1e-3)
    assert np.abs(_np(rough) - expected).max() > 0.1  # what the pin avoids


# ---------------------------------------------------------------- book helpers
def test_loss_curve_slopes_are_the_sigmoid():
    from srgan_lib import losses
    from srgan_lib.errors import UserError
    from srgan_lib.teaching.adversarial import loss_curve
    logits = np.linspace(-8, 8, 321).astype(np.float32)
    sig = 1 / (1 + np.exp(-logits.astype(np.float64)))
    v, g = loss_curve(losses.generator_adversarial_loss, logits)
    np.testing.assert_allclose(v, _softplus(-logits.astype(np.float64)), atol=1e-5)
    np.testing.assert_allclose(g[1:-1], (sig - 1)[1:-1], atol=2e-3)  # central differences, step 0.05
    v, g = loss_curve(losses.saturating_generator_loss, logits)
    np.testing.assert_allclose(g[1:-1], -sig[1:-1], atol=2e-3)
    # the saturation of chapter 4: at D(G(x)) = sigmoid(-8) the saturating slope is ~3e-4, the other ~1
    assert abs(g[0]) < 1e-3 and abs(loss_curve(losses.generator_adversarial_loss, logits)[1][0]) > 0.99
    with pytest.raises(UserError, match="at least two logits"):
        loss_curve(losses.mse, [1.0])


def test_book_helpers_left_the_core():
    """#14: the book-only helpers live in srgan_lib.teaching, not in vgg/losses."""
    from srgan_lib import losses, vgg
    for module, name in [(vgg, "feature_maps"), (vgg, "clear_cache"), (losses, "loss_curve"),
                         (losses, "regression_to_the_mean")]:
        assert not hasattr(module, name) and name not in module.__all__
