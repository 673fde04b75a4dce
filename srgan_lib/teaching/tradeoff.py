"""The perception-distortion plane and network interpolation (chapter 7).

Blau & Michaeli ("The Perception-Distortion Tradeoff", CVPR 2018) place every SR method on a plane
with a distortion measure on one axis and a perceptual measure on the other, and prove that the
attainable region has a monotone boundary: near it, one improves only at the expense of the other.
This module places methods on a plane the library can compute offline:

- distortion: PSNR of the benchmark protocol (:func:`srgan_lib.evaluate.evaluate`: bicubic LR,
  BT.601 Y, ``scale``-pixel border, gray images on their gray levels);
- perceptual distance: the VGG19 feature distance to HR, mean squared difference of
  ``phi_{i,j} / vgg.FEATURE_SCALE`` over the whole image (:func:`srgan_lib.vgg.feature_distance`,
  the scale the training's content loss uses).  It is a *full-reference* distance, not Blau &
  Michaeli's no-reference "perceptual quality" (a divergence between the distributions of outputs
  and natural images);
- LPIPS (:mod:`srgan_lib.lpips`, AlexNet, v0.1), the learned perceptual distance SR papers report
  beside PSNR: also full-reference, but calibrated on human similarity judgements.

:class:`Plane` computes the HR features of a set once and scores any number of methods on it.
:data:`PUBLISHED` holds published (PSNR, LPIPS) points of SRGAN and its successors, drawn by
:func:`plane_figure` in another style than computed points.

Network interpolation (Wang et al., "ESRGAN", ECCV Workshops 2018, Sec. 3.4) blends two generators
of one architecture parameter by parameter,

    theta_interp = (1 - alpha) * theta_PSNR + alpha * theta_GAN,    alpha in [0, 1],

where theta_GAN was fine-tuned from theta_PSNR (as the shipped ``srgan-vgg54`` was initialised from
``srresnet-mse``).  :func:`interpolate_weights` blends *every* weight, the batch-normalisation moving
statistics included (they are part of the inference-time function); alpha = 0 and alpha = 1 return
the two models' weights exactly.  :func:`interpolation_curve` scores the interpolated generators on a
:class:`Plane`: a computed trade-off curve.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from srgan_lib import evaluate, models
from srgan_lib.data.benchmark import load_eval_set
from srgan_lib.errors import UserError
from srgan_lib.teaching.showcase import as_method

__all__ = ["interpolate_weights", "interpolated_generator", "Plane", "interpolation_curve",
           "plane_figure", "published_points", "ALPHAS", "PUBLISHED", "PUBLISHED_SOURCE"]

#: the blending factors of the chapter's curve (ESRGAN's Fig. 8 shows 0, 0.2, ..., 1)
ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)

#: Published x4 results, (PSNR dB, LPIPS-Alex) per set, all evaluated by one group with one protocol
#: (whole-image LPIPS v0.1 on RGB in [-1, 1]; PSNR on Y): Ma et al. (2020), "Structure-Preserving
#: Super Resolution with Gradient Guidance" (SPSR), CVPR 2020, the tables of github.com/Maclory/SPSR.
#: Their "SRGAN" links to the tensorlayer/srgan code, not to Ledig et al.'s own outputs.
PUBLISHED_SOURCE = "Ma et al. (2020), SPSR, CVPR (tables of github.com/Maclory/SPSR)"
PUBLISHED = {
    "bicubic": {"Set5": (28.420, 0.3407), "Set14": (26.100, 0.4393), "BSD100": (25.961, 0.5249)},
    "SFTGAN": {"Set5": (29.932, 0.0890), "Set14": (26.223, 0.1481), "BSD100": (25.505, 0.1769)},
    "SRGAN": {"Set5": (29.168, 0.0882), "Set14": (26.171, 0.1663), "BSD100": (25.459, 0.1980)},
    "ESRGAN": {"Set5": (30.454, 0.0748), "Set14": (26.276, 0.1329), "BSD100": (25.317, 0.1614)},
    "NatSR": {"Set5": (30.991, 0.0939), "Set14": (27.514, 0.1758), "BSD100": (26.445, 0.2114)},
    "SPSR": {"Set5": (30.400, 0.0644), "Set14": (26.640, 0.1318), "BSD100": (25.505, 0.1611)},
}


#: the hollow markers of the published points in :func:`plane_figure`, in :data:`PUBLISHED`'s order
PUBLISHED_MARKERS = ("D", "^", "v", "s", "P", "X", "*", "h")


def published_points(dataset: str) -> list[dict]:
    """The :data:`PUBLISHED` methods on ``dataset`` as plane points ``{"label", "psnr", "lpips",
    "published": True}`` (empty for a set they were not evaluated on)."""
    return [{"label": name, "psnr": sets[dataset][0], "lpips": sets[dataset][1], "published": True}
            for name, sets in PUBLISHED.items() if dataset in sets]


def _signature(model) -> list[tuple]:
    """What must agree for two models to be blended: each weight's shape, in order."""
    return [tuple(w.shape) for w in model.weights]


