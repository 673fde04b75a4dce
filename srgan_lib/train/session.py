"""One training session: :func:`train` opens (or continues) a run and trains it to ``cfg.schedule.steps``.

The session keeps the device busy: blocks of steps are dispatched ahead (two in flight), and the
logs of a block are checked and written while the next block runs (:mod:`srgan_lib.train.monitor`).
Blocks end at the *events* -- checkpoints (every ``checkpoint_every`` steps, or at the first block
end after ``checkpoint_minutes``), validation, samples and the last step -- where the loop waits
for its block, and then, in this order: validates and writes the sample strip, flushes the logs,
and hands a host snapshot of the state to the background checkpoint writer.  So every row of the
logs up to a checkpoint is on disk before the checkpoint is, and a run killed at any moment
continues from its last checkpoint with the logs cut back to it: a resumed run writes exactly the
rows, and ends with exactly the weights, of an uninterrupted one.  Block lengths adapt so that a
block takes about half a second (at most ``steps_per_dispatch`` steps); they never change the
arithmetic.
"""
from __future__ import annotations

import collections
import contextlib
import time


from srgan_lib import backend, models
from srgan_lib.atomic import make_dir
from srgan_lib.errors import TrainingDiverged, UserError
from srgan_lib.train import checkpoints
from srgan_lib.train.config import TrainConfig
from srgan_lib.train.loop import DeviceLoop, HostLoop, compile_key
from srgan_lib.train.monitor import Diverged, Monitor
from srgan_lib.train.run_dir import RunFolder
from srgan_lib.train.trainer import build_trainer
from srgan_lib.train.validation import Validation, load_val_set

BLOCK_SECONDS = 0.5  # target duration of one dispatched block
IN_FLIGHT = 2        # blocks dispatched ahead of the one being read


def data_parallel_scope(cfg: TrainConfig):
    """The distribution context of ``--data-parallel`` (models must be built inside it)."""
    if not cfg.runtime.data_parallel:
        return contextlib.nullcontext()
    return backend.data_parallel_scope()


def initialise_generator(trainer, spec: str, upsample: str = "subpixel") -> None:
    """Copy the weights of the generator ``spec`` (:func:`srgan_lib.weights.load_generator`) into
    ``trainer``'s, whose upsampling blocks are ``upsample`` (named when the two do not match)."""
    from srgan_lib import weights

    source = weights.load_generator(spec)
    src = {v.path: v for v in source.weights}
    dst = trainer.generator.weights
    if sorted(src) != sorted(v.path for v in dst) or any(tuple(src[v.path].shape) != tuple(v.shape) for v in dst):
        raise UserError(f"--init {spec}: its generator does not match this run's architecture "
                        f"(num_blocks/filters/scale/upsample)"
                        + (f"; this run upsamples by {upsample}, and every shipped generator by pixel "
                           f"shuffle (--upsample subpixel)" if upsample != "subpixel" else ""))
    for v in dst:
        v.assign(src[v.path].value)


def _patch_sequence(cfg: TrainConfig, images):
    from srgan_lib import data
    from srgan_lib.patches import PatchSequence

    if images is None:
        images = data.load_training_images(cfg.patches.data, min_size=cfg.patches.patch_size)
    return PatchSequence(images, batch_size=cfg.patches.batch_size, patch_size=cfg.patches.patch_size, scale=cfg.model.scale,
                         degradation=cfg.patches.degradation, seed=cfg.patches.seed, augment=cfg.patches.augment,
                         distinct_images=cfg.patches.distinct_images)


def _divergence_message(cfg: TrainConfig, where: Diverged, last) -> str:
    lower = f"--lr {cfg.schedule.lr / 10:g} (TrainConfig.lr)"
    if where.collapsed:
        kept = (f"the last checkpoint {last} is kept, but it may already be past the collapse: "
                if last is not None else "")
        return (f"training collapsed at step {where.step} ({where.reason}); {kept}run the same command with a "
                f"lower learning rate, e.g. {lower}, to continue, or choose another --out to start over")
    if last is not None:
        return (f"training diverged at step {where.step} ({where.reason}); the last good checkpoint {last} is kept: "
                f"run the same command with a lower learning rate, e.g. {lower}, to continue from it, "
                f"or choose another --out to start over")
    return (f"training diverged at step {where.step} ({where.reason}) before the first checkpoint: run the same "
            f"command with a lower learning rate, e.g. {lower}, to start this run over with it")


