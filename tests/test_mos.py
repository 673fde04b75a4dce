"""MOS studies (paper Sec. 3.4): prepare, rate (notebook + real headless Chromium), aggregate."""
from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from srgan_lib import cli, mos

METHODS = ["nearest", "bicubic", "srresnet", "srgan", "hr"]
#: true preferences of the simulated raters (latent score before rounding)
TRUE_LATENT = {"hr": 4.5, "srgan": 3.6, "srresnet": 2.9, "bicubic": 2.0, "nearest": 1.3}
RATER_SD, NOISE_SD = 0.3, 0.6  # = simulate_ratings' defaults rater_sd, noise


def simulate(study_dir, out_dir, n_raters, seed, adversarial=0):
    """The library's simulated raters (mos.simulate_ratings) with this file's methods and names."""
    return mos.simulate_ratings(study_dir, raters=n_raters, seed=seed, noise=NOISE_SD, rater_sd=RATER_SD,
                                true_means=TRUE_LATENT, adversarial=adversarial, out_dir=out_dir, prefix="s")


def synthetic_sources(datasets=("SynA", "SynB"), n_images=5, size=24, seed=0):
    rng = np.random.default_rng(seed)
    for ds in datasets:
        for k in range(n_images):
            base = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            for m in METHODS:
                yield ds, f"img{k}", m, base


def calibration_sources(n=4, size=24):
    rng = np.random.default_rng(1)
    for k in range(n):
        hr = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        yield f"cal{k}", hr // 2, hr


def make_study(tmp_path, name="study", raters=3, calibration=4, embed="auto", **kw):
    out = tmp_path / name
    kw.setdefault("sources", synthetic_sources())
    kw.setdefault("calibration_sources", calibration_sources())
    mos.prepare_study(["SynA", "SynB"], ["bicubic", "srresnet", "srgan"], out, raters=raters, seed=7,
                      calibration=calibration, calibration_dataset="Cal", embed=embed, progress=lambda m: None,
                      **kw)
    return out


def write_ratings(path, manifest, rater, scores: dict, study_id=None):
    data = {"format": mos.RATINGS_FORMAT, "version": 1, "study_id": study_id or manifest["study_id"],
            "rater_id": rater, "ratings": [{"item": i, "score": int(s), "time": f"2025-01-01T00:00:{k % 60:02d}.000Z"}
                                           for k, (i, s) in enumerate(scores.items())]}
    Path(path).write_text(json.dumps(data))
    return Path(path)


def true_means(n=400_000):
    """Population mean rating per method under the simulation model (Monte Carlo, SE < 0.003)."""
    rng = np.random.default_rng(12345)
    latent_noise = rng.normal(0, RATER_SD, n) + rng.normal(0, NOISE_SD, n)
    return {m: float(np.clip(np.rint(mu + latent_noise), 1, 5).mean()) for m, mu in TRUE_LATENT.items()}


def run_cli(argv, capsys):
    rc = cli.main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


