"""Which test images the book's figures crop: one table for the whole book.

:data:`FIGURES` maps a figure number (``"2.5"``; ``"onepage"`` for the one-page SRGAN) to the
``(set, image)`` pairs its crops come from, in the order the figure shows them.  The chapters read
their images from it when the benchmark sets are on the machine, and choose the window inside each
image by a texture score (:func:`srgan_lib.teaching.degradations.texture_box`), so no coordinates
are typed by hand.  ``tests/test_teaching_crops.py`` checks that no image is cropped by more than
:data:`MAX_FIGURES` figures, so that the reader sees many images rather than the same few.

Figures whose crops come from a training run's sample strips (Figures 2.7 and 5.7 show Set5's
first image, the validation image of ``srgan train``) are listed too, although the run, not
this table, picks that image.
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from srgan_lib.data.lookup import resolve_dataset
from srgan_lib.degrade import modcrop
from srgan_lib.errors import UserError
from srgan_lib.images import read_pixels

__all__ = ["FIGURES", "MAX_FIGURES", "images_of", "names_of", "figures_per_image", "load"]

#: the most figures that may crop the same test image
MAX_FIGURES = 3

#: figure -> the (set, image) pairs its crops come from
FIGURES: dict[str, tuple[tuple[str, str], ...]] = {
    "1.1": (("Set5", "woman"),),
    "1.4": (("Set5", "butterfly"),),  # the Set5 image with the most texture
    "1.6": (("Set5", "bird"), ("Set5", "butterfly"), ("Set5", "head"),
            ("Set5", "woman")),  # the four images the generator runs on in smoke mode
    "1.7": (("Set5", "butterfly"),),
    "2.3": (("Set5", "bird"),),
    "2.5": (("Set5", "bird"), ("Set14", "barbara"), ("BSD100", "img_092")),
    "2.7": (("Set5", "baby"),),  # the run's sample strip
    "3.1": (("Set5", "head"),),
    "3.2": (("Set14", "monarch"),),
    "3.3": (("Set14", "monarch"),),
    "3.4": (("Set14", "monarch"),),
    "3.5": (("Set14", "coastguard"), ("Set14", "flowers")),
    "4.5": (("Set14", "lenna"),),
    "4.6": (("BSD100", "img_088"), ("Set14", "ppt3")),
    "5.2": (("Set14", "zebra"), ("BSD100", "img_009"), ("BSD100", "img_095"),
            ("Set5", "head")),
    "5.3": (("Set14", "zebra"),),  # speckle in its white stripes, colour fringes
    "5.6": (("BSD100", "img_009"),),  # the second crop of Figure 5.2
    "5.7": (("Set5", "baby"), ("Set14", "zebra"), ("BSD100", "img_009")),
    "6.2": (("Set14", "baboon"), ("Set14", "comic")),
    "6.3": (("Set14", "comic"),),
    "7.1": (("Set14", "baboon"),),
    "7.2": (("Set14", "baboon"),),
    "7.5": (("Set14", "comic"),),
    "onepage": (("Set14", "pepper"),),
}


def images_of(figure: str) -> tuple[tuple[str, str], ...]:
    """The ``(set, image)`` pairs that figure ``figure`` crops (a key of :data:`FIGURES`)."""
    if figure not in FIGURES:
        raise UserError(f"no crops are listed for figure {figure!r} "
                        f"(listed: {', '.join(FIGURES)})")
    return FIGURES[figure]


def names_of(figure: str) -> list[str]:
    """The image names that figure ``figure`` crops, in its order."""
    return [name for _, name in images_of(figure)]


def figures_per_image(table=None) -> Counter:
    """``Counter`` of ``(set, image)`` -> the number of figures of ``table`` (default
    :data:`FIGURES`) that crop it; an image shown twice in one figure counts once."""
    table = FIGURES if table is None else table
    return Counter(pair for pairs in table.values() for pair in set(pairs))


def load(figure: str, scale: int = 4, *, cache_dir=None) -> list[tuple[str, np.ndarray]]:
    """``[(name, hr_uint8 (H, W, 3) modcropped to scale)]`` of the images figure ``figure``
    crops, read from the cached benchmark sets (``$SRGAN_DATA_DIR`` or ``cache_dir``, no
    download) as :func:`srgan_lib.data.benchmark.load_eval_set` reads them (gray images as
    RGB), without decoding the rest of each set.  A set that is not cached raises
    :class:`srgan_lib.errors.InputNotFoundError`."""
    out = []
    for set_name, name in images_of(figure):
        files = [f for f in resolve_dataset(set_name, cache_dir=cache_dir, download=False)
                 if f.stem == name]
        if len(files) != 1:
            raise UserError(f"{set_name} has no image {name!r} (figure {figure})")
        hr = read_pixels(files[0], work="cropping it").rgb
        out.append((name, np.ascontiguousarray(modcrop(hr, scale))))
    return out
