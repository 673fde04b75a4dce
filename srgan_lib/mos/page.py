"""The rating page: one self-contained HTML file per rater (``rater/rate_<rater>.html``).

It works from ``file://`` with no server: keys 1-5 or clicks, progress kept in the browser's
localStorage, and "Download ratings" saves the ratings file (:mod:`srgan_lib.mos.ratings`).  The
page embeds the rater's sequence (:func:`srgan_lib.mos.sequence.rater_sequence`) as item ids and
image sources only: data URIs of the item files, or ``items/<id>.png``.
"""
from __future__ import annotations

import base64
import html
import json
from importlib import resources
from pathlib import Path

from srgan_lib.atomic import atomic_write, refuse_existing
from srgan_lib.mos.files import (FORMAT_VERSION, RATINGS_FORMAT, SCORE_LABELS, check_rater_id, load_manifest,
                                 load_public, public_dir, rater_token)
from srgan_lib.mos.sequence import rater_sequence

TEMPLATE = "mos_rater.html"
_MARKER = "/*__STUDY_DATA__*/null"


def _template() -> str:
    return resources.files("srgan_lib.mos").joinpath(TEMPLATE).read_text(encoding="utf-8")


def write_rater_page(study_dir, rater_id: str, *, embed: bool | None = None, overwrite: bool = False,
                     token: str | None = None) -> Path:
    """Write ``rater/rate_<rater_id>.html`` and return its path.

    ``embed``: data URIs (True) or ``items/<id>.png`` references (False); None keeps the
    study's choice (``manifest.json``'s ``embed``, else False).  ``token``: the rater token the
    page puts into its ratings file; None computes it from ``manifest.json``
    (:func:`srgan_lib.mos.files.rater_token`), so a page for a new rater needs the analyst's
    manifest.  An existing page is an :class:`~srgan_lib.errors.OutputExistsError` unless
    ``overwrite``.
    """
    check_rater_id(rater_id)
    pub_dir = public_dir(study_dir)
    public = load_public(study_dir)
    manifest = load_manifest(study_dir) if (Path(study_dir) / "manifest.json").is_file() else None
    if token is None and manifest is not None:
        token = rater_token(manifest, rater_id)
    if embed is None:
        embed = bool(manifest and manifest.get("embed"))
    path = pub_dir / f"rate_{rater_id}.html"
    refuse_existing([path], overwrite)
    cal, items = rater_sequence(public, rater_id)

    def src(i: str) -> str:
        if embed:
            data = (pub_dir / "items" / f"{i}.png").read_bytes()
            return "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        return f"items/{i}.png"

    data = {
        "version": FORMAT_VERSION, "format": RATINGS_FORMAT, "study_id": public["study_id"],
        "rater_id": rater_id, "rater_token": token, "scores": public.get("scores", {str(k): v for k, v in SCORE_LABELS.items()}),
        "calibration": [{"id": i, "anchor": a, "src": src(i)} for i, a in cal],
        "items": [{"id": i, "src": src(i)} for i in items],
    }
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    page = _template()
    if _MARKER not in page:
        raise RuntimeError(f"{TEMPLATE} has no data marker")
    page = page.replace(_MARKER, payload).replace("__TITLE__", html.escape(f"Image quality rating — {rater_id}"))
    encoded = page.encode("utf-8")
    return atomic_write(path, lambda tmp: tmp.write_bytes(encoded), overwrite=overwrite)
