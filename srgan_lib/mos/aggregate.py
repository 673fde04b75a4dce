"""Aggregating a MOS study (``srgan mos aggregate``): MOS, intervals, paired tests, rater checks.

* **MOS** = mean over raters of each rater's mean score for (dataset, method); with a complete
  design (every rater rated every item) this is exactly the mean of all ratings, the paper's MOS.
  The 95% CI is a t-interval over those per-rater means (:mod:`srgan_lib.mos.stats`).
* **Paired tests** use only the (rater, image) cells rated for both methods: a rater who stopped
  half-way rated a different image subset for each method, and a mean over different images
  would mix image difficulty into the method difference.  Raters who did not rate every item
  are listed with their completion.
* **Rater check**: the hidden NN and HR study items; a rater whose NN mean is not below their HR
  mean is flagged (``exclude_flagged`` leaves them out).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from srgan_lib.errors import UserError
from srgan_lib.mos import stats
from srgan_lib.mos.files import load_manifest, rater_token
from srgan_lib.mos.ratings import dedupe, load_ratings, verified

CI_METHOD = "Student-t 95% interval over per-rater means (rater = sampling unit; images fixed)"


def describe_tests(alpha: float, include_anchors: bool) -> str:
    family = ("all method pairs of a dataset" if include_anchors else
              "the comparisons between the methods under study (the NN/HR anchor comparisons form a "
              "family of their own)")
    return (f"two-sided Wilcoxon signed-rank test (scipy.stats.wilcoxon, zeros dropped) of per-rater mean "
            f"differences, each over the images the rater rated for both methods; Holm correction over "
            f"{family}; significant if p_holm < {alpha:g}")


def _calibration_check(f, items) -> dict:
    nn = [r["score"] for r in f.ratings if items[r["item"]]["method"] == "nearest"]
    hr = [r["score"] for r in f.ratings if items[r["item"]]["method"] == "hr"]
    entry = {"rater": f.rater_id, "file": str(f.path), "n_ratings": len(f.ratings),
             "nn_mean": float(np.mean(nn)) if nn else None, "hr_mean": float(np.mean(hr)) if hr else None}
    if nn and hr:
        entry["flagged"] = bool(entry["nn_mean"] >= entry["hr_mean"])
        entry["check"] = "flagged: does not rate HR above NN" if entry["flagged"] else "ok"
    else:
        entry["flagged"] = False
        entry["check"] = "unchecked: no NN and HR ratings yet"
    return entry


def paired_differences(scores: dict[str, dict], a: str, b: str) -> tuple[dict[str, float], int]:
    """``({rater: mean of score_a - score_b over the images rated for both}, number of cells)``.

    ``scores[rater][method][image]`` is a score; raters with no common image are left out.
    """
    diffs, cells = {}, 0
    for rater, by_method in scores.items():
        sa, sb = by_method.get(a, {}), by_method.get(b, {})
        common = sa.keys() & sb.keys()
        if common:
            diffs[rater] = sum(sa[i] - sb[i] for i in common) / len(common)  # exact for ties
            cells += len(common)
    return diffs, cells


def _tests(scores, methods, alpha, include_anchors) -> tuple[list[dict], list[dict]]:
    tests, summary = [], []
    for family, pairs in stats.families(methods, include_anchors).items():
        if not pairs:
            continue
        rows = []
        for a, b in pairs:
            diffs, cells = paired_differences(scores, a, b)
            d = np.array(list(diffs.values()), dtype=float)
            stat, p = stats.wilcoxon_signed_rank(d)
            n_zero = int(np.sum(d == 0))
            rows.append({"a": a, "b": b, "family": family, "n_raters": len(d), "n_zero": n_zero,
                         "n_cells": cells, "mean_diff": float(d.mean()) if len(d) else float("nan"),
                         "statistic": stat, "p": p})
        m = len(rows)
        n_best = max(r["n_raters"] - r["n_zero"] for r in rows)
        for r, ph in zip(rows, stats.holm([r["p"] for r in rows])):
            n_used = r["n_raters"] - r["n_zero"]
            # p_holm >= m * (smallest p of the family) and >= this test's own p
            floor = max(stats.min_attainable_p(n_used), min(1.0, m * stats.min_attainable_p(n_best)))
            r.update(p_holm=float(ph), min_p_holm=floor, significant=bool(ph < alpha))
            if r["significant"]:
                r["verdict"] = "yes"
            elif n_used == 0:
                r["verdict"] = "no (no rater scored the two differently)"
            elif floor >= alpha:
                untied = " untied" if r["n_zero"] else ""
                r["verdict"] = f"cannot reach alpha={alpha:g} with {n_used}{untied} raters"
            else:
                r["verdict"] = "no"
        n_raters = max(r["n_raters"] for r in rows)
        summary.append({"family": family, "size": m, "n_raters": n_raters,
                        "min_p": stats.min_attainable_p(n_raters),
                        "min_p_holm": min(1.0, m * stats.min_attainable_p(n_raters)),
                        "reachable": stats.family_reachable(n_raters, m, alpha),
                        "raters_needed": stats.raters_needed(m, alpha)})
        tests += rows
    return tests, summary


def aggregate(study_dir, rating_files, *, exclude_flagged: bool = False, include_anchors: bool = False,
              alpha: float = stats.ALPHA, accept_unverified: bool = False) -> dict:
    """Validate the rating files and compute the report (a JSON-serialisable dict).

    Every file is validated (:func:`srgan_lib.mos.ratings.load_ratings`) before anything is
    computed, so a malformed file stops the aggregation with one line naming it.  A file whose
    rater token does not verify (:func:`srgan_lib.mos.ratings.verified`: a rater the study never
    invited, or a forged or edited id) is refused, naming every such file, unless
    ``accept_unverified``; then they count and the report's warnings say so.
    """
    if not 0 < alpha < 1:
        raise UserError(f"alpha must be between 0 and 1, got {alpha!r}")
    manifest = load_manifest(study_dir)
    paths = [Path(p) for p in rating_files]
    if not paths:
        raise UserError("no ratings files given")
    loaded = [load_ratings(p, manifest) for p in paths]
    unverified = [f for f in loaded if not verified(f, manifest)]
    if unverified and not accept_unverified:
        names = ", ".join(f"{f.path} ({f.rater_id!r})" for f in unverified[:5])
        more = f" and {len(unverified) - 5} more" if len(unverified) > 5 else ""
        why = ("this study was prepared before rater tokens existed" if rater_token(manifest, "r01") is None
               else "they were not written from a rating page this study issued")
        raise UserError(f"{len(unverified)} ratings file(s) carry no valid rater token: {names}{more}; "
                        f"{why}, so they are not counted (--accept-unverified counts them anyway)")
    files, notes = dedupe(loaded)
    for f in files:
        if not f.ratings:
            notes.append(f"{f.path}: rater {f.rater_id!r} has no ratings")
    items = manifest["items"]
    methods, datasets = manifest["methods"], manifest["datasets"]

    calib = [_calibration_check(f, items) for f in files]
    flagged = sorted(c["rater"] for c in calib if c["flagged"])
    excluded = flagged if exclude_flagged else []
    used = [f for f in files if f.rater_id not in excluded]
    partial = [{"rater": f.rater_id, "file": str(f.path), "rated": len(f.ratings), "of": len(items),
                "fraction": len(f.ratings) / len(items)} for f in used if len(f.ratings) < len(items)]

    report = {
        "study_id": manifest["study_id"], "ci_method": CI_METHOD,
        "test_method": describe_tests(alpha, include_anchors), "alpha": alpha, "include_anchors": include_anchors,
        "files": [str(f.path) for f in files], "raters": [f.rater_id for f in used],
        "flagged_raters": flagged, "excluded_raters": excluded, "partial_raters": partial, "notes": notes,
        "warnings": [], "unverified_raters": sorted({f.rater_id for f in unverified}), "simulated_raters": [f.rater_id for f in used if f.simulated],
        "calibration": calib, "datasets": {},
    }
    if unverified:
        report["warnings"].append(
            f"counted {len(unverified)} ratings file(s) without a valid rater token (--accept-unverified): "
            + ", ".join(f"{f.path} ({f.rater_id!r})" for f in unverified))
    for ds in datasets:
        # scores[rater][method][image]
        scores: dict[str, dict[str, dict[str, int]]] = {}
        dist = {m: [0] * 5 for m in methods}
        for f in used:
            for r in f.ratings:
                it = items[r["item"]]
                if it["dataset"] == ds:
                    scores.setdefault(f.rater_id, {}).setdefault(it["method"], {})[it["image"]] = r["score"]
                    dist[it["method"]][r["score"] - 1] += 1
        rows = []
        for m in methods:
            vals = [float(np.mean(list(by_m[m].values()))) for by_m in scores.values() if m in by_m]
            if vals:
                mean, lo, hi = stats.t_interval(vals)
                sd = float(np.std(vals, ddof=1)) if len(vals) > 1 else float("nan")
            else:
                mean = lo = hi = sd = float("nan")
            rows.append({"method": m, "mos": mean, "ci_low": lo, "ci_high": hi, "sd_rater_means": sd,
                         "n_raters": len(vals), "n_ratings": sum(dist[m]), "distribution": dist[m]})
        tests, families = _tests(scores, methods, alpha, include_anchors)
        for fam in families:
            if not fam["reachable"]:
                report["warnings"].append(
                    f"{ds}: with {fam['n_raters']} raters the smallest attainable two-sided p is "
                    f"{fam['min_p']:.3g}, {fam['min_p_holm']:.3g} after Holm over the {fam['size']} "
                    f"{fam['family']} comparisons: they cannot reach alpha={alpha:g} "
                    f"(at least {fam['raters_needed']} raters needed)")
        report["datasets"][ds] = {"methods": rows, "tests": tests, "families": families}
    return report
