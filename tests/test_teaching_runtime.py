"""srgan_lib.teaching.runtime: the chapters' GPU, data and run-folder cells."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from srgan_lib.errors import UserError
from srgan_lib.teaching import runtime


def test_describe_names_backend_versions_and_where_the_library_comes_from():
    import keras

    import srgan_lib

    info = runtime.describe()
    assert info["backend"] == keras.backend.backend()
    assert info["keras"] == keras.__version__
    assert info["srgan_lib"] == srgan_lib.__version__
    assert Path(info["srgan_lib_path"]) == Path(srgan_lib.__file__).resolve().parent
    assert info["colab"] is False
    assert info[info["backend"]]  # the backend's own version is known
    text = runtime.format_description(info)
    assert f"Keras {info['keras']} on {info['backend']}" in text
    assert info["srgan_lib_path"] in text


def test_the_site_shows_versions_and_mode_but_no_paths_or_devices(monkeypatch):
    info = {"backend": "tensorflow", "keras": "3.15.1", "tensorflow": "2.21.0", "jax": None,
            "accelerators": [], "colab": False, "srgan_lib": "0.1.0", "srgan_lib_path": "/build/machine/x"}
    monkeypatch.setenv("SRGAN_BOOK_BUILD", "1")
    text = runtime.format_description(info, mode="smoke")
    assert text.splitlines() == [
        "This page was executed with Keras 3.15.1 on tensorflow, TensorFlow 2.21.0, srgan_lib 0.1.0.",
        f"mode: smoke ({runtime.MODES['smoke']})"]
    monkeypatch.delenv("SRGAN_BOOK_BUILD")
    live = runtime.format_description(info, mode="smoke")
    assert "/build/machine/x" in live and "accelerators: none (CPU only)" in live and "mode: smoke" in live


def test_resolve_mode(monkeypatch):
    from srgan_lib import backend as seam

    monkeypatch.delenv("SRGAN_MODE", raising=False)
    assert runtime.resolve_mode("auto") == "smoke"  # not on Colab
    assert runtime.resolve_mode("full") == "full"
    monkeypatch.setattr(runtime, "on_colab", lambda: True)
    monkeypatch.setattr(seam, "accelerators", lambda: ["gpu:0 (Tesla T4)"])
    assert runtime.resolve_mode("auto") == "demo"
    monkeypatch.setattr(seam, "accelerators", lambda: [])
    assert runtime.resolve_mode("auto") == "smoke"
    monkeypatch.setenv("SRGAN_MODE", "smoke")  # the book build and CI
    monkeypatch.setattr(seam, "accelerators", lambda: ["gpu:0"])
    assert runtime.resolve_mode("auto") == "smoke" and runtime.resolve_mode("full") == "smoke"
    monkeypatch.setenv("SRGAN_MODE", "fast")
    with pytest.raises(UserError, match="MODE must be one of"):
        runtime.resolve_mode("auto")


def test_format_description_warns_without_accelerator():
    info = {"backend": "jax", "keras": "3", "tensorflow": None, "jax": "0.1", "accelerators": [],
            "colab": True, "srgan_lib": "0", "srgan_lib_path": "/x"}
    text = runtime.format_description(info)
    assert "none (CPU only)" in text and "Runtime > Change runtime type > GPU" in text
    info["accelerators"] = ["gpu:0 (NVIDIA T4)"]
    text = runtime.format_description(info)
    assert "gpu:0 (NVIDIA T4)" in text and "Change runtime type" not in text


def test_check_mode():
    assert runtime.check_mode("demo") == "demo"
    with pytest.raises(UserError, match="MODE must be one of smoke, demo, full"):
        runtime.check_mode("fast")


def test_run_dir_smoke_is_fresh_and_demo_is_persistent(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    a, b = runtime.run_dir("srresnet", "smoke"), runtime.run_dir("srresnet", "smoke")
    assert a != b and a.parent.is_dir() and not a.exists()
    no_drive = tmp_path / "no-drive"
    assert runtime.run_dir("srresnet", "demo", mount=no_drive) == tmp_path / "home" / "srgan-book" / "runs" / "srresnet-demo"
    drive = tmp_path / "MyDrive"
    drive.mkdir()
    assert runtime.run_dir("srgan", "full", mount=drive) == drive / "srgan-book" / "runs" / "srgan-full"
    with pytest.raises(UserError):
        runtime.run_dir("x", "quick")


def _write_set(folder: Path, n: int = 2) -> None:
    from srgan_lib.images import write_image

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        write_image(folder / f"im{i}.png", rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))


def test_prepare_data_uses_the_cache_and_reports_what_is_missing(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    _write_set(cache / "Set5" / "HR")
    monkeypatch.setenv("SRGAN_DATA_DIR", str(cache))
    got = runtime.prepare_data(["Set5", "Set14"], download=False, mount=tmp_path / "no-drive")
    assert got == {"Set5": cache / "Set5" / "HR", "Set14": None}


def test_prepare_data_caches_on_drive_when_mounted(tmp_path, monkeypatch):
    monkeypatch.delenv("SRGAN_DATA_DIR", raising=False)
    drive = tmp_path / "MyDrive"
    _write_set(drive / "srgan-book" / "datasets" / "Set5" / "HR")
    got = runtime.prepare_data(["Set5"], download=False, mount=drive)
    assert got == {"Set5": drive / "srgan-book" / "datasets" / "Set5" / "HR"}
    assert os.environ["SRGAN_DATA_DIR"] == str(drive / "srgan-book" / "datasets")
