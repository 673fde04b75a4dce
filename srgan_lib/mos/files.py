"""The files of a MOS study: formats, the folder layout, and a JSON reader that trusts no file.

::

    STUDY_DIR/manifest.json   analyst only: the secret item ids -> (dataset, image, method), and
                              the secret key of the rater tokens
    STUDY_DIR/rater/          what the raters receive: study.json, items/<id>.png, rate_<rater>.html
    STUDY_DIR/ratings/        where the rating files are collected

Each invited rater's page carries a *rater token*, an HMAC of the study id and the rater id under
the study's secret key (:func:`rater_token`); the ratings file it writes carries the token, and
``srgan mos aggregate`` counts only files whose token it can verify: ratings under invented or
borrowed rater ids are refused.

Every JSON file the library reads (rating files come from outside) goes through :func:`read_json`:
a size limit checked before reading, UTF-8 only, and numbers, nesting and keys checked while
parsing, so that a malformed file is one :class:`~srgan_lib.errors.UserError` naming it.
"""
from __future__ import annotations

import codecs
import datetime as _dt
import hashlib
import hmac
import json
import math
import re
import reprlib
import secrets
from pathlib import Path

from srgan_lib.atomic import atomic_write
from srgan_lib.errors import InputNotFoundError, UserError

FORMAT_VERSION = 1
RATINGS_FORMAT = "sr-mos-ratings"
STUDY_FORMAT = "sr-mos-study"
PUBLIC_FORMAT = "sr-mos-public"
#: anchor methods, always part of a study, with the score they stand for in calibration
ANCHORS = {"nearest": 1, "hr": 5}
SCORE_LABELS = {1: "bad", 2: "poor", 3: "fair", 4: "good", 5: "excellent"}
#: JSON integers with more digits, and other numbers with more characters, are refused while parsing
MAX_INT_DIGITS, MAX_NUMBER_CHARS = 18, 40

_RATER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
#: bytes of the study's secret rater key (``manifest.json``'s ``rater_key``, hex)
RATER_KEY_BYTES = 32
_short_repr = reprlib.Repr()
_short_repr.maxstring = _short_repr.maxother = 40
_short_repr.maxlevel, _short_repr.maxlist, _short_repr.maxdict = 2, 3, 3


def short(value) -> str:
    """``repr(value)`` cut to a few dozen characters, for error messages about untrusted values."""
    return _short_repr.repr(value)


def check_rater_id(rater_id) -> str:
    if not isinstance(rater_id, str) or not _RATER_ID.fullmatch(rater_id):
        raise UserError(f"invalid rater id {short(rater_id)}: use 1-64 letters, digits, '_', '.' or '-'")
    return rater_id


def new_rater_key() -> str:
    """A fresh secret key for a study's rater tokens (``secrets.token_hex``)."""
    return secrets.token_hex(RATER_KEY_BYTES)


def token_for(key: str, study_id: str, rater_id: str) -> str:
    """The rater token of ``rater_id``: HMAC-SHA256 of ``"<study id>:<rater id>"`` under ``key``."""
    check_rater_id(rater_id)
    return hmac.new(bytes.fromhex(key), f"{study_id}:{rater_id}".encode("utf-8"), hashlib.sha256).hexdigest()


def rater_token(manifest: dict, rater_id: str) -> str | None:
    """The token that the rating page of ``rater_id`` carries and its ratings file must carry,
    computed from the study's secret ``rater_key`` (only the analyst's ``manifest.json`` has it);
    None for a study prepared before tokens existed."""
    key = manifest.get("rater_key")
    if not isinstance(key, str) or not re.fullmatch(r"[0-9a-f]{64}", key):
        return None
    return token_for(key, manifest["study_id"], rater_id)


