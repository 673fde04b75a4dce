"""Loading generators: run folders, files, and the shipped models in data/weights/."""
import json
from pathlib import Path

import numpy as np
import pytest

import keras

from srgan_lib import models, weights

ROOT = Path(__file__).resolve().parents[1]


def _small(path_stem: Path):
    keras.utils.set_random_seed(0)
    m = models.srresnet(num_blocks=1, filters=8)
    m.save_weights(str(path_stem) + ".weights.h5")
    return m


def test_shipped_models_are_manifest_weight_pairs():
    shipped = weights.shipped_models()
    assert {"srresnet-mse", "srgan-vgg54"} <= set(shipped)
    # evaluation_x4.json and the training logs are not models
    assert "evaluation_x4" not in shipped
    for name, manifest in shipped.items():
        m = json.loads(manifest.read_text())
        assert m["name"] == name and m["file"] == f"{name}.weights.h5"
        assert weights.sha256(manifest.with_name(m["file"])) == m["sha256"]
        assert m["architecture"] == {"scale": 4, "num_blocks": 16, "filters": 64, "upsample": "subpixel"}
        assert m["steps"] > 0 and m["batch_size"] > 0 and m["gpu"] and m["backend"]
        assert set(m["evaluation"]) >= {"Set5", "Set14", "BSD100"}


def test_weights_file_with_manifest_and_sha_check(tmp_path, monkeypatch):
    ref = _small(tmp_path / "tiny")
    manifest = {"name": "tiny", "file": "tiny.weights.h5",
                "architecture": {"scale": 4, "num_blocks": 1, "filters": 8, "upsample": "subpixel"},
                "sha256": weights.sha256(tmp_path / "tiny.weights.h5")}
    (tmp_path / "tiny.json").write_text(json.dumps(manifest))
    (tmp_path / "notes.json").write_text("[1, 2]")  # a JSON file that is not a manifest
    x = np.random.default_rng(0).random((1, 6, 7, 3)).astype("float32")
    # by file (the manifest beside it gives the architecture)
    g = weights.load_generator(tmp_path / "tiny.weights.h5")
    np.testing.assert_allclose(np.asarray(g(x)), np.asarray(ref(x)), atol=1e-6)
    # by name, through SRGAN_WEIGHTS_DIR
    monkeypatch.setenv("SRGAN_WEIGHTS_DIR", str(tmp_path))
    assert weights.shipped_models()["tiny"] == tmp_path / "tiny.json"
    g = weights.load_generator("tiny")
    np.testing.assert_allclose(np.asarray(g(x)), np.asarray(ref(x)), atol=1e-6)
    # a file that does not match its manifest's sha256 is refused
    manifest["sha256"] = "0" * 64
    (tmp_path / "tiny.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="does not match the sha256"):
        weights.load_generator("tiny")


def test_keras_file_and_errors(tmp_path):
    keras.utils.set_random_seed(0)
    m = models.srresnet(num_blocks=1, filters=8)
    m.save(tmp_path / "g.keras")
    x = np.random.default_rng(1).random((1, 5, 5, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(weights.load_generator(tmp_path / "g.keras")(x)),
                               np.asarray(m(x)), atol=1e-6)
    with pytest.raises(FileNotFoundError, match="no-such-model"):
        weights.load_generator("no-such-model")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="not a training run folder"):
        weights.load_generator(tmp_path / "empty")
    (tmp_path / "bad.weights.h5").write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="bad.weights.h5"):
        weights.load_generator(tmp_path / "bad.weights.h5")
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(ValueError, match="expected a run folder"):
        weights.load_generator(tmp_path / "x.txt")


def test_load_errors_are_the_library_types(tmp_path, monkeypatch, capsys):
    """A spec naming nothing: InputNotFoundError listing the shipped models; a malformed run
    configuration, manifest or weights file: UserError naming the file (one line from the CLI)."""
    from srgan_lib import cli
    from srgan_lib.errors import InputNotFoundError, UserError

    with pytest.raises(InputNotFoundError, match=r"'nope'.*shipped: .*srresnet-mse"):
        weights.load_generator("nope")
    run = tmp_path / "run"
    run.mkdir()
    _small(run / "generator")
    (run / "config.json").write_text("[1, 2]")
    with pytest.raises(UserError, match=r"config.json' must hold a JSON object, not list"):
        weights.load_generator(run)
    (run / "config.json").write_text("{not json")
    with pytest.raises(UserError, match=r"config.json' is not valid JSON"):
        weights.load_generator(run)
    (run / "config.json").write_text(json.dumps({"num_blocks": 1, "filters": 8}))
    assert weights.load_generator(run).count_params() == models.srresnet(num_blocks=1, filters=8).count_params()
    _small(tmp_path / "w")
    (tmp_path / "w.json").write_text(json.dumps({"architecture": [1]}))
    with pytest.raises(UserError, match="'architecture' must be an object"):
        weights.load_generator(tmp_path / "w.weights.h5")
    (tmp_path / "bad.keras").write_bytes(b"not a zip")
    with pytest.raises(UserError, match="bad.keras"):
        weights.load_generator(tmp_path / "bad.keras")
    (tmp_path / "manifests").mkdir()
    monkeypatch.setenv("SRGAN_WEIGHTS_DIR", str(tmp_path / "manifests"))
    _small(tmp_path / "manifests" / "broken")
    (tmp_path / "manifests" / "broken.json").write_text('"a string"')
    with pytest.raises(UserError, match="broken.json' must hold a JSON object"):
        weights.load_generator("broken")
    (run / "config.json").write_text("[1, 2]")
    assert cli.main(["eval", "-d", str(tmp_path / "nowhere"), "-m", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("srgan eval: error: run configuration") and len(err.strip().splitlines()) == 1


@pytest.mark.backend
def test_shipped_srresnet_reproduces_its_manifest_on_set5(data_dir):
    """The shipped weights are the ones that were evaluated: Set5 PSNR/SSIM as in the manifest."""
    from srgan_lib import evaluate

    manifest = json.loads((ROOT / "data" / "weights" / "srresnet-mse.json").read_text())
    r = evaluate.evaluate("Set5", "srresnet-mse", scale=4)
    assert r["n"] == 5
    assert r["psnr"] == pytest.approx(manifest["evaluation"]["Set5"]["psnr"], abs=0.01)
    assert r["ssim"] == pytest.approx(manifest["evaluation"]["Set5"]["ssim"], abs=0.001)
    assert r["psnr"] > 30.5  # well above bicubic's 28.43


@pytest.mark.slow
@pytest.mark.parametrize("name", ["srresnet-mse", "srgan-vgg54"])
def test_shipped_models_reproduce_their_manifests_everywhere(data_dir, name):
    """Every number of the manifests' evaluation (and of the README table): Set5, Set14, BSD100.
    About 3 minutes per model on 2 CPU cores (BSD100); run with ``make test-slow``."""
    from srgan_lib import evaluate

    manifest = json.loads((ROOT / "data" / "weights" / f"{name}.json").read_text())
    for dataset in ("Set5", "Set14", "BSD100"):
        r = evaluate.evaluate(dataset, name, scale=4)
        want = manifest["evaluation"][dataset]
        assert r["n"] == want["n"]
        assert r["psnr"] == pytest.approx(want["psnr"], abs=0.01), dataset
        assert r["ssim"] == pytest.approx(want["ssim"], abs=0.001), dataset
