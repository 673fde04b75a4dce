"""The training data: the patch stream's options (distinct images, augmentation), the one uint8 ->
float conversion, the on-device gather (bit for bit the host batches) and the lr schedule."""
import math

import numpy as np
import pytest

from srgan_lib import models
from srgan_lib.patches import PatchSequence, _augment, augment_sources
from srgan_lib.train import config
from srgan_lib.train.device_patches import DevicePatches


def random_images(sizes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in sizes]


def test_crops_of_a_batch_come_from_distinct_images_by_default():
    seq = PatchSequence(random_images([(30, 30)] * 20), batch_size=16, patch_size=24)
    assert seq.distinct_images and not seq.augment  # the paper's choices
    for i in range(300):
        assert len(set(seq.draw(i).which.tolist())) == 16, i
    # Fewer images than crops: every image as evenly as possible.
    few = PatchSequence(random_images([(30, 30)] * 3), batch_size=8, patch_size=24)
    for i in range(50):
        assert sorted(np.bincount(few.draw(i).which, minlength=3)) in ([2, 3, 3],), i


def test_with_replacement_the_stream_is_the_historical_one():
    """``distinct_images=False, augment=True`` draws exactly what the library always drew, and a
    batch of 16 crops of 391 images repeats an image with probability 1 - prod(1 - k/391)."""
    n, b = 391, 16
    seq = PatchSequence(random_images([(28, 36)] * n), batch_size=b, patch_size=24, distinct_images=False,
                        augment=True, seed=5)
    repeats = 0
    for i in range(3000):
        d = seq.draw(i)
        rng = np.random.default_rng([5, i])  # the historical draws, in their order
        which = rng.integers(0, n, size=b)
        ux, uy = rng.random(b), rng.random(b)
        codes = rng.integers(0, 8, size=b)
        assert np.array_equal(d.which, which) and np.array_equal(d.code, codes)
        assert np.array_equal(d.y, (uy * 2).astype(int)) and np.array_equal(d.x, (ux * 4).astype(int))  # LR 7x9
        repeats += len(set(which.tolist())) < b
    expected = 1 - math.prod(1 - k / n for k in range(b))
    assert expected == pytest.approx(0.267, abs=0.001)  # "about 26 % of batches repeat an image"
    assert repeats / 3000 == pytest.approx(expected, abs=0.03)


def test_augmentation_is_off_by_default_and_each_symmetry_when_on():
    imgs = random_images([(40, 48), (44, 36)])
    plain = PatchSequence(imgs, batch_size=2, patch_size=24, seed=2)
    lr, hr = plain.batch(0)
    d = plain.draw(0)
    assert not d.code.any()
    for b in range(2):
        y, x = int(d.y[b]), int(d.x[b])
        np.testing.assert_array_equal(hr[b], models.hr_from_uint8(plain.hr[d.which[b]][4 * y:4 * y + 24, 4 * x:4 * x + 24]))
        np.testing.assert_array_equal(lr[b], models.lr_from_uint8(plain.lr[d.which[b]][y:y + 6, x:x + 6]))
    aug = PatchSequence(imgs, batch_size=2, patch_size=24, seed=2, augment=True)
    assert set(np.concatenate([aug.draw(i).code for i in range(100)]).tolist()) == set(range(8))
    # The index tables are the symmetries: flips and rotations of a coordinate grid.
    src = augment_sources(5)
    patch = np.arange(25).reshape(5, 5)
    for code in range(8):
        np.testing.assert_array_equal(patch[src[code, ..., 0], src[code, ..., 1]], _augment(patch, code))
    np.testing.assert_array_equal(_augment(patch, 1), patch[:, ::-1])
    np.testing.assert_array_equal(_augment(patch, 2), np.rot90(patch))
    np.testing.assert_array_equal(_augment(patch, 7), np.rot90(patch[:, ::-1], 3))