# --------------------------------------------------------------------------- prepare
def test_prepare_layout_and_blinding(tmp_path):
    out = make_study(tmp_path, embed="no")
    m = json.loads((out / "manifest.json").read_text())
    assert m["methods"] == ["nearest", "bicubic", "srresnet", "srgan", "hr"]  # NN first, HR last, always
    assert len(m["items"]) == 2 * 5 * 5 and len(m["calibration_items"]) == 8
    assert {(v["dataset"], v["image"], v["method"]) for v in m["items"].values()} == \
        {(d, f"img{k}", meth) for d in ("SynA", "SynB") for k in range(5) for meth in METHODS}
    for i in list(m["items"]) + list(m["calibration_items"]):
        assert re.fullmatch(r"[0-9a-f]{12}", i)
        assert (out / "rater" / "items" / f"{i}.png").is_file()
    assert len(m["study_id"]) == 16
    assert (out.stat().st_mode & 0o777) == 0o777 & ~mos._umask()  # not mkdtemp's 0700
    assert ((out / "rater" / "rate_r01.html").stat().st_mode & 0o777) == 0o666 & ~mos._umask()
    # nothing the raters get names a method, a dataset or an image
    rater_files = [p for p in (out / "rater").iterdir() if p.is_file()]
    assert sorted(p.name for p in rater_files) == ["rate_r01.html", "rate_r02.html", "rate_r03.html", "study.json"]
    for p in rater_files:
        text = p.read_text()
        for word in METHODS + ["SynA", "SynB", "img0", "cal0", "manifest"]:
            assert not re.search(rf"\b{word}\b", text, re.I), (p.name, word)
    assert not any("nearest" in p.name or "hr" in p.name for p in (out / "rater" / "items").iterdir())
    data = json.loads(re.search(r"const STUDY = (\{.*?\});\n", (out / "rater" / "rate_r01.html").read_text()).group(1))
    assert set(data) == {"version", "format", "study_id", "rater_id", "scores", "calibration", "items"}
    assert all(set(it) == {"id", "src"} for it in data["items"])
    assert all(set(it) == {"id", "anchor", "src"} for it in data["calibration"])


def test_rater_orders_are_seeded_distinct_and_start_with_calibration(tmp_path):
    out = make_study(tmp_path)
    pub = mos.load_public(out)
    m = mos.load_manifest(out)
    cal1, items1 = mos.rater_sequence(pub, "r01")
    cal2, items2 = mos.rater_sequence(pub, "r02")
    assert sorted(items1) == sorted(items2) == sorted(m["items"])
    assert items1 != items2
    assert mos.rater_sequence(pub, "r01") == (cal1, items1)  # pure function of (seed, rater)
    assert len(cal1) == 4 and [a for _, a in cal1] == [1, 5, 1, 5]
    for i, a in cal1:
        assert m["calibration_items"][i]["anchor"] == a
        assert m["calibration_items"][i]["method"] == {1: "nearest", 5: "hr"}[a]
    # the page carries the same order: calibration first, then the items
    html = (out / "rater" / "rate_r02.html").read_text()
    data = json.loads(re.search(r"const STUDY = (\{.*?\});\n", html).group(1))
    assert [c["id"] for c in data["calibration"]] == [i for i, _ in cal2]
    assert [c["anchor"] for c in data["calibration"]] == [a for _, a in cal2]
    assert [it["id"] for it in data["items"]] == items2
    assert data["items"][0]["src"].startswith("data:image/png;base64,")  # tiny study: embedded (auto)
    png = base64.b64decode(data["items"][0]["src"].split(",", 1)[1])
    assert png == (out / "rater" / "items" / f"{items2[0]}.png").read_bytes()


def test_page_for_another_rater(tmp_path, capsys):
    out = make_study(tmp_path, raters=1, embed="no")
    rc, stdout, err = run_cli(["mos", "page", str(out), "alice"], capsys)
    assert rc == 0, err
    page = Path(stdout.strip())
    assert page == out / "rater" / "rate_alice.html"
    data = json.loads(re.search(r"const STUDY = (\{.*?\});\n", page.read_text()).group(1))
    cal, items = mos.rater_sequence(mos.load_public(out), "alice")
    assert data["rater_id"] == "alice" and [it["id"] for it in data["items"]] == items
    assert data["items"][0]["src"] == f"items/{items[0]}.png"  # the study's embed choice is kept
    rc, _, err = run_cli(["mos", "page", str(out), "alice"], capsys)
    assert rc == 2 and "already exists" in err
    rc, _, err = run_cli(["mos", "page", str(out), "a b"], capsys)
    assert rc == 2 and "invalid rater id" in err


