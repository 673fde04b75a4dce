"""The statistics of a MOS study: t-intervals, Wilcoxon signed-rank tests, Holm families.

* **CI**: Student-t interval over per-rater means.  The rater is the independent sampling unit
  (ratings by one rater share that rater's bias, so an interval over all ratings is far too
  narrow); the benchmark images are fixed (MOS "on Set5" is about those images).
* **Test**: two-sided Wilcoxon signed-rank test of per-rater mean differences between two
  methods, each rater's difference taken over the images that rater rated for both methods
  (:mod:`srgan_lib.mos.aggregate`).  Zero differences are dropped (``zero_method="wilcox"``,
  Wilcoxon's convention: a rater who scored both methods alike carries no sign, and the exact
  null distribution of the others stays available; the number dropped is reported).  The
  p-value is ``scipy.stats.wilcoxon``'s: exact without ties (up to 50 raters), the exact
  permutation distribution with tied differences (up to 13 raters), the tie-corrected normal
  approximation (no continuity correction) above.
* **Smallest attainable p**: with ``n`` non-zero differences the exact test cannot go below
  ``2 / 2**n`` (all differences of one sign), 0.0625 for 5 raters; Holm over ``m`` comparisons
  multiplies the smallest p by ``m``.
* **Multiplicity**: Holm's step-down correction (controls the family-wise error without assuming
  independent tests; uniformly more powerful than Bonferroni) over the comparisons between the
  methods under study.  The anchor comparisons (NN, HR) are sanity checks, not claims, and form a
  family of their own unless ``include_anchors``.
"""
from __future__ import annotations

from itertools import combinations

import numpy as np

from srgan_lib.mos.files import ANCHORS

ALPHA = 0.05
#: up to this many tied differences the p-value is the exact permutation one (as in scipy's "auto")
PERMUTATION_MAX_N = 13


def holm(pvalues) -> np.ndarray:
    """Holm step-down adjusted p-values (same order as the input)."""
    p = np.asarray(pvalues, dtype=float)
    adj = np.empty(len(p))
    running = 0.0
    for rank, idx in enumerate(np.argsort(p, kind="stable")):
        running = max(running, min(1.0, (len(p) - rank) * p[idx]))
        adj[idx] = running
    return adj


def t_interval(values, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high) of the Student-t interval; low/high are nan for fewer than 2 values."""
    from scipy import stats
    v = np.asarray(values, dtype=float)
    mean = float(v.mean())
    if len(v) < 2:
        return mean, float("nan"), float("nan")
    sem = float(stats.sem(v))
    if sem == 0:
        return mean, mean, mean
    lo, hi = stats.t.interval(level, len(v) - 1, loc=mean, scale=sem)
    return mean, float(lo), float(hi)


def wilcoxon_signed_rank(d) -> tuple[float, float]:
    """Two-sided Wilcoxon signed-rank test of the paired differences ``d``: (statistic, p).

    The result of ``scipy.stats.wilcoxon(d)`` (zeros dropped; the statistic is min(T+, T-)),
    and (nan, 1.0) when every difference is zero.  With tied differences and at most
    :data:`PERMUTATION_MAX_N` of them scipy runs an exact permutation test over all sign
    patterns, evaluating its statistic one pattern at a time; the same test is run here through
    ``scipy.stats.permutation_test`` with a vectorised statistic (same p, one array operation).
    """
    from scipy import stats
    d = np.asarray(d, dtype=float)
    d = d[d != 0]
    n = len(d)
    if n == 0:
        return float("nan"), 1.0
    if n <= PERMUTATION_MAX_N and len(np.unique(np.abs(d))) < n:
        ranks = stats.rankdata(np.abs(d))
        res = stats.permutation_test((d,), lambda x, axis: np.sum((x > 0) * ranks, axis=axis),
                                     permutation_type="samples", vectorized=True, n_resamples=np.inf,
                                     alternative="two-sided")
        t_plus = float(ranks[d > 0].sum())
        return min(t_plus, float(ranks.sum()) - t_plus), float(res.pvalue)
    res = stats.wilcoxon(d)
    return float(res.statistic), float(res.pvalue)


def min_attainable_p(n: int) -> float:
    """The smallest two-sided p of the exact signed-rank test with ``n`` non-zero differences."""
    return 1.0 if n <= 0 else min(1.0, 2.0 / 2 ** n)


def family_reachable(n: int, family_size: int, alpha: float = ALPHA) -> bool:
    """Whether Holm over ``family_size`` tests of ``n`` raters can give any p_holm below ``alpha``."""
    return family_size * min_attainable_p(n) < alpha


def raters_needed(family_size: int, alpha: float = ALPHA) -> int:
    """The fewest raters with which a Holm family of ``family_size`` tests can reach ``alpha``."""
    n = 1
    while not family_reachable(n, max(family_size, 1), alpha):
        n += 1
    return n


def families(methods, include_anchors: bool = False) -> dict[str, list[tuple[str, str]]]:
    """The Holm families of a study's method pairs (in study order): ``{"methods": pairs of the
    methods under study, "anchors": pairs with NN or HR}``, or ``{"all": every pair}``."""
    pairs = list(combinations(methods, 2))
    if include_anchors:
        return {"all": pairs}
    return {"methods": [p for p in pairs if not set(p) & set(ANCHORS)],
            "anchors": [p for p in pairs if set(p) & set(ANCHORS)]}


def default_family_size(methods) -> int:
    """Size of the main Holm family: the comparisons between the methods under study, or, with
    a single method under study, its comparisons with the anchors."""
    fam = families(methods)
    return len(fam["methods"]) or len(fam["anchors"])

