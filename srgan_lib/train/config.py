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


def _field(default=None, *, resumable: bool = False, compiled: bool = True, factory=None):
    """A config field and what it means for a run: ``resumable`` -- it may differ when an existing run
    is continued (it does not change what is computed, or only within float rounding: the XLA switch);
    ``compiled`` -- the compiled training loop depends on it (:func:`srgan_lib.train.loop.compile_key`)."""
    meta = {"resumable": resumable, "compiled": compiled}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """The networks (Sec. 2.2, Fig. 4) and where the generator starts."""
    scale: int = 4
    num_blocks: int = 16
    filters: int = 64
    upsample: str = "subpixel"
    discriminator_head: str = "dense"
    prelu_init: float = _field(models.PRELU_INIT, compiled=False)
    # a weights spec (run folder, file, shipped model name) or "random"; None: the preset's
    init: str | None = _field(None, compiled=False)


@dataclasses.dataclass(frozen=True)
class PatchConfig:
    """The training batches: which images, how LR is made, the crops (Sec. 3.2)."""
    data: str = _field("T91,BSD200,General100", compiled=False)
    degradation: str = _field("bicubic", compiled=False)
    patch_size: int = 96
    batch_size: int = 16
    augment: bool = _field(False, compiled=False)          # the paper: no augmentation
    distinct_images: bool = _field(True, compiled=False)   # the paper: crops of distinct images
    seed: int = _field(0, compiled=False)                  # initial weights and the patch stream


@dataclasses.dataclass(frozen=True)
class ScheduleConfig:
    """The optimisation: steps, Adam, the learning rates (None: the preset's)."""
    steps: int | None = _field(None, resumable=True, compiled=False)
    lr: float | None = None
    # the last step at ``lr``, then lr / 10; "never": constant; None: the preset's, scaled to ``steps``
    lr_decay_at: int | str | None = None
    beta_1: float = 0.9
    d_lr: float | None = None                              # the discriminator's rate; None: ``lr``


@dataclasses.dataclass(frozen=True)
class LossConfig:
    """The perceptual loss (Eq. 3-7); None: the paper's value (or the preset's VGG scale)."""
    vgg_scale: float | None = None                         # resolved: vgg.FEATURE_SCALE[layer]; None for MSE
    adversarial_weight: float | None = None                # None: 1e-3 (Eq. 3)
    real_label: float | None = None                        # None: 1; < 1: one-sided label smoothing
    pixel_weight: float | None = None                      # pixel MSE added to a VGG loss; None: 0
    vgg_weights: str | None = _field(None, resumable=True, compiled=False)
    vgg_weights_sha256: str | None = _field(None, compiled=False)


@dataclasses.dataclass(frozen=True)
class RuntimeConfig:
    """How the steps run; none of it changes what is computed, beyond float rounding."""
    mixed_precision: bool = False
    data_parallel: bool = _field(False, resumable=True)
    jit_compile: bool | None = _field(None, resumable=True, compiled=False)  # TF XLA; None: on a GPU
    loop: str = _field("device", resumable=True, compiled=False)
    steps_per_dispatch: int = _field(100, resumable=True)
    blowup_factor: float = _field(2.0, resumable=True, compiled=False)


@dataclasses.dataclass(frozen=True)
class OutputConfig:
    """What the run writes, and how often: checkpoints, log.csv, validation, samples."""
    checkpoint_every: int = _field(1000, resumable=True, compiled=False)
    checkpoint_minutes: float = _field(10.0, resumable=True, compiled=False)
    keep_checkpoints: int = _field(2, resumable=True, compiled=False)
    log_every: int = _field(10, resumable=True, compiled=False)
    val_data: str | None = _field("Set5", resumable=True, compiled=False)  # None: no validation
    val_every: int = _field(5000, resumable=True, compiled=False)
    sample_every: int = _field(5000, resumable=True, compiled=False)


#: The groups of :class:`TrainConfig`, by attribute name.
GROUPS = {"model": ModelConfig, "patches": PatchConfig, "schedule": ScheduleConfig, "loss": LossConfig,
          "runtime": RuntimeConfig, "output": OutputConfig}
#: Every field's group: the flat names (command line options, ``config.json``) are unique.
FIELD_GROUP = {f.name: group for group, cls in GROUPS.items() for f in dataclasses.fields(cls)}
_FIELDS = {f.name: f for cls in GROUPS.values() for f in dataclasses.fields(cls)}


