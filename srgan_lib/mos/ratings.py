"""Rating files: validation (they come from outside and are trusted in nothing) and de-duplication.

The rating page and the notebook rater both write::

    {"format": "sr-mos-ratings", "version": 1, "study_id": "...", "rater_id": "r01",
     "ratings": [{"item": "3f9a1c0d5e7b", "score": 4, "time": "2025-01-01T12:00:00.000Z"}, ...]}

plus ``rater_token`` (the token of the rater's page: :func:`verified`), and optional ``client``
(text), ``calibrated`` and ``simulated`` (booleans) and ``simulation`` (an object).  :func:`load_ratings` refuses a file larger than :data:`MAX_RATINGS_BYTES` before
reading it, parses it with :func:`srgan_lib.mos.files.read_json`, and checks every field; any
problem is one :class:`~srgan_lib.errors.UserError` line naming the file, and nothing of that
file is used.
"""
from __future__ import annotations

import datetime as _dt
import hmac
import json
from dataclasses import dataclass, field
from pathlib import Path

from srgan_lib.errors import UserError
from srgan_lib.mos.files import FORMAT_VERSION, RATINGS_FORMAT, check_rater_id, rater_token, read_json, short

#: a ratings file is refused above this size (tens of thousands of ratings; no study has that many items)
MAX_RATINGS_BYTES = 4 * 1024 * 1024
#: longest accepted ``time``, ``client`` and ``rater_token`` strings
MAX_TIME_CHARS, MAX_CLIENT_CHARS, MAX_TOKEN_CHARS = 40, 200, 128


@dataclass
class RatingsFile:
    path: Path
    rater_id: str
    ratings: list[dict]
    client: str = ""
    notes: list[str] = field(default_factory=list)
    simulated: bool = False  # written by simulate_ratings, not by a person
    token: str | None = None  # the rater token the file carries (checked by verify_token)


def _check_time(t) -> str | None:
    """None if ``t`` is an ISO 8601 time string, else what is wrong with it."""
    if not isinstance(t, str):
        return f"missing timestamp (got {short(t)})" if t is None else f"timestamp {short(t)} is not a string"
    if len(t) > MAX_TIME_CHARS:
        return f"timestamp of {len(t)} characters"
    try:
        _dt.datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        return f"bad timestamp {short(t)}"
    return None


def load_ratings(path, manifest: dict) -> RatingsFile:
    """Read and validate one ratings file of the study ``manifest``.

    Checked: the format name and version, the study id, the rater id, that ``ratings`` is a
    list of objects each with a known study item id (a string; calibration items are not rated),
    an integer score 1..5 (not a boolean; ``4.0`` is read as 4), an ISO 8601 timestamp, and no
    item twice.
    """
    path = Path(path)

    def bad(msg):
        return UserError(f"{path}: {msg}")

    data = read_json(path, max_bytes=MAX_RATINGS_BYTES, what="MOS ratings file")
    if not isinstance(data, dict) or data.get("format") != RATINGS_FORMAT:
        raise bad(f"not a MOS ratings file (format is not {RATINGS_FORMAT!r})")
    version = data.get("version")
    if type(version) is not int or version != FORMAT_VERSION:
        raise bad(f"unsupported ratings format version {short(version)} (expected {FORMAT_VERSION})")
    if data.get("study_id") != manifest["study_id"]:
        raise bad(f"ratings belong to study {short(data.get('study_id'))}, not to this study "
                  f"{manifest['study_id']!r}")
    rater = data.get("rater_id")
    try:
        check_rater_id(rater)
    except UserError as exc:
        raise bad(str(exc)) from None
    for key, kind in (("client", str), ("calibrated", bool), ("simulated", bool), ("simulation", dict),
                      ("rater_token", str)):
        if key in data and not isinstance(data[key], kind):
            expected = {str: "a string", bool: "true or false", dict: "an object"}[kind]
            raise bad(f"'{key}' must be {expected}, got {short(data[key])}")
    token = data.get("rater_token")
    if token is not None and len(token) > MAX_TOKEN_CHARS:
        raise bad(f"'rater_token' has {len(token)} characters (at most {MAX_TOKEN_CHARS})")
    client = data.get("client", "")
    if len(client) > MAX_CLIENT_CHARS:
        raise bad(f"'client' has {len(client)} characters (at most {MAX_CLIENT_CHARS})")
    ratings = data.get("ratings")
    if not isinstance(ratings, list):
        raise bad(f"'ratings' is not a list (got {short(ratings)})")
    if len(ratings) > len(manifest["items"]):
        raise bad(f"{len(ratings)} ratings for a study of {len(manifest['items'])} items")
    items = manifest["items"]
    seen = set()
    clean = []
    for k, r in enumerate(ratings, 1):
        if not isinstance(r, dict):
            raise bad(f"rating #{k} is not an object (got {short(r)})")
        item, score = r.get("item"), r.get("score")
        if not isinstance(item, str) or item not in items:
            raise bad(f"rating #{k}: unknown item id {short(item)}")
        if isinstance(score, bool) or not isinstance(score, (int, float)) or score not in (1, 2, 3, 4, 5):
            raise bad(f"rating #{k}: score {short(score)} is not an integer in 1..5")
        problem = _check_time(r.get("time"))
        if problem:
            raise bad(f"rating #{k}: {problem}")
        if item in seen:
            raise bad(f"item {item!r} is rated twice")
        seen.add(item)
        clean.append({"item": item, "score": int(score), "time": r["time"]})
    return RatingsFile(path=path, rater_id=rater, ratings=clean, client=client,
                       simulated=data.get("simulated", False), token=token)


def verified(f: RatingsFile, manifest: dict) -> bool:
    """Whether ``f`` carries the rater token of its rater id in this study
    (:func:`srgan_lib.mos.files.rater_token`, compared in constant time)."""
    expected = rater_token(manifest, f.rater_id)
    return expected is not None and isinstance(f.token, str) and hmac.compare_digest(f.token, expected)


def dedupe(files: list[RatingsFile]) -> tuple[list[RatingsFile], list[str]]:
    """Drop duplicate submissions: identical content (kept once) and the same rater twice
    (the file with more ratings wins; on a tie, the one whose last rating is later)."""
    notes: list[str] = []
    by_content: dict[str, RatingsFile] = {}
    kept: list[RatingsFile] = []
    for f in files:
        key = json.dumps(sorted((r["item"], r["score"], r["time"]) for r in f.ratings))
        if f.ratings and key in by_content:
            first = by_content[key]
            notes.append(f"duplicate: {f.path} has the same ratings as {first.path} "
                         f"(raters {first.rater_id!r}/{f.rater_id!r}); {f.path} ignored")
            continue
        by_content[key] = f
        kept.append(f)
    by_rater: dict[str, RatingsFile] = {}

    def rank(x):
        return len(x.ratings), max((r["time"] for r in x.ratings), default="")

    for f in kept:
        other = by_rater.get(f.rater_id)
        if other is None:
            by_rater[f.rater_id] = f
            continue
        win, lose = (f, other) if rank(f) > rank(other) else (other, f)
        notes.append(f"duplicate: rater {f.rater_id!r} submitted twice ({other.path}, {f.path}); "
                     f"kept {win.path} ({len(win.ratings)} ratings), ignored {lose.path}")
        by_rater[f.rater_id] = win
    return [f for f in kept if by_rater.get(f.rater_id) is f], notes
