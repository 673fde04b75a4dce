"""Export a trained generator for serving (``srgan export``).

Formats (the exported model keeps a dynamic spatial size: input ``(N, H, W, 3)`` float32
LR in [0, 1] with ``N``, ``H``, ``W`` free, output ``(N, 4H, 4W, 3)`` in [-1, 1]):

``keras``
    ``model.save(PATH)`` -- a ``.keras`` archive, reloadable on any backend with
    ``keras.saving.load_model`` (or ``srgan_lib.weights.load_generator``).
``savedmodel``
    a TensorFlow SavedModel folder written by ``model.export(PATH, format="tf_saved_model")``;
    serve it with ``tf.saved_model.load(PATH).serve(x)`` or TF Serving.  Needs
    ``KERAS_BACKEND=tensorflow``.
``onnx``
    ``model.export(PATH, format="onnx")``.  On the TensorFlow backend Keras converts with
    ``tf2onnx`` (optional packages: ``tf2onnx``, ``onnx``; run the file with
    ``onnxruntime``).  On the JAX backend Keras would need ``jax2onnx``, which pulls in
    flax/optax/orbax; export ONNX with ``KERAS_BACKEND=tensorflow`` instead.

Outputs are written atomically (:mod:`srgan_lib.atomic`: a temporary sibling renamed into
place), an existing output is only replaced with ``overwrite=True`` (``--overwrite``), and an
output that cannot be written is a one-line :class:`~srgan_lib.errors.OutputError`.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from srgan_lib.atomic import atomic_dir, atomic_write, make_dir, refuse_existing
from srgan_lib.errors import OutputExistsError, UserError

__all__ = ["FORMATS", "export_generator", "check_target"]

FORMATS = ("keras", "savedmodel", "onnx")


def _backend() -> str:
    from srgan_lib import backend
    return backend.name()


def _require_tensorflow(what: str) -> None:
    backend = _backend()
    if backend != "tensorflow":
        raise UserError(f"{what} export needs the TensorFlow backend (KERAS_BACKEND=tensorflow); "
                        f"the current backend is {backend!r}")


def _require_packages(what: str, names) -> None:
    missing = [n for n in names if importlib.util.find_spec(n) is None]
    if missing:
        raise UserError(f"{what} export needs the optional package(s) {', '.join(missing)} "
                        f"(pip install {' '.join(missing)})")


def _input_signature():
    import keras
    return [keras.InputSpec(shape=(None, None, None, 3), dtype="float32")]


def check_target(path: Path, format: str, overwrite: bool) -> None:
    """Every cheap precondition of :func:`export_generator`, so that the command fails before
    it loads a model."""
    if format not in FORMATS:
        raise UserError(f"unknown export format {format!r} (choose from {', '.join(FORMATS)})")
    if format == "keras" and path.suffix != ".keras":
        raise UserError(f"a Keras model file must end in .keras (got {str(path)!r})")
    if format == "savedmodel":
        _require_tensorflow("SavedModel")
    if format == "onnx":
        if _backend() == "tensorflow":
            _require_packages("ONNX", ["tf2onnx", "onnx"])
        elif _backend() == "jax":
            _require_packages("ONNX (JAX backend)", ["jax2onnx"])
    refuse_existing([path], overwrite)
    if overwrite and (path.exists() or path.is_symlink()):
        _check_replaceable(path, format)


def _check_replaceable(path: Path, format: str) -> None:
    """``--overwrite`` replaces only what an export made: a SavedModel folder (``saved_model.pb``
    inside) for ``savedmodel``, a regular file for ``keras`` and ``onnx``; anything else is refused."""
    if path.is_symlink():
        raise OutputExistsError(f"{str(path)!r} is a symbolic link; refusing to replace it, even with --overwrite")
    if format == "savedmodel":
        if not path.is_dir() or not (path / "saved_model.pb").is_file():
            kind = "a folder" if path.is_dir() else "a file"
            raise OutputExistsError(f"{str(path)!r} is {kind} that is not a SavedModel (no saved_model.pb); "
                                    f"refusing to replace it, even with --overwrite")
    elif not path.is_file():
        raise OutputExistsError(f"{str(path)!r} is a folder, not a {format} file; refusing to replace it, "
                                f"even with --overwrite")


def export_generator(model, path, format: str = "keras", overwrite: bool = False) -> Path:
    """Export ``model`` to ``path`` as ``format`` (``keras``, ``savedmodel`` or ``onnx``).

    Raises :class:`~srgan_lib.errors.UserError` for an unknown format, a ``.keras`` path
    without that suffix, a backend or optional package the format needs;
    :class:`~srgan_lib.errors.OutputExistsError` when ``path`` exists and ``overwrite`` is
    false, or when it is not what an export writes (a folder without ``saved_model.pb``, a folder
    where a file goes): ``overwrite`` replaces only an earlier export;
    :class:`~srgan_lib.errors.OutputError` when ``path`` cannot be written.  The file
    or folder appears complete or not at all (:mod:`srgan_lib.atomic`); missing parent folders
    are created.  Returns ``path``.
    """
    path = Path(path)
    check_target(path, format, overwrite)
    make_dir(path.parent)
    if format == "savedmodel":
        with atomic_dir(path, overwrite=overwrite) as tmp:
            model.export(str(tmp), format="tf_saved_model", verbose=False,
                         input_signature=_input_signature())
    elif format == "keras":
        atomic_write(path, model.save, overwrite=overwrite, suffix=".keras")
    else:
        atomic_write(path, lambda tmp: model.export(str(tmp), format="onnx", verbose=False,
                                                    input_signature=_input_signature()),
                     overwrite=overwrite, suffix=".onnx")
    return path
