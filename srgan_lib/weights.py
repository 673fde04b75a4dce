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
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import keras

from srgan_lib import models

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
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _build(arch: dict) -> keras.Model:
    return models.srresnet(**{k: arch[k] for k in ARCH_KEYS if k in arch})


def _load_weights(model: keras.Model, path: Path) -> keras.Model:
    try:
        model.load_weights(path)
    except Exception as exc:  # keras raises several types for a wrong file
        raise ValueError(f"{path}: cannot load generator weights ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    return model


def load_generator(spec) -> keras.Model:
    """A trained SRResNet/SRGAN generator from a run folder, a file, or a shipped model name."""
    spec_str = str(spec)
    path = Path(spec_str).expanduser()
    if path.is_dir():
        cfg_path = path / "config.json"
        gen = path / "generator.weights.h5"
        if not cfg_path.is_file() or not gen.is_file():
            raise FileNotFoundError(f"{path} is not a training run folder (expected config.json and "
                                    f"generator.weights.h5 written by 'srgan train')")
        return _load_weights(_build(json.loads(cfg_path.read_text())), gen)
    if path.is_file():
        if path.name.endswith(".keras"):
            try:
                return keras.saving.load_model(path, compile=False)
            except Exception as exc:
                raise ValueError(f"{path}: cannot load Keras model ({type(exc).__name__})") from None
        if path.name.endswith(".weights.h5"):
            manifest = path.with_name(path.name[: -len(".weights.h5")] + ".json")
            arch = json.loads(manifest.read_text()).get("architecture", {}) if manifest.is_file() else {}
            return _load_weights(_build(arch), path)
        raise ValueError(f"{path}: expected a run folder, a .keras file or a .weights.h5 file")
    shipped = shipped_models()
    if spec_str in shipped:
        manifest = json.loads(shipped[spec_str].read_text())
        wfile = shipped[spec_str].with_name(manifest["file"])
        if not wfile.is_file():
            raise FileNotFoundError(f"shipped model {spec_str!r}: weights file {wfile} is missing")
        if manifest.get("sha256") and sha256(wfile) != manifest["sha256"]:
            raise ValueError(f"shipped model {spec_str!r}: {wfile} does not match the sha256 in its manifest")
        return _load_weights(_build(manifest.get("architecture", {})), wfile)
    known = ", ".join(shipped) or "none found"
    raise FileNotFoundError(f"model {spec_str!r}: not a run folder or weights file, nor a shipped model "
                            f"(shipped: {known})")
