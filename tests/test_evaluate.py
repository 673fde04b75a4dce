"""srgan_lib.evaluate and ``srgan eval``: the paper's PSNR/SSIM protocol (Ledig et al. 2017, Sec. 3.1)."""
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from srgan_lib import cli
from srgan_lib.degrade import bicubic, upscale_bicubic
from srgan_lib.evaluate import evaluate, format_table, load_eval_set, make_method
from srgan_lib.images import write_image
from srgan_lib.metrics import psnr, ssim

KEYS = {"dataset", "model", "scale", "n", "psnr", "ssim", "images"}


# ---------------------------------------------------------------- reference numbers (shared/README.md)
@pytest.mark.parametrize("name,n,ref_psnr,ref_ssim", [("Set5", 5, 28.43, 0.811), ("Set14", 14, 26.09, 0.705),
                                                     ("BSD100", 100, 25.96, 0.668)])
def test_bicubic_baseline_reproduces_reference(data_dir, monkeypatch, name, n, ref_psnr, ref_ssim):
    monkeypatch.setenv("SRGAN_DATA_DIR", str(data_dir))
    r = evaluate(name, "bicubic", scale=4)
    assert set(r) == KEYS and r["n"] == n and r["dataset"] == name
    assert r["psnr"] == pytest.approx(ref_psnr, abs=0.02)
    assert r["ssim"] == pytest.approx(ref_ssim, abs=0.002)
    assert r["psnr"] == pytest.approx(np.mean([i["psnr"] for i in r["images"]]))


def test_set14_grayscale_bridge_is_replicated(data_dir):
    images = dict(load_eval_set(data_dir / "Set14", scale=4))
    bridge = images["bridge"]
    assert bridge.ndim == 3 and bridge.shape[2] == 3 and bridge.shape[0] % 4 == 0 and bridge.shape[1] % 4 == 0
    assert np.array_equal(bridge[:, :, 0], bridge[:, :, 2])


# ---------------------------------------------------------------- small synthetic sets
def _smooth_image(rng, h=40, w=36):
    yy, xx = np.mgrid[0:h, 0:w]
    base = 128 + 60 * np.sin(xx / 5.0)[..., None] * np.cos(yy / 7.0)[..., None] * np.array([1.0, 0.7, -0.5])
    return np.clip(base + rng.normal(0, 3, size=(h, w, 3)), 0, 255).astype(np.uint8)


@pytest.fixture
def good_dir(tmp_path, rng):
    """A folder with one image of each awkward kind: RGB, grayscale, RGBA, 16-bit, palette."""
    d = tmp_path / "Mini" / "HR"
    d.mkdir(parents=True)
    rgb = _smooth_image(rng, 42, 38)  # not divisible by 4: gets modcropped
    write_image(d / "a_rgb.png", rgb)
    Image.fromarray(rgb[:, :, 0], "L").save(d / "b_gray.png")
    Image.fromarray(np.dstack([rgb, np.full(rgb.shape[:2], 7, np.uint8)]), "RGBA").save(d / "c_rgba.png")
    Image.fromarray(rgb[:, :, 1].astype(np.uint16) * 257).save(d / "d_16bit.png")
    Image.fromarray(rgb).quantize(64).save(d / "e_palette.png")
    assert Image.open(d / "d_16bit.png").mode.startswith("I") and Image.open(d / "e_palette.png").mode == "P"
    return d


def test_load_eval_set_folder_and_name(good_dir, monkeypatch):
    items = load_eval_set(good_dir.parent, scale=4)  # the HR subfolder is found
    assert [n for n, _ in items] == ["a_rgb", "b_gray", "c_rgba", "d_16bit", "e_palette"]
    for _, hr in items:
        assert hr.dtype == np.uint8 and hr.shape == (40, 36, 3)
    monkeypatch.setenv("SRGAN_DATA_DIR", str(good_dir.parent.parent))
    by_name = load_eval_set("Mini", scale=4)
    assert [n for n, _ in by_name] == [n for n, _ in items]
    assert len(load_eval_set("mini", scale=4)) == 5  # case-insensitive
    with pytest.raises(FileNotFoundError, match="NoSuchSet"):
        load_eval_set("NoSuchSet")


def test_make_method_baselines(rng):
    lr = rng.integers(0, 256, size=(6, 5, 3), dtype=np.uint8)
    np.testing.assert_array_equal(make_method("bicubic", 4)(lr), upscale_bicubic(lr, 4))
    nn = make_method("nearest", 3)(lr)
    assert nn.shape == (18, 15, 3)
    np.testing.assert_array_equal(nn[::3, ::3], lr)


