"""What a run reports while it trains: the blow-up check, ``log.csv``, TensorBoard, the progress bar.

The loop hands over each block's per-step values one block late (:mod:`srgan_lib.train.loop`);
:meth:`Monitor.steps` checks every step of the block and records the logged ones, all with the
global step.

A step *diverges* when any of its values is not finite (a loss, or the norm of the weights:
a non-finite weight makes the norm non-finite), or when it *explodes*: the global L2 norm of the
generator's (or the discriminator's) weights grows by more than ``blowup_factor`` in that one
step.  A healthy Adam step moves each weight by about the learning rate, a fraction of a percent of
the norm; a doubling in one step is a rate orders of magnitude too high (with BatchNormalization
and a tanh output such a run does not produce NaN: its losses stay finite and flat).  The run
stops at the first such step; nothing after the last good checkpoint is kept.

A run *collapses* when a validation PSNR falls more than :data:`COLLAPSE_DB` below the run's best
(a learning rate far too high drives the generator to a flat image; a healthy run, GAN fine-tuning
included, moves by a few dB): the run stops the same way, before the checkpoint of that step.

The discriminator's health (:mod:`srgan_lib.train.health`) is smoothed over a window of logged
steps and shown in TensorBoard (``health/*``) and the progress bar (``D_acc``); when D's accuracy
stays at or above 95 % for a whole window, the run says so once, in one line, with what to try.
Validation adds LR consistency and the pixel-shuffle artefact energy (:mod:`srgan_lib.artefacts`)
to ``val.csv`` and TensorBoard.

``log.csv`` has one row every ``log_every`` steps (and at the last step) with that step's values
(not averages) and its learning rate; ``time`` is the wall time of the session when the row was
written.
"""
from __future__ import annotations

import math
import time

import numpy as np

from srgan_lib.atomic import is_output_failure
from srgan_lib.errors import output_error
from srgan_lib.train.config import TrainConfig, lr_at
from srgan_lib.train.health import HealthWindow
from srgan_lib.train.run_dir import LOG_COLUMNS, VAL_COLUMNS, CsvLog


def first_bad_step(values: np.ndarray, columns, previous_norms: np.ndarray, factor: float):
    """``(row, reason)`` of the first diverged step of a block, or None.

    ``values``: ``(n, len(columns))``, the per-step logs whose columns ending in ``_norm`` are
    weight norms; ``previous_norms``: the norms before the block's first step.
    """
    norm_cols = [i for i, c in enumerate(columns) if c.endswith("_norm")]
    before = np.asarray(previous_norms, np.float64)
    for r, row in enumerate(values):
        bad = [f"{c}={row[i]:g}" for i, c in enumerate(columns) if not math.isfinite(float(row[i]))]
        if bad:
            return r, "non-finite " + ", ".join(bad)
        now = row[norm_cols].astype(np.float64)
        if factor > 0:
            for name, a, b in zip((columns[i] for i in norm_cols), before, now):
                if a > 0 and b > factor * a:
                    who = "generator" if name.startswith("g") else "discriminator"
                    return r, f"the {who}'s weight norm grew {b / a:.3g}x in one step"
        before = now
    return None


class _TensorBoard:
    """Scalars with the global step in ``run_dir/tensorboard`` (needs TensorFlow + TensorBoard)."""

    def __init__(self, folder):
        from srgan_lib import backend

        self.folder = folder
        try:
            import tensorboard  # noqa: F401
            import tensorflow as tf
        except ImportError:
            self._writer = None
            return
        if backend.name() != "tensorflow":
            try:  # TensorFlow only writes files here: keep it off the accelerators JAX uses
                tf.config.set_visible_devices([], "GPU")
            except RuntimeError:
                pass
        self._tf = tf
        try:
            self._writer = tf.summary.create_file_writer(str(folder))
        except Exception as exc:  # noqa: BLE001 - TensorFlow's errors carry no errno
            if not is_output_failure(exc):
                raise
            raise output_error(folder, exc) from exc

    def scalars(self, step: int, values: dict) -> None:
        if self._writer is None:
            return
        with self._writer.as_default():
            for name, value in values.items():
                self._tf.summary.scalar(name, value, step=step)

    def flush(self) -> None:
        if self._writer is not None:
            try:
                self._writer.flush()
            except Exception as exc:  # noqa: BLE001 - TensorFlow's errors carry no errno
                if not is_output_failure(exc):
                    raise
                raise output_error(self.folder, exc) from exc

    def close(self) -> None:
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception as exc:  # noqa: BLE001 - closing after a failure must not hide it
                if not is_output_failure(exc):
                    raise


#: a validation PSNR this many dB below the run's best stops the run as collapsed
COLLAPSE_DB = 10.0


class Diverged(Exception):
    """Raised by :meth:`Monitor.steps` at the first diverged step, and by :meth:`Monitor.validation`
    when the validation PSNR collapses (``collapsed``); caught by the session."""

    def __init__(self, step: int, reason: str, collapsed: bool = False):
        super().__init__(f"step {step}: {reason}")
        self.step, self.reason, self.collapsed = step, reason, collapsed


