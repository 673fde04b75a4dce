"""Dataset registry, download cache and training-image loading (``srgan data``).

The standard SR sets are registered in :data:`DATASETS`.  A dataset is found, in order:

1. as a local folder path (its ``HR/`` sub-folder is used when it has one);
2. as ``NAME/HR/*`` or ``NAME/*`` under the cache folder ``$SRGAN_DATA_DIR``
   (default ``~/.cache/srgan_lib/datasets``) -- no network is used then;
3. by downloading it from the registry into that cache.

Downloads go through :func:`keras.utils.get_file` into a hidden staging folder
(``.NAME.partial-*``) inside the cache; the finished ``NAME/`` folder appears with one
``os.replace`` only after every file is downloaded, hash-checked and extracted, so a
partial or corrupt download is never taken for a complete one.  Failed transfers
(connection dropped, fewer bytes than ``Content-Length``) are retried; a hash mismatch
is an error naming the file and both hashes, and the staging folder is deleted.
Archives are checked member by member before extraction: a member that would land
outside the target folder (``..``, an absolute path, a drive letter) or that is a link
or a device is refused with an error (keras' own extraction only skips such members
with a warning).

A dataset's integrity is either the hash of its archive (``Source.sha256``/``md5``) or
a per-file SHA-256 manifest (``Dataset.manifest``, shipped in ``data_manifests.json``
and equal to the ``SHA256SUMS`` of the reference copies; see ``srgan data verify``).
Where neither is known for what is downloaded, the entry says so in ``hash_note`` and
a :class:`UnverifiedDownloadWarning` is emitted once per dataset.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import stat
import tarfile
import tempfile
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from srgan_lib.images import IMAGE_EXTENSIONS, ImageReadError, list_images, read_image

__all__ = ["Source", "Dataset", "DATASETS", "DataWarning", "UnverifiedDownloadWarning",
           "default_cache_dir", "get_dataset", "resolve_dataset", "download_dataset",
           "verify_dataset", "VerifyReport", "load_training_images", "read_sha256sums",
           "is_cached", "SKIMAGE_SAMPLES", "skimage_images", "SampleImages", "sample_images",
           "add_arguments", "main"]

ENV_VAR = "SRGAN_DATA_DIR"
RETRY_DELAY_S = 1.0  # seconds before the 2nd try; doubles each further try (tests set 0)


class DataWarning(UserWarning):
    """A training/eval file was skipped (unreadable, or smaller than ``min_size``)."""


class UnverifiedDownloadWarning(UserWarning):
    """A dataset was downloaded from a source whose hash is not known."""


# ----------------------------------------------------------------------------- registry

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
    """
    urls: tuple[str, ...]
    kind: str
    dest: str = "HR"
    sha256: str | None = None
    md5: str | None = None
    members: str | None = None
    per_file_sha256: bool = False
    check_manifest: bool = False  # archives: check the extracted files against the manifest

    @property
    def verified(self) -> bool:
        return bool(self.sha256 or self.md5 or self.per_file_sha256 or self.check_manifest)


@dataclass(frozen=True)
class Dataset:
    name: str
    kind: str                      # "test", "train" or "valid"
    images: int                    # expected number of images
    sources: tuple[Source, ...]
    citation: str                  # short form, for ``srgan data list``
    reference: str                 # full citation
    licence: str
    layout: str                    # where the images are after download
    hash_note: str                 # which hashes are real and where they come from
    provenance: str = ""
    see_also: tuple[str, ...] = ()  # other well-known mirrors (not used automatically)
    manifest: dict = field(default_factory=dict, compare=False, repr=False)  # relpath -> sha256


def _load_manifests() -> dict:
    f = Path(__file__).with_name("data_manifests.json")
    return json.loads(f.read_text()) if f.is_file() else {}


_MANIFESTS = _load_manifests()

