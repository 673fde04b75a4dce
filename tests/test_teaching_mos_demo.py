"""Tests for srgan_lib.teaching.mos_demo: the PSNR-vs-MOS figure, finding a test in a report, and
the repeated simulated studies (power against the number of raters, and the attainable-p floor)."""
import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from srgan_lib import mos  # noqa: E402
from srgan_lib.errors import UserError  # noqa: E402
from srgan_lib.teaching import mos_demo  # noqa: E402

from test_mos import calibration_sources, synthetic_sources  # noqa: E402


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "study"
    mos.prepare_study(["SynA"], ["bicubic", "srresnet", "srgan"], out, raters=0, seed=1, calibration=2,
                      calibration_dataset="Cal", sources=synthetic_sources(("SynA",), n_images=3),
                      calibration_sources=calibration_sources(2), progress=lambda m: None)
    return out


MEANS = {"nearest": 1.2, "bicubic": 1.8, "srresnet": 2.9, "srgan": 3.7, "hr": 4.3}


def test_psnr_mos_figure_draws_one_panel_per_source():
    import matplotlib.pyplot as plt
    fig = mos_demo.psnr_mos_figure([
        ("ours", {"simulated": [("bicubic", 26.0, 1.9, 1.7, 2.1), ("SRGAN", 25.3, 3.6, 3.4, 3.8)]}),
        ("paper", {"Set5": [("NN", 26.26, 1.28), ("HR", float("inf"), 4.32)], "Set14": [("NN", 24.64, 1.2)]}),
    ], annotate={"NN", "bicubic"})
    axes = fig.axes
    assert len(axes) == 2
    assert "HR (Set5) 4.32" in axes[1].get_title() and "∞" in axes[1].get_title()
    assert [t.get_text() for t in axes[1].texts] == ["NN", "NN"]
    assert [t.get_text() for t in axes[0].texts] == ["bicubic"]
    assert axes[1].get_legend() is not None and axes[0].get_legend() is None
    plt.close(fig)
    with pytest.raises(UserError):
        mos_demo.psnr_mos_figure([])


def test_psnr_and_paper_mos_figure_keeps_measured_psnr_off_any_mos_axis():
    import matplotlib.pyplot as plt
    fig = mos_demo.psnr_and_paper_mos_figure(
        {"bicubic": 26.0, "SRGAN-VGG54": 25.3, "HR": float("inf")}, {"bicubic": 26.02},
        ("paper", {"Set14": [("bicubic", 26.02, 1.80), ("SRGAN-VGG54", 26.02, 3.72)]}),
        dataset="Set14", annotate={"SRGAN-VGG54"})
    left, right = fig.axes
    assert [t.get_text() for t in left.get_yticklabels()] == ["bicubic", "SRGAN-VGG54"]  # HR: no PSNR
    ours, paper = left.get_lines()
    assert list(ours.get_xdata()) == [26.0, 25.3] and list(ours.get_ydata()) == [1, 0]
    assert list(paper.get_xdata()) == [26.02] and list(paper.get_ydata()) == [1]
    assert "MOS" not in left.get_ylabel() and "no opinion scores" in left.get_title()
    assert "MOS" in right.get_ylabel() and [t.get_text() for t in right.texts] == ["SRGAN-VGG54"]
    plt.close(fig)
    with pytest.raises(UserError, match="finite measured PSNR"):
        mos_demo.psnr_and_paper_mos_figure({"HR": float("inf")}, {}, ("paper", {}), dataset="Set14")


def test_find_test_either_order(study):
    files = mos.simulate_ratings(study, raters=3, seed=0, true_means=MEANS)
    report = mos.aggregate(study, files)
    t = mos_demo.find_test(report, "srgan", "srresnet")
    assert {t["a"], t["b"]} == {"srgan", "srresnet"} and t is mos_demo.find_test(report, "srresnet", "srgan")
    with pytest.raises(UserError, match="no test of 'srgan' against 'x'"):
        mos_demo.find_test(report, "srgan", "x")
    with pytest.raises(UserError, match="no dataset 'B'"):
        mos_demo.find_test(report, "srgan", "hr", dataset="B")


def test_significance_grows_with_raters_and_respects_the_floor(study, tmp_path):
    rows = mos_demo.significance_by_raters(study, "srgan", "srresnet", MEANS, [4, 12], repeats=5, seed=3,
                                           work_dir=tmp_path)
    few, many = rows
    # Holm over the 3 comparisons of bicubic, srresnet, srgan: with 4 raters p_holm >= 3 * 2 / 2**4
    assert few["raters"] == 4 and few["min_p_holm"] == pytest.approx(3 * 2 / 2 ** 4)
    assert few["significant"] == 0.0 and few["median_p_holm"] >= few["min_p_holm"]
    assert many["significant"] == 1.0 and many["median_p_holm"] < 0.05
    assert 0.5 < many["mean_diff"] < 1.1   # latent difference 0.8, blurred by rounding
    assert (tmp_path / "n12").is_dir() and len(list((tmp_path / "n12").glob("*.json"))) == 12
    again = mos_demo.significance_by_raters(study, "srgan", "srresnet", MEANS, [4, 12], repeats=5, seed=3)
    assert again == rows  # a pure function of the seed


def test_no_difference_is_rarely_significant(study):
    means = {**MEANS, "srgan": MEANS["srresnet"]}
    (row,) = mos_demo.significance_by_raters(study, "srresnet", "srgan", means, [10], repeats=10, seed=0)
    assert row["significant"] <= 0.2 and abs(row["mean_diff"]) < 0.3
    with pytest.raises(UserError):
        mos_demo.significance_by_raters(study, "srresnet", "srgan", means, [0])
