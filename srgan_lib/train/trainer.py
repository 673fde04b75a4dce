"""The alternating SRGAN update as a ``keras.Model``: :class:`SRGANTrainer` and :func:`build_trainer`.

``train_step`` makes one alternating update (Goodfellow et al. 2014, Alg. 1 with k = 1):

1. D step: ``L_D = -log D(I_HR) - log(1 - D(G(I_LR)))`` with G's output detached;
2. G step: ``l_SR = l_content + 1e-3 * (-log D(G(I_LR)))`` (Eq. 3, 6) against the *updated* D.

Without a discriminator only step 2's content term is used (SRResNet training).  The losses are
the backend-neutral ``keras.ops`` code of :mod:`srgan_lib.losses`; only the lines that take
gradients differ between the TensorFlow step (``GradientTape``) and the JAX step (stateless,
``jax.vjp``).  The same step runs under ``fit()`` (notebooks, tests) and inside the fused
multi-step loop of :mod:`srgan_lib.train.loop` (``srgan train``).
"""
from __future__ import annotations

import keras
from keras import ops

from srgan_lib import backend, losses, models
from srgan_lib.train import health
from srgan_lib.train.config import ADVERSARIAL_WEIGHT, TrainConfig, learning_rate_schedule

#: The per-step values the trainer reports, in the order of the training log.
LOG_KEYS = ("content_loss", "adv_loss", "g_loss", "d_loss", "d_real", "d_fake", "d_acc")


