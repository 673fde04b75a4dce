"""Tests for srgan_lib.teaching.perceptual: regression to the mean, feature maps, gradient images
(against the analytic gradient and finite differences) and feature inversion (it lowers its own
loss, shapes, determinism), on both backends."""
import numpy as np
import pytest


def _target(size=32, seed=0):
    """A smooth random colour image with some texture (uint8)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    img = np.stack([yy, xx, 0.5 * (yy + xx)], -1) * 200 + 25
    img += 12 * np.sin(xx * 19)[..., None] + rng.normal(0, 10, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- regression to the mean, feature maps

def test_regression_to_the_mean_identity():
    from srgan_lib.teaching.perceptual import regression_to_the_mean
    rng = np.random.default_rng(0)
    patch = rng.integers(0, 256, (16, 16, 3)).astype(np.uint8)
    r = regression_to_the_mean(patch, shift=2)
    assert r["answers"].shape == (8, 16, 16, 3) and len(r["shifts"]) == 8 and (0, 0) not in r["shifts"]
    np.testing.assert_array_equal(r["answers"][0], np.roll(patch, (-2, -2), axis=(0, 1)))
    mse_a0_mean = np.mean((r["answers"][0] - r["mean"]) ** 2)
    assert r["mse_one"] == pytest.approx(8 / 7 * (mse_a0_mean + r["mse_mean"]), rel=1e-12)
    assert r["mse_mean"] < r["mse_one"]
    flat = regression_to_the_mean(np.full((8, 8), 7.0))
    assert flat["mse_mean"] == 0 and flat["mse_one"] == 0


def test_feature_maps_maps_uint8_to_minus_one_one():
    from srgan_lib.errors import UserError
    from srgan_lib.teaching.perceptual import feature_maps
    img = np.array([[[0, 255, 51]]], np.uint8)
    out = feature_maps(lambda x, training=False: x * 2, img)
    np.testing.assert_allclose(out, [[[-2.0, 2.0, 2 * (51 / 127.5 - 1)]]], atol=1e-6)
    with pytest.raises(UserError, match="uint8"):
        feature_maps(lambda x, training=False: x, img[None])


# ---------------------------------------------------------------- losses and gradients

@pytest.mark.backend
def test_pixel_gradient_is_the_analytic_one():
    """d/dx mean((x - t)^2) = 2 (x - t) / N, in [-1, 1] units."""
    from srgan_lib.models import hr_from_uint8
    from srgan_lib.teaching import perceptual
    target = _target(24)
    start = perceptual.bicubic_start(target)
    value, grad = perceptual.gradient_image("mse", start, target)
    x, t = hr_from_uint8(start).astype(np.float64), hr_from_uint8(target).astype(np.float64)
    assert value == pytest.approx(np.mean((x - t) ** 2), rel=1e-5)
    assert grad.shape == (24, 24, 3) and grad.dtype == np.float32
    np.testing.assert_allclose(grad, 2 * (x - t) / x.size, rtol=1e-4, atol=1e-9)


@pytest.mark.backend
@pytest.mark.needs_vgg
@pytest.mark.parametrize("loss", ["vgg22", "vgg54"])
def test_vgg_gradient_matches_finite_differences(vgg_weights, loss):
    from keras import ops
    from srgan_lib import losses, vgg
    from srgan_lib.models import hr_from_uint8
    from srgan_lib.teaching import perceptual
    target = _target(32)
    start = perceptual.bicubic_start(target)
    value, grad = perceptual.gradient_image(loss, start, target)
    assert grad.shape == (32, 32, 3) and np.all(np.isfinite(grad)) and np.abs(grad).max() > 0
    # the value is the library's content loss on the training scale
    f = vgg.vgg_features(loss[-2:])
    x = hr_from_uint8(start[None])
    assert value == pytest.approx(float(ops.convert_to_numpy(
        losses.content_loss(f, x, hr_from_uint8(target[None])))), rel=1e-4)
    # directional derivative along the gradient itself, by central differences
    def fn(y):
        return ops.convert_to_numpy(losses.content_loss(f, y, hr_from_uint8(target[None])))

    d = (grad / np.linalg.norm(grad))[None]
    eps = 2e-2
    numeric = (float(fn(x + eps * d)) - float(fn(x - eps * d))) / (2 * eps)
    assert numeric == pytest.approx(float(np.linalg.norm(grad)), rel=0.05)


def test_gradient_magnitude():
    from srgan_lib.teaching.perceptual import gradient_magnitude
    g = np.zeros((2, 2, 3))
    g[0, 0] = (3, 4, 0)
    g[1, 1] = (0, 0, 2.5)
    np.testing.assert_allclose(gradient_magnitude(g), [[1.0, 0.0], [0.0, 0.5]])
    assert np.all(gradient_magnitude(np.zeros((3, 3, 3))) == 0)


def test_unknown_loss_and_bad_images_are_user_errors():
    from srgan_lib.errors import UserError
    from srgan_lib.teaching import perceptual
    target = _target(16)
    with pytest.raises(UserError, match="unknown content loss 'vgg33'"):
        perceptual.gradient_image("vgg33", target, target)
    with pytest.raises(UserError, match="differ in shape"):
        perceptual.gradient_image("mse", target[:8], target)
    with pytest.raises(UserError, match="uint8"):
        perceptual.invert(target.astype(np.float32), "mse")
    with pytest.raises(UserError, match="steps"):
        perceptual.invert(target, "mse", steps=0)


# ---------------------------------------------------------------- feature inversion

@pytest.mark.backend
def test_pixel_inversion_lowers_its_loss_shapes_and_determinism():
    from srgan_lib.models import hr_from_uint8
    from srgan_lib.teaching import perceptual
    target = _target(32)
    start = perceptual.bicubic_start(target)
    r = perceptual.invert(target, "mse", steps=40, learning_rate=0.01)
    assert r.image.shape == (32, 32, 3) and r.image.dtype == np.uint8
    assert r.pixels.shape == (32, 32, 3) and r.pixels.dtype == np.float32
    assert r.history.shape == (41,) and r.steps == 40 and r.loss == "mse"
    assert r.pixels.min() >= -1 and r.pixels.max() <= 1
    # history[0] is the loss of the bicubic start, history[-1] the loss of the result
    x0, t = hr_from_uint8(start).astype(np.float64), hr_from_uint8(target).astype(np.float64)
    assert r.history[0] == pytest.approx(np.mean((x0 - t) ** 2), rel=1e-5)
    assert r.history[-1] == pytest.approx(np.mean((r.pixels.astype(np.float64) - t) ** 2), rel=1e-4)
    assert r.history[-1] < 0.2 * r.history[0]  # the pixel loss is easy: it moves to the target
    again = perceptual.invert(target, "mse", steps=40, learning_rate=0.01)
    np.testing.assert_array_equal(again.pixels, r.pixels)
    np.testing.assert_array_equal(again.history, r.history)
    # an explicit start equal to the default gives the same result
    explicit = perceptual.invert(target, "mse", start=start, steps=40, learning_rate=0.01)
    np.testing.assert_array_equal(explicit.pixels, r.pixels)


@pytest.mark.backend
@pytest.mark.needs_vgg
@pytest.mark.parametrize("loss, steps", [("vgg22", 15), ("vgg54", 6)])
def test_vgg_inversion_lowers_its_loss_and_is_deterministic(vgg_weights, loss, steps):
    from srgan_lib.teaching import perceptual
    target = _target(32, seed=1)
    r = perceptual.invert(target, loss, steps=steps, learning_rate=0.01)
    assert r.history.shape == (steps + 1,) and r.image.shape == target.shape
    assert r.history[-1] < 0.8 * r.history[0]
    value, _ = perceptual.gradient_image(loss, perceptual.bicubic_start(target), target)
    assert r.history[0] == pytest.approx(value, rel=1e-5)
    again = perceptual.invert(target, loss, steps=steps, learning_rate=0.01)
    np.testing.assert_array_equal(again.pixels, r.pixels)
    np.testing.assert_array_equal(again.history, r.history)
