"""What defines a training run: the paper's five presets and :class:`TrainConfig`.

The five variants of the paper are presets (Table 1 / Sec. 3.2)::

    srresnet-mse    content = pixel MSE (Eq. 4), no adversary        1e6 steps at 1e-4
    srresnet-vgg22  content = VGG22 loss (Eq. 5), no adversary       1e5 at 1e-4 + 1e5 at 1e-5, from srresnet-mse
    srgan-mse       MSE     + 1e-3 * adversarial (Eq. 3, 6)          1e5 at 1e-4 + 1e5 at 1e-5, from srresnet-mse
    srgan-vgg22     VGG22   + 1e-3 * adversarial                     idem
    srgan-vgg54     VGG54   + 1e-3 * adversarial                     idem

All use batches of 16 random 96x96 HR crops of distinct images and Adam (beta1 = 0.9).  The
paper initialises SRGAN from the trained SRResNet-MSE "to avoid undesired local optima"
(Sec. 3.2); it does not say how SRResNet-VGG22 was trained, so we use the SRGAN recipe with the
adversarial weight 0.  A VGG preset divides the feature maps by its layer's
:data:`srgan_lib.vgg.FEATURE_SCALE` (``vgg_scale``; the resolved value is stored in the run's
``config.json``).

The learning-rate schedule: steps ``1 .. lr_decay_at`` use ``lr``, the later steps ``lr / 10``
(the paper's "1e5 update iterations at a learning rate of 1e-4 and another 1e5 iterations at a
lower rate of 1e-5").
"""
from __future__ import annotations

import dataclasses
import math

import keras

from srgan_lib import models, vgg
from srgan_lib.errors import UserError


@dataclasses.dataclass(frozen=True)
class Preset:
    content: str            # "mse", "vgg22" or "vgg54"
    adversarial: bool       # train a discriminator and add 1e-3 * adversarial loss
    steps: int
    lr: float
    lr_decay_at: int | None  # last step at the initial rate (None: constant)
    init: str | None         # generator initialisation (a weights spec), None = random
    description: str

    @property
    def vgg_layer(self) -> str | None:
        """``"22"`` / ``"54"`` for a VGG content loss, None for the pixel MSE."""
        return self.content[3:] if self.content.startswith("vgg") else None

    @property
    def vgg_scale(self) -> float | None:
        """The divisor of the VGG feature maps (:data:`srgan_lib.vgg.FEATURE_SCALE`), None for MSE."""
        return None if self.vgg_layer is None else float(vgg.FEATURE_SCALE[self.vgg_layer])


PRESETS: dict[str, Preset] = {
    "srresnet-mse": Preset("mse", False, 1_000_000, 1e-4, None, None,
                           "SRResNet, pixel MSE loss (PSNR-oriented)"),
    "srresnet-vgg22": Preset("vgg22", False, 200_000, 1e-4, 100_000, "srresnet-mse",
                             "SRResNet, VGG22 content loss, no adversary"),
    "srgan-mse": Preset("mse", True, 200_000, 1e-4, 100_000, "srresnet-mse",
                        "SRGAN, pixel MSE content loss + 1e-3 adversarial"),
    "srgan-vgg22": Preset("vgg22", True, 200_000, 1e-4, 100_000, "srresnet-mse",
                          "SRGAN, VGG22 content loss + 1e-3 adversarial"),
    "srgan-vgg54": Preset("vgg54", True, 200_000, 1e-4, 100_000, "srresnet-mse",
                          "SRGAN, VGG54 content loss + 1e-3 adversarial (the paper's SRGAN)"),
}

ADVERSARIAL_WEIGHT = 1e-3  # Eq. 3


