"""Tests for srgan_lib.teaching.preactivation: the pre-activation map built from the layer's kernel
gives the library's VGG features after a ReLU, and the active fraction."""
import numpy as np
import pytest


@pytest.mark.needs_vgg
@pytest.mark.backend
def test_relu_of_the_pre_activation_is_the_library_feature_map(vgg_weights):
    from srgan_lib.images import center_crop
    from srgan_lib.teaching.preactivation import active_fraction, features_before_and_after
    from srgan_lib.teaching.samples import skimage_images
    img = center_crop(dict(skimage_images(("coffee",)))["coffee"], 64)
    for layer, shape in (("54", (4, 4, 512)), ("22", (32, 32, 128))):
        pre, post = features_before_and_after(img, layer)
        assert pre.shape == post.shape == shape and pre.dtype == np.float32
        np.testing.assert_allclose(np.maximum(pre, 0), post, rtol=1e-4, atol=1e-3 * post.max())
        assert (pre < 0).any() and active_fraction(pre) == pytest.approx(active_fraction(post), abs=0.01)
        assert 0 < active_fraction(post) < 1 and np.mean(post == 0) == pytest.approx(1 - active_fraction(post))


def test_active_fraction_and_input_checks():
    from srgan_lib.errors import UserError
    from srgan_lib.teaching.preactivation import active_fraction, features_before_and_after, pre_activation_model
    assert active_fraction(np.array([0.0, 1.0, -2.0, 3.0])) == 0.5
    with pytest.raises(UserError, match="empty"):
        active_fraction(np.zeros(0))
    with pytest.raises(UserError, match="RGB uint8"):
        features_before_and_after(np.zeros((8, 8, 3), np.float32))
    with pytest.raises(UserError, match="layer must be"):
        pre_activation_model("33")
