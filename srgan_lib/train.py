"""SRResNet pre-training and SRGAN adversarial training (Ledig et al. 2017, Sec. 2.2, 3.2).

The five variants of the paper are presets (Table 1 / Sec. 3.2)::

    srresnet-mse    content = pixel MSE (Eq. 4), no adversary        1e6 steps at 1e-4
    srresnet-vgg22  content = VGG22 loss (Eq. 5), no adversary       1e5 at 1e-4 + 1e5 at 1e-5, from srresnet-mse
    srgan-mse       MSE     + 1e-3 * adversarial (Eq. 3, 6)          1e5 at 1e-4 + 1e5 at 1e-5, from srresnet-mse
    srgan-vgg22     VGG22   + 1e-3 * adversarial                     idem
    srgan-vgg54     VGG54   + 1e-3 * adversarial                     idem

All use batches of 16 random 96x96 HR crops and Adam (beta1 = 0.9).  The paper initialises
SRGAN from the trained SRResNet-MSE "to avoid undesired local optima" (Sec. 3.2); it does not
say how SRResNet-VGG22 was trained, so we use the SRGAN recipe with the adversarial weight 0.

:class:`SRGANTrainer` is a ``keras.Model`` whose ``train_step`` makes one alternating update:
first the discriminator on real HR and detached SR patches, then the generator against the
*updated* discriminator.  It is trained with ``fit()`` on the TensorFlow backend (GradientTape)
and on the JAX backend (stateless, jit-compiled); the losses are the backend-neutral
``keras.ops`` code of :mod:`srgan_lib.losses`, and only the few lines that take gradients differ.

A run directory holds ``config.json``, ``checkpoints/`` (written atomically; the last ``keep``
are kept), ``generator.weights.h5`` (the latest generator, for ``srgan eval/upscale``),
``log.csv`` (losses every ``log_every`` steps), ``val.csv`` (PSNR/SSIM on the validation set),
``samples/`` (LR | bicubic | SR | HR) and ``tensorboard/`` (when TensorFlow is installed).
Re-running the same command, or ``--resume``, continues from the last checkpoint with the
weights, both optimizers, the step counter and the data stream restored: batch ``i`` of the
stream is a pure function of ``(seed, i)`` (:mod:`srgan_lib.patches`), so a resumed run ends
with the same weights as an uninterrupted one.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

import keras
from keras import ops

from srgan_lib import losses, models
from srgan_lib.images import atomic_write

# --------------------------------------------------------------------------------------------
# Presets


@dataclasses.dataclass(frozen=True)
class Preset:
    content: str            # "mse", "vgg22" or "vgg54"
    adversarial: bool       # train a discriminator and add 1e-3 * adversarial loss
    steps: int
    lr: float
    lr_decay_at: int | None  # step at which the learning rate drops by 10x (None: constant)
    init: str | None         # generator initialisation (a weights spec), None = random
    description: str


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
    """Everything that defines a run; stored as ``config.json`` in the run directory."""
    preset: str = "srresnet-mse"
    steps: int | None = None
    batch_size: int = 16
    lr: float | None = None
    lr_decay_at: int | None = -1          # -1: the preset's (scaled with --steps)
    init: str | None = "preset"           # "preset": the preset's; "none": random
    data: str = "T91,BSD200,General100"
    degradation: str = "bicubic"
    scale: int = 4
    patch_size: int = 96
    num_blocks: int = 16
    filters: int = 64
    upsample: str = "subpixel"
    discriminator_head: str = "dense"
    seed: int = 0
    beta_1: float = 0.9
    checkpoint_every: int = 1000
    keep_checkpoints: int = 2
    log_every: int = 10
    val_data: str | None = "Set5"
    val_every: int = 5000
    sample_every: int = 5000
    mixed_precision: bool = False
    data_parallel: bool = False
    vgg_weights: str | None = None
    jit_compile: str | bool = "auto"

    def resolved(self) -> "TrainConfig":
        """Fill the preset's defaults in (steps, lr, schedule, init)."""
        if self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}; choose one of {', '.join(PRESETS)}")
        p = PRESETS[self.preset]
        c = dataclasses.replace(self)
        if c.steps is None:
            c.steps = p.steps
        if c.lr is None:
            c.lr = p.lr
        if c.lr_decay_at == -1:
            # The paper's SRGAN schedule drops the rate halfway; keep that proportion for shorter runs.
            c.lr_decay_at = None if p.lr_decay_at is None else max(1, int(round(c.steps * p.lr_decay_at / p.steps)))
        if c.init == "preset":
            c.init = p.init
        if c.init in ("none", ""):
            c.init = None
        for name in ("steps", "batch_size", "checkpoint_every", "log_every", "val_every", "sample_every"):
            if getattr(c, name) is not None and int(getattr(c, name)) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be a positive integer, got {getattr(c, name)}")
        if c.patch_size % c.scale:
            raise ValueError(f"--patch-size {c.patch_size} is not a multiple of --scale {c.scale}")
        return c

    @property
    def preset_spec(self) -> Preset:
        return PRESETS[self.preset]


