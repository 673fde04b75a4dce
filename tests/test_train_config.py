"""TrainConfig: grouped by concern, built from the flat option names, None for "the preset's", one
declaration of what may change on resume and of what the compiled loop depends on, and run folders
written before the groups still read and continued."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from srgan_lib.train import config, run_dir
from srgan_lib.train.config import GROUPS, NOT_COMPILED, RESUMABLE_CHANGES, ScheduleConfig, TrainConfig

ROOT = Path(__file__).resolve().parents[1]


def test_groups_hold_every_option_once_and_flat_names_build_them():
    names = [f for cls in GROUPS.values() for f in cls.__dataclass_fields__]
    assert len(names) == len(set(names)) == 38 and set(GROUPS) == {"model", "patches", "schedule", "loss",
                                                                   "runtime", "output"}
    cfg = TrainConfig(preset="srgan-vgg54", steps=2000, batch_size=32, num_blocks=8, d_lr=1e-5, val_data=None)
    assert (cfg.schedule.steps, cfg.patches.batch_size, cfg.model.num_blocks, cfg.schedule.d_lr,
            cfg.output.val_data) == (2000, 32, 8, 1e-5, None)
    assert TrainConfig(schedule=ScheduleConfig(steps=2000)) == TrainConfig(steps=2000)
    assert TrainConfig(**cfg.flat()) == cfg and list(cfg.flat())[0] == "preset"
    assert cfg.replace(lr=3e-4).schedule == ScheduleConfig(steps=2000, lr=3e-4, d_lr=1e-5)
    with pytest.raises(TypeError, match="no field 'learning_rate'"):
        TrainConfig(learning_rate=1e-4)
    with pytest.raises(AttributeError):  # frozen: a changed config is a new one
        cfg.schedule.steps = 5


def test_none_means_the_presets_value():
    gan = TrainConfig(preset="srgan-vgg54", steps=1000).resolved()
    assert (gan.schedule.lr, gan.schedule.lr_decay_at, gan.model.init, gan.loss.vgg_scale) == (1e-4, 500, "srresnet-mse",
                                                                                                12.75)
    mse = TrainConfig(preset="srresnet-mse").resolved()
    assert (mse.schedule.steps, mse.schedule.lr_decay_at, mse.model.init, mse.init_spec, mse.loss.vgg_scale) == \
        (1_000_000, "never", "random", None, None)
    explicit = TrainConfig(preset="srgan-vgg54", lr_decay_at="never", init="random").resolved()
    assert (explicit.schedule.lr_decay_at, explicit.init_spec) == ("never", None)
    assert TrainConfig(preset="srgan-mse", init="none").resolved().model.init == "random"  # the CLI's old spelling
    assert TrainConfig().runtime.jit_compile is None and gan.adversarial_weight == 1e-3 and gan.real_label == 1.0
    assert config.lr_at(gan, 500) == 1e-4 and config.lr_at(gan, 501) == pytest.approx(1e-5)
    assert config.lr_at(mse, 10 ** 6) == 1e-4


def test_resume_and_compile_sets_come_from_the_field_declarations():
    """The two lists that were kept by hand (run_dir's resumable changes, the loop's compile key) are
    now read from the fields; they are the same sets as before."""
    assert RESUMABLE_CHANGES == {
        "steps", "checkpoint_every", "checkpoint_minutes", "keep_checkpoints", "log_every", "val_data",
        "val_every", "sample_every", "blowup_factor", "vgg_weights", "jit_compile", "data_parallel", "loop",
        "steps_per_dispatch"}
    assert NOT_COMPILED == {
        "steps", "init", "data", "degradation", "prelu_init", "augment", "distinct_images", "seed",
        "checkpoint_every", "checkpoint_minutes", "keep_checkpoints", "log_every", "val_data", "val_every",
        "sample_every", "blowup_factor", "vgg_weights", "vgg_weights_sha256", "jit_compile", "loop"}


@pytest.mark.parametrize("name", ["srresnet-mse", "srgan-vgg54"])
def test_a_config_written_before_the_groups_is_read(name):
    raw = json.loads((ROOT / "data" / "weights" / "training_logs" / name / "config.json").read_text())
    assert raw["jit_compile"] == "auto" and (raw["lr_decay_at"] is None or isinstance(raw["lr_decay_at"], int))
    cfg = TrainConfig.from_stored(raw)
    assert cfg.runtime.jit_compile is None and cfg.schedule.steps == raw["steps"]
    assert cfg.schedule.lr_decay_at == (raw["lr_decay_at"] or "never")
    assert cfg.model.init == (raw["init"] or "random")
    resolved = cfg.resolved().flat()
    assert all(resolved[k] == cfg.flat()[k] for k in raw)  # a stored config is resolved: nothing it holds moves


def test_a_run_folder_written_before_the_groups_is_continued(tmp_path):
    """A config.json with the old nulls and "auto" is the same run as today's resolved config."""
    cfg = TrainConfig(preset="srresnet-mse", steps=4, batch_size=2, patch_size=24, num_blocks=1, filters=8,
                      val_data=None)
    old = cfg.resolved().flat()
    old.update(init=None, lr_decay_at=None, jit_compile="auto")
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(old))
    with run_dir.RunFolder.open(cfg, run, resume=True, echo=lambda *a: None) as folder:
        assert folder.resuming and folder.cfg == cfg.resolved()
    stored = json.loads((run / "config.json").read_text())
    assert (stored["init"], stored["lr_decay_at"]) == ("random", "never")
    with pytest.raises(Exception, match="different run.*num_blocks"):
        run_dir.RunFolder.open(cfg.replace(num_blocks=2), run, resume=True, echo=lambda *a: None)