def _check_alpha(alpha) -> float:
    a = float(alpha)
    if not (math.isfinite(a) and 0.0 <= a <= 1.0):
        raise UserError(f"network interpolation needs alpha in [0, 1], got {alpha!r}")
    return a


def interpolate_weights(psnr_model, gan_model, alpha) -> list[np.ndarray]:
    """``(1 - alpha) * w_psnr + alpha * w_gan`` for every weight (ESRGAN, Sec. 3.4), in the order of
    ``psnr_model.get_weights()``.

    Computed in float64 and cast back to each weight's dtype, so ``alpha = 0`` returns the weights of
    ``psnr_model`` and ``alpha = 1`` those of ``gan_model`` exactly.  The two models must have the
    same weights (count and shapes), else :class:`~srgan_lib.errors.UserError`.
    """
    a = _check_alpha(alpha)
    if _signature(psnr_model) != _signature(gan_model):
        raise UserError(f"cannot interpolate {psnr_model.name!r} and {gan_model.name!r}: their "
                        "weights differ in number or shape (network interpolation needs one "
                        "architecture)")
    out = []
    for p, g in zip(psnr_model.get_weights(), gan_model.get_weights()):
        if a == 0.0:
            out.append(np.array(p))
        elif a == 1.0:
            out.append(np.array(g))
        else:
            mix = (1.0 - a) * p.astype(np.float64) + a * g.astype(np.float64)
            out.append(mix.astype(p.dtype))
    return out


def interpolated_generator(psnr_model, gan_model, alpha, into=None):
    """A generator with the weights :func:`interpolate_weights` gives for ``alpha``.

    ``into`` is a model of the same architecture to overwrite (reuse one for a sweep over alpha);
    by default a clone of ``psnr_model`` is built.  Neither input model is changed.
    """
    import keras

    target = keras.models.clone_model(psnr_model) if into is None else into
    if _signature(target) != _signature(psnr_model):
        raise UserError(f"cannot load interpolated weights into {target.name!r}: another architecture")
    target.set_weights(interpolate_weights(psnr_model, gan_model, alpha))
    return target


