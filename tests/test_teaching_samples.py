"""srgan_lib.teaching.samples: the book's test images (a cached benchmark set, else scikit-image's)."""
import numpy as np
import pytest
from PIL import Image

from srgan_lib import data
from srgan_lib.errors import InputNotFoundError, UserError
from srgan_lib.teaching import samples


def test_sample_images_uses_the_dataset_when_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("SRGAN_DATA_DIR", str(tmp_path))
    (tmp_path / "Set5" / "HR").mkdir(parents=True)
    rng = np.random.default_rng(0)
    arrays = {"b": rng.integers(0, 256, (30, 21, 3), dtype=np.uint8), "a": rng.integers(0, 256, (17, 18, 3), dtype=np.uint8)}
    for k, v in arrays.items():
        Image.fromarray(v).save(tmp_path / "Set5" / "HR" / f"{k}.png")
    s = samples.sample_images("Set5", scale=4)
    assert isinstance(s, samples.SampleImages) and isinstance(s, list)
    assert s.is_benchmark and s.source == "Set5" and s.note == ""
    assert [n for n, _ in s] == ["a", "b"]
    np.testing.assert_array_equal(s[0][1], arrays["a"][:16, :16])  # modcropped to 4
    np.testing.assert_array_equal(s[1][1], arrays["b"][:28, :20])
    assert s.describe() == "Set5: a 16x16, b 20x28"
    assert len(samples.sample_images("set5", limit=1)) == 1  # case-insensitive name, limit
    assert data.cached_folder("Set5", data.default_cache_dir()) and not data.cached_folder(
        "Set14", data.default_cache_dir())


def test_sample_images_falls_back_to_scikit_image(tmp_path, monkeypatch):
    import skimage.data

    monkeypatch.setenv("SRGAN_DATA_DIR", str(tmp_path))  # empty cache: never downloads
    s = samples.sample_images("Set5", scale=4)
    assert not s.is_benchmark and s.source == "scikit-image" and s.requested == "Set5"
    assert [n for n, _ in s] == ["astronaut", "coffee", "chelsea"]
    assert [im.shape for _, im in s] == [(512, 512, 3), (400, 600, 3), (300, 448, 3)]
    np.testing.assert_array_equal(s[2][1], skimage.data.chelsea()[:300, :448])
    assert "not** the Set5 numbers" in s.note and s.note.startswith("> **Note.** ") and "{" not in s.note and "astronaut" in s.note
    s3 = samples.sample_images("Set5", scale=3, fallback=("coffee",))
    assert [im.shape for _, im in s3] == [(399, 600, 3)]
    assert len(samples.sample_images(None, limit=2)) == 2 and samples.sample_images(None).requested == "(none)"
    with pytest.raises(InputNotFoundError):
        samples.sample_images("Set5", fallback=())
    with pytest.raises(UserError, match="no image 'nope'"):
        samples.skimage_images(("nope",))


@pytest.mark.needs_data
def test_sample_images_set5_shared(data_dir, monkeypatch):
    monkeypatch.setenv("SRGAN_DATA_DIR", str(data_dir))
    s = samples.sample_images("Set5")
    assert s.is_benchmark and [n for n, _ in s] == ["baby", "bird", "butterfly", "head", "woman"]
    assert s[4][1].shape == (344, 228, 3)


def test_chapter_sets_are_the_benchmark_sets_or_the_stand_ins(tmp_path, monkeypatch):
    from srgan_lib.data.benchmark import EvalSet

    monkeypatch.setenv("SRGAN_DATA_DIR", str(tmp_path))
    (tmp_path / "Set5").mkdir()
    Image.fromarray(np.zeros((20, 24, 3), np.uint8)).save(tmp_path / "Set5" / "a.png")
    Image.fromarray(np.zeros((20, 24), np.uint8)).save(tmp_path / "Set5" / "g.png")
    found = samples.chapter_sets(["Set5"])
    assert list(found) == ["Set5"] and isinstance(found["Set5"], EvalSet) and found["Set5"].gray == {"g"}
    stand_in = samples.chapter_sets(["Set5", "Set14"])  # one set missing: all stand-ins, no download
    assert list(stand_in) == ["scikit-image"]
    assert [n for n, _ in stand_in["scikit-image"]] == ["astronaut", "chelsea", "coffee"]


def test_sample_images_decodes_only_the_limit_and_does_not_hide_a_bad_image(tmp_path, monkeypatch):
    from srgan_lib import images

    monkeypatch.setenv("SRGAN_DATA_DIR", str(tmp_path))
    (tmp_path / "Set5").mkdir()
    for k in "abc":
        Image.fromarray(np.zeros((20, 24, 3), np.uint8)).save(tmp_path / "Set5" / f"{k}.png")
    decoded = []
    real = images.read_pixels
    monkeypatch.setattr("srgan_lib.data.benchmark.read_pixels",
                        lambda f, *a, **k: decoded.append(f.name) or real(f, *a, **k))
    assert [n for n, _ in samples.sample_images("Set5", limit=2)] == ["a", "b"] and decoded == ["a.png", "b.png"]
    (tmp_path / "Set5" / "a.png").write_bytes(b"not a png")
    with pytest.raises(UserError, match="a.png"):
        samples.sample_images("Set5")
