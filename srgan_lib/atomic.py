"""Atomic outputs: a file or a folder appears complete under its final name, or not at all.

Every output of the library (images, checkpoints, run files, studies, exports, downloaded datasets)
is written through this module:

* :func:`atomic_write` fills a temporary file beside the target and renames it into place;
* :func:`atomic_dir` builds a whole folder under a temporary sibling name and renames it into place;
* :func:`refuse_existing` checks every target of a command before any work is done, so that a run
  that would stop at its tenth output because of ``--overwrite`` stops before its first;
* :func:`make_dir` creates an output folder.

``OSError`` on the output side (no permission, a file where a folder should be, a full disk) is
raised as :class:`srgan_lib.errors.OutputError`, a one-line error naming the path.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

from srgan_lib.errors import OutputError, OutputExistsError, SRGANError, output_error

__all__ = ["atomic_write", "atomic_dir", "refuse_existing", "make_dir", "is_output_failure", "OUTPUT_ERRNOS",
           "remove_stale_temporaries"]

#: ``errno`` values that are always about where output goes, never about an input
OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})


def is_output_failure(exc: BaseException, inside=None) -> bool:
    """Whether ``exc`` is a failure to write output: an ``OSError`` of a full disk or quota, a file
    too large or a read-only file system, or on a path inside the folder ``inside``; or an error of
    a framework writer (TensorFlow's, which carry no ``errno``) that reports a full disk or quota."""
    if not isinstance(exc, OSError):
        text = str(exc)
        return any(os.strerror(e) in text for e in (errno.ENOSPC, errno.EDQUOT))
    if exc.errno in OUTPUT_ERRNOS:
        return True
    if inside is not None and exc.filename:
        try:
            return Path(os.fsdecode(exc.filename)).resolve().is_relative_to(Path(inside).resolve())
        except (OSError, ValueError):
            return False
    return False
    return False


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def make_dir(path) -> Path:
    """``mkdir -p path``; an ``OSError`` becomes an :class:`OutputError` naming the folder."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(path, exc, "create the folder") from exc
    return path


def _temporary_names(name: str) -> re.Pattern:
    # mkstemp/mkdtemp add 8 characters of [a-z0-9_] to the prefix
    return re.compile(rf"^\.{re.escape(name)}\.(?:[a-z0-9_]{{8}}\.[A-Za-z0-9.]+|partial-[a-z0-9_]{{8}})$")


def remove_stale_temporaries(path) -> list[Path]:
    """Delete what a killed :func:`atomic_write` or :func:`atomic_dir` of ``path`` left beside it
    (``.NAME.XXXXXXXX.tmp`` files, ``.NAME.partial-XXXXXXXX`` folders); returns what was removed.

    Call it before writing ``path`` again, never while another process writes the same output.
    """
    path = Path(path)
    pattern, removed = _temporary_names(path.name), []
    try:
        siblings = list(path.parent.iterdir()) if path.parent.is_dir() else []
    except OSError:
        return removed
    for p in siblings:
        if not pattern.match(p.name) or p.is_symlink():
            continue
        try:
            shutil.rmtree(p) if p.is_dir() else p.unlink()
        except OSError as exc:
            raise output_error(p, exc, "remove the stale temporary") from exc
        removed.append(p)
    return removed


def refuse_existing(paths: Iterable, overwrite: bool = False) -> None:
    """Raise :class:`OutputExistsError` for the first path of ``paths`` that exists, unless ``overwrite``."""
    if overwrite:
        return
    for p in paths:
        if Path(p).exists():
            raise OutputExistsError(f"refusing to overwrite existing {str(p)!r} (use --overwrite)")


def atomic_write(path, write, overwrite: bool = True, suffix: str = ".tmp") -> Path:
    """Create ``path`` atomically: ``write(tmp)`` fills a temporary file in the same folder,
    which is flushed to disk and renamed over ``path`` (:func:`os.replace`).

    Readers see the old file or the complete new one, never a partial file, and a crash
    leaves no file under the final name.  ``suffix`` is the temporary file's ending (some
    writers insist on one, e.g. Keras' ``.weights.h5``).  With ``overwrite=False`` an
    existing ``path`` (even one that appeared while writing) raises :class:`OutputExistsError`.
    An ``OSError`` of the file system raises :class:`OutputError` naming ``path``.
    """
    path = Path(path)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    except OSError as exc:
        raise output_error(path, exc) from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            write(tmp)
        except OSError as exc:  # a full disk, a quota, an I/O error while the file is filled
            raise output_error(path, exc) from exc
        try:
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual permissions
            if path.exists() and not overwrite:
                raise OutputExistsError(f"refusing to overwrite existing file {str(path)!r} (use --overwrite)")
            os.replace(tmp, path)
        except OutputExistsError:
            raise
        except OSError as exc:
            raise output_error(path, exc) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return path


@contextlib.contextmanager
def atomic_dir(path, overwrite: bool = False) -> Iterator[Path]:
    """Build the folder ``path`` atomically::

        with atomic_dir(out) as tmp:
            ...  # write everything into tmp

    The body writes into a fresh temporary folder beside ``path``; when it finishes without an
    exception the folder is renamed to ``path`` (an existing ``path`` is replaced only with
    ``overwrite=True``, else :class:`OutputExistsError` before the body runs); on an exception
    the temporary folder is deleted and ``path`` is left as it was.
    """
    path = Path(path)
    refuse_existing([path], overwrite)
    parent = make_dir(path.parent)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.partial-", dir=parent))
    except OSError as exc:
        raise output_error(path, exc) from exc
    try:
        try:
            yield tmp
        except SRGANError:
            raise
        except Exception as exc:  # noqa: BLE001 - only output failures are converted
            if not is_output_failure(exc, tmp):
                raise
            raise output_error(path, exc) from exc
        try:
            os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700
            if path.exists() or path.is_symlink():
                refuse_existing([path], overwrite)  # appeared while the body ran
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
            os.replace(tmp, path)
        except OutputExistsError:
            raise
        except OSError as exc:
            raise output_error(path, exc) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