@dataclasses.dataclass
class TrainConfig:
    """Everything that defines a run; stored as ``config.json`` in the run directory.

    The command line (``srgan train``) takes its defaults from here.  ``None`` / ``-1`` /
    ``"preset"`` mean "the preset's" and are filled in by :meth:`resolved`.
    """
    preset: str = "srresnet-mse"
    steps: int | None = None
    batch_size: int = 16
    lr: float | None = None
    lr_decay_at: int | None = -1          # -1: the preset's (scaled with --steps); None: never
    init: str | None = "preset"           # "preset": the preset's; "none": random
    data: str = "T91,BSD200,General100"
    degradation: str = "bicubic"
    scale: int = 4
    patch_size: int = 96
    num_blocks: int = 16
    filters: int = 64
    upsample: str = "subpixel"
    discriminator_head: str = "dense"
    prelu_init: float = models.PRELU_INIT
    augment: bool = False                 # the paper: no augmentation
    distinct_images: bool = True          # the paper: crops of distinct images
    vgg_scale: float | None = None        # None: the preset's (vgg.FEATURE_SCALE[layer])
    seed: int = 0
    beta_1: float = 0.9
    checkpoint_every: int = 1000
    checkpoint_minutes: float = 10.0
    keep_checkpoints: int = 2
    log_every: int = 10
    val_data: str | None = "Set5"
    val_every: int = 5000
    sample_every: int = 5000
    blowup_factor: float = 2.0
    mixed_precision: bool = False
    data_parallel: bool = False
    vgg_weights: str | None = None
    vgg_weights_sha256: str | None = None
    jit_compile: str | bool = "auto"      # TensorFlow XLA: "auto" = on a GPU; the JAX loop is always jitted
    loop: str = "device"
    steps_per_dispatch: int = 100
    # The adversarial recipe (None: the paper's): D's learning rate (None: lr), the weight of the
    # adversarial term (None: 1e-3, Eq. 3), D's target for real images (None: 1; < 1: one-sided
    # label smoothing).
    d_lr: float | None = None
    adversarial_weight: float | None = None
    real_label: float | None = None
    # Weight of a pixel-MSE term added to a VGG content loss (None: 0, the paper's).
    pixel_weight: float | None = None

    @property
    def adversarial_weight_value(self) -> float:
        return ADVERSARIAL_WEIGHT if self.adversarial_weight is None else float(self.adversarial_weight)

    @property
    def real_label_value(self) -> float:
        return 1.0 if self.real_label is None else float(self.real_label)

    def resolved(self) -> "TrainConfig":
        """Fill the preset's defaults in (steps, lr, schedule, init, VGG scale) and check values."""
        if self.preset not in PRESETS:
            raise UserError(f"unknown preset {self.preset!r}; choose one of {', '.join(PRESETS)}")
        p = PRESETS[self.preset]
        c = dataclasses.replace(self)
        if c.steps is None:
            c.steps = p.steps
        if c.lr is None:
            c.lr = p.lr
        if c.lr_decay_at == -1:
            # The paper's SRGAN schedule drops the rate halfway; keep that proportion for shorter runs.
            c.lr_decay_at = None if p.lr_decay_at is None else max(1, int(round(c.steps * p.lr_decay_at / p.steps)))
        if c.lr_decay_at == 0:
            c.lr_decay_at = None
        if c.init == "preset":
            c.init = p.init
        if c.init in ("none", ""):
            c.init = None
        if p.vgg_layer is None:
            c.vgg_scale = None
        elif c.vgg_scale is None:
            c.vgg_scale = p.vgg_scale
        for name in ("steps", "batch_size", "checkpoint_every", "log_every", "val_every", "sample_every",
                     "steps_per_dispatch", "scale", "patch_size", "filters"):
            value = getattr(c, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise UserError(f"--{name.replace('_', '-')} must be a positive integer, got {value!r}")
        for name in ("lr", "checkpoint_minutes"):
            if not (isinstance(getattr(c, name), (int, float)) and getattr(c, name) > 0
                    and math.isfinite(getattr(c, name))):
                raise UserError(f"--{name.replace('_', '-')} must be a positive number, got {getattr(c, name)!r}")
        if c.d_lr is not None and not (isinstance(c.d_lr, (int, float)) and c.d_lr > 0 and math.isfinite(c.d_lr)):
            raise UserError(f"--d-lr must be a positive number, got {c.d_lr!r}")
        if c.adversarial_weight is not None and not (c.adversarial_weight >= 0 and math.isfinite(c.adversarial_weight)):
            raise UserError(f"--adversarial-weight must be >= 0, got {c.adversarial_weight!r}")
        if c.pixel_weight is not None and not (c.pixel_weight >= 0 and math.isfinite(c.pixel_weight)):
            raise UserError(f"--pixel-weight must be >= 0, got {c.pixel_weight!r}")
        if c.real_label is not None and not 0.5 < c.real_label <= 1.0:
            raise UserError(f"--real-label must be in (0.5, 1], got {c.real_label!r}")
        if c.vgg_scale is not None and not (c.vgg_scale > 0 and math.isfinite(c.vgg_scale)):
            raise UserError(f"--vgg-scale must be a positive number, got {c.vgg_scale!r}")
        if c.lr_decay_at is not None and (not isinstance(c.lr_decay_at, int) or c.lr_decay_at < 1):
            raise UserError(f"--lr-decay-at must be a positive step (or 0: never), got {c.lr_decay_at!r}")
        if not c.blowup_factor >= 0:
            raise UserError(f"--blowup-factor must be >= 0 (0: off), got {c.blowup_factor!r}")
        if c.loop not in ("device", "host"):
            raise UserError(f"--loop must be 'device' or 'host', got {c.loop!r}")
        if c.scale not in (2, 4, 8):
            raise UserError(f"--scale must be 2, 4 or 8 (the generator upsamples in x2 pixel-shuffle steps), "
                            f"got {c.scale}")
        if c.patch_size % c.scale:
            raise UserError(f"--patch-size {c.patch_size} is not a multiple of --scale {c.scale}")
        return c

    @property
    def preset_spec(self) -> Preset:
        return PRESETS[self.preset]


#: Settings that may differ when an existing run is continued: they do not change what is computed
#: (or only within float rounding: the XLA switch).  ``lr`` joins them after a divergence
#: (see :mod:`srgan_lib.train.run_dir`).
RESUMABLE_CHANGES = frozenset({
    "steps", "checkpoint_every", "checkpoint_minutes", "keep_checkpoints", "log_every", "val_data",
    "val_every", "sample_every", "blowup_factor", "vgg_weights", "jit_compile", "data_parallel", "loop",
    "steps_per_dispatch"})


def lr_at(cfg: TrainConfig, step: int) -> float:
    """The learning rate of update number ``step`` (1-based) of a resolved config."""
    return cfg.lr if cfg.lr_decay_at is None or step <= cfg.lr_decay_at else cfg.lr / 10


def learning_rate_schedule(lr: float, decay_at: int | None = None):
    """Keras's ``PiecewiseConstantDecay``: ``lr`` for updates ``1 .. decay_at``, ``lr / 10`` after
    (``decay_at=None``: ``lr`` throughout; the paper's "1e5 iterations at 1e-4 and another 1e5 at 1e-5").

    Keras calls a schedule with the optimizer's ``iterations``, the number of updates made before the
    current one, so update ``k`` sees ``iterations = k - 1`` and the boundary is ``decay_at - 1``.  A
    schedule object (not a float) keeps the rate out of the optimizer's variables: a checkpoint never
    overrides it.
    """
    lr = float(lr)
    if decay_at is None:
        return keras.optimizers.schedules.PiecewiseConstantDecay([0], [lr, lr])
    return keras.optimizers.schedules.PiecewiseConstantDecay([int(decay_at) - 1], [lr, lr / 10])
