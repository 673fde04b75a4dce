"""Simulated raters, to demonstrate and test the analysis of a MOS study (never as results).

Every file says ``"simulated": true`` and ``"client": SIMULATED_CLIENT``;
:func:`srgan_lib.mos.aggregate` lists the simulated raters and :func:`srgan_lib.mos.format_report`
prints a ``SIMULATED: ...`` line.
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np

from srgan_lib.atomic import make_dir, refuse_existing
from srgan_lib.errors import UserError
from srgan_lib.mos.files import (FORMAT_VERSION, RATINGS_FORMAT, check_rater_id, load_manifest, rater_token,
                                 write_json)

#: latent mean scores (before rater bias, noise, rounding and clipping to 1..5) that
#: :func:`simulate_ratings` uses for the anchors and the bicubic baseline when ``true_means``
#: does not give them; roughly the paper's Table 2 MOS (NN 1.11-1.28 ... HR 4.32-4.46, bicubic 1.47-1.95)
SIMULATION_DEFAULT_MEANS = {"nearest": 1.3, "bicubic": 2.0, "hr": 4.5}
SIMULATED_CLIENT = "srgan_lib.mos.simulate_ratings (SIMULATED ratings: not human judgements)"


def simulate_ratings(study_dir, raters: int = 26, seed: int = 0, noise: float = 0.6, true_means=None, *,
                     rater_sd: float = 0.3, adversarial: int = 0, out_dir=None, prefix: str = "sim",
                     overwrite: bool = False) -> list[Path]:
    """Write ratings files of SIMULATED raters for a prepared study; returns their paths.

    Model: rater ``r`` scores item ``i`` (method ``m``) as
    ``clip(round(true_means[m] + b_r + e_ri), 1, 5)`` with a rater bias ``b_r ~ N(0, rater_sd)``
    and per-rating noise ``e_ri ~ N(0, noise)`` (one ``numpy.random.default_rng(seed)``: for each
    rater, the bias, then the noise of every study item in manifest order).  ``true_means`` maps
    each method of the study to its latent mean; it is merged over
    :data:`SIMULATION_DEFAULT_MEANS` (NN, bicubic, HR), and a study method with no mean is a
    :class:`~srgan_lib.errors.UserError`.  ``adversarial`` extra raters (``adv0``, ...) score
    NN 5, HR 1 and the rest 3, which the calibration check flags.  Raters are ``{prefix}00``,
    ``{prefix}01``, ...; the files go to ``out_dir`` (default ``STUDY_DIR/ratings/simulated/``),
    ``<rater>.json``, and an existing file is an ``OutputExistsError`` unless ``overwrite``.
    Timestamps are fake (2000-01-01, one second per rating, one hour per rater).
    """
    manifest = load_manifest(study_dir)
    raters, adversarial = int(raters), int(adversarial)
    if raters < 0 or adversarial < 0 or raters + adversarial < 1:
        raise UserError(f"need at least one rater (raters={raters}, adversarial={adversarial})")
    if noise < 0 or rater_sd < 0:
        raise UserError(f"noise and rater_sd must be >= 0, got {noise}, {rater_sd}")
    means = {**SIMULATION_DEFAULT_MEANS, **(true_means or {})}
    missing = [m for m in manifest["methods"] if m not in means]
    if missing:
        raise UserError(f"true_means gives no latent mean for the study's method(s) {', '.join(missing)} "
                        f"(known: {', '.join(means)})")
    out = Path(out_dir) if out_dir is not None else Path(study_dir) / "ratings" / "simulated"
    ids = [check_rater_id(f"{prefix}{r:02d}") for r in range(raters)] + [f"adv{a}" for a in range(adversarial)]
    paths = [out / f"{rid}.json" for rid in ids]
    refuse_existing(paths, overwrite)
    make_dir(out)
    rng = np.random.default_rng(seed)
    base = _dt.datetime(2000, 1, 1, tzinfo=_dt.timezone.utc)
    items = manifest["items"]
    for k, (rid, path) in enumerate(zip(ids, paths)):
        if k < raters:
            bias = rng.normal(0, rater_sd)
            scores = {i: int(np.clip(np.rint(means[it["method"]] + bias + rng.normal(0, noise)), 1, 5))
                      for i, it in items.items()}
        else:
            scores = {i: {"nearest": 5, "hr": 1}.get(it["method"], 3) for i, it in items.items()}
        ratings = [{"item": i, "score": sc,
                    "time": (base + _dt.timedelta(hours=k, seconds=n)).isoformat(timespec="milliseconds")
                    .replace("+00:00", "Z")} for n, (i, sc) in enumerate(scores.items())]
        write_json(path, {
            "format": RATINGS_FORMAT, "version": FORMAT_VERSION, "study_id": manifest["study_id"],
            "rater_id": rid, **({"rater_token": token} if (token := rater_token(manifest, rid)) else {}),
            "simulated": True, "client": SIMULATED_CLIENT,
            "simulation": {"seed": int(seed), "noise": float(noise), "rater_sd": float(rater_sd),
                           "true_means": {m: float(means[m]) for m in manifest["methods"]},
                           "adversarial": k >= raters},
            "ratings": ratings})
    return paths
