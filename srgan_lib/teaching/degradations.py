"""Degradations, and what a mismatch costs a trained generator (the book's chapter 1).

The LR image is a definition: ``y = S K x`` (a blur ``K``, keeping one sample in
``scale``, 8-bit rounding).  This module holds what chapter 1 computes about it: Keys'
cubic kernel for any ``a`` (:func:`keys`, :func:`polynomial_error`,
:func:`keys_response`), an HR image with the same LR image as another
(:func:`null_space_twin`), and the degradation-mismatch study.

A super-resolution network is trained on pairs ``(LR, HR)`` made by ONE degradation; the
shipped generators (``srresnet-mse``, ``srgan-vgg54``) saw MATLAB-bicubic x4 LR images
(:func:`srgan_lib.degrade.bicubic`).  A :class:`MismatchStudy` makes the LR image of
each test image with several degradations, super-resolves each with the same generator,
and scores the results with the benchmark protocol (:func:`srgan_lib.metrics.psnr` and
:func:`~srgan_lib.metrics.ssim`: BT.601 Y, a border of ``scale`` pixels), next to the
bicubic baseline of the same LR image.

Degradations are named by strings (:func:`make_lr`):

``"matlab"``
    MATLAB ``imresize(hr, 1/scale, 'bicubic')`` rounded to uint8 (what the shipped
    generators were trained on);
``"pil"``, ``"keras"``, ``"keras-antialias"``, ``"skimage"``
    another library's "bicubic" downscale
    (:func:`srgan_lib.teaching.resizers.resize_with`);
``"seed"``
    the seed blog's pipeline exactly (:func:`seed_lr`): Pillow ``GaussianBlur(1.5)``,
    then Pillow's bicubic resize;
``"blur:<sigma>"``
    an exact Gaussian blur of that sigma, then MATLAB bicubic
    (:func:`srgan_lib.degrade.gaussian_bicubic`; ``"blur:0"`` is ``"matlab"``);
``"jpeg:<quality>"``, ``"noise:<sigma>"``
    MATLAB bicubic followed by a JPEG round trip (Pillow, default 4:2:0 subsampling) or
    by additive Gaussian noise of that standard deviation in grey levels (a fixed random
    seed), rounded to uint8: two of the degradations of real photographs.

Crops for figures are chosen by texture (:func:`texture_box`): the window with the most
(or least) luma gradient energy, aligned to the LR grid so that the LR crop is exact.
"""
from __future__ import annotations

import io

import numpy as np

from srgan_lib import metrics
from srgan_lib.degrade import _check_uint8, _round_to_uint8, check_scale, bicubic
from srgan_lib.degrade import gaussian_bicubic, upscale_bicubic, upscale_nearest
from srgan_lib.errors import UserError
from srgan_lib.teaching.resizers import RESIZE_LIBRARIES, resize_with

__all__ = ["DEGRADATIONS", "TRAINED_ON", "keys", "polynomial_error", "keys_response",
           "null_space_twin", "label", "seed_lr", "make_lr", "as_upscaler",
           "texture_box", "MismatchStudy", "crop_figure", "grid_figure", "sweep_figure",
           "widget"]

#: the four degradations of the chapter's table: the generators' own and three others
DEGRADATIONS = ("matlab", "pil", "keras", "seed")
#: the degradation the shipped generators were trained on
TRAINED_ON = "matlab"
#: the seed blog's blur radius (Pillow ``ImageFilter.GaussianBlur(1.5)``)
SEED_RADIUS = 1.5
NOISE_SEED = 0

_LABELS = {
    "matlab": "MATLAB bicubic",
    "pil": "PIL bicubic",
    "keras": "Keras bicubic (no antialias)",
    "keras-antialias": "Keras bicubic, antialias",
    "skimage": "scikit-image resize(order=3)",
    "seed": "seed: PIL blur 1.5 + PIL bicubic",
}


# ------------------------------------------------------------------ Keys' kernel

