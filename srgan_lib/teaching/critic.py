"""The discriminator seen from the inside (the book's chapter 4).

* :func:`conv_geometry` / :func:`receptive_field_size`: the receptive field of every convolution of a
  discriminator, by the recursion ``r_k = r_{k-1} + (kernel_k - 1) * jump_{k-1}``,
  ``jump_k = jump_{k-1} * stride_k``; :func:`input_gradient` checks it empirically (the input
  pixels on which one output logit depends are those with a non-zero gradient).
* :func:`seed_discriminator`: the seed blog's Keras discriminator, line by line (Conv ->
  LeakyReLU -> BN with momentum 0.8, a per-position ``Dense(1024)`` -> ``Dense(1, sigmoid)``).
* :func:`trainable_after_compile`: the seed's ``discriminator.trainable = False``-after-compile
  trick, run on two tiny models, reporting which ``train_on_batch`` call updates which weights.
* :func:`small_critic`, :func:`critic_patches`, :func:`patch_scores`: a narrow copy of the
  library's patch discriminator, trained in seconds on a CPU to tell HR patches from the
  shipped generators' outputs ("the discriminator's view").
"""
from __future__ import annotations

import warnings

import numpy as np

from srgan_lib.errors import UserError

__all__ = ["conv_geometry", "receptive_field_size", "input_gradient", "seed_discriminator",
           "trainable_after_compile", "small_critic", "critic_patches", "patch_scores",
           "score_maps_figure"]


def conv_geometry(model) -> list[dict]:
    """One row per spatial layer of ``model`` (in ``model.layers`` order): ``name``, ``kernel``,
    ``stride``, ``rf`` (receptive field side in input pixels) and ``jump`` (input pixels between
    neighbouring outputs).

    Conv2D layers count with their kernel and stride; a Dense layer applied to a 4-D tensor (the
    seed's head) acts per position, as a 1x1 convolution.  A Flatten ends the walk with
    ``rf=None``: every later unit sees the whole input.  Assumes square kernels and strides and
    a chain of layers (true of the discriminators of this library and of the seed).
    """
    import keras

    r, j = 1, 1
    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            k, s = int(layer.kernel_size[0]), int(layer.strides[0])
        elif isinstance(layer, keras.layers.Dense) and len(layer.input.shape) == 4:
            k, s = 1, 1
        elif isinstance(layer, keras.layers.Flatten):
            rows.append({"name": layer.name, "kernel": None, "stride": None, "rf": None, "jump": j})
            break
        else:
            continue
        r += (k - 1) * j
        j *= s
        rows.append({"name": layer.name, "kernel": k, "stride": s, "rf": r, "jump": j})
    return rows


def receptive_field_size(model) -> int | None:
    """Side of the square of input pixels that one output of ``model`` sees (None: all)."""
    rows = conv_geometry(model)
    if not rows:
        raise UserError(f"{model.name} has no convolution")
    return rows[-1]["rf"]


def input_gradient(model, x, position) -> np.ndarray:
    """``|d out[0, i, j, 0] / d x[0]|`` summed over the input channels, shape (H, W).

    ``x``: one input (1, H, W, C) float32; ``position``: ``(i, j)`` of a patch logit, or None for
    a model with one output per image.  The model runs with ``training=False`` (BN uses its
    moving statistics, so the output depends on this input alone).  The non-zero entries are
    the pixels the output can see: its receptive field, measured.
    """
    import keras

    x = np.asarray(x, np.float32)

    def pick(out):
        return out[0, 0] if position is None else out[0, position[0], position[1], 0]

    from srgan_lib import backend

    _, grad = backend.value_and_grad(lambda v: pick(model(v, training=False)))(x)
    return np.abs(keras.ops.convert_to_numpy(grad)[0]).sum(axis=-1)


