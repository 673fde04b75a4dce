"""A generator compiled for inference: uint8 LR batches in, uint8 SR batches out.

:func:`make_predictor` turns a trained generator (LR in [0, 1] -> HR in [-1, 1], Sec. 3.2) into a
:class:`Predictor`, built once per model and then called on batches of windows of one shape:

* the forward pass is compiled once (:func:`srgan_lib.backend.compiled`: ``jax.jit``, once per input
  shape, on JAX; ``tf.function`` with a dynamic ``(N, H, W, 3)`` uint8 signature on TensorFlow), and it
  reads the weights where they are, on the device: nothing is converted on a call;
* the conversions ``uint8 -> [0, 1]`` (the table of :func:`srgan_lib.models.lr_from_uint8`) and
  ``[-1, 1] -> round((y + 1) * 127.5)`` clipped to ``uint8`` (as
  :func:`srgan_lib.models.hr_to_uint8`, but in float32) run on the device, so only uint8 crosses
  to the host;
* every BatchNormalization whose input is a Conv2D that feeds nothing else is folded into that
  convolution.  In inference mode BN is the per-channel affine map
  ``gamma * (z - mean) / sqrt(var + eps) + beta`` (Ioffe & Szegedy 2015, Alg. 2), so the folded
  convolution has kernel ``k * s`` and bias ``(b - mean) * s + beta`` with
  ``s = gamma / sqrt(var + eps)``: the same function up to float32 rounding.  "Exact enough" is
  defined by the tests: the folded model agrees with the unfolded one within a float32 tolerance
  and in uint8 up to off-by-one at .5 rounding boundaries, and tiled output equals whole-image
  output byte for byte when both use the same predictor (``tests/test_inference.py``,
  ``tests/test_upscale.py``).

Build a new predictor after further training: with BatchNorm folded it computes with the folded copy
of the weights taken when it was built.
"""
from __future__ import annotations

import numpy as np

__all__ = ["Predictor", "make_predictor", "fold_batchnorm"]


# ----------------------------------------------------------------------------------------
# BatchNorm folding

def _histories(obj):
    """Names of the layers referenced by ``keras_history`` entries anywhere in ``obj`` (a config)."""
    if isinstance(obj, dict):
        if "keras_history" in obj:
            yield obj["keras_history"][0]
        else:
            for v in obj.values():
                yield from _histories(v)
    elif isinstance(obj, (list, tuple)):
        if len(obj) == 3 and isinstance(obj[0], str) and all(isinstance(i, int) for i in obj[1:]):
            yield obj[0]  # an [layer_name, node_index, tensor_index] entry of output_layers
        else:
            for v in obj:
                yield from _histories(v)


def _foldable_pairs(model) -> dict[str, str]:
    """``{batchnorm name: conv name}`` of the BN layers of a functional ``model`` that can be
    folded: the BN normalises the last axis and its only input is a linear, unshared,
    channels-last ``Conv2D`` whose output goes to this BN only."""
    import keras

    config = model.get_config()
    consumers: dict[str, int] = {}
    for entry in config["layers"]:
        for name in _histories(entry["inbound_nodes"]):
            consumers[name] = consumers.get(name, 0) + 1
    for name in _histories(config["output_layers"]):
        consumers[name] = consumers.get(name, 0) + 1
    pairs = {}
    for entry in config["layers"]:
        layer = model.get_layer(entry["config"]["name"])
        if type(layer) is not keras.layers.BatchNormalization or len(entry["inbound_nodes"]) != 1:
            continue
        if layer.axis not in (-1, len(layer.input.shape) - 1):
            continue
        sources = list(_histories(entry["inbound_nodes"]))
        if len(sources) != 1:
            continue
        conv = model.get_layer(sources[0])
        conv_entry = next(e for e in config["layers"] if e["config"]["name"] == conv.name)
        if (type(conv) is keras.layers.Conv2D and conv.data_format == "channels_last"
                and conv.get_config()["activation"] == "linear"
                and len(conv_entry["inbound_nodes"]) == 1 and consumers.get(conv.name) == 1):
            pairs[layer.name] = conv.name
    return pairs


def _f64(variable) -> np.ndarray:
    from keras import ops
    return np.asarray(ops.convert_to_numpy(variable), np.float64)


def _folded_weights(conv, bn) -> list[np.ndarray]:
    """Kernel and bias of ``conv`` followed by inference-mode ``bn``, computed in float64."""
    kernel = _f64(conv.kernel)
    bias = _f64(conv.bias) if conv.use_bias else 0.0
    var = _f64(bn.moving_variance)
    mean = _f64(bn.moving_mean)
    gamma = _f64(bn.gamma) if bn.scale else 1.0
    beta = _f64(bn.beta) if bn.center else 0.0
    s = gamma / np.sqrt(var + float(bn.epsilon))
    dtype = conv.kernel.dtype
    return [(kernel * s).astype(dtype), ((bias - mean) * s + beta).astype(dtype)]


