"""srgan_lib.evaluate and ``srgan eval``: the paper's PSNR/SSIM protocol (Ledig et al. 2017, Sec. 3.1)."""
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from srgan_lib import cli
from srgan_lib.degrade import bicubic, upscale_bicubic
from srgan_lib.errors import InputNotFoundError, OutputExistsError, UserError
from srgan_lib.evaluate import evaluate, format_table, load_eval_set, make_method, to_json
from srgan_lib.images import write_image
from srgan_lib.metrics import psnr, ssim

KEYS = {"dataset", "model", "scale", "n", "psnr", "ssim", "identical", "gray", "images"}


# ---------------------------------------------------------------- reference numbers
# Set5 and BSD100: ../shared/README.md.  Set14: the literature's convention for its gray image
# `bridge` (scored on its gray levels, as the MATLAB scripts do): 26.00 / 0.7027 in the EDSR/RCAN
# tables; this library's 25.997 / 0.7031 (the SSIM of those tables comes from another implementation).
@pytest.mark.parametrize("name,n,ref_psnr,ref_ssim", [("Set5", 5, 28.43, 0.811), ("Set14", 14, 26.00, 0.7031),
                                                     ("BSD100", 100, 25.96, 0.668)])
def test_bicubic_baseline_reproduces_reference(data_dir, monkeypatch, name, n, ref_psnr, ref_ssim):
    monkeypatch.setenv("SRGAN_DATA_DIR", str(data_dir))
    r = evaluate(name, "bicubic", scale=4)
    assert set(r) == KEYS and r["n"] == n and r["dataset"] == name and r["identical"] == 0
    assert r["psnr"] == pytest.approx(ref_psnr, abs=0.02)
    assert r["ssim"] == pytest.approx(ref_ssim, abs=0.002)
    assert r["psnr"] == pytest.approx(np.mean([i["psnr"] for i in r["images"]]))
    assert r["gray"] == (["bridge"] if name == "Set14" else [])


def test_set14_gray_convention(data_dir):
    """bridge (mode L) is scored on its gray levels; gray_as_rgb scores it on the Y of the replicated
    RGB, exactly 20 log10(255/219) dB higher, which gives the older 26.09 / 0.7050 for Set14 x4.
    man (gray stored as RGB) is a colour image for both, as in the MATLAB scripts."""
    images = load_eval_set(data_dir / "Set14", scale=4)
    assert images.name == "Set14" and images.gray == {"bridge"}
    bridge = dict(images)["bridge"]
    assert bridge.ndim == 3 and bridge.shape[2] == 3 and bridge.shape[0] % 4 == 0 and bridge.shape[1] % 4 == 0
    assert np.array_equal(bridge[:, :, 0], bridge[:, :, 2])
    lit, rgb = evaluate(images, "bicubic"), evaluate(images, "bicubic", gray_as_rgb=True)
    assert lit["psnr"] == pytest.approx(26.00, abs=0.005) and lit["ssim"] == pytest.approx(0.7031, abs=5e-5)
    assert rgb["psnr"] == pytest.approx(26.09, abs=0.005) and rgb["ssim"] == pytest.approx(0.7050, abs=5e-5)
    assert rgb["gray"] == [] and lit["gray"] == ["bridge"]
    by = {name: (a, b) for name, a, b in zip([i["name"] for i in lit["images"]], lit["images"], rgb["images"])}
    assert by["bridge"][1]["psnr"] - by["bridge"][0]["psnr"] == pytest.approx(20 * np.log10(255 / 219), abs=1e-9)
    assert all(a == b for name, (a, b) in by.items() if name != "bridge")
    # the mean moves by the same gap over the 14 images
    assert rgb["psnr"] - lit["psnr"] == pytest.approx(20 * np.log10(255 / 219) / 14, abs=1e-9)