def seed_discriminator(df: int = 64, momentum: float = 0.8, name: str = "seed_discriminator"):
    """The seed blog's ``build_discriminator``, with Keras 3 argument names.

    ``d_block``: Conv2D(3x3) -> LeakyReLU(0.2) -> BatchNormalization(momentum) (BN *after* the
    activation, none in the first block); eight blocks with df, df, 2df, 2df, 4df, 4df, 8df, 8df
    filters and strides 1, 2, 1, 2, ...; then ``Dense(16 df)`` -> LeakyReLU(0.2) ->
    ``Dense(1, sigmoid)`` applied to the 4-D feature map, i.e. per position: an (H/16, W/16, 1)
    map of probabilities for an input of any size.
    """
    import keras
    from keras import layers

    def d_block(x, filters, strides=1, bn=True):
        x = layers.Conv2D(filters, kernel_size=3, strides=strides, padding="same")(x)
        x = layers.LeakyReLU(negative_slope=0.2)(x)
        if bn:
            x = layers.BatchNormalization(momentum=momentum)(x)
        return x

    d0 = keras.Input(shape=(None, None, 3))
    x = d_block(d0, df, bn=False)
    for i, f in enumerate([df, 2 * df, 2 * df, 4 * df, 4 * df, 8 * df, 8 * df]):
        x = d_block(x, f, strides=2 if i % 2 == 0 else 1)
    x = layers.Dense(16 * df)(x)
    x = layers.LeakyReLU(negative_slope=0.2)(x)
    validity = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(d0, validity, name=name)


def trainable_after_compile(toggle: bool = False, steps: int = 2, seed: int = 0) -> dict:
    """Run the seed's training pattern on two tiny models and report what each call updates.

    The pattern: ``D.compile(loss="mse")``; ``D.trainable = False``; build and compile
    ``combined = G -> D`` with ``"binary_crossentropy"``; then per step
    ``D.train_on_batch(real, ones)`` and ``combined.train_on_batch(z, ones)``.  With
    ``toggle=True``, ``D.trainable`` is set to True before the D call and to False before the
    combined call (the Keras 3 way to get the behaviour the seed relied on).

    Returns ``{"d_call_updates_d", "combined_call_updates_d", "combined_call_updates_g"}``
    (booleans, over all steps) and ``"warnings"`` (the messages Keras issued).
    """
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    d_in = keras.Input((4,))
    d = keras.Model(d_in, layers.Dense(1, activation="sigmoid")(layers.Dense(8)(d_in)))
    d.compile(loss="mse", optimizer=keras.optimizers.Adam(1e-2))
    d.trainable = False
    g_in = keras.Input((2,))
    g = keras.Model(g_in, layers.Dense(4)(g_in))
    combined = keras.Model(g_in, d(g(g_in)))
    combined.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(1e-2))
    real = rng.random((8, 4)).astype("float32")
    z = rng.random((8, 2)).astype("float32")
    ones = np.ones((8, 1), "float32")

    def changed(before, after):
        return any(not np.array_equal(a, b) for a, b in zip(before, after))

    out = {"d_call_updates_d": False, "combined_call_updates_d": False,
           "combined_call_updates_g": False}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(steps):
            if toggle:
                d.trainable = True
            w0 = d.get_weights()
            d.train_on_batch(real, ones)
            w1 = d.get_weights()
            if toggle:
                d.trainable = False
            g0 = g.get_weights()
            combined.train_on_batch(z, ones)
            out["d_call_updates_d"] |= changed(w0, w1)
            out["combined_call_updates_d"] |= changed(w1, d.get_weights())
            out["combined_call_updates_g"] |= changed(g0, g.get_weights())
    out["warnings"] = sorted({str(w.message) for w in caught if "trainable" in str(w.message)})
    return out


def small_critic(base: int = 8, bn_momentum: float = 0.99, name: str = "small_critic", head=None):
    """The library's patch discriminator (:func:`srgan_lib.models.discriminator` with
    ``head="patch"``) with ``base`` instead of 64 filters in the first layer: the same eight
    convolutions, strides, BN and LeakyReLU(0.2), the same 3x3 logit head and so the same
    receptive field, about (base / 64)^2 of the parameters.  Outputs logits (N, H/16, W/16, 1).

    ``head``: a callable ``head(x) -> logits`` on the trunk's (N, H/16, W/16, 8 base) feature map
    in place of the 3x3 logit convolution (as in :func:`srgan_lib.models.discriminator`).
    """
    import keras
    from keras import layers

    x = inp = keras.Input(shape=(None, None, 3), name="hr")
    spec = [(1, 1), (1, 2), (2, 1), (2, 2), (4, 1), (4, 2), (8, 1), (8, 2)]
    for i, (m, s) in enumerate(spec):
        x = layers.Conv2D(base * m, 3, strides=s, padding="same", name=f"c{i + 1}_conv")(x)
        if i > 0:
            x = layers.BatchNormalization(momentum=bn_momentum, name=f"c{i + 1}_bn")(x)
        x = layers.LeakyReLU(negative_slope=0.2, name=f"c{i + 1}_lrelu")(x)
    if head is None:
        out = layers.Conv2D(1, 3, padding="same", name="patch_logits", dtype="float32")(x)
    else:
        out = head(x)
    return keras.Model(inp, out, name=name)