# Settings that may differ when an existing run is continued (they do not change the maths).
_RESUMABLE_CHANGES = {"steps", "checkpoint_every", "keep_checkpoints", "log_every", "val_data",
                      "val_every", "sample_every", "vgg_weights", "jit_compile", "data_parallel"}


# --------------------------------------------------------------------------------------------
# The model


class SRGANTrainer(keras.Model):
    """Generator (+ optional discriminator and VGG feature extractor) trained by one ``fit()``.

    ``train_step`` makes one alternating update (Goodfellow et al. 2014, Alg. 1 with k = 1):

    1. D step: ``L_D = -log D(I_HR) - log(1 - D(G(I_LR)))`` with G's output detached;
    2. G step: ``l_SR = l_content + 1e-3 * (-log D(G(I_LR)))`` (Eq. 3, 6) against the updated D.

    Without a discriminator only step 2's content term is used (SRResNet training).
    Logged: ``content_loss``, ``adv_loss``, ``g_loss``, ``d_loss``, ``d_real``/``d_fake``
    (mean D probabilities) and ``d_acc``.
    """

    def __init__(self, generator, discriminator=None, features=None, adversarial_weight=ADVERSARIAL_WEIGHT,
                 **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.features = features
        self.adversarial_weight = float(adversarial_weight)

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    # -- compile / optimizer state -------------------------------------------------------
    def compile(self, g_optimizer, d_optimizer=None, **kwargs):
        super().compile(optimizer=g_optimizer, **kwargs)
        g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer = d_optimizer
        if self.discriminator is not None:
            if d_optimizer is None:
                raise ValueError("an adversarial run needs a discriminator optimizer")
            d_optimizer.build(self.discriminator.trainable_variables)
            # Tracked here so that the JAX trainer carries the D optimizer's state with the
            # model's non-trainable state (Keras' trainers know only one optimizer).
            self._d_optimizer_state = list(d_optimizer.variables)
        self._index_cache = None

    def _indices(self):
        """Positions of each sub-model's variables in the trainer's variable lists (JAX state)."""
        if self._index_cache is None:
            tv = {id(v): i for i, v in enumerate(self.trainable_variables)}
            ntv = {id(v): i for i, v in enumerate(self.non_trainable_variables)}

            def pos(table, variables):
                return [table[id(v)] for v in variables]

            idx = {"g_tv": pos(tv, self.generator.trainable_variables),
                   "g_ntv": pos(ntv, self.generator.non_trainable_variables)}
            if self.discriminator is not None:
                idx["d_tv"] = pos(tv, self.discriminator.trainable_variables)
                idx["d_ntv"] = pos(ntv, self.discriminator.non_trainable_variables)
                idx["d_opt"] = pos(ntv, self.d_optimizer.variables)
            if self.features is not None:
                idx["f_ntv"] = pos(ntv, self.features.non_trainable_variables)
            self._index_cache = idx
        return self._index_cache

    # -- the losses (backend-neutral) --------------------------------------------------------
    def _content(self, sr, hr, f_ntv=None):
        sr = ops.cast(sr, "float32")
        if self.features is None:
            return losses.mse(sr, hr)
        # The same maths on both backends: features (bfloat16 under mixed precision) are compared
        # in float32, the HR features are a constant target.
        if f_ntv is None:
            f_sr = self.features(sr, training=False)
            f_hr = self.features(hr, training=False)
        else:
            f_sr, _ = self.features.stateless_call([], f_ntv, sr)
            f_hr, _ = self.features.stateless_call([], f_ntv, hr)
        return losses.mse(ops.cast(f_sr, "float32"), ops.stop_gradient(ops.cast(f_hr, "float32")))

    def _d_terms(self, real_logits, fake_logits):
        real_logits = ops.cast(real_logits, "float32")
        fake_logits = ops.cast(fake_logits, "float32")
        return {"d_loss": losses.discriminator_loss(real_logits, fake_logits),
                "d_real": ops.mean(ops.sigmoid(real_logits)),
                "d_fake": ops.mean(ops.sigmoid(fake_logits)),
                "d_acc": losses.discriminator_accuracy(real_logits, fake_logits)}

    def _g_terms(self, content, fake_logits):
        if fake_logits is None:
            return {"content_loss": content, "g_loss": content}
        adv = losses.generator_adversarial_loss(ops.cast(fake_logits, "float32"))
        return {"content_loss": content, "adv_loss": adv,
                "g_loss": losses.perceptual_loss(content, adv, self.adversarial_weight)}

    # -- train step ------------------------------------------------------------------------
    def train_step(self, *args):
        if keras.backend.backend() == "jax":
            return self._train_step_jax(*args)
        if keras.backend.backend() == "tensorflow":
            return self._train_step_tf(*args)
        raise NotImplementedError(f"training is implemented for the tensorflow and jax backends, "
                                  f"not {keras.backend.backend()!r}")

    def _train_step_tf(self, data):
        import tensorflow as tf  # backend-specific: gradients with GradientTape

        lr, hr = data
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        logs = {}
        with tf.GradientTape() as g_tape:
            sr = self.generator(lr, training=True)
            fake_logits = None
            if self.discriminator is not None:
                with tf.GradientTape() as d_tape:
                    real = self.discriminator(hr, training=True)
                    fake = self.discriminator(tf.stop_gradient(sr), training=True)
                    d_terms = self._d_terms(real, fake)
                    d_loss = d_terms["d_loss"] / replicas
                d_vars = self.discriminator.trainable_variables
                self.d_optimizer.apply(d_tape.gradient(d_loss, d_vars), d_vars)
                logs.update(d_terms)
                fake_logits = self.discriminator(sr, training=True)
            g_terms = self._g_terms(self._content(sr, hr), fake_logits)
            g_loss = g_terms["g_loss"] / replicas
        g_vars = self.generator.trainable_variables
        self.optimizer.apply(g_tape.gradient(g_loss, g_vars), g_vars)
        logs.update(g_terms)
        return logs

    def _train_step_jax(self, state, data):
        import jax  # backend-specific: gradients with jax.vjp / jax.value_and_grad

        tv, ntv, opt_vars, metrics_vars = state
        lr, hr = data
        ix = self._indices()
        tv, ntv = list(tv), list(ntv)
        g_tv = [tv[i] for i in ix["g_tv"]]
        g_ntv = [ntv[i] for i in ix["g_ntv"]]
        f_ntv = [ntv[i] for i in ix["f_ntv"]] if self.features is not None else None

        def generate(g_tv_):
            sr_, g_ntv_new_ = self.generator.stateless_call(g_tv_, g_ntv, lr, training=True)
            return sr_, g_ntv_new_

        sr, g_vjp, g_ntv_new = jax.vjp(generate, g_tv, has_aux=True)
        logs = {}
        d_tv_new = d_ntv_new = None
        if self.discriminator is not None:
            d_tv = [tv[i] for i in ix["d_tv"]]
            d_ntv = [ntv[i] for i in ix["d_ntv"]]
            d_opt = [ntv[i] for i in ix["d_opt"]]
            sr_detached = jax.lax.stop_gradient(sr)

            def d_loss_fn(d_tv_):
                real, d_ntv1 = self.discriminator.stateless_call(d_tv_, d_ntv, hr, training=True)
                fake, d_ntv2 = self.discriminator.stateless_call(d_tv_, d_ntv1, sr_detached, training=True)
                terms = self._d_terms(real, fake)
                return terms["d_loss"], (terms, d_ntv2)

            (_, (d_terms, d_ntv_new)), d_grads = jax.value_and_grad(d_loss_fn, has_aux=True)(d_tv)
            d_tv_new, d_opt_new = self.d_optimizer.stateless_apply(d_opt, d_grads, d_tv)
            logs.update(d_terms)

        def g_loss_fn(sr_):
            fake, d_ntv3 = None, d_ntv_new
            if self.discriminator is not None:
                fake, d_ntv3 = self.discriminator.stateless_call(d_tv_new, d_ntv_new, sr_, training=True)
            terms = self._g_terms(self._content(sr_, hr, f_ntv), fake)
            return terms["g_loss"], (terms, d_ntv3)

        (_, (g_terms, d_ntv_final)), d_sr = jax.value_and_grad(g_loss_fn, has_aux=True)(sr)
        (g_grads,) = g_vjp(d_sr)
        g_tv_new, opt_vars_new = self.optimizer.stateless_apply(opt_vars, g_grads, g_tv)
        logs.update(g_terms)

        for i, v in zip(ix["g_tv"], g_tv_new):
            tv[i] = v
        for i, v in zip(ix["g_ntv"], g_ntv_new):
            ntv[i] = v
        if self.discriminator is not None:
            for i, v in zip(ix["d_tv"], d_tv_new):
                tv[i] = v
            for i, v in zip(ix["d_ntv"], d_ntv_final):
                ntv[i] = v
            for i, v in zip(ix["d_opt"], d_opt_new):
                ntv[i] = v
        return logs, (tv, ntv, opt_vars_new, metrics_vars)


# --------------------------------------------------------------------------------------------
# Building a run


def _schedule(cfg: TrainConfig):
    if cfg.lr_decay_at:
        return keras.optimizers.schedules.PiecewiseConstantDecay([cfg.lr_decay_at], [cfg.lr, cfg.lr / 10])
    return cfg.lr


def build_trainer(cfg: TrainConfig) -> SRGANTrainer:
    """Models and optimizers for a resolved config (random initial weights, seeded)."""
    from srgan_lib import vgg

    keras.utils.set_random_seed(cfg.seed)
    previous_policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if cfg.mixed_precision else "float32")
    try:
        generator = models.srresnet(scale=cfg.scale, num_blocks=cfg.num_blocks, filters=cfg.filters,
                                    upsample=cfg.upsample)
        preset = cfg.preset_spec
        discriminator = None
        if preset.adversarial:
            discriminator = models.discriminator(input_shape=(cfg.patch_size, cfg.patch_size, 3),
                                                 head=cfg.discriminator_head)
        features = None
        if preset.content != "mse":
            features = vgg.vgg_features(preset.content[-2:], weights=cfg.vgg_weights)
    finally:
        # Only the models compute in bfloat16; the caller's global policy is left as it was.
        keras.mixed_precision.set_global_policy(previous_policy)
    trainer = SRGANTrainer(generator, discriminator, features)
    g_opt = keras.optimizers.Adam(learning_rate=_schedule(cfg), beta_1=cfg.beta_1)
    d_opt = keras.optimizers.Adam(learning_rate=_schedule(cfg), beta_1=cfg.beta_1) if discriminator else None
    jit = cfg.jit_compile
    if jit == "auto" and keras.backend.backend() == "tensorflow":
        jit = False  # tf.function without XLA: robust on every TF build; XLA is opt-in (--jit-compile)
    trainer.compile(g_opt, d_opt, jit_compile=jit)
    return trainer


