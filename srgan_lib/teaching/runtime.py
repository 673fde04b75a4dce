"""Where a chapter runs: the backend and device it got, the data it can use, where its runs live.

Every chapter of the book starts with the same three cells, which call this module:

* the GPU cell prints :func:`describe` -- Keras backend and version, TensorFlow / JAX versions, the
  accelerators the backend sees and where ``srgan_lib`` was imported from -- so that a reader on Colab
  sees at once whether the "GPU" runtime was picked;
* the data cell calls :func:`prepare_data`, which downloads the datasets the chapter uses (hash-checked,
  see :mod:`srgan_lib.data`) unless they are already cached, into Google Drive when Drive is mounted
  (so that the next Colab session finds them), else into the usual cache;
* training cells ask :func:`run_dir` for their run folder: a fresh temporary folder in ``smoke`` mode (the
  book build must not resume an earlier build's run), and a persistent folder in ``demo`` / ``full`` mode
  -- on Drive when it is mounted -- so that re-running the cell after a disconnect resumes the run.

The three modes mean the same in every chapter (:data:`MODES`).
"""
from __future__ import annotations

import importlib.metadata
import os
import sys
import tempfile
from pathlib import Path

__all__ = ["MODES", "MODE_ENV", "check_mode", "resolve_mode", "on_colab", "drive_root", "book_root", "describe",
           "format_description", "prepare_data", "run_dir"]

#: what each value of ``MODE`` means in every chapter
MODES = {
    "smoke": "a minute or two per chapter on a CPU: the mechanics, and inference with the shipped "
             "trained generators (what the site shows and CI runs)",
    "demo": "minutes on a Colab GPU: short fine-tuning runs that start from the shipped generators",
    "full": "the paper's recipe (hours to days on a GPU), checkpointed and resumable",
}

#: set by the book build and CI (``smoke``); it overrides the mode a chapter's form picks
MODE_ENV = "SRGAN_MODE"

DRIVE_MOUNT = Path("/content/drive/MyDrive")
BOOK_FOLDER = "srgan-book"


def check_mode(mode: str) -> str:
    """``mode`` if it is one of :data:`MODES`, else a one-line :class:`~srgan_lib.errors.UserError`."""
    from srgan_lib.errors import UserError

    if mode not in MODES:
        raise UserError(f"MODE must be one of {', '.join(MODES)} (got {mode!r})")
    return mode


def resolve_mode(mode: str = "auto") -> str:
    """The mode a chapter runs in: ``$SRGAN_MODE`` when set (the book build and CI set ``smoke``);
    otherwise ``mode``, where ``"auto"`` means ``demo`` on Colab with a GPU and ``smoke`` anywhere
    else.  An unknown mode is a one-line :class:`~srgan_lib.errors.UserError`."""
    forced = os.environ.get(MODE_ENV)
    if forced:
        return check_mode(forced)
    if mode == "auto":
        if not on_colab():
            return "smoke"
        from srgan_lib import backend

        return "demo" if backend.accelerators() else "smoke"
    return check_mode(mode)


def on_colab() -> bool:
    """True inside a Google Colab kernel."""
    return "google.colab" in sys.modules


def drive_root(mount: Path = DRIVE_MOUNT) -> Path | None:
    """``MyDrive/srgan-book`` when Google Drive is mounted at ``mount``, else None."""
    return mount / BOOK_FOLDER if Path(mount).is_dir() else None


def book_root(mount: Path = DRIVE_MOUNT) -> Path:
    """The folder that keeps the book's downloads and runs between sessions: Drive when mounted,
    else ``~/srgan-book``."""
    return drive_root(mount) or Path.home() / BOOK_FOLDER


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def describe() -> dict:
    """The facts a reader needs to know about this kernel, as a dict.

    Keys: ``backend``, ``keras``, ``tensorflow``, ``jax`` (versions or None), ``accelerators`` (names of
    the non-CPU devices the backend sees), ``colab``, ``srgan_lib`` (version) and ``srgan_lib_path``.
    Importing the backend is the point, so this imports Keras.
    """
    import keras

    import srgan_lib
    from srgan_lib import backend as seam

    backend = seam.name()
    return {
        "backend": backend,
        "keras": keras.__version__,
        "tensorflow": _version("tensorflow") or _version("tensorflow-cpu"),
        "jax": _version("jax"),
        "accelerators": seam.accelerators(),
        "colab": on_colab(),
        "srgan_lib": srgan_lib.__version__,
        "srgan_lib_path": str(Path(srgan_lib.__file__).resolve().parent),
    }