def test_make_method_unknown_spec_names_it():
    with pytest.raises((ValueError, FileNotFoundError), match="no-such-model-xyz"):
        make_method("no-such-model-xyz", 4)


def test_evaluate_dict_and_callable(good_dir, tmp_path):
    r = evaluate(good_dir, "bicubic", scale=4)
    assert set(r) == KEYS and r["n"] == 5 and r["dataset"] == "Mini" and r["model"] == "bicubic"
    assert [set(i) for i in r["images"]] == [{"name", "psnr", "ssim"}] * 5
    hr = load_eval_set(good_dir, 4)[0][1]
    sr = upscale_bicubic(bicubic(hr, 4), 4)
    assert r["images"][0]["psnr"] == pytest.approx(psnr(sr, hr)) and r["images"][0]["ssim"] == pytest.approx(ssim(sr, hr))
    # a perfect oracle method via a callable
    items = load_eval_set(good_dir, 4)
    lookup = {bicubic(hr, 4).tobytes(): hr for _, hr in items}
    perfect = evaluate(items, lambda lr: lookup[lr.tobytes()], dataset_name="Mini")
    assert perfect["psnr"] == float("inf") and perfect["ssim"] == pytest.approx(1.0)
    # save_dir writes PNGs and never overwrites
    out = tmp_path / "sr"
    evaluate(good_dir, "nearest", save_dir=out)
    assert sorted(p.name for p in out.iterdir()) == [f"{n}.png" for n, _ in items]
    with pytest.raises(FileExistsError, match="a_rgb.png"):
        evaluate(good_dir, "nearest", save_dir=out)
    evaluate(good_dir, "nearest", save_dir=out, overwrite=True)
    gb = evaluate(good_dir, "bicubic", degradation="gaussian_bicubic")
    assert gb["psnr"] != r["psnr"]
    with pytest.raises(ValueError, match="unknown degradation"):
        evaluate(good_dir, "bicubic", degradation="jpeg")


