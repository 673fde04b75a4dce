"""Simulated MOS studies for teaching (chapter 6): PSNR against MOS, and how many raters a study needs.

Nothing here is a human judgement.  The ratings come from :func:`srgan_lib.mos.simulate_ratings`
(each file says ``"simulated": true``), whose latent means the chapter takes from the paper's
tables (:func:`srgan_lib.teaching.paper_tables.paper_means`).

* :func:`psnr_mos_figure` draws PSNR (x) against MOS (y), one panel per source: it shows the
  inversion the paper reports (Table 2: the highest PSNR is not the highest MOS).
* :func:`psnr_and_paper_mos_figure` puts measured PSNRs, which have no MOS, on a PSNR axis of their
  own beside the paper's PSNR-MOS plane, so that no measured number is ever drawn against a
  simulated opinion.
* :func:`significance_by_raters` repeats a simulated study with ``n`` raters many times and counts
  how often the paired test of two methods (Wilcoxon signed-rank, Holm, as
  :func:`srgan_lib.mos.aggregate` computes it) is significant: the power of the design, and the
  floor ``2 / 2**n`` on the attainable p (:func:`srgan_lib.mos.min_attainable_p`) that no effect size
  can beat.
"""
from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np

from srgan_lib.errors import UserError

__all__ = ["psnr_mos_figure", "psnr_and_paper_mos_figure", "find_test", "significance_by_raters"]


def psnr_mos_figure(panels, panel_size: float = 4.2, fontsize: int = 8, annotate=None):
    """PSNR against MOS, one panel per ``(title, series)`` of ``panels``; returns the ``Figure``.

    ``series`` maps a series name (legend) to points ``(label, psnr, mos)`` or
    ``(label, psnr, mos, mos_low, mos_high)`` (an interval drawn as a vertical bar).  Points with an
    infinite PSNR (HR) cannot be placed on the axis and are listed in the panel's title instead.
    ``annotate``: the labels written beside their points (default: every label).
    """
    import matplotlib.pyplot as plt

    panels = list(panels)
    if not panels:
        raise UserError("psnr_mos_figure needs at least one (title, series) panel")
    fig, axes = plt.subplots(1, len(panels), figsize=(panel_size * len(panels) + 0.6, panel_size), squeeze=False)
    for ax, (title, series) in zip(axes[0], panels):
        _psnr_mos_panel(ax, title, series, fontsize, annotate)
    fig.tight_layout()
    return fig


def _psnr_mos_panel(ax, title, series, fontsize, annotate):
    markers = "osD^v<>"
    off_axis = []
    for k, (name, points) in enumerate(series.items()):
        pts = [p for p in points if math.isfinite(p[1])]
        where = f" ({name})" if len(series) > 1 else ""
        off_axis += [f"{p[0]}{where} {p[2]:.2f}" for p in points if not math.isfinite(p[1])]
        if not pts:
            continue
        x = np.array([p[1] for p in pts], dtype=float)
        y = np.array([p[2] for p in pts], dtype=float)
        if all(len(p) >= 5 for p in pts):
            err = np.array([[p[2] - p[3] for p in pts], [p[4] - p[2] for p in pts]], dtype=float)
            ax.errorbar(x, y, yerr=np.nan_to_num(err), fmt=markers[k % len(markers)], capsize=3, label=name)
        else:
            ax.plot(x, y, markers[k % len(markers)], label=name)
        for p in pts if annotate is None else [p for p in pts if p[0] in annotate]:
            ax.annotate(str(p[0]), (p[1], p[2]), textcoords="offset points", xytext=(4, 4), fontsize=fontsize)
    ax.set_xlabel("PSNR (dB, Y, 4-px border)")
    ax.set_ylabel("MOS (1 bad ... 5 excellent)")
    ax.set_ylim(0.8, 5.2)
    ax.grid(alpha=0.3)
    ax.set_title(title + (f"\n(off the axis, PSNR ∞: {', '.join(off_axis)})" if off_axis else ""),
                 fontsize=fontsize + 1)
    if len(series) > 1:
        ax.legend(fontsize=fontsize)


