"""Steps in blocks: the fused device loop (default) and the per-step host loop.

Both loops run ``n`` consecutive steps of :class:`~srgan_lib.train.trainer.SRGANTrainer` per
:meth:`dispatch` and return, per step, the trainer's logs followed by the global L2 norm of all
generator (and discriminator) weights after the update: the values the run's log and its
blow-up check read (:mod:`srgan_lib.train.monitor`).

:class:`DeviceLoop` (``loop="device"``) keeps everything on the device: the uint8 image pools
(:mod:`srgan_lib.train.device_patches`), the state, and a loop over the steps of a block -- on
JAX a jitted ``lax.fori_loop`` over the pure ``train_step_jax`` with the state donated; on
TensorFlow a ``tf.function`` around a ``tf.while_loop`` over ``train_step_tf``, XLA-compiled with
``jit_compile=True`` and, by default (``None``), when a GPU is present (an XLA failure then falls
back to the plain graph with a warning; ``--no-xla``: never).  The trip count is an argument, so blocks of any length
share one compiled program and a block boundary changes nothing in the arithmetic.  On JAX's CPU
platform, where XLA runs a while-loop body much slower than the same step compiled on its own
(bench/RESULTS.md), a block is instead ``n`` asynchronous calls of the compiled step (no
per-step synchronisation either).  Per block
the host sends ``(steps, B, 7)`` int32 records; :meth:`dispatch` returns at once (JAX) and
:meth:`result` waits for the block's logs, so the caller can read one block's logs while the
next one runs.

:class:`HostLoop` (``loop="host"``, and ``--data-parallel``) is Keras' own path: one
``train_on_batch`` per step on batches cropped by :meth:`PatchSequence.stream` on the host.
"""
from __future__ import annotations

import collections

import numpy as np
from keras import ops

from srgan_lib import backend
from srgan_lib.train.config import NOT_COMPILED
from srgan_lib.train.device_patches import DevicePatches, gather

#: Compiled JAX blocks by :func:`compile_key` (each holds the trainer it was traced with): a new
#: trainer with the same structure reuses the compiled program (its state is an argument).
COMPILED: collections.OrderedDict = collections.OrderedDict()
COMPILED_KEEP = 2
def compile_key(cfg) -> tuple:
    """What the compiled device loop of a resolved config depends on: every field but
    :data:`~srgan_lib.train.config.NOT_COMPILED` (host-side choices, initial values, bookkeeping; the
    VGG weights are part of the state, not of the program)."""
    return (backend.name(),) + tuple(sorted(
        (k, v) for k, v in cfg.flat().items() if k not in NOT_COMPILED))


def _global_norm(values):
    return ops.sqrt(sum(ops.sum(ops.square(ops.cast(v, "float32"))) for v in values))


class _Loop:
    def __init__(self, trainer):
        self.trainer = trainer
        self.norm_names = ("g_norm", "d_norm") if trainer.discriminator is not None else ("g_norm",)
        self.columns = tuple(trainer.log_keys) + self.norm_names

    def _models(self):
        return [self.trainer.generator] + ([self.trainer.discriminator] if self.trainer.discriminator else [])

    def initial_norms(self) -> np.ndarray:
        """The weight norms before the first step of this session (for the blow-up check)."""
        return np.array([float(np.sqrt(sum(np.sum(np.square(ops.convert_to_numpy(v.value).astype(np.float64)))
                                             for v in m.weights))) for m in self._models()])

    def sync(self) -> None:
        """Make the trainer's Keras variables hold the loop's current state."""


