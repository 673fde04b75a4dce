"""MOS studies (paper Sec. 3.4): preparation, calibration, pages, aggregation, report and CLI.

The helpers here are shared by the other tests/test_mos_*.py files (blinding, rating files,
statistics, rating interfaces)."""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from srgan_lib import cli, mos
from srgan_lib.errors import InputNotFoundError, OutputExistsError, UserError
from srgan_lib.images import write_image

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
    kw.setdefault("progress", lambda m: None)
    mos.prepare_study(["SynA", "SynB"], ["bicubic", "srresnet", "srgan"], out, raters=raters, seed=7,
                      calibration=calibration, calibration_dataset="Cal", embed=embed, **kw)
    return out


def write_ratings(path, manifest, rater, scores: dict, study_id=None, hour=0, token=True):
    """A ratings file as the rater's page writes it (``token=False``: without the rater token)."""
    data = {"format": mos.RATINGS_FORMAT, "version": 1, "study_id": study_id or manifest["study_id"],
            "rater_id": rater, **({"rater_token": mos.rater_token(manifest, rater)} if token else {}), "ratings": [{"item": i, "score": int(s), "time": f"2025-01-01T{hour:02d}:00:{k % 60:02d}Z"}
                                           for k, (i, s) in enumerate(scores.items())]}
    Path(path).write_text(json.dumps(data))
    return Path(path)


def run_cli(argv, capsys):
    rc = cli.main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def page_data(page: Path) -> dict:
    """The study data a rating page embeds."""
    return json.loads(re.search(r"const STUDY = (\{.*?\});\n", page.read_text()).group(1))


def umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def image_folder(folder: Path, seeds, size=32) -> Path:
    """A dataset folder of random images, one per seed (the seed fixes the pixels)."""
    folder.mkdir(parents=True, exist_ok=True)
    for s in seeds:
        img = np.random.default_rng(s).integers(0, 256, (size, size, 3), dtype=np.uint8)
        write_image(folder / f"im{s}.png", img, overwrite=True)
    return folder


# --------------------------------------------------------------------------- prepare
def test_prepare_layout(tmp_path):
    out = make_study(tmp_path, embed="no")
    m = json.loads((out / "manifest.json").read_text())
    assert m["methods"] == ["nearest", "bicubic", "srresnet", "srgan", "hr"]  # NN first, HR last, always
    assert len(m["items"]) == 2 * 5 * 5 and len(m["calibration_items"]) == 8  # 4 images x (NN, HR)
    assert m["calibration"] == {"images": 4, "dataset": "Cal"}
    assert {(v["dataset"], v["image"], v["method"]) for v in m["items"].values()} == \
        {(d, f"img{k}", meth) for d in ("SynA", "SynB") for k in range(5) for meth in METHODS}
    for i in list(m["items"]) + list(m["calibration_items"]):
        assert re.fullmatch(r"[0-9a-f]{12}", i)
        assert (out / "rater" / "items" / f"{i}.png").is_file()
    assert len(m["study_id"]) == 16
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "rater", "ratings"]  # no staging left
    assert (out.stat().st_mode & 0o777) == 0o777 & ~umask()  # not mkdtemp's 0700
    assert ((out / "rater" / "rate_r01.html").stat().st_mode & 0o777) == 0o666 & ~umask()
    assert sorted(p.name for p in (out / "rater").iterdir()) == \
        ["items", "rate_r01.html", "rate_r02.html", "rate_r03.html", "study.json"]
    for p in (out / "rater").iterdir():
        if p.is_file():  # nothing the raters get names a method, a dataset or an image
            text = p.read_text()
            for word in METHODS + ["SynA", "SynB", "img0", "cal0", "manifest"]:
                assert not re.search(rf"\b{word}\b", text, re.I), (p.name, word)
    data = page_data(out / "rater" / "rate_r01.html")
    assert set(data) == {"version", "format", "study_id", "rater_id", "rater_token", "scores", "calibration", "items"}
    assert data["rater_token"] == mos.rater_token(m, "r01")
    assert all(set(it) == {"id", "src"} for it in data["items"])
    assert all(set(it) == {"id", "anchor", "src"} for it in data["calibration"])
    # the key to the ids is only in the manifest: two studies of the same images share no id
    other = mos.load_manifest(make_study(tmp_path, name="again", embed="no"))
    assert not set(other["items"]) & set(m["items"])


