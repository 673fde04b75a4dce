"""The adversarial recipe: the paper's settings are the defaults, and each deviation is one flag."""
import argparse
import math

import numpy as np
import pytest
from keras import ops

from srgan_lib import losses, train
from srgan_lib.errors import UserError
from srgan_lib.train import PRESETS, build_trainer
from srgan_lib.cli.train import add_arguments, config_from_args

from test_train import QUIET, smooth_images, tiny


def test_the_papers_recipe_is_the_default():
    cfg = train.TrainConfig(preset="srgan-vgg54").resolved()
    assert (cfg.schedule.lr, cfg.schedule.beta_1, cfg.patches.batch_size, cfg.patches.patch_size) == (1e-4, 0.9, 16, 96)
    assert cfg.schedule.d_lr is None and cfg.adversarial_weight == 1e-3 and cfg.real_label == 1.0
    assert cfg.loss.pixel_weight is None and cfg.model.discriminator_head == "dense" and not cfg.patches.augment
    assert [(name, p.content, p.adversarial, p.steps, p.lr, p.lr_decay_at, p.init) for name, p in PRESETS.items()] == [
        ("srresnet-mse", "mse", False, 1_000_000, 1e-4, None, None),
        ("srresnet-vgg22", "vgg22", False, 200_000, 1e-4, 100_000, "srresnet-mse"),
        ("srgan-mse", "mse", True, 200_000, 1e-4, 100_000, "srresnet-mse"),
        ("srgan-vgg22", "vgg22", True, 200_000, 1e-4, 100_000, "srresnet-mse"),
        ("srgan-vgg54", "vgg54", True, 200_000, 1e-4, 100_000, "srresnet-mse")]


def test_one_sided_label_smoothing_is_the_cross_entropy_against_the_target():
    real = np.array([[2.0], [-1.0], [0.5]], np.float32)
    fake = np.array([[-3.0], [0.0], [1.0]], np.float32)
    sp = lambda x: np.log1p(np.exp(x))  # noqa: E731
    want = np.mean(0.9 * sp(-real) + 0.1 * sp(real)) + np.mean(sp(fake))
    got = float(ops.convert_to_numpy(losses.discriminator_loss(real, fake, real_target=0.9)))
    assert got == pytest.approx(want, rel=1e-6)
    assert float(ops.convert_to_numpy(losses.discriminator_loss(real, fake))) == pytest.approx(
        np.mean(sp(-real)) + np.mean(sp(fake)), rel=1e-6)


def test_recipe_flags_reach_the_trainer_and_are_checked(tmp_path):
    cfg = tiny("srgan-mse", d_lr=3e-5, adversarial_weight=1e-2, real_label=0.9).resolved()
    trainer = build_trainer(cfg)
    assert trainer.adversarial_weight == 1e-2 and trainer.real_label == 0.9
    assert float(trainer.d_optimizer.learning_rate) == pytest.approx(3e-5)
    assert float(trainer.optimizer.learning_rate) == pytest.approx(1e-3)
    for bad, message in (({"d_lr": 0.0}, "--d-lr"), ({"real_label": 0.4}, "--real-label"),
                         ({"adversarial_weight": -1.0}, "--adversarial-weight"),
                         ({"pixel_weight": math.nan}, "--pixel-weight")):
        with pytest.raises(UserError, match=message):
            cfg.replace(**bad).resolved()
    # an adversarial weight of 0 trains the generator on the content loss alone
    run = train.train(tiny("srgan-mse", steps=2, adversarial_weight=0.0), tmp_path / "r", images=smooth_images(2),
                      **QUIET)
    assert run["step"] == 2


def test_pixel_weight_adds_the_pixel_mse_to_a_vgg_content_loss(vgg_weights):
    base = tiny("srgan-vgg54", vgg_weights=str(vgg_weights)).resolved()
    plain, anchored = build_trainer(base), build_trainer(base.replace(pixel_weight=2.0))
    rng = np.random.default_rng(0)
    sr = rng.uniform(-1, 1, (2, 24, 24, 3)).astype("float32")
    hr = rng.uniform(-1, 1, (2, 24, 24, 3)).astype("float32")
    a = float(ops.convert_to_numpy(plain._content(sr, hr, plain.features)))
    b = float(ops.convert_to_numpy(anchored._content(sr, hr, anchored.features)))
    assert b - a == pytest.approx(2.0 * float(np.mean((sr - hr) ** 2)), rel=1e-4)


def test_cli_takes_the_recipe_flags(tmp_path):
    p = argparse.ArgumentParser()
    add_arguments(p)
    ns = p.parse_args(["srgan-vgg54", "--out", str(tmp_path), "--d-lr", "1e-5", "--real-label", "0.9",
                       "--adversarial-weight", "0", "--pixel-weight", "1"])
    cfg = config_from_args(ns)
    assert (cfg.schedule.d_lr, cfg.loss.real_label, cfg.loss.adversarial_weight, cfg.loss.pixel_weight) == (1e-5, 0.9, 0.0, 1.0)


def test_a_pixel_shuffle_start_for_a_resize_convolution_run_names_the_upsampling(tmp_path):
    cfg = train.TrainConfig(preset="srresnet-mse", init="srresnet-mse", upsample="nearest", steps=1, val_data=None)
    with pytest.raises(UserError, match=r"^--init srresnet-mse: .*upsamples by nearest.*--upsample subpixel\)$"):
        train.train(cfg, tmp_path / "r", images=smooth_images(2, size=(100, 100)), **QUIET)
