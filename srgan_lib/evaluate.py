"""Paper-style evaluation: PSNR/SSIM tables on the benchmark sets (``srgan eval``).

Protocol of Ledig et al. (2017), Sec. 3.1 (and of the SR literature): the HR
image is mod-cropped to the scale, the LR image is its MATLAB-bicubic downscale
rounded to uint8 (Sec. 3; :mod:`srgan_lib.degrade`), the method's SR output is a
uint8 image, and PSNR/SSIM are computed on the BT.601 Y channel after removing
a ``scale``-pixel border (:mod:`srgan_lib.metrics`).

Gray test images (a single-channel file, such as Set14's ``bridge``) follow the literature's
MATLAB scripts, which convert only 3-channel images to Y: the method gets the gray image
replicated to RGB, and its output is scored on gray levels against the gray ground truth
(:func:`srgan_lib.metrics.to_gray`).  ``gray_as_rgb=True`` (``--gray-as-rgb``) scores it like a
colour image instead, on the Y of the replicated RGB, as Python pipelines that read every image
as RGB do; that adds exactly ``20 log10(255/219)`` dB to such an image's PSNR.

A method that reproduces an image exactly has an infinite PSNR there: the dataset's ``psnr`` is
the mean over the other images, and ``identical`` counts those left out (the JSON output writes
an infinite PSNR as ``null``).

Examples::

    srgan eval --dataset Set5,Set14,BSD100 --model nearest,bicubic
    srgan eval --dataset Set5 --model bicubic --json
    srgan eval --dataset Set5 --model srgan-vgg54 --feature-distance 22,54
    srgan eval --dataset Set5,Set14,BSD100 --model bicubic,srgan-vgg54 --lpips
    srgan eval --dataset path/to/folder --model runs/srgan --save-dir out/

``--save-dir DIR`` writes the SR images to ``DIR/<dataset>/<model>_x<scale>/<name>.png``
and never overwrites an existing file unless ``--overwrite`` is given; every target is
checked before any work.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from collections import Counter
from pathlib import Path
from typing import Sequence

import numpy as np

from srgan_lib.artefacts import artefact_energy, lr_consistency
from srgan_lib.atomic import make_dir, refuse_existing
from srgan_lib.data.benchmark import EVAL_BYTES_PER_PIXEL, GENERATOR_BYTES_PER_PIXEL, EvalSet, load_eval_set
from srgan_lib.degrade import DEGRADATIONS, degrade, modcrop
from srgan_lib.errors import UserError
from srgan_lib.images import write_image
from srgan_lib.methods import BASELINES, HR_METHOD, eval_bytes_per_pixel, make_method
from srgan_lib.metrics import psnr, ssim, to_gray

# EvalSet, load_eval_set (srgan_lib.data.benchmark) and make_method (srgan_lib.methods) are imported here
# for the callers that know them as evaluate's
__all__ = ["EvalSet", "load_eval_set", "make_method", "feature_distance", "evaluate", "format_table",
           "to_json", "file_label", "save_paths", "feature_layer_keys", "lpips_net_keys", "BASELINES", "HR_METHOD", "EVAL_BYTES_PER_PIXEL",
           "GENERATOR_BYTES_PER_PIXEL", "eval_bytes_per_pixel"]

FEATURE_LAYERS = ("22", "54")
#: LPIPS backbones (:mod:`srgan_lib.lpips`) -> the result key of their distance
LPIPS_KEYS = {"alex": "lpips", "vgg": "lpips_vgg"}
SSIM_WINDOW = 11  # the SSIM window (Wang et al. 2004): the cropped image must be at least this big


# --------------------------------------------------------------------------- methods
def feature_distance(sr_uint8, hr_uint8, layer: str = "54", weights=None, features=None) -> float:
    """:func:`srgan_lib.vgg.feature_distance` (imported when called: ``srgan eval`` without VGG
    distances starts no Keras backend)."""
    from srgan_lib import vgg

    return vgg.feature_distance(sr_uint8, hr_uint8, layer, weights=weights, features=features)


def file_label(label: str) -> str:
    """A method or dataset label as a file name: the last path part, no weights suffix, safe characters."""
    label = Path(label.rstrip("/\\")).name or label
    for suffix in (".weights.h5", ".keras", ".h5"):
        if label.endswith(suffix):
            label = label[: -len(suffix)]
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", label).strip("._") or "model"


# --------------------------------------------------------------------------- evaluation
def feature_layer_keys(feature_layers) -> tuple[str, ...]:
    """The VGG layers ``feature_layers`` names ("22", "54", "vgg54", ...) as keys of FEATURE_LAYERS, once each."""
    layers = list(feature_layers or ())
    out = []
    for layer in layers:
        key = str(layer).lower().removeprefix("vgg")
        if key not in FEATURE_LAYERS:
            raise UserError(f"feature distance layer must be one of {', '.join(FEATURE_LAYERS)}, got {layer!r}")
        if key not in out:
            out.append(key)
    return tuple(out)


def lpips_net_keys(lpips) -> tuple[str, ...]:
    """The LPIPS backbones that ``lpips`` names: None/False/"" none, True ``("alex",)``, a name or names."""
    if lpips is None or lpips is False or lpips == "":
        return ()
    if lpips is True:
        return ("alex",)
    names = [lpips] if isinstance(lpips, str) else list(lpips)
    from srgan_lib.lpips import net_name

    out = []
    for name in names:
        key = net_name(name)
        if key is None:
            raise UserError(f"LPIPS network must be alex or vgg, got {name!r}")
        if key not in out:
            out.append(key)
    return tuple(out)


def _as_items(dataset, scale: int, dataset_name) -> tuple[str, list, frozenset]:
    """(label, [(name, hr)], gray names) of a dataset name/folder or a list of (name, hr) pairs."""
    if isinstance(dataset, (str, os.PathLike)):
        dataset = load_eval_set(dataset, scale)
    items = list(dataset)
    gray = set(getattr(dataset, "gray", ()))
    label = dataset_name or getattr(dataset, "name", None) or "custom"
    out = []
    for name, hr in items:
        hr = np.asarray(hr)
        if hr.ndim == 2:  # a gray image given as (H, W)
            gray.add(name)
            hr = np.repeat(hr[:, :, None], 3, axis=2)
        if hr.dtype != np.uint8 or hr.ndim != 3 or hr.shape[2] != 3:
            raise UserError(f"{label}/{name}: expected a uint8 (H,W,3) or (H,W) HR image, "
                            f"got {hr.dtype} {hr.shape}")
        hr = modcrop(hr, scale)
        least = 2 * scale + SSIM_WINDOW
        if min(hr.shape[:2]) < least:
            raise UserError(f"{label}/{name}: {hr.shape[1]}x{hr.shape[0]} (mod-cropped) is too small to "
                            f"evaluate at x{scale}: SSIM needs at least {least}x{least} pixels")
        out.append((name, hr))
    if not out:
        raise UserError(f"dataset {label!r} has no images")
    return label, out, frozenset(gray)


def save_paths(save_dir, names: list[str], label: str) -> list[Path]:
    """Where the SR images of ``names`` go in ``save_dir``; two images of one name are a UserError."""
    repeated = [n for n, k in Counter(names).items() if k > 1]
    if repeated:
        raise UserError(f"{label}: several images are named {repeated[0]!r}; their SR images would "
                        "overwrite each other in the save folder")
    return [Path(save_dir) / f"{name}.png" for name in names]


def _mean_psnr(values: list[float]) -> tuple[float, int]:
    """(mean PSNR over the images that differ from HR, number of identical images)."""
    finite = [v for v in values if math.isfinite(v)]
    return (float(np.mean(finite)) if finite else float("inf")), len(values) - len(finite)


def evaluate(dataset, method, scale: int = 4, degradation: str = "bicubic", save_dir=None,
             overwrite: bool = False, dataset_name: str | None = None, feature_layers=(),
             gray_as_rgb: bool = False, artefacts: bool = False,
             lpips=()) -> dict:
    """Evaluate one method on one dataset with the paper's protocol (Sec. 3.1).

    ``dataset`` is a name/folder (see :func:`load_eval_set`), an :class:`EvalSet`, or a list of
    ``(name, hr_uint8)`` pairs (``(H, W)`` arrays are gray images; ``dataset_name`` labels it);
    ``method`` is a spec for :func:`make_method` or a callable ``lr uint8 -> sr uint8``.  Returns
    ``{"dataset", "model", "scale", "n", "psnr", "ssim", "identical", "gray", "images": [{"name",
    "psnr", "ssim"}, ...]}``: PSNR in dB on Y (gray images: on gray levels, unless
    ``gray_as_rgb``), border ``scale``; ``psnr`` is the mean over the images that differ from HR
    and ``identical`` the number of the others (PSNR ``inf``); ``ssim`` the mean over all images;
    ``gray`` the names of the images scored on gray levels.  With ``save_dir`` the SR images are
    written to ``save_dir/<name>.png`` (existing files are an error unless ``overwrite``).  Each
    layer of ``feature_layers`` (``"22"``, ``"54"``) adds ``"vgg<layer>"`` to each row and to the
    result: :func:`feature_distance`, on the training's scale.  ``artefacts`` adds the measures of
    :mod:`srgan_lib.artefacts` to each row and (as means) to the result: ``lr_psnr`` (the SR image
    degraded again against its LR input, dB, RGB; ``inf`` when equal; the mean over the finite
    ones), ``color_offset`` (the largest absolute per-channel mean offset, 0..255 levels; per row
    also ``color_offset_rgb``) and ``artefact_energy`` (energy at the pixel-shuffle frequencies
    divided by HR's).  ``lpips`` (``"alex"``, ``"vgg"``, both, or True for ``"alex"``) adds the
    LPIPS distance to HR (:func:`srgan_lib.lpips.lpips_distance`: RGB in [-1, 1], whole image) as
    ``"lpips"`` (AlexNet) and ``"lpips_vgg"`` (VGG16) to each row and, as means, to the result, with
    the protocol in ``"lpips_protocol"``.
    """
    scale = int(scale)
    if degradation not in DEGRADATIONS:
        raise UserError(f"unknown degradation {degradation!r}; choose one of {', '.join(DEGRADATIONS)}")
    layers = feature_layer_keys(feature_layers)
    nets = lpips_net_keys(lpips)
    label, images, gray = _as_items(dataset, scale, dataset_name)
    if isinstance(method, str) and method.strip() == HR_METHOD:
        model, fn = HR_METHOD, None  # the reference itself: where the measures' perfect values lie
    elif isinstance(method, str):
        model, fn = method, make_method(method, scale)
    else:
        fn = method
        model = getattr(method, "name", None) or getattr(method, "__name__", None) or "custom"
    targets = None
    if save_dir is not None:
        targets = save_paths(save_dir, [name for name, _ in images], label)
        refuse_existing(targets, overwrite)
        make_dir(save_dir)
    scored_gray = [] if gray_as_rgb else [name for name, _ in images if name in gray]
    if layers:
        from srgan_lib import vgg

        features = {layer: vgg.vgg_features(layer) for layer in layers}  # built once, before any work
    if nets:
        from srgan_lib import lpips as lpips_metric

        for net in nets:
            lpips_metric.lpips_model(net)  # weights found (or a one-line error) before any work
    rows = []
    for i, (name, hr) in enumerate(images):
        lr = degrade(hr, scale, degradation)
        sr = hr.copy() if fn is None else np.asarray(fn(lr))
        if sr.dtype != np.uint8 or sr.shape != hr.shape:
            raise ValueError(f"{label}/{name}: method {model!r} returned {sr.dtype} {sr.shape}, "
                             f"expected uint8 {hr.shape}")
        a, b = (to_gray(sr), to_gray(hr)) if name in scored_gray else (sr, hr)
        row = {"name": name, "psnr": psnr(a, b, border=scale), "ssim": ssim(a, b, border=scale)}
        for layer in layers:
            row[f"vgg{layer}"] = vgg.feature_distance(sr, hr, features=features[layer])
        for net in nets:
            row[LPIPS_KEYS[net]] = lpips_metric.lpips_distance(sr, hr, net)
        if artefacts:
            back = lr_consistency(sr, lr, scale, degradation)
            row.update(lr_psnr=back.psnr, color_offset=back.offset_max, color_offset_rgb=list(back.offset),
                       artefact_energy=artefact_energy(sr, hr, scale))
        rows.append(row)
        if targets is not None:
            write_image(targets[i], sr, overwrite=overwrite)
    mean_psnr, identical = _mean_psnr([r["psnr"] for r in rows])
    result = {"dataset": label, "model": model, "scale": scale, "n": len(rows), "psnr": mean_psnr,
              "ssim": float(np.mean([r["ssim"] for r in rows])), "identical": identical,
              "gray": scored_gray, "images": rows}
    for layer in layers:
        result[f"vgg{layer}"] = float(np.mean([r[f"vgg{layer}"] for r in rows]))
    for net in nets:
        result[LPIPS_KEYS[net]] = float(np.mean([r[LPIPS_KEYS[net]] for r in rows]))
    if nets:
        result["lpips_protocol"] = lpips_metric.PROTOCOL
    if artefacts:
        result["lr_psnr"] = _mean_psnr([r["lr_psnr"] for r in rows])[0]
        result["color_offset"] = float(np.mean([r["color_offset"] for r in rows]))
        result["artefact_energy"] = float(np.mean([r["artefact_energy"] for r in rows]))
    return result


# --------------------------------------------------------------------------- output
def _finite_or_none(obj):
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite_or_none(v) for v in obj]
    return obj


def to_json(results) -> str:
    """Valid JSON of a result or a list of results: an infinite PSNR (identical images) is ``null``."""
    return json.dumps(_finite_or_none(results), indent=2, allow_nan=False)


def _grid(results: Sequence[dict]):
    datasets, models = [], []
    for r in results:
        if r["dataset"] not in datasets:
            datasets.append(r["dataset"])
        if r["model"] not in models:
            models.append(r["model"])
    cell = {(r["model"], r["dataset"]): r for r in results}
    return datasets, models, cell


#: the measures of :mod:`srgan_lib.artefacts` in the tables: key -> (column title, decimals)
ARTEFACT_COLUMNS = {"lr_psnr": ("LR-PSNR", 2), "color_offset": ("COLOR", 2), "artefact_energy": ("GRID", 2)}


def _feature_keys(results: Sequence[dict]) -> list[str]:
    keys = [f"vgg{layer}" for layer in FEATURE_LAYERS if any(f"vgg{layer}" in r for r in results)]
    keys += [k for k in LPIPS_KEYS.values() if any(k in r for r in results)]
    return keys + [k for k in ARTEFACT_COLUMNS if any(k in r for r in results)]


def _title(key: str) -> str:
    if key in ARTEFACT_COLUMNS:
        return ARTEFACT_COLUMNS[key][0]
    return key.upper().replace("_", "-")


def _width(key: str) -> int:
    return max(8, len(_title(key)))


def _number(key: str, value: float) -> str:
    if key in ARTEFACT_COLUMNS:
        return "inf" if value == math.inf else f"{value:.{ARTEFACT_COLUMNS[key][1]}f}"
    return f"{value:.4f}"


def _identical_note(results: Sequence[dict]) -> str:
    parts = [f"{r['model']} on {r['dataset']}: {r['identical']} of {r['n']}"
             for r in results if r.get("identical")]
    return ("images reproduced exactly (PSNR inf) are left out of the PSNR mean (" + "; ".join(parts) + ")"
            if parts else "")


def format_table(results: Sequence[dict], style: str = "text", degradation: str | None = None) -> str:
    """Paper-style table (rows = methods, columns = dataset PSNR/SSIM and every VGG distance in the
    results); style text|markdown|csv."""
    datasets, models, cell = _grid(results)
    scale = results[0]["scale"] if results else 4
    fkeys = _feature_keys(results)
    note = _identical_note(results)

    def val(m, d, key):
        r = cell.get((m, d))
        if r is None or key not in r:
            return ""
        return {"psnr": f"{r[key]:.2f}", "ssim": f"{r[key]:.4f}"}.get(key, _number(key, r[key]))

    if style == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["dataset", "model", "scale", "n", "psnr", "ssim"] + fkeys + ["identical"])
        for r in results:
            w.writerow([r["dataset"], r["model"], r["scale"], r["n"], f"{r['psnr']:.4f}", f"{r['ssim']:.4f}"]
                       + [(f"{r[k]:.5f}" if k not in ARTEFACT_COLUMNS else _number(k, r[k])) if k in r else ""
                          for k in fkeys] + [r.get("identical", 0)])
        return buf.getvalue().rstrip("\n")
    keys = ["psnr", "ssim"] + fkeys
    if style == "markdown":
        names = {"psnr": "PSNR", "ssim": "SSIM"}
        head = "| Method | " + " | ".join(f"{d} {names.get(k, _title(k))}" for d in datasets for k in keys) + " |"
        sep = "|---|" + "---:|" * (len(keys) * len(datasets))
        lines = [head, sep]
        for m in models:
            lines.append(f"| {m} | " + " | ".join(val(m, d, k) for d in datasets for k in keys) + " |")
        return "\n".join(lines + ([f"\n{note[0].upper()}{note[1:]}."] if note else []))
    mw = max([len("Method")] + [len(m) for m in models])
    cw = 16 + sum(1 + _width(k) for k in fkeys)
    title = f"x{scale} super-resolution, PSNR [dB] / SSIM on Y, {scale}-pixel border"
    if degradation:
        title += f", {degradation} LR"
    vkeys = [k for k in fkeys if k.startswith("vgg")]
    if vkeys:
        title += f"; {'/'.join(k.upper() for k in vkeys)} = VGG feature distance to HR"
    lkeys = [k for k in fkeys if k.startswith("lpips")]
    if lkeys:
        title += (f"; {'/'.join(_title(k) for k in lkeys)} = LPIPS v0.1 to HR (AlexNet; -VGG: VGG16), RGB in "
                  "[-1, 1], whole image")
    if any(k in ARTEFACT_COLUMNS for k in fkeys):
        title += ("; LR-PSNR = SR degraded again vs LR (RGB), COLOR = largest mean channel offset of that "
                  "(levels), GRID = energy at the pixel-shuffle frequencies / HR's")
    line1 = " " * mw + "".join(f"  {d:^{cw}}" for d in datasets)
    line2 = f"{'Method':<{mw}}" + "".join(
        f"  {'PSNR':>7} {'SSIM':>8}" + "".join(f" {_title(k):>{_width(k)}}" for k in fkeys) for _ in datasets)
    lines = [title, line1.rstrip(), line2]
    for m in models:
        lines.append(f"{m:<{mw}}" + "".join(
            f"  {val(m, d, 'psnr'):>7} {val(m, d, 'ssim'):>8}" + "".join(f" {val(m, d, k):>{_width(k)}}" for k in fkeys)
            for d in datasets))
    return "\n".join(lines + ([f"note: {note}"] if note else []))