def test_rater_orders_are_seeded_distinct_and_start_with_calibration(tmp_path):
    out = make_study(tmp_path)
    pub = mos.load_public(out)
    m = mos.load_manifest(out)
    cal1, items1 = mos.rater_sequence(pub, "r01")
    cal2, items2 = mos.rater_sequence(pub, "r02")
    assert sorted(items1) == sorted(items2) == sorted(m["items"]) == pub["items"]
    assert items1 != items2
    assert mos.rater_sequence(pub, "r01") == (cal1, items1)  # pure function of (seed, rater)
    assert len(cal1) == 8 and [a for _, a in cal1] == [1, 5] * 4  # every image as NN, then as HR
    for (nn, _), (hr, _) in zip(cal1[::2], cal1[1::2]):
        assert m["calibration_items"][nn]["image"] == m["calibration_items"][hr]["image"]
    for i, a in cal1:
        assert m["calibration_items"][i]["anchor"] == a
        assert m["calibration_items"][i]["method"] == {1: "nearest", 5: "hr"}[a]
    assert [i for i, _ in cal1] != [i for i, _ in cal2] and sorted(cal1) == sorted(cal2)
    # the page carries the same order: calibration first, then the items
    data = page_data(out / "rater" / "rate_r02.html")
    assert [(c["id"], c["anchor"]) for c in data["calibration"]] == cal2
    assert [it["id"] for it in data["items"]] == items2
    assert data["items"][0]["src"].startswith("data:image/png;base64,")  # tiny study: embedded (auto)
    import base64
    png = base64.b64decode(data["items"][0]["src"].split(",", 1)[1])
    assert png == (out / "rater" / "items" / f"{items2[0]}.png").read_bytes()


def test_page_for_another_rater(tmp_path, capsys):
    out = make_study(tmp_path, raters=1, embed="no")
    rc, stdout, err = run_cli(["mos", "page", str(out), "alice"], capsys)
    assert rc == 0, err
    page = Path(stdout.strip())
    assert page == out / "rater" / "rate_alice.html"
    data = page_data(page)
    cal, items = mos.rater_sequence(mos.load_public(out), "alice")
    assert data["rater_id"] == "alice" and [it["id"] for it in data["items"]] == items
    assert data["items"][0]["src"] == f"items/{items[0]}.png"  # the study's embed choice is kept
    before = page.read_bytes()
    rc, _, err = run_cli(["mos", "page", str(out), "alice"], capsys)
    assert rc == 2 and "refusing to overwrite" in err and page.read_bytes() == before
    rc, _, err = run_cli(["mos", "page", str(out), "a b"], capsys)
    assert rc == 2 and "invalid rater id" in err


def test_prepare_never_overwrites(tmp_path, capsys):
    out = make_study(tmp_path)
    before = (out / "manifest.json").read_text()
    with pytest.raises(OutputExistsError, match="--overwrite"):
        make_study(tmp_path)
    assert (out / "manifest.json").read_text() == before
    make_study(tmp_path, overwrite=True)
    assert json.loads((out / "manifest.json").read_text())["study_id"] != json.loads(before)["study_id"]
    # a folder that is not a study is never replaced, and collected ratings are protected
    other = tmp_path / "notastudy"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    with pytest.raises(OutputExistsError, match="not a MOS study"):
        make_study(tmp_path, name="notastudy", overwrite=True)
    assert (other / "keep.txt").read_text() == "x"
    (out / "ratings" / "r01.json").write_text("{}")
    with pytest.raises(OutputExistsError, match="ratings"):
        make_study(tmp_path, overwrite=True)
    # a failure half-way leaves the existing study as it was, and no temporary folder
    def broken():
        yield from synthetic_sources(n_images=1)
        raise UserError("boom")
    (out / "ratings" / "r01.json").unlink()
    kept = (out / "manifest.json").read_text()
    with pytest.raises(UserError, match="boom"):
        make_study(tmp_path, overwrite=True, sources=broken())
    assert (out / "manifest.json").read_text() == kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notastudy", "study"]
    # through the CLI: one line, exit status 2
    rc, _, err = run_cli(["mos", "prepare", "--dataset", "Set5", "--methods", "bicubic", "--out", str(out)], capsys)
    assert rc == 2 and "already exists" in err and len(err.strip().splitlines()) == 1


