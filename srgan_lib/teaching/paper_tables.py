"""The paper's result tables as data, and our measurements beside them (chapter 6, reproduction page).

Ledig et al. (2017), arXiv:1609.04802v5, x4 upscaling:

* **Table 1** (Sec. 3.4, "investigation of content loss"): the five variants SRResNet-MSE,
  SRResNet-VGG22, SRGAN-MSE, SRGAN-VGG22, SRGAN-VGG54 on Set5 and Set14 (PSNR, SSIM, MOS).  Its
  caption marks with * a "MOS score significantly higher (p < 0.05) than with other losses in that
  category": SRResNet-VGG22 among the SRResNets and SRGAN-VGG54 among the SRGANs, both on Set14
  (:data:`TABLE1_SIGNIFICANT`).
* **Table 2** (Sec. 3.5, "performance of the final networks"): NN, bicubic, SRCNN, SelfExSR, DRCN,
  ESPCN, SRResNet (= SRResNet-MSE), SRGAN (= SRGAN-VGG54) and HR on Set5, Set14 and BSD100.

PSNR and SSIM of both tables were computed on Y with a 4-pixel border "using the daala package"
(Sec. 3.1); MOS is the mean of the integral scores 1-5 of 26 raters (Sec. 3.3).  The numbers are
the paper's, typed from it; nothing here is measured.
"""
from __future__ import annotations

import math

from srgan_lib.errors import UserError

__all__ = ["SOURCE", "DATASETS", "LABELS", "TABLE1", "TABLE1_VARIANTS", "TABLE1_SIGNIFICANT", "TABLE2",
           "TABLE2_METHODS", "paper_value", "paper_means", "table1_markdown", "table2_markdown",
           "beside_paper"]

SOURCE = "Ledig et al. (2017), arXiv:1609.04802v5"
DATASETS = ("Set5", "Set14", "BSD100")

#: display names; the keys are the library's method names where the library has the method
LABELS = {"nearest": "NN", "bicubic": "bicubic", "srcnn": "SRCNN", "selfexsr": "SelfExSR", "drcn": "DRCN",
          "espcn": "ESPCN", "srresnet-mse": "SRResNet-MSE", "srresnet-vgg22": "SRResNet-VGG22",
          "srgan-mse": "SRGAN-MSE", "srgan-vgg22": "SRGAN-VGG22", "srgan-vgg54": "SRGAN-VGG54", "hr": "HR"}


def _rows(psnr, ssim, mos):
    return {"psnr": psnr, "ssim": ssim, "mos": mos}


TABLE1_VARIANTS = ("srresnet-mse", "srresnet-vgg22", "srgan-mse", "srgan-vgg22", "srgan-vgg54")
#: Table 1: {variant: {dataset: {"psnr", "ssim", "mos"}}} (Set5 and Set14 only)
TABLE1 = {
    "srresnet-mse": {"Set5": _rows(32.05, 0.9019, 3.37), "Set14": _rows(28.49, 0.8184, 2.98)},
    "srresnet-vgg22": {"Set5": _rows(30.51, 0.8803, 3.46), "Set14": _rows(27.19, 0.7807, 3.15)},
    "srgan-mse": {"Set5": _rows(30.64, 0.8701, 3.77), "Set14": _rows(26.92, 0.7611, 3.43)},
    "srgan-vgg22": {"Set5": _rows(29.84, 0.8468, 3.78), "Set14": _rows(26.44, 0.7518, 3.57)},
    "srgan-vgg54": {"Set5": _rows(29.40, 0.8472, 3.58), "Set14": _rows(26.02, 0.7397, 3.72)},
}
#: the (dataset, variant) cells whose MOS Table 1 marks as significantly higher (p < 0.05) than with
#: the other losses of the same category (SRResNet or SRGAN)
TABLE1_SIGNIFICANT = frozenset({("Set14", "srresnet-vgg22"), ("Set14", "srgan-vgg54")})

TABLE2_METHODS = ("nearest", "bicubic", "srcnn", "selfexsr", "drcn", "espcn", "srresnet-mse", "srgan-vgg54",
                  "hr")
_INF = float("inf")
_T2 = {  # dataset: (PSNR, SSIM, MOS) in the order of TABLE2_METHODS
    "Set5": ((26.26, 28.43, 30.07, 30.33, 31.52, 30.76, 32.05, 29.40, _INF),
             (0.7552, 0.8211, 0.8627, 0.872, 0.8938, 0.8784, 0.9019, 0.8472, 1.0),
             (1.28, 1.97, 2.57, 2.65, 3.26, 2.89, 3.37, 3.58, 4.32)),
    "Set14": ((24.64, 25.99, 27.18, 27.45, 28.02, 27.66, 28.49, 26.02, _INF),
              (0.7100, 0.7486, 0.7861, 0.7972, 0.8074, 0.8004, 0.8184, 0.7397, 1.0),
              (1.20, 1.80, 2.26, 2.34, 2.84, 2.52, 2.98, 3.72, 4.32)),
    "BSD100": ((25.02, 25.94, 26.68, 26.83, 27.21, 27.02, 27.58, 25.16, _INF),
               (0.6606, 0.6935, 0.7291, 0.7387, 0.7493, 0.7442, 0.7620, 0.6688, 1.0),
               (1.11, 1.47, 1.87, 1.89, 2.12, 2.01, 2.29, 3.56, 4.46)),
}
#: Table 2: {method: {dataset: {"psnr", "ssim", "mos"}}} (HR: PSNR inf, SSIM 1)
TABLE2 = {m: {ds: _rows(p[i], s[i], q[i]) for ds, (p, s, q) in _T2.items()} for i, m in enumerate(TABLE2_METHODS)}