def now() -> str:
    """The current UTC time as ``2025-01-01T12:00:00.000Z`` (the format the rating page writes)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_json(path, obj, overwrite: bool = True) -> Path:
    data = (json.dumps(obj, indent=1) + "\n").encode("utf-8")
    return atomic_write(path, lambda tmp: tmp.write_bytes(data), overwrite=overwrite)


class _Refused(Exception):
    """Raised by the parse hooks of :func:`read_json`; becomes a UserError naming the file."""


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _Refused(f"a number with {len(text.lstrip('-'))} digits")
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(f"a number of {len(text)} characters")
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"a number out of range ({text[:20]}{'...' if len(text) > 20 else ''})")
    return value


def _parse_constant(name: str):
    raise _Refused(f"a non-finite number ({name})")


def _object(pairs) -> dict:
    out = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"the key {short(key)} twice in one object")
        out[key] = value
    return out


def read_json(path, *, max_bytes: int, what: str = "JSON file"):
    """Parse the JSON file ``path`` (at most ``max_bytes``); every problem is a one-line
    :class:`UserError` (:class:`InputNotFoundError` for a missing file) naming the file.

    Refused: a file over ``max_bytes`` (before it is read), anything but a regular file, text
    that is not UTF-8 (a UTF-8 byte-order mark is allowed, as RFC 8259 permits), invalid
    JSON, nesting deeper than Python's recursion limit, ``NaN``/``Infinity``, numbers that
    overflow a float, numbers longer than :data:`MAX_INT_DIGITS` digits (integers) or
    :data:`MAX_NUMBER_CHARS` characters, and a key repeated in one object (which JSON parsers
    resolve differently).
    """
    path = Path(path)

    def bad(msg):
        return UserError(f"{path}: {msg}")

    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputNotFoundError(f"{path}: no such file") from None
    except OSError as exc:
        raise bad(f"cannot read it ({exc.strerror or type(exc).__name__})") from None
    if not path.is_file():
        raise bad(f"not a regular file (expected a {what})")
    if st.st_size > max_bytes:
        raise bad(f"{st.st_size} bytes, larger than the {max_bytes} bytes a {what} may have")
    try:
        with open(path, "rb") as f:
            raw = f.read(max_bytes + 1)  # the file may have grown since stat()
    except OSError as exc:
        raise bad(f"cannot read it ({exc.strerror or type(exc).__name__})") from None
    if len(raw) > max_bytes:
        raise bad(f"larger than the {max_bytes} bytes a {what} may have")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)):  # UTF-32 LE too
        raise bad(f"not UTF-8 text (UTF-16 or UTF-32 byte-order mark); save the {what} as UTF-8")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise bad(f"not UTF-8 text (byte {exc.start}); expected a {what}") from None
    try:
        return json.loads(text, parse_int=_parse_int, parse_float=_parse_float,
                          parse_constant=_parse_constant, object_pairs_hook=_object)
    except json.JSONDecodeError as exc:
        raise bad(f"not valid JSON ({exc.msg}: line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        raise bad("not a usable JSON file: nested too deeply") from None
    except _Refused as exc:
        raise bad(f"not a usable JSON file: it holds {exc}") from None


#: the analyst's manifest and the public study.json hold one entry per item; far below this
MAX_STUDY_FILE_BYTES = 64 * 1024 * 1024


def public_dir(study_dir) -> Path:
    """The folder the raters receive: ``STUDY_DIR/rater`` (or a rater folder given directly)."""
    study_dir = Path(study_dir)
    if (study_dir / "rater" / "study.json").is_file():
        return study_dir / "rater"
    if (study_dir / "study.json").is_file():
        return study_dir
    raise InputNotFoundError(f"{study_dir} is not a MOS study folder (no rater/study.json)")


def load_public(study_dir) -> dict:
    """The public study description ``rater/study.json`` (what every rater receives)."""
    path = public_dir(study_dir) / "study.json"
    data = read_json(path, max_bytes=MAX_STUDY_FILE_BYTES, what="MOS study description")
    if not isinstance(data, dict) or data.get("format") != PUBLIC_FORMAT:
        raise UserError(f"{path}: not a MOS study description (format is not {PUBLIC_FORMAT!r})")
    return data


def load_manifest(study_dir) -> dict:
    """The analyst's ``manifest.json``: study id, methods, datasets, and the secret item table."""
    path = Path(study_dir) / "manifest.json"
    if not path.is_file():
        raise InputNotFoundError(f"{path} not found: {study_dir} is not a MOS study folder")
    m = read_json(path, max_bytes=MAX_STUDY_FILE_BYTES, what="MOS study manifest")
    if not isinstance(m, dict) or m.get("format") != STUDY_FORMAT:
        raise UserError(f"{path}: not a MOS study manifest (format is not {STUDY_FORMAT!r})")
    return m
