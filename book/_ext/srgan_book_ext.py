"""Sphinx hooks of the SRGAN book (loaded through ``sphinx.local_extensions`` in _config.yml).

1. ``SRGAN_BOOK_BUILD=1`` is exported before the notebooks are executed, so a chapter knows it is run by
   the book build (no live widget front end): it then shows the precomputed, kernel-free equivalent of
   each widget (a figure grid) instead of an ipywidgets control.
2. The Colab badge and the Colab install cell of every notebook must point at ``repository.url`` of
   _config.yml (the one place the URL is set).  A mismatch is a Sphinx warning, i.e. an error under ``-W``.
   The check itself lives in scripts/check_notebooks.py (also run by tests/test_notebooks.py).
3. Layout: ``static/srgan-book.css`` (code that wraps instead of scrolling, tables that fit the column) and
   ``static/srgan-book.js`` (a table wider than the column is set in a smaller font) are added to every page.
4. Offline MathJax: when a local MathJax 3 ``es5`` folder is found ($SRGAN_MATHJAX_DIR, or the npm cache
   that scripts/build_book.sh fills, ~/.cache/srgan-lib/mathjax/node_modules/mathjax/es5), the site uses
   a copy of it (``_static/mathjax/``) instead of the CDN, so the math renders without a network.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]
MATHJAX_CANDIDATES = ("SRGAN_MATHJAX_DIR", "~/.cache/srgan-lib/mathjax/node_modules/mathjax/es5")
MATHJAX_ENTRY = "tex-mml-chtml.js"


def find_mathjax() -> Path | None:
    env = os.environ.get("SRGAN_MATHJAX_DIR")
    for cand in ([env] if env else []) + [MATHJAX_CANDIDATES[1]]:
        p = Path(cand).expanduser()
        if (p / MATHJAX_ENTRY).is_file():
            return p
    return None


def _load_checker():
    spec = importlib.util.spec_from_file_location("check_notebooks", ROOT / "scripts" / "check_notebooks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _config_inited(app, config):
    os.environ["SRGAN_BOOK_BUILD"] = "1"
    config.html_static_path = list(config.html_static_path) + [str(Path(__file__).parent / "static")]
    mj = find_mathjax()
    if mj is not None and os.environ.get("SRGAN_BOOK_CDN_MATHJAX") != "1":
        config.mathjax_path = f"mathjax/{MATHJAX_ENTRY}"  # relative to _static/
        app.srgan_mathjax_dir = mj
    else:
        app.srgan_mathjax_dir = None


def _dedupe_inline_scripts(outdir: Path) -> None:
    """Remove repeated identical inline ``<script>`` lines from the written pages.

    sphinx-thebe 0.3.1 under Jupyter Book 1.0 adds ``<script>const THEBE_JS_URL = ...</script>`` twice,
    which is a SyntaxError in the browser console ("Identifier 'THEBE_JS_URL' has already been declared").
    """
    for page in outdir.rglob("*.html"):
        lines = page.read_text(encoding="utf-8").split("\n")
        seen, out, changed = set(), [], False
        for line in lines:
            key = line.strip()
            if key.startswith("<script>") and key.endswith("</script>"):
                if key in seen:
                    changed = True
                    continue
                seen.add(key)
            out.append(line)
        if changed:
            page.write_text("\n".join(out), encoding="utf-8")


def _builder_inited(app):
    url = (app.config.html_theme_options or {}).get("repository_url", "")
    branch = (app.config.html_theme_options or {}).get("repository_branch", "main")
    try:
        checker = _load_checker()
        problems = checker.check_links(ROOT, url, branch)
    except Exception as exc:  # pragma: no cover - a broken checker must not hide itself
        problems = [f"scripts/check_notebooks.py failed: {exc}"]
        checker = None
    for p in problems:
        logger.warning(f"[srgan-book] {p}", type="srgan", subtype="links")
    if checker is not None and url.rstrip("/") == checker.PLACEHOLDER_URL:
        # Not a Sphinx warning (the build runs with -W): a banner on stderr that nobody can miss.
        print(f"\n*** srgan-book: repository.url in _config.yml is still the placeholder {url}.\n"
              "*** The Colab badges and install cells point at it. Set it to the book's real repository,\n"
              "*** then run `python scripts/check_notebooks.py --fix`.\n", file=sys.stderr)


def _build_finished(app, exception):
    if exception is None and app.builder.format == "html":
        _dedupe_inline_scripts(Path(app.outdir))
    mj = getattr(app, "srgan_mathjax_dir", None)
    if exception is None and mj is not None and app.builder.format == "html":
        dest = Path(app.outdir) / "_static" / "mathjax"
        if not (dest / MATHJAX_ENTRY).is_file():
            shutil.copytree(mj, dest, dirs_exist_ok=True)


def setup(app):
    app.connect("config-inited", _config_inited)
    app.connect("builder-inited", _builder_inited)
    # pydata-sphinx-theme logs "Got invalid theme mode" on a first visit (empty localStorage): give it one.
    app.add_js_file(None, body='document.documentElement.dataset.mode = document.documentElement.dataset.mode || "auto";',
                    priority=1)
    app.add_css_file("srgan-book.css")
    app.add_js_file("srgan-book.js")
    app.connect("build-finished", _build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
