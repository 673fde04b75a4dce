"""Figures of the book's chapters: small matplotlib helpers (drawing only, no computation).

``matplotlib`` is imported when a function is called, with the backend already chosen by the
caller (the notebooks use the inline backend, scripts and tests ``Agg``).
"""
from __future__ import annotations

import numpy as np

__all__ = ["compare_images"]


def _displayable(img) -> np.ndarray:
    x = np.asarray(img)
    if x.dtype == np.uint8 or x.ndim == 2:
        return x
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)  # 0..255 floats (e.g. a mean image)


def compare_images(panels, ncols: int | None = None, figsize=None, fontsize: int = 9,
                   interpolation: str = "nearest", cmap=None, panel_size: float = 3.2):
    """A figure with one image per panel, titled, without axes; returns the ``Figure``.

    ``panels`` is a list of ``(title, image)`` pairs or a ``{title: image}`` dict; images are
    ``(H, W, 3)`` uint8, ``(H, W)`` (drawn with ``cmap``, default grey) or 0..255 floats (rounded
    and clipped to uint8 for display).  ``ncols`` defaults to one row; extra axes of the last
    row are hidden.  ``interpolation="nearest"`` shows LR pixels as blocks.  The caller glues,
    shows or closes the figure.
    """
    import matplotlib.pyplot as plt

    items = list(panels.items()) if isinstance(panels, dict) else list(panels)
    if not items:
        raise ValueError("compare_images needs at least one (title, image) panel")
    n = len(items)
    ncols = n if not ncols else min(int(ncols), n)
    nrows = -(-n // ncols)
    if figsize is None:
        figsize = (panel_size * ncols, (panel_size + 0.3) * nrows)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False)
    flat = axes.ravel()
    for ax, (title, img) in zip(flat, items):
        x = _displayable(img)
        ax.imshow(x, interpolation=interpolation, cmap=(cmap or "gray") if x.ndim == 2 else None)
        ax.set_title(str(title), fontsize=fontsize)
        ax.axis("off")
    for ax in flat[n:]:
        ax.remove()
    fig.tight_layout()
    return fig