def test_prepare_never_overwrites(tmp_path, capsys):
    out = make_study(tmp_path)
    before = (out / "manifest.json").read_text()
    with pytest.raises(FileExistsError, match="--overwrite"):
        make_study(tmp_path)
    assert (out / "manifest.json").read_text() == before
    make_study(tmp_path, overwrite=True)
    assert json.loads((out / "manifest.json").read_text())["study_id"] != json.loads(before)["study_id"]
    # a folder that is not a study is never replaced, and collected ratings are protected
    other = tmp_path / "notastudy"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError, match="not a MOS study"):
        make_study(tmp_path, name="notastudy", overwrite=True)
    (out / "ratings" / "r01.json").write_text("{}")
    with pytest.raises(FileExistsError, match="ratings"):
        make_study(tmp_path, overwrite=True)
    # through the CLI: one line, exit status 2
    rc, _, err = run_cli(["mos", "prepare", "--dataset", "Set5", "--methods", "bicubic", "--out", str(out)], capsys)
    assert rc == 2 and "already exists" in err and len(err.strip().splitlines()) == 1


# --------------------------------------------------------------------------- statistics
def test_holm_and_t_interval():
    np.testing.assert_allclose(mos.holm([0.01, 0.04, 0.03, 0.5]), [0.04, 0.09, 0.09, 0.5])
    from scipy import stats
    v = np.array([3.0, 3.5, 4.0, 2.5, 3.2])
    mean, lo, hi = mos.t_interval(v)
    ci = stats.t.interval(0.95, len(v) - 1, loc=v.mean(), scale=stats.sem(v))
    assert mean == pytest.approx(v.mean()) and (lo, hi) == pytest.approx(ci)


def test_wilcoxon_matches_scipy():
    from scipy import stats
    rng = np.random.default_rng(5)
    for n in (4, 7, 9, 20, 30):
        for tied in (False, True):
            d = rng.normal(0.3, 1.0, n)
            if tied:
                d = np.round(d * 2) / 2  # ties and zeros, as per-rater means of a few 1..5 scores have
            stat, p = mos.wilcoxon_signed_rank(d)
            nz = d[d != 0]
            if len(nz) <= 16 and tied:
                method = stats.PermutationMethod(n_resamples=2 ** 16)  # exact: all 2**n sign flips
            else:
                method = "approx" if tied else "exact"
            ref = stats.wilcoxon(nz, method=method)
            assert stat == pytest.approx(ref.statistic), (n, tied)
            assert p == pytest.approx(ref.pvalue, rel=1e-6, abs=1e-9), (n, tied)
    assert mos.wilcoxon_signed_rank([0, 0, 0]) == (pytest.approx(float("nan"), nan_ok=True), 1.0)
    assert mos.wilcoxon_signed_rank(np.ones(5))[1] == pytest.approx(2 / 32)  # smallest p with 5 raters


def test_simulated_study_recovers_order_and_cis_cover_truth(tmp_path):
    out = make_study(tmp_path, raters=0)
    truth = true_means()
    order = sorted(TRUE_LATENT, key=TRUE_LATENT.get)
    covered = total = 0
    for seed in range(20):
        files = simulate(out, tmp_path / f"sim{seed}", n_raters=26, seed=seed)
        rep = mos.aggregate(out, files)
        assert rep["flagged_raters"] == [] and rep["notes"] == []
        for ds in ("SynA", "SynB"):
            rows = {r["method"]: r for r in rep["datasets"][ds]["methods"]}
            assert sorted(rows, key=lambda k: rows[k]["mos"]) == order
            for mth, r in rows.items():
                assert r["n_raters"] == 26 and r["n_ratings"] == 26 * 5 and sum(r["distribution"]) == 130
                assert 0.05 < r["ci_high"] - r["ci_low"] < 0.6
                total += 1
                covered += r["ci_low"] <= truth[mth] <= r["ci_high"]
            tests = {(t["a"], t["b"]): t for t in rep["datasets"][ds]["tests"]}
            assert len(tests) == 10 and all(t["significant"] for t in tests.values())
    assert covered / total >= 0.88, (covered, total)  # nominal 95%


