"""The book's test images: a benchmark set when this machine has it, else scikit-image's photographs.

Every chapter runs anywhere (CI, a laptop, Colab without downloads): :func:`sample_images`
returns the images of a benchmark set when it is cached (``$SRGAN_DATA_DIR``), loaded exactly as
``srgan eval`` loads it (:func:`srgan_lib.data.benchmark.load_eval_set`, gray images marked), and
scikit-image's bundled colour photographs otherwise, saying which (``SampleImages.note``), since
numbers computed on the stand-ins are not the literature's.
"""
from __future__ import annotations

import os

import numpy as np

from srgan_lib.data import ENV_VAR, resolve_dataset
from srgan_lib.data.benchmark import EvalSet, load_eval_set
from srgan_lib.degrade import modcrop
from srgan_lib.errors import InputNotFoundError, UserError

__all__ = ["SKIMAGE_SAMPLES", "skimage_images", "SampleImages", "sample_images", "chapter_sets"]

#: scikit-image's bundled colour photographs used when no benchmark set is on the machine
SKIMAGE_SAMPLES = ("astronaut", "coffee", "chelsea")


def skimage_images(names=SKIMAGE_SAMPLES, scale: int = 4) -> list[tuple[str, np.ndarray]]:
    """``[(name, uint8 HxWx3 modcropped to scale)]`` of scikit-image's sample photographs
    (``skimage.data.<name>()``; they ship with scikit-image, no network is used)."""
    import skimage.data

    out = []
    for n in names:
        loader = getattr(skimage.data, str(n), None)
        if loader is None or not callable(loader):
            raise UserError(f"skimage.data has no image {n!r}")
        img = np.asarray(loader())
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise UserError(f"skimage.data.{n}() is not an RGB uint8 image ({img.dtype}, {img.shape})")
        out.append((str(n), np.ascontiguousarray(modcrop(img, scale))))
    return out


class SampleImages(EvalSet):
    """The :class:`~srgan_lib.data.benchmark.EvalSet` returned by :func:`sample_images` (``name``,
    ``gray``), plus where it came from.

    ``source``: the dataset name (``"Set5"``) or ``"scikit-image"``; ``requested``: the name asked
    for; ``is_benchmark``: whether the requested set was found (numbers are comparable with the
    literature only then); ``note``: a one-paragraph markdown admonition saying that the fallback
    was used (``""`` when it was not).
    """

    def __init__(self, items, source: str, requested: str, is_benchmark: bool, gray=()):
        super().__init__(items, source, gray)
        self.source, self.requested, self.is_benchmark = source, requested, bool(is_benchmark)

    @property
    def note(self) -> str:
        if self.is_benchmark:
            return ""
        return ("> **Note.** "
                f"The benchmark set {self.requested} was not found (`{ENV_VAR}` is unset or has no "
                f"`{self.requested}/` folder), so scikit-image's sample photographs "
                f"({', '.join(n for n, _ in self)}) stand in for it.  The numbers computed from them "
                f"are **not** the {self.requested} numbers of the literature.")

    def describe(self) -> str:
        """One line: the source and each image's size, e.g. ``Set5: baby 512x512, ...``."""
        return f"{self.source}: " + ", ".join(f"{n} {im.shape[1]}x{im.shape[0]}" for n, im in self)

    def __repr__(self) -> str:
        return f"SampleImages({self.describe()})"


def sample_images(name="Set5", scale: int = 4, fallback=SKIMAGE_SAMPLES, limit: int | None = None, *,
                  cache_dir=None, download: bool = False) -> SampleImages:
    """The images of dataset ``name`` if this machine has them, else scikit-image's samples.

    Returns a :class:`SampleImages` (a list of ``(name, hr_uint8 HxWx3 modcropped to scale)``, the
    images and gray flags of :func:`srgan_lib.data.benchmark.load_eval_set`) whose ``source`` /
    ``is_benchmark`` / ``note`` say which set was used.  ``name`` is a dataset name (looked up in
    ``$SRGAN_DATA_DIR``, no download unless ``download=True``) or a folder; ``name=None`` goes
    straight to the fallback.  ``fallback`` names ``skimage.data`` images (:func:`skimage_images`);
    an empty fallback raises :class:`srgan_lib.errors.InputNotFoundError` when the set is missing.
    ``limit`` keeps the first ``limit`` images.
    """
    found = False
    if name is not None:
        try:  # only finding the set falls back; an unreadable image in it is an error
            found = bool(resolve_dataset(name, cache_dir=cache_dir, download=download))
        except (InputNotFoundError, UserError):
            if not fallback:
                raise
    if found:
        images = load_eval_set(name, scale, cache_dir=cache_dir, download=download, limit=limit)
        return SampleImages(list(images), images.name, images.name, True, images.gray)
    items = skimage_images(tuple(fallback)[:limit], scale)
    return SampleImages(items, "scikit-image", "(none)" if name is None else os.fspath(name), False)


def chapter_sets(names, fallback=("astronaut", "chelsea", "coffee"), scale: int = 4) -> dict[str, EvalSet]:
    """The chapters' test images: ``{name: EvalSet}`` of the benchmark sets ``names`` when this machine
    has every one of them (:func:`srgan_lib.data.benchmark.load_eval_set`, no download), else
    ``{"scikit-image": EvalSet}`` of the stand-in photographs ``fallback`` (:func:`skimage_images`)."""
    try:  # a set that is not here falls back; an unreadable image in one (ImageReadError) does not
        return {str(name): load_eval_set(name, scale, download=False) for name in names}
    except InputNotFoundError:
        return {"scikit-image": EvalSet(skimage_images(fallback, scale), "scikit-image")}