def test_one_uint8_conversion():
    """LR = v / 255 and HR = v / 127.5 - 1, each one float32 operation; the host batches, the device
    gather and models.lr_from_uint8 / hr_from_uint8 all read these tables."""
    v = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(models.LR_FROM_UINT8, v.astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(models.HR_FROM_UINT8, v.astype(np.float32) / np.float32(127.5) - np.float32(1))
    np.testing.assert_array_equal(models.lr_from_uint8(v), models.LR_FROM_UINT8)
    np.testing.assert_array_equal(models.lr_from_uint8(v.astype(np.int64)), models.LR_FROM_UINT8)
    np.testing.assert_array_equal(models.hr_from_uint8(v), models.HR_FROM_UINT8)
    # Multiplying by 1/255 (the old patch pipeline) differs from dividing in the last bit somewhere.
    assert np.any(v.astype(np.float32) * np.float32(1 / 255) != models.LR_FROM_UINT8)
    lr, hr = PatchSequence(random_images([(40, 48)]), batch_size=1, patch_size=24).batch(3)
    assert set(np.unique(lr)) <= set(models.LR_FROM_UINT8) and set(np.unique(hr)) <= set(models.HR_FROM_UINT8)


@pytest.mark.backend
@pytest.mark.parametrize("augment", [False, True])
@pytest.mark.parametrize("row_bits", [6, 16])
def test_device_gather_equals_the_host_batch(augment, row_bits):
    """Patches gathered on the device from the uint8 pools are the host batches, bit for bit
    (row_bits=6: pool rows of 64 bytes, so crops cross many rows)."""
    from keras import ops

    imgs = random_images([(40, 48), (37, 61), (96, 30), (24, 24)], seed=1)
    seq = PatchSequence(imgs, batch_size=5, patch_size=24, augment=augment, distinct_images=False, seed=3)
    data = DevicePatches(seq, row_bits=row_bits)
    device = data.upload()
    records = data.records(10, 4, rows=6)
    assert records.shape == (6, 5, 7) and records.dtype == np.int32 and not records[4:].any()
    for k in range(4):
        lr, hr = data.gather(device, ops.convert_to_tensor(records[k]))
        ref_lr, ref_hr = seq.batch(10 + k)
        np.testing.assert_array_equal(ops.convert_to_numpy(lr), ref_lr)
        np.testing.assert_array_equal(ops.convert_to_numpy(hr), ref_hr)


def test_the_lr_drops_after_lr_decay_at_steps():
    """The paper's "1e5 iterations at 1e-4 and another 1e5 at 1e-5": updates 1..decay_at at lr."""
    from keras import ops

    schedule = config.learning_rate_schedule(1e-3, 2)
    # Keras calls the schedule with the updates made so far: update k sees iterations = k - 1.
    assert [float(ops.convert_to_numpy(schedule(i))) for i in range(4)] == pytest.approx([1e-3, 1e-3, 1e-4, 1e-4])
    cfg = config.TrainConfig(preset="srgan-vgg54", steps=1000, lr=1e-3).resolved()
    assert cfg.schedule.lr_decay_at == 500
    assert [config.lr_at(cfg, s) for s in (1, 500, 501)] == [1e-3, 1e-3, 1e-4]
    assert config.TrainConfig(preset="srgan-vgg54").resolved().schedule.lr_decay_at == 100_000
    assert config.TrainConfig(preset="srresnet-mse").resolved().schedule.lr_decay_at == "never"
    # A schedule keeps the rate out of the optimizer's variables: no checkpoint can override it.
    import keras

    opt = keras.optimizers.Adam(learning_rate=config.learning_rate_schedule(1e-3))
    assert isinstance(config.learning_rate_schedule(1e-3, 5), keras.optimizers.schedules.PiecewiseConstantDecay)
    opt.build([keras.Variable(np.zeros(3, np.float32))])
    assert not any("learning_rate" in v.path for v in opt.variables)