def test_gray_images_as_arrays_and_generator_outputs(rng):
    """A (H, W) image in a list is a gray image; a colour output for it is scored on its luma."""
    hr = _smooth_image(rng, 40, 36)[:, :, 0]
    plain = evaluate([("g", hr)], "bicubic", dataset_name="G")
    assert plain["gray"] == ["g"]
    sr = upscale_bicubic(bicubic(np.repeat(hr[:, :, None], 3, axis=2), 4), 4)
    assert plain["images"][0]["psnr"] == pytest.approx(psnr(sr[:, :, 0], hr), abs=1e-12)
    tinted = evaluate([("g", hr)], lambda lr: np.clip(upscale_bicubic(lr, 4).astype(int) + [6, 0, -6], 0, 255)
                      .astype(np.uint8), dataset_name="G")
    luma = 0.299 * np.clip(sr[:, :, 0].astype(float) + 6, 0, 255) + 0.587 * sr[:, :, 0] \
        + 0.114 * np.clip(sr[:, :, 0].astype(float) - 6, 0, 255)
    assert tinted["images"][0]["psnr"] == pytest.approx(psnr(luma, hr), abs=1e-9)


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
    with pytest.raises(InputNotFoundError, match="NoSuchSet"):
        load_eval_set("NoSuchSet")
    # gray, 16-bit gray and palette files: only the single-channel ones are gray
    assert load_eval_set(good_dir, 4).gray == {"b_gray", "d_16bit"}


def test_make_method_baselines(rng):
    lr = rng.integers(0, 256, size=(6, 5, 3), dtype=np.uint8)
    np.testing.assert_array_equal(make_method("bicubic", 4)(lr), upscale_bicubic(lr, 4))
    nn = make_method("nearest", 3)(lr)
    assert nn.shape == (18, 15, 3)
    np.testing.assert_array_equal(nn[::3, ::3], lr)


def test_make_method_unknown_spec_names_it():
    with pytest.raises(InputNotFoundError, match="no-such-model-xyz.*shipped: .*srresnet-mse"):
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
    assert perfect["identical"] == 5
    # save_dir writes PNGs and never overwrites
    out = tmp_path / "sr"
    evaluate(good_dir, "nearest", save_dir=out)
    assert sorted(p.name for p in out.iterdir()) == [f"{n}.png" for n, _ in items]
    with pytest.raises(OutputExistsError, match="a_rgb.png"):
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
    assert rc == 0 and out.splitlines()[0] == "dataset,model,scale,n,psnr,ssim,identical"
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


# ---------------------------------------------------------------- identical images, JSON, save folders
@pytest.fixture
def flat_dir(tmp_path, rng):
    """A folder whose first image is flat: every method reproduces it exactly (PSNR inf)."""
    d = tmp_path / "Flat"
    d.mkdir()
    write_image(d / "a_flat.png", np.full((40, 36, 3), 77, np.uint8))
    write_image(d / "b_photo.png", _smooth_image(rng))
    return d


def test_identical_image_is_left_out_of_the_psnr_mean_and_json_is_valid(capsys, flat_dir):
    r = evaluate(flat_dir, "bicubic")
    assert r["images"][0]["psnr"] == float("inf") and r["identical"] == 1
    assert r["psnr"] == r["images"][1]["psnr"] and np.isfinite(r["psnr"])
    assert r["ssim"] == pytest.approx((1.0 + r["images"][1]["ssim"]) / 2)
    rc, out, err = _run(capsys, "-d", str(flat_dir), "-m", "bicubic", "--json")
    assert rc == 0, err

    def refuse(name):
        raise AssertionError(f"not JSON: {name}")

    obj = json.loads(out, parse_constant=refuse)  # no bare Infinity / NaN
    assert obj["images"][0]["psnr"] is None and obj["identical"] == 1
    assert obj["psnr"] == pytest.approx(r["psnr"])
    assert json.loads(to_json(evaluate([("x", np.full((40, 36, 3), 5, np.uint8))], "nearest")))["psnr"] is None
    rc, out, _ = _run(capsys, "-d", str(flat_dir), "-m", "bicubic")
    assert rc == 0 and "note: images reproduced exactly (PSNR inf) are left out of the PSNR mean" in out
    assert "bicubic on Flat: 1 of 2" in out
    rc, out, _ = _run(capsys, "-d", str(flat_dir), "-m", "bicubic", "--csv")
    assert out.splitlines()[0].endswith(",identical") and out.splitlines()[1].endswith(",1")


