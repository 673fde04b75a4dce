"""Tests for srgan_lib.models: architecture (Fig. 4), shapes, ranges, helpers, and a
cross-backend numerical reference (tests/data/srresnet_small_reference.npz, generated under
TensorFlow by ``python tests/test_models.py --regenerate``)."""
import sys
from pathlib import Path

import numpy as np
import pytest

REFERENCE = Path(__file__).parent / "data" / "srresnet_small_reference.npz"


def _models():
    from srgan_lib import models
    return models


# ---------------------------------------------------------------- parameter counts

@pytest.mark.parametrize("kwargs, expected", [
    ({}, 1_554_883),                                  # paper defaults: x4, B=16, 64 filters
    ({"upsample": "nearest"}, 1_333_315),
    ({"scale": 2}, 1_407_107),
    ({"scale": 8}, 1_702_659),
    ({"num_blocks": 2}, 512_835),
])
def test_srresnet_param_counts(kwargs, expected):
    assert _models().srresnet(**kwargs).count_params() == expected


def test_srresnet_param_count_by_hand():
    # the pinned number, re-derived layer by layer (Fig. 4), including BN moving statistics
    conv = lambda k, cin, cout: k * k * cin * cout + cout  # noqa: E731
    bn, prelu = 4 * 64, 64
    head = conv(9, 3, 64) + prelu
    block = 2 * conv(3, 64, 64) + 2 * bn + prelu
    body = conv(3, 64, 64) + bn
    up = conv(3, 64, 256) + prelu  # PReLU after the shuffle: 64 channels
    tail = conv(9, 64, 3)
    assert head + 16 * block + body + 2 * up + tail == 1_554_883
    g = _models().srresnet()
    n_trainable = sum(int(np.prod(w.shape)) for w in g.trainable_weights)
    assert n_trainable == 1_554_883 - 33 * 2 * 64  # 33 BN layers, 2 moving stats each


def test_discriminator_param_counts():
    m = _models()
    assert m.discriminator().count_params() == 23_569_217
    assert m.discriminator(head="patch").count_params() == 4_697_409
    assert m.discriminator((None, None, 3), head="patch").count_params() == 4_697_409


def test_invalid_arguments():
    m = _models()
    for s in (1, 3, 16, "4x"):
        with pytest.raises(ValueError, match="scale must be 2, 4 or 8"):
            m.srresnet(scale=s)
    with pytest.raises(ValueError, match="upsample"):
        m.srresnet(upsample="bilinear")
    with pytest.raises(ValueError, match="head"):
        m.discriminator(head="global")
    with pytest.raises(ValueError, match="fixed input size"):
        m.discriminator((None, None, 3))


def test_layer_structure():
    m = _models()
    g = m.srresnet(num_blocks=3)
    names = [layer.name for layer in g.layers]
    for n in ("head_conv", "head_prelu", "res1_conv1", "res3_bn2", "body_bn", "long_skip",
              "up1_shuffle", "up2_prelu", "tail_conv"):
        assert n in names
    assert g.get_layer("head_conv").kernel.shape == (9, 9, 3, 64)
    assert g.get_layer("tail_conv").kernel.shape == (9, 9, 64, 3)
    assert tuple(g.get_layer("res1_prelu").alpha.shape) == (1, 1, 64)  # one slope per channel
    d = m.discriminator()
    strides = [d.get_layer(f"d{i}_conv").strides[0] for i in range(1, 9)]
    filters = [d.get_layer(f"d{i}_conv").filters for i in range(1, 9)]
    assert strides == [1, 2] * 4 and filters == [64, 64, 128, 128, 256, 256, 512, 512]
    bn = {layer.name for layer in d.layers if "bn" in layer.name}
    assert "d1_bn" not in bn and len(bn) == 7
    assert d.get_layer("logit").activation.__name__ == "linear"


# ---------------------------------------------------------------- shapes, ranges

@pytest.mark.backend
@pytest.mark.parametrize("upsample", ["subpixel", "nearest"])
def test_srresnet_shapes_and_range(upsample):
    g = _models().srresnet(num_blocks=1, upsample=upsample)
    rng = np.random.default_rng(1)
    for h, w in [(24, 24), (17, 31)]:
        x = rng.uniform(0, 1, (2, h, w, 3)).astype("float32")
        y = np.asarray(g(x, training=False))
        assert y.shape == (2, 4 * h, 4 * w, 3)
        assert np.all(np.isfinite(y)) and y.min() >= -1 and y.max() <= 1
        assert y.std() > 0