def test_no_difference_is_not_significant(tmp_path):
    out = make_study(tmp_path, raters=0)
    manifest = mos.load_manifest(out)
    rng = np.random.default_rng(3)
    files = []
    for r in range(12):  # every method rated alike: HR/NN anchors aside, no pair should differ
        scores = {i: {"nearest": 1, "hr": 5}.get(it["method"], int(rng.integers(2, 5)))
                  for i, it in manifest["items"].items()}
        files.append(write_ratings(tmp_path / f"n{r}.json", manifest, f"n{r}", scores))
    rep = mos.aggregate(out, files)
    tests = {(t["a"], t["b"]): t for t in rep["datasets"]["SynA"]["tests"]}
    assert not tests[("bicubic", "srresnet")]["significant"]
    assert not tests[("srresnet", "srgan")]["significant"]
    assert tests[("nearest", "hr")]["significant"]


def test_adversarial_rater_is_flagged_and_can_be_excluded(tmp_path, capsys):
    out = make_study(tmp_path, raters=0)
    files = simulate(out, tmp_path / "sim", n_raters=8, seed=1, adversarial=1)
    rep = mos.aggregate(out, files)
    assert rep["flagged_raters"] == ["adv0"] and "adv0" in rep["raters"]
    entry = next(c for c in rep["calibration"] if c["rater"] == "adv0")
    assert entry["nn_mean"] == 5 and entry["hr_mean"] == 1 and entry["check"].startswith("flagged")
    rep_ex = mos.aggregate(out, files, exclude_flagged=True)
    assert rep_ex["excluded_raters"] == ["adv0"] and "adv0" not in rep_ex["raters"]
    nn = lambda r: next(x for x in r["datasets"]["SynA"]["methods"] if x["method"] == "nearest")  # noqa: E731
    assert nn(rep)["n_raters"] == 9 and nn(rep_ex)["n_raters"] == 8
    assert nn(rep_ex)["mos"] < nn(rep)["mos"]
    rc, text, _ = run_cli(["mos", "aggregate", str(out), *map(str, files), "--exclude-flagged", "--markdown"], capsys)
    assert rc == 0
    assert "excluded (calibration check failed): adv0" in text and "| adv0 | 50 | 5.00 | 1.00 | flagged" in text


def test_cli_aggregate_json_markdown_and_plots(tmp_path, capsys):
    out = make_study(tmp_path, raters=0)
    files = simulate(out, tmp_path / "sim", n_raters=6, seed=2)
    rc, text, _ = run_cli(["mos", "aggregate", str(out), *map(str, files), "--json", "--plots", str(tmp_path / "p")],
                          capsys)
    assert rc == 0
    rep = json.loads(text)
    assert set(rep["datasets"]) == {"SynA", "SynB"} and rep["raters"] == [f"s{r:02d}" for r in range(6)]
    assert "per-rater means" in rep["ci_method"] and "Wilcoxon" in rep["test_method"]
    for ds in ("SynA", "SynB"):
        png = tmp_path / "p" / f"mos_distribution_{ds}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    rc, text, _ = run_cli(["mos", "aggregate", str(out), *map(str, files), "--markdown"], capsys)
    assert rc == 0 and "| method | MOS | 95% CI |" in text and "| nearest vs hr |" in text
    rc, text, _ = run_cli(["mos", "aggregate", str(out), *map(str, files)], capsys)
    assert rc == 0 and "|" not in text and re.search(r"^hr\s+4\.\d\d\s+\[", text, re.M)