def test_save_dir_with_two_images_sharing_a_stem(capsys, tmp_path, rng):
    d = tmp_path / "Stems"
    d.mkdir()
    write_image(d / "a.png", _smooth_image(rng))
    write_image(d / "a.jpg", _smooth_image(rng))
    write_image(d / "b.png", _smooth_image(rng))
    items = load_eval_set(d)
    assert [n for n, _ in items] == ["a.jpg", "a.png", "b"]
    save = tmp_path / "out"
    rc, out, err = _run(capsys, "-d", str(d), "-m", "nearest", "--save-dir", str(save), "--json")
    assert rc == 0, err
    assert sorted(p.name for p in (save / "Stems" / "nearest_x4").iterdir()) == ["a.jpg.png", "a.png.png", "b.png"]
    assert [i["name"] for i in json.loads(out)["images"]] == ["a.jpg", "a.png", "b"]
    with pytest.raises(UserError, match="several images are named 'x'"):
        evaluate([("x", _smooth_image(rng)), ("x", _smooth_image(rng))], "nearest", save_dir=tmp_path / "dup")
    assert not (tmp_path / "dup").exists()


def test_cli_save_dir_collisions_and_unwritable(capsys, good_dir, tmp_path):
    """Two datasets with one name would share a save folder: refused before any work.  An
    unwritable --save-dir (under a regular file: refused even for root) is a one-line error."""
    twin = tmp_path / "elsewhere" / "Mini"
    twin.mkdir(parents=True)
    for f in sorted(good_dir.iterdir())[:1]:
        (twin / f.name).write_bytes(f.read_bytes())
    save = tmp_path / "out"
    rc, _, err = _run(capsys, "-d", f"{good_dir},{twin}", "-m", "bicubic", "--save-dir", str(save))
    assert rc == 2 and "two results would be saved as" in err and "a_rgb.png" in err
    assert not save.exists()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc, out, err = _run(capsys, "-d", str(good_dir), "-m", "bicubic", "--save-dir", str(blocker / "sr"))
    assert rc == 2 and out == "" and err.startswith("srgan eval: error: cannot create the folder")
    assert str(blocker) in err and len(err.strip().splitlines()) == 1


def test_cli_rejects_a_bad_feature_layer(capsys, good_dir):
    rc, _, err = _run(capsys, "-d", str(good_dir), "--feature-distance", "33")
    assert rc == 2 and "must be one of 22, 54, got '33'" in err


# ---------------------------------------------------------------- VGG feature distances (issue #11)
@pytest.mark.needs_vgg
@pytest.mark.backend
def test_feature_distances_on_the_training_scale(capsys, good_dir, vgg_weights):
    """--feature-distance 22,54: both columns, each the mean squared distance of
    vgg.vgg_features(layer) (phi / FEATURE_SCALE[layer], the training's scale)."""
    from keras import ops

    from srgan_lib import vgg
    from srgan_lib.models import hr_from_uint8

    rc, out, err = _run(capsys, "-d", str(good_dir), "-m", "nearest,bicubic", "--feature-distance", "22,54", "--json")
    assert rc == 0, err
    results = json.loads(out)
    items = load_eval_set(good_dir, 4)
    for layer in ("22", "54"):
        model = vgg.vgg_features(layer)
        for r in results:
            up = upscale_bicubic if r["model"] == "bicubic" else make_method("nearest", 4)
            want = []
            for (name, hr), row in zip(items, r["images"]):
                f = ops.convert_to_numpy(model(np.stack([hr_from_uint8(up(bicubic(hr, 4))), hr_from_uint8(hr)])))
                want.append(np.mean((f[0].astype(np.float64) - f[1]) ** 2))
                assert row[f"vgg{layer}"] == pytest.approx(want[-1], rel=1e-5)
            assert r[f"vgg{layer}"] == pytest.approx(np.mean(want), rel=1e-5)
    by = {r["model"]: r for r in results}
    assert by["bicubic"]["vgg54"] < by["nearest"]["vgg54"] and by["bicubic"]["vgg22"] < by["nearest"]["vgg22"]
    text = format_table(results)
    assert "VGG22/VGG54 = VGG feature distance" in text and f"{by['bicubic']['vgg22']:.4f}" in text
    md = format_table(results, "markdown")
    assert md.splitlines()[0] == "| Method | Mini PSNR | Mini SSIM | Mini VGG22 | Mini VGG54 |"
    assert format_table(results, "csv").splitlines()[0] == "dataset,model,scale,n,psnr,ssim,vgg22,vgg54,identical"
    # the Python API: feature_layers
    one = evaluate(items, "bicubic", feature_layers=("54",), dataset_name="Mini")
    assert "vgg22" not in one and one["vgg54"] == pytest.approx(by["bicubic"]["vgg54"], rel=1e-6)
    assert evaluate(items, "bicubic", feature_layers=("vgg22",))["vgg22"] == pytest.approx(by["bicubic"]["vgg22"],
                                                                                           rel=1e-6)
