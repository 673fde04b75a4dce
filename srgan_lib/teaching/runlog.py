"""Reading a run folder's logs (chapter 5): ``log.csv``, ``val.csv`` and what they say.

A run folder of :func:`srgan_lib.train.train` holds ``log.csv`` (one row every ``log_every`` steps:
the losses of that step, D's mean probabilities on real and generated patches, its accuracy, the
learning rate) and ``val.csv`` (PSNR/SSIM on the validation set).  The shipped generators' runs
are in ``training_logs/NAME/`` beside their weights (:func:`shipped_run`).

* :func:`read_log` / :func:`read_val`: the columns as float arrays (an empty cell is NaN);
* :func:`compare_logs`: are two logs the same run, row by row, up to the wall-clock column?
* :func:`discriminator_dominance`: from which step on the discriminator tells real from fake
  (almost) always, and the adversarial term's share of the generator loss;
* :func:`log_figure`: the four panels of a run (content loss, the adversarial game, D's
  probabilities and accuracy, validation PSNR).
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from srgan_lib.errors import InputNotFoundError

__all__ = ["shipped_run", "read_log", "read_val", "compare_logs", "discriminator_dominance",
           "log_figure"]


def shipped_run(name: str) -> Path:
    """The folder of the shipped generator ``name``'s training logs (``config.json``,
    ``log.csv``, ``val.csv``)."""
    from srgan_lib import weights

    root = weights.shipped_dir()
    folder = None if root is None else root / "training_logs" / name
    if folder is None or not (folder / "log.csv").is_file():
        raise InputNotFoundError(f"no training log ships for {name!r}")
    return folder


def _read(path) -> dict[str, np.ndarray]:
    path = Path(path)
    if path.is_dir():
        raise InputNotFoundError(f"{path} is a folder; pass log.csv or val.csv")
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return {}
    header, body = rows[0], [r for r in rows[1:] if r]
    out = {}
    for i, name in enumerate(header):
        values = [r[i] if i < len(r) else "" for r in body]
        try:
            out[name] = np.array([float(v) if v != "" else np.nan for v in values])
        except ValueError:  # a text column (val.csv's dataset)
            out[name] = np.array(values, dtype=object)
    return out


def read_log(path) -> dict[str, np.ndarray]:
    """``log.csv`` (a file, or a run folder) as ``{column: float array}``."""
    path = Path(path)
    return _read(path / "log.csv" if path.is_dir() else path)


def read_val(path) -> dict[str, np.ndarray]:
    """``val.csv`` (a file, or a run folder) as ``{column: array}``; empty when there is none."""
    path = Path(path)
    path = path / "val.csv" if path.is_dir() else path
    return _read(path) if path.is_file() else {}


def compare_logs(a: dict, b: dict, ignore=("time",)) -> dict:
    """Row-by-row comparison of two logs (:func:`read_log` or :func:`read_val` results).

    Returns ``{"rows": (len a, len b), "same_steps": bool, "identical": bool,
    "max_abs_diff": float, "differing": [columns]}``; ``identical`` means the same steps and
    bit-identical values in every column but ``ignore`` (the wall-clock time).
    """
    ra, rb = len(a.get("step", [])), len(b.get("step", []))
    same_steps = ra == rb and bool(np.array_equal(a.get("step"), b.get("step")))
    differing, worst = [], 0.0
    for col in sorted((set(a) | set(b)) - set(ignore)):
        x, y = a.get(col), b.get(col)
        if x is None or y is None or len(x) != len(y):
            differing.append(col)
            continue
        if x.dtype == object or y.dtype == object:
            if list(x) != list(y):
                differing.append(col)
            continue
        both_nan = np.isnan(x) & np.isnan(y)
        diff = np.where(both_nan, 0.0, np.abs(x - y))
        if np.any(diff != 0) or np.any(np.isnan(diff)):
            differing.append(col)
            worst = max(worst, float(np.nanmax(diff)) if np.any(~np.isnan(diff)) else np.inf)
    return {"rows": (ra, rb), "same_steps": same_steps,
            "identical": same_steps and not differing, "max_abs_diff": worst,
            "differing": differing}


def discriminator_dominance(log: dict, threshold: float = 0.97, window: int = 8,
                            weight: float = 1e-3) -> dict:
    """When the discriminator wins, read from a GAN run's log.

    The logged ``d_acc`` is one batch's accuracy, so single rows dip.  The rows are cut into
    consecutive blocks of ``window`` rows; ``step`` is the first logged step of the first block
    whose median accuracy is at least ``threshold`` (None if there is none).  From ``step`` on:
    ``blocks_after`` = ``(good, total)``, how many of the blocks have such a median, and
    ``share_after``, the fraction of rows at or above the threshold,
    ``mean_acc_after``, and the median D probabilities ``d_fake_median``, ``d_real_median``.
    ``share_all``: the fraction of all rows at or above the threshold.  ``adv_share_first`` /
    ``adv_share_last``: ``weight * adv_loss / g_loss`` in the first and last logged row, the
    adversarial term's part of the generator's loss (Eq. 3).
    """
    steps, acc = np.asarray(log["step"]), np.asarray(log["d_acc"], float)
    window = max(1, int(window))
    starts = list(range(0, len(acc), window))
    good = [float(np.median(acc[i:i + window])) >= threshold for i in starts]
    first = next((k for k, ok in enumerate(good) if ok), None)
    start = None if first is None else int(steps[starts[first]])
    blocks_after = None if first is None else (sum(good[first:]), len(good) - first)
    above = acc >= threshold
    tail = steps >= start if start is not None else np.zeros(len(steps), bool)
    adv = np.asarray(log["adv_loss"], float) * weight
    g = np.asarray(log["g_loss"], float)

    def median(col):
        return float(np.median(np.asarray(log[col], float)[tail])) if tail.any() else None

    return {"step": start, "threshold": threshold, "window": window, "blocks_after": blocks_after,
            "share_after": float(np.mean(above[tail])) if tail.any() else None,
            "mean_acc_after": float(np.mean(acc[tail])) if tail.any() else None,
            "share_all": float(np.mean(above)),
            "d_fake_median": median("d_fake"), "d_real_median": median("d_real"),
            "adv_share_first": float(adv[0] / g[0]), "adv_share_last": float(adv[-1] / g[-1])}


def log_figure(log: dict, val: dict | None = None, title: str = "", mark_step=None,
               reference_psnr: float | None = None, reference_label: str = ""):
    """Four panels of a run's log: content loss; D loss and G's adversarial loss; D(real),
    D(fake) and D's accuracy; validation PSNR (when ``val`` has rows, else the learning rate).
    ``mark_step`` draws a dashed vertical line (e.g. where the learning rate drops);
    ``reference_psnr`` a horizontal line in the PSNR panel.  Returns the ``Figure``."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(15, 3.3))
    s = log["step"]
    axes[0].plot(s, log["content_loss"], lw=1)
    axes[0].set_title("content loss", fontsize=9)
    if "d_loss" in log and np.any(np.isfinite(log["d_loss"])):
        axes[1].plot(s, log["d_loss"], lw=1, label="D loss")
        axes[1].plot(s, log["adv_loss"], lw=1, label="G adversarial loss (-log D(G))")
        axes[1].axhline(2 * np.log(2), color="0.5", ls=":", lw=1, label="2 log 2")
        axes[1].set_yscale("log")
        axes[1].legend(fontsize=7)
        axes[2].plot(s, log["d_real"], lw=1, label="D(real)")
        axes[2].plot(s, log["d_fake"], lw=1, label="D(fake)")
        axes[2].plot(s, log["d_acc"], lw=1, label="D accuracy")
        axes[2].set_ylim(-0.03, 1.03)
        axes[2].legend(fontsize=7)
    axes[1].set_title("the adversarial game", fontsize=9)
    axes[2].set_title("discriminator", fontsize=9)
    if val and len(val.get("step", [])):
        axes[3].plot(val["step"], val["psnr"], "o-", ms=4, label="this run")
        if reference_psnr is not None:
            axes[3].axhline(reference_psnr, color="0.5", ls="--", lw=1, label=reference_label)
        axes[3].legend(fontsize=7)
        dataset = val["dataset"][0] if "dataset" in val and len(val["dataset"]) else ""
        axes[3].set_title(f"validation PSNR (dB, {dataset})", fontsize=9)
    else:
        axes[3].plot(s, log["lr"], lw=1)
        axes[3].set_yscale("log")
        axes[3].set_title("learning rate", fontsize=9)
    for ax in axes:
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        if mark_step is not None:
            ax.axvline(mark_step, color="0.6", ls="--", lw=1)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
