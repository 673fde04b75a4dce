"""srgan_lib.artefacts and srgan_lib.train.health on constructed cases whose answers are known."""
import math

import keras
import numpy as np
import pytest
from keras import ops

from srgan_lib import artefacts
from srgan_lib.degrade import degrade, upscale_bicubic, upscale_nearest
from srgan_lib.errors import UserError
from srgan_lib.train.health import SATURATION_ACCURACY, HealthWindow, discriminator_terms


def smooth(h=64, w=80, seed=0):
    rng = np.random.default_rng(seed)
    small = rng.integers(40, 200, (h // 8, w // 8, 3)).astype(np.float64)
    return np.clip(np.kron(small, np.ones((8, 8, 1))) + rng.normal(0, 3, (h, w, 3)), 0, 255).astype(np.uint8)


def test_lr_consistency_of_hr_is_perfect_and_a_colour_offset_shows_exactly():
    hr = smooth()
    lr = degrade(hr, 4, "bicubic")
    perfect = artefacts.lr_consistency(hr, lr)
    assert perfect.psnr == math.inf and perfect.offset == (0.0, 0.0, 0.0) and perfect.offset_max == 0.0
    shifted = hr.astype(np.int16)
    shifted[..., 0] += 10  # +10 levels of red, -6 of blue: bicubic weights sum to 1, so they come back
    shifted[..., 2] -= 6
    back = artefacts.lr_consistency(np.clip(shifted, 0, 255).astype(np.uint8), lr)
    assert back.offset == pytest.approx((10.0, 0.0, -6.0), abs=1e-9) and back.offset_max == pytest.approx(10.0)
    # the PSNR of a constant offset: mse = (10^2 + 0 + 6^2) / 3
    assert back.psnr == pytest.approx(10 * math.log10(255 ** 2 / (136 / 3)))


def pattern(h, w, fy, fx, amplitude):
    """amplitude * cos(2 pi (fy y + fx x)) on every channel: all its energy at (+-fy, +-fx)."""
    y, x = np.mgrid[0:h, 0:w]
    return amplitude * np.cos(2 * np.pi * (fy * y + fx * x))[..., None] * np.ones(3)


def test_artefact_energy_sees_exactly_a_period_4_pattern():
    h, w = 80, 80  # multiples of 4 and of 5: every pattern below falls on DFT bins
    # HR: a flat image with a known period-2 component; SR: that plus a pure period-4 pattern
    hr = np.round(128 + pattern(h, w, 0.5, 0.0, 4.0)).astype(np.uint8)
    sr = np.round(128 + pattern(h, w, 0.5, 0.0, 4.0) + pattern(h, w, 0.25, 0.25, 8.0)).astype(np.uint8)
    assert artefacts.artefact_energy(hr, hr) == 1.0
    # Parseval: a cosine of amplitude a over N pixels puts (a N / 2)^2 at each of its two bins (one bin
    # when the frequency is 1/2, where +f and -f coincide: (a N)^2); per channel, 3 channels
    n = h * w
    e_hr = 3 * (4.0 * n) ** 2
    e_pattern = 3 * 2 * (8.0 * n / 2) ** 2
    assert artefacts.artefact_energy(sr, hr) == pytest.approx((e_hr + e_pattern) / e_hr, rel=1e-3)
    # a pattern off the pixel-shuffle grid (period 5) adds nothing there
    off = np.round(128 + pattern(h, w, 0.5, 0.0, 4.0) + pattern(h, w, 0.2, 0.0, 8.0)).astype(np.uint8)
    assert artefacts.artefact_energy(off, hr) == pytest.approx(1.0, abs=0.01)


def test_artefact_energy_of_the_baselines():
    hr = smooth(96, 96)
    lr = degrade(hr, 4, "bicubic")
    assert artefacts.artefact_energy(upscale_nearest(lr, 4), hr) == pytest.approx(0.0, abs=1e-9)  # box zeros
    assert artefacts.artefact_energy(upscale_bicubic(lr, 4), hr) > 0
    flat = np.full((8, 8, 3), 100, np.uint8)
    assert math.isnan(artefacts.artefact_energy(flat, flat))
    with pytest.raises(UserError, match="multiple of the scale"):
        artefacts.artefact_energy(np.zeros((66, 80, 3), np.uint8), np.zeros((66, 80, 3), np.uint8))


@pytest.mark.backend
def test_discriminator_terms_of_a_perfect_and_a_random_discriminator():
    perfect = {k: float(ops.convert_to_numpy(v)) for k, v in
               discriminator_terms(np.full((64, 1), 20.0, np.float32), np.full((64, 1), -20.0, np.float32)).items()}
    assert perfect["d_acc"] == 1.0 and perfect["d_real"] == pytest.approx(1.0) and perfect["d_fake"] < 1e-8
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 1, (2, 20000, 1)).astype(np.float32)
    random = {k: float(ops.convert_to_numpy(v)) for k, v in discriminator_terms(logits[0], logits[1]).items()}
    assert random["d_acc"] == pytest.approx(0.5, abs=0.01)
    assert random["d_real"] == pytest.approx(0.5, abs=0.01) and random["d_fake"] == pytest.approx(0.5, abs=0.01)


def test_health_window_warns_once_when_d_wins_for_a_whole_window():
    w = HealthWindow(window=100)
    for step in range(10, 101, 10):  # a healthy start: D right half the time
        w.add(step, 0.6, 0.4, 0.5)
    assert w.warning() is None and w.means()["d_acc"] == pytest.approx(0.5)
    said = {}
    for step in range(110, 301, 10):  # then D is always right: the 100-step mean climbs 0.05 a row
        w.add(step, 0.99, 0.01, 1.0)
        said[step] = w.warning()
    # the first window whose mean reaches 95 %: steps 100..190 hold one 0.5 and nine 1.0
    assert [k for k, v in said.items() if v] == [190]
    assert said[190].startswith("step 190: the discriminator's accuracy averaged 95.0% over steps 100-190")
    assert "--d-lr" in said[190] and "--real-label 0.9" in said[190] and "\n" not in said[190]
    # single batches that dip do not hide a winning discriminator; one that holds at 90 % is not flagged
    dips, even = HealthWindow(window=100), HealthWindow(window=100)
    for step in range(10, 301, 10):
        dips.add(step, 0.99, 0.01, 0.75 if step % 50 == 0 else 1.0)
        even.add(step, 0.8, 0.2, 0.9)
    assert dips.saturated() and dips.means()["d_acc"] == pytest.approx(0.95)
    assert not even.saturated() and even.warning() is None
    dips.add(310, float("nan"), 0.0, 1.0)  # non-finite rows are not counted
    assert len(dips._rows) == 10 and SATURATION_ACCURACY == 0.95


def _folder(tmp_path, n=2):
    from PIL import Image

    folder = tmp_path / "set"
    folder.mkdir()
    for k in range(n):
        Image.fromarray(smooth(48, 64, seed=k)).save(folder / f"im{k}.png")
    return folder


def test_eval_reports_the_measures_in_every_format(tmp_path, capsys):
    import json

    from srgan_lib import cli

    folder = _folder(tmp_path)
    assert cli.main(["eval", "--dataset", str(folder), "--model", "nearest,hr", "--artefacts", "--json"]) == 0
    nearest, hr = json.loads(capsys.readouterr().out)
    assert hr["model"] == "hr" and hr["lr_psnr"] is None and hr["color_offset"] == 0 and hr["artefact_energy"] == 1
    assert nearest["artefact_energy"] == pytest.approx(0.0, abs=1e-9) and 20 < nearest["lr_psnr"] < 80
    assert set(nearest["images"][0]) >= {"lr_psnr", "color_offset", "color_offset_rgb", "artefact_energy"}
    assert cli.main(["eval", "--dataset", str(folder), "--model", "hr", "--artefacts", "--csv"]) == 0
    head, row = capsys.readouterr().out.strip().splitlines()
    assert head.endswith("lr_psnr,color_offset,artefact_energy,identical") and ",inf,0.00,1.00," in row
    assert cli.main(["eval", "--dataset", str(folder), "--model", "hr", "--artefacts", "--markdown"]) == 0
    assert "| set LR-PSNR | set COLOR | set GRID |" in capsys.readouterr().out


def test_training_logs_health_and_validation_measures(tmp_path):
    import csv

    from srgan_lib import train
    from test_train import QUIET, smooth_images, tiny

    messages = []
    run = tmp_path / "run"
    folder = _folder(tmp_path)
    train.train(tiny("srgan-mse", steps=4, val_data=str(folder), val_every=2, sample_every=100, log_every=1),
                run, images=smooth_images(2), verbose=0, echo=messages.append)
    with open(run / "val.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["step"] for r in rows] == ["2", "4"]
    assert all(float(r["lr_psnr"]) > 0 and float(r["color_offset"]) >= 0 and float(r["artefact_energy"]) > 0
               for r in rows)
    assert any("LR-PSNR" in m and "grid energy" in m for m in messages)
    with open(run / "log.csv", newline="") as f:
        assert all(0 <= float(r["d_acc"]) <= 1 for r in csv.DictReader(f))


def test_monitor_warns_once_when_d_wins(tmp_path):
    from srgan_lib.train.monitor import Monitor
    from test_train import tiny

    cfg = tiny("srgan-mse", steps=1000, log_every=10).resolved()
    said = []
    columns = ["content_loss", "adv_loss", "g_loss", "d_loss", "d_real", "d_fake", "d_acc", "g_norm", "d_norm"]
    monitor = Monitor(tmp_path, cfg, columns, [1.0, 1.0], 0, verbose=0, echo=said.append)
    try:
        row = [0.1, 8.0, 0.1, 0.02, 0.99, 0.001, 1.0, 1.0, 1.0]
        for block in range(0, 400, 100):
            monitor.steps(block, np.array([row] * 100))
    finally:
        monitor.close()
    warnings = [m for m in said if "discriminator's accuracy averaged" in m]
    assert len(warnings) == 1 and warnings[0].startswith("warning: step 300: ") and "--real-label 0.9" in warnings[0]
    assert monitor.health.means()["d_acc"] == 1.0