# --------------------------------------------------------------------------------------------
# Checkpoints (atomic)


def _state_arrays(trainer: SRGANTrainer) -> dict[str, np.ndarray]:
    groups = {"g": trainer.generator.weights, "g_opt": trainer.optimizer.variables}
    if trainer.discriminator is not None:
        groups["d"] = trainer.discriminator.weights
        groups["d_opt"] = trainer.d_optimizer.variables
    out = {}
    for g, variables in groups.items():
        for k, v in enumerate(variables):
            out[f"{g}/{k:04d}"] = np.asarray(ops.convert_to_numpy(v.value))
    return out


def _restore_arrays(trainer: SRGANTrainer, arrays: dict[str, np.ndarray], path) -> None:
    groups = {"g": trainer.generator.weights, "g_opt": trainer.optimizer.variables}
    if trainer.discriminator is not None:
        groups["d"] = trainer.discriminator.weights
        groups["d_opt"] = trainer.d_optimizer.variables
    for g, variables in groups.items():
        n = sum(1 for key in arrays if key.startswith(g + "/"))
        if n != len(variables):
            raise ValueError(f"checkpoint {path} holds {n} '{g}' arrays, the model has {len(variables)}: "
                             f"it was written by a different model configuration")
        for k, v in enumerate(variables):
            a = arrays[f"{g}/{k:04d}"]
            if tuple(a.shape) != tuple(v.shape):
                raise ValueError(f"checkpoint {path}: '{g}/{k}' has shape {a.shape}, expected {tuple(v.shape)}")
            v.assign(a)