# --------------------------------------------------------------------------- malformed and duplicate files
def test_malformed_and_foreign_files_are_one_line_errors(tmp_path, capsys):
    out = make_study(tmp_path, raters=0)
    m = mos.load_manifest(out)
    item = next(iter(m["items"]))
    cal_item = next(iter(m["calibration_items"]))
    good = {"format": mos.RATINGS_FORMAT, "version": 1, "study_id": m["study_id"], "rater_id": "x",
            "ratings": [{"item": item, "score": 3, "time": "2025-01-01T00:00:00.000Z"}]}

    def variant(**kw):
        d = json.loads(json.dumps(good))
        for k, v in kw.items():
            if k.startswith("r_"):
                d["ratings"][0][k[2:]] = v
            else:
                d[k] = v
        return json.dumps(d)

    cases = {
        "badjson": ('{"format": ', "not valid JSON"),
        "list": ("[1, 2]", "not a MOS ratings file"),
        "foreign": (variant(study_id="0123456789abcdef"), "belong to study '0123456789abcdef'"),
        "version": (variant(version=99), "unsupported ratings format version"),
        "unknown": (variant(r_item="ffffffffffff"), "unknown item id 'ffffffffffff'"),
        "calitem": (variant(r_item=cal_item), "unknown item id"),
        "high": (variant(r_score=6), "score 6 is not an integer in 1..5"),
        "zero": (variant(r_score=0), "score 0"),
        "frac": (variant(r_score=2.5), "score 2.5"),
        "string": (variant(r_score="3"), "score '3'"),
        "bool": (variant(r_score=True), "score True"),
        "notime": (variant(r_time=None), "missing timestamp"),
        "badtime": (variant(r_time="yesterday"), "bad timestamp"),
        "rater": (variant(rater_id="../etc"), "invalid rater id"),
        "twice": (json.dumps(dict(good, ratings=good["ratings"] * 2)), "rated twice"),
    }
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps(good))
    for name, (text, msg) in cases.items():
        p = tmp_path / f"{name}.json"
        p.write_text(text)
        rc, stdout, err = run_cli(["mos", "aggregate", str(out), str(ok), str(p)], capsys)
        assert rc == 2, name
        lines = err.strip().splitlines()
        assert len(lines) == 1 and str(p) in lines[0] and msg in lines[0], (name, err)
        assert stdout == ""
    rc, _, err = run_cli(["mos", "aggregate", str(tmp_path / "nostudy"), str(ok)], capsys)
    assert rc == 2 and "not a MOS study folder" in err
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    rc, _, err = run_cli(["mos", "aggregate", str(out), str(tmp_path / "binary.json")], capsys)
    assert rc == 2 and "binary.json" in err and len(err.strip().splitlines()) == 1


def test_duplicate_submissions_are_detected(tmp_path, capsys):
    out = make_study(tmp_path, raters=0)
    m = mos.load_manifest(out)
    ids = list(m["items"])
    a = write_ratings(tmp_path / "a.json", m, "alice", {i: 3 for i in ids[:10]})
    a_copy = tmp_path / "a_copy.json"
    shutil.copy(a, a_copy)
    renamed = json.loads(a.read_text())
    renamed["rater_id"] = "mallory"  # same content under another name
    (tmp_path / "m.json").write_text(json.dumps(renamed))
    a_more = write_ratings(tmp_path / "a_more.json", m, "alice", {i: 4 for i in ids[:20]})  # later, longer
    b = write_ratings(tmp_path / "b.json", m, "bob", {i: 2 for i in ids})
    rep = mos.aggregate(out, [a, a_copy, tmp_path / "m.json", a_more, b])
    assert sorted(rep["raters"]) == ["alice", "bob"]
    notes = "\n".join(rep["notes"])
    assert f"{a_copy} has the same ratings as {a}" in notes
    assert f"{tmp_path / 'm.json'} has the same ratings as {a}" in notes
    assert f"rater 'alice' submitted twice ({a}, {a_more}); kept {a_more}" in notes
    assert rep["files"] == [str(a_more), str(b)]
    # the same file named twice on the command line
    rc, _, err = run_cli(["mos", "aggregate", str(out), str(b), str(b)], capsys)
    assert rc == 0 and "duplicate" in err and "b.json ignored" in err


# --------------------------------------------------------------------------- notebook rater
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
    with pytest.raises(ValueError):
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
    # a ratings file of another study is never overwritten
    other = make_study(tmp_path, name="other", raters=0)
    shutil.copy(path, other / "ratings" / "alice.json")
    with pytest.raises(ValueError, match="another study"):
        mos.Rater(other, "alice")
    with pytest.raises(ValueError, match="invalid rater id"):
        mos.Rater(out, "../x")