def critic_patches(images, upscalers: dict, size: int = 48, per_image: int = 4, scale: int = 4,
                   margin: int = 16, seed: int = 0) -> dict[str, np.ndarray]:
    """Matching uint8 patches (N, size, size, 3) of the HR images and of their reconstructions.

    For each HR image, ``per_image`` random windows of ``size + 2 margin`` pixels (on the LR grid)
    are cut, downscaled with :func:`srgan_lib.degrade.bicubic`, reconstructed by each upscaler
    (``{"name": callable uint8 (N, h, w, 3) -> (N, s h, s w, 3)}``, e.g.
    :func:`srgan_lib.teaching.degradations.as_upscaler`) and cut back to their central ``size``
    pixels, so that no patch contains the border of a reconstruction (which a discriminator would
    learn to spot).  Returns ``{"hr": ..., name: ...}`` with the same windows in every entry.
    Images smaller than a window are skipped.
    """
    from srgan_lib import degrade

    if size % scale or margin % scale:
        raise UserError(f"size {size} and margin {margin} must be multiples of the scale {scale}")
    rng = np.random.default_rng(seed)
    win = size + 2 * margin
    hr_windows = []
    for item in images:
        hr = item[1] if isinstance(item, tuple) else item
        h, w = hr.shape[:2]
        if h < win or w < win:
            continue
        for _ in range(per_image):
            top = int(rng.integers(0, (h - win) // scale + 1)) * scale
            left = int(rng.integers(0, (w - win) // scale + 1)) * scale
            hr_windows.append(hr[top:top + win, left:left + win])
    if not hr_windows:
        raise UserError(f"no image is at least {win} x {win} pixels")
    hr_windows = np.stack(hr_windows)
    lr = np.stack([degrade.bicubic(x, scale) for x in hr_windows])
    inner = (slice(None), slice(margin, margin + size), slice(margin, margin + size))
    out = {"hr": np.ascontiguousarray(hr_windows[inner])}
    for name, up in upscalers.items():
        out[name] = np.ascontiguousarray(np.asarray(up(lr))[inner])
    return out


def patch_scores(critic, patches_uint8, batch: int = 64) -> np.ndarray:
    """The critic's logit maps for uint8 patches (converted to [-1, 1]), shape (N, h, w)."""
    from keras import ops

    from srgan_lib import models

    x = np.asarray(patches_uint8)
    maps = [ops.convert_to_numpy(critic(models.hr_from_uint8(x[i:i + batch]), training=False))
            for i in range(0, len(x), batch)]
    return np.concatenate(maps)[..., 0]


def score_maps_figure(panels, jump: int = 16, vlim: float | None = None, panel_size: float = 2.6):
    """Two rows per column: the image, then the critic's logit map drawn over it (red: "fake",
    blue: "real"), each logit as a ``jump`` x ``jump`` block.  ``panels``: ``[(title, image,
    logit_map)]``.  One colour scale for all maps (``vlim``: its half-range, default the largest
    |logit|).  Returns the Figure."""
    import matplotlib.pyplot as plt

    if not panels:
        raise UserError("score_maps_figure needs at least one panel")
    if vlim is None:
        vlim = max(float(np.abs(m).max()) for _, _, m in panels) or 1.0
    n = len(panels)
    fig, axes = plt.subplots(2, n, figsize=(panel_size * n, 2 * panel_size + 0.8), squeeze=False)
    for k, (title, img, logit_map) in enumerate(panels):
        axes[0, k].imshow(img, interpolation="nearest")
        axes[0, k].set_title(title, fontsize=9)
        big = np.kron(np.asarray(logit_map, float), np.ones((jump, jump)))
        h, w = img.shape[:2]
        axes[1, k].imshow(img, interpolation="nearest", alpha=0.45)
        im = axes[1, k].imshow(big[:h, :w], cmap="RdBu", vmin=-vlim, vmax=vlim, alpha=0.75,
                               interpolation="nearest")
        axes[1, k].set_title(f"mean logit {float(np.mean(logit_map)):+.2f}", fontsize=9)
        for ax in axes[:, k]:
            ax.axis("off")
    fig.colorbar(im, ax=axes[1, :].tolist(), shrink=0.8, label="critic logit (> 0: real)")
    return fig