@pytest.mark.backend
@pytest.mark.parametrize("scale", [2, 8])
def test_srresnet_other_scales(scale):
    g = _models().srresnet(scale=scale, num_blocks=0, filters=8)
    y = np.asarray(g(np.zeros((1, 5, 7, 3), "float32"), training=False))
    assert y.shape == (1, 5 * scale, 7 * scale, 3)


def _depth_to_space_reference(x, r):
    n, h, w, c = x.shape
    oc = c // (r * r)
    out = np.empty((n, h * r, w * r, oc), x.dtype)
    for i in range(r):
        for j in range(r):
            out[:, i::r, j::r, :] = x[:, :, :, (i * r + j) * oc:(i * r + j + 1) * oc]
    return out


@pytest.mark.backend
@pytest.mark.parametrize("r", [2, 3])
def test_pixel_shuffle_matches_numpy(r):
    x = np.random.default_rng(2).normal(size=(2, 3, 5, 4 * r * r)).astype("float32")
    y = np.asarray(_models().PixelShuffle(r)(x))
    np.testing.assert_array_equal(y, _depth_to_space_reference(x, r))


@pytest.mark.backend
def test_pixel_shuffle_in_a_compiled_model_with_unknown_sizes_equals_depth_to_space():
    import keras

    if not hasattr(keras.ops, "depth_to_space"):
        pytest.skip(f"keras.ops.depth_to_space arrived in Keras 3.14 (this is {keras.__version__})")
    inp = keras.Input((None, None, 12))
    model = keras.Model(inp, _models().PixelShuffle(2)(inp))
    x = np.random.default_rng(5).normal(size=(3, 5, 7, 12)).astype("float32")
    y = model.predict(x, verbose=0)  # traced with unknown batch, height and width
    expected = keras.ops.convert_to_numpy(keras.ops.depth_to_space(x, 2, data_format="channels_last"))
    np.testing.assert_array_equal(y, expected)


@pytest.mark.backend
def test_discriminator_outputs():
    m = _models()
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (2, 96, 96, 3)).astype("float32")
    # dense head on 32x32 patches (the 96x96 one is built in test_discriminator_param_counts;
    # its 18.9 M-weight Dense layer is slow to initialise on the JAX backend)
    d = m.discriminator((32, 32, 3))
    logits = np.asarray(d(x[:, :32, :32], training=False))
    assert logits.shape == (2, 1) and np.all(np.isfinite(logits))
    assert logits[0, 0] != logits[1, 0]
    p = m.discriminator((None, None, 3), head="patch")
    assert np.asarray(p(x, training=False)).shape == (2, 6, 6, 1)
    assert np.asarray(p(x[:, :64, :80], training=False)).shape == (2, 4, 5, 1)


@pytest.mark.backend
def test_discriminator_takes_a_readers_head():
    """A callable head replaces the library's: a global-average-pooling head (one logit per
    patch, any size) has 512 + 1 weights after the 4,689,216 of the trunk (the patch head's
    trunk: 4,697,409 minus its 3x3x512 + 1 logit convolution)."""
    import keras

    m = _models()

    def pooled(x):
        return keras.layers.Dense(1)(keras.layers.GlobalAveragePooling2D()(x))

    d = m.discriminator((None, None, 3), head=pooled)
    assert d.count_params() == 4_697_409 - (9 * 512 + 1) + 513
    x = np.random.default_rng(5).uniform(-1, 1, (2, 48, 64, 3)).astype("float32")
    logits = np.asarray(d(x, training=False))
    assert logits.shape == (2, 1) and logits.dtype == np.float32 and logits[0, 0] != logits[1, 0]
    with pytest.raises(ValueError, match="head must be one of .* or a callable"):
        m.discriminator(head="global")