_GH = "https://raw.githubusercontent.com"
_DENOISING = f"{_GH}/majedelhelou/denoising_datasets/58234876fef6f1b56306705c78dfd40cdb837b86"
_SELFEXSR = f"{_GH}/jbhuang0604/SelfExSR/8f6dd8c1d20cb7e8792a7177b4f6fd677633f598"
_FSRCNN = f"{_GH}/yippp/FSRCNN/b82c173a998caf777ab57ea24ef8db1110458a39"
_DCSCN = f"{_GH}/jiny2001/dcscn-super-resolution/d382bc30d41c94ac72f8cb148d61cc4864b3b380"
_HF = "https://huggingface.co/datasets/eugenesiow"
_DIV2K = "http://data.vision.ee.ethz.ch/cvl/DIV2K"
# DIV2K train and valid share their citation and licence (short citation, full citation, licence).
_DIV2K_CITATION = (
    "Agustsson & Timofte, CVPRW 2017",
    "E. Agustsson, R. Timofte: NTIRE 2017 Challenge on Single Image Super-Resolution: "
    "Dataset and Study. CVPR Workshops 2017.",
    "academic research use only (DIV2K website)",
)
_NOT_BYTE_CHECKED = ("per-file SHA-256 from the manifest of the reference copy (SHA256SUMS), "
                     "assumed byte-identical to this pinned commit (not re-checked online)")

