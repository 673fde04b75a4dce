"""The run folder: its ``config.json``, its lock, its logs, and what resuming may change.

A run folder holds ``config.json`` (the resolved :class:`~srgan_lib.train.config.TrainConfig`,
including the VGG19 weights used and their sha256), ``checkpoints/``, ``generator.weights.h5``,
``log.csv``, ``val.csv``, ``samples/``, ``tensorboard/`` and a hidden ``.lock``.

* Opening an existing folder continues its run when the configuration is the same up to
  :data:`~srgan_lib.train.config.RESUMABLE_CHANGES`; anything else is refused before anything
  is written.  After a divergence (``diverged.json``) a new ``lr`` is accepted too: the run
  continues from its last good checkpoint with the new rate.
* One process at a time: the folder is locked (``flock`` on ``.lock``, released by the kernel
  when the process ends, however it ends).  A second process on the same folder fails at once.
* The logs are cut back to the checkpoint the run continues from: rows of ``log.csv`` and
  ``val.csv`` after it, and sample strips after it, belong to steps that are computed again.
"""
from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import json
import os
import re
from pathlib import Path

from srgan_lib.atomic import atomic_write, make_dir
from srgan_lib.errors import InputNotFoundError, OutputError, UserError, output_error
from srgan_lib.train import checkpoints
from srgan_lib.train.checkpoints import remove_stale_temporaries
from srgan_lib.train.config import RESUMABLE_CHANGES, TrainConfig

LOCK_FILE = ".lock"
DIVERGED_FILE = "diverged.json"
LOG_COLUMNS = ["step", "time", "content_loss", "adv_loss", "g_loss", "d_loss", "d_real", "d_fake", "d_acc", "lr"]
VAL_COLUMNS = ["step", "dataset", "psnr", "ssim", "lr_psnr", "color_offset", "artefact_energy"]


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text())
    except ValueError:
        raise UserError(f"{path} is not valid JSON; refusing to touch this run folder") from None
    if not isinstance(value, dict):
        raise UserError(f"{path} does not hold a JSON object; refusing to touch this run folder")
    return value


def read_stored_config(path: Path) -> TrainConfig:
    """The resolved config a run folder's ``config.json`` holds (also one written before the config's
    groups: :meth:`TrainConfig.from_stored`); a file that is not one is a UserError."""
    try:
        return TrainConfig.from_stored(_read_json(path))
    except TypeError as exc:  # a field this version does not know
        raise UserError(f"{path}: {exc}; refusing to touch this run folder") from None


def keep_stored_schedule(cfg: TrainConfig, out: Path) -> TrainConfig:
    """Continuing a run with a new ``--steps`` keeps the run's learning-rate schedule.

    The default ``lr_decay_at`` (None, the preset's) is derived from ``--steps``; without this, extending a run
    (``--steps`` is a resumable change) would be refused as a "different run" because the derived
    decay step moved.  An explicit ``--lr-decay-at`` is still compared with the stored one.
    """
    path = Path(out) / "config.json"
    if cfg.schedule.lr_decay_at is not None or not path.is_file():
        return cfg
    old = read_stored_config(path)
    if old.preset != cfg.preset:
        return cfg
    return cfg.replace(lr_decay_at=old.schedule.lr_decay_at)


def record_vgg_weights(cfg: TrainConfig, stored: dict | None) -> TrainConfig:
    """Resolve the VGG19 weights of a VGG preset to what is used: ``"imagenet"`` or an absolute
    path, with the file's sha256.  Continuing a run without ``vgg_weights`` reuses the stored file
    if it is still there; a file with another sha256 is refused by the config comparison."""
    from srgan_lib import vgg

    if cfg.preset_spec.vgg_layer is None:
        return cfg.replace(vgg_weights=None, vgg_weights_sha256=None)
    spec = cfg.loss.vgg_weights
    old = (stored or {}).get("vgg_weights")
    if spec is None and isinstance(old, str) and (old == "imagenet" or Path(old).is_file()):
        spec = old
    spec = vgg.resolve_weights(spec or None)
    if spec == "imagenet":
        return cfg.replace(vgg_weights="imagenet", vgg_weights_sha256=None)
    path = Path(spec)
    if not path.is_file():
        raise InputNotFoundError(f"--vgg-weights: VGG19 weights file not found: {str(path)!r}")
    with open(path, "rb") as f:
        sha = hashlib.file_digest(f, "sha256").hexdigest()
    return cfg.replace(vgg_weights=str(path), vgg_weights_sha256=sha)


