"""MOS statistics: Holm, t-intervals, scipy's Wilcoxon, attainable p, Holm families, paired cells,
and simulated studies whose intervals cover the true means."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from srgan_lib import mos
from srgan_lib.mos.stats import default_family_size, families, family_reachable

from test_mos import NOISE_SD, RATER_SD, TRUE_LATENT, make_study, simulate, write_ratings


def test_holm_and_t_interval():
    np.testing.assert_allclose(mos.holm([0.01, 0.04, 0.03, 0.5]), [0.04, 0.09, 0.09, 0.5])
    np.testing.assert_allclose(mos.holm([0.2, 0.2]), [0.4, 0.4])
    v = np.array([3.0, 3.5, 4.0, 2.5, 3.2])
    mean, lo, hi = mos.t_interval(v)
    ci = stats.t.interval(0.95, len(v) - 1, loc=v.mean(), scale=stats.sem(v))
    assert mean == pytest.approx(v.mean()) and (lo, hi) == pytest.approx(ci)
    assert mos.t_interval([3.0, 3.0, 3.0]) == (3.0, 3.0, 3.0)  # no spread: a point, not nan
    assert mos.t_interval([2.0])[0] == 2.0 and np.isnan(mos.t_interval([2.0])[1])


@pytest.mark.parametrize("n,kind", [(5, "distinct"), (13, "distinct"), (20, "distinct"), (40, "distinct"),
                                    (60, "distinct"), (5, "tied"), (8, "tied"), (10, "tied"), (18, "tied"),
                                    (30, "tied"), (9, "zeros")])
def test_wilcoxon_is_scipys(n, kind):
    """The p-value of scipy.stats.wilcoxon on the non-zero differences, whichever method scipy picks
    (exact, permutation with ties for n <= 13, normal approximation)."""
    rng = np.random.default_rng(n)
    d = rng.normal(0.3, 1.0, n)
    if kind != "distinct":
        d = np.round(d * 2) / 2  # ties (and zeros), as per-rater means of a few 1..5 scores have
    if kind == "zeros":
        d[:3] = 0
    nz = d[d != 0]
    assert (len(np.unique(np.abs(nz))) < len(nz)) == (kind != "distinct")
    stat, p = mos.wilcoxon_signed_rank(d)
    ref = stats.wilcoxon(nz)
    assert stat == pytest.approx(ref.statistic, rel=1e-12) and p == pytest.approx(ref.pvalue, rel=1e-12)


def test_smallest_attainable_p_and_raters_needed():
    # all raters agree in sign: the smallest two-sided p, 2 / 2**n, tied or not
    for n in (3, 5, 8):
        assert mos.wilcoxon_signed_rank(np.arange(1, n + 1))[1] == pytest.approx(2 / 2 ** n)
        assert mos.wilcoxon_signed_rank(np.ones(n))[1] == pytest.approx(2 / 2 ** n)
        assert mos.min_attainable_p(n) == 2 / 2 ** n
    assert mos.min_attainable_p(5) == 0.0625 > 0.05  # the old default of 5 raters: never significant
    assert mos.wilcoxon_signed_rank([0, 0, 0])[1] == 1.0
    # Holm over m tests: the smallest adjusted p is m * 2 / 2**n
    assert [mos.raters_needed(m) for m in (1, 3, 7, 10, 66)] == [6, 7, 9, 9, 12]
    assert not family_reachable(8, 10) and family_reachable(9, 10)  # all 10 pairs of 5 methods: 9 raters
    fam = families(["nearest", "bicubic", "srresnet", "srgan", "hr"])
    assert fam["methods"] == [("bicubic", "srresnet"), ("bicubic", "srgan"), ("srresnet", "srgan")]
    assert len(fam["anchors"]) == 7 and ("nearest", "hr") in fam["anchors"]
    assert len(families(["nearest", "bicubic", "hr"], include_anchors=True)["all"]) == 3
    assert default_family_size(["nearest", "bicubic", "srgan", "hr"]) == 1
    assert default_family_size(["nearest", "bicubic", "hr"]) == 3  # one method: its anchor comparisons


def test_paired_tests_use_only_cells_rated_for_both_methods(tmp_path):
    """A rater who stopped half-way: srgan was rated on the easy images only.  Per image both
    methods got the same score, so the true paired difference is 0; a difference of per-method
    means would report srgan better."""
    out = make_study(tmp_path, raters=0)
    m = mos.load_manifest(out)
    by_key = {(it["dataset"], it["image"], it["method"]): i for i, it in m["items"].items()}
    difficulty = {f"img{k}": 1 + k for k in range(5)}  # img4 is the easiest (score 5)

    def scores(images_for_srgan):
        s = {}
        for (ds, img, meth), i in by_key.items():
            if meth in ("bicubic", "srresnet") or (meth == "srgan" and img in images_for_srgan):
                s[i] = difficulty[img]
            elif meth in ("nearest", "hr"):
                s[i] = {"nearest": 1, "hr": 5}[meth]
        return s
    files = [write_ratings(tmp_path / f"p{r}.json", m, f"p{r}", scores({"img3", "img4"}), hour=r) for r in range(8)]
    files.append(write_ratings(tmp_path / "full.json", m, "full", scores(set(difficulty))))
    rep = mos.aggregate(out, files)
    tests = {(t["a"], t["b"]): t for t in rep["datasets"]["SynA"]["tests"]}
    t = tests[("bicubic", "srgan")]
    assert t["mean_diff"] == 0 and t["n_zero"] == 9 and t["p"] == 1.0 and not t["significant"]
    assert t["n_cells"] == 8 * 2 + 5 and t["n_raters"] == 9
    rows = {r["method"]: r for r in rep["datasets"]["SynA"]["methods"]}
    assert rows["srgan"]["mos"] > rows["bicubic"]["mos"]  # the unpaired means would mislead
    assert t["verdict"] == "no (no rater scored the two differently)"
    partial = {p["rater"]: p for p in rep["partial_raters"]}
    assert sorted(partial) == [f"p{r}" for r in range(8)]
    assert partial["p0"]["rated"] == 50 - 2 * 3 and partial["p0"]["of"] == 50
    assert partial["p0"]["fraction"] == pytest.approx(44 / 50)
    text = mos.format_report(rep, markdown=False)
    assert "partial raters (paired tests use only the images a rater rated for both methods): p0 44/50 (88%)" in text
    # the paired difference itself
    diffs, cells = mos.paired_differences({"a": {"x": {"i1": 4, "i2": 2}, "y": {"i2": 5}},
                                           "b": {"x": {"i1": 3}}}, "x", "y")
    assert diffs == {"a": -3.0} and cells == 1


def test_no_difference_is_not_significant(tmp_path):
    out = make_study(tmp_path, raters=0)
    manifest = mos.load_manifest(out)
    rng = np.random.default_rng(3)
    files = []
    for r in range(12):  # every method rated alike: HR/NN anchors aside, no pair should differ
        scores = {i: {"nearest": 1, "hr": 5}.get(it["method"], int(rng.integers(2, 5)))
                  for i, it in manifest["items"].items()}
        files.append(write_ratings(tmp_path / f"n{r}.json", manifest, f"n{r}", scores))
    rep = mos.aggregate(out, files)
    tests = {(t["a"], t["b"]): t for t in rep["datasets"]["SynA"]["tests"]}
    assert tests[("bicubic", "srresnet")]["verdict"] == "no" and tests[("srresnet", "srgan")]["verdict"] == "no"
    assert tests[("nearest", "hr")]["verdict"] == "yes"
    assert rep["warnings"] == []  # 12 raters reach 0.05 in both families


def true_means(n=400_000):
    """Population mean rating per method under the simulation model (Monte Carlo, SE < 0.003)."""
    rng = np.random.default_rng(12345)
    latent_noise = rng.normal(0, RATER_SD, n) + rng.normal(0, NOISE_SD, n)
    return {m: float(np.clip(np.rint(mu + latent_noise), 1, 5).mean()) for m, mu in TRUE_LATENT.items()}


def test_simulated_study_recovers_order_and_cis_cover_truth(tmp_path):
    out = make_study(tmp_path, raters=0)
    truth = true_means()
    order = sorted(TRUE_LATENT, key=TRUE_LATENT.get)
    covered = total = 0
    for seed in range(20):
        files = simulate(out, tmp_path / f"sim{seed}", n_raters=26, seed=seed)
        rep = mos.aggregate(out, files)
        assert rep["flagged_raters"] == [] and rep["notes"] == [] and rep["partial_raters"] == []
        for ds in ("SynA", "SynB"):
            rows = {r["method"]: r for r in rep["datasets"][ds]["methods"]}
            assert sorted(rows, key=lambda k: rows[k]["mos"]) == order
            for mth, r in rows.items():
                assert r["n_raters"] == 26 and r["n_ratings"] == 26 * 5 and sum(r["distribution"]) == 130
                assert 0.05 < r["ci_high"] - r["ci_low"] < 0.6
                total += 1
                covered += r["ci_low"] <= truth[mth] <= r["ci_high"]
            tests = {(t["a"], t["b"]): t for t in rep["datasets"][ds]["tests"]}
            assert len(tests) == 10 and all(t["significant"] for t in tests.values())
    assert covered / total >= 0.88, (covered, total)  # nominal 95%