def train(cfg: TrainConfig, out, resume: bool | None = None, images=None, verbose: int = 1,
          echo=print, restart: bool = False) -> dict:
    """Train (or continue) the run in ``out`` to ``cfg.schedule.steps``; returns a summary dict.

    ``resume``: None continues an existing run or starts a new one; True insists on an existing
    run, False on a new one.  ``restart`` starts an existing run over from step 0, deleting its
    checkpoints, generator and logs (a run folder whose checkpoints are gone is refused without it:
    :meth:`~srgan_lib.train.run_dir.RunFolder.open`).  ``images`` (a list of uint8 HR arrays) replaces ``cfg.patches.data``
    (tests, notebooks).  ``verbose``: 1 shows a progress bar (``tqdm.auto``: a widget in a
    notebook), 0 shows nothing per step.  ``echo`` receives the session's messages (resuming,
    checkpoints, validation scores, warnings).

    The summary: ``run_dir``, ``start_step``, ``steps`` (the target), ``step`` (reached),
    ``wall_s`` (the session, compilation included) and ``steps_per_s`` (after the first block,
    i.e. without compilation; None when there was no second block).
    Raises :class:`srgan_lib.errors.TrainingDiverged` at a diverged step.
    """
    with RunFolder.open(cfg, out, resume, echo=echo, restart=restart) as folder:
        cfg = folder.cfg
        with data_parallel_scope(cfg):
            trainer = build_trainer(cfg)
        start = 0
        ckpt = checkpoints.latest_checkpoint(folder.path) if folder.resuming else None
        if ckpt is not None:
            start = checkpoints.load_checkpoint(trainer, ckpt)
            echo(f"resuming {folder.path} from {ckpt.name} (step {start})")
        elif cfg.init_spec:
            initialise_generator(trainer, cfg.init_spec, cfg.model.upsample)
            echo(f"generator initialised from {cfg.init_spec}")
        folder.cut_back(start)
        total = int(cfg.schedule.steps)
        summary = {"run_dir": str(folder.path), "start_step": start, "steps": total}
        if start >= total:
            echo(f"{folder.path} is already trained to step {start} (--steps {total})")
            summary.update(step=start, wall_s=0.0, steps_per_s=None)
            return summary
        return _run(folder, cfg, trainer, _patch_sequence(cfg, images), start, verbose, echo, summary)


class StepRate:
    """Steps per second of the training loop, measured where it can be: at the reads of block results.

    The first block (which includes compilation) is left out.  With ``in_flight`` blocks dispatched ahead,
    reads can come in bursts -- on a backend whose dispatch computes the block before returning,
    ``in_flight`` results are read back to back -- so the rate is taken over the last ``in_flight`` blocks
    and the time since the read before them, never over one interval between two reads.
    """

    def __init__(self, in_flight: int):
        self.reads = collections.deque(maxlen=in_flight + 1)  # (time of the read, steps of its block)

    def read(self, now: float, steps: int) -> float | None:
        """Record a block of ``steps`` read at ``now``; the rate, or None while too few blocks were read."""
        self.reads.append((now, steps))
        if len(self.reads) < self.reads.maxlen:
            return None
        elapsed = self.reads[-1][0] - self.reads[0][0]
        return sum(n for _, n in list(self.reads)[1:]) / elapsed if elapsed > 0 else None