@dataclasses.dataclass(frozen=True, init=False)
class TrainConfig:
    """Everything that defines a run, grouped by concern; stored (flat) as ``config.json`` in the run
    directory.

    Build it from flat names, as the command line does (``TrainConfig(preset="srgan-vgg54", steps=2000,
    batch_size=32)``), or from groups (``TrainConfig(schedule=ScheduleConfig(lr=1e-5))``); read it by
    group (``cfg.schedule.lr``, ``cfg.model.num_blocks``).  ``None`` means "the preset's" (or the paper's)
    and is filled in by :meth:`resolved`.
    """
    preset: str = "srresnet-mse"
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    patches: PatchConfig = dataclasses.field(default_factory=PatchConfig)
    schedule: ScheduleConfig = dataclasses.field(default_factory=ScheduleConfig)
    loss: LossConfig = dataclasses.field(default_factory=LossConfig)
    runtime: RuntimeConfig = dataclasses.field(default_factory=RuntimeConfig)
    output: OutputConfig = dataclasses.field(default_factory=OutputConfig)

    def __init__(self, preset: str = "srresnet-mse", **values):
        groups = {g: values.pop(g, None) or cls() for g, cls in GROUPS.items()}
        unknown = sorted(set(values) - set(FIELD_GROUP))
        if unknown:
            raise TypeError(f"TrainConfig has no field {unknown[0]!r}")
        for name, value in values.items():
            groups[FIELD_GROUP[name]] = dataclasses.replace(groups[FIELD_GROUP[name]], **{name: value})
        object.__setattr__(self, "preset", preset)
        for group, value in groups.items():
            object.__setattr__(self, group, value)

    def flat(self) -> dict:
        """``{"preset": ..., field: value}`` over every group: the form of ``config.json`` and of the
        command line."""
        out = {"preset": self.preset}
        for group in GROUPS:
            out.update(dataclasses.asdict(getattr(self, group)))
        return out

    @classmethod
    def from_stored(cls, record: dict) -> "TrainConfig":
        """The resolved config of a run folder's ``config.json``, including those written before the
        groups: there ``null`` meant a random start (``init``) or a constant rate (``lr_decay_at``), and
        ``"auto"`` the XLA default."""
        record = dict(record)
        if record.get("init") is None:
            record["init"] = "random"
        if record.get("lr_decay_at") is None:
            record["lr_decay_at"] = "never"
        if record.get("jit_compile") == "auto":
            record["jit_compile"] = None
        return cls(**record)

    def replace(self, **values) -> "TrainConfig":
        """A copy with some fields (flat names) changed."""
        return TrainConfig(**{**self.flat(), **values})

    @property
    def adversarial_weight(self) -> float:
        """The weight of the adversarial term (Eq. 3), the paper's 1e-3 unless set."""
        w = self.loss.adversarial_weight
        return ADVERSARIAL_WEIGHT if w is None else float(w)

    @property
    def real_label(self) -> float:
        """D's target for real images: 1 unless set (one-sided label smoothing)."""
        return 1.0 if self.loss.real_label is None else float(self.loss.real_label)

    def resolved(self) -> "TrainConfig":
        """Fill the preset's defaults in (steps, lr, schedule, init, VGG scale) and check values."""
        if self.preset not in PRESETS:
            raise UserError(f"unknown preset {self.preset!r}; choose one of {', '.join(PRESETS)}")
        p = PRESETS[self.preset]
        c = self.flat()
        if c["steps"] is None:
            c["steps"] = p.steps
        if c["lr"] is None:
            c["lr"] = p.lr
        if c["lr_decay_at"] is None:
            # The paper's SRGAN schedule drops the rate halfway; keep that proportion for shorter runs.
            c["lr_decay_at"] = ("never" if p.lr_decay_at is None
                                else max(1, int(round(c["steps"] * p.lr_decay_at / p.steps))))
        if c["init"] is None:
            c["init"] = p.init or "random"
        if c["init"] in ("none", ""):  # the command line's older spelling
            c["init"] = "random"
        if p.vgg_layer is None:
            c["vgg_scale"] = None
        elif c["vgg_scale"] is None:
            c["vgg_scale"] = p.vgg_scale
        _check(c)
        return TrainConfig(**c)

    @property
    def preset_spec(self) -> Preset:
        return PRESETS[self.preset]

    @property
    def init_spec(self) -> str | None:
        """The generator's initial weights as a weights spec, None for a random start."""
        return None if self.model.init == "random" else self.model.init


