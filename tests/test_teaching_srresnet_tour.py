"""Tests for srgan_lib.teaching.srresnet_tour: the pixel-shuffle orderings, the seed's generator,
convolution costs, residual ratios and the edited generator copies."""
import numpy as np
import pytest

from srgan_lib.errors import UserError


@pytest.mark.backend
def test_pixel_shuffle_reference_is_the_library_layer_and_not_torch_order():
    from keras import ops

    from srgan_lib.models import PixelShuffle
    from srgan_lib.teaching.srresnet_tour import pixel_shuffle_reference, pixel_shuffle_torch_order
    x = np.random.default_rng(0).random((2, 3, 4, 12)).astype("float32")  # C = 3, r = 2
    layer = ops.convert_to_numpy(PixelShuffle(2)(x))
    np.testing.assert_array_equal(pixel_shuffle_reference(x, 2), layer)
    assert not np.array_equal(pixel_shuffle_torch_order(x, 2), layer)
    # one channel: both orderings agree
    y = x[..., :4]
    np.testing.assert_array_equal(pixel_shuffle_torch_order(y, 2), pixel_shuffle_reference(y, 2))
    # the formula, entry by entry: out[h*r+i, w*r+j, c] = in[h, w, (i*r+j)*C + c]
    out = pixel_shuffle_reference(x, 2)
    assert out[0, 1 * 2 + 1, 2 * 2 + 0, 2] == x[0, 1, 2, (1 * 2 + 0) * 3 + 2]
    with pytest.raises(UserError):
        pixel_shuffle_reference(x[..., :5], 2)


@pytest.mark.backend
def test_seed_generator_and_costs():
    from srgan_lib import models
    from srgan_lib.teaching.srresnet_tour import conv_costs, costs_by_part, seed_generator
    seed = seed_generator(num_blocks=2)
    y = seed(np.zeros((1, 8, 6, 3), "float32"))
    assert tuple(y.shape) == (1, 32, 24, 3)
    rows = conv_costs(seed, 8, 6)
    up1, up2 = [r for r in rows if r["part"] == "upsampling"]
    # deconv2d convolves first: up1 at the LR size (8x6), up2 at twice it, 256 -> 256 channels
    assert (up1["height"], up1["width"], up1["in"], up1["out"]) == (8, 6, 64, 256)
    assert (up2["height"], up2["width"], up2["in"], up2["out"]) == (16, 12, 256, 256)
    assert up2["macs"] == 16 * 12 * 9 * 256 * 256
    assert sum(r["params"] for r in rows) < seed.count_params()  # + BN
    # sub-pixel and resize-convolution upsampling cost the same multiply-accumulates
    sub = costs_by_part(conv_costs(models.srresnet(num_blocks=1, filters=8), 6))
    near = costs_by_part(conv_costs(models.srresnet(num_blocks=1, filters=8, upsample="nearest"), 6))
    assert sub["upsampling"]["macs"] == near["upsampling"]["macs"]
    assert sub["upsampling"]["params"] > near["upsampling"]["params"]
    assert list(sub) == ["head", "residual blocks", "body conv + long skip", "upsampling", "output conv"]


@pytest.mark.backend
def test_residual_ratios_slopes_and_edited_copies():
    import keras

    from srgan_lib import models
    from srgan_lib.teaching.srresnet_tour import (crop_panels, prelu_slopes, residual_ratios, with_prelu_slopes,
                                                  without_block)
    keras.utils.set_random_seed(0)
    g = models.srresnet(num_blocks=2, filters=8)
    lr = np.random.default_rng(1).integers(0, 256, (8, 8, 3)).astype(np.uint8)
    rows = residual_ratios(g, lr)
    assert [r["block"] for r in rows] == ["block 1", "block 2", "long skip"]
    assert all(r["ratio"] == pytest.approx(r["branch_rms"] / r["input_rms"]) for r in rows)
    slopes = prelu_slopes(g)
    assert all(np.allclose(v, models.PRELU_INIT) and v.shape == (8,) for v in slopes.values())
    before = [w.copy() for w in g.get_weights()]
    relu = with_prelu_slopes(g, 0.0)
    assert all(np.all(v == 0) for v in prelu_slopes(relu).values())
    cut = without_block(g, 2)
    assert cut.get_layer("res2_bn2").get_weights()[0].max() == 0
    assert all(np.array_equal(a, b) for a, b in zip(before, g.get_weights()))  # original untouched
    # a block whose branch is zero is the identity: its add passes its input through
    probe = keras.Model(cut.input, [cut.get_layer("res1_add").output, cut.get_layer("res2_add").output])
    a, b = probe(models.lr_from_uint8(lr[None]), training=False)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), atol=1e-6)
    with pytest.raises(UserError):
        without_block(g, 3)
    img = np.zeros((32, 32, 3), np.uint8)
    panels = crop_panels({"x": img}, (4, 4, 16), hr=img + 1)
    assert [p[1].shape for p in panels] == [(16, 16, 3), (16, 16, 3)] and "PSNR" in panels[0][0]
    with pytest.raises(UserError):
        crop_panels({"x": img}, (20, 20, 16))


def test_shipped_training_log():
    from srgan_lib.teaching.srresnet_tour import shipped_training_log
    log = shipped_training_log("srresnet-mse")
    assert "content_loss" in log["log"] and "adv_loss" not in log["log"]
    assert np.all(np.diff(log["log"]["step"]) > 0) and log["val"]["psnr"].size >= 1
    with pytest.raises(UserError):
        shipped_training_log("no-such-model")


def test_busiest_box_finds_the_texture():
    from srgan_lib.teaching.srresnet_tour import busiest_box
    img = np.full((64, 80, 3), 128, np.uint8)
    img[40:56, 48:64] = np.random.default_rng(0).integers(0, 256, (16, 16, 3))
    top, left, size = busiest_box(img, 16, 4)
    assert (top, left, size) == (40, 48, 16)
    with pytest.raises(UserError):
        busiest_box(img, 64, 4)


@pytest.mark.backend
def test_window_sr_is_the_whole_image_result_inside_the_receptive_field():
    import keras

    from srgan_lib import models
    from srgan_lib.teaching.srresnet_tour import crop_panels, without_block, window_sr
    keras.utils.set_random_seed(0)
    g = models.srresnet(num_blocks=2, filters=8)  # receptive field radius < 16 LR pixels

    def method(lr):
        return models.super_resolve(g, lr)

    lr = np.random.default_rng(2).integers(0, 256, (40, 44, 3)).astype(np.uint8)
    whole = method(lr)
    for box in [(64, 48, 32), (0, 0, 16), (144, 160, 16)]:
        t, l_, s = box
        np.testing.assert_array_equal(window_sr(method, lr, box, 4, margin=16),
                                      whole[t:t + s, l_:l_ + s])
    with pytest.raises(UserError):
        window_sr(method, lr, (2, 0, 16))
    crop = window_sr(method, lr, (64, 48, 32), 4, margin=16)
    a = crop_panels({"window": crop, "whole": whole}, (64, 48, 32), hr=whole)
    assert a[0][0].split("\n")[1] == a[1][0].split("\n")[1] == "PSNR inf dB, SSIM 1.000"
    assert len(a) == 3 and np.array_equal(a[0][1], a[2][1])
    # without_block into an earlier copy: the same result as a fresh copy
    first = without_block(g, 1)
    np.testing.assert_array_equal(without_block(g, 2, into=first).get_weights()[-1],
                                  without_block(g, 2).get_weights()[-1])
    assert first.get_layer("res1_bn2").get_weights()[0].max() != 0