def save_checkpoint(run_dir: Path, trainer: SRGANTrainer, step: int, keep: int = 2) -> Path:
    """Write ``checkpoints/ckpt-STEP.npz`` and ``generator.weights.h5`` atomically, then ``latest.json``."""
    ckpt_dir = Path(run_dir) / "checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    arrays = _state_arrays(trainer)
    arrays["step"] = np.asarray(step, np.int64)
    path = ckpt_dir / f"ckpt-{step:08d}.npz"

    def write_npz(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)

    atomic_write(path, write_npz)
    # The generator alone, for evaluation and upscaling (keras needs the .weights.h5 suffix).
    atomic_write(Path(run_dir) / "generator.weights.h5", trainer.generator.save_weights, suffix=".weights.h5")
    atomic_write(ckpt_dir / "latest.json",
                  lambda tmp: Path(tmp).write_text(json.dumps({"step": step, "file": path.name})))
    old = sorted(ckpt_dir.glob("ckpt-*.npz"))[:-keep] if keep > 0 else []
    for p in old:
        p.unlink()
    return path


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The newest complete checkpoint of a run (``latest.json``, else the highest ``ckpt-*.npz``)."""
    ckpt_dir = Path(run_dir) / "checkpoints"
    try:
        info = json.loads((ckpt_dir / "latest.json").read_text())
        p = ckpt_dir / info["file"]
        if p.is_file():
            return p
    except (OSError, ValueError, KeyError):
        pass
    found = sorted(ckpt_dir.glob("ckpt-*.npz"))
    return found[-1] if found else None


def load_checkpoint(trainer: SRGANTrainer, path: Path) -> int:
    """Restore weights and both optimizers; returns the step counter stored in the checkpoint."""
    try:
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
        if "step" not in arrays:
            raise KeyError("no 'step' entry")
    except Exception as exc:  # zipfile.BadZipFile, EOFError, zlib.error, KeyError, OSError, ...
        # Checkpoints are written atomically, so a damaged one under its final name is not an
        # interrupted write: refuse to guess and name the file.
        raise ValueError(f"checkpoint {path} cannot be read ({type(exc).__name__}: {exc}); it is damaged: "
                         f"delete it to resume from an earlier checkpoint, or choose another --out") from None
    _restore_arrays(trainer, arrays, path)
    return int(arrays["step"])


# --------------------------------------------------------------------------------------------
# Callbacks


class DivergedError(RuntimeError):
    pass


class RunMonitor(keras.callbacks.Callback):
    """Per-step CSV log, NaN/inf detection, checkpoints, validation and samples at epoch ends.

    Epochs of ``fit()`` are checkpoint intervals; ``step`` is the global optimizer step.
    """

    def __init__(self, run_dir: Path, cfg: TrainConfig, val_set=None, total_steps: int = 0,
                 start_step: int = 0, echo=print):
        super().__init__()
        self.run_dir, self.cfg, self.val_set = Path(run_dir), cfg, val_set
        self.total_steps, self.step, self.echo = total_steps, start_step, echo
        self.diverged_at = None
        self.last_good = None
        self._log_file = None
        self._writer = None
        self._t0 = time.perf_counter()
        self._t_step0 = start_step

    def on_train_begin(self, logs=None):
        if self._log_file is not None:
            return
        path = self.run_dir / "log.csv"
        new = not path.exists()
        self._log_file = open(path, "a", newline="")
        self._writer = csv.writer(self._log_file)
        if new:
            self._writer.writerow(["step", "time", "content_loss", "adv_loss", "g_loss", "d_loss",
                                   "d_real", "d_fake", "d_acc", "lr"])

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step % self.cfg.log_every == 0 or self.step == self.total_steps:
            self._log(logs or {})

    def _log(self, logs):
        values = {k: float(ops.convert_to_numpy(v)) for k, v in logs.items()}
        if not all(math.isfinite(v) for v in values.values()):
            bad = ", ".join(f"{k}={v}" for k, v in values.items() if not math.isfinite(v))
            self.diverged_at = (self.step, bad)
            self.model.stop_training = True
            return
        # The rate of this step, from the schedule (reading the optimizer's variable would force a
        # state sync on JAX at every logged step).
        c = self.cfg
        lr = c.lr if not c.lr_decay_at or self.step - 1 <= c.lr_decay_at else c.lr / 10
        self._writer.writerow([self.step, f"{time.perf_counter() - self._t0:.3f}"] +
                              [f"{values[k]:.6g}" if k in values else "" for k in
                               ("content_loss", "adv_loss", "g_loss", "d_loss", "d_real", "d_fake", "d_acc")] +
                              [f"{lr:.3g}"])

    def on_epoch_end(self, epoch, logs=None):
        if self.diverged_at is not None:
            return
        # Never checkpoint a state with non-finite weights.
        g = trainer_weights_finite(self.model)
        if not g:
            self.diverged_at = (self.step, "non-finite weights")
            self.model.stop_training = True
            return
        self._log_file.flush()
        self.last_good = save_checkpoint(self.run_dir, self.model, self.step, self.cfg.keep_checkpoints)
        done = self.step >= self.total_steps
        if self.val_set and (self.step % self.cfg.val_every == 0 or done):
            self._validate()
        if self.val_set and (self.step % self.cfg.sample_every == 0 or done):
            self._sample()
        dt = time.perf_counter() - self._t0
        rate = (self.step - self._t_step0) / dt if dt > 0 else float("nan")
        self.echo(f"step {self.step}/{self.total_steps}  {rate:.2f} steps/s  checkpoint {self.last_good.name}")

    def _validate(self):
        from srgan_lib import degrade, metrics

        scores = []
        for name, hr in self.val_set:
            lr = degrade.degrade(hr, scale=self.cfg.scale, kind=self.cfg.degradation)
            sr = models.super_resolve(self.model.generator, lr)
            scores.append((metrics.psnr(sr, hr, border=self.cfg.scale), metrics.ssim(sr, hr, border=self.cfg.scale)))
        p, s = (float(np.mean(x)) for x in zip(*scores))
        path = self.run_dir / "val.csv"
        new = not path.exists()
        with open(path, "a", newline="") as f:
            w = csv.writer(f)
            if new:
                w.writerow(["step", "dataset", "psnr", "ssim"])
            w.writerow([self.step, self.cfg.val_data, f"{p:.4f}", f"{s:.5f}"])
        self.echo(f"step {self.step}: {self.cfg.val_data} PSNR {p:.2f} dB  SSIM {s:.4f}")

    def _sample(self):
        from srgan_lib import degrade, images

        name, hr = self.val_set[0]
        lr = degrade.degrade(hr, scale=self.cfg.scale, kind=self.cfg.degradation)
        sr = models.super_resolve(self.model.generator, lr)
        nearest = degrade.upscale_nearest(lr, self.cfg.scale)
        bic = degrade.upscale_bicubic(lr, self.cfg.scale)
        strip = np.concatenate([nearest, bic, sr, hr], axis=1)
        (self.run_dir / "samples").mkdir(exist_ok=True)
        images.write_image(self.run_dir / "samples" / f"step-{self.step:08d}.png", strip, overwrite=True)

    def on_train_end(self, logs=None):
        if self._log_file:
            self._log_file.close()
            self._log_file = None


def trainer_weights_finite(trainer: SRGANTrainer) -> bool:
    """True when every generator and discriminator weight is finite (never checkpoint anything else)."""
    variables = list(trainer.generator.weights)
    if trainer.discriminator is not None:
        variables += trainer.discriminator.weights
    return all(bool(np.isfinite(ops.convert_to_numpy(v.value)).all()) for v in variables)


# --------------------------------------------------------------------------------------------
# The run


def _config_dict(cfg: TrainConfig) -> dict:
    return dataclasses.asdict(cfg)


def prepare_run_dir(cfg: TrainConfig, out: Path, resume: bool | None) -> tuple[Path, bool]:
    """Create the run folder, or check that an existing one holds the same run (then resume)."""
    out = Path(out)
    cfg_path = out / "config.json"
    if cfg_path.exists():
        try:
            old = json.loads(cfg_path.read_text())
        except ValueError:
            raise ValueError(f"{cfg_path} is not valid JSON; refusing to overwrite this run folder") from None
        new = _config_dict(cfg)
        diff = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k) and k not in _RESUMABLE_CHANGES)
        if diff:
            changes = ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in diff)
            raise ValueError(f"{out} holds a different run ({changes}); choose another --out")
        if resume is False:
            raise ValueError(f"{out} already holds a run; continue it with --resume or choose another --out")
        old.update({k: new[k] for k in _RESUMABLE_CHANGES if k in new})
        atomic_write(cfg_path, lambda tmp: Path(tmp).write_text(json.dumps(old, indent=2)))
        return out, True
    if resume:
        raise ValueError(f"--resume: {out} holds no run to continue (no config.json)")
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out} exists and is not a run folder; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(cfg_path, lambda tmp: Path(tmp).write_text(json.dumps(_config_dict(cfg), indent=2)))
    return out, False


def _keep_stored_schedule(cfg: TrainConfig, out: Path) -> TrainConfig:
    """Continuing a run with a new ``--steps`` keeps the run's learning-rate schedule.

    The default ``lr_decay_at`` (-1) is derived from ``--steps``; without this, extending a run
    (``--steps`` is a resumable change) would be refused as a "different run" because the derived
    decay step moved.  An explicit ``--lr-decay-at`` is still compared with the stored one.
    """
    if cfg.lr_decay_at != -1 or not (out / "config.json").is_file():
        return cfg
    try:
        old = json.loads((out / "config.json").read_text())
    except (OSError, ValueError):
        return cfg  # prepare_run_dir reports it
    if not isinstance(old, dict) or "lr_decay_at" not in old or old.get("preset") != cfg.preset:
        return cfg
    return dataclasses.replace(cfg, lr_decay_at=old["lr_decay_at"])


def _load_images(cfg: TrainConfig, images=None):
    if images is not None:
        return images
    from srgan_lib import data

    return data.load_training_images(cfg.data, min_size=cfg.patch_size)


def _load_val_set(cfg: TrainConfig):
    if not cfg.val_data:
        return None
    from srgan_lib import evaluate

    try:
        return evaluate.load_eval_set(cfg.val_data, scale=cfg.scale)
    except (FileNotFoundError, ValueError) as exc:
        print(f"srgan train: validation disabled: {exc}", file=sys.stderr)
        return None


def _initialise_generator(trainer: SRGANTrainer, spec: str) -> None:
    from srgan_lib import weights

    source = weights.load_generator(spec)
    src, dst = source.weights, trainer.generator.weights
    if len(src) != len(dst) or any(tuple(a.shape) != tuple(b.shape) for a, b in zip(src, dst)):
        raise ValueError(f"--init {spec}: its generator does not match this run's architecture "
                         f"(num_blocks/filters/scale/upsample)")
    for a, b in zip(src, dst):
        b.assign(a.value)


def _data_parallel_scope(cfg: TrainConfig):
    import contextlib

    if not cfg.data_parallel:
        return contextlib.nullcontext()
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.distribute.MirroredStrategy().scope()
    if keras.backend.backend() == "jax":
        keras.distribution.set_distribution(keras.distribution.DataParallel())
        return contextlib.nullcontext()
    raise ValueError(f"--data-parallel is not supported on the {keras.backend.backend()} backend")


def train(cfg: TrainConfig, out, resume: bool | None = None, images=None, verbose: int = 1,
          echo=print) -> dict:
    """Train (or continue) a run.  Returns a summary dict (steps done, wall time, last losses).

    ``images`` (a list of uint8 HR arrays) replaces ``cfg.data`` when given (tests, notebooks).
    """
    cfg = _keep_stored_schedule(cfg, Path(out)).resolved()
    run_dir, resuming = prepare_run_dir(cfg, Path(out), resume)
    cfg = TrainConfig(**json.loads((run_dir / "config.json").read_text()))
    with _data_parallel_scope(cfg):
        trainer = build_trainer(cfg)
    start = 0
    ckpt = latest_checkpoint(run_dir) if resuming else None
    if ckpt is not None:
        start = load_checkpoint(trainer, ckpt)
        echo(f"resuming {run_dir} from {ckpt.name} (step {start})")
    elif cfg.init:
        _initialise_generator(trainer, cfg.init)
        echo(f"generator initialised from {cfg.init}")
    total = int(cfg.steps)
    summary = {"run_dir": str(run_dir), "start_step": start, "steps": total}
    if start >= total:
        echo(f"{run_dir} is already trained to step {start} (--steps {total})")
        summary.update(step=start, wall_s=0.0)
        return summary

    from srgan_lib.patches import PatchSequence

    seq = PatchSequence(_load_images(cfg, images), batch_size=cfg.batch_size, patch_size=cfg.patch_size,
                        scale=cfg.scale, degradation=cfg.degradation, seed=cfg.seed)
    monitor = RunMonitor(run_dir, cfg, _load_val_set(cfg), total_steps=total, start_step=start, echo=echo)
    callbacks = [monitor]
    tb = _tensorboard(run_dir)
    if tb is not None:
        callbacks.append(tb)
    every = int(cfg.checkpoint_every)
    t0 = time.perf_counter()
    step = start
    # fit() epochs are checkpoint intervals; a final shorter interval is its own fit() call.
    while step < total and monitor.diverged_at is None:
        n = min(every - step % every, total - step)
        trainer.fit(seq.stream(start=step, stop=step + n), steps_per_epoch=n, epochs=1,
                    verbose=verbose, callbacks=callbacks, shuffle=False)
        step = monitor.step
        if trainer.stop_training and monitor.diverged_at is None:
            break
    wall = time.perf_counter() - t0
    if monitor.diverged_at is not None:
        where, what = monitor.diverged_at
        last = latest_checkpoint(run_dir)
        raise DivergedError(f"training diverged at step {where} ({what}); the last good checkpoint "
                            f"{last if last else '(none)'} is kept: lower --lr or resume from it")
    summary.update(step=step, wall_s=wall, steps_per_s=(step - start) / wall if wall > 0 else None)
    return summary


def _tensorboard(run_dir: Path):
    try:
        import tensorboard  # noqa: F401  keras' TensorBoard callback writes with tf.summary
        import tensorflow  # noqa: F401
    except ImportError:
        return None
    return keras.callbacks.TensorBoard(log_dir=str(run_dir / "tensorboard"), update_freq=100,
                                       write_graph=False, profile_batch=0)


# --------------------------------------------------------------------------------------------
# Command line


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("preset", choices=list(PRESETS), help="which of the paper's variants to train")
    p.add_argument("--out", required=True, help="run folder (created; an existing run is continued)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out (it must exist)")
    p.add_argument("--steps", type=int, help="total optimizer steps (paper: 1e6 SRResNet, 2e5 SRGAN)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, help="initial learning rate (paper: 1e-4)")
    p.add_argument("--lr-decay-at", type=int, default=-1,
                   help="step where the rate drops 10x (default: the preset's, scaled to --steps; 0: never)")
    p.add_argument("--init", default="preset",
                   help="generator initialisation: a run folder, weights file, shipped preset name, or 'none'")
    p.add_argument("--data", default="T91,BSD200,General100", help="training sets or folders, comma-separated")
    p.add_argument("--degradation", default="bicubic", choices=["bicubic", "gaussian_bicubic"])
    p.add_argument("--scale", type=int, default=4)
    p.add_argument("--patch-size", type=int, default=96, help="HR crop side (paper: 96)")
    p.add_argument("--num-blocks", type=int, default=16)
    p.add_argument("--filters", type=int, default=64)
    p.add_argument("--upsample", default="subpixel", choices=["subpixel", "nearest"])
    p.add_argument("--discriminator-head", default="dense", choices=["dense", "patch"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint-every", type=int, default=1000)
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--val", dest="val_data", default="Set5", help="validation set ('' to disable)")
    p.add_argument("--val-every", type=int, default=5000)
    p.add_argument("--sample-every", type=int, default=5000)
    p.add_argument("--mixed-precision", action="store_true", help="bfloat16 compute, float32 weights")
    p.add_argument("--data-parallel", action="store_true",
                   help="use every GPU (tf.distribute.MirroredStrategy / keras.distribution.DataParallel)")
    p.add_argument("--vgg-weights", help="VGG19 notop HDF5 file (default: $SRGAN_VGG19_WEIGHTS or ImageNet download)")
    p.add_argument("--jit-compile", action="store_true", help="XLA-compile the train step on TensorFlow")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def config_from_args(args) -> TrainConfig:
    decay = args.lr_decay_at
    return TrainConfig(
        preset=args.preset, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
        lr_decay_at=(None if decay == 0 else decay), init=args.init, data=args.data,
        degradation=args.degradation, scale=args.scale, patch_size=args.patch_size,
        num_blocks=args.num_blocks, filters=args.filters, upsample=args.upsample,
        discriminator_head=args.discriminator_head, seed=args.seed,
        checkpoint_every=args.checkpoint_every, log_every=args.log_every, val_data=args.val_data or None,
        val_every=args.val_every, sample_every=args.sample_every, mixed_precision=args.mixed_precision,
        data_parallel=args.data_parallel, vgg_weights=args.vgg_weights,
        jit_compile=True if args.jit_compile else "auto")


def main(args) -> int:
    cfg = config_from_args(args)
    try:
        summary = train(cfg, args.out, resume=True if args.resume else None, verbose=0 if args.quiet else 1)
    except DivergedError as exc:
        print(f"srgan train: error: {exc}", file=sys.stderr)
        return 3
    rate = summary.get("steps_per_s")
    print(f"done: {summary['run_dir']} at step {summary['step']}"
          + (f" ({rate:.2f} steps/s, {summary['wall_s']:.0f} s)" if rate else ""))
    return 0
