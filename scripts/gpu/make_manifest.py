"""Write data/weights/NAME.json for a generator trained on the GPU machine.

    python scripts/gpu/make_manifest.py NAME RUN_LOG_DIR EVAL_JSON --gpu "NVIDIA H200" --backend "jax 0.11.2"

RUN_LOG_DIR holds the run's config.json, log.csv and val.csv (copied from the run folder);
EVAL_JSON is the output of ``srgan eval --json`` over the evaluation sets for this model.
"""
import argparse
import csv
import json
from pathlib import Path

from srgan_lib.weights import sha256


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("run_logs")
    ap.add_argument("eval_json")
    ap.add_argument("--gpu", required=True)
    ap.add_argument("--backend", required=True)
    ap.add_argument("--keras", default="3.15.1")
    ap.add_argument("--init")
    ap.add_argument("--note", default="")
    a = ap.parse_args()
    logs = Path(a.run_logs)
    cfg = json.loads((logs / "config.json").read_text())
    rows = list(csv.DictReader(open(logs / "log.csv")))
    last = rows[-1]
    wfile = Path("data/weights") / f"{a.name}.weights.h5"
    results = json.loads(Path(a.eval_json).read_text())
    results = results if isinstance(results, list) else [results]
    evaluation = {r["dataset"]: {k: r[k] for k in ("psnr", "ssim", "vgg54", "n") if k in r}
                  for r in results if r["model"] == a.name}
    manifest = {
        "name": a.name,
        "file": wfile.name,
        "sha256": sha256(wfile),
        "architecture": {k: cfg[k] for k in ("scale", "num_blocks", "filters", "upsample")},
        "preset": cfg["preset"],
        "training_data": cfg["data"] + " (391 images, the copies in ../shared/datasets)",
        "degradation": cfg["degradation"],
        "steps": int(last["step"]),
        "steps_planned": cfg["steps"],
        "batch_size": cfg["batch_size"],
        "patch_size": cfg["patch_size"],
        "learning_rate": cfg["lr"],
        "learning_rate_drop_at": cfg["lr_decay_at"],
        "adam_beta_1": cfg["beta_1"],
        "init": a.init or cfg["init"],
        "vgg19_weights": ("vgg19_imagenet_uint8_notop.h5: ImageNet VGG19 de-quantised from an 8-bit copy "
                          "(lossy; see ../shared/weights/SOURCE.txt)") if cfg["preset"] != "srresnet-mse" else None,
        "backend": a.backend,
        "keras": a.keras,
        "gpu": a.gpu,
        "wall_time_s": round(float(last["time"]), 1),
        "final_losses": {k: float(v) for k, v in last.items() if k not in ("step", "time", "lr") and v},
        "evaluation": {"protocol": "x4, bicubic LR (MATLAB imresize, uint8), PSNR/SSIM on BT.601 Y, 4-pixel border; "
                                   "vgg54 = mean squared VGG19 phi_5,4/12.75 distance to HR (srgan eval --feature-distance 54)",
                       **evaluation},
        "note": a.note,
    }
    out = Path("data/weights") / f"{a.name}.json"
    out.write_text(json.dumps(manifest, indent=2) + "\n")
    print(out)


if __name__ == "__main__":
    main()
