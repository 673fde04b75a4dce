"""The variants side by side: image x crop x variant, with the metrics of each panel (chapter 3).

The paper's variants (Ledig et al., Table 1 / Sec. 3.4) are the rows of its ablation: bicubic,
SRResNet-MSE, SRGAN-MSE, SRGAN-VGG22, SRGAN-VGG54, and the HR reference.  A :class:`Comparison`
super-resolves each benchmark image once per variant (the whole LR image, as ``srgan eval``
does: :func:`srgan_lib.methods.make_method`), caches the result, and cuts crops from it.  A
variant whose weights are not shipped (:func:`srgan_lib.weights.shipped_models`) is reported in
:attr:`Comparison.missing`, not an error.

Each panel of a crop carries

- PSNR and SSIM on the BT.601 Y channel of the crop, with **no border removed** (the SR image was
  computed on the whole image; the crop is a window of it, so the benchmark's border strip does
  not apply);
- the VGG22 and VGG54 distances of the crop to the HR crop (:func:`srgan_lib.vgg.feature_distance`,
  phi / :data:`srgan_lib.vgg.FEATURE_SCALE`: the scale the training uses), computed on the crop alone,
  as on a training patch;
- the difference to HR, ``|Y_sr - Y_hr|`` in Y levels, drawn on one colour scale for all panels.

:func:`grid_figure` draws image rows x variant columns (the static figure of the site);
:func:`widget` builds the ipywidgets controls of the live chapter around :meth:`Comparison.figure`;
:func:`rank_losses` is how the pixel MSE, VGG22 and VGG54 rank the variants over whole images.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from srgan_lib import metrics, weights
from srgan_lib.methods import make_method
from srgan_lib.vgg import feature_distance
from srgan_lib.degrade import degrade, modcrop
from srgan_lib.errors import UserError
from srgan_lib.teaching.paper_tables import TABLE1_VARIANTS

__all__ = ["VARIANTS", "LABELS", "BASELINES", "MIN_CROP", "variant_status", "Panel", "Comparison",
           "grid_figure", "widget", "rank_losses", "format_ranking"]

#: the paper's five variants, in the order of its Table 1, framed by the bicubic baseline and HR (the one
#: list every chapter compares; the variants without shipped weights are reported as missing)
VARIANTS = ("bicubic", *TABLE1_VARIANTS, "hr")
LABELS = {"bicubic": "bicubic", "srresnet-mse": "SRResNet-MSE", "srresnet-vgg22": "SRResNet-VGG22",
          "srgan-mse": "SRGAN-MSE", "srgan-vgg22": "SRGAN-VGG22", "srgan-vgg54": "SRGAN-VGG54", "hr": "HR"}
#: variants that need no weights
BASELINES = ("bicubic", "hr")
#: smallest crop side: phi_5,4 has 1/16 of the resolution (and SSIM needs 11x11)
MIN_CROP = 16
FEATURE_LAYERS = ("22", "54")


def variant_status(variants=VARIANTS) -> tuple[list[str], dict[str, str]]:
    """``(available, missing)``: the variants that can be shown, and ``{variant: reason}`` for the
    others (a model name that is neither a baseline nor a shipped generator)."""
    shipped = weights.shipped_models()
    available, missing = [], {}
    for v in variants:
        if v in BASELINES or v in shipped:
            available.append(v)
        else:
            missing[v] = "no shipped weights"
    return available, missing


@dataclasses.dataclass
class Panel:
    """One variant on one crop: ``image`` (uint8 crop), ``difference`` (``|Y - Y_hr|``, float64),
    PSNR (dB), SSIM and the VGG distances (see the module docstring for the protocol)."""

    variant: str
    label: str
    image: np.ndarray
    difference: np.ndarray
    psnr: float
    ssim: float
    vgg22: float
    vgg54: float

    def title(self) -> str:
        if self.variant == "hr":
            return "HR (reference)"
        return (f"{self.label}\nPSNR {self.psnr:.2f} dB, SSIM {self.ssim:.3f}\n"
                f"VGG22 {self.vgg22:.3f}, VGG54 {self.vgg54:.3f}")


class Comparison:
    """The variants of a set of images, super-resolved once and cached.

    Args:
        images: ``[(name, hr_uint8 (H, W, 3)), ...]`` (e.g. :func:`srgan_lib.data.benchmark.load_eval_set`);
            each HR image is mod-cropped to ``scale``, its LR image is the bicubic downscale.
        variants: names of :data:`VARIANTS` or any spec of :func:`srgan_lib.methods.make_method`
            that is shipped; the unavailable ones end up in :attr:`missing`.
        scale: the upscaling factor.
        vgg_weights: VGG19 weights for the distances (None: ``$SRGAN_VGG19_WEIGHTS``).
    """

    def __init__(self, images, variants=VARIANTS, scale: int = 4, vgg_weights=None):
        self.scale = int(scale)
        self.images = {str(name): modcrop(np.asarray(hr), self.scale) for name, hr in images}
        if not self.images:
            raise UserError("Comparison needs at least one (name, hr) image")
        for name, hr in self.images.items():
            if hr.dtype != np.uint8 or hr.ndim != 3 or hr.shape[2] != 3:
                raise UserError(f"Comparison: image {name!r} must be uint8 (H, W, 3), got {hr.dtype} {hr.shape}")
        self.available, self.missing = variant_status(variants)
        self.vgg_weights = vgg_weights
        self._methods: dict = {}
        self._sr: dict = {}

    @property
    def names(self) -> list[str]:
        return list(self.images)

    def _hr(self, name: str) -> np.ndarray:
        if name not in self.images:
            raise UserError(f"no image {name!r} in this comparison; choose one of {', '.join(self.images)}")
        return self.images[name]

    def super_resolve(self, name: str, variant: str) -> np.ndarray:
        """The whole SR image of ``variant`` for image ``name`` (uint8), computed once."""
        hr = self._hr(name)
        if variant == "hr":
            return hr
        if variant not in self.available:
            reason = self.missing.get(variant, "not in this comparison")
            raise UserError(f"variant {variant!r} is not available ({reason}); available: "
                            f"{', '.join(self.available)}")
        key = (name, variant)
        if key not in self._sr:
            if variant not in self._methods:
                self._methods[variant] = make_method(variant, self.scale)
            self._sr[key] = np.asarray(self._methods[variant](degrade(hr, self.scale)))
        return self._sr[key]

    def crop_box(self, name: str, top: int, left: int, size: int) -> tuple[int, int, int]:
        """``(top, left, size)`` with the crop moved inside the image (a slider may overshoot)."""
        hr = self._hr(name)
        size = int(size)
        if size < MIN_CROP:
            raise UserError(f"crop size must be at least {MIN_CROP} pixels, got {size}")
        size = min(size, *hr.shape[:2])
        top = int(np.clip(int(top), 0, hr.shape[0] - size))
        left = int(np.clip(int(left), 0, hr.shape[1] - size))
        return top, left, size

    def panels(self, name: str, top: int, left: int, size: int, variants=None) -> list[Panel]:
        """The panels of one crop, one per available variant of ``variants`` (default: all)."""
        top, left, size = self.crop_box(name, top, left, size)
        window = (slice(top, top + size), slice(left, left + size))
        hr = self._hr(name)[window]
        y_hr = metrics.rgb_to_y(hr)
        out = []
        for v in self.available if variants is None else [v for v in variants if v in self.available]:
            crop = self.super_resolve(name, v)[window]
            if v == "hr":  # the reference: exact values, nothing to compute
                p, s, d22, d54 = float("inf"), 1.0, 0.0, 0.0
            else:
                p, s = metrics.psnr(crop, hr, border=0), metrics.ssim(crop, hr, border=0)
                d22, d54 = (feature_distance(crop, hr, layer, weights=self.vgg_weights)
                            for layer in FEATURE_LAYERS)
            out.append(Panel(v, LABELS.get(v, v), crop, np.abs(metrics.rgb_to_y(crop) - y_hr), p, s, d22, d54))
        return out

    def figure(self, name: str, top: int, left: int, size: int, variants=None, view: str = "image",
               difference_max: float | None = None, panel_size: float = 2.4):
        """One row of :func:`grid_figure`: the crop of image ``name`` in every variant."""
        return grid_figure(self, [(name, top, left, size)], variants, view, difference_max, panel_size)


VIEWS = ("image", "difference", "both")


def difference_scale(panels) -> float:
    """The shared top of the difference colour scale: the largest 99th percentile of ``|dY|`` over
    the panels (at least 1 Y level), so one outlier pixel does not wash the scale out."""
    tops = [float(np.percentile(p.difference, 99)) for p in panels if p.variant != "hr"]
    return max([1.0] + tops)


def grid_figure(comparison: Comparison, crops, variants=None, view: str = "image",
                difference_max: float | None = None, panel_size: float = 2.4):
    """Image rows x variant columns: each crop ``(name, top, left, size)`` of ``crops`` in each
    available variant, each panel titled with its metrics (:meth:`Panel.title`).

    ``view``: ``"image"``, ``"difference"`` (``|Y - Y_hr|``, grey, 0 .. ``difference_max`` Y levels,
    the same scale for every panel; None: :func:`difference_scale` over all panels) or ``"both"``
    (an image row and a difference row per crop).  Missing variants are named in the title.
    Returns the matplotlib ``Figure`` (the caller shows, glues or closes it).
    """
    import matplotlib.pyplot as plt

    if view not in VIEWS:
        raise UserError(f"view must be one of {', '.join(VIEWS)}, got {view!r}")
    crops = [tuple(c) for c in crops]
    if not crops:
        raise UserError("grid_figure needs at least one (name, top, left, size) crop")
    rows = [comparison.panels(*c, variants=variants) for c in crops]
    ncols = max(len(r) for r in rows)
    if not ncols:
        raise UserError("none of the requested variants is available")
    vmax = float(difference_max) if difference_max else difference_scale([p for r in rows for p in r])
    kinds = {"image": ("image",), "difference": ("difference",), "both": ("image", "difference")}[view]
    nrows = len(rows) * len(kinds)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size * ncols, (panel_size + 0.75) * nrows),
                             squeeze=False)
    for i, (crop, row) in enumerate(zip(crops, rows)):
        for k, kind in enumerate(kinds):
            r = i * len(kinds) + k
            for j in range(ncols):
                ax = axes[r, j]
                ax.axis("off")
                if j >= len(row):
                    continue
                p = row[j]
                if kind == "image":
                    ax.imshow(p.image, interpolation="nearest")
                    ax.set_title(p.title() if j else f"{crop[0]}: {p.title()}", fontsize=7)
                elif p.variant == "hr":  # the reference itself: its difference is 0 everywhere
                    ax.text(0.5, 0.5, "HR is the reference:\n|Y - Y_HR| = 0", ha="center", va="center",
                            fontsize=7, transform=ax.transAxes)
                else:
                    ax.imshow(p.difference, cmap="gray", vmin=0.0, vmax=vmax, interpolation="nearest")
                    ax.set_title(f"{p.label}: |Y - Y_HR|, 0-{vmax:.0f}", fontsize=7)
    note = ("not shipped: " + ", ".join(comparison.missing)) if comparison.missing else ""
    if note:
        fig.suptitle(note, fontsize=8)
    fig.tight_layout()
    return fig


def widget(comparison: Comparison, size: int = 96):
    """The live comparison: ipywidgets controls (image, crop position and size, variants, view)
    around :meth:`Comparison.figure`; returns the ``ipywidgets.VBox`` to display.  Missing variants
    are listed above the controls."""
    import ipywidgets as w

    from srgan_lib.teaching.display import figure_widget

    first = comparison.names[0]
    h, wd = comparison.images[first].shape[:2]
    image = w.Dropdown(options=comparison.names, value=first, description="image")
    crop = w.IntSlider(value=min(size, h, wd), min=MIN_CROP, max=256, step=16, description="crop")
    top = w.IntSlider(value=max(0, (h - crop.value) // 2), min=0, max=max(0, h - MIN_CROP), description="top")
    left = w.IntSlider(value=max(0, (wd - crop.value) // 2), min=0, max=max(0, wd - MIN_CROP), description="left")
    variants = w.SelectMultiple(options=comparison.available, value=tuple(comparison.available),
                                description="variants")
    view = w.ToggleButtons(options=VIEWS, value="image", description="view")

    def on_image(change):
        hh, ww = comparison.images[change["new"]].shape[:2]
        top.max, left.max = max(0, hh - MIN_CROP), max(0, ww - MIN_CROP)

    image.observe(on_image, names="value")

    def draw(image, top, left, crop, variants, view):
        return comparison.figure(image, top, left, crop, variants=list(variants), view=view)

    out = figure_widget(draw, {"image": image, "top": top, "left": left, "crop": crop,
                               "variants": variants, "view": view})
    missing = ", ".join(f"{v} ({why})" for v, why in comparison.missing.items())
    header = w.HTML(f"<b>Not available:</b> {missing}" if missing else "All variants are available.")
    return w.VBox([header, w.HBox([image, crop, view]), w.HBox([top, left, variants]), out])


# --------------------------------------------------------------------------- ranking

RANKED = ("mse", "vgg22", "vgg54")


def rank_losses(comparison: Comparison, variants=("bicubic", "srresnet-mse", "srgan-vgg54"),
                dataset: str = "custom") -> list[dict]:
    """How each content loss ranks the variants over the whole images of ``comparison``.

    For each available variant: the means over the images of the pixel MSE (Eq. 4, RGB in the
    training's [-1, 1] units), the VGG22 and VGG54 distances (Eq. 5 on the training scale,
    :func:`srgan_lib.vgg.feature_distance`), all on the whole image with no border removed:
    the losses as the training computes them.  ``rank_<loss>`` is 1 for the variant with the
    lowest loss.  Returns one dict per variant:
    ``{"dataset", "variant", "n", "mse", "vgg22", "vgg54", "rank_mse", "rank_vgg22", "rank_vgg54"}``.
    """
    rows = []
    for v in [v for v in variants if v in comparison.available and v != "hr"]:
        per_image = {"mse": [], "vgg22": [], "vgg54": []}
        for name, hr in comparison.images.items():
            sr = comparison.super_resolve(name, v)
            per_image["mse"].append(float(np.mean(((sr.astype(np.float64) - hr) / 127.5) ** 2)))
            for layer in FEATURE_LAYERS:
                per_image[f"vgg{layer}"].append(
                    feature_distance(sr, hr, layer, weights=comparison.vgg_weights))
        rows.append({"dataset": dataset, "variant": v, "n": len(comparison.images),
                     **{k: float(np.mean(vals)) for k, vals in per_image.items()}})
    for loss in RANKED:
        order = sorted(range(len(rows)), key=lambda i: rows[i][loss])
        for rank, i in enumerate(order, start=1):
            rows[i][f"rank_{loss}"] = rank
    return rows


def format_ranking(rows) -> str:
    """A markdown table of :func:`rank_losses` rows (several datasets may be concatenated)."""
    from srgan_lib.teaching.display import markdown_table

    body = [[r["dataset"], LABELS.get(r["variant"], r["variant"])]
            + [f"{r[k]:.4f} ({r[f'rank_{k}']})" for k in RANKED] for r in rows]
    return markdown_table(["dataset", "variant", "pixel MSE (rank)", "VGG22 (rank)", "VGG54 (rank)"],
                          body, align="llrrr")