# ---------------------------------------------------------------- CLI
def _run(capsys, *argv):
    rc = cli.main(["eval", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_json_single_object(capsys, good_dir):
    rc, out, err = _run(capsys, "--dataset", str(good_dir), "--model", "bicubic", "--json")
    assert rc == 0, err
    obj = json.loads(out)
    assert isinstance(obj, dict) and set(obj) == KEYS
    assert obj["n"] == 5 and obj["scale"] == 4 and obj["model"] == "bicubic" and obj["dataset"] == "Mini"
    assert obj["psnr"] == pytest.approx(evaluate(good_dir, "bicubic")["psnr"])


def test_cli_json_list_and_tables(capsys, good_dir, tmp_path):
    other = tmp_path / "Other"
    other.mkdir()
    for f in sorted(good_dir.iterdir())[:2]:
        (other / f.name).write_bytes(f.read_bytes())
    rc, out, err = _run(capsys, "--dataset", f"{good_dir},{other}", "--model", "nearest,bicubic", "--json")
    assert rc == 0, err
    lst = json.loads(out)
    assert isinstance(lst, list) and len(lst) == 4 and all(set(o) == KEYS for o in lst)
    assert [(o["dataset"], o["model"]) for o in lst] == [("Mini", "nearest"), ("Mini", "bicubic"),
                                                         ("Other", "nearest"), ("Other", "bicubic")]
    by = {(o["dataset"], o["model"]): o for o in lst}
    assert by[("Mini", "bicubic")]["psnr"] > by[("Mini", "nearest")]["psnr"]

    rc, out, _ = _run(capsys, "-d", f"{good_dir},{other}", "-m", "nearest,bicubic")
    assert rc == 0
    lines = out.strip().splitlines()
    assert "Mini" in lines[1] and "Other" in lines[1] and "PSNR" in lines[2]
    bic = next(line for line in lines if line.startswith("bicubic"))
    assert f"{by[('Mini', 'bicubic')]['psnr']:.2f}" in bic and f"{by[('Other', 'bicubic')]['ssim']:.4f}" in bic
    rc, out, _ = _run(capsys, "-d", str(good_dir), "-m", "nearest,bicubic", "--markdown")
    assert rc == 0 and out.splitlines()[0] == "| Method | Mini PSNR | Mini SSIM |" and out.count("\n| ") == 2
    rc, out, _ = _run(capsys, "-d", str(good_dir), "-m", "bicubic", "--csv")
    assert rc == 0 and out.splitlines()[0] == "dataset,model,scale,n,psnr,ssim"
    assert out.splitlines()[1].startswith("Mini,bicubic,4,5,")
    assert format_table(lst, "text").count("\n") == 4


def test_cli_save_dir_no_overwrite(capsys, good_dir, tmp_path):
    save = tmp_path / "out"
    rc, _, err = _run(capsys, "-d", str(good_dir), "-m", "bicubic", "--save-dir", str(save))
    assert rc == 0, err
    files = sorted((save / "Mini" / "bicubic_x4").iterdir())
    assert [f.name for f in files][:1] == ["a_rgb.png"] and len(files) == 5
    before = files[0].stat().st_mtime_ns
    rc, _, err = _run(capsys, "-d", str(good_dir), "-m", "bicubic", "--save-dir", str(save))
    assert rc == 2 and "a_rgb.png" in err and "Traceback" not in err
    assert files[0].stat().st_mtime_ns == before
    rc, _, err = _run(capsys, "-d", str(good_dir), "-m", "bicubic", "--save-dir", str(save), "--overwrite")
    assert rc == 0, err


def _bad_case(tmp_path, kind, rng):
    d = tmp_path / kind
    if kind == "missing":
        return d, "missing"
    d.mkdir()
    if kind == "empty":
        (d / "readme.txt").write_text("no images here")
        return d, "empty"
    write_image(d / "ok.png", _smooth_image(rng))
    if kind == "text_as_png":
        (d / "notes.png").write_text("this is not a PNG")
        return d, "notes.png"
    if kind == "truncated":
        write_image(d / "broken.png", rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8))
        data = (d / "broken.png").read_bytes()
        (d / "broken.png").write_bytes(data[: len(data) // 3])
        return d, "broken.png"
    if kind == "tiny":
        write_image(d / "tiny.png", np.zeros((3, 3, 3), np.uint8))
        return d, "tiny.png"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["missing", "empty", "text_as_png", "truncated", "tiny"])
def test_cli_bad_inputs_one_line_error(capsys, tmp_path, rng, kind):
    d, culprit = _bad_case(tmp_path, kind, rng)
    rc, out, err = _run(capsys, "--dataset", str(d), "--model", "bicubic")
    assert rc == 2
    assert culprit in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and err.startswith("srgan eval: error:")
    assert out == ""


def test_cli_unknown_dataset_name_and_model(capsys, monkeypatch, tmp_path, good_dir):
    monkeypatch.setenv("SRGAN_DATA_DIR", str(tmp_path))
    rc, _, err = _run(capsys, "--dataset", "Set999", "--model", "bicubic")
    assert rc == 2 and "Set999" in err and len(err.strip().splitlines()) == 1
    rc, _, err = _run(capsys, "--dataset", str(good_dir), "--model", "no-such-model-xyz")
    assert rc == 2 and "no-such-model-xyz" in err and len(err.strip().splitlines()) == 1


def test_srgan_command_no_traceback(tmp_path):
    (tmp_path / "x.png").write_text("text")
    p = subprocess.run([sys.executable, "-m", "srgan_lib.cli", "eval", "-d", str(tmp_path), "-m", "bicubic"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert "x.png" in p.stderr and "Traceback" not in p.stderr


def test_compare_resizers_rows(rng):
    from srgan_lib.evaluate import compare_resizers

    imgs = [("r", rng.integers(0, 256, size=(32, 40, 3), dtype=np.uint8))]
    rows = compare_resizers(imgs, 4, libraries=("matlab", "pil", "keras"))
    assert [r["library"] for r in rows] == ["matlab", "pil", "keras"]
    hr = imgs[0][1]
    assert np.isinf(rows[0]["lr_psnr"]) and rows[0]["baseline_diff"] == 0
    assert rows[0]["baseline_psnr"] == pytest.approx(psnr(upscale_bicubic(bicubic(hr, 4), 4), hr))
    for r in rows[1:]:
        assert np.isfinite(r["lr_psnr"]) and r["images"][0]["name"] == "r"
        assert r["baseline_diff"] == pytest.approx(r["baseline_psnr"] - rows[0]["baseline_psnr"])


@pytest.mark.needs_data
def test_compare_resizers_set5(data_dir):
    from srgan_lib.evaluate import compare_resizers

    rows = {r["library"]: r for r in compare_resizers(load_eval_set(data_dir / "Set5"), 4)}
    assert rows["matlab"]["baseline_psnr"] == pytest.approx(28.431, abs=0.002)
    assert abs(rows["pil"]["baseline_diff"]) < 0.01 and -0.6 < rows["keras"]["baseline_diff"] < -0.3