DATASETS: dict[str, Dataset] = {d.name: d for d in [
    Dataset(
        "Set5", "test", 5,
        (Source((f"{_DENOISING}/CSet5/{{stem}}.png",), "files", "HR", per_file_sha256=True),),
        "Bevilacqua et al., BMVC 2012",
        "M. Bevilacqua, A. Roumy, C. Guillemot, M.-L. Alberi Morel: Low-Complexity Single-Image "
        "Super-Resolution based on Nonnegative Neighbor Embedding. BMVC 2012.",
        "none stated; the mirror says 'collected here for convenience, no ownership claimed'",
        "Set5/HR/{baby,bird,butterfly,head,woman}.png (colour, original size, not mod-cropped)",
        _NOT_BYTE_CHECKED,
        "majedelhelou/denoising_datasets @ 58234876 CSet5/ (byte-identical to SelfExSR image_SRF_4 HR)",
        (f"{_HF}/Set5/resolve/main/data/Set5_HR.tar.gz",),
        _MANIFESTS.get("Set5", {})),
    Dataset(
        "Set14", "test", 14,
        (Source((f"{_DENOISING}/CSet14/{{stem}}.png",), "files", "HR", per_file_sha256=True),),
        "Zeyde et al., 2010",
        "R. Zeyde, M. Elad, M. Protter: On Single Image Scale-Up Using Sparse-Representations. "
        "Curves and Surfaces 2010.",
        "none stated",
        "Set14/HR/*.png (14 images, original size; bridge is grayscale, man is gray stored as RGB)",
        _NOT_BYTE_CHECKED,
        "majedelhelou/denoising_datasets @ 58234876 CSet14/",
        (f"{_HF}/Set14/resolve/main/data/Set14_HR.tar.gz",),
        _MANIFESTS.get("Set14", {})),
    Dataset(
        "BSD100", "test", 100,
        (Source((f"{_SELFEXSR}/data/BSD100/image_SRF_4/{{stem}}_SRF_4_HR.png",), "files", "HR",
                per_file_sha256=True),),
        "Martin et al., ICCV 2001",
        "D. Martin, C. Fowlkes, D. Tal, J. Malik: A Database of Human Segmented Natural Images "
        "... ICCV 2001; x4 ground truth as in J.-B. Huang, A. Singh, N. Ahuja, CVPR 2015.",
        "BSDS images: research use (Berkeley); none stated by the mirror",
        "BSD100/HR/img_001..img_100.png (480x320 / 320x480, the literature's x4 ground truth)",
        _NOT_BYTE_CHECKED,
        "jbhuang0604/SelfExSR @ 8f6dd8c1 data/BSD100/image_SRF_4/img_NNN_SRF_4_HR.png, renamed img_NNN.png",
        (f"{_HF}/BSD100/resolve/main/data/BSD100_HR.tar.gz",),
        _MANIFESTS.get("BSD100", {})),
    Dataset(
        "Urban100", "test", 100,
        (Source((f"{_HF}/Urban100/resolve/main/data/Urban100_HR.tar.gz",), "tar", "HR",
                md5="65d9d84a34b72c6f7ca1e26a12df1e4c", members="Urban100_HR"),),
        "Huang et al., CVPR 2015",
        "J.-B. Huang, A. Singh, N. Ahuja: Single Image Super-Resolution from Transformed "
        "Self-Exemplars. CVPR 2015.",
        "none stated by the mirror (research use)",
        "Urban100/HR/img_001..img_100.png",
        "archive md5 as used by deepinv's Urban100 loader (not re-checked online); no sha256 known",
        "Hugging Face eugenesiow/Urban100 data/Urban100_HR.tar.gz"),
    Dataset(
        "DIV2K", "train", 800,
        (Source((f"{_DIV2K}/DIV2K_train_HR.zip",), "zip", "HR",
                md5="bdc2d9338d4e574fe81bf7d158758658", members="DIV2K_train_HR"),),
        *_DIV2K_CITATION,
        "DIV2K/HR/0001..0800.png (2K resolution)",
        "archive md5 as used by torchvision/deepinv DIV2K loaders (several repositories agree; "
        "not re-checked online); no sha256 known",
        "official DIV2K site (ETH Zurich), as used by BasicSR and krasserm/super-resolution"),
    Dataset(
        "DIV2K-valid", "valid", 100,
        (Source((f"{_DIV2K}/DIV2K_valid_HR.zip",), "zip", "HR",
                md5="9fcdda83005c5e5997799b69f955ff88", members="DIV2K_valid_HR"),),
        *_DIV2K_CITATION,
        "DIV2K-valid/HR/0801..0900.png (2K resolution)",
        "archive md5 as used by torchvision/deepinv DIV2K loaders (not re-checked online); "
        "no sha256 known",
        "official DIV2K site (ETH Zurich)"),
    Dataset(
        "T91", "train", 91,
        (Source((f"{_FSRCNN}/dataset/train/91-images/{{stem}}.bmp",), "files", ""),),
        "Yang et al., TIP 2010",
        "J. Yang, J. Wright, T. Huang, Y. Ma: Image Super-Resolution via Sparse Representation. "
        "IEEE TIP 2010.",
        "none stated (yippp/FSRCNN has no licence file; the images are third-party)",
        "T91/t1..t66,tt1..tt27.bmp (downloaded as the source BMPs)",
        "NO hash of the source BMPs is known (download unverified); the manifest describes the "
        "lossless PNG reference copy (pixel-identical), so it verifies that copy only",
        "yippp/FSRCNN @ b82c173a dataset/train/91-images/ (byte-identical to dcscn data/yang91/)",
        (), _MANIFESTS.get("T91", {})),
    Dataset(
        "BSD200", "train", 200,
        (Source((f"{_DCSCN}/data/bsd200/{{stem}}.png",), "files", ""),),
        "Martin et al., ICCV 2001",
        "D. Martin, C. Fowlkes, D. Tal, J. Malik: A Database of Human Segmented Natural Images "
        "... ICCV 2001.",
        "BSDS images: research use (Berkeley); the mirror's code is MIT",
        "BSD200/<BSDS id>.png (481x321 / 321x481)",
        "NO verified hash of the mirror's files (download unverified); the manifest is the "
        "reference copy's SHA256SUMS, taken from this mirror -- `srgan data verify BSD200` checks it",
        "jiny2001/dcscn-super-resolution @ d382bc30 data/bsd200/",
        (), _MANIFESTS.get("BSD200", {})),
    Dataset(
        "General100", "train", 100,
        (Source((f"{_FSRCNN}/dataset/train/General-100/{{stem}}.bmp",), "files", ""),),
        "Dong et al., ECCV 2016",
        "C. Dong, C. C. Loy, X. Tang: Accelerating the Super-Resolution Convolutional Neural "
        "Network. ECCV 2016.",
        "none stated",
        "General100/im_1..im_100.bmp (downloaded as the source BMPs)",
        "NO hash of the source BMPs is known (download unverified); the manifest describes the "
        "lossless PNG reference copy (pixel-identical), so it verifies that copy only",
        "yippp/FSRCNN @ b82c173a dataset/train/General-100/",
        (), _MANIFESTS.get("General100", {})),
]}


