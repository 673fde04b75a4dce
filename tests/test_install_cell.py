"""The Colab install cell every chapter starts with (issue #20): it installs nothing when srgan_lib is
importable, and a failed install is one line saying what failed and what to change, not a traceback."""
from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from conftest import CHAPTERS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = CHAPTERS  # _toc.yml's numbered chapters


def _install_cell(nb: Path) -> str:
    return "".join(json.loads(nb.read_text())["cells"][1]["source"])


def test_every_chapter_has_the_same_install_cell():
    cells = {nb.name: _install_cell(nb) for nb in NOTEBOOKS}
    assert len(set(cells.values())) == 1, sorted(cells)
    assert next(iter(cells.values())).startswith("# @title Install srgan_lib")


def _run(cell: str, monkeypatch, *, importable: bool, returncode: int = 0, stderr: str = "",
         repo: str | None = None) -> tuple[list, str]:
    import importlib.util

    calls = []

    def fake_run(cmd, **kwargs):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, returncode, stdout="", stderr=stderr)

    real_find_spec = importlib.util.find_spec
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: (real_find_spec(name, *a) if importable or name != "srgan_lib" else None))
    monkeypatch.setattr(subprocess, "run", fake_run)
    if repo is not None:
        cell = cell.replace('SRGAN_REPO = "https://github.com/srgan-book/srgan-book"', f"SRGAN_REPO = {repo!r}")
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(cell, "install-cell", "exec"), {})
    return calls, out.getvalue()


def test_install_cell_skips_when_srgan_lib_is_importable(monkeypatch):
    calls, printed = _run(_install_cell(NOTEBOOKS[0]), monkeypatch, importable=True)
    assert calls == [] and printed == ""


def test_install_cell_installs_from_git_or_a_wheel(monkeypatch):
    cell = _install_cell(NOTEBOOKS[0])
    calls, printed = _run(cell, monkeypatch, importable=False)
    assert calls[0][-1] == "git+https://github.com/srgan-book/srgan-book" and printed == ""
    calls, _ = _run(cell, monkeypatch, importable=False, repo="/content/srgan_lib-0.1.0-py3-none-any.whl")
    assert calls[0][-1] == "/content/srgan_lib-0.1.0-py3-none-any.whl"


@pytest.mark.parametrize("stderr", ["ERROR: Could not find a version that satisfies the requirement\n"
                                    "fatal: repository 'https://github.com/x/y/' not found", ""])
def test_a_failed_install_is_one_line_that_says_what_to_change(monkeypatch, stderr):
    calls, printed = _run(_install_cell(NOTEBOOKS[0]), monkeypatch, importable=False, returncode=1,
                          stderr=stderr)
    assert len(calls) == 1 and printed.count("\n") == 1, printed
    assert printed.startswith("srgan_lib could not be installed from git+https://github.com/srgan-book/srgan-book")
    assert "SRGAN_REPO" in printed and "fork" in printed and "wheel" in printed
    if stderr:
        assert "repository 'https://github.com/x/y/' not found" in printed
