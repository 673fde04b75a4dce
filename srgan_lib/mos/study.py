"""Preparing a blinded MOS study (``srgan mos prepare``), as in Ledig et al. 2017, Sec. 3.4.

Every benchmark image is shown in the version of every method, plus nearest neighbour (NN) and
the HR original, the paper's anchors.  LR images are the bicubic degradation of the
(mod-cropped) HR images.  Before the study each rater is calibrated on images separate from the
study (:mod:`srgan_lib.mos.calibration`).  The items are written blind
(:mod:`srgan_lib.mos.blind`); ``manifest.json``, the only key to them, stays with the analyst.
"""
from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

import numpy as np

from srgan_lib.atomic import atomic_dir, remove_stale_temporaries
from srgan_lib.errors import OutputExistsError, UserError
from srgan_lib.images import center_crop
from srgan_lib.mos import blind, stats
from srgan_lib.mos import calibration as calib
from srgan_lib.mos.calibration import CALIBRATION_DATASET, CALIBRATION_IMAGES
from srgan_lib.mos.files import (ANCHORS, FORMAT_VERSION, PUBLIC_FORMAT, SCORE_LABELS, STUDY_FORMAT,
                                 new_rater_key, now, token_for, write_json)
from srgan_lib.mos.page import write_rater_page

#: rater pages written by default (enough to reach alpha = 0.05 for up to 7 methods under study)
DEFAULT_RATERS = 10
#: pages larger than this reference ``items/*.png`` instead of embedding them (``embed="auto"``)
EMBED_LIMIT_BYTES = 25 * 1024 * 1024


def parse_methods(methods) -> list[tuple[str, str]]:
    """``["nearest", "bicubic", "gan=runs/x"]`` -> ``[(label, spec)]`` with NN first and HR last."""
    if isinstance(methods, str):
        methods = methods.split(",")
    out: list[tuple[str, str]] = []
    for m in methods:
        m = str(m).strip()
        if not m:
            continue
        if "=" in m:
            label, spec = (s.strip() for s in m.split("=", 1))
        else:
            label, spec = m, m
            if "/" in m or os.sep in m:
                label = Path(m.rstrip("/" + os.sep)).name or m
        if not label or not spec:
            raise UserError(f"invalid method {m!r}: use SPEC or LABEL=SPEC")
        if label.lower() in ("nn", "nearest"):
            label, spec = "nearest", "nearest"
        if label.lower() == "hr":
            label, spec = "hr", "hr"
        if label not in [lab for lab, _ in out]:
            out.append((label, spec))
    labels = [lab for lab, _ in out]
    if "nearest" not in labels:
        out.insert(0, ("nearest", "nearest"))
    if "hr" not in labels:
        out.append(("hr", "hr"))
    return out


def _sr_sources(datasets, methods, scale, crop, progress, hr_digests: set):
    """Yield (dataset, image, method, uint8 image) for every item; record each HR's digest."""
    from srgan_lib.degrade import degrade
    from srgan_lib.data.benchmark import load_eval_set
    from srgan_lib.methods import eval_bytes_per_pixel, make_method

    fns = {label: make_method(spec, scale) for label, spec in methods if spec != "hr"}
    cost = eval_bytes_per_pixel(spec for _, spec in methods if spec != "hr")
    for ds in datasets:
        images = load_eval_set(ds, scale, cost)
        progress(f"{ds}: {len(images)} images x {len(methods)} methods")
        for name, hr in images:
            hr_digests.add(calib.picture_digest(hr))
            lr = degrade(hr, scale, "bicubic")
            for label, spec in methods:
                sr = hr if spec == "hr" else np.asarray(fns[label](lr))
                if sr.shape != hr.shape:
                    raise UserError(f"method {label!r} returned shape {sr.shape} for {ds}/{name}, "
                                    f"expected {hr.shape}")
                yield ds, name, label, center_crop(sr, crop)


def planning_warning(n_raters: int, labels, alpha: float = stats.ALPHA) -> str | None:
    """A warning when ``n_raters`` cannot make the default Holm family significant at ``alpha``."""
    family = stats.default_family_size(labels)
    if family == 0 or stats.family_reachable(n_raters, family, alpha):
        return None
    need = stats.raters_needed(family, alpha)
    return (f"warning: with {n_raters} raters the smallest attainable two-sided Wilcoxon p is "
            f"{stats.min_attainable_p(n_raters):.3g} (x{family} with Holm over {family} comparisons): "
            f"no comparison can reach alpha={alpha:g}; plan at least {need} raters "
            f"(more pages: srgan mos page STUDY_DIR RATER)")


