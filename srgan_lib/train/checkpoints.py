"""Checkpoints of a run: ``checkpoints/ckpt-STEP.npz``, ``latest.json`` and ``generator.weights.h5``.

A checkpoint holds every weight of G and D, both Adam states and the step counter, each array
under the *path* of its variable: ``g/<variable path>``, ``d/<variable path>``, ``g_opt/<path>``,
``d_opt/<path>`` (an optimizer's own name is left out of the path), and ``step``.  Restoring
matches arrays to variables by these names and checks every shape, so arrays can never be
swapped between variables of the same shape.

:class:`CheckpointWriter` writes from one host snapshot of the state (copied on the training
thread, so training can go on at once) on a background thread, with at most one write in
flight: ``ckpt-STEP.npz``, then ``generator.weights.h5`` (the generator of that snapshot, for
``srgan eval`` / ``srgan upscale``), then ``latest.json``, each atomically
(:func:`srgan_lib.atomic.atomic_write`); the oldest checkpoints beyond ``keep`` are deleted
last.  A kill at any moment leaves the previous checkpoint usable; temporary files that a kill
leaves behind are removed by :func:`remove_stale_temporaries` when the run is opened again.
"""
from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import numpy as np
from keras import ops

from srgan_lib.atomic import atomic_write
from srgan_lib.errors import UserError

CKPT_DIR = "checkpoints"
GENERATOR_FILE = "generator.weights.h5"
_CKPT_NAME = re.compile(r"^ckpt-(\d{8,})\.npz$")
TEMPORARY = re.compile(r"^\..+\.(tmp|weights\.h5)$")  # what atomic_write leaves behind on a kill


def checkpoint_name(step: int) -> str:
    return f"ckpt-{int(step):08d}.npz"


def variable_groups(trainer) -> dict[str, list]:
    """``{"g", "g_opt"[, "d", "d_opt"]}`` -> the variables of a checkpoint, in a fixed order."""
    groups = {"g": list(trainer.generator.weights), "g_opt": list(trainer.optimizer.variables)}
    if trainer.discriminator is not None:
        groups["d"] = list(trainer.discriminator.weights)
        groups["d_opt"] = list(trainer.d_optimizer.variables)
    return groups


def variable_keys(trainer) -> list[tuple[str, object]]:
    """``[(key, variable)]``: the checkpoint key of every variable, ``GROUP/PATH``."""
    out, seen = [], set()
    for group, variables in variable_groups(trainer).items():
        for v in variables:
            path = v.path.split("/", 1)[1] if group.endswith("_opt") and "/" in v.path else v.path
            key = f"{group}/{path}"
            if key in seen:
                raise RuntimeError(f"two variables share the checkpoint key {key!r}")
            seen.add(key)
            out.append((key, v))
    return out


def snapshot(trainer) -> dict[str, np.ndarray]:
    """Host copies of every checkpointed variable (copies: the device may reuse its buffers)."""
    return {key: np.array(ops.convert_to_numpy(v.value), copy=True) for key, v in variable_keys(trainer)}


def restore(trainer, arrays: dict[str, np.ndarray], source) -> None:
    """Assign ``arrays`` (a checkpoint's, by key) to the trainer's variables; every key must match."""
    keys = variable_keys(trainer)
    stored = set(arrays) - {"step"}
    if stored and all(re.fullmatch(r"(g|d|g_opt|d_opt)/\d{4}", k) for k in stored):
        raise UserError(f"checkpoint {source} was written by an older srgan-lib (arrays keyed by position); "
                        f"continue it with that version or choose another --out")
    missing = [k for k, _ in keys if k not in stored]
    extra = sorted(stored - {k for k, _ in keys})
    if missing or extra:
        raise UserError(f"checkpoint {source} does not match this run's models (missing {missing[:3]}, "
                        f"unexpected {extra[:3]}): it was written by a different model configuration")
    for key, v in keys:
        a = arrays[key]
        if tuple(a.shape) != tuple(v.shape):
            raise UserError(f"checkpoint {source}: {key!r} has shape {a.shape}, the model's is {tuple(v.shape)}")
        v.assign(a)