def _positive_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 and math.isfinite(value)


def _check(c: dict) -> None:
    """The values of a resolved flat config; a bad one is a UserError naming its option."""
    for name in ("steps", "batch_size", "checkpoint_every", "log_every", "val_every", "sample_every",
                 "steps_per_dispatch", "scale", "patch_size", "filters"):
        value = c[name]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise UserError(f"--{name.replace('_', '-')} must be a positive integer, got {value!r}")
    for name in ("lr", "checkpoint_minutes"):
        if not _positive_number(c[name]):
            raise UserError(f"--{name.replace('_', '-')} must be a positive number, got {c[name]!r}")
    if c["d_lr"] is not None and not _positive_number(c["d_lr"]):
        raise UserError(f"--d-lr must be a positive number, got {c['d_lr']!r}")
    for name in ("adversarial_weight", "pixel_weight"):
        if c[name] is not None and not (c[name] >= 0 and math.isfinite(c[name])):
            raise UserError(f"--{name.replace('_', '-')} must be >= 0, got {c[name]!r}")
    if c["real_label"] is not None and not 0.5 < c["real_label"] <= 1.0:
        raise UserError(f"--real-label must be in (0.5, 1], got {c['real_label']!r}")
    if c["vgg_scale"] is not None and not _positive_number(c["vgg_scale"]):
        raise UserError(f"--vgg-scale must be a positive number, got {c['vgg_scale']!r}")
    decay = c["lr_decay_at"]
    if decay != "never" and (not isinstance(decay, int) or isinstance(decay, bool) or decay < 1):
        raise UserError(f"--lr-decay-at must be a positive step or 'never', got {decay!r}")
    if not c["blowup_factor"] >= 0:
        raise UserError(f"--blowup-factor must be >= 0 (0: off), got {c['blowup_factor']!r}")
    if c["loop"] not in ("device", "host"):
        raise UserError(f"--loop must be 'device' or 'host', got {c['loop']!r}")
    if c["jit_compile"] not in (None, True, False):
        raise UserError(f"jit_compile must be True, False or None (on a GPU), got {c['jit_compile']!r}")
    if c["scale"] not in (2, 4, 8):
        raise UserError(f"--scale must be 2, 4 or 8 (the generator upsamples in x2 pixel-shuffle steps), "
                        f"got {c['scale']}")
    if c["patch_size"] % c["scale"]:
        raise UserError(f"--patch-size {c['patch_size']} is not a multiple of --scale {c['scale']}")


#: The fields that may differ when an existing run is continued (from the fields' declarations).
#: ``lr`` joins them after a divergence (see :mod:`srgan_lib.train.run_dir`).
RESUMABLE_CHANGES = frozenset(name for name, f in _FIELDS.items() if f.metadata.get("resumable", False))
#: The fields the compiled training loop does not depend on.
NOT_COMPILED = frozenset(name for name, f in _FIELDS.items() if not f.metadata.get("compiled", True))


def lr_at(cfg: TrainConfig, step: int) -> float:
    """The learning rate of update number ``step`` (1-based) of a resolved config."""
    lr, decay_at = cfg.schedule.lr, cfg.schedule.lr_decay_at
    return lr if decay_at == "never" or step <= decay_at else lr / 10


def learning_rate_schedule(lr: float, decay_at: int | str = "never"):
    """Keras's ``PiecewiseConstantDecay``: ``lr`` for updates ``1 .. decay_at``, ``lr / 10`` after
    (``decay_at="never"``: ``lr`` throughout; the paper's "1e5 iterations at 1e-4 and another 1e5 at 1e-5").

    Keras calls a schedule with the optimizer's ``iterations``, the number of updates made before the
    current one, so update ``k`` sees ``iterations = k - 1`` and the boundary is ``decay_at - 1``.  A
    schedule object (not a float) keeps the rate out of the optimizer's variables: a checkpoint never
    overrides it.
    """
    lr = float(lr)
    if decay_at == "never":
        return keras.optimizers.schedules.PiecewiseConstantDecay([0], [lr, lr])
    return keras.optimizers.schedules.PiecewiseConstantDecay([int(decay_at) - 1], [lr, lr / 10])