def psnr_and_paper_mos_figure(measured: dict, paper_psnr: dict, paper_panel: tuple, *, dataset: str,
                              panel_size: float = 4.2, fontsize: int = 8, annotate=None):
    """Two panels: PSNR only, ours beside the paper's (left), and the paper's PSNR against MOS (right).

    ``measured`` and ``paper_psnr`` map a method's label to its PSNR on ``dataset``.  The left panel has
    one row per finite value of ``measured`` (ours: filled circles; the paper's, where it has the
    method: open squares) on a PSNR axis and no MOS axis, because no opinion of our models was
    measured.  ``paper_panel`` is a ``(title, series)`` pair as in :func:`psnr_mos_figure`, drawn on the
    right.  Returns the ``Figure``.
    """
    import matplotlib.pyplot as plt

    labels = [k for k, v in measured.items() if math.isfinite(v)]
    if not labels:
        raise UserError("psnr_and_paper_mos_figure needs at least one finite measured PSNR")
    fig, (left, right) = plt.subplots(1, 2, figsize=(2 * panel_size + 0.6, panel_size))
    rows = np.arange(len(labels))[::-1]
    left.plot([measured[k] for k in labels], rows, "o", label="ours (measured)")
    known = [(r, paper_psnr[k]) for r, k in zip(rows, labels) if k in paper_psnr]
    if known:
        left.plot([v for _, v in known], [r for r, _ in known], "s", mfc="none", label="paper (Table 2)")
    left.set_yticks(rows, labels, fontsize=fontsize)
    left.set_ylim(-0.7, len(labels) - 0.3)
    left.set_xlabel(f"PSNR on {dataset} (dB, Y, 4-px border)")
    left.grid(axis="x", alpha=0.3)
    left.legend(fontsize=fontsize)
    left.set_title("our models: PSNR only\n(no opinion scores of them exist)", fontsize=fontsize + 1)
    _psnr_mos_panel(right, *paper_panel, fontsize, annotate)
    fig.tight_layout()
    return fig


def find_test(report: dict, a: str, b: str, dataset: str | None = None) -> dict:
    """The paired test of methods ``a`` and ``b`` (either order) in an aggregate report, on
    ``dataset`` (default: the report's only dataset)."""
    datasets = report["datasets"]
    if dataset is None:
        if len(datasets) != 1:
            raise UserError(f"the report has several datasets ({', '.join(datasets)}): name one")
        dataset = next(iter(datasets))
    if dataset not in datasets:
        raise UserError(f"no dataset {dataset!r} in the report ({', '.join(datasets)})")
    for t in datasets[dataset]["tests"]:
        if {t["a"], t["b"]} == {a, b}:
            return t
    raise UserError(f"no test of {a!r} against {b!r} on {dataset!r}")


def significance_by_raters(study_dir, a: str, b: str, true_means: dict, rater_counts, *, repeats: int = 20,
                           seed: int = 0, noise: float = 0.6, rater_sd: float = 0.3, alpha: float = 0.05,
                           dataset: str | None = None, work_dir=None) -> list[dict]:
    """How often a simulated study with ``n`` raters finds ``a`` and ``b`` significantly different.

    For each ``n`` of ``rater_counts``, ``repeats`` studies of ``n`` SIMULATED raters
    (:func:`srgan_lib.mos.simulate_ratings` with ``true_means``, ``noise``, ``rater_sd`` and seed
    ``seed + 1000 * n + repeat``) are aggregated (:func:`srgan_lib.mos.aggregate`, Holm over the
    study's family).  Returns one dict per ``n``: ``{"raters", "repeats", "significant"`` (the
    fraction of studies with ``p_holm < alpha``), ``"median_p_holm"``, ``"min_p_holm"`` (the floor
    the design allows), ``"mean_diff"`` (mean over the studies of the MOS difference a - b)``}``.
    The rating files go to ``work_dir`` (default: a temporary folder, removed afterwards).
    """
    from srgan_lib import mos

    counts = [int(n) for n in rater_counts]
    if not counts or min(counts) < 1 or repeats < 1:
        raise UserError("rater_counts must be positive integers and repeats at least 1")
    tmp = tempfile.TemporaryDirectory(prefix="mos-power-") if work_dir is None else None
    root = Path(tmp.name if tmp else work_dir)
    rows = []
    try:
        for n in counts:
            p_holm, sig, diffs, floor = [], 0, [], None
            for rep in range(repeats):
                files = mos.simulate_ratings(study_dir, raters=n, seed=seed + 1000 * n + rep, noise=noise,
                                             true_means=true_means, rater_sd=rater_sd, out_dir=root / f"n{n}",
                                             overwrite=True)
                report = mos.aggregate(study_dir, files, alpha=alpha)
                test = find_test(report, a, b, dataset)
                ds = dataset or next(iter(report["datasets"]))
                floor = next(f["min_p_holm"] for f in report["datasets"][ds]["families"]
                             if f["family"] == test["family"])
                sign = 1.0 if test["a"] == a else -1.0
                p_holm.append(test["p_holm"])
                sig += bool(test["significant"])
                diffs.append(sign * test["mean_diff"])
            rows.append({"raters": n, "repeats": repeats, "significant": sig / repeats,
                         "median_p_holm": float(np.median(p_holm)), "min_p_holm": floor,
                         "mean_diff": float(np.mean(diffs))})
    finally:
        if tmp is not None:
            tmp.cleanup()
    return rows
