"""The dataset registry: which standard SR sets ``srgan data`` knows and where each comes from.

The registry is data, not code: ``datasets.json`` (one entry per set: sources, image count,
citation, licence, layout, which hashes are known) and ``manifests.json`` (per-file SHA-256 of the
reference copies, equal to their ``SHA256SUMS``), both shipped inside the package.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from srgan_lib.errors import UserError

__all__ = ["Source", "Dataset", "DATASETS", "get_dataset", "is_known"]

_HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Source:
    """Where (part of) a dataset comes from.

    ``kind`` is ``"zip"``, ``"tar"`` (any compression) or ``"files"``.  For an archive,
    ``urls`` are mirrors of one archive, ``sha256``/``md5`` its hash (``None``: unknown),
    ``members`` the folder inside the archive holding the images (``None``: the archive
    root, or its only top-level folder).  For ``"files"``, ``urls`` are templates with a
    ``{stem}`` field, one download per file of the dataset's manifest (the local name is
    the stem plus the URL's extension); ``per_file_sha256`` says whether the manifest's
    hashes are those of the downloaded bytes.  The images land in ``NAME/<dest>/``.
    ``check_manifest``: check an archive's extracted files against the manifest.
    """
    urls: tuple[str, ...]
    kind: str
    dest: str = "HR"
    sha256: str | None = None
    md5: str | None = None
    members: str | None = None
    per_file_sha256: bool = False
    check_manifest: bool = False

    @property
    def hashes_known(self) -> bool:
        """Whether every downloaded file is covered by a known hash (its own or its archive's)."""
        return bool(self.sha256 or self.md5 or self.per_file_sha256 or self.check_manifest)


@dataclass(frozen=True)
class Dataset:
    """One registered set.  ``images`` is the expected number of images after download."""
    name: str
    kind: str                      # "test", "train" or "valid"
    images: int
    sources: tuple[Source, ...]
    citation: str                  # short form, for ``srgan data list``
    reference: str                 # full citation
    licence: str
    layout: str                    # where the images are after download
    hash_note: str                 # which hashes are real and where they come from
    provenance: str = ""
    see_also: tuple[str, ...] = ()  # other well-known mirrors (not used automatically)
    manifest: dict = field(default_factory=dict, compare=False, repr=False)  # relpath -> sha256


def _load_registry() -> dict[str, Dataset]:
    entries = json.loads((_HERE / "datasets.json").read_text())["datasets"]
    manifests = json.loads((_HERE / "manifests.json").read_text())
    out = {}
    for e in entries:
        sources = tuple(Source(**{**s, "urls": tuple(s["urls"])}) for s in e.pop("sources"))
        e["see_also"] = tuple(e.get("see_also", ()))
        out[e["name"]] = Dataset(sources=sources, manifest=manifests.get(e["name"], {}), **e)
    return out


DATASETS: dict[str, Dataset] = _load_registry()


def get_dataset(name: str) -> Dataset:
    """The registry entry for ``name`` (case-insensitive); :class:`UserError` naming the known sets."""
    if name in DATASETS:
        return DATASETS[name]
    for key, ds in DATASETS.items():
        if key.lower() == str(name).lower():
            return ds
    raise UserError(f"unknown dataset {name!r} (known: {', '.join(DATASETS)})")


def is_known(name) -> bool:
    """Whether ``name`` is a registered dataset (case-insensitive)."""
    return any(key.lower() == str(name).lower() for key in DATASETS)
