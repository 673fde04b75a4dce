"""Recompute the per-layer VGG feature scales (srgan_lib.vgg.FEATURE_SCALE) and print their table.

The criterion is stated in the docstring of srgan_lib.content_scale: at the shipped SRResNet-MSE generator
(where SRGAN training starts), on calibration batches of the training patch stream, (a) the VGG54
loss keeps the paper's 1/12.75 while it is within a factor MAX_RATIO_TO_PIXEL_MSE of the pixel
MSE, and (b) every other layer's loss equals the VGG54 loss.

    source scripts/env.sh
    .venv/bin/python scripts/calibrate_content_scale.py                 # markdown table
    .venv/bin/python scripts/calibrate_content_scale.py --json          # the numbers as JSON

Defaults: srgan_lib.content_scale.CALIBRATION (16 batches of 16 random 96x96 HR patches of
T91 + BSD200 + General100, bicubic x4, seed 0); a few minutes on a 2-core CPU.
"""
from __future__ import annotations

import argparse
import json
import sys


def measure(args) -> dict:
    from srgan_lib import content_scale, vgg, weights

    batches = content_scale.calibration_batches(data=args.data, batches=args.batches, batch_size=args.batch_size,
                                      seed=args.seed)
    stats = content_scale.calibration_statistics(weights.load_generator(args.model), batches, weights=args.vgg_weights)
    stats["recomputed_scale"] = content_scale.scales_from_calibration(stats["pixel_mse"], stats["raw_mse"])
    stats["feature_scale"] = dict(vgg.FEATURE_SCALE)
    stats["setup"] = {"generator": args.model, "data": args.data, "batches": args.batches,
                      "batch_size": args.batch_size, "seed": args.seed}
    return stats


def table(stats: dict) -> str:
    from srgan_lib import content_scale, vgg

    px = stats["pixel_mse"]
    s = stats["setup"]
    lines = [f"Calibration: {s['generator']} on {stats['batches']} batches x {s['batch_size']} patches "
             f"of {s['data']} (seed {s['seed']}); pixel MSE ([-1, 1] units) {px:.5f}", "",
             "| layer | mean phi(HR) | raw feature MSE | loss with 1/12.75 (x pixel MSE) "
             "| FEATURE_SCALE | loss with it (x pixel MSE) | recomputed scale |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for layer, raw in stats["raw_mse"].items():
        paper = raw / vgg.PAPER_SCALE ** 2
        ours = raw / stats["feature_scale"][layer] ** 2
        lines.append(f"| phi_{layer[0]},{layer[1]} | {stats['mean_activation'][layer]:.3g} | {raw:.4g} "
                     f"| {paper:.4g} ({paper / px:.3g}x) | 1/{stats['feature_scale'][layer]:g} "
                     f"| {ours:.4g} ({ours / px:.3g}x) | 1/{stats['recomputed_scale'][layer]:.4g} |")
    losses = {k: raw / stats["feature_scale"][k] ** 2 for k, raw in stats["raw_mse"].items()}
    spread = max(losses.values()) / min(losses.values()) - 1
    ok_a = all(1 / content_scale.MAX_RATIO_TO_PIXEL_MSE <= v / px <= content_scale.MAX_RATIO_TO_PIXEL_MSE for v in losses.values())
    ok_b = spread <= content_scale.EQUAL_LOSS_TOLERANCE
    lines += ["", f"criterion (a), every VGG loss within {content_scale.MAX_RATIO_TO_PIXEL_MSE:g}x of the pixel MSE: "
              f"{'met' if ok_a else 'NOT met'}",
              f"criterion (b), VGG losses equal within {content_scale.EQUAL_LOSS_TOLERANCE:.0%}: "
              f"{'met' if ok_b else 'NOT met'} (they differ by {spread:.1%})"]
    return "\n".join(lines)


def main(argv=None) -> int:
    from srgan_lib import content_scale

    c = content_scale.CALIBRATION
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=c["generator"], help="generator at the calibration point (default %(default)s)")
    p.add_argument("--data", default=c["data"], help="training sets (default %(default)s)")
    p.add_argument("--batches", type=int, default=c["batches"], help="number of batches (default %(default)s)")
    p.add_argument("--batch-size", type=int, default=c["batch_size"], help="patches per batch (default %(default)s)")
    p.add_argument("--seed", type=int, default=c["seed"], help="seed of the patch stream (default %(default)s)")
    p.add_argument("--vgg-weights", default=None, help="VGG19 notop weights (default $SRGAN_VGG19_WEIGHTS)")
    p.add_argument("--json", action="store_true", help="print the measurements as JSON")
    args = p.parse_args(argv)
    stats = measure(args)
    print(json.dumps(stats, indent=2) if args.json else table(stats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
