"""The backend seam: what ``keras.ops`` does not cover, for the TensorFlow and the JAX backend.

The library computes with ``keras.ops``, so one code runs on both backends.  Five things need the
backend itself, and they live here: a gradient (``tf.GradientTape`` / ``jax.value_and_grad``), a
compiled function (``tf.function`` / ``jax.jit``), the accelerators the backend sees, data-parallel
training over them, and two device operations of the training patch pipeline (a device copy, a 2-D
gather).  Besides this module, only the
train step (:mod:`srgan_lib.train.trainer`) and the multi-step device loop (:mod:`srgan_lib.train.loop`)
are written per backend, as Keras requires of a custom ``train_step``; TensorBoard's writer
(:mod:`srgan_lib.train.monitor`) uses TensorFlow as a file writer on either backend.

In JAX a compiled function must not read Keras variables as constants (they would be frozen into the
program, and the VGG19 weights would make it huge): :func:`compiled` and :func:`value_and_grad` pass the
variables of the given models as arguments of the compiled program (``keras.StatelessScope``).
"""
from __future__ import annotations

import keras

from srgan_lib.errors import UserError

SUPPORTED = ("tensorflow", "jax")

__all__ = ["SUPPORTED", "name", "accelerators", "compiled", "value_and_grad", "variable_gradients",
           "device_constant", "gather_2d", "data_parallel_scope"]


def name() -> str:
    """The Keras backend, ``"tensorflow"`` or ``"jax"``; any other is a :class:`UserError`."""
    backend = keras.backend.backend()
    if backend not in SUPPORTED:
        raise UserError(f"srgan_lib runs on the tensorflow and jax Keras backends, not {backend!r} "
                        f"(set KERAS_BACKEND)")
    return backend


def accelerators() -> list[str]:
    """Names of the non-CPU devices the backend sees (empty on a CPU-only machine)."""
    if name() == "tensorflow":
        import tensorflow as tf

        return [d.name for d in tf.config.list_physical_devices() if d.device_type != "CPU"]
    import jax

    return [f"{d.platform}:{d.id} ({getattr(d, 'device_kind', d.platform)})"
            for d in jax.devices() if d.platform != "cpu"]


def _stateless(fn, variables):
    """``pure(values, *args)``: ``fn(*args)`` with ``variables`` read from ``values``."""
    def pure(values, *args):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return fn(*args)
    return pure


def _variables(models) -> list:
    return [v for m in models for v in m.variables]


def compiled(fn, models=(), signature=None):
    """``fn(*args)`` compiled once (``jax.jit`` / ``tf.function``), for inference and evaluation.

    ``models``: the Keras models ``fn`` calls; in JAX their variables are read at each call and passed
    to the compiled program.  ``signature`` (used by TensorFlow): one ``(shape, dtype)`` per argument,
    ``None`` for a free dimension, which fixes the traced signature (one trace for every image size);
    without it TensorFlow retraces sparingly (``reduce_retracing``).  JAX compiles once per input shape.
    """
    if name() == "jax":
        import jax

        variables = _variables(models)
        jitted = jax.jit(_stateless(fn, variables))
        return lambda *args: jitted([v.value for v in variables], *args)
    import tensorflow as tf

    specs = None if signature is None else [tf.TensorSpec(shape, dtype) for shape, dtype in signature]
    return tf.function(fn, input_signature=specs, reduce_retracing=specs is None, autograph=False)


def value_and_grad(fn, models=(), compile: bool = False):
    """``g(x, *rest) -> (fn(x, *rest), d fn / d x)`` for a scalar ``fn``: the gradient with respect to the
    first argument (an image, an input batch).  ``compile``: compiled once, with ``models`` (those
    ``fn`` calls) passed as in :func:`compiled`; otherwise run eagerly."""
    if name() == "jax":
        import jax

        if not compile:
            return jax.value_and_grad(fn)
        variables = _variables(models)
        jitted = jax.jit(jax.value_and_grad(_stateless(fn, variables), argnums=1))
        return lambda x, *rest: jitted([v.value for v in variables], x, *rest)
    import tensorflow as tf

    def g(x, *rest):
        x = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x, *rest)
        return y, tape.gradient(y, x)
    return tf.function(g, reduce_retracing=True, autograph=False) if compile else g


def variable_gradients(fn, variables) -> tuple:
    """``(fn(), [d fn / d v for v in variables])``, eagerly, for a scalar ``fn`` of no arguments that
    calls models holding ``variables``.  A variable ``fn`` does not depend on gets ``None`` in
    TensorFlow and zeros in JAX.  Variable updates inside ``fn`` (BatchNorm's moving statistics in
    ``training=True`` calls) are applied in TensorFlow and discarded in JAX."""
    variables = list(variables)
    if name() == "jax":
        import jax

        value, grads = jax.value_and_grad(_stateless(fn, variables))([v.value for v in variables])
        return value, list(grads)
    import tensorflow as tf

    with tf.GradientTape() as tape:
        value = fn()
    return value, tape.gradient(value, variables)


def device_constant(array):
    """``array`` as a tensor on the default device: in TensorFlow a device copy (``tf.identity``), so
    that a compiled function reads it rather than embedding it as a graph constant."""
    if name() == "tensorflow":
        import tensorflow as tf

        return tf.identity(tf.constant(array))
    return keras.ops.convert_to_tensor(array)


def gather_2d(pool, row, col):
    """``pool[row, col]`` for integer index tensors ``row`` and ``col`` of one shape (``tf.gather_nd`` in
    TensorFlow, advanced indexing in JAX)."""
    if name() == "tensorflow":
        import tensorflow as tf

        return tf.gather_nd(pool, tf.stack([row, col], axis=-1))
    return pool[row, col]


def data_parallel_scope():
    """The context in which models are built to train on every accelerator: a
    ``tf.distribute.MirroredStrategy`` scope in TensorFlow; in JAX, Keras' ``DataParallel``
    distribution is set (for the rest of the process) and the context does nothing."""
    if name() == "tensorflow":
        import tensorflow as tf

        return tf.distribute.MirroredStrategy().scope()
    import contextlib

    keras.distribution.set_distribution(keras.distribution.DataParallel())
    return contextlib.nullcontext()
