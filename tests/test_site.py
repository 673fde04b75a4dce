"""The built book (_build/html, `make book`) in a real headless Chromium.

Opens chapter pages through the DevTools protocol and checks that the math was typeset by MathJax,
every local image (the figures) loaded, and the page logged no console errors or exceptions; saves a
full-page screenshot to _build/screenshots/ (the CI artefact).  Skips when the site is not built or
Chromium is absent (Debian: `apt-get install -y chromium`).

Resources from other hosts (the Colab badge image, a CDN) cannot load on an offline machine; their
network failures are reported but are not errors here.  The site uses a local MathJax when the build
found one (book/_ext/srgan_book_ext.py); with the CDN MathJax offline, the MathJax check skips.
"""
from __future__ import annotations

import base64
from pathlib import Path

import pytest

from conftest import toc_pages
from headless_chromium import CDP, ChromiumError, find_chromium, launch

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
PAGES = [str(p.relative_to(ROOT).with_suffix(".html")) for p in toc_pages()]  # every page of _toc.yml
# What a rendered page may not show (issue #20): elements wider than the text column (cut off, or only seen by
# scrolling sideways), the same image twice, a returned string echoed as its repr, build-machine paths.
LAYOUT_JS = r"""(() => {
  const col = (document.querySelector('article') || document.querySelector('main')).getBoundingClientRect();
  const out = [];
  if (document.documentElement.scrollWidth > document.documentElement.clientWidth + 1)
    out.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + ' px');
  const sel = 'article pre, article table, article mjx-container[display="true"], article img, article figure, ' +
              'article .cell_output, article div.highlight';
  for (const el of document.querySelectorAll(sel)) {
    const r = el.getBoundingClientRect();
    if (r.width === 0) continue;
    const what = el.tagName.toLowerCase() + ' "' + (el.textContent || el.getAttribute('src') || '').trim().slice(0, 70) + '"';
    if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0)
      out.push(what + ': content ' + el.scrollWidth + ' px in a box of ' + el.clientWidth + ' px');
    else if (r.right > col.right + 2 || r.left < col.left - 2)
      out.push(what + ': ' + Math.round(r.left) + '..' + Math.round(r.right) + ' px, outside the column ' +
               Math.round(col.left) + '..' + Math.round(col.right));
  }
  return out;
})()"""
CONTENT_JS = r"""(() => {
  const imgs = Array.from(document.querySelectorAll('article img')).map(i => i.getAttribute('src'))
    .filter(s => s && !s.startsWith('http'));
  const reprs = Array.from(document.querySelectorAll('article .cell_output pre, article .output pre'))
    .map(p => p.textContent.trim()).filter(t => /^['"]/.test(t)).map(t => t.slice(0, 80));
  return {imgs: imgs, reprs: reprs, text: document.body.innerText};
})()"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    exe = find_chromium()
    if exe is None:
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    if not (SITE / "index.html").is_file():
        pytest.skip("the site is not built (make book)")
    pytest.importorskip("websocket", reason="websocket-client is needed to drive Chromium")
    try:
        with launch(exe, tmp_path_factory.mktemp("chromium-profile")) as (_, cdp):
            for domain in ("Page", "Runtime", "Log"):
                cdp.call(f"{domain}.enable")
            cdp.call("Emulation.setDeviceMetricsOverride", width=1280, height=1600, deviceScaleFactor=1,
                     mobile=False)
            yield cdp
    except ChromiumError as e:
        pytest.skip(f"Chromium did not start: {e}")


def _errors(events: list[dict]) -> tuple[list[str], list[str]]:
    """(errors, offline network failures of other hosts) from the collected DevTools events."""
    errors, offline = [], []
    for ev in events:
        m, p = ev.get("method"), ev.get("params", {})
        if m == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            errors.append(f"exception: {d.get('exception', {}).get('description') or d.get('text')}")
        elif m == "Runtime.consoleAPICalled" and p.get("type") == "error":
            errors.append("console.error: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            e = p["entry"]
            url = e.get("url", "")
            if e.get("source") == "network" and url and not url.startswith("file:"):
                offline.append(f"{url}: {e.get('text')}")
            else:
                errors.append(f"{e.get('source')}: {e.get('text')} {url}")
    return errors, offline


def _open(cdp: CDP, rel: str) -> None:
    cdp.events.clear()
    cdp.call("Page.navigate", url=(SITE / rel).as_uri())
    cdp.wait_event("Page.loadEventFired", timeout=60)


@pytest.mark.parametrize("rel", PAGES)
def test_page_renders(browser, rel):
    if not (SITE / rel).is_file():
        pytest.skip(f"{rel} is not in the built site")
    cdp = browser
    _open(cdp, rel)
    local_mathjax = cdp.js("Array.from(document.scripts).some(s => s.src.startsWith('file:') && s.src.includes('mathjax'))")
    has_math = cdp.js("document.querySelectorAll('.math').length") > 0
    if has_math and local_mathjax:
        ok = cdp.js("(window.MathJax && MathJax.startup && MathJax.startup.promise) ? "
                    "MathJax.startup.promise.then(() => true) : false")
        assert ok, "MathJax did not start"
        n_typeset = cdp.js("document.querySelectorAll('mjx-container').length")
        n_errors = cdp.js("document.querySelectorAll('mjx-merror, [data-mjx-error]').length")
        assert n_typeset > 0, "the page has math but MathJax typeset nothing"
        assert n_errors == 0, f"{n_errors} MathJax error(s) on {rel}"
    # Images: every local image (the notebook figures) has loaded.
    imgs = cdp.js("Array.from(document.images).map(i => [i.currentSrc || i.src, i.complete, i.naturalWidth])")
    local = [i for i in imgs if i[0].startswith(("file:", "data:"))]
    broken = [i[0] for i in local if not (i[1] and i[2] > 0)]
    assert not broken, f"images that did not load on {rel}: {broken}"
    if rel.startswith("book/0"):
        n_fig = cdp.js("document.querySelectorAll('figure img, .cell_output img').length")
        assert n_fig > 0, f"no figures on {rel}"
    # Nothing cut off or scrolling sideways at 1,280 px; no repeated figure, echoed repr or build path.
    overflow = cdp.js(LAYOUT_JS)
    assert not overflow, f"{rel} at 1,280 px:\n" + "\n".join(overflow)
    content = cdp.js(CONTENT_JS)
    repeated = sorted({s for s in content["imgs"] if content["imgs"].count(s) > 1})
    assert not repeated, f"{rel} shows the same image twice: {repeated}"
    assert not content["reprs"], f"{rel} echoes returned strings as reprs: {content['reprs']}"
    for path in {str(ROOT), str(Path.home()), "site-packages", "/tmp/"}:
        assert path not in content["text"], f"{rel} shows a path of the build machine: {path}"
    # Screenshot (full page) for the CI artefacts.
    height = min(int(cdp.js("document.documentElement.scrollHeight")), 12000)
    cdp.call("Emulation.setDeviceMetricsOverride", width=1280, height=height, deviceScaleFactor=1, mobile=False)
    shot = cdp.call("Page.captureScreenshot", format="png")
    cdp.call("Emulation.setDeviceMetricsOverride", width=1280, height=1600, deviceScaleFactor=1, mobile=False)
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / (Path(rel).stem + ".png")).write_bytes(base64.b64decode(shot["data"]))
    errors, offline = _errors(cdp.events)
    assert not errors, f"console errors on {rel}:\n" + "\n".join(errors)
    if offline:
        print(f"{rel}: {len(offline)} resource(s) of other hosts did not load (offline?): {offline[:3]}")


def test_mathjax_is_local_when_built_offline(browser):
    """A site built with a local MathJax (book/_ext) actually ships it."""
    html = (SITE / "book" / "01_degradation.html").read_text(encoding="utf-8")
    if "_static/mathjax/" not in html:
        pytest.skip("the site was built with the CDN MathJax (no local MathJax found at build time)")
    assert (SITE / "_static" / "mathjax" / "tex-mml-chtml.js").is_file()