def trained_without_checkpoint(out: Path) -> str | None:
    """What shows that the run in ``out`` was trained although no checkpoint is left to continue
    from (``generator.weights.h5``, or a ``checkpoints/latest.json`` naming a lost file), or None."""
    if checkpoints.latest_checkpoint(out) is not None:
        return None
    found = [name for name in (checkpoints.GENERATOR_FILE, f"{checkpoints.CKPT_DIR}/latest.json")
             if (out / name).is_file()]
    return " and ".join(found) or None


def _is_temporary(p: Path) -> bool:
    return p.is_file() and bool(checkpoints.TEMPORARY.match(p.name))


def _check(cfg: TrainConfig, out: Path, resume: bool | None,
           restart: bool = False) -> tuple[bool, dict | None, dict | None]:
    """``(resuming, stored config, divergence record)``; raises if ``out`` cannot hold this run."""
    cfg_path = out / "config.json"
    if restart and resume:
        raise UserError("--restart and --resume contradict each other: choose one")
    if cfg_path.exists():
        old = read_stored_config(cfg_path).flat()
        new = cfg.flat()
        diverged = _read_json(out / DIVERGED_FILE) if (out / DIVERGED_FILE).is_file() else None
        allowed = RESUMABLE_CHANGES | ({"lr"} if diverged else set())
        diff = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k) and k not in allowed)
        if diff:
            changes = ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in diff)
            raise UserError(f"{out} holds a different run ({changes}); choose another --out")
        if resume is False:
            raise UserError(f"{out} already holds a run; continue it with --resume or choose another --out")
        evidence = None if restart else trained_without_checkpoint(out)
        if evidence:
            raise UserError(f"{out} holds a trained run ({evidence}) but no checkpoint to continue it from "
                            f"(checkpoints/ is missing or empty); training it again would replace its generator "
                            f"and cut its logs. To fine-tune that generator, train into a new folder with "
                            f"--init {out}; to start this run over from step 0, discarding its weights and logs, "
                            f"add --restart")
        return True, old, diverged
    if resume:
        raise UserError(f"--resume: {out} holds no run to continue (no config.json)")
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file, not a folder")
    # A kill during a new run's first config.json write leaves only the lock and a temporary file.
    if out.exists() and any(p.name != LOCK_FILE and not _is_temporary(p) for p in out.iterdir()):
        raise UserError(f"{out} exists and is not a run folder; choose another --out")
    return False, None, None


