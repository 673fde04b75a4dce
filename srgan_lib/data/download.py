"""Downloading a registered dataset into the cache, every file checked (``srgan data download``).

Files are fetched with :func:`keras.utils.get_file`.  The dataset folder ``NAME/`` is built with
:func:`srgan_lib.atomic.atomic_dir`: it appears under its final name only after every file is
downloaded, checked and extracted, so a partial or corrupt download is never taken for a complete
one (archives and their extraction go to a hidden ``.NAME.download-*`` folder of the cache,
removed afterwards).  A set that is already cached is returned at once, without network.

Every file of every registered set is checked:

* by its own SHA-256 (``Source.per_file_sha256``: the manifest's hash of the downloaded bytes), or
  by the hash of its archive (``Source.sha256`` / ``md5``), and
* otherwise (no hash of these bytes is known) by decoding it as an image
  (:func:`srgan_lib.images.read_image`): an HTML error page saved under an image name is refused;
* and the set must hold exactly the registry's number of images.

A failed check is a one-line error naming the file; nothing is left in the cache.  Failed
transfers (connection dropped, fewer bytes than ``Content-Length``) are retried.  Archives are
checked member by member before extraction: a member that would land outside the target folder
(``..``, an absolute path, a drive letter) or that is a link or a device is refused.
"""
from __future__ import annotations

import os
import re
import stat
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path, PurePosixPath

from srgan_lib.atomic import atomic_dir, make_dir
from srgan_lib.data.cache import dataset_images, default_cache_dir
from srgan_lib.data.registry import Dataset, Source, get_dataset
from srgan_lib.data.verify import file_digest, verify_dataset
from srgan_lib.errors import InputNotFoundError, OutputExistsError, UserError
from srgan_lib.images import ImageReadError, read_image

__all__ = ["download_dataset", "safe_extract", "RETRY_DELAY_S"]

RETRY_DELAY_S = 1.0  # seconds before the 2nd try; doubles each further try (tests set 0)


def _fetch(urls, dest_dir: Path, fname: str, *, sha256=None, md5=None, retries: int = 3) -> Path:
    """Download one file with ``keras.utils.get_file`` into ``dest_dir`` and check its hash.

    Every try downloads afresh (``force_download``): a file left by a failed try is never
    reused.  Transfer errors are retried ``retries`` times over all mirrors
    (:class:`InputNotFoundError` after the last); a hash mismatch deletes the file and raises
    :class:`UserError` at once.
    """
    from keras.utils import get_file

    target = dest_dir / fname
    failures = []
    for attempt in range(max(1, retries)):
        if attempt:
            time.sleep(RETRY_DELAY_S * 2 ** (attempt - 1))
        for url in urls:
            try:
                got = Path(get_file(fname=fname, origin=url, cache_dir=str(dest_dir),
                                    cache_subdir=str(dest_dir), force_download=True))
            except KeyboardInterrupt:
                target.unlink(missing_ok=True)
                raise
            except Exception as exc:  # keras re-raises every URL error as a bare Exception; retried
                target.unlink(missing_ok=True)
                failures.append(f"{url}: {exc}")
                continue
            for algorithm, expected in (("sha256", sha256), ("md5", md5)):
                if expected:
                    actual = file_digest(got, algorithm)
                    if actual != expected.lower():
                        got.unlink(missing_ok=True)
                        raise UserError(f"{algorithm} mismatch for {fname} downloaded from {url}: "
                                        f"expected {expected.lower()}, got {actual} (file deleted)")
            return got
    raise InputNotFoundError(f"could not download {fname} after {max(1, retries)} tries: "
                             + "; ".join(failures[-3:]))


def _check_decodes(files, ds: Dataset, where: str) -> None:
    """Every file must decode as an image (no hash of these bytes is known)."""
    for f in files:
        try:
            read_image(f)
        except ImageReadError as exc:
            raise UserError(f"{ds.name}: {Path(f).name} downloaded from {where} is not an image "
                            f"({exc.reason}); the server may have answered with an error page") from None


def _member_problem(name: str) -> str | None:
    n = name.replace("\\", "/")
    if n.startswith("/") or re.match(r"^[A-Za-z]:", n):
        return "absolute path"
    if ".." in PurePosixPath(n).parts:
        return "'..' in the path"
    return None


