"""``srgan upscale``: upscale image files and folders with a trained generator, tiled
(:func:`srgan_lib.upscale.upscale_file`)."""
from __future__ import annotations

import sys
from pathlib import Path

from srgan_lib.degrade import check_scale
from srgan_lib.errors import UserError
from srgan_lib.upscale import (BATCH_PIXELS, DEFAULT_TILE, OUTPUT_FORMATS, SRRESNET_RECEPTIVE_FIELD, checked_predictor,
                               device_scope, output_path_for, receptive_radius, upscale_file)


def add_arguments(parser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="image files and/or folders of images (png, jpg, bmp, tif, webp)")
    parser.add_argument("-o", "--output", default=None, metavar="OUT",
                        help="output folder (created if needed), or the output file for a single "
                             "input file; default: a.png -> a_x4.png beside it, folder DIR -> DIR_x4/")
    parser.add_argument("--model", required=True, metavar="RUN_DIR|WEIGHTS|PRESET",
                        help="generator: a training run folder, a .keras / .weights.h5 file or a "
                             "preset name (see srgan_lib.weights)")
    parser.add_argument("--tile", type=int, default=DEFAULT_TILE, metavar="T",
                        help=f"LR tile size fed to the network (bounds memory); 0 = whole image "
                             f"at once (default {DEFAULT_TILE})")
    parser.add_argument("--overlap", type=int, default=None, metavar="O",
                        help="LR pixels of context on each inner tile edge; default: the model's "
                             f"receptive field ({SRRESNET_RECEPTIVE_FIELD} for the default 16-block "
                             "SRResNet), which makes tiled output equal to whole-image output")
    parser.add_argument("--batch", type=int, default=None, metavar="N",
                        help=f"tiles per call of the network (default: {BATCH_PIXELS} LR pixels "
                             f"per call, e.g. 1 tile of {DEFAULT_TILE}x{DEFAULT_TILE}); larger batches help on a GPU")
    parser.add_argument("--device", choices=("cpu", "gpu"), default=None,
                        help="run on the CPU or the GPU (keras.device; default: the backend's choice)")
    parser.add_argument("--scale", type=int, default=4, help="upscaling factor of the model (default 4)")
    parser.add_argument("--format", choices=sorted(OUTPUT_FORMATS), default=None,
                        help="output file format (default: same as each input)")
    done = parser.add_mutually_exclusive_group()
    done.add_argument("--overwrite", action="store_true",
                      help="replace existing output files (never an input of the same command)")
    done.add_argument("--skip-existing", action="store_true",
                      help="leave existing output files as they are and upscale only the missing ones "
                           "(continues an interrupted folder upscale)")


def _collect(inputs, out, scale, fmt):
    """``[(input file, output file)]`` for the command line's inputs; refuses two inputs with one
    output and an output that is also an input (which ``--overwrite`` would destroy before it is
    read)."""
    from srgan_lib.errors import InputNotFoundError
    from srgan_lib.images import list_images

    if any(not str(p).strip() for p in inputs):
        raise UserError("an input path is empty ('' would mean the working directory): name the file or folder")
    paths = [Path(p) for p in inputs]
    single_file = len(paths) == 1 and paths[0].is_file()
    jobs = []
    for p in paths:
        if p.is_dir():
            for f in list_images(p):
                jobs.append((f, output_path_for(f, p, out, scale, fmt, False)))
        elif p.exists():
            jobs.append((p, output_path_for(p, None, out, scale, fmt, single_file)))
        else:
            raise InputNotFoundError(f"input not found: {str(p)!r}")
    sources = {src.resolve(): src for src, _ in jobs}
    seen = {}
    for src, dst in jobs:
        key = dst.resolve()
        if key in sources:
            raise UserError(f"the output for {str(src)!r} would be {str(dst)!r}, which is also an "
                            f"input of this command; use -o to write elsewhere")
        if key in seen:
            raise UserError(f"{str(seen[key])!r} and {str(src)!r} would both be written to "
                            f"{str(dst)!r}; use separate -o folders")
        seen[key] = src
    return jobs


def main(args) -> int:
    from tqdm.auto import tqdm

    from srgan_lib.atomic import make_dir, refuse_existing, remove_stale_temporaries
    from srgan_lib.errors import OutputError
    from srgan_lib.inference import make_predictor
    from srgan_lib.weights import load_generator

    scale = check_scale(args.scale)
    if args.output is not None and not args.output.strip():
        raise UserError("-o/--output is empty ('' would mean the working directory): name the file or folder")
    if args.tile < 0:
        raise UserError(f"--tile must be >= 0 (got {args.tile})")
    if args.overlap is not None and args.overlap < 0:
        raise UserError(f"--overlap must be >= 0 (got {args.overlap})")
    if args.batch is not None and args.batch < 1:
        raise UserError(f"--batch must be >= 1 (got {args.batch})")
    jobs = _collect(args.inputs, Path(args.output) if args.output else None, scale, args.format)
    skipped = 0
    if args.skip_existing:
        kept = [(src, dst) for src, dst in jobs if not dst.exists()]
        skipped, jobs = len(jobs) - len(kept), kept
        if skipped:
            print(f"skipping {skipped} image(s) whose output exists", file=sys.stderr)
    refuse_existing([dst for _, dst in jobs], args.overwrite)  # every target, before any work
    failed = 0
    with device_scope(args.device):
        predictor = checked_predictor(make_predictor(load_generator(args.model)), scale)
        overlap = args.overlap if args.overlap is not None else receptive_radius(predictor.model)
        if args.tile and args.tile <= 2 * overlap:
            raise UserError(f"--tile {args.tile} must be larger than 2 x overlap ({2 * overlap})")
        for folder in dict.fromkeys(dst.parent for _, dst in jobs):
            make_dir(folder)
        for _, dst in jobs:  # what a killed upscale left beside its outputs
            remove_stale_temporaries(dst)
        many = len(jobs) > 1
        written = 0
        for src, dst in tqdm(jobs, desc="images", unit="img", disable=None if many else True,
                             file=sys.stderr):
            try:
                upscale_file(src, dst, predictor, tile=args.tile, overlap=overlap,
                             overwrite=args.overwrite, progress=True, batch=args.batch)
                written += 1
            except OutputError as exc:  # a full disk: the next outputs would fail too
                rest = len(jobs) - written - failed
                raise OutputError(f"{exc}; upscaled {written} of {len(jobs)} image(s), {rest} not written: "
                                  f"free some space and run the same command with --skip-existing to "
                                  f"continue") from exc
            except UserError as exc:  # this input cannot be upscaled; the others can
                failed += 1
                msg = str(exc) if str(src) in str(exc) else f"{str(src)!r}: {exc}"
                tqdm.write(f"srgan upscale: error: {msg}", file=sys.stderr)
    total = len(jobs) + skipped
    print(f"upscaled {len(jobs) - failed} of {total} image(s) x{scale}"
          + (f" ({skipped} already done)" if skipped else ""), file=sys.stderr)
    return 1 if failed else 0