class SRGANTrainer(keras.Model):
    """Generator (+ optional discriminator and VGG feature extractor) trained by one ``fit()``.

    Logged: ``content_loss``, ``adv_loss``, ``g_loss``, ``d_loss``, ``d_real``/``d_fake``
    (mean D probabilities) and ``d_acc``.
    """

    def __init__(self, generator, discriminator=None, features=None, adversarial_weight=ADVERSARIAL_WEIGHT,
                 real_label=1.0, pixel_weight=0.0, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.features = features
        self.adversarial_weight = float(adversarial_weight)
        self.real_label = float(real_label)
        self.pixel_weight = float(pixel_weight)

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    @property
    def log_keys(self) -> tuple[str, ...]:
        """The keys of this trainer's logs (no adversarial terms without a discriminator)."""
        return LOG_KEYS if self.discriminator is not None else ("content_loss", "g_loss")

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

    def indices(self) -> dict[str, list[int]]:
        """Positions of each sub-model's variables in the trainer's variable lists (the JAX state
        ``(trainable, non_trainable, optimizer, metrics)``)."""
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
    def _content(self, sr, hr, features):
        # The SR image is float32 (the generator's last layer is pinned to float32), and so are
        # the VGG features; losses.content_loss holds the HR target constant.
        content = losses.content_loss(features, ops.cast(sr, "float32"), hr)
        if features is not None and self.pixel_weight > 0:  # a VGG loss plus a pixel anchor
            content = content + self.pixel_weight * losses.content_loss(None, ops.cast(sr, "float32"), hr)
        return content

    def _d_terms(self, real_logits, fake_logits):
        return {"d_loss": losses.discriminator_loss(real_logits, fake_logits, self.real_label),
                **health.discriminator_terms(real_logits, fake_logits)}

    def _g_terms(self, content, fake_logits):
        if fake_logits is None:
            return {"content_loss": content, "g_loss": content}
        adv = losses.generator_adversarial_loss(fake_logits)
        return {"content_loss": content, "adv_loss": adv,
                "g_loss": losses.perceptual_loss(content, adv, self.adversarial_weight)}

    # -- train step ------------------------------------------------------------------------
    def train_step(self, *args):
        return self.train_step_jax(*args) if backend.name() == "jax" else self.train_step_tf(*args)

    def train_step_tf(self, data):
        """One update on the TensorFlow backend: updates the variables, returns the logs."""
        import tensorflow as tf  # backend-specific: gradients with GradientTape

        lr, hr, _ = keras.utils.unpack_x_y_sample_weight(data)
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
            g_terms = self._g_terms(self._content(sr, hr, self.features), fake_logits)
            g_loss = g_terms["g_loss"] / replicas
        g_vars = self.generator.trainable_variables
        self.optimizer.apply(g_tape.gradient(g_loss, g_vars), g_vars)
        logs.update(g_terms)
        return logs

    def train_step_jax(self, state, data):
        """One update on the JAX backend: a pure function ``(state, (lr, hr)) -> (logs, state)``
        of the state ``(trainable, non_trainable, optimizer, metrics)`` lists."""
        import jax  # backend-specific: gradients with jax.vjp / jax.value_and_grad

        tv, ntv, opt_vars, metrics_vars = state
        lr, hr, _ = keras.utils.unpack_x_y_sample_weight(data)
        ix = self.indices()
        tv, ntv = list(tv), list(ntv)
        g_tv = [tv[i] for i in ix["g_tv"]]
        g_ntv = [ntv[i] for i in ix["g_ntv"]]
        features = None
        if self.features is not None:
            f_ntv = [ntv[i] for i in ix["f_ntv"]]

            def features(x, training=False):
                return self.features.stateless_call([], f_ntv, x, training=training)[0]

        def generate(g_tv_):
            return self.generator.stateless_call(g_tv_, g_ntv, lr, training=True)

        sr, g_vjp, g_ntv_new = jax.vjp(generate, g_tv, has_aux=True)
        logs = {}
        d_tv_new = d_ntv_new = d_opt_new = None
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
            terms = self._g_terms(self._content(sr_, hr, features), fake)
            return terms["g_loss"], (terms, d_ntv3)

        (_, (g_terms, d_ntv_final)), d_sr = jax.value_and_grad(g_loss_fn, has_aux=True)(sr)
        (g_grads,) = g_vjp(d_sr)
        g_tv_new, opt_vars_new = self.optimizer.stateless_apply(opt_vars, g_grads, g_tv)
        logs.update(g_terms)

        updates = [(tv, ix["g_tv"], g_tv_new), (ntv, ix["g_ntv"], g_ntv_new)]
        if self.discriminator is not None:
            updates += [(tv, ix["d_tv"], d_tv_new), (ntv, ix["d_ntv"], d_ntv_final), (ntv, ix["d_opt"], d_opt_new)]
        for target, positions, values in updates:
            for i, v in zip(positions, values):
                target[i] = v
        return logs, (tv, ntv, list(opt_vars_new), list(metrics_vars))


def build_trainer(cfg: TrainConfig) -> SRGANTrainer:
    """Models and optimizers for a resolved config (random initial weights, seeded).

    Under ``cfg.runtime.mixed_precision`` the models compute in bfloat16 with float32 weights (the
    generator's last layer, D's logit and the VGG preprocessing/rescaling stay float32); the
    caller's global dtype policy is left as it was.
    """
    from srgan_lib import vgg

    keras.utils.set_random_seed(cfg.patches.seed)
    previous_policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if cfg.runtime.mixed_precision else "float32")
    try:
        generator = models.srresnet(scale=cfg.model.scale, num_blocks=cfg.model.num_blocks, filters=cfg.model.filters,
                                    upsample=cfg.model.upsample, prelu_init=cfg.model.prelu_init)
        preset = cfg.preset_spec
        discriminator = None
        if preset.adversarial:
            discriminator = models.discriminator(input_shape=(cfg.patches.patch_size, cfg.patches.patch_size, 3),
                                                 head=cfg.model.discriminator_head)
        features = None
        if preset.vgg_layer is not None:
            features = vgg.vgg_features(preset.vgg_layer, weights=cfg.loss.vgg_weights, scale=cfg.loss.vgg_scale)
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)
    trainer = SRGANTrainer(generator, discriminator, features, adversarial_weight=cfg.adversarial_weight,
                           real_label=cfg.real_label, pixel_weight=cfg.loss.pixel_weight or 0.0)
    schedule = learning_rate_schedule(cfg.schedule.lr, cfg.schedule.lr_decay_at)
    g_opt = keras.optimizers.Adam(learning_rate=schedule, beta_1=cfg.schedule.beta_1, name="g_adam")
    d_opt = None
    if discriminator is not None:
        d_schedule = learning_rate_schedule(cfg.schedule.d_lr if cfg.schedule.d_lr is not None else cfg.schedule.lr, cfg.schedule.lr_decay_at)
        d_opt = keras.optimizers.Adam(learning_rate=d_schedule, beta_1=cfg.schedule.beta_1, name="d_adam")
    trainer.compile(g_opt, d_opt, jit_compile="auto" if cfg.runtime.jit_compile is None else cfg.runtime.jit_compile)
    return trainer