def format_description(info: dict | None = None, *, mode: str | None = None) -> str:
    """:func:`describe` (and ``mode``) as a few lines of text.

    In a live kernel: versions, the accelerators (with a warning when there is none), and where
    ``srgan_lib`` was imported from, which is what a reader on Colab needs to check.  While the book
    build executes the chapter (``$SRGAN_BOOK_BUILD`` = 1), only the versions and the mode: the
    build machine's paths and devices mean nothing to a reader of the site.
    """
    from srgan_lib.teaching.display import BUILD_ENV

    info = describe() if info is None else info
    names = {"tensorflow": "TensorFlow", "jax": "JAX"}
    versions = (f"Keras {info['keras']} on {info['backend']}"
                + "".join(f", {label} {info[name]}" for name, label in names.items() if info.get(name))
                + f", srgan_lib {info['srgan_lib']}")
    mode_line = [f"mode: {mode} ({MODES[mode]})"] if mode else []
    if os.environ.get(BUILD_ENV) == "1":
        return "\n".join([f"This page was executed with {versions}."] + mode_line)
    lines = [versions,
             f"accelerators: {', '.join(info['accelerators']) or 'none (CPU only)'}",
             f"srgan_lib imported from {info['srgan_lib_path']}"] + mode_line
    if not info["accelerators"]:
        lines.append("note: no GPU. smoke mode runs fine on a CPU; demo and full mode need a GPU "
                     "(on Colab: Runtime > Change runtime type > GPU).")
    return "\n".join(lines)


def prepare_data(names, *, download: bool = True, mount: Path = DRIVE_MOUNT) -> dict:
    """Make the datasets ``names`` available and return ``{name: folder or None}``.

    With ``$SRGAN_DATA_DIR`` set, that cache is used as it is.  Otherwise, when Google Drive is mounted,
    ``MyDrive/srgan-book/datasets`` becomes the cache (``$SRGAN_DATA_DIR`` is set for the rest of the
    session), so a later session finds the downloads.  A set already in the cache is not downloaded
    again; a missing one is downloaded and hash-checked by :mod:`srgan_lib.data` when ``download`` is
    true.  A set that can be neither found nor downloaded (no network) maps to None: the chapter then
    falls back to scikit-image's photographs and says so.
    """
    from srgan_lib import data
    from srgan_lib.errors import SRGANError

    if not os.environ.get(data.ENV_VAR) and drive_root(mount) is not None:
        os.environ[data.ENV_VAR] = str(drive_root(mount) / "datasets")
    cache = data.default_cache_dir()
    out = {}
    for name in names:
        try:
            files = data.resolve_dataset(name, cache_dir=cache, download=download)
        except (SRGANError, OSError):  # not cached and not downloadable here (offline, server down)
            out[name] = None
        else:
            out[name] = Path(files[0]).parent
    return out


def run_dir(name: str, mode: str, *, mount: Path = DRIVE_MOUNT) -> Path:
    """The run folder of a chapter's training run ``name`` in ``mode``.

    ``smoke``: a new temporary folder (every build trains from the start).  ``demo`` and ``full``:
    ``<book_root>/runs/<name>-<mode>``, kept between sessions (on Drive when mounted), so that running
    the training cell again after a disconnect continues the run from its last checkpoint.
    """
    check_mode(mode)
    if mode == "smoke":
        return Path(tempfile.mkdtemp(prefix=f"srgan-{name}-")) / name
    return book_root(mount) / "runs" / f"{name}-{mode}"