def keys(s, a: float = -0.5) -> np.ndarray:
    """Keys' (1981) cubic convolution kernel with parameter ``a`` at positions ``s``.

    ``(a+2)|s|^3 - (a+3)|s|^2 + 1`` for ``|s| <= 1``, ``a|s|^3 - 5a|s|^2 + 8a|s| - 4a``
    for ``1 < |s| < 2``, 0 beyond.  ``a = -0.5`` is MATLAB's and Pillow's ``cubic``
    (:func:`srgan_lib.degrade._cubic`); OpenCV's and PyTorch's bicubic use
    ``a = -0.75``.
    """
    x = np.abs(np.asarray(s, dtype=np.float64))
    inner = (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1
    outer = a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a
    return np.where(x <= 1, inner, np.where(x < 2, outer, 0.0))


def polynomial_error(a: float, degree: int, points: int = 101) -> float:
    """The largest error of cubic convolution with parameter ``a`` interpolating
    ``t ** degree`` from its samples at the integers, over ``t`` in ``[-1, 1]``:
    ``max |sum_n n**degree k(t - n) - t**degree|`` (0 up to rounding when the kernel
    reproduces polynomials of that degree)."""
    t = np.linspace(-1.0, 1.0, int(points))
    n = np.arange(-4, 5, dtype=np.float64)
    interpolated = (n[None, :] ** degree * keys(t[:, None] - n[None, :], a)).sum(axis=1)
    return float(np.max(np.abs(interpolated - t ** degree)))


def keys_response(freq, a: float = -0.5, stretch: float = 1.0) -> np.ndarray:
    """The frequency response of the kernel ``k(s / stretch) / stretch`` at ``freq``
    (cycles per pixel): ``K(stretch * f)`` with
    ``K(f) = 2 int_0^2 k(s) cos(2 pi f s) ds`` (the kernel is even), by the trapezoidal
    rule.  ``K(0) = 1``; stretching the kernel by ``r`` compresses its response by ``r``
    (the similarity theorem)."""
    from scipy.integrate import trapezoid

    f = np.asarray(freq, dtype=np.float64) * float(stretch)
    s = np.linspace(0.0, 2.0, 4001)
    k = keys(s, a)
    integrand = k[None, :] * np.cos(2 * np.pi * f.reshape(-1)[:, None] * s[None, :])
    return (2.0 * trapezoid(integrand, s, axis=1)).reshape(f.shape)


def null_space_twin(hr_uint8, scale: int = 4, amplitude: float = 16.0,
                    seed: int = 0) -> np.ndarray:
    """A float64 image ``hr + n`` whose MATLAB-bicubic downscale equals that of ``hr``
    (up to float rounding): ``n`` is white noise projected onto the null space of the
    downscale.

    The downscale is separable, ``Y = A_h X A_w^T`` per channel
    (:func:`srgan_lib.degrade.resize_weights`), so the projector onto its row space is
    ``X -> P_h X P_w^T`` with ``P = pinv(A) A``; ``n`` is the noise minus that
    projection, scaled to a standard deviation of ``amplitude`` grey levels.  The result
    may leave 0..255 (clip it to display it; the LR identity holds for the float image).
    """
    from srgan_lib.degrade import resize_weights

    x = _check_uint8(hr_uint8, "null_space_twin").astype(np.float64)
    scale = check_scale(scale)
    h, w = x.shape[:2]
    if h % scale or w % scale:
        raise UserError(f"null_space_twin: {w}x{h} is not divisible by {scale}; "
                        f"mod-crop it first")
    ah = resize_weights(h, h // scale, 1.0 / scale)
    aw = resize_weights(w, w // scale, 1.0 / scale)
    ph, pw = np.linalg.pinv(ah) @ ah, np.linalg.pinv(aw) @ aw
    noise = np.random.default_rng(seed).normal(size=x.shape)
    seen = np.einsum("ij,jkc,lk->ilc", ph, noise.reshape(h, w, -1), pw).reshape(x.shape)
    n = noise - seen
    return x + float(amplitude) * n / n.std()


# ------------------------------------------------------------------ degradations

def _parse(kind: str) -> tuple[str, float | None]:
    kind = str(kind)
    if kind in RESIZE_LIBRARIES or kind == "seed":
        return kind, None
    head, sep, value = kind.partition(":")
    if sep and head in ("blur", "jpeg", "noise"):
        try:
            v = float(value)
        except ValueError:
            v = float("nan")
        ok = {"blur": v >= 0, "noise": v >= 0, "jpeg": 1 <= v <= 95 and v == round(v)}
        if ok[head]:
            return head, v
        raise UserError(f"bad degradation {kind!r}: blur:<sigma >= 0>, "
                        f"noise:<sigma >= 0> or jpeg:<quality 1..95>")
    raise UserError(f"unknown degradation {kind!r}; choose one of "
                    f"{', '.join(RESIZE_LIBRARIES)}, seed, blur:<sigma>, "
                    f"jpeg:<quality>, noise:<sigma>")


def label(kind: str) -> str:
    """A short human-readable name of the degradation ``kind``."""
    head, value = _parse(kind)
    if value is None:
        return _LABELS[head]
    return {"blur": f"Gaussian {value:g} + MATLAB", "jpeg": f"MATLAB + JPEG q{value:g}",
            "noise": f"MATLAB + noise {value:g}"}[head]


def seed_lr(hr_uint8, scale: int = 4, radius: float = SEED_RADIUS) -> np.ndarray:
    """The seed blog's LR image: ``img.filter(ImageFilter.GaussianBlur(1.5))``, then
    ``.resize((W // 4, H // 4), Image.Resampling.BICUBIC)``, both Pillow (uint8 in and
    out).

    Pillow's ``GaussianBlur`` approximates a Gaussian of standard deviation ``radius``
    with three box filters; its bicubic resize is Keys' kernel, antialiased.
    """
    from PIL import Image, ImageFilter

    x = _check_uint8(hr_uint8, "seed_lr")
    scale = check_scale(scale)
    blurred = Image.fromarray(x).filter(ImageFilter.GaussianBlur(float(radius)))
    size = (x.shape[1] // scale, x.shape[0] // scale)
    return np.asarray(blurred.resize(size, Image.Resampling.BICUBIC))


def _jpeg(x: np.ndarray, quality: int) -> np.ndarray:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(x).save(buf, format="JPEG", quality=int(quality))
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def make_lr(hr_uint8, kind: str = "matlab", scale: int = 4) -> np.ndarray:
    """The x``scale`` LR image of ``hr_uint8`` (H, W divisible by ``scale``) made by
    ``kind`` (see the module docstring), uint8 ``(H // scale, W // scale, 3)``."""
    head, value = _parse(kind)
    x = _check_uint8(hr_uint8, "make_lr")
    scale = check_scale(scale)
    if head in RESIZE_LIBRARIES:
        return resize_with(x, scale, head)
    if head == "seed":
        return seed_lr(x, scale)
    if head == "blur":
        return gaussian_bicubic(x, scale, value) if value > 0 else bicubic(x, scale)
    lr = bicubic(x, scale)
    if head == "jpeg":
        return _jpeg(lr, int(value))
    rng = np.random.default_rng(NOISE_SEED)
    return _round_to_uint8(lr + rng.normal(0.0, value, lr.shape))


def as_upscaler(generator):
    """A callable ``uint8 (N, h, w, 3) -> uint8 (N, s h, s w, 3)`` for ``generator``: a
    shipped model name or path (:func:`srgan_lib.weights.load_generator`), a Keras model
    (compiled with :func:`srgan_lib.inference.make_predictor`), or such a callable
    already (returned as it is)."""
    from srgan_lib import inference

    if isinstance(generator, str):
        from srgan_lib import weights

        return inference.make_predictor(weights.load_generator(generator))
    import keras

    if isinstance(generator, keras.Model):
        return inference.make_predictor(generator)
    if not callable(generator):
        raise UserError(f"generator must be a model name, a Keras model or a callable, "
                        f"not {type(generator).__name__}")
    return generator


def texture_box(hr_uint8, size: int, scale: int = 4, mode: str = "busiest",
                margin: int | None = None) -> tuple[int, int, int]:
    """``(top, left, size)`` of the ``size`` x ``size`` window with the most
    (``"busiest"``) or the least (``"flattest"``) texture: the mean squared luma
    gradient (BT.601 Y, forward differences) over the window.

    ``top``, ``left`` and ``size`` are multiples of ``scale``, so the LR crop is exactly
    ``lr[top // s:(top + size) // s, ...]``; windows closer than ``margin`` pixels
    (default ``2 * scale``) to the image border are not considered.
    """
    x = _check_uint8(hr_uint8, "texture_box")
    scale = check_scale(scale)
    if mode not in ("busiest", "flattest"):
        raise UserError(f"mode must be 'busiest' or 'flattest', got {mode!r}")
    margin = 2 * scale if margin is None else int(margin)
    size = int(size) - int(size) % scale
    h, w = x.shape[:2]
    if size < scale or size + 2 * margin > min(h, w):
        raise UserError(f"a {size}-pixel crop (margin {margin}) does not fit a {w}x{h} "
                        f"image")
    y = metrics.rgb_to_y(x) if x.ndim == 3 else x.astype(np.float64)
    energy = np.zeros((h, w))
    energy[:-1, :] += np.diff(y, axis=0) ** 2
    energy[:, :-1] += np.diff(y, axis=1) ** 2
    integral = np.pad(energy.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    first = -(-margin // scale) * scale
    tops = np.arange(first, h - margin - size + 1, scale)
    lefts = np.arange(first, w - margin - size + 1, scale)
    t, l_ = np.meshgrid(tops, lefts, indexing="ij")
    sums = (integral[t + size, l_ + size] - integral[t, l_ + size]
            - integral[t + size, l_] + integral[t, l_])
    i = np.argmax(sums) if mode == "busiest" else np.argmin(sums)
    return int(t.ravel()[i]), int(l_.ravel()[i]), size


def _window(box):
    top, left, size = box
    return slice(top, top + size), slice(left, left + size)


# ------------------------------------------------------------------ the study

class MismatchStudy:
    """One generator applied to the LR images of several degradations, results cached.

    Args:
        images: ``[(name, hr_uint8 (H, W, 3)), ...]`` with H, W divisible by ``scale``
            (e.g. :func:`srgan_lib.teaching.samples.sample_images`); the names in its ``gray``
            (an :class:`srgan_lib.data.benchmark.EvalSet`'s gray images) are scored on their gray
            levels, as ``srgan eval`` scores them.
        generator: a shipped model name, a Keras model or an upscaler callable
            (:func:`as_upscaler`); build the upscaler once and pass it to several
            studies to compile it once.
        kinds: the degradations (names for :func:`make_lr`); ``trained_on`` is put first
            when it is missing.
        scale: the upscaling factor of the generator.
        trained_on: the degradation the generator was trained on; :meth:`summary`
            compares every degradation with it.
    """

    def __init__(self, images, generator="srresnet-mse", kinds=DEGRADATIONS,
                 scale: int = 4, trained_on: str = TRAINED_ON):
        self.scale = check_scale(scale)
        self.gray = frozenset(getattr(images, "gray", ()))
        self.images = {}
        for name, hr in images:
            hr = np.asarray(hr)
            if hr.dtype != np.uint8 or hr.ndim != 3 or hr.shape[2] != 3:
                raise UserError(f"MismatchStudy: image {name!r} must be uint8 "
                                f"(H, W, 3), got {hr.dtype} {hr.shape}")
            if hr.shape[0] % self.scale or hr.shape[1] % self.scale:
                raise UserError(f"MismatchStudy: image {name!r} ({hr.shape[1]}x"
                                f"{hr.shape[0]}) is not divisible by {self.scale}; "
                                f"mod-crop it first")
            self.images[str(name)] = hr
        if not self.images:
            raise UserError("MismatchStudy needs at least one (name, hr) image")
        kinds = [str(k) for k in kinds]
        for k in kinds + [str(trained_on)]:
            _parse(k)
        self.trained_on = str(trained_on)
        self.kinds = kinds if self.trained_on in kinds else [self.trained_on] + kinds
        self.upscale = as_upscaler(generator)
        self._lr: dict = {}
        self._sr: dict = {}
        self._scores: dict = {}

    @property
    def names(self) -> list[str]:
        return list(self.images)

    def _hr(self, name: str) -> np.ndarray:
        if name not in self.images:
            raise UserError(f"no image {name!r} in this study; choose one of "
                            f"{', '.join(self.images)}")
        return self.images[name]

    def lr(self, name: str, kind: str) -> np.ndarray:
        """The LR image of ``name`` made by ``kind`` (uint8), computed once."""
        key = (name, str(kind))
        if key not in self._lr:
            self._lr[key] = make_lr(self._hr(name), kind, self.scale)
        return self._lr[key]

    def sr(self, name: str, kind: str) -> np.ndarray:
        """The generator's output for :meth:`lr` ``(name, kind)`` (uint8, the HR size).

        The first call for an image runs the generator on the LR images of all
        :attr:`kinds` (and ``kind``) not computed yet, as one batch.
        """
        key = (name, str(kind))
        if key not in self._sr:
            wanted = dict.fromkeys(self.kinds + [str(kind)])
            todo = [k for k in wanted if (name, k) not in self._sr]
            out = np.asarray(self.upscale(np.stack([self.lr(name, k) for k in todo])))
            want = (len(todo),) + self._hr(name).shape
            if out.dtype != np.uint8 or out.shape != want:
                raise UserError(f"the generator returned {out.dtype} {out.shape} for "
                                f"image {name!r}, expected uint8 {want}; is it a "
                                f"x{self.scale} model?")
            for k, img in zip(todo, out):
                self._sr[(name, k)] = img
        return self._sr[key]

    def bicubic(self, name: str, kind: str) -> np.ndarray:
        """The bicubic baseline of :meth:`lr` ``(name, kind)`` (MATLAB, uint8)."""
        return upscale_bicubic(self.lr(name, kind), self.scale)

    def score(self, name: str, kind: str) -> dict:
        """``{"name", "kind", "sr_psnr", "sr_ssim", "bicubic_psnr", "bicubic_ssim"}`` of
        one image and degradation, with the benchmark protocol of ``srgan eval`` (Y, border
        ``scale``; a gray image on its gray levels)."""
        key = (name, str(kind))
        if key not in self._scores:
            hr, s = self._hr(name), self.scale
            sr, bic = self.sr(name, kind), self.bicubic(name, kind)
            if name in self.gray:
                hr, sr, bic = metrics.to_gray(hr), metrics.to_gray(sr), metrics.to_gray(bic)
            self._scores[key] = {"name": name, "kind": str(kind),
                                 "sr_psnr": metrics.psnr(sr, hr, border=s),
                                 "sr_ssim": metrics.ssim(sr, hr, border=s),
                                 "bicubic_psnr": metrics.psnr(bic, hr, border=s),
                                 "bicubic_ssim": metrics.ssim(bic, hr, border=s)}
        return self._scores[key]

    def summary(self, kinds=None) -> list[dict]:
        """One dict per degradation of ``kinds`` (default :attr:`kinds`).

        Keys: ``kind``, ``label``, ``n``; the means over the images of the four scores
        of :meth:`score`; ``gain`` (the generator's mean PSNR minus the bicubic
        baseline's, on the same LR images); ``loss`` and ``loss_ssim`` (the generator's
        mean PSNR / SSIM minus its means on ``trained_on`` LR images: 0 for that one);
        ``worse_on`` (the number of images on which the generator's PSNR is lower than
        on ``trained_on``).
        """
        kinds = self.kinds if kinds is None else [str(k) for k in kinds]
        ref = {n: self.score(n, self.trained_on) for n in self.images}
        ref_psnr = float(np.mean([s["sr_psnr"] for s in ref.values()]))
        ref_ssim = float(np.mean([s["sr_ssim"] for s in ref.values()]))
        rows = []
        for k in kinds:
            scores = [self.score(n, k) for n in self.images]
            row = {"kind": k, "label": label(k), "n": len(scores)}
            for key in ("sr_psnr", "sr_ssim", "bicubic_psnr", "bicubic_ssim"):
                row[key] = float(np.mean([s[key] for s in scores]))
            row["gain"] = row["sr_psnr"] - row["bicubic_psnr"]
            row["loss"] = row["sr_psnr"] - ref_psnr
            row["loss_ssim"] = row["sr_ssim"] - ref_ssim
            row["worse_on"] = sum(s["sr_psnr"] < ref[s["name"]]["sr_psnr"]
                                  for s in scores)
            rows.append(row)
        return rows

    def crop_panels(self, name: str, box, kinds=None, what: str = "sr",
                    border: int = 0) -> list[tuple[str, np.ndarray]]:
        """``[(title, crop)]`` of ``box`` (``(top, left, size)``): for each kind the
        ``what`` image (``"sr"``, ``"bicubic"`` or ``"lr"``, the LR input drawn as
        ``scale`` x ``scale`` blocks), then HR.  SR and bicubic titles carry the crop's
        PSNR on Y with ``border`` pixels removed (0: the crop is a window of the whole
        result, the benchmark's border does not apply)."""
        if what not in ("sr", "bicubic", "lr"):
            raise UserError(f"what must be 'sr', 'bicubic' or 'lr', got {what!r}")
        kinds = self.kinds if kinds is None else [str(k) for k in kinds]
        win = _window(box)
        hr = self._hr(name)[win]
        out = []
        for k in kinds:
            if what == "lr":
                blocks = upscale_nearest(self.lr(name, k), self.scale)
                out.append((label(k), blocks[win]))
                continue
            img = (self.sr(name, k) if what == "sr" else self.bicubic(name, k))[win]
            db = metrics.psnr(img, hr, border=border)
            out.append((f"{label(k)}\n{db:.2f} dB", img))
        out.append(("HR", hr))
        return out

    def difference_to_trained(self, name: str, box, kinds=None) -> dict[str, float]:
        """``{kind: mean |Y_sr(kind) - Y_sr(trained_on)|}`` over the crop ``box``, in Y
        levels: how different the generator's outputs for the degradations are there."""
        kinds = self.kinds if kinds is None else [str(k) for k in kinds]
        win = _window(box)
        ref = metrics.rgb_to_y(self.sr(name, self.trained_on)[win])
        return {k: float(np.mean(np.abs(metrics.rgb_to_y(self.sr(name, k)[win]) - ref)))
                for k in kinds if k != self.trained_on}


# ------------------------------------------------------------------ figures

def _draw(axes, panels, fontsize):
    for ax, (title, img) in zip(axes, panels):
        ax.imshow(img, interpolation="nearest")
        ax.set_title(title, fontsize=fontsize)
        ax.axis("off")


ROW_NAMES = {"lr": "LR input", "bicubic": "bicubic x4", "sr": "generator"}


def crop_figure(study: MismatchStudy, name: str, box, kinds=None,
                rows=("lr", "bicubic", "sr"), border: int = 0, panel_size: float = 2.3,
                fontsize: int = 7):
    """One crop of one image in detail: a row per entry of ``rows`` (the LR input as
    blocks, the bicubic baseline, the generator's output), a column per degradation, HR
    last (PSNR titles as :meth:`MismatchStudy.crop_panels`).  Returns the ``Figure``."""
    import matplotlib.pyplot as plt

    kinds = study.kinds if kinds is None else list(kinds)
    fig, axes = plt.subplots(len(rows), len(kinds) + 1, squeeze=False,
                             figsize=(panel_size * (len(kinds) + 1),
                                      (panel_size + 0.45) * len(rows)))
    for r, what in enumerate(rows):
        panels = study.crop_panels(name, box, kinds, what, border)
        named = [(f"{ROW_NAMES[what]}: {t}", img) for t, img in panels[:-1]]
        panels = named + [panels[-1]]
        _draw(axes[r], panels, fontsize)
    fig.tight_layout()
    return fig


def grid_figure(study: MismatchStudy, crops, kinds=None, panel_size: float = 2.2,
                fontsize: int = 7):
    """The generator's output on each crop ``(name, (top, left, size))`` of ``crops``
    (rows) for each degradation (columns), HR last: the static version of
    :func:`widget`."""
    import matplotlib.pyplot as plt

    crops = list(crops)
    if not crops:
        raise UserError("grid_figure needs at least one (name, box) crop")
    kinds = study.kinds if kinds is None else list(kinds)
    fig, axes = plt.subplots(len(crops), len(kinds) + 1, squeeze=False,
                             figsize=(panel_size * (len(kinds) + 1),
                                      (panel_size + 0.45) * len(crops)))
    for r, (name, box) in enumerate(crops):
        panels = study.crop_panels(name, box, kinds, "sr")
        panels[-1] = (f"{name}: HR", panels[-1][1])
        _draw(axes[r], panels, fontsize)
    fig.tight_layout()
    return fig


def sweep_figure(rows, x, xlabel: str, title: str = ""):
    """Mean PSNR of the generator and of the bicubic baseline (``rows`` of
    :meth:`MismatchStudy.summary`) against the values ``x`` of a degradation parameter;
    returns the ``Figure``."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    ax.plot(x, [r["sr_psnr"] for r in rows], "o-",
            label="generator (trained on MATLAB bicubic)")
    ax.plot(x, [r["bicubic_psnr"] for r in rows], "s--", label="bicubic baseline")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("mean PSNR (dB, Y, border 4)")
    if title:
        ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def widget(study: MismatchStudy, size: int = 64):
    """The live explorer: image, degradation and crop (the busiest or flattest window,
    or any position and size) around :func:`crop_figure`, which compares the chosen
    degradation with ``trained_on``; returns the ``ipywidgets.VBox`` to display."""
    import ipywidgets as w

    from srgan_lib.teaching.display import figure_widget

    s = study.scale
    image = w.Dropdown(options=study.names, value=study.names[0], description="image")
    others = [k for k in study.kinds if k != study.trained_on] or [study.trained_on]
    kind = w.Dropdown(options=[(label(k), k) for k in others],
                      description="degradation")
    crop = w.IntSlider(value=size, min=8 * s, max=32 * s, step=4 * s,
                       description="crop")
    top = w.IntSlider(value=0, min=0, max=0, step=s, description="top")
    left = w.IntSlider(value=0, min=0, max=0, step=s, description="left")
    pick = w.ToggleButtons(options=["busiest", "flattest", "manual"], value="busiest",
                           description="window")

    def place(*_):
        hr = study.images[image.value]
        crop.value = min(crop.value, (min(hr.shape[:2]) - 4 * s) // (4 * s) * (4 * s))
        top.max, left.max = hr.shape[0] - crop.value, hr.shape[1] - crop.value
        if pick.value != "manual":
            t, l_, _ = texture_box(hr, crop.value, s, pick.value)
            top.value, left.value = t, l_

    for control in (image, crop, pick):
        control.observe(place, names="value")
    place()

    def draw(image, kind, top, left, crop):
        return crop_figure(study, image, (top, left, crop), kinds=[study.trained_on, kind])

    out = figure_widget(draw, {"image": image, "kind": kind, "top": top, "left": left, "crop": crop})
    controls = [w.HBox([image, kind]), w.HBox([pick, crop]), w.HBox([top, left])]
    return w.VBox(controls + [out])
