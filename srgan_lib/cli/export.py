"""``srgan export``: a trained generator as a .keras file, a SavedModel or ONNX
(:func:`srgan_lib.export.export_generator`)."""
from __future__ import annotations

import sys
from pathlib import Path

from srgan_lib.export import FORMATS, check_target, export_generator


def add_arguments(parser) -> None:
    parser.add_argument("--model", required=True, metavar="SPEC",
                        help="generator: a training run folder, a .keras / .weights.h5 file or a preset name")
    parser.add_argument("--format", required=True, choices=FORMATS,
                        help="keras: .keras file; savedmodel: TensorFlow SavedModel folder "
                             "(TensorFlow backend); onnx: .onnx file (TensorFlow backend + tf2onnx)")
    parser.add_argument("--out", required=True, metavar="PATH", help="output file or folder")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")


def main(args) -> int:
    from srgan_lib.weights import load_generator

    check_target(Path(args.out), args.format, args.overwrite)  # before loading the model
    model = load_generator(args.model)
    out = export_generator(model, args.out, args.format, overwrite=args.overwrite)
    print(f"exported {args.model} as {args.format} to {out}", file=sys.stderr)
    return 0