def test_model_serialisation_round_trip(tmp_path):
    m = _models()
    g = m.srresnet(num_blocks=1, filters=8)
    x = np.random.default_rng(4).uniform(0, 1, (1, 6, 5, 3)).astype("float32")
    path = tmp_path / "g.keras"
    g.save(path)
    import keras
    g2 = keras.saving.load_model(path)
    np.testing.assert_allclose(np.asarray(g2(x, training=False)),
                               np.asarray(g(x, training=False)), atol=1e-6)


# ---------------------------------------------------------------- numpy helpers

def test_uint8_round_trips_exact():
    m = _models()
    x = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=-1)
    lr, hr = m.lr_from_uint8(x), m.hr_from_uint8(x)
    assert lr.dtype == np.float32 and hr.dtype == np.float32
    assert lr.min() == 0 and lr.max() == 1 and hr.min() == -1 and hr.max() == 1
    np.testing.assert_array_equal(np.round(lr.astype(np.float64) * 255), x)
    np.testing.assert_array_equal(m.hr_to_uint8(hr), x)
    assert m.hr_to_uint8(hr).dtype == np.uint8


def test_to_uint8_clips_and_rounds():
    m = _models()
    np.testing.assert_array_equal(m.hr_to_uint8(np.array([-2.0, -1.0, 0.0, 1.0, 5.0])),
                                  [0, 0, 128, 255, 255])  # (0+1)*127.5 = 127.5 -> 128


@pytest.mark.backend
def test_super_resolve_single_and_batch():
    m = _models()
    g = m.srresnet(num_blocks=1, filters=8)
    rng = np.random.default_rng(5)
    lr = rng.integers(0, 256, (2, 7, 9, 3), dtype=np.uint8)
    one = m.super_resolve(g, lr[0])
    assert one.shape == (28, 36, 3) and one.dtype == np.uint8
    both = m.super_resolve(g, lr, batch=True)
    assert both.shape == (2, 28, 36, 3)
    np.testing.assert_array_equal(both[0], one)
    direct = m.hr_to_uint8(np.asarray(g(m.lr_from_uint8(lr[:1]), training=False)))[0]
    np.testing.assert_array_equal(one, direct)
    with pytest.raises(ValueError, match="shape"):
        m.super_resolve(g, lr)  # batch given without batch=True
    with pytest.raises(ValueError, match="uint8"):
        m.super_resolve(g, lr[0].astype(np.float32))


# ---------------------------------------------------------------- cross-backend reference

def _reference_model():
    """num_blocks=2 SRResNet whose weights are set from numpy (np.random.default_rng(0)),
    independent of the backend's initialisers."""
    g = _models().srresnet(num_blocks=2)
    rng = np.random.default_rng(0)
    for w in sorted(g.weights, key=lambda v: v.path):
        shape = tuple(w.shape)
        leaf = w.path.split("/")[-1]
        if leaf == "kernel":
            value = rng.normal(0, 1 / np.sqrt(np.prod(shape[:-1])), shape)
        elif leaf == "moving_variance":
            value = rng.uniform(0.5, 1.5, shape)
        elif leaf == "gamma":
            value = rng.uniform(0.8, 1.2, shape)
        elif leaf == "alpha":
            value = rng.uniform(0.0, 0.3, shape)
        else:  # bias, beta, moving_mean
            value = rng.normal(0, 0.1, shape)
        w.assign(value.astype("float32"))
    x = np.random.default_rng(1).uniform(0, 1, (1, 8, 8, 3)).astype("float32")
    return g, x


@pytest.mark.backend
def test_srresnet_matches_stored_reference():
    ref = np.load(REFERENCE)
    g, x = _reference_model()
    np.testing.assert_array_equal(x, ref["x"])
    y = np.asarray(g(x, training=False))
    assert y.shape == (1, 32, 32, 3) and ref["y"].std() > 0.05  # non-trivial reference
    np.testing.assert_allclose(y, ref["y"], atol=1e-4, rtol=0)


if __name__ == "__main__" and "--regenerate" in sys.argv:
    import os
    assert os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow"
    g, x = _reference_model()
    REFERENCE.parent.mkdir(exist_ok=True)
    np.savez_compressed(REFERENCE, x=x, y=np.asarray(g(x, training=False)))
    print("wrote", REFERENCE, REFERENCE.stat().st_size, "bytes")