def _run(folder: RunFolder, cfg: TrainConfig, trainer, seq, start: int, verbose: int, echo, summary) -> dict:
    val_images = load_val_set(cfg.output.val_data, cfg.model.scale, echo)
    validation = Validation(val_images, cfg.output.val_data, cfg.model.scale, cfg.patches.degradation) if val_images else None
    if cfg.runtime.loop == "host" or cfg.runtime.data_parallel:
        loop = HostLoop(trainer, seq, start, int(cfg.schedule.steps))
        limit = cfg.runtime.steps_per_dispatch
    else:
        loop = DeviceLoop(trainer, seq, cfg.runtime.steps_per_dispatch, cfg.runtime.jit_compile, echo, cache_key=compile_key(cfg))
        limit = loop.block_steps
    export = models.srresnet(scale=cfg.model.scale, num_blocks=cfg.model.num_blocks, filters=cfg.model.filters, upsample=cfg.model.upsample)
    writer = checkpoints.CheckpointWriter(folder.path, cfg.output.keep_checkpoints, export)
    monitor = Monitor(folder.path, cfg, loop.columns, loop.initial_norms(), start, verbose, echo)
    echo = monitor.echo  # above the progress bar
    total = int(cfg.schedule.steps)

    def event(step: int, timed: set) -> bool:
        every = [cfg.output.checkpoint_every] + ([cfg.output.val_every, cfg.output.sample_every] if validation else [])
        return step == total or step in timed or any(step % e == 0 for e in every)

    def next_boundary(step: int) -> int:
        every = [cfg.output.checkpoint_every] + ([cfg.output.val_every, cfg.output.sample_every] if validation else [])
        return min([total] + [(step // e + 1) * e for e in every])

    t0 = time.perf_counter()
    last_ckpt_time = t0
    pending = collections.deque()
    timed: set[int] = set()
    dispatched = done = start
    rate = t_first = t_last = first_end = None
    step_rate = StepRate(IN_FLIGHT)
    n_next = 1
    try:
        while done < total:
            can_dispatch = dispatched < total and len(pending) < IN_FLIGHT and not (pending and event(dispatched, timed))
            if can_dispatch and pending and time.perf_counter() - last_ckpt_time >= 60 * cfg.output.checkpoint_minutes:
                timed.add(dispatched)  # the block in flight ends with a checkpoint
                continue
            if can_dispatch:
                n = max(1, min(n_next, limit, next_boundary(dispatched) - dispatched))
                pending.append((dispatched, n, loop.dispatch(dispatched, n)))
                dispatched += n
                continue
            first, n, handle = pending.popleft()
            values = loop.result(handle)
            now = time.perf_counter()
            if t_first is None:  # the first block includes the compilation
                t_first, first_end = now, first + n
                step_rate.read(now, n)
            else:
                rate = step_rate.read(now, n) or rate
            t_last = now
            n_next = int(rate * BLOCK_SECONDS) if rate else 2 * n
            monitor.steps(first, values)
            done = first + n
            if event(done, timed) and _events(folder, cfg, trainer, loop, validation, monitor, writer, done, timed,
                                              rate, echo):
                last_ckpt_time = time.perf_counter()
        writer.wait()
        folder.clear_diverged()
    except Diverged as exc:
        writer.wait()
        last = checkpoints.latest_checkpoint(folder.path)
        folder.mark_diverged(exc.step, exc.reason, last)
        raise TrainingDiverged(_divergence_message(cfg, exc, last)) from None
    finally:
        writer.join()
        monitor.close()
    summary.update(step=done, wall_s=time.perf_counter() - t0,
                   steps_per_s=(done - first_end) / (t_last - t_first) if done > first_end else None)
    return summary


def _events(folder, cfg, trainer, loop, validation, monitor, writer, step: int, timed: set, rate, echo) -> bool:
    """Validation, sample strip, log flush and checkpoint at the end of the block ending at ``step``;
    True when a checkpoint was started."""
    total = int(cfg.schedule.steps)
    loop.sync()
    if validation and (step % cfg.output.val_every == 0 or step == total):
        monitor.validation(step, cfg.output.val_data, *validation.scores(trainer.generator))
    if validation and (step % cfg.output.sample_every == 0 or step == total):
        from srgan_lib import images

        make_dir(folder.path / "samples")
        images.write_image(folder.path / "samples" / f"step-{step:08d}.png", validation.strip(trainer.generator),
                           overwrite=True)
    monitor.flush()
    if step % cfg.output.checkpoint_every == 0 or step == total or step in timed:
        writer.submit(step, checkpoints.snapshot(trainer))
        steady = f"  {rate:.2f} steps/s" if rate else ""
        echo(f"step {step}/{total}{steady}  checkpoint {checkpoints.checkpoint_name(step)}")
        return True
    return False