# --------------------------------------------------------------------------- end to end on Set5
@pytest.mark.needs_data
def test_cli_prepare_set5_nearest_bicubic(tmp_path, data_dir, capsys, monkeypatch):
    monkeypatch.setenv("SRGAN_DATA_DIR", str(data_dir))
    out = tmp_path / "set5study"
    rc, stdout, err = run_cli(["mos", "prepare", "--dataset", "Set5", "--methods", "nearest,bicubic",
                               "--out", str(out), "--raters", "2", "--seed", "1", "--calibration", "4",
                               "--crop", "128"], capsys)
    assert rc == 0, err
    m = mos.load_manifest(out)
    assert m["methods"] == ["nearest", "bicubic", "hr"] and len(m["items"]) == 15
    from srgan_lib.images import read_image
    from srgan_lib.evaluate import load_eval_set
    hr = dict(load_eval_set("Set5", 4))
    for i, it in m["items"].items():
        img = read_image(out / "rater" / "items" / f"{i}.png")
        assert img.shape[:2] == (128, 128)
        if it["method"] == "hr":
            h, w = hr[it["image"]].shape[:2]
            t, l = (h - 128) // 2, (w - 128) // 2
            np.testing.assert_array_equal(img, hr[it["image"]][t:t + 128, l:l + 128])
    files = simulate(out, tmp_path / "sim", n_raters=5, seed=0)
    rc, text, err = run_cli(["mos", "aggregate", str(out), *map(str, files), "--json"], capsys)
    rows = {r["method"]: r["mos"] for r in json.loads(text)["datasets"]["Set5"]["methods"]}
    assert rows["nearest"] < rows["hr"]


# --------------------------------------------------------------------------- real browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