def get_dataset(name: str) -> Dataset:
    """The registry entry for ``name`` (case-insensitive); ``KeyError`` naming the known sets."""
    if name in DATASETS:
        return DATASETS[name]
    for key, ds in DATASETS.items():
        if key.lower() == str(name).lower():
            return ds
    raise KeyError(f"unknown dataset {name!r} (known: {', '.join(DATASETS)})")


def default_cache_dir() -> Path:
    """``$SRGAN_DATA_DIR``, else ``~/.cache/srgan_lib/datasets``."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "srgan_lib" / "datasets"


# ----------------------------------------------------------------------------- lookup

def _images_in(folder: Path) -> list[Path]:
    try:
        return list_images(folder)
    except (FileNotFoundError, NotADirectoryError, ValueError):
        return []


def _dataset_images(folder: Path) -> list[Path]:
    """Images of ``folder/HR`` if it has any, else of ``folder``."""
    return _images_in(folder / "HR") or _images_in(folder)


def _cached_folder(name: str, cache: Path) -> Path | None:
    for cand in dict.fromkeys([name] + ([get_dataset(name).name] if _known(name) else [])):
        if _dataset_images(cache / cand):
            return cache / cand
    return None


def _known(name: str) -> bool:
    try:
        get_dataset(name)
        return True
    except KeyError:
        return False


def resolve_dataset(name_or_dir, *, cache_dir=None, download: bool = True) -> list[Path]:
    """Sorted image files of a folder path or of a dataset NAME (cache first, else download).

    Raises ``FileNotFoundError`` for a missing path / unknown name, ``ValueError`` for a
    folder holding no image files.
    """
    spec = os.fspath(name_or_dir)
    path = Path(spec).expanduser()
    if path.is_dir():
        files = _dataset_images(path)
        if not files:
            raise ValueError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) in folder {str(path)!r}"
                             " (nor in its HR/ sub-folder)")
        return files
    if path.exists():
        raise NotADirectoryError(f"expected a folder or a dataset name, got a file: {spec!r}")
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    folder = _cached_folder(spec, cache)
    if folder is not None:
        return _dataset_images(folder)
    if not _known(spec):
        if os.sep in spec or "/" in spec:
            raise FileNotFoundError(f"folder not found: {spec!r}")
        raise FileNotFoundError(f"{spec!r} is neither a folder nor a known dataset "
                                f"(known: {', '.join(DATASETS)}; cache: {str(cache)!r})")
    if not download:
        raise FileNotFoundError(f"dataset {get_dataset(spec).name} is not in the cache {str(cache)!r}"
                                " (run `srgan data download`)")
    return _dataset_images(download_dataset(spec, cache_dir=cache))


# ----------------------------------------------------------------------------- download

def _hash_file(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fetch(urls, dest_dir: Path, fname: str, *, sha256=None, md5=None, retries: int = 3) -> Path:
    """Download one file with ``keras.utils.get_file`` into ``dest_dir`` and check its hash.

    Every try downloads afresh (``force_download``): a file left by a failed try is never
    reused.  Transfer errors are retried ``retries`` times over all mirrors; a hash mismatch
    deletes the file and raises ``ValueError`` at once.
    """
    from keras.utils import get_file

    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / fname
    errors = []
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
            except Exception as exc:  # keras re-raises URL errors as a bare Exception
                target.unlink(missing_ok=True)
                errors.append(f"{url}: {exc}")
                continue
            for algorithm, expected in (("sha256", sha256), ("md5", md5)):
                if expected:
                    actual = _hash_file(got, algorithm)
                    if actual != expected.lower():
                        got.unlink(missing_ok=True)
                        raise ValueError(f"{algorithm} mismatch for {fname} downloaded from {url}: "
                                         f"expected {expected.lower()}, got {actual} (file deleted)")
            return got
    raise OSError(f"could not download {fname} after {max(1, retries)} tries: " + "; ".join(errors[-3:]))


def _member_problem(name: str) -> str | None:
    n = name.replace("\\", "/")
    if n.startswith("/") or re.match(r"^[A-Za-z]:", n):
        return "absolute path"
    if ".." in PurePosixPath(n).parts:
        return "'..' in the path"
    return None


def safe_extract(archive: Path, dest: Path, kind: str = "auto") -> None:
    """Extract a zip/tar archive into ``dest``, refusing (``ValueError``) any member that
    would escape ``dest`` (``..``, absolute path, drive letter) or is a link / device."""
    archive, dest = Path(archive), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    root = os.path.realpath(dest)

    def check(name, problem=None):
        problem = problem or _member_problem(name)
        if problem is None:
            target = os.path.realpath(os.path.join(root, name))
            if os.path.commonpath([root, target]) != root:
                problem = "resolves outside the target folder"
        if problem:
            raise ValueError(f"refusing to extract {str(archive)!r}: member {name!r} would escape "
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
        raise ValueError(f"{str(archive)!r} is not a zip or tar archive ({exc})") from None
    with tf:
        for m in tf.getmembers():
            kind_problem = None if (m.isfile() or m.isdir()) else (
                "link" if (m.issym() or m.islnk()) else "special file")
            check(m.name, kind_problem)
        tf.extractall(dest, filter="data")


_WARNED_UNVERIFIED: set[str] = set()


def _warn_unverified(ds: Dataset, src: Source) -> None:
    if ds.name in _WARNED_UNVERIFIED:
        return
    _WARNED_UNVERIFIED.add(ds.name)
    warnings.warn(f"{ds.name}: no checksum is known for {src.urls[0]}; the download cannot be "
                  f"verified ({ds.hash_note})", UnverifiedDownloadWarning, stacklevel=3)


def _manifest_stems(ds: Dataset, dest: str) -> list[str]:
    prefix = f"{dest}/" if dest else ""
    stems = [PurePosixPath(k[len(prefix):]).stem for k in ds.manifest
             if k.startswith(prefix) and "/" not in k[len(prefix):]]
    if not stems:
        raise ValueError(f"{ds.name}: a 'files' source needs a manifest listing the files")
    return sorted(stems)


def _fetch_source(ds: Dataset, src: Source, work: Path, out: Path, retries: int) -> None:
    target = out / src.dest if src.dest else out
    target.mkdir(parents=True, exist_ok=True)
    if not src.verified:
        _warn_unverified(ds, src)
    if src.kind == "files":
        prefix = f"{src.dest}/" if src.dest else ""
        for stem in _manifest_stems(ds, src.dest):
            urls = [u.format(stem=stem) for u in src.urls]
            fname = stem + PurePosixPath(urls[0].split("?")[0]).suffix
            sha = ds.manifest.get(prefix + fname) if src.per_file_sha256 else None
            if src.per_file_sha256 and sha is None:
                raise ValueError(f"{ds.name}: {prefix + fname} is not in the manifest")
            _fetch(urls, target, fname, sha256=sha, retries=retries)
        return
    if src.kind not in ("zip", "tar"):
        raise ValueError(f"{ds.name}: unknown source kind {src.kind!r}")
    fname = PurePosixPath(src.urls[0].split("?")[0]).name or f"{ds.name}.{src.kind}"
    archive = _fetch(src.urls, work / "downloads", fname, sha256=src.sha256, md5=src.md5,
                     retries=retries)
    extracted = work / "extract"
    shutil.rmtree(extracted, ignore_errors=True)
    safe_extract(archive, extracted, src.kind)
    archive.unlink()
    folder = extracted / src.members if src.members else extracted
    if not src.members and not _images_in(folder):
        subdirs = [p for p in folder.iterdir() if p.is_dir()]
        if len(subdirs) == 1:
            folder = subdirs[0]
    files = _images_in(folder)
    if not files:
        raise ValueError(f"{ds.name}: no images at {src.members or '/'} in {fname}")
    for f in files:
        os.replace(f, target / f.name)
    shutil.rmtree(extracted, ignore_errors=True)


def download_dataset(name: str, *, cache_dir=None, force: bool = False, retries: int = 3) -> Path:
    """Download a registered dataset into ``cache_dir/NAME`` (atomically) and return that folder.

    Already cached (and not ``force``): returned without network.
    """
    ds = get_dataset(name)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    final = cache / ds.name
    if not force and _dataset_images(final):
        return final
    if final.exists() and not force and any(final.iterdir()):
        raise FileExistsError(f"{str(final)!r} exists but holds no images; remove it to download {ds.name}")
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{ds.name}.partial-", dir=cache))
    try:
        out = work / ds.name
        out.mkdir()
        for src in ds.sources:
            _fetch_source(ds, src, work, out, retries)
            if src.check_manifest:
                report = verify_dataset(out, manifest=ds.manifest)
                if not report.ok:
                    raise ValueError(f"{ds.name}: the downloaded files do not match the manifest: "
                                     f"{report.summary()}")
        n = len(_dataset_images(out))
        if n != ds.images:
            warnings.warn(f"{ds.name}: expected {ds.images} images, the download holds {n}",
                          DataWarning, stacklevel=2)
        if final.exists():
            shutil.rmtree(final)
        os.replace(out, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final


# ----------------------------------------------------------------------------- verify

def read_sha256sums(path) -> dict[str, str]:
    """Parse a ``sha256sum`` output file into ``{relative path: hex digest}``."""
    out = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        digest, rel = line.split(None, 1)
        out[rel.lstrip("*").strip()] = digest.lower()
    return out


@dataclass
class VerifyReport:
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
    """Check a cached dataset (or a folder) against a per-file SHA-256 manifest."""
    spec = os.fspath(name_or_dir)
    folder = Path(spec).expanduser()
    if manifest is None:
        ds = get_dataset(folder.name if folder.is_dir() and _known(folder.name) else spec)
        manifest = ds.manifest
        if not manifest:
            raise ValueError(f"{ds.name}: no per-file manifest is known ({ds.hash_note})")
    if not folder.is_dir():
        cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        folder = _cached_folder(spec, cache) or cache / get_dataset(spec).name
        if not folder.is_dir():
            raise FileNotFoundError(f"dataset {spec} is not in the cache {str(cache)!r}")
    report = VerifyReport(folder)
    for rel, digest in sorted(manifest.items()):
        report.checked += 1
        f = folder / rel
        if not f.is_file():
            report.missing.append(rel)
        elif _hash_file(f, "sha256") != digest.lower():
            report.mismatched.append(rel)
    return report


# ----------------------------------------------------------------------------- training images

def _split_specs(names_or_dirs) -> list[str]:
    if isinstance(names_or_dirs, (str, os.PathLike)):
        spec = os.fspath(names_or_dirs)
        if Path(spec).expanduser().exists():
            return [spec]
        items = spec.split(",")
    else:
        items = [os.fspath(x) for x in names_or_dirs]
    items = [s.strip() for s in items if s.strip()]
    if not items:
        raise ValueError("no dataset name or folder given")
    return items


def load_training_images(names_or_dirs, min_size: int = 96, *, cache_dir=None,
                         download: bool = True) -> list[np.ndarray]:
    """All usable images (uint8 HxWx3) of one or more datasets/folders, concatenated.

    ``names_or_dirs``: a name or folder, a comma-separated string (``"T91,BSD200"``) or a
    list.  Unreadable files and images smaller than ``min_size`` in either dimension are
    skipped with one :class:`DataWarning` each naming the file; a dataset with no usable
    image raises ``ValueError`` naming it.
    """
    out: list[np.ndarray] = []
    for spec in _split_specs(names_or_dirs):
        files = resolve_dataset(spec, cache_dir=cache_dir, download=download)
        usable = 0
        for f in files:
            try:
                img = read_image(f)
            except (ImageReadError, OSError) as exc:
                warnings.warn(f"skipping unreadable file {str(f)!r}: {exc}", DataWarning, stacklevel=2)
                continue
            h, w = img.shape[:2]
            if h < min_size or w < min_size:
                warnings.warn(f"skipping {str(f)!r}: {w}x{h} is smaller than min_size={min_size}",
                              DataWarning, stacklevel=2)
                continue
            out.append(img)
            usable += 1
        if not usable:
            raise ValueError(f"no usable training image in {spec!r} ({str(files[0].parent)!r}): "
                             f"all {len(files)} files are unreadable or smaller than {min_size} px")
    return out


# ----------------------------------------------------------------------------- book samples

#: scikit-image's bundled colour photographs used when no benchmark set is on the machine
SKIMAGE_SAMPLES = ("astronaut", "coffee", "chelsea")


def is_cached(name_or_dir, *, cache_dir=None) -> bool:
    """Whether ``name_or_dir`` is a folder with images or a dataset already in the cache
    (``$SRGAN_DATA_DIR``): true exactly when :func:`resolve_dataset` would need no download."""
    try:
        resolve_dataset(name_or_dir, cache_dir=cache_dir, download=False)
    except (FileNotFoundError, NotADirectoryError, ValueError):
        return False
    return True


def skimage_images(names=SKIMAGE_SAMPLES, scale: int = 4) -> list[tuple[str, np.ndarray]]:
    """``[(name, uint8 HxWx3 modcropped to scale)]`` of scikit-image's sample photographs
    (``skimage.data.<name>()``; they ship with scikit-image, no network is used)."""
    import skimage.data

    from srgan_lib.degrade import modcrop

    out = []
    for n in names:
        loader = getattr(skimage.data, str(n), None)
        if loader is None or not callable(loader):
            raise ValueError(f"skimage.data has no image {n!r}")
        img = np.asarray(loader())
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f"skimage.data.{n}() is not an RGB uint8 image ({img.dtype}, {img.shape})")
        out.append((str(n), np.ascontiguousarray(modcrop(img, scale))))
    return out


class SampleImages(list):
    """The list ``[(name, hr_uint8), ...]`` returned by :func:`sample_images`, plus where it came from.

    ``source``: the dataset name (``"Set5"``) or ``"scikit-image"``; ``requested``: the name asked
    for; ``is_benchmark``: whether the requested set was found (numbers are comparable with the
    literature only then); ``note``: a one-paragraph markdown admonition saying that the fallback
    was used (``""`` when it was not).
    """

    def __init__(self, items, source: str, requested: str, is_benchmark: bool):
        super().__init__(items)
        self.source, self.requested, self.is_benchmark = source, requested, bool(is_benchmark)

    @property
    def note(self) -> str:
        if self.is_benchmark:
            return ""
        return (":::{note}\n"
                f"The benchmark set {self.requested} was not found (`{ENV_VAR}` is unset or has no "
                f"`{self.requested}/` folder), so scikit-image's sample photographs "
                f"({', '.join(n for n, _ in self)}) stand in for it.  The numbers computed from them "
                f"are **not** the {self.requested} numbers of the literature.\n:::")

    def describe(self) -> str:
        """One line: the source and each image's size, e.g. ``Set5: baby 512x512, ...``."""
        return f"{self.source}: " + ", ".join(f"{n} {im.shape[1]}x{im.shape[0]}" for n, im in self)

    def __repr__(self) -> str:
        return f"SampleImages({self.describe()})"


