"""Nothing lost, nothing forged: each attack of the command-line tools, reproduced.

* a run folder whose checkpoints are gone is refused (not started over), ``--restart`` starts over;
* a full disk (a small tmpfs, or a writer patched to fail with ENOSPC) is one line in every command,
  and nothing that was there before is lost;
* ``export --overwrite`` replaces only an earlier export;
* images too large for the memory their work needs are refused before decoding (skipped in training);
* a new run killed during its first ``config.json`` write can be started again;
* ratings files from raters the study never invited, or under another rater's id, are refused;
* the low-severity items: offline VGG19 download, a ``Sequential`` generator, a ``.keras`` file that is
  not a generator, ``--scale 3``, ``--tile 0`` on a large photo, a collapsing run, stale temporaries
  of killed upscales and studies, an interrupted folder upscale, empty paths.
"""
import contextlib
import errno
import hashlib
import json
import os
import struct
import subprocess
import zlib
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from srgan_lib import cli, mos, models, train
from srgan_lib.atomic import atomic_dir, atomic_write, remove_stale_temporaries
from srgan_lib.errors import OutputError, OutputExistsError, UserError
from srgan_lib.images import ImageTooLargeError, memory_budget, read_image
from srgan_lib.train import checkpoints
from srgan_lib.train.monitor import COLLAPSE_DB, Diverged, Monitor

from test_mos import make_study, write_ratings
from test_train import QUIET, smooth_images, tiny

BACKEND = keras.backend.backend()
ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def run_cli(argv, capsys):
    rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    lines = [ln for ln in err.strip().splitlines() if ln.startswith("srgan ")]
    return rc, out, err, lines


def one_error_line(err: str) -> str:
    """The single ``srgan X: error:`` line of ``err``; fails on a traceback or on two error lines."""
    assert "Traceback" not in err, err[-2000:]
    errors_ = [ln for ln in err.splitlines() if ": error: " in ln]
    assert len(errors_) == 1, err[-2000:]
    return errors_[0]