def fold_batchnorm(model):
    """A copy of the functional ``model`` with every foldable BatchNormalization (see the module
    docstring) folded into the Conv2D before it, and the other layers' weights copied.

    Returns ``model`` itself when it is not a functional model (a ``Sequential`` one runs
    unfolded) or has nothing to fold.
    """
    import keras

    if type(model).__name__ != "Functional":  # a Sequential model's config has no graph to rewrite
        return model
    pairs = _foldable_pairs(model)
    if not pairs:
        return model
    convs = {c: b for b, c in pairs.items()}

    def clone(layer):
        config = layer.get_config()
        if layer.name in convs:
            config["use_bias"] = True
        return layer.__class__.from_config(config)

    def call(layer, x, *args, **kwargs):  # a folded BN is left out of the graph
        return x if layer.name in pairs else layer(x, *args, **kwargs)

    folded = keras.models.clone_model(model, clone_function=clone, call_function=call)
    for layer in model.layers:
        if layer.name in pairs or isinstance(layer, keras.layers.InputLayer):
            continue
        target = folded.get_layer(layer.name)
        if layer.name in convs:
            target.set_weights(_folded_weights(layer, model.get_layer(convs[layer.name])))
        else:
            target.set_weights(layer.get_weights())
    return folded


# ----------------------------------------------------------------------------------------
# the compiled forward pass

def _to_input(x_uint8):
    """uint8 -> [0, 1] on the device, looked up in the library's one table
    (:data:`srgan_lib.models.LR_FROM_UINT8`)."""
    from keras import ops

    from srgan_lib.models import LR_FROM_UINT8
    return ops.take(ops.convert_to_tensor(LR_FROM_UINT8), ops.cast(x_uint8, "int32"), axis=0)


def _hr_to_uint8_on_device(y):
    from keras import ops
    return ops.cast(ops.clip(ops.round((y + 1.0) * 127.5), 0.0, 255.0), "uint8")


class Predictor:
    """A generator compiled for inference (see the module docstring); build with :func:`make_predictor`.

    ``predictor(lr)`` maps a uint8 batch ``(N, H, W, 3)`` to the uint8 SR batch
    ``(N, H * scale, W * scale, 3)``; ``predictor.predict_float(lr)`` returns the float32
    network output in [-1, 1] instead.  ``model`` is the generator it was built from,
    ``scale`` its upscaling factor.
    """

    def __init__(self, model, fold: bool = True):
        import keras

        self.model = model
        self.scale = _scale_of(model)
        net = fold_batchnorm(model) if fold else model
        self.folded = net is not model
        from srgan_lib import backend

        signature = [((None, None, None, 3), "uint8")]  # one trace for every image size
        to_uint8 = backend.compiled(lambda x: _hr_to_uint8_on_device(net(_to_input(x), training=False)),
                                    models=[net], signature=signature)
        to_float = backend.compiled(lambda x: net(_to_input(x), training=False), models=[net],
                                    signature=signature)
        self._run = lambda x, as_uint8: keras.ops.convert_to_numpy((to_uint8 if as_uint8 else to_float)(x))

    def _checked(self, lr) -> np.ndarray:
        x = np.asarray(lr)
        if x.dtype != np.uint8 or x.ndim != 4 or x.shape[-1] != 3:
            raise ValueError(f"Predictor: expected a uint8 batch of shape (N, H, W, 3), "
                             f"got {x.dtype} {x.shape}")
        return np.ascontiguousarray(x)

    def __call__(self, lr) -> np.ndarray:
        return self._run(self._checked(lr), True)

    def predict_float(self, lr) -> np.ndarray:
        return self._run(self._checked(lr), False)


def _scale_of(model) -> int:
    """The integer factor by which ``model`` upscales height and width."""
    from srgan_lib.errors import UserError

    n = 16
    shape = tuple(model.compute_output_shape((1, n, n, 3)))
    if len(shape) != 4 or shape[1] != shape[2] or shape[1] % n or shape[3] != 3:
        raise UserError(f"model {model.name!r} is not an RGB upscaler: a {n}x{n}x3 input gives "
                        f"{shape[1:]}")
    return shape[1] // n


def make_predictor(model, fold: bool = True) -> Predictor:
    """Compile the generator ``model`` for inference: see :class:`Predictor`.

    ``fold=False`` keeps BatchNormalization layers as they are.  Build the predictor once and
    call it on many batches; each new input shape is compiled once.
    """
    return Predictor(model, fold=fold)
