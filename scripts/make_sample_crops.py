"""The README's comparison figure: crops of a Set14 image at x4 by bicubic and the shipped generators.

    python scripts/make_sample_crops.py [--image baboon] [--out data/weights/sample_crops_x4.png]
"""
import argparse

import numpy as np

from srgan_lib import degrade, evaluate, images, models, weights
from srgan_lib.teaching import plots


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="Set14")
    ap.add_argument("--images", default="baboon,comic")
    ap.add_argument("--crop", type=int, default=160)
    ap.add_argument("--out", default="data/weights/sample_crops_x4.png")
    ap.add_argument("--overwrite", action="store_true")
    args = ap.parse_args()
    wanted = args.images.split(",")
    pairs = [(n, hr) for n, hr in evaluate.load_eval_set(args.dataset, scale=4) if n in wanted]
    gens = {name: weights.load_generator(name) for name in ("srresnet-mse", "srgan-vgg54")}
    panels = []
    for name, hr in pairs:
        lr = degrade.degrade(hr, scale=4)
        outs = {"bicubic": degrade.upscale_bicubic(lr, 4)}
        outs.update({g: models.super_resolve(m, lr) for g, m in gens.items()})
        outs["HR"] = hr
        for label, img in outs.items():
            panels.append((f"{name}: {label}", images.center_crop(img, args.crop)))
    fig = plots.compare_images(panels, ncols=4, figsize=(12, 3.2 * len(pairs)))
    fig.savefig("/tmp/_crops.png", dpi=100, bbox_inches="tight")
    images.write_image(args.out, np.asarray(images.read_image("/tmp/_crops.png")), overwrite=args.overwrite)
    print(args.out)


if __name__ == "__main__":
    main()