def image_folder(folder: Path, sizes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for k, img in enumerate(smooth_images(len(sizes))):
        h, w = sizes[k]
        Image.fromarray(np.ascontiguousarray(np.resize(img, (h, w, 3)))).save(folder / f"img{k}.png")
    return folder


def huge_png(path: Path, width: int, height: int) -> Path:
    """A 1-bit black PNG of ``width`` x ``height`` pixels that takes a few hundred kB on disk."""
    row = b"\x00" * (1 + (width + 7) // 8)
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
                     + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


@pytest.fixture(scope="module")
def tiny_generator(tmp_path_factory) -> Path:
    """A 1-block, 8-filter x4 generator saved as .keras (fast on the CPU)."""
    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("gen") / "tiny.keras"
    models.srresnet(num_blocks=1, filters=8).save(path)
    return path


@contextlib.contextmanager
def small_disk(folder: Path, size: str):
    """A tmpfs of ``size`` mounted at ``folder`` (a real full disk); skips where mount is not allowed."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode}): needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def files_in(folder: Path) -> list[str]:
    """Every file below ``folder`` but run-folder locks (an empty ``.lock`` marks a folder as a new run)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if not p.is_dir() and p.name != ".lock")


def fill(folder: Path, leave: int = 0) -> None:
    """Fill the file system of ``folder`` up to ``leave`` free bytes."""
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    with contextlib.suppress(OSError):
        with open(folder / "filler", "wb") as f:
            f.write(b"\0" * max(0, free - leave))


# --------------------------------------------------------------------------------------------
# 1. a run folder without checkpoints; 5. a new run killed during its first config.json write

def test_run_folder_without_checkpoints_is_refused_not_started_over(tmp_path, capsys):
    images = smooth_images(2)
    data = image_folder(tmp_path / "data", [(40, 48), (48, 40)])
    run = tmp_path / "run"
    train.train(tiny(steps=4, checkpoint_every=2, data=str(data)), run, images=images, **QUIET)
    before = {name: sha(run / name) for name in ("generator.weights.h5", "log.csv", "config.json")}
    import shutil
    shutil.rmtree(run / "checkpoints")  # deleted to save space, or not synced: "generator only"
    with pytest.raises(UserError) as info:
        train.train(tiny(steps=4, checkpoint_every=2, data=str(data)), run, images=images, **QUIET)
    msg = str(info.value)
    assert "\n" not in msg and "generator.weights.h5" in msg and "--restart" in msg and f"--init {run}" in msg
    assert {name: sha(run / name) for name in before} == before  # nothing touched
    # the command: one line, exit 2, nothing touched
    args = ["train", "srresnet-mse", "--out", run, "--data", data, "--steps", "4", "--checkpoint-every", "2",
            "--batch-size", "2", "--patch-size", "24", "--num-blocks", "1", "--filters", "8", "--init", "none",
            "--lr", "1e-3", "--lr-decay-at", "0", "--log-every", "1", "--val", "", "--quiet"]
    args += ["--no-xla"] if BACKEND == "tensorflow" else []
    rc, _, err, _ = run_cli(args, capsys)
    assert rc == 2 and "no checkpoint to continue it from" in one_error_line(err)
    assert {name: sha(run / name) for name in before} == before
    rc, _, err, _ = run_cli(args + ["--restart", "--resume"], capsys)
    assert rc == 2 and "contradict" in one_error_line(err)
    # --restart starts over on purpose, from step 0
    summary = train.train(tiny(steps=4, checkpoint_every=2, data=str(data)), run, images=images, restart=True,
                          **QUIET)
    assert summary["start_step"] == 0 and summary["step"] == 4
    assert checkpoints.latest_checkpoint(run).name == "ckpt-00000004.npz"
    # fine-tuning the generator alone, as the message says: a new folder with --init RUN
    tuned = train.train(tiny(steps=2, init=str(run)), tmp_path / "tuned", images=images, **QUIET)
    assert tuned["step"] == 2


def test_new_run_killed_during_its_first_config_write_can_start_again(tmp_path):
    run = tmp_path / "r"
    run.mkdir()
    (run / ".lock").touch()
    (run / ".config.json.x.tmp").write_text("{}")  # what a kill during atomic_write leaves
    summary = train.train(tiny(), run, images=smooth_images(2), **QUIET)
    assert summary["step"] == 2 and not (run / ".config.json.x.tmp").exists()
    assert json.loads((run / "config.json").read_text())["preset"] == "srresnet-mse"
    # anything else in the folder still makes it "not a run folder"
    other = tmp_path / "o"
    other.mkdir()
    (other / "thesis.tex").write_text("x")
    with pytest.raises(UserError, match="is not a run folder"):
        train.train(tiny(), other, images=smooth_images(2), **QUIET)


# --------------------------------------------------------------------------------------------
# 2. a full disk

def test_atomic_writers_turn_a_full_disk_into_one_line_and_keep_the_old_file(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("the user's")

    def write(tmp):
        Path(tmp).write_text("partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OutputError, match=r"cannot write '.*out\.txt': No space left on device"):
        atomic_write(target, write)
    assert target.read_text() == "the user's" and sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
    folder = tmp_path / "study"
    with pytest.raises(OutputError, match="No space left on device"):
        with atomic_dir(folder) as tmp:
            (tmp / "a").write_text("x")
            raise RuntimeError("ResourceExhaustedError: ... ; No space left on device [Op:SaveV2]")  # TensorFlow
    assert not folder.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
    # an input's error inside a folder writer is not relabelled as an output failure
    with pytest.raises(FileNotFoundError):
        with atomic_dir(folder):
            open(tmp_path / "missing-input.png", "rb")


def test_cli_reports_a_full_disk_from_any_writer_in_one_line(monkeypatch, capsys):
    import srgan_lib.cli.eval as evaluate  # the module of `srgan eval`

    def full(args):
        raise RuntimeError("{{function_node SaveV2}} /x/variables.data; No space left on device [Op:SaveV2]")

    monkeypatch.setattr(evaluate, "main", full)
    rc, _, err, _ = run_cli(["eval", "--dataset", "Set5"], capsys)
    assert rc == 2 and "No space left on device" in one_error_line(err)

    def bug(args):
        raise RuntimeError("an unexpected internal error")

    monkeypatch.setattr(evaluate, "main", bug)
    with pytest.raises(RuntimeError, match="unexpected internal"):  # a bug keeps its traceback
        cli.main(["eval", "--dataset", "Set5"])


def test_full_disk_is_one_line_in_every_command(tmp_path, capsys, tiny_generator, data_dir):
    """The reproduction of the issue: a small tmpfs filled up, then each command writes to it."""
    src = image_folder(tmp_path / "in", [(24, 28), (28, 24), (24, 24)])
    study_ok = tmp_path / "study_ok"
    assert cli.main(["mos", "prepare", "--dataset", str(src), "--methods", "bicubic", "--out", str(study_ok),
                     "--calibration", "0", "--raters", "2"]) == 0
    sim = mos.simulate_ratings(study_ok, raters=3, out_dir=tmp_path / "sim")
    capsys.readouterr()
    with small_disk(tmp_path / "full", "2m") as full:
        commands = {
            "eval": ["eval", "--dataset", "Set5", "--model", "bicubic", "--save-dir", full / "sr"],
            "upscale": ["upscale", src / "img0.png", "--model", tiny_generator, "-o", full / "out.png"],
            "upscale folder": ["upscale", src, "--model", tiny_generator, "-o", full / "ups"],
            "export": ["export", "--model", tiny_generator, "--format", "keras", "--out", full / "g.keras"],
            "train": ["train", "srresnet-mse", "--out", full / "run", "--data", src, "--steps", "2",
                      "--batch-size", "2", "--patch-size", "24", "--num-blocks", "1", "--filters", "8",
                      "--init", "none", "--val", "", "--quiet"],
            "mos prepare": ["mos", "prepare", "--dataset", src, "--methods", "bicubic", "--out", full / "study",
                            "--calibration", "0", "--raters", "2"],
            "mos aggregate --plots": ["mos", "aggregate", study_ok, *sim, "--plots", full / "plots"],
        }
        for name, argv in commands.items():
            fill(full)
            before = files_in(full)
            rc, _, err, _ = run_cli(argv, capsys)
            line = one_error_line(err)
            assert rc == 2 and "No space left on device" in line and str(full) in line, (name, line)
            assert files_in(full) == before, name  # no partial file, nothing lost (empty output folders may stay)
            (full / "filler").unlink()
        import shutil
        shutil.copytree(study_ok, full / "st")  # a study on the full disk gets one more rater page
        fill(full)
        before = files_in(full)
        rc, _, err, _ = run_cli(["mos", "page", full / "st", "r09"], capsys)
        assert rc == 2 and "rate_r09.html': No space left on device" in one_error_line(err)
        assert files_in(full) == before
        (full / "filler").unlink()
        if BACKEND == "tensorflow":
            fill(full)
            rc, _, err, _ = run_cli(["export", "--model", tiny_generator, "--format", "savedmodel",
                                     "--out", full / "sm"], capsys)
            assert rc == 2 and "No space left on device" in one_error_line(err)
            assert not any(p.name.startswith(".sm") for p in full.iterdir())


def test_training_stops_cleanly_when_the_disk_fills_mid_run(tmp_path, monkeypatch):
    run = tmp_path / "run"
    real = checkpoints.np.savez
    calls = []

    def savez(f, **arrays):
        calls.append(int(arrays["step"]))
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(f, **arrays)

    monkeypatch.setattr(checkpoints.np, "savez", savez)
    with pytest.raises(OutputError, match=r"ckpt-00000004\.npz': No space left on device"):
        train.train(tiny(steps=6, checkpoint_every=2), run, images=smooth_images(2), **QUIET)
    assert checkpoints.latest_checkpoint(run).name == "ckpt-00000002.npz"
    assert not any(p.name.startswith(".") and p.name.endswith(".tmp") for p in (run / "checkpoints").iterdir())
    monkeypatch.setattr(checkpoints.np, "savez", real)
    summary = train.train(tiny(steps=6, checkpoint_every=2), run, images=smooth_images(2), **QUIET)
    assert summary["start_step"] == 2 and summary["step"] == 6  # continues from the last good checkpoint


def test_folder_upscale_on_a_full_disk_stops_cleanly_and_continues_with_skip_existing(
        tmp_path, capsys, tiny_generator):
    src = image_folder(tmp_path / "in", [(40, 40), (40, 40), (40, 40)])
    with small_disk(tmp_path / "full", "1m") as full:
        out = full / "ups"
        out.mkdir()
        fill(full, leave=60_000)  # room for one 160x160 PNG (~50 kB uncompressed-ish), not three
        rc, _, err, _ = run_cli(["upscale", src, "--model", tiny_generator, "-o", out], capsys)
        line = one_error_line(err)
        assert rc == 2 and "No space left on device" in line and "--skip-existing" in line
        written = sorted(p.name for p in out.iterdir())
        assert f"upscaled {len(written)} of 3 image(s)" in line and len(written) < 3
        first = {n: sha(out / n) for n in written}
        (full / "filler").unlink()
        rc, _, err, _ = run_cli(["upscale", src, "--model", tiny_generator, "-o", out, "--skip-existing"], capsys)
        assert rc == 0 and f"skipping {len(written)} image(s) whose output exists" in err
        assert sorted(p.name for p in out.iterdir()) == ["img0.png", "img1.png", "img2.png"]
        assert {n: sha(out / n) for n in written} == first  # finished outputs were left as they were


# --------------------------------------------------------------------------------------------
# 3. export --overwrite replaces only an export

def test_export_overwrite_replaces_only_an_earlier_export(tmp_path, capsys, tiny_generator):
    fmt = "savedmodel" if BACKEND == "tensorflow" else "keras"  # SavedModel needs TensorFlow
    thesis = tmp_path / ("thesis" if fmt == "savedmodel" else "thesis.keras")
    thesis.mkdir()
    (thesis / "thesis.tex").write_text("\\chapter{Years of work}")
    rc, _, err, _ = run_cli(["export", "--model", tiny_generator, "--format", fmt, "--out", thesis,
                             "--overwrite"], capsys)
    assert rc == 2 and "refusing to replace it" in one_error_line(err)
    assert (thesis / "thesis.tex").read_text() == "\\chapter{Years of work}"
    folder_keras = tmp_path / "g.keras"
    folder_keras.mkdir()
    rc, _, err, _ = run_cli(["export", "--model", tiny_generator, "--format", "keras", "--out", folder_keras,
                             "--overwrite"], capsys)
    assert rc == 2 and "is a folder, not a keras file" in one_error_line(err)
    # an earlier export is replaced
    out = tmp_path / "g2.keras"
    assert cli.main(["export", "--model", str(tiny_generator), "--format", "keras", "--out", str(out)]) == 0
    assert cli.main(["export", "--model", str(tiny_generator), "--format", "keras", "--out", str(out),
                     "--overwrite"]) == 0
    if BACKEND == "tensorflow":
        sm = tmp_path / "sm"
        assert cli.main(["export", "--model", str(tiny_generator), "--format", "savedmodel", "--out", str(sm)]) == 0
        assert cli.main(["export", "--model", str(tiny_generator), "--format", "savedmodel", "--out", str(sm),
                         "--overwrite"]) == 0
        assert (sm / "saved_model.pb").is_file()


# --------------------------------------------------------------------------------------------
# 4. huge images

def test_memory_budget_reads_the_environment(monkeypatch):
    for text, value in {"16G": 16 * 2 ** 30, "512M": 512 * 2 ** 20, "1.5G": int(1.5 * 2 ** 30),
                        "2048": 2048, "8GiB": 8 * 2 ** 30, "3k": 3072}.items():
        monkeypatch.setenv("SRGAN_MEMORY_BUDGET", text)
        assert memory_budget() == (value, f"SRGAN_MEMORY_BUDGET={text}")
    monkeypatch.setenv("SRGAN_MEMORY_BUDGET", "lots")
    with pytest.raises(UserError, match="SRGAN_MEMORY_BUDGET='lots' is not a size"):
        memory_budget()
    monkeypatch.delenv("SRGAN_MEMORY_BUDGET")
    budget, source = memory_budget()
    assert budget is None or (budget > 0 and source == "the memory available")


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """A PNG of a few hundred kB that decodes to 20000 x 20000 pixels."""
    path = huge_png(tmp_path_factory.mktemp("bomb") / "bomb.png", 20000, 20000)
    assert path.stat().st_size < 2_000_000
    return path


def test_huge_images_are_refused_before_decoding_with_the_limit_named(tmp_path, capsys, monkeypatch, bomb,
                                                                      tiny_generator):
    monkeypatch.setenv("SRGAN_MEMORY_BUDGET", "2G")
    with pytest.raises(ImageTooLargeError) as info:
        read_image(bomb)
    msg = str(info.value)
    assert "20000x20000" in msg and "SRGAN_MEMORY_BUDGET=2G" in msg and str(bomb) in msg and "\n" not in msg
    folder = tmp_path / "set"
    image_folder(folder, [(40, 48)])
    (folder / "bomb.png").write_bytes(bomb.read_bytes())
    for argv in (["eval", "--dataset", folder, "--model", "bicubic"],
                 ["mos", "prepare", "--dataset", folder, "--methods", "bicubic", "--out", tmp_path / "st",
                  "--calibration", "0"]):
        rc, out, err, _ = run_cli(argv, capsys)
        line = one_error_line(err)
        assert rc == 2 and "bomb.png" in line and "20000x20000" in line and "SRGAN_MEMORY_BUDGET" in line, line
    assert not (tmp_path / "st").exists()
    rc, _, err, _ = run_cli(["upscale", folder / "bomb.png", "--model", tiny_generator, "-o", tmp_path / "x.png"],
                            capsys)
    assert rc == 1 and "bomb.png" in err and "upscaling it x4 needs about" in err and "Traceback" not in err
    assert not (tmp_path / "x.png").exists()
    # training skips it with a warning and trains on the rest
    from srgan_lib.data import DataWarning, load_training_images

    with pytest.warns(DataWarning, match=r"skipping '.*bomb\.png': 20000x20000 pixels"):
        images = load_training_images(str(folder), min_size=24)
    assert [img.shape for img in images] == [(40, 48, 3)]


def test_upscale_tile_0_on_a_large_photo_suggests_tiles(tmp_path, capsys, monkeypatch, tiny_generator):
    monkeypatch.setenv("SRGAN_MEMORY_BUDGET", "64G")
    photo = huge_png(tmp_path / "photo.png", 4000, 3000)
    rc, _, err, _ = run_cli(["upscale", photo, "--model", tiny_generator, "--tile", "0", "-o", tmp_path / "o.png"],
                            capsys)
    from srgan_lib.upscale import DEFAULT_TILE
    assert rc == 1 and f"in one piece (--tile 0; tiles, e.g. --tile {DEFAULT_TILE}" in err and "Traceback" not in err


# --------------------------------------------------------------------------------------------
# 6. ratings from raters who were never invited

def test_ratings_of_raters_never_invited_are_refused(tmp_path, capsys):
    study = make_study(tmp_path, raters=2)
    m = mos.load_manifest(study)
    ids = list(m["items"])
    real = write_ratings(tmp_path / "r01.json", m, "r01", {i: 3 for i in ids}, hour=1)
    # one person, five invented ids: bicubic's MOS would rise from 3.00 to 4.43
    fakes = [write_ratings(tmp_path / f"fake{k}.json", m, f"fake{k}", {i: 5 for i in ids}, token=False)
             for k in range(5)]
    # a forged file under another rater's id, with a later timestamp and a made-up token
    forged = write_ratings(tmp_path / "forged.json", m, "r01", {i: 5 for i in ids}, hour=9, token=False)
    data = json.loads(forged.read_text())
    data["rater_token"] = "0" * 64
    forged.write_text(json.dumps(data))
    for files, n in (([real, *fakes], 5), ([real, forged], 1)):
        rc, out, err, _ = run_cli(["mos", "aggregate", study, *files], capsys)
        line = one_error_line(err)
        assert rc == 2 and out == "" and f"{n} ratings file(s) carry no valid rater token" in line, line
        assert "--accept-unverified" in line
    report = mos.aggregate(study, [real])
    assert report["raters"] == ["r01"] and report["unverified_raters"] == []
    # counted only when asked, and the report says so
    rc, out, err, _ = run_cli(["mos", "aggregate", study, real, *fakes, "--accept-unverified", "--json"], capsys)
    rep = json.loads(out)
    assert rc == 0 and rep["unverified_raters"] == [f"fake{k}" for k in range(5)]
    assert "warning: counted 5 ratings file(s) without a valid rater token" in err
    # every page the study issues, and a page added later, carries a token that verifies
    assert mos.rater_token(m, "r01") != mos.rater_token(m, "r02")
    page = cli.main(["mos", "page", str(study), "late"])
    assert page == 0 and mos.rater_token(m, "late") in (study / "rater" / "rate_late.html").read_text()
    # a token does not move to another study
    other = make_study(tmp_path, name="other", raters=1)
    assert mos.rater_token(mos.load_manifest(other), "r01") != mos.rater_token(m, "r01")


def test_rater_id_with_a_trailing_newline_is_refused():
    with pytest.raises(UserError, match="invalid rater id"):
        mos.check_rater_id("r01\n")
    assert mos.check_rater_id("r01") == "r01"


# --------------------------------------------------------------------------------------------
# 7. the low-severity items

def test_offline_vgg_download_is_one_line_naming_the_variable(monkeypatch):
    from srgan_lib import vgg

    def offline(**kw):
        raise Exception("URL fetch failure on https://storage.googleapis.com/x.h5: None -- "
                        "[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.applications, "VGG19", offline)
    with pytest.raises(UserError) as info:
        vgg._load_vgg19("imagenet")
    assert "SRGAN_VGG19_WEIGHTS" in str(info.value) and "\n" not in str(info.value)


def test_sequential_generator_upscales(tmp_path):
    from srgan_lib.upscale import upscale

    keras.utils.set_random_seed(1)
    seq = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(8, 3, padding="same"),
                            keras.layers.BatchNormalization(), keras.layers.Conv2D(48, 3, padding="same"),
                            models.PixelShuffle(4)])
    img = np.random.default_rng(0).integers(0, 256, (20, 24, 3), dtype=np.uint8)
    out = upscale(img, seq, tile=0)
    want = models.hr_to_uint8(keras.ops.convert_to_numpy(seq(models.lr_from_uint8(img)[None]))[0])
    assert out.shape == (80, 96, 3) and np.abs(out.astype(int) - want).max() <= 1


def test_a_keras_file_that_is_not_a_generator_is_one_line(tmp_path, capsys):
    path = tmp_path / "classifier.keras"
    keras.Sequential([keras.Input((8,)), keras.layers.Dense(3)]).save(path)
    img = image_folder(tmp_path / "in", [(24, 24)]) / "img0.png"
    for argv in (["eval", "--dataset", img.parent, "--model", path],
                 ["upscale", img, "--model", path, "-o", tmp_path / "o.png"],
                 ["export", "--model", path, "--format", "keras", "--out", tmp_path / "e.keras"]):
        rc, _, err, _ = run_cli(argv, capsys)
        assert rc == 2 and "is not an image-to-image generator" in one_error_line(err), argv


def test_train_scale_3_and_empty_paths_are_one_line(tmp_path, capsys, tiny_generator):
    data = image_folder(tmp_path / "data", [(48, 48)])
    rc, _, err, _ = run_cli(["train", "srresnet-mse", "--out", tmp_path / "r", "--data", data, "--scale", "3",
                             "--patch-size", "24", "--steps", "1"], capsys)
    assert rc == 2 and "--scale must be 2, 4 or 8" in one_error_line(err)
    assert not (tmp_path / "r").exists()
    cwd = os.getcwd()
    os.chdir(data)  # an empty path must not mean this folder
    try:
        for argv, fragment in ((["train", "srresnet-mse", "--out", tmp_path / "r2", "--data", ""], "no dataset"),
                               (["eval", "--dataset", "", "--model", "bicubic"], "dataset"),
                               (["upscale", "", "--model", tiny_generator], "empty"),
                               (["upscale", "img0.png", "--model", tiny_generator, "-o", ""], "empty")):
            rc, _, err, _ = run_cli(argv, capsys)
            assert rc == 2 and fragment in one_error_line(err), (argv, err)
    finally:
        os.chdir(cwd)
    assert sorted(p.name for p in data.iterdir()) == ["img0.png"]


def test_a_collapsing_run_stops_like_a_diverged_one(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    cfg = tiny(val_data="Set5").resolved()
    monitor = Monitor(run, cfg, ["g_loss", "g_norm"], [1.0], 0, verbose=0, echo=lambda *a: None)
    try:
        monitor.validation(5000, "Set5", 27.5, 0.8)
        monitor.validation(10000, "Set5", 25.0, 0.7)  # a few dB: GAN fine-tuning does that
        with pytest.raises(Diverged) as info:
            monitor.validation(15000, "Set5", 27.5 - COLLAPSE_DB - 0.1, 0.1)
    finally:
        monitor.close()
    assert info.value.collapsed and "more than 10 dB below the run's best 27.50 dB" in info.value.reason
    # a continued session knows the run's best from val.csv
    monitor = Monitor(run, cfg, ["g_loss", "g_norm"], [1.0], 15000, verbose=0, echo=lambda *a: None)
    try:
        with pytest.raises(Diverged):
            monitor.validation(20000, "Set5", 7.6, 0.05)
    finally:
        monitor.close()


def test_cli_collapsing_run_exits_3_with_one_line(tmp_path, capsys, monkeypatch):
    from srgan_lib.train import validation

    scores = iter([(28.0, 0.8), (7.6, 0.05)])
    monkeypatch.setattr(validation.Validation, "scores", lambda self, g: next(scores))
    data = image_folder(tmp_path / "data", [(40, 48), (48, 40)])
    rc, _, err, _ = run_cli(["train", "srresnet-mse", "--out", tmp_path / "run", "--data", data, "--steps", "4",
                             "--val", data, "--val-every", "2", "--sample-every", "100", "--checkpoint-every", "1",
                             "--batch-size", "2", "--patch-size", "24", "--num-blocks", "1", "--filters", "8",
                             "--init", "none", "--quiet"], capsys)
    line = one_error_line(err)
    assert rc == 3 and "training collapsed at step 4" in line and "fell to 7.60 dB" in line
    assert json.loads((tmp_path / "run" / "diverged.json").read_text())["step"] == 4
    assert checkpoints.latest_checkpoint(tmp_path / "run").name == "ckpt-00000003.npz"  # not the collapsed step


def test_stale_temporaries_of_killed_upscales_and_studies_are_cleaned(tmp_path, capsys, tiny_generator):
    src = image_folder(tmp_path / "in", [(24, 24)])
    out = tmp_path / "ups"
    out.mkdir()
    (out / ".img0.png.abcd1234.tmp").write_bytes(b"half an image")  # a killed upscale's leftover
    (out / ".notes.txt").write_text("the user's")
    assert cli.main(["upscale", str(src), "--model", str(tiny_generator), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [".notes.txt", "img0.png"]
    partial = tmp_path / ".study.partial-abcd_123"
    partial.mkdir()  # a killed mos prepare's leftover
    assert cli.main(["mos", "prepare", "--dataset", str(src), "--methods", "bicubic", "--out",
                     str(tmp_path / "study"), "--calibration", "0", "--raters", "1"]) == 0
    assert not partial.exists() and (tmp_path / "study" / "manifest.json").is_file()
    assert remove_stale_temporaries(tmp_path / "study") == []


def test_overwrite_and_skip_existing_contradict(tmp_path, capsys, tiny_generator):
    with pytest.raises(SystemExit):
        cli.main(["upscale", str(tmp_path), "--model", str(tiny_generator), "--overwrite", "--skip-existing"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_a_full_disk_at_the_tensorboard_flush_is_an_output_error(tmp_path, monkeypatch):
    from srgan_lib.train import monitor as monitor_mod

    tb = monitor_mod._TensorBoard(tmp_path / "tensorboard")
    if tb._writer is None:
        pytest.skip("TensorBoard is not installed")

    class Full:
        def flush(self):
            raise RuntimeError("ResourceExhaustedError: events.out.tfevents: No space left on device")

        def close(self):
            pass

    monkeypatch.setattr(tb, "_writer", Full())
    with pytest.raises(OutputError, match=r"tensorboard': No space left on device"):
        tb.flush()
    tb.close()
