"""The chapters as a Colab reader runs them (issue #10): a Colab-equivalent kernel.

Every chapter is executed top to bottom, in smoke mode, by a kernel whose ``srgan_lib`` comes from the
wheel built from this checkout (installed outside it), whose working directory is outside the checkout,
and in which ``myst_nb`` cannot be imported (tests/colab/sitecustomize.py).  The data comes from
``SRGAN_DATA_DIR`` exactly as if each chapter's data cell had downloaded it (the data cell finds the sets
in that cache and downloads nothing).  No output may show raw MyST markup, and each chapter's runtime
cell must report the installed wheel as the library's location.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
# A MyST role, or a directive fence opened on one line (``[ \t]``, not ``\s``: a closing fence followed by a
# printed dict on the next line is not markup).
RAW_MYST = re.compile(r"\{(glue|cite|numref|doc|ref)[:}]|^[ \t]*:::[ \t]*\{|^[ \t]*```[ \t]*\{", re.M)


@pytest.mark.parametrize("text, raw", [
    ("```{code-cell} ipython3", True), (":::{note}", True), ("  ```{figure} a.png", True),
    ("see {cite}`ledig2017`", True), ("{numref}`fig-x`", True), ("{glue:figure} x", True),
    ("    return logs\n```\n{'hr': (93, 48, 48, 3)}", False), ("```python\nx = {}", False),
    ("{'ref': 1}", False),
])
def test_raw_myst_pattern(text, raw):
    assert (RAW_MYST.search(text) is not None) == raw


@pytest.mark.needs_data
def test_chapters_run_like_on_colab(installed_wheel, tmp_path, data_dir):
    pytest.importorskip("nbclient")
    work = tmp_path / "colab"
    work.mkdir()
    copies = [shutil.copy(nb, work / nb.name) for nb in NOTEBOOKS]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SRGAN_BOOK")}
    env.update(PYTHONPATH=os.pathsep.join([str(ROOT / "tests" / "colab"), str(installed_wheel)]),
               SRGAN_MODE="smoke", MPLBACKEND="module://matplotlib_inline.backend_inline",
               HOME=str(tmp_path / "home"))
    out = tmp_path / "report.json"
    r = subprocess.run([sys.executable, str(ROOT / "tests" / "colab" / "run_notebooks.py"), str(out),
                        *map(str, copies)], cwd=work, env=env, capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    report = json.loads(out.read_text())
    failures = {name: rep["error"] for name, rep in report.items() if rep["error"]}
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
    for name, rep in report.items():
        text = "\n".join(rep["outputs"])
        raw = RAW_MYST.search(text)
        assert raw is None, f"{name} prints raw MyST markup: {text[max(0, raw.start() - 80):raw.end() + 80]!r}"
        assert f"from {installed_wheel.resolve()}" in text or f"from {installed_wheel}" in text, \
            f"{name}: the runtime cell does not report the installed wheel ({installed_wheel}) as srgan_lib's home"