def test_bad_options_are_one_line_errors(tmp_path, capsys):
    for argv, msg in [(["--raters", "-1"], "--raters must be >= 0"), (["--calibration", "-2"], "--calibration"),
                      (["--crop", "4"], "--crop must be at least 8"), (["--methods", "x="], "invalid method")]:
        args = ["mos", "prepare", "--dataset", "Set5", "--methods", "bicubic", "--out", str(tmp_path / "s"), *argv]
        rc, _, err = run_cli(args, capsys)
        assert rc == 2 and msg in err and len(err.strip().splitlines()) == 1, (argv, err)
    assert not (tmp_path / "s").exists()


# --------------------------------------------------------------------------- calibration
def test_calibration_images_are_separate_from_the_study(tmp_path):
    """Real pipeline on folders: calibration images that are study images (same pixels, any file
    name) are left out, and a calibration set holding only study images is refused."""
    study_set = image_folder(tmp_path / "study_set", [1, 2, 3])
    mixed = image_folder(tmp_path / "mixed", [2, 3, 10, 11, 12])  # im2, im3 are study images
    shutil.copy(study_set / "im1.png", mixed / "renamed_copy.png")
    notes = []
    out = tmp_path / "s"
    m = mos.prepare_study([str(study_set)], ["bicubic"], out, raters=0, calibration=10,
                          calibration_dataset=str(mixed), progress=notes.append)
    names = sorted({c["image"] for c in m["calibration_items"].values()})
    assert names == ["im10", "im11", "im12"] and m["calibration"] == {"images": 3, "dataset": str(mixed)}
    assert any("3 image(s) of the calibration set" in n and "left out" in n for n in notes), notes
    assert any("only 3 calibration images available (asked for 10)" in n for n in notes), notes
    study_bytes = {(out / "rater" / "items" / f"{i}.png").read_bytes() for i in m["items"]}
    assert not study_bytes & {(out / "rater" / "items" / f"{i}.png").read_bytes() for i in m["calibration_items"]}
    # HR calibration items are the centre crops of their images; NN items their NN upscale
    from srgan_lib.degrade import degrade, upscale_nearest
    from srgan_lib.images import read_image
    for i, c in m["calibration_items"].items():
        hr = read_image(mixed / f"{c['image']}.png")
        want = hr if c["method"] == "hr" else upscale_nearest(degrade(hr, 4, "bicubic"), 4)
        np.testing.assert_array_equal(read_image(out / "rater" / "items" / f"{i}.png"), want)
    with pytest.raises(UserError, match="holds only images of the study"):
        mos.prepare_study([str(study_set)], ["bicubic"], tmp_path / "s2", raters=0,
                          calibration_dataset=str(study_set), progress=notes.append)
    assert not (tmp_path / "s2").exists()


def test_calibration_byte_identical_to_a_study_item_is_refused(tmp_path):
    def cal_from_study():
        _, _, _, img = next(iter(synthetic_sources()))
        yield "sneaky", img // 2, img  # the HR version of a study image
    with pytest.raises(UserError, match="'sneaky' of Cal is byte-identical to a study item"):
        make_study(tmp_path, calibration_sources=cal_from_study())
    assert not (tmp_path / "study").exists()


def test_calibration_set_unavailable_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    study_set = image_folder(tmp_path / "study_set", [1])
    with pytest.raises(InputNotFoundError, match="calibration images '.*nothere' are not available"):
        mos.prepare_study([str(study_set)], ["bicubic"], tmp_path / "s", raters=0,
                          calibration_dataset=str(tmp_path / "nothere"), progress=lambda m: None)
    # the default set, not cached and no download possible (offline)
    import srgan_lib.data.download as download

    def offline(name, **kw):
        raise InputNotFoundError(f"could not download {name}: no network")
    monkeypatch.setattr(download, "download_dataset", offline)
    monkeypatch.setenv("SRGAN_DATA_DIR", str(tmp_path / "empty_cache"))
    rc, _, err = run_cli(["mos", "prepare", "--dataset", str(study_set), "--methods", "bicubic",
                          "--out", str(tmp_path / "s"), "--raters", "7"], capsys)
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1, err
    assert "calibration images 'BSD200' are not available" in lines[0] and "--calibration 0" in lines[0]
    assert not (tmp_path / "s").exists()
    rc, _, err = run_cli(["mos", "prepare", "--dataset", str(study_set), "--methods", "bicubic",
                          "--out", str(tmp_path / "s"), "--raters", "7", "--calibration", "0"], capsys)
    assert rc == 0, err
    assert mos.load_public(tmp_path / "s")["calibration_pairs"] == []


