"""Malicious and malformed rating files: each is one error line naming the file, and nothing is
aggregated from it (``srgan mos aggregate`` stops before computing anything)."""
from __future__ import annotations

import json
import os

import pytest

from srgan_lib import mos
from srgan_lib.errors import UserError
from srgan_lib.mos.ratings import MAX_RATINGS_BYTES

from test_mos import make_study, run_cli


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    return make_study(tmp_path_factory.mktemp("ratings"), raters=0)


def corpus(manifest) -> dict[str, tuple[bytes | None, str]]:
    """{name: (file content, or None for a special file; a fragment of the expected error)}."""
    item = next(iter(manifest["items"]))
    cal_item = next(iter(manifest["calibration_items"]))
    good = {"format": mos.RATINGS_FORMAT, "version": 1, "study_id": manifest["study_id"], "rater_id": "x",
            "ratings": [{"item": item, "score": 3, "time": "2025-01-01T00:00:00.000Z"}]}
    text = json.dumps(good)
    rating = json.dumps(good["ratings"][0])

    def top(**kw):  # a top-level field replaced (None: removed)
        d = json.loads(text)
        for k, v in kw.items():
            if v is None:
                d.pop(k)
            else:
                d[k] = v
        return json.dumps(d).encode()

    def field(name, raw: str):  # a field of the rating replaced by raw JSON text
        r = json.loads(rating)
        r[name] = "@@"
        return text.replace(rating, json.dumps(r).replace('"@@"', raw)).encode()

    def ratings(raw: str):
        return text.replace(f"[{rating}]", raw).encode()

    deep = 100_000
    return {
        # structure and encoding
        "deep_arrays": (b"[" * deep + b"]" * deep, "nested too deeply"),
        "deep_objects": (b'{"a":' * deep + b"1" + b"}" * deep, "nested too deeply"),
        "deep_in_ratings": (ratings("[" * deep + "]" * deep), "nested too deeply"),
        "truncated": (text[: len(text) // 2].encode(), "not valid JSON"),
        "empty": (b"", "not valid JSON"),
        "whitespace": (b"  \n\t ", "not valid JSON"),
        "trailing_garbage": (text.encode() + b" xyz", "not valid JSON"),
        "two_documents": (text.encode() * 2, "not valid JSON"),
        "binary_garbage": (bytes(range(256)) * 4, "not UTF-8 text"),
        "nul_bytes": (b"\x00" * 64, "not valid JSON"),
        "utf16_le_bom": (text.encode("utf-16"), "UTF-16 or UTF-32 byte-order mark"),
        "utf16_be_bom": (b"\xfe\xff" + text.encode("utf-16-be"), "UTF-16 or UTF-32 byte-order mark"),
        "utf32_le_bom": (b"\xff\xfe\x00\x00" + text.encode("utf-32-le"), "UTF-16 or UTF-32 byte-order mark"),
        "utf32_be_bom": (b"\x00\x00\xfe\xff" + text.encode("utf-32-be"), "UTF-16 or UTF-32 byte-order mark"),
        "utf16_no_bom": (text.encode("utf-16-le"), "not valid JSON"),
        "latin1": (text.replace('"x"', '"\u00e9"').encode("latin-1"), "not UTF-8 text"),
        "duplicate_key": (field("item", f'"{item}", "score": 5'), "the key 'score' twice in one object"),
        "huge_file": (None, f"larger than the {MAX_RATINGS_BYTES} bytes"),
        "just_over_limit": (text.encode() + b" " * (MAX_RATINGS_BYTES + 1 - len(text)), "larger than the"),
        "directory": (None, "not a regular file"),
        "fifo": (None, "not a regular file"),
        # numbers
        "score_infinity": (field("score", "Infinity"), "non-finite number (Infinity)"),
        "score_minus_infinity": (field("score", "-Infinity"), "non-finite number (-Infinity)"),
        "score_nan": (field("score", "NaN"), "non-finite number (NaN)"),
        "score_1e400": (field("score", "1e400"), "number out of range (1e400)"),
        "score_minus_1e400": (field("score", "-1e400"), "number out of range"),
        "score_5000_digits": (field("score", "9" * 5000), "a number with 5000 digits"),
        "score_5000_digit_float": (field("score", "3." + "0" * 5000), "a number of 5002 characters"),
        "score_30_digits": (field("score", "1" + "0" * 29), "a number with 30 digits"),
        "version_nan": (top(version=None)[:-1] + b', "version": NaN}', "non-finite number (NaN)"),
        # rater ids and tokens
        "rater_id_trailing_newline": (top(rater_id="r01\n"), "invalid rater id 'r01\\n'"),
        "rater_id_inner_newline": (top(rater_id="r0\n1"), "invalid rater id"),
        "rater_token_number": (top(rater_token=7), "'rater_token' must be a string"),
        "rater_token_huge": (top(rater_token="a" * 5000), "'rater_token' has 5000 characters"),
        # wrong types and values in the ratings
        "item_list": (field("item", "[1, 2]"), "unknown item id [1, 2]"),
        "item_dict": (field("item", '{"a": 1}'), "unknown item id {'a': 1}"),
        "item_number": (field("item", "7"), "unknown item id 7"),
        "item_null": (field("item", "null"), "unknown item id None"),
        "item_unknown": (field("item", '"ffffffffffff"'), "unknown item id 'ffffffffffff'"),
        "item_calibration": (field("item", f'"{cal_item}"'), "unknown item id"),
        "item_surrogate": (field("item", '"\\ud800"'), "unknown item id '\\ud800'"),
        "score_high": (field("score", "6"), "score 6 is not an integer in 1..5"),
        "score_zero": (field("score", "0"), "score 0"),
        "score_negative": (field("score", "-1"), "score -1"),
        "score_fraction": (field("score", "2.5"), "score 2.5"),
        "score_string": (field("score", '"3"'), "score '3'"),
        "score_bool": (field("score", "true"), "score True"),
        "score_null": (field("score", "null"), "score None"),
        "score_list": (field("score", "[3]"), "score [3]"),
        "score_dict": (field("score", '{"v": 3}'), "score {'v': 3}"),
        "time_missing": (field("time", "null"), "missing timestamp"),
        "time_number": (field("time", "1700000000"), "timestamp 1700000000 is not a string"),
        "time_bad": (field("time", '"yesterday"'), "bad timestamp 'yesterday'"),
        "time_long": (field("time", json.dumps("2" * 10_000)), "timestamp of 10000 characters"),
        "rating_list": (ratings("[[1, 2]]"), "rating #1 is not an object"),
        "rating_string": (ratings('["x"]'), "rating #1 is not an object"),
        "rating_null": (ratings("[null]"), "rating #1 is not an object"),
        "rated_twice": (ratings(f"[{rating}, {rating}]"), "is rated twice"),
        "too_many_ratings": (ratings("[" + ", ".join([rating] * (len(manifest["items"]) + 1)) + "]"),
                             f"{len(manifest['items']) + 1} ratings for a study of"),
        # wrong top level
        "top_list": (b"[1, 2]", "not a MOS ratings file"),
        "top_string": (b'"sr-mos-ratings"', "not a MOS ratings file"),
        "top_null": (b"null", "not a MOS ratings file"),
        "format_missing": (top(format=None), "not a MOS ratings file"),
        "format_other": (top(format="sr-mos-study"), "not a MOS ratings file"),
        "version_string": (top(version="1"), "unsupported ratings format version '1'"),
        "version_bool": (top(version=True), "unsupported ratings format version True"),
        "version_float": (top(version=1.0), "unsupported ratings format version 1.0"),
        "version_future": (top(version=99), "unsupported ratings format version 99"),
        "study_foreign": (top(study_id="0123456789abcdef"), "belong to study '0123456789abcdef'"),
        "study_list": (top(study_id=[manifest["study_id"]]), "belong to study ["),
        "study_missing": (top(study_id=None), "belong to study None"),
        "rater_path": (top(rater_id="../etc"), "invalid rater id '../etc'"),
        "rater_number": (top(rater_id=5), "invalid rater id 5"),
        "rater_missing": (top(rater_id=None), "invalid rater id None"),
        "rater_long": (top(rater_id="r" * 1_000_000), "invalid rater id 'rrrrrrr"),
        "ratings_missing": (top(ratings=None), "'ratings' is not a list (got None)"),
        "ratings_dict": (top(ratings={"a": 1}), "'ratings' is not a list"),
        "ratings_string": (top(ratings="3,4,5"), "'ratings' is not a list"),
        "simulated_string": (top(simulated="yes"), "'simulated' must be true or false, got 'yes'"),
        "calibrated_string": (top(calibrated="no"), "'calibrated' must be true or false"),
        "client_list": (top(client=["html"]), "'client' must be a string"),
        "client_long": (top(client="c" * 10_000), "'client' has 10000 characters"),
        "simulation_list": (top(simulation=[1]), "'simulation' must be an object"),
    }


def write_case(path, content):
    if path.name == "huge_file.json":  # 300 MB, sparse: refused by its size, never read
        with open(path, "wb") as f:
            f.truncate(300 * 1024 * 1024)
    elif path.name == "directory.json":
        path.mkdir()
    elif path.name == "fifo.json":
        os.mkfifo(path)
    else:
        path.write_bytes(content)
    return path


def test_malicious_corpus(study, tmp_path, capsys):
    manifest = mos.load_manifest(study)
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps({"format": mos.RATINGS_FORMAT, "version": 1, "study_id": manifest["study_id"],
                              "rater_id": "good", "rater_token": mos.rater_token(manifest, "good"),
                              "ratings": [{"item": i, "score": 4, "time": "2025-01-01T00:00:00Z"}
                                                               for i in manifest["items"]]}))
    cases = corpus(manifest)
    assert len(cases) >= 38
    for name, (content, fragment) in cases.items():
        path = write_case(tmp_path / f"{name}.json", content)
        with pytest.raises(UserError) as info:  # the API: one UserError naming the file
            mos.load_ratings(path, manifest)
        msg = str(info.value)
        assert msg.startswith(f"{path}: ") and "\n" not in msg and fragment in msg, (name, msg[:300])
        assert len(msg) < len(str(path)) + 300, (name, len(msg))
        # the command: exit 2, one line on stderr naming the file, no report at all
        rc, stdout, err = run_cli(["mos", "aggregate", str(study), str(ok), str(path)], capsys)
        lines = err.strip().splitlines()
        assert rc == 2 and stdout == "" and len(lines) == 1 and str(path) in lines[0], (name, err[:300])
    rc, stdout, _ = run_cli(["mos", "aggregate", str(study), str(ok), "--json"], capsys)
    assert rc == 0 and json.loads(stdout)["raters"] == ["good"]


def test_valid_variants_are_accepted(study, tmp_path):
    """A UTF-8 byte-order mark (RFC 8259 lets parsers ignore it), integral floats, extra fields."""
    manifest = mos.load_manifest(study)
    ids = list(manifest["items"])
    body = {"format": mos.RATINGS_FORMAT, "version": 1, "study_id": manifest["study_id"], "rater_id": "r.1_a-b",
            "client": "html", "calibrated": True, "extra": {"anything": [1, 2]},
            "ratings": [{"item": ids[0], "score": 4.0, "time": "2025-01-01T00:00:00.000Z"},
                        {"item": ids[1], "score": 1, "time": "2025-01-01T00:00:01+02:00"}]}
    body["rater_token"] = mos.rater_token(manifest, "r.1_a-b")
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(body).encode())
    f = mos.load_ratings(path, manifest)
    assert f.rater_id == "r.1_a-b" and f.client == "html" and not f.simulated
    assert [(r["item"], r["score"]) for r in f.ratings] == [(ids[0], 4), (ids[1], 1)]
    assert type(f.ratings[0]["score"]) is int
    empty = tmp_path / "empty_ratings.json"
    empty.write_text(json.dumps(dict(body, rater_id="nobody", ratings=[],
                                     rater_token=mos.rater_token(manifest, "nobody"))))
    rep = mos.aggregate(study, [path, empty])
    assert rep["notes"] == [f"{empty}: rater 'nobody' has no ratings"]
    assert rep["raters"] == ["r.1_a-b", "nobody"]


def test_missing_files_and_studies(study, tmp_path, capsys):
    rc, _, err = run_cli(["mos", "aggregate", str(study), str(tmp_path / "nope.json")], capsys)
    assert rc == 2 and f"{tmp_path / 'nope.json'}: no such file" in err
    rc, _, err = run_cli(["mos", "aggregate", str(tmp_path / "nostudy"), str(tmp_path / "nope.json")], capsys)
    assert rc == 2 and "not a MOS study folder" in err
    broken = tmp_path / "broken_study"
    broken.mkdir()
    (broken / "manifest.json").write_text('{"format": "sr-mos-study", "items": {"a": NaN}}')
    rc, _, err = run_cli(["mos", "aggregate", str(broken), str(tmp_path / "nope.json")], capsys)
    assert rc == 2 and "manifest.json: not a usable JSON file: it holds a non-finite number (NaN)" in err
    with pytest.raises(UserError, match="alpha must be between 0 and 1"):
        mos.aggregate(study, [tmp_path / "nope.json"], alpha=1.5)
