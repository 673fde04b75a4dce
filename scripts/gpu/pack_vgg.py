"""Pack the (8-bit de-quantised) VGG19 notop HDF5 file losslessly into a small .npz and back.

The shared weights file stores float32 values that take at most 256 distinct values per tensor
(they were de-quantised from uint8), so an index + look-up-table form is exact and about half the
size.  Used only to move the file to a GPU machine whose transfers are size-limited.

    python scripts/gpu/pack_vgg.py pack   IN.h5  OUT.npz
    python scripts/gpu/pack_vgg.py unpack IN.npz OUT.h5
"""
import json
import sys

import h5py
import numpy as np


def _attrs(obj):
    out = {}
    for k, v in obj.attrs.items():
        if isinstance(v, np.ndarray):
            out[k] = {"array": [x.decode() if isinstance(x, bytes) else x for x in v.tolist()],
                      "bytes": bool(v.dtype.kind == "S")}
        else:
            out[k] = {"value": v.decode() if isinstance(v, bytes) else v, "bytes": isinstance(v, bytes)}
    return out


def pack(src, dst):
    arrays, meta = {}, {"groups": {}, "datasets": []}
    with h5py.File(src, "r") as f:
        meta["groups"]["/"] = _attrs(f)

        def visit(name, obj):
            if isinstance(obj, h5py.Group):
                meta["groups"][name] = _attrs(obj)
            else:
                a = obj[()]
                lut, idx = np.unique(a, return_inverse=True)
                assert len(lut) <= 256, name
                k = len(meta["datasets"])
                meta["datasets"].append(name)
                arrays[f"i{k}"] = idx.reshape(a.shape).astype(np.uint8)
                arrays[f"l{k}"] = lut.astype(a.dtype)
        f.visititems(visit)
    np.savez_compressed(dst, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays)


def _set_attrs(obj, attrs):
    for k, v in attrs.items():
        if "array" in v:
            obj.attrs[k] = np.array([x.encode() for x in v["array"]]) if v["bytes"] else np.array(v["array"])
        else:
            obj.attrs[k] = v["value"].encode() if v["bytes"] else v["value"]


def unpack(src, dst):
    z = np.load(src)
    meta = json.loads(bytes(z["meta"]).decode())
    with h5py.File(dst, "w") as f:
        for name in sorted(meta["groups"], key=lambda n: n.count("/")):
            g = f if name == "/" else f.require_group(name)
            _set_attrs(g, meta["groups"][name])
        for k, name in enumerate(meta["datasets"]):
            f.create_dataset(name, data=z[f"l{k}"][z[f"i{k}"]])


if __name__ == "__main__":
    {"pack": pack, "unpack": unpack}[sys.argv[1]](sys.argv[2], sys.argv[3])
