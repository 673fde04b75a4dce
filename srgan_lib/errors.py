"""The library's own, user-facing exceptions.

Every error that a user can fix -- a missing input, an unreadable image, a bad option, an output
path that cannot be written -- is raised as a subclass of :class:`SRGANError`.  Its message is one
line that names the culprit (the file, the option, the value).  The ``srgan`` command prints such an
error as ``srgan COMMAND: error: MESSAGE`` and exits with status 2 (:class:`TrainingDiverged`: 3).
Any other exception is a bug, or a problem the library did not anticipate, and keeps its traceback.

The classes also derive from the matching built-in exception (``ValueError``, ``FileNotFoundError``,
``FileExistsError``, ``OSError``), so ``except ValueError`` and friends keep working in user code.
"""
from __future__ import annotations

__all__ = ["SRGANError", "UserError", "InputNotFoundError", "OutputExistsError", "OutputError",
           "TrainingDiverged", "one_line", "output_error"]


def one_line(text) -> str:
    """``text`` with all whitespace runs (newlines included) collapsed to single spaces."""
    return " ".join(str(text).split())


class SRGANError(Exception):
    """Base class of the errors the user can fix: printed as one line by the ``srgan`` command."""

    exit_status = 2

    def __init__(self, message=""):
        super().__init__(one_line(message))


class UserError(SRGANError, ValueError):
    """A bad value: an option, a dataset name, a malformed file, an image that cannot be read."""


class InputNotFoundError(SRGANError, FileNotFoundError):
    """An input (file, folder, dataset, model) does not exist."""


class OutputExistsError(SRGANError, FileExistsError):
    """An output exists and replacing it was not asked for (``--overwrite``)."""


class OutputError(SRGANError, OSError):
    """An output cannot be written (no permission, no space, a file where a folder is needed, ...)."""


class TrainingDiverged(SRGANError, RuntimeError):
    """Training stopped at a non-finite or exploding loss; the last good checkpoint is kept."""

    exit_status = 3


def output_error(path, exc: BaseException, what: str = "write") -> OutputError:
    """An :class:`OutputError` naming ``path`` for the ``OSError`` (or a framework writer's error)
    ``exc`` (raise it ``from exc``)."""
    import errno
    import os

    reason = getattr(exc, "strerror", None)
    if not reason:
        text = one_line(exc)
        full = [os.strerror(e) for e in (errno.ENOSPC, errno.EDQUOT) if os.strerror(e) in text]
        reason = full[0] if full else (text[:160] or type(exc).__name__)
    return OutputError(f"cannot {what} {str(path)!r}: {reason}")
