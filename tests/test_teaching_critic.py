"""Tests for srgan_lib.teaching.critic: receptive fields by recursion and by gradient, the seed's
discriminator, the trainable-after-compile experiment, the critic patches and score maps."""
import numpy as np
import pytest


@pytest.mark.backend
def test_receptive_fields_of_the_library_and_seed_heads():
    from srgan_lib import models
    from srgan_lib.teaching import critic

    patch = models.discriminator((None, None, 3), head="patch")
    seed = critic.seed_discriminator(df=8)
    assert critic.receptive_field_size(patch) == 93
    assert critic.receptive_field_size(seed) == 61
    assert critic.receptive_field_size(models.discriminator((96, 96, 3))) is None
    assert [g["jump"] for g in critic.conv_geometry(patch)] == [1, 2, 2, 4, 4, 8, 8, 16, 16]
    small = critic.small_critic(base=4)
    assert critic.receptive_field_size(small) == 93
    x = np.random.default_rng(0).uniform(-1, 1, (1, 160, 160, 3)).astype("float32")
    g = critic.input_gradient(small, x, (5, 5))
    ys, xs = np.nonzero(g)
    assert ys.max() - ys.min() + 1 == 93 and xs.max() - xs.min() + 1 == 93
    assert tuple(seed(np.zeros((1, 64, 64, 3), "float32")).shape) == (1, 4, 4, 1)


@pytest.mark.backend
def test_trainable_after_compile_under_keras3():
    from srgan_lib.teaching import critic

    seed = critic.trainable_after_compile(toggle=False)
    assert not seed["d_call_updates_d"] and not seed["combined_call_updates_d"]
    assert seed["combined_call_updates_g"]
    toggled = critic.trainable_after_compile(toggle=True)
    assert toggled["d_call_updates_d"] and not toggled["combined_call_updates_d"]


@pytest.mark.backend
def test_critic_patches_and_scores():
    from srgan_lib import degrade
    from srgan_lib.errors import UserError
    from srgan_lib.teaching import critic

    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (96, 104, 3), dtype=np.uint8) for _ in range(2)]
    up = {"bicubic": lambda lr: np.stack([degrade.upscale_bicubic(x, 4) for x in lr])}
    p = critic.critic_patches(images, up, size=32, per_image=2, margin=8, seed=0)
    assert p["hr"].shape == p["bicubic"].shape == (4, 32, 32, 3)
    assert p["hr"].dtype == np.uint8
    with pytest.raises(UserError):
        critic.critic_patches(images, up, size=30)
    with pytest.raises(UserError):
        critic.critic_patches([images[0][:20, :20]], up, size=32)
    scores = critic.patch_scores(critic.small_critic(base=2), p["hr"])
    assert scores.shape == (4, 2, 2) and np.isfinite(scores).all()
    import matplotlib
    matplotlib.use("Agg")
    fig = critic.score_maps_figure([("hr", p["hr"][0], scores[0])])
    assert len(fig.axes) == 3
