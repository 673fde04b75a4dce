"""Checking a dataset folder against a per-file SHA-256 manifest (``srgan data verify``).

A manifest maps a path relative to the dataset folder (``HR/baby.png``) to the SHA-256 of the
file; the registry ships one per set whose reference copy is known (``manifests.json``), and any
``sha256sum`` output file (``SHA256SUMS``) can be given instead.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from srgan_lib.data.cache import cached_folder, default_cache_dir
from srgan_lib.data.registry import get_dataset, is_known
from srgan_lib.errors import InputNotFoundError, UserError

__all__ = ["file_digest", "read_sha256sums", "VerifyReport", "verify_dataset"]


def file_digest(path, algorithm: str = "sha256") -> str:
    """The hex digest of a file's bytes (:func:`hashlib.file_digest`)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, algorithm).hexdigest()


def read_sha256sums(path) -> dict[str, str]:
    """Parse a ``sha256sum`` output file into ``{relative path: hex digest}``.

    :class:`InputNotFoundError` for a missing file, :class:`UserError` naming the file and line
    for a line that is not ``<64 hex digits> <path>``.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise InputNotFoundError(f"manifest file not found: {str(path)!r}") from None
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise UserError(f"{str(path)!r} is not a sha256sum manifest ({type(exc).__name__})") from None
    out = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        digest = parts[0].lower()
        if len(parts) != 2 or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise UserError(f"{str(path)!r} line {number} is not '<sha256> <file>': {line[:80]!r}")
        out[parts[1].lstrip("*").strip()] = digest
    if not out:
        raise UserError(f"{str(path)!r} lists no file")
    return out


@dataclass
class VerifyReport:
    """The outcome of :func:`verify_dataset`: files checked, missing and with another SHA-256."""
    folder: Path
    checked: int = 0
    missing: list = field(default_factory=list)
    mismatched: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.checked > 0 and not self.missing and not self.mismatched

    def summary(self) -> str:
        s = f"{self.checked - len(self.missing) - len(self.mismatched)}/{self.checked} files OK"
        if self.missing:
            s += f", {len(self.missing)} missing (e.g. {self.missing[0]})"
        if self.mismatched:
            s += f", {len(self.mismatched)} with a different sha256 (e.g. {self.mismatched[0]})"
        return s


def verify_dataset(name_or_dir, *, manifest: dict | None = None, cache_dir=None) -> VerifyReport:
    """Check a cached dataset (or a folder) against a per-file SHA-256 manifest.

    Without ``manifest`` the registry's is used: that of the name, or of a folder named like a
    registered set.  :class:`UserError` when no manifest is known, :class:`InputNotFoundError`
    when the set is not cached.
    """
    spec = os.fspath(name_or_dir)
    folder = Path(spec).expanduser()
    if manifest is None:
        key = folder.name if folder.is_dir() else spec
        if not is_known(key):
            raise UserError(f"{spec!r} is not a registered dataset; give --manifest to verify a folder")
        ds = get_dataset(key)
        manifest = ds.manifest
        if not manifest:
            raise UserError(f"{ds.name}: no per-file manifest is known ({ds.hash_note})")
    if not folder.is_dir():
        cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        folder = cached_folder(spec, cache)
        if folder is None:
            raise InputNotFoundError(f"dataset {spec} is not in the cache {str(cache)!r}")
    report = VerifyReport(folder)
    for rel, digest in sorted(manifest.items()):
        report.checked += 1
        f = folder / rel
        if not f.is_file():
            report.missing.append(rel)
        elif file_digest(f) != digest.lower():
            report.mismatched.append(rel)
    return report
