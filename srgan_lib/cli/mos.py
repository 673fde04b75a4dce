"""The ``srgan mos`` command: ``prepare``, ``page`` and ``aggregate``."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from srgan_lib.mos.aggregate import aggregate
from srgan_lib.mos.page import write_rater_page
from srgan_lib.mos.ratings import MAX_RATINGS_BYTES
from srgan_lib.mos.report import format_report, json_clean, plot_distributions
from srgan_lib.mos.stats import ALPHA
from srgan_lib.mos.study import CALIBRATION_DATASET, CALIBRATION_IMAGES, DEFAULT_RATERS, prepare_study


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="mos_command", metavar="{prepare,page,aggregate}")
    sub.required = True
    p = sub.add_parser("prepare", help="build a blinded study folder",
                       description="Build a blinded MOS study: SR outputs of every method plus NN and HR "
                                   "under secret random ids, one rating page per rater, and manifest.json "
                                   "(the key to the ids) for the analyst only.")
    p.add_argument("--dataset", required=True, help="comma-separated datasets (names under $SRGAN_DATA_DIR or folders)")
    p.add_argument("--methods", required=True,
                   help="comma-separated method specs: nearest, bicubic, a preset, a run dir or weights file "
                        "(LABEL=SPEC to name it); NN and HR are always added")
    p.add_argument("--out", required=True, help="study folder to create")
    p.add_argument("--raters", type=int, default=DEFAULT_RATERS,
                   help=f"number of rater pages to write (r01..rNN; default {DEFAULT_RATERS}); a warning says "
                        "when they are too few for any comparison to reach significance")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of each rater's order and of the choice of calibration images (not a secret)")
    p.add_argument("--calibration", type=int, default=CALIBRATION_IMAGES,
                   help=f"calibration images, each shown as NN (score 1) and HR (score 5) before the study "
                        f"(default {CALIBRATION_IMAGES}, as in the paper; 0: none)")
    p.add_argument("--calibration-dataset", default=None,
                   help=f"images for calibration, separate from the study (default {CALIBRATION_DATASET}: "
                        "BSDS300 training images, as in the paper)")
    p.add_argument("--crop", type=int, nargs="?", const=256, default=None, metavar="SIZE",
                   help="centre-crop every version to SIZE x SIZE (default 256 when given without SIZE)")
    p.add_argument("--scale", type=int, default=4)
    p.add_argument("--embed", choices=["auto", "yes", "no"], default="auto",
                   help="embed images in the pages (single file) or reference items/ (default: auto, < 25 MB)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing study folder")

    g = sub.add_parser("page", help="write the rating page of one more rater",
                       description="Write STUDY_DIR/rater/rate_RATER.html for another rater id.")
    g.add_argument("study_dir")
    g.add_argument("rater_id")
    g.add_argument("--embed", choices=["auto", "yes", "no"], default="auto")
    g.add_argument("--overwrite", action="store_true")

    a = sub.add_parser("aggregate", help="MOS, confidence intervals, tests and plots from rating files",
                       description="Validate rating files (each at most "
                                   f"{MAX_RATINGS_BYTES // (1024 * 1024)} MiB) and report MOS per method and "
                                   "dataset with 95% confidence intervals (t over per-rater means), rater "
                                   "calibration checks, Wilcoxon signed-rank tests on the images each rater "
                                   "rated for both methods with Holm correction, and rating distributions.")
    a.add_argument("study_dir")
    a.add_argument("ratings", nargs="+", help="rating files (JSON), e.g. ratings/*.json")
    a.add_argument("--exclude-flagged", action="store_true",
                   help="leave out raters who do not rate HR above NN on average")
    a.add_argument("--include-anchors", action="store_true",
                   help="one Holm family of all method pairs (default: the NN/HR anchor comparisons form "
                        "a family of their own)")
    a.add_argument("--accept-unverified", action="store_true",
                   help="count ratings files whose rater token does not verify (raters the study never invited, "
                        "or a study prepared before tokens existed); the report warns that they were counted")
    a.add_argument("--alpha", type=float, default=ALPHA, help=f"significance level (default {ALPHA})")
    fmt = a.add_mutually_exclusive_group()
    fmt.add_argument("--markdown", action="store_true", help="markdown tables")
    fmt.add_argument("--json", action="store_true", help="the full report as JSON")
    a.add_argument("--plots", metavar="DIR", help="save rating-distribution plots (paper Fig. 5 style) here")


def main(args) -> int:
    def err(msg):
        print(msg, file=sys.stderr)

    if args.mos_command == "prepare":
        prepare_study(args.dataset, args.methods, args.out, raters=args.raters, seed=args.seed,
                      calibration=args.calibration, calibration_dataset=args.calibration_dataset,
                      crop=args.crop, scale=args.scale, embed=args.embed, overwrite=args.overwrite, progress=err)
        print(Path(args.out) / "rater")
        return 0
    if args.mos_command == "page":
        embed = None if args.embed == "auto" else args.embed == "yes"
        print(write_rater_page(args.study_dir, args.rater_id, embed=embed, overwrite=args.overwrite))
        return 0
    report = aggregate(args.study_dir, args.ratings, exclude_flagged=args.exclude_flagged,
                       include_anchors=args.include_anchors, alpha=args.alpha,
                       accept_unverified=args.accept_unverified)
    if args.plots:
        for p in plot_distributions(report, args.plots):
            err(f"wrote {p}")
    for n in report["notes"]:
        err(f"srgan mos: {n}")
    for w in report["warnings"]:
        err(f"srgan mos: warning: {w}")
    if args.json:
        print(json.dumps(json_clean(report), indent=1))
    else:
        print(format_report(report, markdown=args.markdown), end="")
    return 0