def sample_images(name="Set5", scale: int = 4, fallback=SKIMAGE_SAMPLES, limit: int | None = None, *,
                  cache_dir=None, download: bool = False) -> SampleImages:
    """The images of dataset ``name`` if this machine has them, else scikit-image's samples.

    Returns a :class:`SampleImages` (a list of ``(stem, hr_uint8 HxWx3 modcropped to scale)``,
    sorted by file name like :func:`srgan_lib.evaluate.load_eval_set`) whose ``source`` /
    ``is_benchmark`` / ``note`` say which set was used.  ``name`` is a dataset name (looked up in
    ``$SRGAN_DATA_DIR``, no download unless ``download=True``) or a folder; ``name=None`` goes
    straight to the fallback.  ``fallback`` names ``skimage.data`` images (:func:`skimage_images`);
    an empty fallback raises ``FileNotFoundError`` when the set is missing.  ``limit`` keeps the
    first ``limit`` images.
    """
    from srgan_lib.degrade import modcrop

    files = None
    if name is not None:
        try:
            files = resolve_dataset(name, cache_dir=cache_dir, download=download)
        except (FileNotFoundError, NotADirectoryError, ValueError):
            if not fallback:
                raise
    if files:
        items = [(Path(f).stem, np.ascontiguousarray(modcrop(read_image(f), scale)))
                 for f in files[:limit]]
        label = get_dataset(name).name if _known(os.fspath(name)) else Path(os.fspath(name)).name
        return SampleImages(items, label, label, True)
    items = skimage_images(tuple(fallback)[:limit], scale)
    return SampleImages(items, "scikit-image", "(none)" if name is None else os.fspath(name), False)