def paper_value(method: str, dataset: str, key: str) -> float:
    """One number of the paper: Table 2 where it has ``method`` on ``dataset``, else Table 1.

    ``key`` is ``"psnr"``, ``"ssim"`` or ``"mos"``.  The two tables agree where they overlap
    (SRResNet-MSE and SRGAN-VGG54 on Set5/Set14).  Anything the paper does not report is a
    :class:`~srgan_lib.errors.UserError`.
    """
    if key not in ("psnr", "ssim", "mos"):
        raise UserError(f"key must be psnr, ssim or mos, got {key!r}")
    for table in (TABLE2, TABLE1):
        if dataset in table.get(method, {}):
            return table[method][dataset][key]
    raise UserError(f"the paper reports no {key} for {method!r} on {dataset!r} (Table 1: "
                    f"{', '.join(TABLE1_VARIANTS)} on Set5/Set14; Table 2: {', '.join(TABLE2_METHODS)})")


def paper_means(dataset: str, methods) -> dict[str, float]:
    """``{method: the paper's MOS on dataset}``, e.g. latent means for
    :func:`srgan_lib.mos.simulate_ratings` (Table 2, else Table 1)."""
    return {m: paper_value(m, dataset, "mos") for m in methods}


def _fmt(x: float, nd: int) -> str:
    return "∞" if math.isinf(x) else f"{x:.{nd}f}"


def table1_markdown(datasets=("Set5", "Set14")) -> str:
    """Table 1 as a markdown table (rows: measure per dataset; columns: the five variants), the
    significant MOS marked with *."""
    head = "| x4 | " + " | ".join(LABELS[v] for v in TABLE1_VARIANTS) + " |"
    lines = [head, "|---|" + "---:|" * len(TABLE1_VARIANTS)]
    for ds in datasets:
        for key, nd in (("psnr", 2), ("ssim", 4), ("mos", 2)):
            cells = [_fmt(TABLE1[v][ds][key], nd) + ("*" if key == "mos" and (ds, v) in TABLE1_SIGNIFICANT else "")
                     for v in TABLE1_VARIANTS]
            lines.append(f"| {ds} {key.upper()} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table2_markdown(datasets=DATASETS, methods=TABLE2_METHODS) -> str:
    """Table 2 as a markdown table (rows: measure per dataset; columns: the methods)."""
    lines = ["| x4 | " + " | ".join(LABELS[m] for m in methods) + " |", "|---|" + "---:|" * len(methods)]
    for ds in datasets:
        for key, nd in (("psnr", 2), ("ssim", 4), ("mos", 2)):
            lines.append(f"| {ds} {key.upper()} | "
                         + " | ".join(_fmt(TABLE2[m][ds][key], nd) for m in methods) + " |")
    return "\n".join(lines)


def beside_paper(results, methods=("nearest", "bicubic", "srresnet-mse", "srgan-vgg54"), datasets=DATASETS,
                 ours: str = "ours") -> str:
    """A markdown table: our measured rows (PSNR / SSIM / VGG54) and, below them, the paper's rows
    (PSNR / SSIM / MOS) for the same methods and datasets.

    ``results`` are evaluation results (:func:`srgan_lib.evaluate.evaluate` dicts, or the list read
    from ``evaluation_x4.json``) with ``dataset``, ``model``, ``psnr``, ``ssim``, ``n`` and optionally
    ``vgg54``.  A dataset none of the results covers is left out; a missing cell is "–".
    """
    cell = {(r["model"], r["dataset"]): r for r in results}
    datasets = [d for d in datasets if any(r["dataset"] == d for r in results)]
    if not datasets:
        raise UserError(f"no results on any of {', '.join(DATASETS)}")
    counts = {d: next(r["n"] for r in results if r["dataset"] == d) for d in datasets}
    head = ("| x4 | source | " + " | ".join(f"{d} ({counts[d]} images) PSNR / SSIM / VGG54 / MOS"
                                             for d in datasets) + " |")
    lines = [head, "|---|---|" + "---|" * len(datasets)]
    for m in methods:
        row = []
        for d in datasets:
            r = cell.get((m, d))
            row.append("–" if r is None else f"{r['psnr']:.2f} / {r['ssim']:.4f} / "
                       + (f"{r['vgg54']:.3f}" if "vgg54" in r else "–") + " / –")
        lines.append(f"| {LABELS.get(m, m)} | {ours} | " + " | ".join(row) + " |")
    for m in methods:
        row = []
        for d in datasets:
            try:
                vals = [paper_value(m, d, k) for k in ("psnr", "ssim", "mos")]
            except UserError:
                row.append("–")
                continue
            sig = "*" if (d, m) in TABLE1_SIGNIFICANT else ""
            row.append(f"{_fmt(vals[0], 2)} / {_fmt(vals[1], 4)} / – / {vals[2]:.2f}{sig}")
        lines.append(f"| {LABELS.get(m, m)} | paper | " + " | ".join(row) + " |")
    return "\n".join(lines)
