"""``srgan_lib.export``: exported generators give the Keras model's output, any input size."""
import numpy as np
import pytest

import keras

from srgan_lib import cli, models
from srgan_lib import export as E
from srgan_lib.errors import OutputError, OutputExistsError, UserError

SIZES = [(1, 7, 9, 3), (2, 12, 5, 3)]  # two different spatial sizes: the size stays dynamic


@pytest.fixture(scope="module")
def gen():
    keras.utils.set_random_seed(0)
    return models.srresnet(num_blocks=1, filters=8)


@pytest.fixture(scope="module")
def gen_file(gen, tmp_path_factory):
    p = tmp_path_factory.mktemp("m") / "g.keras"
    gen.save(p)
    return p


def _inputs():
    rng = np.random.default_rng(0)
    return [rng.uniform(0, 1, s).astype("float32") for s in SIZES]


def _reference(gen, x):
    return keras.ops.convert_to_numpy(gen(x, training=False))


@pytest.mark.backend
def test_keras_roundtrip(gen, tmp_path):
    out = E.export_generator(gen, tmp_path / "g.keras", "keras")
    back = keras.saving.load_model(out)
    for x in _inputs():
        np.testing.assert_allclose(_reference(back, x), _reference(gen, x), rtol=0, atol=1e-6)


def test_savedmodel(gen, tmp_path):
    if keras.backend.backend() != "tensorflow":
        pytest.skip("SavedModel export needs the TensorFlow backend")
    import tensorflow as tf
    out = E.export_generator(gen, tmp_path / "sm", "savedmodel")
    loaded = tf.saved_model.load(str(out))
    assert list(loaded.serve.input_signature[0].shape) == [None, None, None, 3]
    for x in _inputs():
        y = loaded.serve(tf.constant(x)).numpy()
        assert y.shape == (x.shape[0], x.shape[1] * 4, x.shape[2] * 4, 3)
        np.testing.assert_allclose(y, _reference(gen, x), rtol=0, atol=1e-5)


def test_onnx(gen, tmp_path):
    if keras.backend.backend() != "tensorflow":
        pytest.skip("this test exports ONNX through tf2onnx (TensorFlow backend)")
    pytest.importorskip("tf2onnx", reason="ONNX export needs the optional package tf2onnx")
    ort = pytest.importorskip("onnxruntime", reason="running the ONNX file needs onnxruntime")
    out = E.export_generator(gen, tmp_path / "g.onnx", "onnx")
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    assert inp.shape[3] == 3
    assert not isinstance(inp.shape[1], int) and not isinstance(inp.shape[2], int)  # dynamic H, W
    for x in _inputs():
        (y,) = sess.run(None, {inp.name: x})
        np.testing.assert_allclose(y, _reference(gen, x), rtol=0, atol=1e-5)


def test_savedmodel_needs_tensorflow(gen, tmp_path, monkeypatch):
    monkeypatch.setattr(E, "_backend", lambda: "jax")
    with pytest.raises(UserError, match="TensorFlow backend.*'jax'"):
        E.export_generator(gen, tmp_path / "sm", "savedmodel")
    assert not (tmp_path / "sm").exists()


def test_missing_optional_package_is_a_clear_error(gen, tmp_path, monkeypatch):
    monkeypatch.setattr(E, "_backend", lambda: "tensorflow")
    real = E.importlib.util.find_spec
    monkeypatch.setattr(E.importlib.util, "find_spec", lambda n: None if n == "tf2onnx" else real(n))
    with pytest.raises(UserError, match="pip install tf2onnx"):
        E.export_generator(gen, tmp_path / "g.onnx", "onnx")


def test_no_overwrite_and_bad_suffix(gen, tmp_path):
    p = tmp_path / "g.keras"
    p.write_bytes(b"old")
    with pytest.raises(OutputExistsError, match="g.keras"):
        E.export_generator(gen, p, "keras")
    assert p.read_bytes() == b"old"
    E.export_generator(gen, p, "keras", overwrite=True)
    assert keras.saving.load_model(p).count_params() == gen.count_params()
    with pytest.raises(UserError, match=".keras"):
        E.export_generator(gen, tmp_path / "g.h5", "keras")
    with pytest.raises(UserError, match="unknown export format"):
        E.export_generator(gen, tmp_path / "g.x", "tflite")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["g.keras"]  # no temp files left


def test_savedmodel_folder_is_atomic_and_replaced_only_when_asked(gen, tmp_path):
    if keras.backend.backend() != "tensorflow":
        pytest.skip("SavedModel export needs the TensorFlow backend")
    out = tmp_path / "sm"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(OutputExistsError, match="sm"):
        E.export_generator(gen, out, "savedmodel")
    assert sorted(x.name for x in out.iterdir()) == ["keep.txt"]
    with pytest.raises(OutputExistsError, match="not a SavedModel"):  # --overwrite replaces only an export
        E.export_generator(gen, out, "savedmodel", overwrite=True)
    assert sorted(x.name for x in out.iterdir()) == ["keep.txt"]
    (out / "keep.txt").unlink()
    out.rmdir()
    E.export_generator(gen, out, "savedmodel")
    (out / "stale.txt").write_text("from an earlier export")
    E.export_generator(gen, out, "savedmodel", overwrite=True)
    assert (out / "saved_model.pb").is_file() and not (out / "stale.txt").exists()
    assert sorted(x.name for x in tmp_path.iterdir()) == ["sm"]  # no temporary folder left
    nested = E.export_generator(gen, tmp_path / "a" / "b" / "sm", "savedmodel")
    assert (nested / "saved_model.pb").is_file()


def test_unwritable_output_is_an_output_error(gen, tmp_path):
    (tmp_path / "file").write_text("a file, not a folder")
    with pytest.raises(OutputError, match="file"):
        E.export_generator(gen, tmp_path / "file" / "g.keras", "keras")
    assert (tmp_path / "file").read_text() == "a file, not a folder"


@pytest.mark.backend
def test_cli_export(gen, gen_file, tmp_path, capsys):
    out = tmp_path / "exp.keras"
    assert cli.main(["export", "--model", str(gen_file), "--format", "keras", "--out", str(out)]) == 0
    x = _inputs()[0]
    np.testing.assert_allclose(_reference(keras.saving.load_model(out), x), _reference(gen, x),
                               rtol=0, atol=1e-6)
    assert cli.main(["export", "--model", str(gen_file), "--format", "keras", "--out", str(out)]) == 2
    assert "exp.keras" in capsys.readouterr().err
    # an unwritable --out: one line, exit 2, no traceback
    (tmp_path / "file").write_text("x")
    bad = tmp_path / "file" / "exp.keras"
    assert cli.main(["export", "--model", str(gen_file), "--format", "keras", "--out", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot create the folder" in err[0] and "file" in err[0]
