"""The ``srgan`` command: ``srgan eval | train | upscale | export | mos | data``.

Each sub-command is a module of this package (``srgan_lib.cli.eval``, ``.train``, ...) that provides
``add_arguments(parser)`` and ``main(args) -> int`` and calls the library; the library itself has
no argparse.  Errors the user can fix
(a missing folder, an unreadable image, a bad option, an output that cannot be
written) are the library's own exceptions (:mod:`srgan_lib.errors`); they are
reported as one line on stderr with exit status 2 (3 for a diverged training
run).  Every other exception is a bug or an unforeseen problem and keeps its
traceback.  ``srgan --debug COMMAND ...`` (or ``SRGAN_DEBUG=1``) shows the
traceback of user errors too.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from srgan_lib.errors import SRGANError

COMMANDS = {
    "eval": ("srgan_lib.cli.eval", "evaluate SR methods on benchmark sets (PSNR/SSIM on Y, paper protocol)"),
    "train": ("srgan_lib.cli.train", "train SRResNet / SRGAN presets (resumable)"),
    "upscale": ("srgan_lib.cli.upscale", "upscale images or folders with a trained generator (tiled)"),
    "export": ("srgan_lib.cli.export", "export a trained generator (.keras, SavedModel, ONNX)"),
    "mos": ("srgan_lib.cli.mos", "prepare, rate and aggregate a mean-opinion-score study"),
    "data": ("srgan_lib.cli.data", "list, download and verify the standard datasets"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="srgan", description="SRGAN (Ledig et al., CVPR 2017) in Keras 3")
    from srgan_lib import __version__
    parser.add_argument("--version", action="version", version=f"srgan-lib {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of user errors too (also: SRGAN_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        # Sub-command arguments are added lazily: only the chosen module is imported.
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = os.environ.get("SRGAN_DEBUG") == "1"
    while argv and argv[0] == "--debug":
        debug = True
        argv = argv[1:]
    parser = build_parser()
    # First pass: find the sub-command, then let its module add its own arguments.
    if argv and argv[0] in COMMANDS and not argv[0].startswith("-"):
        module = importlib.import_module(COMMANDS[argv[0]][0])
        sub = argparse.ArgumentParser(prog=f"srgan {argv[0]}", description=COMMANDS[argv[0]][1])
        module.add_arguments(sub)
        args = sub.parse_args(argv[1:])
        try:
            return int(module.main(args) or 0)
        except SRGANError as exc:
            if debug:
                raise
            print(f"srgan {argv[0]}: error: {exc}", file=sys.stderr)
            return exc.exit_status
        except Exception as exc:  # noqa: BLE001 - re-raised unless it is a full disk
            # A full disk, a quota or a read-only file system is never a bug: whichever writer met
            # it (the library's own writers already name their file), say so in one line.
            from srgan_lib.atomic import is_output_failure

            if debug or not is_output_failure(exc):
                raise
            from srgan_lib.errors import output_error

            name = getattr(exc, "filename", None)
            print(f"srgan {argv[0]}: error: {output_error(os.fsdecode(name) if name else 'the output', exc)} "
                  f"(free some space and run the command again)", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"srgan {argv[0]}: interrupted", file=sys.stderr)
            return 130
    parser.parse_args(argv)  # prints usage / errors for unknown commands
    return 2