class Plane:
    """Scores methods on one benchmark set by PSNR, the VGG distance to HR and, optionally, LPIPS.

    Args:
        images: an :class:`srgan_lib.data.benchmark.EvalSet` (e.g. ``load_eval_set("Set5")``), a
            dataset name, or a list of ``(name, hr_uint8)``.
        scale: the upscaling factor.
        layer: the VGG layer of the distance, ``"54"`` (phi_5,4) or ``"22"``; None: no VGG distance.
        weights: VGG19 weights (None: ``$SRGAN_VGG19_WEIGHTS``, else ImageNet).
        dataset_name: the label of a plain list of images.
        lpips: None, or the LPIPS backbone (``"alex"``) whose distance each point also gets, as
            ``"lpips"`` (:func:`srgan_lib.evaluate.evaluate`'s ``lpips``).

    The HR features are computed once (on first use); each :meth:`point` super-resolves the set
    once and runs VGG on the SR images only.
    """

    def __init__(self, images, scale: int = 4, layer: str | None = "54", weights=None,
                 dataset_name: str | None = None, lpips: str | None = None):
        if isinstance(images, str):
            images = load_eval_set(images, scale)
        self.images = images
        self.scale = int(scale)
        self.layer = None if layer is None else str(layer).lower().removeprefix("vgg")
        if self.layer is not None and self.layer not in evaluate.FEATURE_LAYERS:
            raise UserError(f"layer must be one of {', '.join(evaluate.FEATURE_LAYERS)}, got {layer!r}")
        self.weights = weights
        self.lpips = lpips
        self.dataset = dataset_name or getattr(images, "name", None) or "custom"
        self._features = None
        self._hr_features: list[np.ndarray] | None = None

    @property
    def key(self) -> str | None:
        """The result key of the VGG distance, ``"vgg54"`` or ``"vgg22"`` (None without one)."""
        return None if self.layer is None else f"vgg{self.layer}"

    def _extract(self, image_uint8) -> np.ndarray:
        from keras import ops

        if self._features is None:
            from srgan_lib import vgg

            self._features = vgg.vgg_features(self.layer, weights=self.weights)
        x = models.hr_from_uint8(np.asarray(image_uint8)[None])
        return ops.convert_to_numpy(self._features(x))[0].astype(np.float64)

    def _hr(self) -> list[np.ndarray]:
        if self._hr_features is None:
            from srgan_lib.degrade import modcrop

            self._hr_features = [self._extract(modcrop(np.asarray(hr), self.scale))
                                 for _, hr in self.images]
        return self._hr_features

    def point(self, label: str, method) -> dict:
        """One method on the plane: ``{"label", "dataset", "n", "psnr", "ssim", key, "images"}``
        with the means over the set and per image ``{"name", "psnr", "ssim", key}`` (and ``"lpips"``
        in both where the plane has it).  ``method`` is a
        spec of :func:`srgan_lib.methods.make_method`, a Keras generator or a callable
        ``lr uint8 -> sr uint8``.  PSNR/SSIM are exactly :func:`srgan_lib.evaluate.evaluate`'s.
        """
        run = as_method(method)
        outputs: list[np.ndarray] = []

        def capture(lr):
            sr = np.asarray(run(lr))
            outputs.append(sr)
            return sr

        result = evaluate.evaluate(self.images, capture, scale=self.scale, dataset_name=self.dataset,
                                   lpips=self.lpips or ())
        rows = result["images"]
        point = {"label": str(label), "dataset": result["dataset"], "n": result["n"],
                 "psnr": result["psnr"], "ssim": result["ssim"], "images": rows}
        if self.lpips:
            point["lpips"] = result["lpips"]
        if self.key is not None:
            for row, sr, hr_f in zip(rows, outputs, self._hr()):
                row[self.key] = float(np.mean((self._extract(sr) - hr_f) ** 2))
            point[self.key] = float(np.mean([r[self.key] for r in rows]))
        return point


def interpolation_curve(plane: Plane, psnr_model, gan_model, alphas: Sequence[float] = ALPHAS,
                        label: str = "interpolated", known=None) -> list[dict]:
    """:meth:`Plane.point` of the interpolated generator for each alpha (one model is reused),
    each with an ``"alpha"`` key; labels read ``"<label> alpha=<a>"``.

    ``known`` maps alphas to points already computed on this plane (typically ``{0: point of
    psnr_model, 1: point of gan_model}``, which alpha = 0 and 1 reproduce exactly); they are used as
    they are (with their own labels) instead of being computed again.
    """
    known = {float(k): v for k, v in (known or {}).items()}
    target = None
    curve = []
    for a in alphas:
        a = _check_alpha(a)
        if a in known:
            curve.append({"alpha": a, **known[a]})
            continue
        target = interpolated_generator(psnr_model, gan_model, a, into=target)
        curve.append({"alpha": a, **plane.point(f"{label} alpha={a:g}", target)})
    return curve