def test_params_by_layer_type():
    models = _models()
    g = models.srresnet(scale=4, num_blocks=2, filters=16)
    by = models.params_by_layer_type(g)
    assert sum(by.values()) == g.count_params()
    # 9x9 head (3->16) + 2 blocks x 2 (3x3, 16->16) + the 3x3 after the blocks + 2 upsamplers (16->64)
    # + the 9x9 tail (16->3)
    conv = (81 * 3 * 16 + 16) + 5 * (9 * 16 * 16 + 16) + 2 * (9 * 16 * 64 + 64) + (81 * 16 * 3 + 3)
    assert by["Conv2D"] == conv
    assert by["BatchNormalization"] == 5 * 4 * 16  # gamma, beta, moving mean and variance
    assert list(by)[0] == "Conv2D" and all(v > 0 for v in by.values())


# ---------------------------------------------------------------- initialisation and mixed precision

def test_prelu_starts_at_the_he_et_al_slope():
    """PReLU slopes start at 0.25 (He et al. 2015, the paper's PReLU); prelu_init=0 is Keras' default."""
    m = _models()
    prelus = lambda g: [layer for layer in g.layers if type(layer).__name__ == "PReLU"]  # noqa: E731
    g = m.srresnet(num_blocks=2, filters=8)
    assert len(prelus(g)) == 1 + 2 + 2
    assert all(np.all(np.asarray(layer.alpha) == 0.25) for layer in prelus(g))
    assert m.PRELU_INIT == 0.25
    g0 = m.srresnet(num_blocks=1, filters=8, prelu_init=0.0)
    assert all(np.all(np.asarray(layer.alpha) == 0.0) for layer in prelus(g0))


@pytest.mark.backend
@pytest.mark.parametrize("head", ["dense", "patch"])
def test_output_layers_stay_float32_under_mixed_precision(head):
    import keras

    m = _models()
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        g = m.srresnet(num_blocks=1, filters=8)
        d = m.discriminator((16, 16, 3), head=head)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert g.get_layer("head_conv").compute_dtype == "bfloat16"
    assert g.get_layer("tail_conv").compute_dtype == "float32"
    assert d.get_layer("d2_conv").compute_dtype == "bfloat16"
    assert d.get_layer("logit" if head == "dense" else "patch_logits").compute_dtype == "float32"
    x = np.random.default_rng(6).uniform(0, 1, (1, 4, 4, 3)).astype("float32")
    y = keras.ops.convert_to_numpy(g(x, training=False))
    logits = keras.ops.convert_to_numpy(d(y, training=False))
    assert y.dtype == np.float32 and logits.dtype == np.float32


# ---------------------------------------------------------------- pieces a learner can swap

@pytest.mark.backend
def test_the_builder_takes_your_own_block_and_upsampler():
    """``srresnet(block=..., upsample=...)``: the library's own pieces rebuild the same network (same
    weights, same output), and other pieces change only what they should."""
    import keras

    m = _models()
    keras.utils.set_random_seed(0)
    paper = m.srresnet(num_blocks=2, filters=8)
    same = m.srresnet(num_blocks=2, filters=8, block=lambda x, f, name: m.residual_block(x, f, name),
                      upsample=lambda x, f, name: m.subpixel_block(x, f, name))
    assert [w.path for w in same.weights] == [w.path for w in paper.weights]
    same.set_weights(paper.get_weights())
    lr = np.random.default_rng(0).random((1, 10, 12, 3)).astype("float32")
    assert np.array_equal(keras.ops.convert_to_numpy(same(lr)), keras.ops.convert_to_numpy(paper(lr)))

    def no_bn(x, filters, name):  # EDSR's block
        y = keras.layers.Conv2D(filters, 3, padding="same", name=f"{name}_c1")(x)
        y = keras.layers.Conv2D(filters, 3, padding="same", name=f"{name}_c2")(keras.layers.ReLU()(y))
        return keras.layers.Add()([x, y])

    # 16 blocks lose 2 BN (4 x 64 values each) and a PReLU (64 slopes) each
    assert m.srresnet(block=no_bn).count_params() == 1_554_883 - 16 * (2 * 256 + 64)
    assert m.srresnet(upsample=lambda x, f, name: m.resize_conv_block(x, f, name)).count_params() == 1_333_315
    with pytest.raises(ValueError, match="block must be None or a function"):
        m.srresnet(block="edsr")