def test_prepare_warns_when_raters_cannot_reach_significance(tmp_path):
    for raters, warned in ((6, True), (7, False)):  # 3 methods under study: Holm over 3 pairs needs 7
        notes = []
        m = make_study(tmp_path, name=f"s{raters}", raters=raters, progress=notes.append)
        warnings = [n for n in notes if n.startswith("warning:")]
        planning = mos.load_manifest(m)["planning"]
        assert planning["holm_family_size"] == 3 and planning["raters_needed"] == 7
        if warned:
            assert len(warnings) == 1 and "with 6 raters the smallest attainable two-sided Wilcoxon p is 0.0312" \
                in warnings[0] and "plan at least 7 raters" in warnings[0], warnings
            assert planning["warning"] == warnings[0]
        else:
            assert warnings == [] and planning["warning"] is None
    # one method under study: its comparisons with the anchors (3) are the family
    notes = []
    mos.prepare_study(["SynA"], ["bicubic"], tmp_path / "one", raters=5, calibration=0, progress=notes.append,
                      sources=((d, i, m, img) for d, i, m, img in synthetic_sources(("SynA",))
                               if m in ("nearest", "bicubic", "hr")))
    assert any("Holm over 3 comparisons" in n and "plan at least 7" in n for n in notes), notes


# --------------------------------------------------------------------------- aggregate, report, CLI
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
    files = simulate(out, tmp_path / "sim", n_raters=7, seed=2)
    rc, text, err = run_cli(["mos", "aggregate", str(out), *map(str, files), "--json", "--plots",
                             str(tmp_path / "p")], capsys)
    assert rc == 0
    rep = json.loads(text)
    assert set(rep["datasets"]) == {"SynA", "SynB"} and rep["raters"] == [f"s{r:02d}" for r in range(7)]
    assert "per-rater means" in rep["ci_method"] and "Wilcoxon" in rep["test_method"]
    for ds in ("SynA", "SynB"):
        png = tmp_path / "p" / f"mos_distribution_{ds}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    # 7 raters: the 3 comparisons between methods under study can reach 0.05 (3 * 2/128 < 0.05), the 7
    # anchor comparisons cannot (7 * 2/128 >= 0.05): the warning and the verdicts say so
    fams = {f["family"]: f for f in rep["datasets"]["SynA"]["families"]}
    assert fams["methods"]["reachable"] and not fams["anchors"]["reachable"]
    assert fams["anchors"]["raters_needed"] == 9 and fams["anchors"]["min_p_holm"] == pytest.approx(7 * 2 / 128)
    assert any("SynA" in w and "anchors" in w and "at least 9 raters" in w for w in rep["warnings"])
    assert "srgan mos: warning: SynA: with 7 raters" in err
    for t in rep["datasets"]["SynA"]["tests"]:
        if t["family"] == "anchors" and not t["significant"]:
            assert t["verdict"].startswith("cannot reach alpha=0.05 with")
    rc, text, _ = run_cli(["mos", "aggregate", str(out), *map(str, files), "--markdown"], capsys)
    assert rc == 0 and "| method | MOS | 95% CI |" in text and "| nearest vs hr | anchors |" in text
    assert "anchors family: 7 comparisons, 7 raters; smallest attainable p 0.0156, after Holm 0.109: cannot " \
           "reach alpha=0.05 with 7 raters (at least 9 needed)" in text
    rc, text, _ = run_cli(["mos", "aggregate", str(out), *map(str, files)], capsys)
    assert rc == 0 and "|" not in text and re.search(r"^hr\s+4\.\d\d\s+\[", text, re.M)
    # --include-anchors: one family of all 10 pairs
    rc, text, _ = run_cli(["mos", "aggregate", str(out), *map(str, files), "--json", "--include-anchors"], capsys)
    fams = json.loads(text)["datasets"]["SynA"]["families"]
    assert [(f["family"], f["size"], f["raters_needed"]) for f in fams] == [("all", 10, 9)]


