"""``srgan train PRESET --out RUN [options]``: the command line of :func:`srgan_lib.train.train`.

Every option is a :class:`~srgan_lib.train.config.TrainConfig` field and takes its default from
there, where ``None`` means "the preset's" (``--lr-decay-at never`` or ``0``: a constant rate;
``--val ''`` disables validation).
"""
from __future__ import annotations

import argparse

from srgan_lib.train.config import FIELD_GROUP, GROUPS, PRESETS, TrainConfig
from srgan_lib.train.session import train

_DEFAULTS = TrainConfig().flat()


def _decay_step(text: str):
    """``--lr-decay-at``: a step, or ``never`` (also ``0``)."""
    if text.strip().lower() in ("never", "0"):
        return "never"
    return int(text)

#: field -> (argparse keyword arguments, help); flags are --field-name unless given.
_OPTIONS = {
    "steps": ({"type": int}, "total optimizer steps (default: the preset's; paper: 1e6 SRResNet, 2e5 SRGAN)"),
    "batch_size": ({"type": int}, "HR crops per batch (paper: 16)"),
    "lr": ({"type": float}, "initial learning rate (default: the preset's; paper: 1e-4)"),
    "lr_decay_at": ({"type": _decay_step}, "last step at the initial rate, then rate / 10, or 'never' (default: "
                                           "the preset's, scaled to --steps)"),
    "init": ({}, "generator initialisation: a run folder, weights file, shipped model name, or 'random' "
                 "(default: the preset's: srresnet-mse for the SRGAN presets)"),
    "data": ({}, "training sets or folders, comma-separated"),
    "degradation": ({"choices": ["bicubic", "gaussian_bicubic"]}, "how LR images are made"),
    "scale": ({"type": int}, "upscaling factor"),
    "patch_size": ({"type": int}, "HR crop side (paper: 96)"),
    "num_blocks": ({"type": int}, "residual blocks (paper: 16)"),
    "filters": ({"type": int}, "feature channels (paper: 64)"),
    "upsample": ({"choices": ["subpixel", "nearest"]}, "upsampling blocks"),
    "discriminator_head": ({"choices": ["dense", "patch"]}, "discriminator head (paper: dense)"),
    "prelu_init": ({"type": float}, "initial PReLU slope (He et al. 2015: 0.25; Keras: 0)"),
    "vgg_scale": ({"type": float}, "divisor of the VGG feature maps (default: the preset's, vgg.FEATURE_SCALE)"),
    "d_lr": ({"type": float}, "discriminator learning rate (default: --lr, as the paper)"),
    "adversarial_weight": ({"type": float}, "weight of the adversarial term (default: 1e-3, the paper's Eq. 3)"),
    "real_label": ({"type": float}, "discriminator target for real images (default 1; 0.9: one-sided label "
                                    "smoothing)"),
    "pixel_weight": ({"type": float}, "weight of a pixel-MSE term added to a VGG content loss (default: none, "
                                      "as the paper)"),
    "seed": ({"type": int}, "seed of the initial weights and of the patch stream"),
    "checkpoint_every": ({"type": int}, "checkpoint every N steps"),
    "checkpoint_minutes": ({"type": float}, "... and at least every M minutes"),
    "keep_checkpoints": ({"type": int}, "checkpoints kept"),
    "log_every": ({"type": int}, "a log.csv row every N steps"),
    "val_data": ({"flags": ["--val"]}, "validation set ('' to disable)"),
    "val_every": ({"type": int}, "validate every N steps"),
    "sample_every": ({"type": int}, "write a sample strip every N steps"),
    "blowup_factor": ({"type": float}, "stop when a step multiplies a weight norm by more than this (0: never)"),
    "vgg_weights": ({}, "VGG19 notop HDF5 file (default: $SRGAN_VGG19_WEIGHTS, else ImageNet download)"),
    "loop": ({"choices": ["device", "host"]}, "device: many steps per dispatch, data on the device; "
                                             "host: one Keras train_on_batch per step"),
    "steps_per_dispatch": ({"type": int}, "most steps per dispatch of the device loop"),
}
_SWITCHES = {  # boolean fields: flag, value it sets, help
    "augment": ("--augment", True, "random flips and 90-degree rotations of the crops (the paper: none)"),
    "distinct_images": ("--repeat-images", False, "allow two crops of one image in a batch "
                                                  "(the paper: distinct images)"),
    "mixed_precision": ("--mixed-precision", True, "bfloat16 compute, float32 weights"),
    "data_parallel": ("--data-parallel", True, "use every GPU (tf.distribute.MirroredStrategy / "
                                               "keras.distribution.DataParallel; the host loop)"),
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("preset", choices=list(PRESETS), help="which of the paper's variants to train")
    p.add_argument("--out", required=True, help="run folder (created; an existing run is continued)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out (it must exist)")
    p.add_argument("--restart", action="store_true",
                   help="start the run in --out over from step 0, deleting its checkpoints, generator and logs")
    titles = {"model": "the networks", "patches": "the training patches", "schedule": "the optimisation",
              "loss": "the loss", "runtime": "how the steps run", "output": "checkpoints, logs, validation"}
    groups = {g: p.add_argument_group(f"{titles[g]} (TrainConfig.{g})") for g in GROUPS}
    for name, (kwargs, text) in _OPTIONS.items():
        kwargs = dict(kwargs)
        flags = kwargs.pop("flags", [f"--{name.replace('_', '-')}"])
        groups[FIELD_GROUP[name]].add_argument(*flags, dest=name, default=_DEFAULTS[name],
                                               help=text if _DEFAULTS[name] is None else f"{text} [default: %(default)s]",
                                               **kwargs)
    for name, (flag, value, text) in _SWITCHES.items():
        groups[FIELD_GROUP[name]].add_argument(flag, dest=name, action="store_const", const=value,
                                               default=_DEFAULTS[name], help=text)
    groups["runtime"].add_argument("--no-xla", dest="jit_compile", action="store_const", const=False,
                                   default=_DEFAULTS["jit_compile"],
                                   help="TensorFlow: never compile the step with XLA (default: XLA when a GPU is present)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def config_from_args(args) -> TrainConfig:
    values = {name: getattr(args, name) for name in _DEFAULTS if hasattr(args, name)}
    values["val_data"] = values["val_data"] or None
    return TrainConfig(**values)


def main(args) -> int:
    summary = train(config_from_args(args), args.out, resume=True if args.resume else None,
                    verbose=0 if args.quiet else 1, restart=args.restart)
    rate = summary.get("steps_per_s")
    print(f"done: {summary['run_dir']} at step {summary['step']}"
          + (f" ({rate:.2f} steps/s, {summary['wall_s']:.0f} s)" if rate else ""))
    return 0