def plane_figure(panels, layer: str = "54", panel_size: float = 5.6, key: str | None = None):
    """The plane: one axis per ``(title, points, curve)`` of ``panels``; ``points`` are
    :meth:`Plane.point` results drawn as labelled markers (points with ``"published": True``, from
    :func:`published_points`, as hollow grey markers named in a legend below the axes), ``curve`` (or None) an
    :func:`interpolation_curve` drawn as a line through its generators, the alphas strictly
    between 0 and 1 written above them (the end points are the two blended models).
    x: PSNR (dB, higher is better), y: ``key`` (default the VGG distance of ``layer``, on a log
    scale; ``"lpips"``: LPIPS on a linear scale), lower is better, so the best corner is
    bottom-right.  Returns the matplotlib ``Figure``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter, LogLocator

    panels = list(panels)
    if not panels:
        raise UserError("plane_figure needs at least one (title, points, curve) panel")
    key = key or f"vgg{layer}"
    log = key.startswith("vgg")
    below = any(p.get("published") for _, points, _ in panels for p in points)  # room for the legend
    height = panel_size * 0.72 + (0.9 if below else 0.0)
    fig, axes = plt.subplots(1, len(panels), figsize=(panel_size * len(panels), height), squeeze=False)
    for ax, (title, points, curve) in zip(axes[0], panels):
        if curve:
            xs, ys = [c["psnr"] for c in curve], [c[key] for c in curve]
            ax.plot(xs, ys, "-s", color="0.35", lw=1.2, ms=4, zorder=1,
                    label="network interpolation, alpha from 0 to 1")
            for c in curve:
                if 0.0 < c["alpha"] < 1.0:
                    ax.annotate(f"{c['alpha']:g}", (c["psnr"], c[key]), textcoords="offset points",
                                xytext=(0, -13), ha="center", fontsize=8, color="0.3")
        xs = [p["psnr"] for p in points] + [c["psnr"] for c in curve or []]
        x_left, x_right = (min(xs), max(xs)) if xs else (0.0, 0.0)
        for p in points:
            if not p.get("published"):
                ax.plot(p["psnr"], p[key], "o", ms=7, zorder=2)
                # labels of points in the right fifth go to their left, so they stay inside the axes
                left = p["psnr"] > x_left + 0.8 * (x_right - x_left)
                ax.annotate(p["label"], (p["psnr"], p[key]), textcoords="offset points",
                            xytext=(-6, 5) if left else (6, 4), ha="right" if left else "left", fontsize=9)
        published = [p for p in points if p.get("published")]
        for p, marker in zip(published, PUBLISHED_MARKERS):  # told apart by the legend, not by labels
            ax.plot(p["psnr"], p[key], marker, ms=7, mfc="none", mec="0.3", mew=1.2, zorder=2,
                    label=f"{p['label']} (published)")
        if published:  # below the axes: the published points crowd the best corner
            ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
        elif curve:
            ax.legend(fontsize=8, loc="upper right")
        if log:
            ax.set_yscale("log")
            ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_minor_locator(LogLocator(subs="auto"))
            ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
            ax.yaxis.set_minor_formatter(FormatStrFormatter(""))
            ax.set_ylabel(f"VGG{layer} distance to HR, log scale (lower: closer)")
        else:
            ax.set_ylabel(f"{key.upper().replace('_', '-')} to HR (lower: closer)")
        ax.set_xlabel("PSNR (dB, Y)  ->  less distortion")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3, which="both")
        ax.margins(x=0.12, y=0.12)
    fig.tight_layout()
    return fig
