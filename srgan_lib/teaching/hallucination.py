"""Recovered or invented? The detail an SR method adds, against the detail the LR image lost (chapter 7).

Write every image relative to the bicubic upscale ``B`` of the LR image (the LR image is the
bicubic downscale of HR, Ledig et al., Sec. 3.2), on the BT.601 Y channel:

    m = Y(HR) - Y(B)    the detail the LR image does not carry ("missing"),
    a = Y(SR) - Y(B)    the detail the method put back ("added"),
    a - m = Y(SR) - Y(HR)   the method's error.

With mean squares ``|m|^2``, ``|a|^2``, the RMS ratio ``r = |a| / |m|`` and the correlation
``rho = <a, m> / (|a| |m|)``, the share of the bicubic upscale's squared error that the method removes is

    recovered = 1 - |a - m|^2 / |m|^2 = 2 rho r - r^2 = r (2 rho - r).

For a given correlation the best ``r`` is ``rho`` (then ``recovered = rho^2``): an MSE-trained network
adds *less* energy than is missing whenever it cannot be sure where the detail lies (rho < 1), which
is the blur of regression to the mean.  A method that adds the full energy (r = 1) removes
``2 rho - 1``: it beats bicubic in MSE only if its detail correlates with the truth by more than 1/2.
Texture with the right statistics but the wrong positions (rho near 0) makes the error *larger* than
bicubic's, even though it looks sharper: that texture was invented, not recovered.
"""
from __future__ import annotations

import numpy as np

from srgan_lib.degrade import bicubic, modcrop, upscale_bicubic
from srgan_lib.errors import UserError
from srgan_lib.metrics import rgb_to_y

__all__ = ["detail_decomposition", "detail_figure"]


def _box(shape, box):
    if box is None:
        return slice(None), slice(None)
    top, left, size = (int(v) for v in box)
    if size < 1 or top < 0 or left < 0 or top + size > shape[0] or left + size > shape[1]:
        raise UserError(f"crop box {tuple(box)} does not fit an image of {shape[1]}x{shape[0]} pixels")
    return slice(top, top + size), slice(left, left + size)


def detail_decomposition(sr_uint8, hr_uint8, scale: int = 4, box=None) -> dict:
    """The decomposition of the module docstring for one SR image of ``hr_uint8``.

    ``sr_uint8`` must be the method's output for the bicubic LR image of ``hr_uint8`` (mod-cropped to
    ``scale``), the whole image; ``box = (top, left, size)`` restricts the statistics and maps to a
    square window (the bicubic upscale is computed on the whole image first).  Returns
    ``{"missing", "added", "error"}`` (float64 Y maps of the window) and the scalars
    ``"missing_rms"``, ``"added_rms"``, ``"ratio"`` (r), ``"correlation"`` (rho) and ``"recovered"``.
    """
    hr = modcrop(np.asarray(hr_uint8), scale)
    sr = np.asarray(sr_uint8)
    if hr.dtype != np.uint8 or sr.dtype != np.uint8 or hr.ndim != 3 or sr.shape != hr.shape:
        raise UserError(f"detail_decomposition needs uint8 RGB SR and HR images of one size, got "
                        f"{sr.dtype} {sr.shape} and {hr.dtype} {hr.shape}")
    base = upscale_bicubic(bicubic(hr, scale), scale)
    win = _box(hr.shape, box)
    y_base = rgb_to_y(base[win])
    missing = rgb_to_y(hr[win]) - y_base
    added = rgb_to_y(sr[win]) - y_base
    m2, a2 = float(np.mean(missing ** 2)), float(np.mean(added ** 2))
    if m2 == 0:
        raise UserError("the bicubic upscale reproduces this window exactly: no detail is missing")
    corr = float(np.mean(added * missing) / np.sqrt(a2 * m2)) if a2 > 0 else 0.0
    return {"missing": missing, "added": added, "error": added - missing,
            "missing_rms": float(np.sqrt(m2)), "added_rms": float(np.sqrt(a2)),
            "ratio": float(np.sqrt(a2 / m2)), "correlation": corr,
            "recovered": float(1.0 - np.mean((added - missing) ** 2) / m2)}


def detail_figure(decompositions, limit: float | None = None, panel_size: float = 2.6):
    """The maps of :func:`detail_decomposition` side by side on one signed grey scale: the missing
    detail (once, from the first entry), then the added detail and the error of each entry of
    ``decompositions`` (``{label: decomposition}``).  ``limit``: the grey scale is
    ``-limit .. limit`` Y levels (default: the 99th percentile of ``|missing|``).  Returns the Figure.
    """
    import matplotlib.pyplot as plt

    items = list(dict(decompositions).items())
    if not items:
        raise UserError("detail_figure needs at least one decomposition")
    first = items[0][1]
    lim = float(limit) if limit else max(1.0, float(np.percentile(np.abs(first["missing"]), 99)))
    panels = [("missing detail: HR - bicubic", first["missing"])]
    for label, d in items:
        panels.append((f"{label}: added (r={d['ratio']:.2f}, rho={d['correlation']:.2f})", d["added"]))
        panels.append((f"{label}: error SR - HR", d["error"]))
    fig, axes = plt.subplots(1, len(panels), figsize=(panel_size * len(panels), panel_size + 0.5),
                             squeeze=False)
    for ax, (title, img) in zip(axes[0], panels):
        ax.imshow(img, cmap="gray", vmin=-lim, vmax=lim, interpolation="nearest")
        ax.set_title(title, fontsize=7)
        ax.axis("off")
    fig.suptitle(f"Y levels, grey = 0, black/white = -/+{lim:.0f}", fontsize=8)
    fig.tight_layout()
    return fig
