"""SRResNet pre-training and SRGAN adversarial training (Ledig et al. 2017, Sec. 2.2, 3.2).

``train(TrainConfig(preset=...), out)`` (or ``srgan train PRESET --out RUN``) trains one of the
paper's five variants in a resumable run folder.  The package, one idea per module:

* :mod:`~srgan_lib.train.config`: the presets and :class:`TrainConfig`, what defines a run, grouped by
  concern (model, patches, schedule, loss, runtime, output);
* :mod:`~srgan_lib.train.trainer`: :class:`SRGANTrainer`, the alternating update as a
  ``keras.Model`` (``fit()`` works: notebooks, tests), and :func:`build_trainer`;
* :mod:`~srgan_lib.train.device_patches`: the training patches gathered on the device;
* :mod:`~srgan_lib.train.loop`: many steps per dispatch on the device, or one per step on the host;
* :mod:`~srgan_lib.train.health`: the discriminator's health per batch and over a window;
* :mod:`~srgan_lib.train.monitor`: the blow-up check, ``log.csv``, TensorBoard, the progress bar;
* :mod:`~srgan_lib.train.validation`: PSNR/SSIM during training and the sample strips;
* :mod:`~srgan_lib.train.checkpoints`: checkpoints keyed by variable path, a background writer;
* :mod:`~srgan_lib.train.run_dir`: the run folder (config, lock, resume, logs cut back on resume);
* :mod:`~srgan_lib.train.session`: :func:`train`, one session from opening the folder to the end.

The command line, ``srgan train``, is :mod:`srgan_lib.cli.train`.

A run directory holds ``config.json``, ``checkpoints/`` (the last ``keep_checkpoints``),
``generator.weights.h5`` (the latest checkpoint's generator, for ``srgan eval/upscale``),
``log.csv`` (losses every ``log_every`` steps), ``val.csv`` (PSNR/SSIM, LR consistency and
pixel-shuffle artefact energy on the validation set),
``samples/`` (nearest | bicubic | SR | HR) and ``tensorboard/`` (when TensorFlow is installed).
Re-running the same command, or ``--resume``, continues from the last checkpoint with the
weights, both optimizers, the step counter and the data stream restored: batch ``i`` of the
stream is a pure function of ``(seed, i)`` (:mod:`srgan_lib.patches`), so a resumed run ends
with the same weights as an uninterrupted one.
"""
from srgan_lib.train.checkpoints import latest_checkpoint, load_checkpoint
from srgan_lib.train.config import (ADVERSARIAL_WEIGHT, PRESETS, RESUMABLE_CHANGES, LossConfig, ModelConfig,
                                    OutputConfig, PatchConfig, Preset, RuntimeConfig, ScheduleConfig, TrainConfig)
from srgan_lib.train.run_dir import LOG_COLUMNS, VAL_COLUMNS
from srgan_lib.train.session import data_parallel_scope, train
from srgan_lib.train.trainer import SRGANTrainer, build_trainer

__all__ = ["ADVERSARIAL_WEIGHT", "LOG_COLUMNS", "PRESETS", "Preset", "RESUMABLE_CHANGES", "SRGANTrainer",
           "TrainConfig", "ModelConfig", "PatchConfig", "ScheduleConfig", "LossConfig", "RuntimeConfig", "OutputConfig", "VAL_COLUMNS", "build_trainer", "data_parallel_scope", "latest_checkpoint",
           "load_checkpoint", "train"]