class CDP:
    """A minimal Chrome DevTools Protocol client over websocket-client."""

    def __init__(self, ws_url):
        import websocket
        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.n = 0

    def __call__(self, method, **params):
        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.n:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def js(self, expr):
        r = self("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(r["exceptionDetails"])
        return r["result"].get("value")

    def key(self, key):
        code = {"Enter": "Enter"}.get(key, f"Digit{key}")
        vk = 13 if key == "Enter" else ord(key)
        text = "\r" if key == "Enter" else key
        self("Input.dispatchKeyEvent", type="keyDown", key=key, code=code, text=text,
             windowsVirtualKeyCode=vk, nativeVirtualKeyCode=vk)
        self("Input.dispatchKeyEvent", type="keyUp", key=key, code=code, windowsVirtualKeyCode=vk)

    def click(self, selector):
        box = self.js(f"(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();"
                      f" return [r.x + r.width / 2, r.y + r.height / 2]; }})()")
        for t in ("mousePressed", "mouseReleased"):
            self("Input.dispatchMouseEvent", type=t, x=box[0], y=box[1], button="left", clickCount=1)

    def wait(self, expr, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            if self.js(expr):
                return
            time.sleep(0.1)
        raise TimeoutError(expr)


@pytest.fixture
def chromium(tmp_path):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium)")
    pytest.importorskip("websocket", reason="websocket-client is needed to drive chromium over CDP")
    profile = tmp_path / "profile"
    proc = subprocess.Popen([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                             "--disable-component-update", "--no-first-run", "--disable-sync",
                             "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--remote-debugging-port=0",
                             "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        end = time.time() + 60
        while not (port_file.is_file() and len(port_file.read_text().split()) >= 2):
            if proc.poll() is not None or time.time() > end:
                pytest.fail("chromium did not start (no DevToolsActivePort)")
            time.sleep(0.1)
        port, browser_path = port_file.read_text().split()[:2]
        browser = CDP(f"ws://127.0.0.1:{port}{browser_path}")
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read())
        page = next(t for t in targets if t["type"] == "page")
        yield browser, CDP(page["webSocketDebuggerUrl"])
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_html_page_in_headless_chromium(tmp_path, chromium, capsys):
    browser, page = chromium
    out = make_study(tmp_path, raters=2, embed="no")  # images referenced relatively from file://
    cal, items = mos.rater_sequence(mos.load_public(out), "r02")
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
    assert rep["raters"] == ["r02"]
    assert sum(sum(r["distribution"]) for d in rep["datasets"].values() for r in d["methods"]) == 5


# --------------------------------------------------------------------------- simulated raters (library)
def test_simulate_ratings_files_are_marked_and_reported_as_simulated(tmp_path):
    out = make_study(tmp_path, raters=0)
    files = mos.simulate_ratings(out, raters=3, seed=4, true_means=TRUE_LATENT)
    assert [p.name for p in files] == ["sim00.json", "sim01.json", "sim02.json"]
    assert all(p.parent == out / "ratings" / "simulated" for p in files)
    data = json.loads(files[0].read_text())
    assert data["simulated"] is True and "SIMULATED" in data["client"]
    assert data["simulation"]["seed"] == 4 and data["simulation"]["true_means"]["srgan"] == 3.6
    assert len(data["ratings"]) == 50 and {r["score"] for r in data["ratings"]} <= {1, 2, 3, 4, 5}
    # deterministic in the seed: the same call rewrites identical files
    again = mos.simulate_ratings(out, raters=3, seed=4, true_means=TRUE_LATENT, out_dir=tmp_path / "again")
    assert [p.read_text() for p in again] == [p.read_text() for p in files]
    with pytest.raises(FileExistsError):
        mos.simulate_ratings(out, raters=3, seed=4, true_means=TRUE_LATENT)
    rep = mos.aggregate(out, files)
    assert rep["simulated_raters"] == ["sim00", "sim01", "sim02"] and rep["notes"] == []
    text = mos.format_report(rep)
    assert "**SIMULATED: the ratings of ALL raters (sim00, sim01, sim02)" in text
    assert "SIMULATED: the ratings of ALL raters" in mos.format_report(rep, markdown=False)
    # a human rater next to simulated ones: only the simulated ones are named
    human = write_ratings(tmp_path / "h.json", mos.load_manifest(out), "alice",
                          {i: 3 for i in mos.load_manifest(out)["items"]})
    rep = mos.aggregate(out, [*files, human])
    assert rep["simulated_raters"] == ["sim00", "sim01", "sim02"]
    assert "SIMULATED: the ratings of 3 of 4 raters" in mos.format_report(rep)
    assert "SIMULATED" not in mos.format_report(mos.aggregate(out, [human]))


def test_simulate_ratings_noiseless_values_and_errors(tmp_path):
    out = make_study(tmp_path, raters=0)
    # no noise: every score is clip(rint(latent mean)); rint rounds half to even (4.5 -> 4)
    files = mos.simulate_ratings(out, raters=2, noise=0, rater_sd=0, true_means=TRUE_LATENT)
    rep = mos.aggregate(out, files)
    got = {r["method"]: r["mos"] for r in rep["datasets"]["SynA"]["methods"]}
    assert got == {"nearest": 1.0, "bicubic": 2.0, "srresnet": 3.0, "srgan": 4.0, "hr": 4.0}
    # adversarial raters score NN 5 / HR 1 and are flagged by the calibration check
    files = mos.simulate_ratings(out, raters=0, adversarial=2, true_means=TRUE_LATENT, out_dir=tmp_path / "adv")
    rep = mos.aggregate(out, files)
    assert rep["flagged_raters"] == ["adv0", "adv1"] and rep["simulated_raters"] == ["adv0", "adv1"]
    with pytest.raises(ValueError, match="srresnet, srgan"):
        mos.simulate_ratings(out, raters=2, out_dir=tmp_path / "x")  # defaults know nearest/bicubic/hr only
    with pytest.raises(ValueError, match="at least one rater"):
        mos.simulate_ratings(out, raters=0, true_means=TRUE_LATENT, out_dir=tmp_path / "y")
    bad = json.loads(files[0].read_text())
    bad["simulated"] = "yes"
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(Exception, match="'simulated' must be true or false"):
        mos.aggregate(out, [tmp_path / "bad.json"])
