"""Issue #19: does a content loss's gradient carry the 4-pixel lattice of the grid artefact, and which way?

For each image of ``--dataset`` (Set5 by default), centre-cropped: the output SR of each ``--generator`` (a
shipped model name, default the SRResNet-MSE every run of bench/gan_recipe.py starts from, or a run folder)
and the HR image, and the gradient ``g = d l_X / d I^SR`` of each content loss (pixel MSE, VGG22, VGG54;
``srgan_lib.teaching.perceptual.gradient_image``).  Two numbers per loss, means over the images:

* concentration: the share of ``g``'s spectral energy at the 15 pixel-shuffle frequencies ``(k/4, l/4)``
  cycles per pixel (DC excluded; ``srgan_lib.artefacts.artefact_frequencies``) over the share those bins
  would hold if the energy were spread evenly (15 / (H W - 1)); 1: no lattice;
* alignment: the cosine, over those 15 frequencies, between ``g`` and the error ``SR - HR``; +1 is the
  pixel MSE's (a step along ``-g`` removes the grid), 0 a gradient blind to the grid, < 0 one that grows it.

    python bench/gradient_lattice.py [--generator srresnet-mse RUN ...] [--dataset Set5] [--crop 96]
"""
from __future__ import annotations

import argparse

import numpy as np

from srgan_lib import models, weights
from srgan_lib.artefacts import artefact_frequencies
from srgan_lib.degrade import bicubic
from srgan_lib.images import center_crop
from srgan_lib.teaching import perceptual, samples

LOSSES = ("mse", "vgg22", "vgg54")


def _lattice(x: np.ndarray, scale: int) -> tuple[np.ndarray, float]:
    """The DFT of ``x`` at the lattice bins (flattened over channels) and its total energy without DC."""
    spectrum = np.fft.fft2(x.astype(np.float64), axes=(0, 1))
    rows, cols = artefact_frequencies(x.shape[0], x.shape[1], scale)
    total = float(np.sum(np.abs(spectrum) ** 2) - np.sum(np.abs(spectrum[0, 0]) ** 2))
    return spectrum[rows, cols, :].ravel(), total


def lattice_concentration(g: np.ndarray, scale: int = 4) -> float:
    """Share of ``g``'s energy at the ``(k/scale, l/scale)`` bins over the share of an even spread."""
    at, total = _lattice(g, scale)
    n_bins = scale * scale - 1
    return float(np.sum(np.abs(at) ** 2) / total / (n_bins / (g.shape[0] * g.shape[1] - 1)))


def lattice_alignment(g: np.ndarray, error: np.ndarray, scale: int = 4) -> float:
    """Cosine between ``g`` and ``error`` over the lattice bins (+1: descending ``g`` removes the grid)."""
    a, _ = _lattice(g, scale)
    b, _ = _lattice(error, scale)
    return float(np.real(np.vdot(a, b)) / (np.linalg.norm(a) * np.linalg.norm(b)))


def measure(generator: str, dataset: str, crop: int) -> dict[str, tuple[float, float]]:
    gen = weights.load_generator(generator)
    conc, align = {k: [] for k in LOSSES}, {k: [] for k in LOSSES}
    for _, hr in samples.sample_images(dataset):
        hr = center_crop(hr, crop)
        sr = models.super_resolve(gen, bicubic(hr, 4))
        error = sr.astype(np.float64) - hr.astype(np.float64)
        for loss in LOSSES:
            _, g = perceptual.gradient_image(loss, sr, hr)
            conc[loss].append(lattice_concentration(g))
            align[loss].append(lattice_alignment(g, error))
    return {k: (float(np.mean(conc[k])), float(np.mean(align[k]))) for k in LOSSES}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--generator", nargs="+", default=["srresnet-mse"], help="shipped model names or run folders")
    ap.add_argument("--dataset", default="Set5")
    ap.add_argument("--crop", type=int, default=96, help="centre crop of each HR image (a multiple of 16)")
    args = ap.parse_args(argv)
    print(f"| generator ({args.dataset}, {args.crop}x{args.crop} centre crops) | "
          + " | ".join(f"{k} concentration | {k} alignment" for k in ("MSE", "VGG22", "VGG54")) + " |")
    print("|---|" + "---:|" * 6)
    for spec in args.generator:
        m = measure(spec, args.dataset, args.crop)
        print(f"| {spec} | " + " | ".join(f"{m[k][0]:.1f} | {m[k][1]:+.2f}" for k in LOSSES) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
