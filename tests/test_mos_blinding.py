"""The adversarial rater: given every file of the rater folder, recover the methods behind the items.

Each strategy turns the rater folder's metadata into a guess of every study item's method.  Under
blinding a guess is right with probability 1/k (k methods); the test asserts that the number of
right guesses is not significantly above N/k: one-sided binomial p > 1e-6 (so a blind study fails
by chance with probability below 1e-6 per strategy, while every leak of the old tool gave 100%).
Where a feature can be made exactly uninformative it is asserted exactly (equal sizes, equal
times).  Control runs show that the same scorers recover the methods from a leaky layout.
"""
from __future__ import annotations

import io
import json
import os
import re

import numpy as np
import pytest
from scipy import stats

from srgan_lib import mos
from srgan_lib.degrade import degrade, upscale_bicubic, upscale_nearest
from srgan_lib.mos.blind import NEUTRAL_TIME

from test_mos import METHODS, page_data

N_DATASETS, N_IMAGES, SIZE = 2, 40, 32
P_FLOOR = 1e-6


def realistic_sources():
    """Versions that really differ (NN is blocky, the SR stand-ins noisy), so that compressed sizes
    would tell them apart -- generated dataset -> image -> method, like the real pipeline."""
    rng = np.random.default_rng(0)
    for d in range(N_DATASETS):
        for k in range(N_IMAGES):
            hr = np.clip(rng.normal(128, 40, (SIZE // 4, SIZE // 4, 3)), 0, 255).astype(np.uint8)
            hr = upscale_bicubic(hr, 4)  # a smooth HR image
            lr = degrade(hr, 4, "bicubic")
            bic = upscale_bicubic(lr, 4)
            noisy = lambda s: np.clip(bic + rng.normal(0, s, bic.shape), 0, 255).astype(np.uint8)  # noqa: E731
            versions = {"nearest": upscale_nearest(lr, 4), "bicubic": bic, "srresnet": noisy(3),
                        "srgan": noisy(12), "hr": hr}
            for m in METHODS:
                yield f"D{d}", f"img{k}", m, versions[m]


def calibration_sources():
    rng = np.random.default_rng(99)
    for k in range(10):
        hr = upscale_bicubic(np.clip(rng.normal(128, 40, (SIZE // 4, SIZE // 4, 3)), 0, 255).astype(np.uint8), 4)
        yield f"cal{k}", upscale_nearest(degrade(hr, 4, "bicubic"), 4), hr


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("blind") / "study"
    mos.prepare_study([f"D{d}" for d in range(N_DATASETS)], ["bicubic", "srresnet", "srgan"], out, raters=3,
                      calibration=10, calibration_dataset="Cal", embed="yes", sources=realistic_sources(),
                      calibration_sources=calibration_sources(), progress=lambda m: None)
    return out


def guess_by_order(ids_in_order, methods):
    """The generation-order attack: the i-th item of a list is method i mod k."""
    return {i: methods[pos % len(methods)] for pos, i in enumerate(ids_in_order)}


def guess_by_rank(values: dict, methods):
    """The size attack: the smallest N/k items are NN, the next N/k bicubic, ... (ties by id)."""
    ranked = sorted(values, key=lambda i: (values[i], i))
    per = len(ranked) / len(methods)
    return {i: methods[min(int(pos // per), len(methods) - 1)] for pos, i in enumerate(ranked)}


def right_guesses(guess: dict, truth: dict) -> int:
    return sum(guess[i] == truth[i] for i in truth)


def chance_p(right: int, n: int, k: int) -> float:
    return stats.binomtest(right, n, 1 / k, alternative="greater").pvalue


def test_rater_folder_holds_nothing_but_the_items_pages_and_study_json(study):
    m = mos.load_manifest(study)
    rater = study / "rater"
    files = sorted(str(p.relative_to(rater)) for p in rater.rglob("*") if p.is_file())
    expected = sorted(["study.json", "rate_r01.html", "rate_r02.html", "rate_r03.html"]
                      + [f"items/{i}.png" for i in [*m["items"], *m["calibration_items"]]])
    assert files == expected
    public = json.loads((rater / "study.json").read_text())
    assert set(public) == {"format", "version", "study_id", "seed", "items", "calibration_pairs",
                           "calibration_count", "scores"}
    assert public["items"] == sorted(m["items"])  # ids only, sorted
    for p in (rater / "items").iterdir():  # PNG with no ancillary chunk: nothing but the pixels
        data, pos, chunks = p.read_bytes(), 8, []
        while pos < len(data):
            n = int.from_bytes(data[pos:pos + 4], "big")
            chunks.append(data[pos + 4:pos + 8])
            pos += 12 + n
        assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND" and set(chunks[1:-1]) == {b"IDAT"}, (p.name, chunks)


def test_sizes_times_and_bytes_are_exactly_uninformative(study):
    m = mos.load_manifest(study)
    items = study / "rater" / "items"
    all_ids = [*m["items"], *m["calibration_items"]]
    sizes = {(items / f"{i}.png").stat().st_size for i in all_ids}
    assert len(sizes) == 1  # every 32 x 32 item has the same byte count
    assert {(items / f"{i}.png").stat().st_mtime for i in all_ids} == {NEUTRAL_TIME}
    for page in (study / "rater").glob("rate_*.html"):
        srcs = [it["src"] for it in page_data(page)["items"]]
        assert len({len(s) for s in srcs}) == 1
    # calibration images are never byte-identical to study items (the old default made the hidden
    # NN/HR items recognisable by their bytes)
    cal_bytes = {(items / f"{i}.png").read_bytes() for i in m["calibration_items"]}
    assert not cal_bytes & {(items / f"{i}.png").read_bytes() for i in m["items"]}


def test_adversarial_rater_recovers_methods_at_chance_only(study):
    m = mos.load_manifest(study)
    truth = {i: it["method"] for i, it in m["items"].items()}
    methods, n, k = m["methods"], len(truth), len(m["methods"])
    rater = study / "rater"
    items_dir = rater / "items"
    public = json.loads((rater / "study.json").read_text())
    cal_ids = {i for pair in public["calibration_pairs"] for i in pair}  # known to the rater anyway
    study_ids = [p.stem for p in items_dir.iterdir() if p.stem not in cal_ids]
    assert sorted(study_ids) == sorted(truth)
    st = {i: (items_dir / f"{i}.png").stat() for i in study_ids}

    def ordered(key):
        return sorted(study_ids, key=lambda i: (key(i), i))

    listing = [e.name[:-4] for e in os.scandir(items_dir) if e.name[:-4] not in cal_ids]
    orders = {
        "sorted ids": sorted(study_ids),
        "modification times": ordered(lambda i: st[i].st_mtime_ns),
        "change times (write order)": ordered(lambda i: st[i].st_ctime_ns),
        "inode numbers (creation order)": ordered(lambda i: st[i].st_ino),
        "directory listing order": listing,
        "study.json order": public["items"],
    }
    for page in sorted(rater.glob("rate_*.html")):
        orders[f"{page.name} order"] = [it["id"] for it in page_data(page)["items"]]
    guesses = {}
    for name, order in orders.items():
        guesses[f"{name}"] = guess_by_order(order, methods)
        guesses[f"{name}, reversed"] = guess_by_order(order[::-1], methods)
    guesses["file sizes"] = guess_by_rank({i: st[i].st_size for i in study_ids}, methods)
    html = (rater / "rate_r01.html").read_text()
    guesses["embedded data-URI lengths"] = guess_by_rank(
        {it["id"]: len(it["src"]) for it in page_data(rater / "rate_r01.html")["items"]}, methods)
    guesses["position of the id in the page"] = guess_by_order(
        sorted(study_ids, key=lambda i: html.index(i)), methods)
    for name, guess in guesses.items():
        right = right_guesses(guess, truth)
        assert chance_p(right, n, k) > P_FLOOR, f"{name}: {right}/{n} right (chance: {n / k:.0f})"
    # byte identity with a calibration image (labelled NN or HR) gives nothing away
    cal_bytes = {(items_dir / f"{i}.png").read_bytes() for i in cal_ids}
    assert not [i for i in study_ids if (items_dir / f"{i}.png").read_bytes() in cal_bytes]

    # controls: the same scorers break a leaky layout
    generation_order = list(m["items"])  # manifest order = the order the old tool wrote and named items
    assert right_guesses(guess_by_order(generation_order, methods), truth) == n
    from PIL import Image

    def default_png_size(i):
        buf = io.BytesIO()
        Image.open(items_dir / f"{i}.png").save(buf, format="PNG")
        return len(buf.getvalue())
    leaky = guess_by_rank({i: default_png_size(i) for i in study_ids}, ["nearest", "hr", "bicubic", "srresnet",
                                                                          "srgan"])
    right = right_guesses(leaky, truth)
    assert chance_p(right, n, k) < 1e-20, f"compressed sizes: only {right}/{n}"


def test_ids_do_not_depend_on_the_seed(tmp_path):
    """The same study prepared twice with the same seed gets new ids (secrets), the same orders of
    positions (the seed), and nothing else in common."""
    from test_mos import make_study
    a, b = make_study(tmp_path, name="a"), make_study(tmp_path, name="b")
    pa, pb = mos.load_public(a), mos.load_public(b)
    assert not set(pa["items"]) & set(pb["items"]) and pa["study_id"] != pb["study_id"]
    ma, mb = mos.load_manifest(a), mos.load_manifest(b)
    key = lambda m, i: tuple(m["items"][i].values())  # noqa: E731
    # what each position of a rater's sequence holds differs between the two studies
    _, seq_a = mos.rater_sequence(pa, "r01")
    _, seq_b = mos.rater_sequence(pb, "r01")
    same = sum(key(ma, x) == key(mb, y) for x, y in zip(seq_a, seq_b))
    assert chance_p(same, len(seq_a), len(seq_a)) > P_FLOOR
    assert re.fullmatch(r"[0-9a-f]{16}", pa["study_id"])
