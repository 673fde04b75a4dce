"""Validation during training: PSNR/SSIM on a benchmark set (Y channel, border = scale) and the
sample strips ``samples/step-STEP.png`` (nearest | bicubic | SR | HR of the set's first image).

The LR images (and the two baselines of the strip) are computed once, when the run starts; the
generator runs compiled (``jax.jit`` of its stateless call on JAX, a ``tf.function`` on
TensorFlow), one compilation per image size, reused at every validation.
"""
from __future__ import annotations

import numpy as np
from keras import ops

from srgan_lib import artefacts, backend, degrade, errors, metrics, models


def load_val_set(name: str | None, scale: int, echo=print):
    """The validation images, or None (no set given, or it cannot be had: e.g. offline)."""
    if not name:
        return None
    from srgan_lib.data.benchmark import GENERATOR_BYTES_PER_PIXEL, load_eval_set

    try:
        return load_eval_set(name, scale=scale, bytes_per_pixel=GENERATOR_BYTES_PER_PIXEL)
    except (OSError, errors.SRGANError) as exc:  # not cached and no network, a missing folder, ...
        echo(f"warning: validation disabled: {errors.one_line(exc)}")
        return None


class Validation:
    """PSNR/SSIM and sample strips of a generator on ``images`` (``[(name, hr_uint8)]``)."""

    def __init__(self, images, dataset: str, scale: int = 4, degradation: str = "bicubic"):
        self.dataset, self.scale, self.degradation = dataset, int(scale), degradation
        self.hr = [hr for _, hr in images]
        self.lr = [degrade.degrade(hr, scale=scale, kind=degradation) for hr in self.hr]
        self._inputs = [models.lr_from_uint8(lr)[None] for lr in self.lr]
        lr0 = self.lr[0]
        self._baselines = [degrade.upscale_nearest(lr0, scale), degrade.upscale_bicubic(lr0, scale)]
        self._forward = None

    def _compile(self, generator):
        return backend.compiled(lambda x: generator(x, training=False), models=[generator])

    def _super_resolve(self, generator, k: int) -> np.ndarray:
        if self._forward is None:
            self._forward = self._compile(generator)
        return models.hr_to_uint8(ops.convert_to_numpy(self._forward(self._inputs[k]))[0])

    def scores(self, generator) -> tuple[float, float, dict]:
        """Mean PSNR and SSIM of ``generator`` (its current weights) over the set, and the means of
        the artefact measures (:mod:`srgan_lib.artefacts`): ``lr_psnr``, ``color_offset``,
        ``artefact_energy``."""
        p, s, back, colour, grid = [], [], [], [], []
        for k, hr in enumerate(self.hr):
            sr = self._super_resolve(generator, k)
            p.append(metrics.psnr(sr, hr, border=self.scale))
            s.append(metrics.ssim(sr, hr, border=self.scale))
            c = artefacts.lr_consistency(sr, self.lr[k], self.scale, self.degradation)
            back.append(c.psnr)
            colour.append(c.offset_max)
            grid.append(artefacts.artefact_energy(sr, hr, self.scale))
        finite = [v for v in back if np.isfinite(v)]
        measures = {"lr_psnr": float(np.mean(finite)) if finite else float("inf"),
                    "color_offset": float(np.mean(colour)), "artefact_energy": float(np.mean(grid))}
        return float(np.mean(p)), float(np.mean(s)), measures

    def strip(self, generator) -> np.ndarray:
        """nearest | bicubic | SR | HR of the first image, side by side (uint8)."""
        return np.concatenate(self._baselines + [self._super_resolve(generator, 0), self.hr[0]], axis=1)
