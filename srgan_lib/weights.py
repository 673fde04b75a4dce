"""Finding and loading trained generators: ``load_generator(spec)``.

``spec`` may be

* a run folder written by ``srgan train`` (its ``config.json`` gives the architecture,
  ``generator.weights.h5`` the latest weights);
* a ``.keras`` model file (``keras.saving.load_model``);
* a ``.weights.h5`` file: the architecture comes from a manifest ``NAME.json`` beside it
  (as shipped in ``data/weights/``), else the paper's default SRResNet;
* the name of a shipped model (``srresnet-mse``, ``srgan-vgg54``, ...), looked up in
  ``$SRGAN_WEIGHTS_DIR`` and in the shipped folder: ``data/weights/`` of the repository, which
  the wheel carries as the package data ``srgan_lib/shipped/`` (pyproject.toml), so a
  ``pip install`` finds the same generators as a checkout.  A shipped file is checked against
  the sha256 of its manifest before it is loaded.

A spec that names nothing is an :class:`srgan_lib.errors.InputNotFoundError` listing the shipped
models; a file that cannot be loaded (not HDF5, another architecture, a malformed ``config.json``
or manifest) is an :class:`srgan_lib.errors.UserError` naming it.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import keras

from srgan_lib import models
from srgan_lib.errors import InputNotFoundError, UserError

__all__ = ["ARCH_KEYS", "shipped_dir", "weights_dirs", "shipped_models", "sha256", "load_generator"]

ARCH_KEYS = ("scale", "num_blocks", "filters", "upsample")


def shipped_dir() -> Path | None:
    """The folder of the generators shipped with the library (manifests, weights, training logs).

    ``srgan_lib/shipped/`` in an installed wheel, ``data/weights/`` in a checkout; None if neither.
    """
    here = Path(__file__).resolve().parent
    for d in (here / "shipped", here.parent / "data" / "weights"):
        if d.is_dir():
            return d
    return None


def weights_dirs() -> list[Path]:
    """Folders searched for shipped generators, in order: ``$SRGAN_WEIGHTS_DIR``, then :func:`shipped_dir`."""
    dirs = []
    if os.environ.get("SRGAN_WEIGHTS_DIR"):
        dirs.append(Path(os.environ["SRGAN_WEIGHTS_DIR"]))
    if shipped_dir() is not None:
        dirs.append(shipped_dir())
    return dirs


def shipped_models() -> dict[str, Path]:
    """Name -> manifest path of every shipped generator found.

    A shipped generator is a pair ``NAME.weights.h5`` + ``NAME.json`` (its manifest); other
    files in the folder (evaluation tables, logs) are not models.
    """
    found = {}
    for d in weights_dirs():
        for w in sorted(d.glob("*.weights.h5")) if d.is_dir() else []:
            name = w.name[: -len(".weights.h5")]
            manifest = w.with_name(name + ".json")
            if manifest.is_file():
                found.setdefault(name, manifest)
    return found


def sha256(path) -> str:
    """The SHA-256 hex digest of a file (:func:`hashlib.file_digest`)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _read_json_object(path: Path, what: str) -> dict:
    """The JSON object in ``path``; :class:`UserError` naming the file if it is not one."""
    try:
        obj = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{what} {str(path)!r} is not valid JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise UserError(f"{what} {str(path)!r} must hold a JSON object, not {type(obj).__name__}")
    return obj


def _build(arch, source: Path) -> keras.Model:
    if not isinstance(arch, dict):
        raise UserError(f"{str(source)!r}: 'architecture' must be an object, not {type(arch).__name__}")
    return models.srresnet(**{k: arch[k] for k in ARCH_KEYS if k in arch})


def _load_weights(model: keras.Model, path: Path) -> keras.Model:
    try:
        model.load_weights(path)
    except (OSError, ValueError) as exc:  # h5py: not an HDF5 file; keras: weights of another model
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise UserError(f"{str(path)!r}: cannot load generator weights ({type(exc).__name__}: {first})") from None
    return model


def check_image_to_image(model, source) -> keras.Model:
    """``model`` if it maps one ``(N, H, W, 3)`` image batch to one ``(N, H', W', 3)`` batch, as a
    generator does; else a :class:`UserError` naming ``source``."""
    def shapes(tensors):
        try:
            return [tuple(t.shape) for t in tensors]
        except (AttributeError, TypeError, ValueError):
            return None

    ins, outs = shapes(getattr(model, "inputs", None) or []), shapes(getattr(model, "outputs", None) or [])
    ok = (ins is not None and outs is not None and len(ins) == 1 and len(outs) == 1
          and len(ins[0]) == 4 and len(outs[0]) == 4 and ins[0][-1] == 3 and outs[0][-1] == 3)
    if not ok:
        raise UserError(f"{str(source)!r} is not an image-to-image generator: it maps inputs {ins} to outputs {outs}, "
                        f"where a generator maps one (N, H, W, 3) image batch to one (N, sH, sW, 3) batch")
    return model


def load_generator(spec) -> keras.Model:
    """A trained SRResNet/SRGAN generator from a run folder, a file, or a shipped model name."""
    spec_str = str(spec)
    path = Path(spec_str).expanduser()
    if path.is_dir():
        cfg_path = path / "config.json"
        gen = path / "generator.weights.h5"
        if not cfg_path.is_file() or not gen.is_file():
            raise InputNotFoundError(f"{str(path)!r} is not a training run folder (expected config.json and "
                                     f"generator.weights.h5 written by 'srgan train')")
        return _load_weights(_build(_read_json_object(cfg_path, "run configuration"), cfg_path), gen)
    if path.is_file():
        if path.name.endswith(".keras"):
            try:
                model = keras.saving.load_model(path, compile=False)
            except (OSError, ValueError) as exc:  # keras: not a .keras zip, or an unknown layer
                raise UserError(f"{str(path)!r}: cannot load Keras model ({type(exc).__name__})") from None
            return check_image_to_image(model, path)
        if path.name.endswith(".weights.h5"):
            manifest = path.with_name(path.name[: -len(".weights.h5")] + ".json")
            arch = _read_json_object(manifest, "manifest").get("architecture", {}) if manifest.is_file() else {}
            return _load_weights(_build(arch, manifest), path)
        raise UserError(f"{str(path)!r}: expected a run folder, a .keras file or a .weights.h5 file")
    shipped = shipped_models()
    if spec_str in shipped:
        manifest = _read_json_object(shipped[spec_str], "manifest")
        if "file" not in manifest:
            raise UserError(f"manifest {str(shipped[spec_str])!r} names no weights 'file'")
        wfile = shipped[spec_str].with_name(manifest["file"])
        if not wfile.is_file():
            raise InputNotFoundError(f"shipped model {spec_str!r}: weights file {str(wfile)!r} is missing")
        if manifest.get("sha256") and sha256(wfile) != manifest["sha256"]:
            raise UserError(f"shipped model {spec_str!r}: {str(wfile)!r} does not match the sha256 in its "
                            "manifest (a corrupt or replaced file)")
        return _load_weights(_build(manifest.get("architecture", {}), shipped[spec_str]), wfile)
    known = ", ".join(shipped) or "none found"
    raise InputNotFoundError(f"model {spec_str!r}: not a run folder or weights file, nor a shipped model "
                             f"(shipped: {known})")
