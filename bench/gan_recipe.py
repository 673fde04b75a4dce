"""Issue #19's CPU experiments: why the shipped SRGAN-VGG54 run fails, measured at fixed steps.

    # one run per candidate (each ~16 min on 2 CPU cores), all from the shipped SRResNet-MSE
    srgan train srgan-vgg54 --out RUNS/A --init srresnet-mse --steps 300 --batch-size 16 --lr 1e-4 \\
        --lr-decay-at 0 --checkpoint-every 50 --keep-checkpoints 10 --log-every 5 --val ''  [CANDIDATE FLAGS]
    # then every checkpoint of every run, on Set5:
    python bench/gan_recipe.py RUNS/A RUNS/E ... --out data/experiments/gan_recipe.csv

For each checkpoint (and for step 0, the generator the run starts from: its ``config.json``'s ``init``, the
shipped SRResNet-MSE, or N0 for the resize-convolution runs N, NJ, NJ22, NJM and N0c) the generator is
evaluated on ``--dataset`` with ``srgan_lib.evaluate.evaluate(..., artefacts=True)``: PSNR/SSIM (Y,
border 4), LR consistency (PSNR of the SR image degraded again against LR, largest mean colour offset)
and the energy at the pixel-shuffle frequencies relative to HR; the worst colour window (the largest mean,
over a 32 x 32 window, of the chroma SR has beyond HR's, the largest over the set:
``teaching.gan_health.colour_window``), which sees local colour stripes and blotches that the set's
mean colour offset averages away; beside them the discriminator's health
over the ``--window`` steps before the checkpoint, from the run's ``log.csv``. One CSV row per (run, step).
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

COLUMNS = ["run", "flags", "step", "psnr", "ssim", "lr_psnr", "color_offset", "artefact_energy",
           "colour_window", "d_real", "d_fake", "d_acc"]
WINDOW = 32  # the side of the colour window


def worst_colour_window(pairs) -> float:
    """The largest mean chroma excess of SR over HR in a WINDOW x WINDOW window, over ``(sr, hr)`` pairs
    (uint8 RGB): the score of :func:`srgan_lib.teaching.gan_health.colour_window`'s window."""
    from srgan_lib.teaching import gan_health

    worst = 0.0
    for sr, hr in pairs:
        top, left, size = gan_health.colour_window(sr, hr, WINDOW)
        excess = gan_health.colour_excess(sr, hr)[top:top + size, left:left + size]
        worst = max(worst, float(excess.mean()))
    return worst


def _flags(run: Path) -> str:
    """The recipe flags in which the run differs from the paper's (config.json)."""
    cfg = json.loads((run / "config.json").read_text())
    parts = [] if cfg.get("preset") == "srgan-vgg54" else [f"{cfg.get('preset')}:"]
    if cfg.get("lr") != 1e-4:
        parts.append(f"--lr {cfg['lr']:g}")
    if cfg.get("upsample", "subpixel") != "subpixel":
        parts.append(f"--upsample {cfg['upsample']}")
    for key in ("d_lr", "adversarial_weight", "real_label", "pixel_weight", "mixed_precision"):
        value = cfg.get(key)
        if value is None or value is False:
            continue
        parts.append(f"--{key.replace('_', '-')}" + ("" if value is True else f" {value:g}"))
    if parts == [f"{cfg.get('preset')}:"]:  # another preset, the shipped recipe otherwise
        return f"{cfg.get('preset')}: otherwise the shipped recipe"
    return " ".join(parts) or "(shipped recipe)"


def _health(run: Path, step: int, window: int) -> dict:
    with open(run / "log.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if step - window < int(r["step"]) <= step]
    if not rows or not rows[0].get("d_acc"):
        return {k: "" for k in ("d_real", "d_fake", "d_acc")}
    return {k: f"{np.mean([float(r[k]) for r in rows]):.4f}" for k in ("d_real", "d_fake", "d_acc")}


def _generator_at(run: Path, ckpt: Path):
    from srgan_lib import models
    from srgan_lib.train import checkpoints

    cfg = json.loads((run / "config.json").read_text())
    gen = models.srresnet(scale=cfg["scale"], num_blocks=cfg["num_blocks"], filters=cfg["filters"],
                          upsample=cfg["upsample"])
    arrays = checkpoints.read_checkpoint(ckpt)
    for v in gen.weights:
        v.assign(arrays[f"g/{v.path}"])
    return gen


def measure(runs, dataset: str, window: int) -> list[dict]:
    from srgan_lib import evaluate, models, weights

    images = evaluate.load_eval_set(dataset, 4, evaluate.GENERATOR_BYTES_PER_PIXEL)

    def scores(gen) -> dict:
        outputs = []

        def upscale(lr):
            outputs.append(models.super_resolve(gen, lr))
            return outputs[-1]

        r = evaluate.evaluate(images, upscale, artefacts=True)
        out = {k: f"{r[k]:.4f}" for k in ("psnr", "ssim", "lr_psnr", "color_offset", "artefact_energy")}
        out["colour_window"] = f"{worst_colour_window(zip(outputs, (hr for _, hr in images))):.2f}"
        return out

    starts: dict[str, dict] = {}  # the generator each run starts from (its config's init), scored once
    out = []
    for run in runs:
        run = Path(run)
        flags = _flags(run)
        init = json.loads((run / "config.json").read_text()).get("init") or "srresnet-mse"
        if init not in starts:
            starts[init] = scores(weights.load_generator(init))
        out.append({"run": run.name, "flags": flags, "step": 0, **starts[init], "d_real": "", "d_fake": "",
                    "d_acc": ""})
        for ckpt in sorted((run / "checkpoints").glob("ckpt-*.npz")):
            step = int(ckpt.stem.split("-")[1])
            row = {"run": run.name, "flags": flags, "step": step, **scores(_generator_at(run, ckpt)),
                   **_health(run, step, window)}
            out.append(row)
            print(" ".join(f"{k}={row[k]}" for k in COLUMNS), file=sys.stderr, flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="run folders of srgan train")
    parser.add_argument("--dataset", default="Set5")
    parser.add_argument("--window", type=int, default=50, help="steps of log.csv averaged for D's health")
    parser.add_argument("--out", type=Path, required=True, help="CSV to write")
    args = parser.parse_args()
    rows = measure(args.runs, args.dataset, args.window)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print("| run | recipe | step | PSNR | LR-PSNR | colour offset | grid energy | colour window | D(HR) | D(SR) "
          "| D acc |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['run']} | {r['flags']} | {r['step']} | {float(r['psnr']):.2f} | {float(r['lr_psnr']):.2f} | "
              f"{float(r['color_offset']):.2f} | {float(r['artefact_energy']):.2f} | {r['colour_window']} | "
              f"{r['d_real']} | {r['d_fake']} | {r['d_acc']} |")


if __name__ == "__main__":
    main()