class DeviceLoop(_Loop):
    """``block_steps`` steps per dispatch at most, the data and the state on the device.

    ``per_step`` (JAX): dispatch the compiled step once per step instead of one ``fori_loop`` per
    block; None: on the CPU platform only.
    """

    def __init__(self, trainer, seq, block_steps: int = 100, jit_compile=None, echo=print, cache_key=None,
                 per_step: bool | None = None):
        super().__init__(trainer)
        self.data = DevicePatches(seq)
        self.block_steps, self.echo = int(block_steps), echo
        self.backend = backend.name()
        self._device = self.data.upload()
        if self.backend == "jax":
            import jax

            self._state = self._jax_state()
            # XLA:CPU runs a while-loop body several times slower than the same step compiled
            # straight; there the block is a sequence of asynchronously dispatched compiled steps.
            self._per_step = jax.default_backend() == "cpu" if per_step is None else bool(per_step)
            key = None if cache_key is None else (cache_key, self._per_step or self.block_steps, self.data.row_bits)
            self._block = COMPILED.get(key) if key is not None else None
            if self._block is None:
                self._block = self._jax_block(self._per_step)
                if key is not None:
                    COMPILED[key] = self._block
                    while len(COMPILED) > COMPILED_KEEP:
                        COMPILED.popitem(last=False)
        elif self.backend == "tensorflow":
            import tensorflow as tf

            # "auto": XLA on a GPU; on the CPU the XLA while loop is slower than the plain graph.
            self._xla = jit_compile
            xla = bool(tf.config.list_logical_devices("GPU")) if jit_compile is None else bool(jit_compile)
            self._block = self._tf_block(xla)
        else:
            raise NotImplementedError(f"the device loop supports tensorflow and jax, not {self.backend!r}")

    # -- JAX ---------------------------------------------------------------------------------
    def _jax_state(self):
        t = self.trainer
        return tuple([v.value for v in vs] for vs in (t.trainable_variables, t.non_trainable_variables,
                                                       t.optimizer.variables, t.metrics_variables))

    def _jax_block(self, per_step: bool):
        import jax  # backend-specific: the jitted multi-step loop (or step)
        import jax.numpy as jnp

        trainer, row_bits, columns, rows = self.trainer, self.data.row_bits, self.columns, self.block_steps
        ix = trainer.indices()
        models = [("g_tv", "g_ntv")] + ([("d_tv", "d_ntv")] if trainer.discriminator is not None else [])
        logged = trainer.log_keys

        def step(state, device, record):
            step_logs, state = trainer.train_step_jax(state, gather(device, record, row_bits))
            tv, ntv = state[0], state[1]
            norms = [_global_norm([tv[i] for i in ix[a]] + [ntv[i] for i in ix[b]]) for a, b in models]
            return state, jnp.stack([ops.cast(step_logs[c], "float32") for c in logged] + norms)

        if per_step:
            return jax.jit(step, donate_argnums=(0,))

        def block(state, device, records, n):
            def body(k, carry):
                state, row = step(carry[0], device, records[k])
                return state, carry[1].at[k].set(row)

            return jax.lax.fori_loop(0, n, body, (state, jnp.zeros((rows, len(columns)), jnp.float32)))

        return jax.jit(block, donate_argnums=(0,))

    # -- TensorFlow ----------------------------------------------------------------------------
    def _tf_block(self, xla: bool):
        import tensorflow as tf  # backend-specific: tf.while_loop in a (XLA-compiled) tf.function

        trainer, device, rows, row_bits = self.trainer, self._device, self.block_steps, self.data.row_bits
        width = len(self.columns)
        weights = [m.weights for m in self._models()]
        logged = trainer.log_keys

        def block(records, n):
            def body(k, logs):
                step_logs = trainer.train_step_tf(gather(device, records[k], row_bits))
                norms = [_global_norm([v.value for v in ws]) for ws in weights]
                row = tf.stack([tf.cast(step_logs[c], tf.float32) for c in logged] + norms)
                return k + 1, tf.tensor_scatter_nd_update(logs, [[k]], row[None])

            _, logs = tf.while_loop(lambda k, logs: k < n, body, (tf.constant(0), tf.zeros((rows, width))))
            return logs

        spec = [tf.TensorSpec((rows, self.data.seq.batch_size, 7), tf.int32), tf.TensorSpec((), tf.int32)]
        return tf.function(block, input_signature=spec, jit_compile=xla)

    # -- the interface --------------------------------------------------------------------------
    def dispatch(self, start: int, n: int):
        """Start steps ``start + 1 .. start + n`` (batches ``start .. start + n - 1``)."""
        if not 1 <= n <= self.block_steps:
            raise ValueError(f"a block has 1 to {self.block_steps} steps, not {n}")
        records = self.data.records(start, n, self.block_steps)
        if self.backend == "jax" and self._per_step:
            rows = []
            for k in range(n):
                self._state, row = self._block(self._state, self._device, records[k])
                rows.append(row)
            return rows, n
        if self.backend == "jax":
            self._state, logs = self._block(self._state, self._device, records, np.int32(n))
            return logs, n
        import tensorflow as tf

        try:
            return self._block(records, np.int32(n)), n
        except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError) as exc:
            if self._xla != "auto":
                raise
            self.echo(f"warning: XLA cannot compile this training step ({type(exc).__name__}: "
                      f"{str(exc).splitlines()[0][:200]}); running it without XLA (--no-xla hides this)")
            self._xla = False
            self._block = self._tf_block(False)
            return self._block(records, np.int32(n)), n

    def result(self, pending) -> np.ndarray:
        """``(n, len(columns))`` float32: the logs of a dispatched block (waits for it)."""
        logs, n = pending
        if isinstance(logs, list):
            return np.stack([np.asarray(row) for row in logs])
        return np.asarray(ops.convert_to_numpy(logs))[:n]

    def sync(self) -> None:
        if self.backend == "jax":
            t = self.trainer
            for variables, values in zip((t.trainable_variables, t.non_trainable_variables,
                                          t.optimizer.variables, t.metrics_variables), self._state):
                for v, x in zip(variables, values):
                    v.assign(x)


class HostLoop(_Loop):
    """One ``train_on_batch`` per step, on host-cropped batches (Keras' path; data parallel)."""

    def __init__(self, trainer, seq, start: int, stop: int):
        super().__init__(trainer)
        self._batches = seq.stream(start, stop)
        weights = [m.weights for m in self._models()]
        self._norms = backend.compiled(lambda: [_global_norm([v.value for v in ws]) for ws in weights],
                                       models=self._models())

    def dispatch(self, start: int, n: int):
        rows = []
        for _ in range(n):
            lr, hr = next(self._batches)
            logs = self.trainer.train_on_batch(lr, hr, return_dict=True)
            rows.append([float(logs[c]) for c in self.trainer.log_keys] +
                        [float(ops.convert_to_numpy(x)) for x in self._norms()])
        return np.asarray(rows, np.float32)

    def result(self, pending) -> np.ndarray:
        return pending