# ----------------------------------------------------------------------------- CLI

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default=None,
                        help=f"cache folder (default ${ENV_VAR} or ~/.cache/srgan_lib/datasets)")
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    sub.add_parser("list", help="table of the registered datasets")
    p = sub.add_parser("download", help="download datasets into the cache")
    p.add_argument("names", nargs="+", metavar="NAME")
    p.add_argument("--force", action="store_true", help="download again even if cached")
    p = sub.add_parser("verify", help="check a dataset against its per-file SHA-256 manifest")
    p.add_argument("name", metavar="NAME", help="a dataset name, or a folder (with --manifest)")
    p.add_argument("--manifest", default=None, help="a SHA256SUMS file to check against instead")


def _cmd_list(cache: Path) -> int:
    rows = [("name", "kind", "images", "cached", "citation")]
    for ds in DATASETS.values():
        rows.append((ds.name, ds.kind, str(ds.images),
                     "yes" if _cached_folder(ds.name, cache) else "no", ds.citation))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[4])
    print(f"cache: {cache}")
    return 0


def main(args) -> int:
    from srgan_lib.cli import UserError

    cache = Path(args.data_dir).expanduser() if args.data_dir else default_cache_dir()
    if args.action == "list":
        return _cmd_list(cache)
    if args.action == "download":
        for name in args.names:
            if not _known(name):
                raise UserError(f"unknown dataset {name!r} (known: {', '.join(DATASETS)})")
        for name in args.names:
            folder = download_dataset(name, cache_dir=cache, force=args.force)
            print(f"{get_dataset(name).name}: {len(_dataset_images(folder))} images in {folder}")
        return 0
    if args.action == "verify":
        manifest = read_sha256sums(args.manifest) if args.manifest else None
        try:
            report = verify_dataset(args.name, manifest=manifest, cache_dir=cache)
        except KeyError as exc:
            raise UserError(f"{exc.args[0]}; give --manifest to verify a folder") from None
        print(f"{args.name}: {report.summary()} ({report.folder})")
        for rel in report.missing:
            print(f"  missing: {rel}")
        for rel in report.mismatched:
            print(f"  sha256 differs: {rel}")
        return 0 if report.ok else 1
    raise UserError(f"unknown action {args.action!r}")