class RunFolder:
    """An opened, locked run folder (use as a context manager; :meth:`close` releases the lock)."""

    def __init__(self, path: Path, cfg: TrainConfig, resuming: bool, diverged: dict | None, echo=print):
        self.path, self.cfg, self.resuming, self.diverged, self.echo = path, cfg, resuming, diverged, echo
        self._lock_fd: int | None = None

    @classmethod
    def open(cls, cfg: TrainConfig, out, resume: bool | None = None, echo=print,
             restart: bool = False) -> "RunFolder":
        """Check ``out`` against ``cfg`` (nothing is written when it is refused), lock it, remove
        stale temporary files, and write ``config.json`` (new run, or the resumable changes).

        A folder whose run was trained but has no checkpoint left (``generator.weights.h5``
        without ``checkpoints/``) is refused, since continuing it would start over; ``restart``
        starts it over on purpose: its checkpoints, generator, logs, samples and TensorBoard
        events are deleted (under the lock) and training begins at step 0.
        """
        out = Path(out)
        cfg = keep_stored_schedule(cfg, out).resolved()
        stored = read_stored_config(out / "config.json").flat() if (out / "config.json").is_file() else None
        cfg = record_vgg_weights(cfg, stored)
        _check(cfg, out, resume, restart)
        make_dir(out)
        folder = cls(out, cfg, False, None, echo)
        folder._lock()
        try:
            folder.resuming, stored, folder.diverged = _check(cfg, out, resume, restart)  # again, under the lock
            remove_stale_temporaries(out)
            if restart and folder.resuming:
                folder.discard_training()
                echo(f"restarting {out} from step 0: its checkpoints, generator and logs were deleted")
            record = cfg.flat()
            new_lr = stored is not None and folder.diverged is not None and stored.get("lr") != cfg.schedule.lr
            if stored is not None:
                record = {k: (v if k in RESUMABLE_CHANGES | {"lr"} else stored.get(k, v)) for k, v in record.items()}
            atomic_write(out / "config.json", lambda tmp: Path(tmp).write_text(json.dumps(record, indent=2)))
            if new_lr:
                echo(f"learning rate {stored['lr']:g} -> {cfg.schedule.lr:g} after the divergence at step "
                     f"{folder.diverged.get('step')}")
                folder.clear_diverged()
            folder.cfg = TrainConfig(**record)
        except BaseException:
            folder.close()
            raise
        return folder

    def _lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # not a POSIX system: no lock
            return
        path = self.path / LOCK_FILE
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise output_error(path, exc) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise OutputError(f"{self.path} is in use by another training process (pid {pid}); wait for it "
                              f"to finish or choose another --out") from None
        except OSError as exc:
            if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL, errno.ENOSYS):
                os.close(fd)
                raise output_error(path, exc, "lock") from exc
            os.close(fd)
            self.echo(f"warning: {self.path} cannot be locked on this file system; never start two runs on it")
            return
        self._lock_fd = fd
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError as exc:  # a full disk: the lock holds, the pid is only for the error message
            self.close()
            raise output_error(path, exc) from exc

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def discard_training(self) -> None:
        """Delete everything a training session wrote, keeping ``config.json`` and the lock."""
        import shutil

        for name in (checkpoints.CKPT_DIR, "samples", "tensorboard"):
            if (self.path / name).is_dir():
                shutil.rmtree(self.path / name)
        for name in (checkpoints.GENERATOR_FILE, "log.csv", "val.csv", DIVERGED_FILE):
            (self.path / name).unlink(missing_ok=True)
        self.diverged = None

    # -- divergence ------------------------------------------------------------------------
    def mark_diverged(self, step: int, reason: str, checkpoint: Path | None) -> None:
        info = {"step": int(step), "reason": reason, "lr": self.cfg.schedule.lr,
                "checkpoint": checkpoint.name if checkpoint else None}
        atomic_write(self.path / DIVERGED_FILE, lambda tmp: Path(tmp).write_text(json.dumps(info, indent=2)))

    def clear_diverged(self) -> None:
        (self.path / DIVERGED_FILE).unlink(missing_ok=True)

    # -- logs --------------------------------------------------------------------------------
    def cut_back(self, step: int) -> None:
        """Drop what a killed session wrote after ``step`` (the checkpoint the run continues from)."""
        for name in ("log.csv", "val.csv"):
            truncate_csv(self.path / name, step)
        for p in (self.path / "samples").glob("step-*.png") if (self.path / "samples").is_dir() else []:
            m = re.fullmatch(r"step-(\d+)\.png", p.name)
            if m and int(m.group(1)) > step:
                p.unlink()


def truncate_csv(path: Path, step: int) -> None:
    """Rewrite ``path`` (atomically) without the rows whose first column is a step after ``step``."""
    if not path.is_file():
        return
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    keep = rows[:1] + [r for r in rows[1:] if r and r[0].isdigit() and int(r[0]) <= step]
    if len(keep) == len(rows):
        return

    def write(tmp):
        with open(tmp, "w", newline="") as f:
            csv.writer(f).writerows(keep)

    atomic_write(path, write)


class CsvLog:
    """Append-only CSV file with a header, flushed on request (``log.csv``, ``val.csv``).

    A file that exists keeps its header: a run started by an older version, whose ``val.csv`` has
    fewer columns, goes on with those (:meth:`write_dict` drops the others)."""

    def __init__(self, path: Path, columns: list[str]):
        self.path = Path(path)
        new = not self.path.exists() or self.path.stat().st_size == 0
        self.columns = list(columns)
        if not new:
            with open(self.path, newline="") as f:
                self.columns = next(csv.reader(f), None) or self.columns
        try:
            self._file = open(self.path, "a", newline="")
        except OSError as exc:
            raise output_error(self.path, exc) from exc
        self._writer = csv.writer(self._file)
        if new:
            self._writer.writerow(columns)

    def write(self, row) -> None:
        try:
            self._writer.writerow(row)
        except OSError as exc:
            raise output_error(self.path, exc) from exc

    def write_dict(self, values: dict) -> None:
        """A row of the file's columns from ``values`` (missing ones empty, unknown ones dropped)."""
        self.write([values.get(c, "") for c in self.columns])

    def flush(self) -> None:
        try:
            self._file.flush()
        except OSError as exc:
            raise output_error(self.path, exc) from exc

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._file.close()