def _check_out(out: Path, overwrite: bool) -> None:
    if not out.exists():
        return
    if not out.is_dir():
        raise OutputExistsError(f"{out} exists and is not a folder")
    if not any(out.iterdir()):
        return
    if not overwrite:
        raise OutputExistsError(f"study folder {out} already exists (use --overwrite to replace it)")
    if not (out / "manifest.json").is_file():
        raise OutputExistsError(f"{out} is not empty and is not a MOS study (no manifest.json); "
                                "refusing to replace it")
    ratings = out / "ratings"
    if ratings.is_dir() and any(ratings.iterdir()):
        raise OutputExistsError(f"{out} already holds ratings in {ratings}; move them away before --overwrite")


def prepare_study(datasets, methods, out, *, raters: int = DEFAULT_RATERS, seed: int = 0,
                  calibration: int = CALIBRATION_IMAGES, calibration_dataset: str | None = None,
                  crop: int | None = None, scale: int = 4, embed: str = "auto", overwrite: bool = False,
                  sources=None, calibration_sources=None, progress=print) -> dict:
    """Build a blinded MOS study in the folder ``out`` and return its manifest.

    ``datasets``: names or folders for :func:`srgan_lib.data.benchmark.load_eval_set`; ``methods``:
    specs for :func:`srgan_lib.methods.make_method` (``LABEL=SPEC`` to name one); ``nearest``
    and ``hr`` are always added.  ``crop``: centre-crop every version to at most ``crop`` x
    ``crop`` pixels (same region for all methods).  ``raters``: rater pages ``r01``...;
    a warning (through ``progress``) says when they are too few for any comparison to reach
    significance.  ``seed`` fixes the raters' orders and the choice of calibration images (it
    is no secret: the item ids are).  ``calibration``: number of calibration images, each shown
    as NN (score 1) and HR (score 5) before the study, drawn from ``calibration_dataset``
    (default ``BSD200``, the paper's BSDS300 training images); images that are also study
    images are left out, and a calibration item byte-identical to a study item is refused.
    ``embed``: ``"yes"`` embeds the images in each page as data URIs (one file to send),
    ``"no"`` references ``items/<id>.png``, ``"auto"`` embeds while a page stays under 25 MB.

    ``sources`` / ``calibration_sources`` replace the image pipeline (tests): iterables of
    ``(dataset, image, method, uint8)`` and ``(image, nn_uint8, hr_uint8)``.
    """
    if isinstance(datasets, str):
        datasets = [d.strip() for d in datasets.split(",") if d.strip()]
    datasets = [str(d) for d in datasets]
    if not datasets:
        raise UserError("no dataset given")
    method_specs = parse_methods(methods)
    if raters < 0:
        raise UserError("--raters must be >= 0")
    if calibration < 0:
        raise UserError("--calibration must be >= 0")
    if embed not in ("auto", "yes", "no"):
        raise UserError(f"--embed must be auto, yes or no, not {embed!r}")
    if crop is not None and crop < 8:
        raise UserError("--crop must be at least 8 pixels")
    calibration_dataset = calibration_dataset or CALIBRATION_DATASET
    out = Path(out)
    _check_out(out, overwrite)
    labels = [lab for lab, _ in method_specs]
    cal_files = calib.find_files(calibration_dataset) if calibration > 0 and calibration_sources is None else []
    warning = planning_warning(raters, labels)
    if warning:
        progress(warning)
    remove_stale_temporaries(out)  # what a killed prepare left beside the study
    with atomic_dir(out, overwrite=out.exists()) as root:
        manifest = _build(root, datasets, method_specs, raters=raters, seed=seed, calibration=calibration,
                          calibration_dataset=calibration_dataset, crop=crop, scale=scale, embed=embed,
                          sources=sources, calibration_sources=calibration_sources, cal_files=cal_files,
                          progress=progress)
        family = stats.default_family_size(labels)
        manifest["planning"] = {"alpha": stats.ALPHA, "holm_family_size": family,
                                "raters_needed": stats.raters_needed(family), "warning": warning}
        write_json(root / "manifest.json", manifest)
    return manifest