def safe_extract(archive: Path, dest: Path, kind: str = "auto") -> None:
    """Extract a zip/tar archive into ``dest``, refusing (:class:`UserError`) any member that
    would escape ``dest`` (``..``, absolute path, drive letter) or is a link / device."""
    archive, dest = Path(archive), Path(dest)
    make_dir(dest)
    root = os.path.realpath(dest)

    def check(name, problem=None):
        problem = problem or _member_problem(name)
        if problem is None:
            target = os.path.realpath(os.path.join(root, name))
            if os.path.commonpath([root, target]) != root:
                problem = "resolves outside the target folder"
        if problem:
            raise UserError(f"refusing to extract {str(archive)!r}: member {name!r} would escape "
                            f"the target folder or is unsafe ({problem})")

    if kind == "zip" or (kind == "auto" and zipfile.is_zipfile(archive)):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                mode = info.external_attr >> 16
                check(info.filename, "symbolic link" if stat.S_ISLNK(mode) else None)
            zf.extractall(dest)
        return
    try:
        tf = tarfile.open(archive, "r:*")
    except tarfile.TarError as exc:
        raise UserError(f"{str(archive)!r} is not a zip or tar archive ({exc})") from None
    with tf:
        for m in tf.getmembers():
            kind_problem = None if (m.isfile() or m.isdir()) else (
                "link" if (m.issym() or m.islnk()) else "special file")
            check(m.name, kind_problem)
        tf.extractall(dest, filter="data")


def _manifest_stems(ds: Dataset, dest: str) -> list[str]:
    prefix = f"{dest}/" if dest else ""
    stems = [PurePosixPath(k[len(prefix):]).stem for k in ds.manifest
             if k.startswith(prefix) and "/" not in k[len(prefix):]]
    if not stems:
        raise UserError(f"{ds.name}: a 'files' source needs a manifest listing the files")
    return sorted(stems)


def _fetch_files(ds: Dataset, src: Source, target: Path, retries: int) -> None:
    prefix = f"{src.dest}/" if src.dest else ""
    for stem in _manifest_stems(ds, src.dest):
        urls = [u.format(stem=stem) for u in src.urls]
        fname = stem + PurePosixPath(urls[0].split("?")[0]).suffix
        sha = ds.manifest.get(prefix + fname) if src.per_file_sha256 else None
        if src.per_file_sha256 and sha is None:
            raise UserError(f"{ds.name}: {prefix + fname} is not in the manifest")
        got = _fetch(urls, target, fname, sha256=sha, retries=retries)
        if not src.per_file_sha256:
            _check_decodes([got], ds, urls[0])


def _fetch_archive(ds: Dataset, src: Source, target: Path, scratch: Path, retries: int) -> None:
    if src.kind not in ("zip", "tar"):
        raise UserError(f"{ds.name}: unknown source kind {src.kind!r}")
    fname = PurePosixPath(src.urls[0].split("?")[0]).name or f"{ds.name}.{src.kind}"
    archive = _fetch(src.urls, make_dir(scratch / "downloads"), fname, sha256=src.sha256, md5=src.md5,
                     retries=retries)
    extracted = scratch / "extract"
    safe_extract(archive, extracted, src.kind)
    archive.unlink()
    folder = extracted / src.members if src.members else extracted
    if not src.members and not dataset_images(folder):
        subdirs = [p for p in folder.iterdir() if p.is_dir()]
        if len(subdirs) == 1:
            folder = subdirs[0]
    files = dataset_images(folder)
    if not files:
        raise UserError(f"{ds.name}: no images at {src.members or '/'} in {fname}")
    if not (src.sha256 or src.md5):
        _check_decodes(files, ds, src.urls[0])
    for f in files:
        os.replace(f, target / f.name)


def download_dataset(name: str, *, cache_dir=None, force: bool = False, retries: int = 3) -> Path:
    """Download a registered dataset into ``cache_dir/NAME`` (atomically) and return that folder.

    Already cached with the registry's number of images (and not ``force``): returned at once,
    without network.  A cached folder holding another number of images is an error (``force``
    downloads the set again and replaces it).
    """
    ds = get_dataset(name)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    final = cache / ds.name
    if not force and final.is_dir():
        n = len(dataset_images(final))
        if n == ds.images:
            return final
        if n or any(final.iterdir()):
            raise OutputExistsError(f"{str(final)!r} holds {n} images, not the {ds.images} of {ds.name}; "
                                    "remove it or download again with --force")
        final.rmdir()  # an empty folder: take its place
    make_dir(cache)
    with atomic_dir(final, overwrite=force) as out, \
            tempfile.TemporaryDirectory(prefix=f".{ds.name}.download-", dir=cache) as scratch:
        for src in ds.sources:
            target = make_dir(out / src.dest) if src.dest else out
            if src.kind == "files":
                _fetch_files(ds, src, target, retries)
            else:
                _fetch_archive(ds, src, target, Path(scratch), retries)
            if src.check_manifest:
                report = verify_dataset(out, manifest=ds.manifest)
                if not report.ok:
                    raise UserError(f"{ds.name}: the downloaded files do not match the manifest: "
                                    f"{report.summary()}")
        n = len(dataset_images(out))
        if n != ds.images:
            raise UserError(f"{ds.name}: the download holds {n} images, the registry expects {ds.images}"
                            " (nothing was kept)")
    return final
