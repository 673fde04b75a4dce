"""srgan_lib.teaching.gan_health: the windows of chapter 5's zooms, the added-energy probe, the experiments."""
import numpy as np
import pytest

from srgan_lib.teaching import gan_health


def test_windows_find_the_planted_colour_and_the_flat_region():
    rng = np.random.default_rng(0)
    hr = np.clip(rng.normal(128, 30, (96, 96, 3)), 0, 255).astype(np.uint8)
    hr[:] = hr.mean(axis=2, keepdims=True).astype(np.uint8)  # gray: no chroma anywhere
    hr[40:72, 8:40] = 120  # the flattest region
    sr = hr.copy()
    sr[60:80, 50:70, 0] = 255  # colour the HR does not have
    top, left, size = gan_health.colour_window(sr, hr, 16)
    assert size == 16 and 60 - 16 < top <= 64 and 50 - 16 < left <= 54
    top, left, _ = gan_health.flat_window(hr, 16)
    assert 40 <= top <= 56 and 8 <= left <= 24
    z = gan_health.zoom(sr, (0, 0, 4), 3)
    assert z.shape == (12, 12, 3) and (z[:3, :3] == sr[0, 0]).all()


def test_pixel_mse_grows_by_exactly_the_added_energy():
    rng = np.random.default_rng(1)
    hr = rng.integers(60, 190, (32, 32, 3)).astype(np.uint8)
    change = gan_health.loss_change_for_added_energy(None, hr, hr, rms=4.0)
    # on [-1, 1] images an rms of 4 levels is 4/127.5: the MSE against HR grows by its square
    assert change["grid"] == pytest.approx((4 / 127.5) ** 2, rel=1e-4)
    assert change["noise"] == pytest.approx((4 / 127.5) ** 2, rel=0.05)


def test_recipe_experiments_read_the_shipped_files(tmp_path):
    assert gan_health.recipe_experiments(tmp_path) is None
    folder = tmp_path / "training_logs" / gan_health.EXPERIMENTS_DIR
    folder.mkdir(parents=True)
    (folder / "measures.csv").write_text("run,flags,step,psnr,ssim,lr_psnr,color_offset,artefact_energy,d_real,"
                                         "d_fake,d_acc\nA,(shipped recipe),0,30.8,0.87,38.6,2.4,0.99,,,\n")
    (folder / "A.csv").write_text("step,d_acc\n5,0.5\n10,1\n")
    got = gan_health.recipe_experiments(tmp_path)
    assert got["measures"][0]["psnr"] == 30.8 and np.isnan(got["measures"][0]["d_acc"])
    assert list(got["logs"]) == ["A"] and list(got["logs"]["A"]["d_acc"]) == [0.5, 1.0]


def test_colour_excess_is_the_chroma_beyond_hr():
    hr = np.full((8, 8, 3), 100, np.uint8)
    sr = hr.copy()
    sr[2, 3] = (130, 100, 100)  # mean 110: chroma 20 + 10 + 10 = 40 grey levels
    excess = gan_health.colour_excess(sr, hr)
    assert excess[2, 3] == pytest.approx(40.0) and excess.sum() == pytest.approx(40.0)
    assert not gan_health.colour_excess(hr, sr).any()  # HR's colour beyond SR's does not count
