"""The book's notebooks: committed without outputs, links agree with _config.yml, and they run.

* ``test_notebooks_committed_clean`` (fast, always): scripts/check_notebooks.py finds no output, no
  execution count, no Colab badge / install URL that disagrees with ``repository.url`` of _config.yml,
  and every chapter has its parameters cell, Colab install cell, summary and exercises.
* ``test_badge_check_catches_a_wrong_url`` (fast): the link check fails when the URL in _config.yml changes.
* ``test_notebooks_nbval`` (a few minutes; part of ``make test`` and CI):
  runs every chapter with nbval (``--nbval-lax``: only cells marked ``# NBVAL_CHECK_OUTPUT`` are compared)
  in smoke mode.  The chapters' hidden cells (tag ``remove-cell``) assert the key numbers: parameter
  counts, finite losses, and the Set5 bicubic baseline (28.43 dB) when the shared data is present.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BOOK_NOTEBOOKS, CHAPTERS, toc_pages

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = BOOK_NOTEBOOKS


def _checker():
    spec = importlib.util.spec_from_file_location("check_notebooks", ROOT / "scripts" / "check_notebooks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_toc_lists_every_page_and_the_seven_chapters():
    """_toc.yml is the one list of pages (the tests read it): every source under book/ is in it, and
    its numbered part is chapters 1 to 7 in order."""
    listed = {p.relative_to(ROOT) for p in toc_pages()}
    sources = {p.relative_to(ROOT) for p in (ROOT / "book").glob("*") if p.suffix in (".ipynb", ".md")}
    assert sources == listed, f"pages not in _toc.yml: {sorted(sources - listed)}"
    assert [p.name[:3] for p in CHAPTERS] == [f"0{i}_" for i in range(1, 8)], [p.name for p in CHAPTERS]
    assert all(p.suffix == ".ipynb" for p in CHAPTERS)


def test_notebooks_committed_clean():
    chk = _checker()
    url, branch = chk.read_config(ROOT)
    problems = chk.check_outputs(ROOT) + chk.check_links(ROOT, url, branch) + chk.check_structure(ROOT)
    assert not problems, "\n".join(problems)


def test_badge_check_catches_a_wrong_url(tmp_path):
    chk = _checker()
    (tmp_path / "book").mkdir()
    shutil.copy(NOTEBOOKS[0], tmp_path / "book" / NOTEBOOKS[0].name)
    url, branch = chk.read_config(ROOT)
    assert chk.check_links(tmp_path, url, branch) == []
    problems = chk.check_links(tmp_path, "https://github.com/someone-else/fork", branch)
    assert len(problems) == 2 and "Colab badge" in problems[0] and "install cell" in problems[1]
    # --fix rewrites both from _config.yml
    cfg = (ROOT / "_config.yml").read_text().replace(url, "https://github.com/someone-else/fork")
    (tmp_path / "_config.yml").write_text(cfg)
    assert chk.main(["--root", str(tmp_path), "--fix"]) == 0
    nb = json.loads((tmp_path / "book" / NOTEBOOKS[0].name).read_text())
    assert "someone-else/fork/blob/" in "".join(nb["cells"][0]["source"])


def test_notebooks_nbval():
    pytest.importorskip("nbval")
    env = dict(os.environ, SRGAN_MODE=os.environ.get("SRGAN_MODE", "smoke"),
               MPLBACKEND="module://matplotlib_inline.backend_inline")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
           "--nbval-current-env", *map(str, NOTEBOOKS)]
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]
