"""The backend seam (srgan_lib.backend) on the backend of this run: gradients and compiled functions
against values computed by hand, and compiled functions that read a model's variables at each call."""
from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from srgan_lib import backend
from srgan_lib.errors import UserError

pytestmark = pytest.mark.backend


def _dense(kernel, bias=0.0):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, name="d")])
    model.get_layer("d").set_weights([np.asarray(kernel, np.float32).reshape(3, 1), np.full(1, bias, np.float32)])
    return model


def test_name_is_the_keras_backend_and_others_are_refused(monkeypatch):
    assert backend.name() == keras.backend.backend() in backend.SUPPORTED
    monkeypatch.setattr(keras.backend, "backend", lambda: "torch")
    with pytest.raises(UserError, match="tensorflow and jax Keras backends, not 'torch'"):
        backend.name()


@pytest.mark.parametrize("compile", [False, True])
def test_value_and_grad_of_an_input(compile):
    x = np.array([[1.0, -2.0, 3.0]], np.float32)
    model = _dense([0.5, 1.0, -1.0], bias=0.25)
    g = backend.value_and_grad(lambda v, w: ops.sum(ops.square(model(v) - w)), models=[model], compile=compile)
    value, grad = g(x, np.float32(1.0))
    y = 0.5 - 2.0 - 3.0 + 0.25  # the model's output
    assert float(ops.convert_to_numpy(value)) == pytest.approx((y - 1.0) ** 2)
    np.testing.assert_allclose(ops.convert_to_numpy(grad), [[2 * (y - 1) * 0.5, 2 * (y - 1), -2 * (y - 1)]],
                               rtol=1e-6)
    if compile:  # the compiled program reads the variables at each call: new weights, new gradient
        model.get_layer("d").set_weights([np.ones((3, 1), np.float32), np.zeros(1, np.float32)])
        value, grad = g(x, np.float32(1.0))
        assert float(ops.convert_to_numpy(value)) == pytest.approx((2.0 - 1.0) ** 2)
        np.testing.assert_allclose(ops.convert_to_numpy(grad), [[2.0, 2.0, 2.0]], rtol=1e-6)


def test_variable_gradients():
    x = np.array([[1.0, 2.0, 3.0]], np.float32)
    model = _dense([1.0, 1.0, 1.0])
    unused = keras.Variable(np.zeros(2, np.float32))
    kernel, bias = model.get_layer("d").kernel, model.get_layer("d").bias
    value, (dk, db, du) = backend.variable_gradients(lambda: ops.sum(model(x)) * 2.0, [kernel, bias, unused])
    assert float(ops.convert_to_numpy(value)) == pytest.approx(12.0)
    np.testing.assert_allclose(ops.convert_to_numpy(dk), [[2.0], [4.0], [6.0]])
    np.testing.assert_allclose(ops.convert_to_numpy(db), [2.0])
    assert du is None if backend.name() == "tensorflow" else not np.any(ops.convert_to_numpy(du))


def test_compiled_function_with_a_signature_serves_every_size():
    model = keras.Sequential([keras.Input((None, None, 1)), keras.layers.Conv2D(1, 1, use_bias=False, name="c")])
    model.get_layer("c").set_weights([np.full((1, 1, 1, 1), 2.0, np.float32)])
    f = backend.compiled(lambda x: model(ops.cast(x, "float32")) + 1.0, models=[model],
                         signature=[((None, None, None, 1), "uint8")])
    for shape in ((1, 3, 4, 1), (2, 5, 2, 1)):
        x = np.arange(np.prod(shape), dtype=np.uint8).reshape(shape)
        np.testing.assert_array_equal(ops.convert_to_numpy(f(x)), 2.0 * x + 1.0)
    model.get_layer("c").set_weights([np.full((1, 1, 1, 1), 3.0, np.float32)])
    np.testing.assert_array_equal(ops.convert_to_numpy(f(np.ones((1, 2, 2, 1), np.uint8))), 4.0)


def test_device_constant_and_gather_2d():
    pool = np.arange(30, dtype=np.uint8).reshape(5, 6)
    row = np.array([[0, 4], [2, 3]], np.int32)
    col = np.array([[5, 0], [1, 1]], np.int32)
    on_device = backend.device_constant(pool)
    np.testing.assert_array_equal(ops.convert_to_numpy(on_device), pool)
    got = backend.gather_2d(on_device, ops.convert_to_tensor(row), ops.convert_to_tensor(col))
    np.testing.assert_array_equal(ops.convert_to_numpy(got), pool[row, col])


def test_accelerators_are_names():
    found = backend.accelerators()
    assert isinstance(found, list) and all(isinstance(d, str) and "cpu" not in d.lower() for d in found)
