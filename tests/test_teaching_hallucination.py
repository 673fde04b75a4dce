"""Tests for srgan_lib.teaching.hallucination: the decomposition's identities (recovered = r (2 rho - r),
HR gives r = rho = recovered = 1, bicubic gives 0), a window, and the figure."""
import numpy as np
import pytest


def _hr(seed=0, size=64):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    img = 120 + 60 * np.sin(xx / 3.0)[..., None] * np.cos(yy / 5.0)[..., None] + rng.normal(0, 20, (size, size, 3))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def test_hr_recovers_everything_and_bicubic_nothing():
    from srgan_lib.degrade import bicubic, upscale_bicubic
    from srgan_lib.teaching.hallucination import detail_decomposition
    hr = _hr()
    d = detail_decomposition(hr, hr)
    assert d["ratio"] == pytest.approx(1) and d["correlation"] == pytest.approx(1)
    assert d["recovered"] == pytest.approx(1) and np.abs(d["error"]).max() == 0
    base = upscale_bicubic(bicubic(hr, 4), 4)
    d = detail_decomposition(base, hr)
    assert d["added_rms"] == 0 and d["ratio"] == 0 and d["correlation"] == 0 and d["recovered"] == pytest.approx(0)
    np.testing.assert_allclose(d["error"], -d["missing"])


def test_recovered_equals_r_times_two_rho_minus_r():
    from srgan_lib.degrade import bicubic, upscale_bicubic
    from srgan_lib.metrics import rgb_to_y
    from srgan_lib.teaching.hallucination import detail_decomposition
    hr = _hr(1)
    base = upscale_bicubic(bicubic(hr, 4), 4)
    rng = np.random.default_rng(2)
    for sr in (np.clip(base.astype(float) + 0.5 * (hr.astype(float) - base), 0, 255),  # half the detail
               np.clip(base.astype(float) + rng.normal(0, 15, hr.shape), 0, 255)):     # invented texture
        sr = np.rint(sr).astype(np.uint8)
        d = detail_decomposition(sr, hr)
        r, rho = d["ratio"], d["correlation"]
        assert d["recovered"] == pytest.approx(r * (2 * rho - r), rel=1e-9, abs=1e-12)
        mse_sr = np.mean((rgb_to_y(sr) - rgb_to_y(hr)) ** 2)
        mse_bic = np.mean((rgb_to_y(base) - rgb_to_y(hr)) ** 2)
        assert d["recovered"] == pytest.approx(1 - mse_sr / mse_bic, rel=1e-9)
    assert d["correlation"] < 0.2 and d["recovered"] < 0  # random texture: worse than bicubic


def test_window_and_errors_and_figure():
    import matplotlib
    matplotlib.use("Agg")
    from srgan_lib.errors import UserError
    from srgan_lib.teaching.hallucination import detail_decomposition, detail_figure
    hr = _hr(3)
    d = detail_decomposition(hr, hr, box=(8, 16, 32))
    assert d["missing"].shape == d["added"].shape == (32, 32)
    with pytest.raises(UserError, match="does not fit"):
        detail_decomposition(hr, hr, box=(40, 40, 32))
    with pytest.raises(UserError, match="one size"):
        detail_decomposition(hr[:32], hr)
    with pytest.raises(UserError, match="no detail is missing"):
        flat = np.full((32, 32, 3), 90, np.uint8)
        detail_decomposition(flat, flat)
    fig = detail_figure({"HR itself": d})
    assert len(fig.axes) == 3 and fig.axes[0].get_title().startswith("missing detail")
