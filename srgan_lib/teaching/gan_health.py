"""Chapter 5's look at a failed GAN run: where its artefacts are, and the CPU experiments of issue #19.

* :func:`colour_excess` / :func:`colour_window` / :func:`flat_window`: the chroma an SR image has
  beyond the HR image's, the ``size`` x ``size`` window with the most of it (chroma speckle), and the
  flattest window of the HR image (where a regular grid shows); :func:`zoom` enlarges a window by pixel repetition, so that the
  artefacts are seen pixel by pixel.
* :func:`loss_change_for_added_energy`: what a content loss says when a generator adds a random
  period-4 pattern or white noise of a few grey levels to its output: a loss that *falls* pays
  the generator for energy wherever it is;
* :func:`recipe_experiments`: the shipped measurements of the recipe experiments
  (``training_logs/gan-recipe/``: one row per run and checkpoint, written by ``bench/gan_recipe.py``)
  and their training logs.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from scipy import ndimage

__all__ = ["colour_excess", "colour_window", "flat_window", "zoom", "loss_change_for_added_energy", "recipe_experiments",
           "EXPERIMENTS_DIR"]

#: the folder of the recipe experiments inside the shipped training logs
EXPERIMENTS_DIR = "gan-recipe"


def _best_box(score: np.ndarray, size: int, largest: bool) -> tuple[int, int, int]:
    mean = ndimage.uniform_filter(score.astype(np.float64), size=size, mode="constant")
    h, w = score.shape
    half = size // 2
    valid = mean[half:h - size + half + 1, half:w - size + half + 1]
    flat = np.argmax(valid) if largest else np.argmin(valid)
    top, left = np.unravel_index(flat, valid.shape)
    return int(top), int(left), size


def _chroma(img) -> np.ndarray:
    x = np.asarray(img, np.float64)
    return np.abs(x - x.mean(axis=2, keepdims=True)).sum(axis=2)


def colour_excess(sr, hr) -> np.ndarray:
    """Per pixel, the chroma ``sr`` has beyond ``hr``'s (chroma: the sum over the three channels of
    their distances from the pixel's grey mean, in grey levels; 0 where ``sr`` has no more)."""
    return np.maximum(_chroma(sr) - _chroma(hr), 0)


def colour_window(sr, hr, size: int = 32) -> tuple[int, int, int]:
    """``(top, left, size)`` of the window where ``sr`` has the most chroma beyond ``hr``'s."""
    return _best_box(colour_excess(sr, hr), size, largest=True)


def flat_window(hr, size: int = 32) -> tuple[int, int, int]:
    """``(top, left, size)`` of the window where ``hr``'s luminance varies least (but is not clipped)."""
    y = np.asarray(hr, np.float64).mean(axis=2)
    local_var = ndimage.uniform_filter(y ** 2, size=5) - ndimage.uniform_filter(y, size=5) ** 2
    clipped = (y < 8) | (y > 247)
    return _best_box(local_var + 1e6 * clipped, size, largest=False)


def zoom(img, box, factor: int = 4) -> np.ndarray:
    """The window ``box`` of ``img``, every pixel repeated ``factor`` x ``factor`` times."""
    top, left, size = box
    w = np.asarray(img)[top:top + size, left:left + size]
    return np.repeat(np.repeat(w, factor, axis=0), factor, axis=1)


def loss_change_for_added_energy(features, sr, hr, rms: float = 4.0, seed: int = 0) -> dict:
    """``{"grid": d, "noise": d}``: the change of the content loss ``features`` (None: pixel MSE) of
    the uint8 image ``sr`` against ``hr`` when a random period-4 pattern (one zero-mean random
    4 x 4 x 3 tile repeated), or white Gaussian noise, of ``rms`` grey levels is added to ``sr``."""
    from keras import ops

    from srgan_lib import losses

    rng = np.random.default_rng(seed)
    x = np.asarray(sr, np.float64)
    h, w = x.shape[:2]
    tile = rng.normal(0, 1, (4, 4, 3))
    tile -= tile.mean(axis=(0, 1))
    grid = np.tile(tile, (-(-h // 4), -(-w // 4), 1))[:h, :w]
    added = {"grid": grid * rms / grid.std(), "noise": rng.normal(0, rms, x.shape)}

    def loss(img):
        a = (np.clip(img, 0, 255)[None] / 127.5 - 1).astype("float32")
        b = (np.asarray(hr, np.float64)[None] / 127.5 - 1).astype("float32")
        return float(ops.convert_to_numpy(losses.content_loss(features, a, b)))

    base = loss(x)
    return {k: loss(x + v) - base for k, v in added.items()}


def _read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def recipe_experiments(root=None) -> dict | None:
    """``{"measures": [row, ...], "logs": {run: {column: array}}}`` of the shipped recipe
    experiments, or None when they are not shipped with this copy of the library."""
    from srgan_lib import weights
    from srgan_lib.teaching.runlog import read_log

    base = Path(root) if root is not None else weights.shipped_dir()
    folder = None if base is None else base / "training_logs" / EXPERIMENTS_DIR
    if folder is None or not (folder / "measures.csv").is_file():
        return None
    measures = _read_csv(folder / "measures.csv")
    for row in measures:
        for k, v in row.items():
            if k not in ("run", "flags"):
                row[k] = float(v) if v not in ("", None) else float("nan")
    logs = {p.stem: read_log(p) for p in sorted(folder.glob("*.csv")) if p.name != "measures.csv"}
    return {"measures": measures, "logs": logs}
