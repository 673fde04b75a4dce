"""Paper-style evaluation: PSNR/SSIM tables on the benchmark sets (``srgan eval``).

Protocol of Ledig et al. (2017), Sec. 3.1 (and of the SR literature): the HR
image is mod-cropped to the scale, the LR image is its MATLAB-bicubic downscale
rounded to uint8 (Sec. 3; :mod:`srgan_lib.degrade`), the method's SR output is a
uint8 image, and PSNR/SSIM are computed on the BT.601 Y channel after removing
a ``scale``-pixel border (:mod:`srgan_lib.metrics`).  Grayscale HR images (Set14's
``bridge``) are replicated to three channels.  The library reproduces the x4
bicubic baseline: Set5 28.43/0.811, Set14 26.09/0.705, BSD100 25.96/0.668.

Examples::

    srgan eval --dataset Set5,Set14,BSD100 --model nearest,bicubic
    srgan eval --dataset Set5 --model bicubic --json
    srgan eval --dataset path/to/folder --model runs/srgan --save-dir out/

``--save-dir DIR`` writes the SR images to ``DIR/<dataset>/<model>_x<scale>/<name>.png``
and never overwrites an existing file unless ``--overwrite`` is given.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from srgan_lib.degrade import DEGRADATIONS, degrade, modcrop, upscale_bicubic, upscale_nearest
from srgan_lib.images import list_images, read_image, write_image
from srgan_lib.metrics import psnr, ssim

__all__ = ["load_eval_set", "make_method", "evaluate", "format_table", "compare_resizers",
           "add_arguments", "main"]

BASELINES = ("nearest", "bicubic")


# --------------------------------------------------------------------------- datasets
def _find_local(name: str) -> Path | None:
    root = os.environ.get("SRGAN_DATA_DIR")
    if not root or not Path(root).is_dir():
        return None
    root = Path(root)
    candidates = [root / name]
    if not (root / name).is_dir():  # case-insensitive match: "set5" -> "Set5"
        candidates = [p for p in sorted(root.iterdir()) if p.is_dir() and p.name.lower() == name.lower()]
    for d in candidates:
        if (d / "HR").is_dir():
            return d / "HR"
        if d.is_dir():
            return d
    return None


def _resolve_files(name_or_dir) -> tuple[str, list[Path]]:
    """(display name, sorted image files) of a dataset name or folder."""
    p = Path(name_or_dir)
    if p.is_dir():
        folder = p / "HR" if (p / "HR").is_dir() else p
        label = folder.parent.name if folder.name == "HR" and folder.parent.name else folder.name
        return label or str(p), list_images(folder)
    if p.exists():
        raise NotADirectoryError(f"dataset must be a folder or a dataset name, got a file: {str(p)!r}")
    name = str(name_or_dir)
    looks_like_path = os.sep in name or "/" in name or name.startswith(".")
    if not looks_like_path:
        folder = _find_local(name)
        if folder is not None:
            label = folder.parent.name if folder.name == "HR" else folder.name
            return label, list_images(folder)
        try:
            from srgan_lib import data as _data
        except ModuleNotFoundError as exc:
            if exc.name != "srgan_lib.data":
                raise
            _data = None
        if _data is not None and hasattr(_data, "resolve_dataset"):
            files = [Path(f) for f in _data.resolve_dataset(name)]
            if not files:
                raise ValueError(f"dataset {name!r} has no images")
            return name, sorted(files)
    where = os.environ.get("SRGAN_DATA_DIR")
    hint = (f"not found under SRGAN_DATA_DIR={where!r} (looked for {name}/HR/ and {name}/)" if where
            else "SRGAN_DATA_DIR is not set")
    if looks_like_path:
        raise FileNotFoundError(f"dataset folder not found: {name!r}")
    raise FileNotFoundError(f"dataset {name!r} not found: not a folder, and {hint}")


def load_eval_set(name_or_dir, scale: int = 4) -> list[tuple[str, np.ndarray]]:
    """Load a benchmark set as ``[(name, hr_uint8 (H,W,3) modcropped to scale), ...]``.

    ``name_or_dir`` is a folder (its ``HR/`` subfolder is used if present) or a dataset
    name resolved under ``$SRGAN_DATA_DIR`` (``NAME/HR/*.png`` or ``NAME/*.png``), else by
    ``srgan_lib.data.resolve_dataset`` (download) when that module is available.
    Unreadable files raise :class:`srgan_lib.images.ImageReadError` naming the file.
    """
    return _load(name_or_dir, scale)[1]


def _load(name_or_dir, scale: int) -> tuple[str, list[tuple[str, np.ndarray]]]:
    label, files = _resolve_files(name_or_dir)
    out = []
    for f in files:
        hr = read_image(f)
        if hr.shape[0] < scale or hr.shape[1] < scale:
            raise ValueError(f"image {str(f)!r} ({hr.shape[1]}x{hr.shape[0]}) is smaller than the scale {scale}")
        out.append((Path(f).stem, np.ascontiguousarray(modcrop(hr, scale))))
    return label, out


# --------------------------------------------------------------------------- methods
def make_method(spec: str, scale: int = 4) -> Callable[[np.ndarray], np.ndarray]:
    """A callable ``lr uint8 (h,w,3) -> sr uint8 (h*scale, w*scale, 3)`` for a method spec.

    ``"nearest"`` and ``"bicubic"`` (MATLAB bicubic, rounded) are the baselines; any other
    spec is loaded with ``srgan_lib.weights.load_generator(spec)`` (a run directory, a
    ``.keras`` / ``.weights.h5`` file or a preset name) and applied with
    ``srgan_lib.models.super_resolve``.
    """
    scale = int(scale)
    spec = str(spec).strip()
    if not spec:
        raise ValueError("empty model name; use nearest, bicubic or a generator (run dir, .keras file, preset)")
    if spec == "nearest":
        def method(lr):
            return upscale_nearest(lr, scale)
    elif spec == "bicubic":
        def method(lr):
            return upscale_bicubic(lr, scale)
    else:
        try:
            from srgan_lib import models, weights
        except ModuleNotFoundError as exc:
            if exc.name not in ("srgan_lib.weights", "srgan_lib.models"):
                raise
            raise ValueError(f"unknown model {spec!r}: use nearest, bicubic, or a trained generator "
                             f"(generator loading needs {exc.name}, which is not installed)") from None
        try:
            generator = weights.load_generator(spec)
        except (OSError, ValueError, KeyError) as exc:  # one line naming the spec, never a traceback
            msg = " ".join(str(exc).split()) or type(exc).__name__
            raise ValueError(f"cannot load model {spec!r} (expected nearest, bicubic, a run directory, "
                             f"a .keras/.weights.h5 file or a preset name): {msg}") from None

        def method(lr):
            sr = np.asarray(models.super_resolve(generator, lr))
            want = (lr.shape[0] * scale, lr.shape[1] * scale)
            if sr.shape[:2] != want:
                raise ValueError(f"model {spec!r} produced {sr.shape[1]}x{sr.shape[0]} from a "
                                 f"{lr.shape[1]}x{lr.shape[0]} input, expected x{scale} "
                                 f"({want[1]}x{want[0]}); is it a x{scale} model?")
            return sr
    method.name = spec
    return method


def _safe(label: str) -> str:
    label = Path(label.rstrip("/\\")).name or label
    for suffix in (".weights.h5", ".keras", ".h5"):
        if label.endswith(suffix):
            label = label[: -len(suffix)]
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", label).strip("._") or "model"


# --------------------------------------------------------------------------- evaluation
def feature_distance(sr_uint8, hr_uint8, layer: str = "54", weights=None) -> float:
    """Mean squared distance between the VGG19 feature maps of SR and HR (Eq. 5, phi/12.75).

    The paper's VGG content loss used as a *measure*: lower means the SR image is perceptually
    closer to HR in the sense of VGG's feature space (layer ``"22"`` or ``"54"``).  Images are
    uint8 (H, W, 3); the 4-pixel border is not cropped (features see the whole image).
    """
    from keras import ops

    from srgan_lib import vgg
    from srgan_lib.models import hr_from_uint8

    model = vgg.vgg_features(layer, weights=weights)
    x = np.stack([hr_from_uint8(sr_uint8), hr_from_uint8(hr_uint8)])
    f = ops.convert_to_numpy(model(x))
    return float(np.mean((f[0].astype(np.float64) - f[1]) ** 2))


def evaluate(dataset, method, scale: int = 4, degradation: str = "bicubic", save_dir=None,
             overwrite: bool = False, dataset_name: str | None = None, feature_layer: str | None = None) -> dict:
    """Evaluate one method on one dataset with the paper's protocol (Sec. 3.1).

    ``dataset`` is a name/folder (see :func:`load_eval_set`) or a list of ``(name, hr_uint8)``
    pairs (then ``dataset_name`` labels it); ``method`` is a spec for :func:`make_method` or a
    callable ``lr uint8 -> sr uint8``.  Returns
    ``{"dataset", "model", "scale", "n", "psnr", "ssim", "images": [{"name", "psnr", "ssim"}, ...]}``
    with the means over the images (PSNR in dB on Y, border ``scale``).  With ``save_dir`` the SR
    images are written to ``save_dir/<name>.png`` (existing files are an error unless ``overwrite``).
    With ``feature_layer`` ("22" or "54") each row and the result also get ``"vgg<layer>"``: the
    VGG feature distance of :func:`feature_distance`.
    """
    scale = int(scale)
    if degradation not in DEGRADATIONS:
        raise ValueError(f"unknown degradation {degradation!r}; choose one of {', '.join(DEGRADATIONS)}")
    if isinstance(dataset, (str, os.PathLike)):
        label, images = _load(dataset, scale)
    else:
        label, images = "custom", list(dataset)
    label = dataset_name or label
    if not images:
        raise ValueError(f"dataset {label!r} has no images")
    if isinstance(method, str):
        model, fn = method, make_method(method, scale)
    else:
        fn = method
        model = getattr(method, "name", None) or getattr(method, "__name__", None) or "custom"
    targets = None
    if save_dir is not None:
        save_dir = Path(save_dir)
        targets = [save_dir / f"{name}.png" for name, _ in images]
        if not overwrite:
            for t in targets:
                if t.exists():
                    raise FileExistsError(f"refusing to overwrite existing file {str(t)!r} (use --overwrite)")
        save_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, (name, hr) in enumerate(images):
        hr = np.asarray(hr)
        if hr.dtype != np.uint8 or hr.ndim != 3 or hr.shape[2] != 3:
            raise ValueError(f"{label}/{name}: expected a uint8 (H,W,3) HR image, got {hr.dtype} {hr.shape}")
        hr = modcrop(hr, scale)
        lr = degrade(hr, scale, degradation)
        sr = np.asarray(fn(lr))
        if sr.dtype != np.uint8 or sr.shape != hr.shape:
            raise ValueError(f"{label}/{name}: method {model!r} returned {sr.dtype} {sr.shape}, "
                             f"expected uint8 {hr.shape}")
        try:
            p, s = psnr(sr, hr, border=scale), ssim(sr, hr, border=scale)
        except ValueError as exc:
            raise ValueError(f"{label}/{name}: {exc}") from None
        row = {"name": name, "psnr": p, "ssim": s}
        if feature_layer:
            row[f"vgg{feature_layer}"] = feature_distance(sr, hr, feature_layer)
        rows.append(row)
        if targets is not None:
            write_image(targets[i], sr, overwrite=overwrite)
    result = {"dataset": label, "model": model, "scale": scale, "n": len(rows),
              "psnr": float(np.mean([r["psnr"] for r in rows])),
              "ssim": float(np.mean([r["ssim"] for r in rows])),
              "images": rows}
    if feature_layer:
        key = f"vgg{feature_layer}"
        result[key] = float(np.mean([r[key] for r in rows]))
    return result


# --------------------------------------------------------------------------- output
def _grid(results: Sequence[dict]):
    datasets, models = [], []
    for r in results:
        if r["dataset"] not in datasets:
            datasets.append(r["dataset"])
        if r["model"] not in models:
            models.append(r["model"])
    cell = {(r["model"], r["dataset"]): r for r in results}
    return datasets, models, cell


def format_table(results: Sequence[dict], style: str = "text", degradation: str | None = None) -> str:
    """Paper-style table (rows = methods, columns = dataset PSNR/SSIM); style text|markdown|csv."""
    datasets, models, cell = _grid(results)
    scale = results[0]["scale"] if results else 4

    fkey = next((k for r in results for k in r if k.startswith("vgg")), None)

    def val(m, d, key):
        r = cell.get((m, d))
        if r is None or key not in r:
            return ""
        return {"psnr": f"{r[key]:.2f}", "ssim": f"{r[key]:.4f}"}.get(key, f"{r[key]:.4f}")

    if style == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["dataset", "model", "scale", "n", "psnr", "ssim"] + ([fkey] if fkey else []))
        for r in results:
            w.writerow([r["dataset"], r["model"], r["scale"], r["n"], f"{r['psnr']:.4f}", f"{r['ssim']:.4f}"]
                       + ([f"{r[fkey]:.5f}"] if fkey else []))
        return buf.getvalue().rstrip("\n")
    if style == "markdown":
        keys = ["psnr", "ssim"] + ([fkey] if fkey else [])
        names = {"psnr": "PSNR", "ssim": "SSIM"}
        head = "| Method | " + " | ".join(f"{d} {names.get(k, k.upper())}" for d in datasets for k in keys) + " |"
        sep = "|---|" + "---:|" * (len(keys) * len(datasets))
        lines = [head, sep]
        for m in models:
            lines.append(f"| {m} | " + " | ".join(val(m, d, k) for d in datasets for k in keys) + " |")
        return "\n".join(lines)
    mw = max([len("Method")] + [len(m) for m in models])
    cw = 16
    title = f"x{scale} super-resolution, PSNR [dB] / SSIM on Y, {scale}-pixel border"
    if degradation:
        title += f", {degradation} LR"
    extra = f" {fkey.upper():>8}" if fkey else ""
    if fkey:
        cw += 9
        title += f"; {fkey.upper()} = VGG feature distance to HR"
    line1 = " " * mw + "".join(f"  {d:^{cw}}" for d in datasets)
    line2 = f"{'Method':<{mw}}" + "".join(f"  {'PSNR':>7} {'SSIM':>8}{extra}" for _ in datasets)
    lines = [title, line1.rstrip(), line2]
    for m in models:
        lines.append(f"{m:<{mw}}" + "".join(
            f"  {val(m, d, 'psnr'):>7} {val(m, d, 'ssim'):>8}" + (f" {val(m, d, fkey):>8}" if fkey else "")
            for d in datasets))
    return "\n".join(lines)


def compare_resizers(images, scale: int = 4, libraries=None) -> list[dict]:
    """What another library's "bicubic" LR image does to the benchmark (the book's chapter 1).

    For each library of :data:`srgan_lib.degrade.RESIZE_LIBRARIES` (or ``libraries``) and each
    ``(name, hr_uint8)`` of ``images`` (divisible by ``scale``): the LR image
    ``degrade.resize_with(hr, scale, library)``, its PSNR against the MATLAB LR image
    (:func:`degrade.bicubic`; Y channel, 1-pixel border; ``inf`` when identical) and the PSNR of its
    MATLAB-bicubic upscale against HR (the bicubic baseline, protocol of :func:`psnr`).  Returns
    one dict per library: ``{"library", "lr_psnr", "baseline_psnr", "baseline_diff", "images":
    [{"name", "lr_psnr", "baseline_psnr"}]}`` with means over the images, and ``baseline_diff`` the
    difference of the mean baseline from MATLAB's (so 0 for ``"matlab"``).
    """
    from srgan_lib.degrade import RESIZE_LIBRARIES, bicubic, resize_with

    libraries = tuple(libraries or RESIZE_LIBRARIES)
    images = list(images)
    if not images:
        raise ValueError("compare_resizers needs at least one image")
    refs = [(name, hr, bicubic(hr, scale)) for name, hr in images]
    out = []
    for lib in libraries:
        rows = []
        for name, hr, ref in refs:
            lr = resize_with(hr, scale, lib)
            rows.append({"name": name, "lr_psnr": psnr(lr, ref, border=1),
                         "baseline_psnr": psnr(upscale_bicubic(lr, scale), hr)})
        out.append({"library": lib, "lr_psnr": float(np.mean([r["lr_psnr"] for r in rows])),
                    "baseline_psnr": float(np.mean([r["baseline_psnr"] for r in rows])), "images": rows})
    matlab = float(np.mean([psnr(upscale_bicubic(ref, scale), hr) for _, hr, ref in refs]))
    for r in out:
        r["baseline_diff"] = r["baseline_psnr"] - matlab
    return out


def _split(values: Iterable[str]) -> list[str]:
    out = []
    for v in values:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def add_arguments(parser) -> None:
    parser.add_argument("--dataset", "-d", action="append", required=True, metavar="NAMES",
                        help="comma-separated dataset names (under $SRGAN_DATA_DIR) or folders, e.g. Set5,Set14,BSD100")
    parser.add_argument("--model", "-m", action="append", default=None, metavar="SPECS",
                        help="comma-separated methods: nearest, bicubic, a run directory, a .keras/.weights.h5 "
                             "file or a preset name (default: bicubic)")
    parser.add_argument("--scale", type=int, default=4, help="upscaling factor (default 4)")
    parser.add_argument("--degradation", choices=DEGRADATIONS, default="bicubic",
                        help="how LR images are made from HR (default bicubic, as in the paper)")
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", dest="fmt", action="store_const", const="json",
                     help="print JSON (one object for one dataset and one model, else a list)")
    fmt.add_argument("--markdown", dest="fmt", action="store_const", const="markdown", help="print a Markdown table")
    fmt.add_argument("--csv", dest="fmt", action="store_const", const="csv", help="print CSV")
    parser.add_argument("--save-dir", type=Path, default=None,
                        help="save SR images to DIR/<dataset>/<model>_x<scale>/<name>.png")
    parser.add_argument("--overwrite", action="store_true", help="allow --save-dir to replace existing files")
    parser.add_argument("--feature-distance", choices=["22", "54"], default=None,
                        help="also report the VGG19 feature distance to HR (phi_2,2 or phi_5,4 / 12.75; lower is "
                             "perceptually closer); needs VGG19 weights ($SRGAN_VGG19_WEIGHTS or a download)")


def main(args) -> int:
    from srgan_lib.cli import UserError

    datasets = _split(args.dataset)
    models = _split(args.model or ["bicubic"])
    if not datasets:
        raise UserError("--dataset: give at least one dataset name or folder")
    if not models:
        raise UserError("--model: give at least one method")
    if args.scale < 1:
        raise UserError(f"--scale must be a positive integer, got {args.scale}")
    methods = [(m, make_method(m, args.scale)) for m in models]  # fail on a bad model before any work
    loaded = [_load(d, args.scale) for d in datasets]  # fail on a bad dataset before any work
    jobs = []
    for label, images in loaded:
        for spec, fn in methods:
            save = None
            if args.save_dir is not None:
                save = args.save_dir / _safe(label) / f"{_safe(spec)}_x{args.scale}"
                if not args.overwrite:  # check every target before any work is done
                    for name, _ in images:
                        if (save / f"{name}.png").exists():
                            raise FileExistsError(f"refusing to overwrite existing file "
                                                  f"{str(save / f'{name}.png')!r} (use --overwrite)")
            jobs.append((label, images, fn, save))
    results = [evaluate(images, fn, scale=args.scale, degradation=args.degradation, save_dir=save,
                        overwrite=args.overwrite, dataset_name=label, feature_layer=args.feature_distance)
               for label, images, fn, save in jobs]
    if args.fmt == "json":
        payload = results[0] if len(results) == 1 else results
        print(json.dumps(payload, indent=2))
    else:
        print(format_table(results, args.fmt or "text", degradation=args.degradation))
    return 0
