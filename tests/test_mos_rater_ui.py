"""The two rating interfaces: the notebook rater (ipywidgets) and the HTML page in a real headless
Chromium (skipped when Chromium is not installed: ``apt-get install -y chromium``)."""
from __future__ import annotations

import json
import shutil
import time

import pytest

from headless_chromium import ChromiumError, find_chromium, launch
from srgan_lib import mos
from srgan_lib.errors import UserError

from test_mos import make_study, run_cli


def test_notebook_rater_saves_every_rating_and_resumes(tmp_path):
    pytest.importorskip("ipywidgets")
    out = make_study(tmp_path, raters=0)
    m = mos.load_manifest(out)
    r = mos.Rater(out, "alice")
    path = out / "ratings" / "alice.json"
    cal, items = mos.rater_sequence(mos.load_public(out), "alice")
    assert r.in_calibration and r.current == cal[0][0] and "score <b>1 (bad)" in r.caption.value
    assert all(b.disabled for b in r.buttons)
    r.buttons[2].click()  # a score during calibration is not recorded
    assert not path.exists() and r.ratings == []
    for k in range(len(cal)):
        assert r.current == cal[k][0]
        assert r.image.value == (out / "rater" / "items" / f"{cal[k][0]}.png").read_bytes()
        r.next_button.click()
    assert not r.in_calibration and json.loads(path.read_text())["calibrated"] is True
    assert r.current == items[0] and not any(b.disabled for b in r.buttons)
    r.buttons[3].click()  # score 4
    saved = json.loads(path.read_text())
    assert saved["ratings"][0]["item"] == items[0] and saved["ratings"][0]["score"] == 4
    r.key_box.value = "2"  # keyboard: typing a digit in the key box
    assert r.key_box.value == ""
    r.key_box.value = "x"
    r.buttons[4].click()
    r.undo_button.click()
    r.buttons[0].click()
    saved = json.loads(path.read_text())
    assert [(x["item"], x["score"]) for x in saved["ratings"]] == [(items[0], 4), (items[1], 2), (items[2], 1)]
    assert r.progress.value == 3 and r.count.value == f"3 / {len(items)} rated"
    with pytest.raises(UserError):
        r.rate(6)
    # "kernel restart": a new Rater resumes after the last saved rating, without calibration again
    r2 = mos.Rater(out, "alice")
    assert not r2.in_calibration and r2.current == items[3] and r2.progress.value == 3
    for k in range(3, len(items)):
        r2.rate(1 + k % 5)
    assert r2.done and r2.current is None and "All images are rated" in r2.caption.value
    r2.rate(3)  # ignored when done
    saved = json.loads(path.read_text())
    assert len(saved["ratings"]) == len(items) == len(m["items"])
    rep = mos.aggregate(out, [path])
    assert rep["raters"] == ["alice"] and rep["datasets"]["SynA"]["methods"][0]["n_ratings"] == 5
    assert rep["partial_raters"] == []
    # a ratings file of another study is never overwritten, nor a malformed one
    other = make_study(tmp_path, name="other", raters=0)
    shutil.copy(path, other / "ratings" / "alice.json")
    with pytest.raises(UserError, match="another study"):
        mos.Rater(other, "alice")
    (other / "ratings" / "bob.json").write_text('{"ratings": [')
    with pytest.raises(UserError, match="bob.json: not valid JSON"):
        mos.Rater(other, "bob")
    assert (other / "ratings" / "bob.json").read_text() == '{"ratings": ['
    with pytest.raises(UserError, match="invalid rater id"):
        mos.Rater(out, "../x")


# --------------------------------------------------------------------------- real browser
CHROMIUM = find_chromium()


@pytest.fixture
def chromium(tmp_path):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium)")
    pytest.importorskip("websocket", reason="websocket-client is needed to drive chromium over CDP")
    try:
        with launch(CHROMIUM, tmp_path / "profile") as clients:
            yield clients
    except ChromiumError as e:
        pytest.fail(str(e))


def test_html_page_in_headless_chromium(tmp_path, chromium, capsys):
    browser, page = chromium
    out = make_study(tmp_path, raters=2, calibration=2, embed="no")  # images referenced relatively from file://
    cal, items = mos.rater_sequence(mos.load_public(out), "r02")
    assert [a for _, a in cal] == [1, 5, 1, 5]
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser("Browser.setDownloadBehavior", behavior="allow", downloadPath=str(downloads))
    page("Page.enable")
    page("Page.navigate", url=(out / "rater" / "rate_r02.html").resolve().as_uri())
    page.wait("document.body && document.body.dataset.phase === 'calibration'")
    for k in range(len(cal)):
        assert page.js("document.getElementById('img').dataset.id") == cal[k][0]
        assert f"score {cal[k][1]} (" in page.js("document.getElementById('prompt').textContent")
        page.key("1")  # digits do nothing during calibration
        page.key("Enter")
    page.wait("document.body.dataset.phase === 'rating'")
    # the image really loads from the relative path
    page.wait("document.getElementById('img').complete && document.getElementById('img').naturalWidth === 24")
    scores = [4, 2, 5]
    for s in scores:
        page.key(str(s))
    page.click('#scores button[data-score="1"]')  # mouse
    assert page.js("document.getElementById('progress').textContent") == f"4 / {len(items)} rated"
    # closing / reloading the page loses nothing
    page("Page.reload")
    page.wait("document.body && document.body.dataset.phase === 'rating'")
    assert page.js("document.getElementById('progress').textContent") == f"4 / {len(items)} rated"
    assert page.js("document.getElementById('img').dataset.id") == items[4]
    page.key("3")
    page.click("#download")
    end = time.time() + 30
    target = downloads / f"mos_{mos.load_manifest(out)['study_id']}_r02.json"
    while not target.is_file() and time.time() < end:
        time.sleep(0.1)
    assert target.is_file(), list(downloads.iterdir())
    data = json.loads(target.read_text())
    assert data["study_id"] == mos.load_manifest(out)["study_id"] and data["rater_id"] == "r02"
    assert data["version"] == 1 and data["format"] == "sr-mos-ratings"
    assert [(r["item"], r["score"]) for r in data["ratings"]] == list(zip(items[:5], scores + [1, 3]))
    assert all(r["time"].endswith("Z") for r in data["ratings"])
    rc, text, err = run_cli(["mos", "aggregate", str(out), str(target), "--json"], capsys)
    assert rc == 0, err
    rep = json.loads(text)
    assert rep["raters"] == ["r02"] and rep["partial_raters"][0]["rated"] == 5
    assert sum(sum(r["distribution"]) for d in rep["datasets"].values() for r in d["methods"]) == 5