def latest_checkpoint(run_dir) -> Path | None:
    """The newest complete checkpoint of a run: the one ``latest.json`` names (a bare file name
    inside ``checkpoints/``; anything else is ignored), else the highest-numbered ``ckpt-*.npz``."""
    ckpt_dir = Path(run_dir) / CKPT_DIR
    try:
        name = json.loads((ckpt_dir / "latest.json").read_text())["file"]
        if isinstance(name, str) and _CKPT_NAME.match(name) and (ckpt_dir / name).is_file():
            return ckpt_dir / name
    except (OSError, ValueError, KeyError, TypeError):
        pass
    found = sorted((int(m.group(1)), p) for p in ckpt_dir.glob("ckpt-*.npz") if (m := _CKPT_NAME.match(p.name)))
    return found[-1][1] if found else None


def read_checkpoint(path) -> dict[str, np.ndarray]:
    """The arrays of a checkpoint file; a damaged file is a :class:`UserError` naming it."""
    try:
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
        if "step" not in arrays:
            raise KeyError("no 'step' entry")
    except Exception as exc:  # zipfile.BadZipFile, EOFError, zlib.error, KeyError, OSError, ...
        # Checkpoints are written atomically, so a damaged one under its final name is not an
        # interrupted write: refuse to guess and name the file.
        raise UserError(f"checkpoint {path} cannot be read ({type(exc).__name__}: {exc}); it is damaged: "
                        f"delete it to resume from an earlier checkpoint, or choose another --out") from None
    return arrays


def load_checkpoint(trainer, path) -> int:
    """Restore weights and both optimizers from ``path``; returns the step stored in it."""
    arrays = read_checkpoint(path)
    restore(trainer, arrays, path)
    return int(arrays["step"])


def remove_stale_temporaries(run_dir) -> list[Path]:
    """Delete the temporary files of writes that a kill interrupted (run folder, checkpoints/,
    samples/); returns what was removed.  Call it only while holding the run folder's lock."""
    removed = []
    for folder in (Path(run_dir), Path(run_dir) / CKPT_DIR, Path(run_dir) / "samples"):
        for p in folder.glob(".*") if folder.is_dir() else []:
            if p.is_file() and TEMPORARY.match(p.name):
                p.unlink()
                removed.append(p)
    return removed


def _write_checkpoint(run_dir: Path, step: int, arrays: dict, export_generator, keep: int) -> Path:
    ckpt_dir = Path(run_dir) / CKPT_DIR
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    path = ckpt_dir / checkpoint_name(step)

    def write_npz(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, step=np.asarray(step, np.int64), **arrays)

    atomic_write(path, write_npz)
    if export_generator is not None:
        for key, v in export_generator[1]:
            v.assign(arrays[key])
        # The generator alone, for evaluation and upscaling (keras needs the .weights.h5 suffix).
        atomic_write(Path(run_dir) / GENERATOR_FILE, export_generator[0].save_weights, suffix=".weights.h5")
    atomic_write(ckpt_dir / "latest.json", lambda tmp: Path(tmp).write_text(
        json.dumps({"step": int(step), "file": path.name})))
    found = sorted((int(m.group(1)), p) for p in ckpt_dir.glob("ckpt-*.npz") if (m := _CKPT_NAME.match(p.name)))
    for _, p in found[:-keep] if keep > 0 else []:
        p.unlink()
    return path


class CheckpointWriter:
    """Writes checkpoints of one run on a background thread, at most one in flight.

    ``export_generator`` is a float32 generator of the run's architecture that receives each
    snapshot's generator weights before ``generator.weights.h5`` is saved from it (so the
    training models are never read from the writer thread).
    """

    def __init__(self, run_dir, keep: int = 2, export_generator=None):
        self.run_dir, self.keep = Path(run_dir), int(keep)
        self._export = None
        if export_generator is not None:
            self._export = (export_generator, [(f"g/{v.path}", v) for v in export_generator.weights])
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.last_written: Path | None = None

    def submit(self, step: int, arrays: dict[str, np.ndarray]) -> None:
        """Write ``arrays`` (a :func:`snapshot`) as the checkpoint of ``step``, in the background.
        Waits for the previous write first (and raises its error, if it failed)."""
        self.wait()

        def work():
            try:
                self.last_written = _write_checkpoint(self.run_dir, step, arrays, self._export, self.keep)
            except BaseException as exc:  # handed to the training thread by wait()
                self._error = exc

        self._thread = threading.Thread(target=work, name=f"checkpoint-{step}", daemon=True)
        self._thread.start()

    def join(self) -> None:
        """Block until the write in flight (if any) is done, keeping its error for :meth:`wait`."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def wait(self) -> Path | None:
        """Block until the write in flight (if any) is done; re-raise its error."""
        self.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return self.last_written