def test_plots_leave_the_callers_matplotlib_alone(tmp_path, monkeypatch):
    import matplotlib
    out = make_study(tmp_path, raters=0)
    rep = mos.aggregate(out, simulate(out, tmp_path / "sim", n_raters=3, seed=0))
    backend = matplotlib.get_backend()

    def forbidden(*a, **k):
        raise AssertionError("plot_distributions changed the matplotlib backend")
    monkeypatch.setattr(matplotlib, "use", forbidden)
    import matplotlib.pyplot as plt
    monkeypatch.setattr(plt, "switch_backend", forbidden)
    open_before = plt.get_fignums()
    paths = mos.plot_distributions(rep, tmp_path / "plots")
    assert [p.name for p in paths] == ["mos_distribution_SynA.png", "mos_distribution_SynB.png"]
    assert matplotlib.get_backend() == backend and plt.get_fignums() == open_before  # no pyplot figure left
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)  # matplotlib not installed
    with pytest.raises(UserError, match=r"pip install 'srgan-lib\[plots\]'"):
        mos.plot_distributions(rep, tmp_path / "plots2")


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
    # "mallory" carries alice's token: not a rater of this study, so the whole aggregation is refused
    with pytest.raises(UserError, match=r"1 ratings file\(s\) carry no valid rater token: .*m\.json \('mallory'\)"):
        mos.aggregate(out, [a, a_copy, tmp_path / "m.json", a_more, b])
    rep = mos.aggregate(out, [a, a_copy, tmp_path / "m.json", a_more, b], accept_unverified=True)
    assert rep["unverified_raters"] == ["mallory"] and "--accept-unverified" in rep["warnings"][0]
    assert sorted(rep["raters"]) == ["alice", "bob"]
    notes = "\n".join(rep["notes"])
    assert f"{a_copy} has the same ratings as {a}" in notes
    assert f"{tmp_path / 'm.json'} has the same ratings as {a}" in notes
    assert f"rater 'alice' submitted twice ({a}, {a_more}); kept {a_more}" in notes
    assert rep["files"] == [str(a_more), str(b)]
    # the same file named twice on the command line
    rc, _, err = run_cli(["mos", "aggregate", str(out), str(b), str(b)], capsys)
    assert rc == 0 and "duplicate" in err and "b.json ignored" in err


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
    with pytest.raises(OutputExistsError):
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
    with pytest.raises(UserError, match="srresnet, srgan"):
        mos.simulate_ratings(out, raters=2, out_dir=tmp_path / "x")  # defaults know nearest/bicubic/hr only
    with pytest.raises(UserError, match="at least one rater"):
        mos.simulate_ratings(out, raters=0, true_means=TRUE_LATENT, out_dir=tmp_path / "y")


# --------------------------------------------------------------------------- end to end on Set5
@pytest.mark.needs_data
def test_cli_prepare_set5_with_the_papers_calibration(tmp_path, data_dir, capsys, monkeypatch):
    monkeypatch.setenv("SRGAN_DATA_DIR", str(data_dir))
    out = tmp_path / "set5study"
    rc, stdout, err = run_cli(["mos", "prepare", "--dataset", "Set5", "--methods", "nearest,bicubic",
                               "--out", str(out), "--raters", "2", "--seed", "1", "--calibration", "3",
                               "--crop", "128"], capsys)
    assert rc == 0, err
    assert "warning: with 2 raters" in err and "plan at least 7 raters" in err  # 1 method: 3 anchor pairs
    m = mos.load_manifest(out)
    assert m["methods"] == ["nearest", "bicubic", "hr"] and len(m["items"]) == 15
    # calibration: 3 BSDS300 training images (BSD200), as the paper, none of them a study image
    assert m["calibration"] == {"images": 3, "dataset": "BSD200"}
    bsd = {p.stem for p in (data_dir / "BSD200").glob("*.png")}
    assert {c["image"] for c in m["calibration_items"].values()} <= bsd
    from srgan_lib.evaluate import load_eval_set
    from srgan_lib.images import read_image
    hr = dict(load_eval_set("Set5", 4))
    for i, it in m["items"].items():
        img = read_image(out / "rater" / "items" / f"{i}.png")
        assert img.shape[:2] == (128, 128)
        if it["method"] == "hr":
            h, w = hr[it["image"]].shape[:2]
            t, l = (h - 128) // 2, (w - 128) // 2
            np.testing.assert_array_equal(img, hr[it["image"]][t:t + 128, l:l + 128])
    sizes = {(out / "rater" / "items" / f"{i}.png").stat().st_size for i in [*m["items"], *m["calibration_items"]]}
    assert len(sizes) == 1  # every 128 x 128 item has the same byte count
    files = simulate(out, tmp_path / "sim", n_raters=5, seed=0)
    rc, text, err = run_cli(["mos", "aggregate", str(out), *map(str, files), "--json"], capsys)
    rows = {r["method"]: r["mos"] for r in json.loads(text)["datasets"]["Set5"]["methods"]}
    assert rows["nearest"] < rows["hr"]