def best_validation(path, dataset: str, upto: int) -> float | None:
    """The best PSNR of ``dataset`` in the run's ``val.csv`` up to step ``upto`` (None: no row)."""
    import csv

    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError:
        return None
    values = []
    for r in rows:
        try:
            if r.get("dataset") == dataset and int(r["step"]) <= upto:
                values.append(float(r["psnr"]))
        except (KeyError, TypeError, ValueError):
            continue
    finite = [v for v in values if math.isfinite(v)]
    return max(finite) if finite else None


class Monitor:
    """The checks and records of one training session."""

    def __init__(self, run_dir, cfg: TrainConfig, columns, initial_norms, start_step: int, verbose: int = 1,
                 echo=print):
        self.cfg, self.columns = cfg, tuple(columns)
        self.total, self.step = int(cfg.schedule.steps), int(start_step)
        self._norms = np.asarray(initial_norms, np.float64)
        self._log = CsvLog(run_dir / "log.csv", LOG_COLUMNS)
        self._val: CsvLog | None = None
        self._val_path = run_dir / "val.csv"
        self._best_psnr = best_validation(self._val_path, cfg.output.val_data, self.step) if cfg.output.val_data else None
        self._tb = _TensorBoard(run_dir / "tensorboard")
        self.health = HealthWindow()
        self._t0 = time.perf_counter()
        self.last = {}
        self._bar = None
        self.echo = echo
        if verbose:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.total, initial=self.step, unit="step", dynamic_ncols=True,
                             smoothing=0.1)
            if echo is print:
                self.echo = self._bar.write

    def steps(self, first: int, values: np.ndarray) -> None:
        """Check and record the steps ``first + 1 .. first + len(values)``; raises :class:`Diverged`."""
        bad = first_bad_step(values, self.columns, self._norms, self.cfg.runtime.blowup_factor)
        good = values if bad is None else values[:bad[0]]
        norm_cols = [i for i, c in enumerate(self.columns) if c.endswith("_norm")]
        elapsed = f"{time.perf_counter() - self._t0:.3f}"
        for r, row in enumerate(good):
            step = first + r + 1
            if step % self.cfg.output.log_every and step != self.total:
                continue
            logged = {c: float(row[i]) for i, c in enumerate(self.columns) if not c.endswith("_norm")}
            lr = lr_at(self.cfg, step)
            self._log.write([step, elapsed] + [f"{logged[k]:.6g}" if k in logged else "" for k in LOG_COLUMNS[2:-1]]
                            + [f"{lr:.3g}"])
            health = {}
            if "d_acc" in logged:
                self.health.add(step, logged["d_real"], logged["d_fake"], logged["d_acc"])
                health = {f"health/{k}_mean{self.health.window}": v for k, v in self.health.means().items()}
            self._tb.scalars(step, {**logged, "lr": lr, **health})
            self.last = logged
        if len(good):
            self._norms = good[-1, norm_cols].astype(np.float64)
            self.step = first + len(good)
            if self._bar is not None:
                self._bar.update(len(good))
                if self.last:
                    post = {k: f"{v:.4g}" for k, v in self.last.items() if k in ("g_loss", "d_loss")}
                    means = self.health.means()
                    if means:  # smoothed over the window: one step's accuracy is 0/16 ... 16/16 noise
                        post["D_acc"] = f"{means['d_acc']:.2f}"
                    self._bar.set_postfix(post, refresh=False)
            warning = self.health.warning()
            if warning:
                self.echo(f"warning: {warning}")
        if bad is not None:
            raise Diverged(first + bad[0] + 1, bad[1])

    def validation(self, step: int, dataset: str, psnr: float, ssim: float, artefacts: dict | None = None) -> None:
        """Record a validation; ``artefacts``: ``lr_psnr``, ``color_offset``, ``artefact_energy``
        (:meth:`srgan_lib.train.validation.Validation.scores`)."""
        if self._val is None:
            self._val = CsvLog(self._val_path, VAL_COLUMNS)
        artefacts = artefacts or {}
        self._val.write_dict({"step": step, "dataset": dataset, "psnr": f"{psnr:.4f}", "ssim": f"{ssim:.5f}",
                              **{k: f"{v:.4f}" for k, v in artefacts.items()}})
        self._tb.scalars(step, {"val_psnr": psnr, "val_ssim": ssim,
                                **{f"val_{k}": v for k, v in artefacts.items() if math.isfinite(v)}})
        extra = ""
        if artefacts:
            extra = (f"  LR-PSNR {artefacts['lr_psnr']:.2f} dB  colour offset {artefacts['color_offset']:.2f}  "
                     f"grid energy {artefacts['artefact_energy']:.2f} x HR")
        self.echo(f"step {step}: {dataset} PSNR {psnr:.2f} dB  SSIM {ssim:.4f}{extra}")
        best = self._best_psnr
        if best is not None and not psnr >= best - COLLAPSE_DB:
            self._val.flush()
            raise Diverged(step, f"the {dataset} PSNR fell to {psnr:.2f} dB, more than {COLLAPSE_DB:g} dB below "
                                 f"the run's best {best:.2f} dB", collapsed=True)
        if math.isfinite(psnr):
            self._best_psnr = psnr if best is None else max(best, psnr)

    def flush(self) -> None:
        self._log.flush()
        if self._val is not None:
            self._val.flush()
        self._tb.flush()

    def close(self) -> None:
        self._log.close()
        if self._val is not None:
            self._val.close()
        self._tb.close()
        if self._bar is not None:
            self._bar.close()