def _build(root: Path, datasets, method_specs, *, raters, seed, calibration, calibration_dataset, crop,
           scale, embed, sources, calibration_sources, cal_files, progress) -> dict:
    rater_dir = root / "rater"
    items_dir = rater_dir / "items"
    staging = root / ".staging"  # generation order lives only here, and goes
    for d in (items_dir, root / "ratings", staging):
        d.mkdir(parents=True)
    used: set[str] = set()
    staged: dict[str, Path] = {}
    study_bytes: set[str] = set()  # sha256 of every study item's PNG

    def stage(data: bytes) -> str:
        i = blind.new_id(used)
        staged[i] = staging / f"{len(staged)}.png"
        staged[i].write_bytes(data)
        return i

    labels = [lab for lab, _ in method_specs]
    items: dict[str, dict] = {}
    hr_digests: set[str] = set()
    if sources is None:
        sources = _sr_sources(datasets, method_specs, scale, crop, progress, hr_digests)
    seen = set()
    for ds, name, method, img in sources:
        if method not in labels:
            raise UserError(f"unknown method {method!r} in sources")
        if (ds, name, method) in seen:
            raise UserError(f"duplicate study item {(ds, name, method)}")
        seen.add((ds, name, method))
        data = blind.png_bytes(img)
        study_bytes.add(hashlib.sha256(data).hexdigest())
        items[stage(data)] = {"dataset": ds, "image": name, "method": method}
    if not items:
        raise UserError("the study has no images")

    cal_items: dict[str, dict] = {}
    pairs: list[list[str]] = []
    if calibration > 0:
        if calibration_sources is None:  # after the study images: their digests are known now
            calibration_sources = calib.images(calibration_dataset, cal_files, calibration, seed, scale, crop,
                                               hr_digests, progress)
        for name, nn, hr in calibration_sources:
            if len(pairs) == calibration:
                break
            nn_png, hr_png = blind.png_bytes(nn), blind.png_bytes(hr)
            if {hashlib.sha256(nn_png).hexdigest(), hashlib.sha256(hr_png).hexdigest()} & study_bytes:
                raise UserError(f"calibration image {name!r} of {calibration_dataset} is byte-identical to a "
                                f"study item; calibration images must be separate from the study "
                                f"(default: {CALIBRATION_DATASET})")
            nn_id, hr_id = stage(nn_png), stage(hr_png)
            cal_items[nn_id] = {"dataset": calibration_dataset, "image": name, "method": "nearest",
                                "anchor": ANCHORS["nearest"]}
            cal_items[hr_id] = {"dataset": calibration_dataset, "image": name, "method": "hr",
                                "anchor": ANCHORS["hr"]}
            pairs.append([nn_id, hr_id])
        if len(pairs) < calibration:
            progress(f"note: only {len(pairs)} calibration images available (asked for {calibration})")
    sizes = blind.write_items(items_dir, staged)
    staging.rmdir()

    study_id = secrets.token_hex(8)
    rater_key = new_rater_key()
    write_json(rater_dir / "study.json", {
        "format": PUBLIC_FORMAT, "version": FORMAT_VERSION, "study_id": study_id, "seed": seed,
        "items": sorted(items),  # sorted random ids: a random order
        "calibration_pairs": sorted(pairs), "calibration_count": len(pairs),
        "scores": {str(k): v for k, v in SCORE_LABELS.items()},
    })
    embed_flag = sum(sizes.values()) * 4 / 3 < EMBED_LIMIT_BYTES if embed == "auto" else embed == "yes"
    rater_ids = [f"r{k:02d}" for k in range(1, raters + 1)]
    manifest = {
        "format": STUDY_FORMAT, "version": FORMAT_VERSION, "study_id": study_id, "created": now(),
        "scale": scale, "degradation": "bicubic", "seed": seed, "crop": crop,
        "datasets": datasets, "methods": labels, "method_specs": dict(method_specs),
        "anchors": dict(ANCHORS), "calibration": {"images": len(pairs), "dataset": calibration_dataset},
        "embed": bool(embed_flag), "raters": rater_ids, "rater_key": rater_key,
        "items": items, "calibration_items": cal_items,
    }
    for r in rater_ids:
        write_rater_page(root, r, embed=embed_flag, token=token_for(rater_key, study_id, r))
    page = (rater_dir / f"rate_{rater_ids[0]}.html").stat().st_size if rater_ids else 0
    progress(f"study {study_id}: {len(items)} items, {len(pairs)} calibration images, "
             f"{len(rater_ids)} rater pages ({'embedded' if embed_flag else 'referencing items/'}, "
             f"{page / 1e6:.1f} MB each)")
    return manifest
