"""srgan_lib.teaching.degradations: Keys' kernel, null-space twins, the mismatch study
(the book's chapter 1)."""
import numpy as np
import pytest

from srgan_lib import degrade as D
from srgan_lib import metrics
from srgan_lib.errors import UserError
from srgan_lib.teaching import degradations as G
from srgan_lib.teaching.resizers import resize_with


def test_keys_matches_matlab_cubic_and_is_an_interpolating_kernel():
    s = np.linspace(-3, 3, 601)
    np.testing.assert_allclose(G.keys(s, -0.5), D._cubic(s), atol=1e-15)
    for a in (-0.5, -0.75, -1.0):
        k = G.keys(np.arange(-3, 4), a)
        np.testing.assert_allclose(k, [0, 0, 0, 1, 0, 0, 0], atol=1e-15)
        np.testing.assert_allclose(G.keys(s, a), G.keys(-s, a))  # symmetric
        eps = 1e-7  # continuous first derivative at |s| = 1 and zero slope at 2
        left = (G.keys(1 - eps, a) - G.keys(1 - 2 * eps, a)) / eps
        right = (G.keys(1 + 2 * eps, a) - G.keys(1 + eps, a)) / eps
        assert abs(left - right) < 1e-5 and abs(G.keys(2 - eps, a)) < 1e-12


def test_only_a_minus_half_reproduces_quadratics():
    for degree in (0, 1, 2):
        assert G.polynomial_error(-0.5, degree) < 1e-12
    assert G.polynomial_error(-0.5, 3) > 1e-2
    assert G.polynomial_error(-0.75, 0) < 1e-12  # every a reproduces constants
    assert G.polynomial_error(-0.75, 1) > 1e-2 and G.polynomial_error(-1.0, 2) > 1e-2


def test_keys_response_dc_and_stretch():
    f = np.array([0.0, 0.05, 0.1, 0.2])
    assert G.keys_response([0.0])[0] == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(G.keys_response(f, stretch=4), G.keys_response(4 * f),
                               atol=1e-12)
    # the unit kernel passes the LR band, the x4-stretched one attenuates at its Nyquist
    assert G.keys_response([0.125])[0] > 0.99
    assert G.keys_response([0.125], stretch=4)[0] < 0.6


def test_null_space_twin_has_the_same_lr_image(rng):
    hr = rng.integers(0, 256, size=(32, 48, 3), dtype=np.uint8)
    twin = G.null_space_twin(hr, 4, amplitude=10, seed=3)
    assert twin.shape == hr.shape and twin.dtype == np.float64
    assert (twin - hr).std() == pytest.approx(10, rel=1e-9)
    np.testing.assert_allclose(D.imresize(twin, scale=0.25), D.imresize(hr, scale=0.25),
                               atol=1e-9)
    with pytest.raises(UserError, match="divisible"):
        G.null_space_twin(hr[:30], 4)


def test_make_lr_kinds(rng):
    from PIL import Image, ImageFilter

    hr = rng.integers(0, 256, size=(48, 40, 3), dtype=np.uint8)
    np.testing.assert_array_equal(G.make_lr(hr, "matlab"), D.bicubic(hr, 4))
    np.testing.assert_array_equal(G.make_lr(hr, "blur:0"), D.bicubic(hr, 4))
    np.testing.assert_array_equal(G.make_lr(hr, "blur:1.5"),
                                  D.gaussian_bicubic(hr, 4, 1.5))
    np.testing.assert_array_equal(G.make_lr(hr, "keras"), resize_with(hr, 4, "keras"))
    seed = Image.fromarray(hr).filter(ImageFilter.GaussianBlur(1.5))
    seed = seed.resize((10, 12), Image.Resampling.BICUBIC)
    np.testing.assert_array_equal(G.make_lr(hr, "seed"), np.asarray(seed))
    for kind in ("jpeg:75", "noise:5", "pil", "skimage"):
        lr = G.make_lr(hr, kind)
        assert lr.shape == (12, 10, 3) and lr.dtype == np.uint8
    # the noise has a fixed seed
    np.testing.assert_array_equal(G.make_lr(hr, "noise:5"), G.make_lr(hr, "noise:5"))
    assert np.array_equal(G.make_lr(hr, "noise:0"), D.bicubic(hr, 4))
    for bad in ("opencv", "blur:-1", "jpeg:0", "jpeg:7.5", "noise:x"):
        with pytest.raises(UserError, match="degradation"):
            G.make_lr(hr, bad)
    assert G.label("keras") == "Keras bicubic (no antialias)"
    assert G.label("jpeg:75") == "MATLAB + JPEG q75"


def test_texture_box_finds_the_textured_window():
    img = np.full((96, 128, 3), 128, np.uint8)
    # a noisy patch on a flat image
    img[40:72, 80:112] = np.random.default_rng(0).integers(0, 256, (32, 32, 3))
    top, left, size = G.texture_box(img, 32, 4, "busiest")
    assert (top, left, size) == (40, 80, 32)
    t, l_, _ = G.texture_box(img, 32, 4, "flattest")
    overlaps = t < 72 and t + 32 > 40 and l_ < 112 and l_ + 32 > 80
    assert t % 4 == 0 and l_ % 4 == 0 and not overlaps
    assert G.texture_box(img, 34, 4)[2] == 32  # the size is rounded down to the LR grid
    with pytest.raises(UserError, match="does not fit"):
        G.texture_box(img, 96, 4)
    with pytest.raises(UserError, match="mode"):
        G.texture_box(img, 32, 4, "random")


def _bicubic_upscaler(batch):
    return np.stack([D.upscale_bicubic(lr, 4) for lr in batch])


def test_study_with_a_bicubic_upscaler_reproduces_the_baseline(rng):
    images = [("a", rng.integers(0, 256, size=(48, 64, 3), dtype=np.uint8)),
              ("b", rng.integers(0, 256, size=(40, 40, 3), dtype=np.uint8))]
    calls = []

    def upscaler(batch):
        calls.append(len(batch))
        return _bicubic_upscaler(batch)

    study = G.MismatchStudy(images, upscaler, kinds=["pil", "keras"])
    assert study.kinds == ["matlab", "pil", "keras"]  # trained_on is added first
    rows = {r["kind"]: r for r in study.summary()}
    assert calls == [3, 3]  # one batch per image with every kind
    for k, r in rows.items():
        assert r["sr_psnr"] == pytest.approx(r["bicubic_psnr"])
        assert r["gain"] == pytest.approx(0)
        hr = dict(images)["a"]
        assert study.score("a", k)["sr_psnr"] == pytest.approx(
            metrics.psnr(D.upscale_bicubic(G.make_lr(hr, k), 4), hr, border=4))
    assert rows["matlab"]["loss"] == 0 and rows["matlab"]["worse_on"] == 0
    want = rows["keras"]["sr_psnr"] - rows["matlab"]["sr_psnr"]
    assert rows["keras"]["loss"] == pytest.approx(want)
    study.sr("a", "skimage")  # a kind outside the study is computed on its own
    assert calls[-1] == 1
    panels = study.crop_panels("a", (8, 8, 32), what="lr")
    assert [p[1].shape for p in panels] == [(32, 32, 3)] * 4 and panels[-1][0] == "HR"
    block = study.lr("a", "matlab")[2:3, 2:3].repeat(4, 0).repeat(4, 1)
    np.testing.assert_array_equal(panels[0][1][:4, :4], block)  # an LR pixel as a block
    # a box that is the whole image, with the benchmark border: the score's PSNR
    title = study.crop_panels("b", (0, 0, 40), ["keras"], "sr", border=4)[0][0]
    assert title.endswith(f"{study.score('b', 'keras')['sr_psnr']:.2f} dB")
    diff = study.difference_to_trained("a", (8, 8, 32))
    assert set(diff) == {"pil", "keras"} and all(v >= 0 for v in diff.values())


def test_study_rejects_bad_input(rng):
    img = rng.integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
    with pytest.raises(UserError, match="divisible"):
        G.MismatchStudy([("x", img[:46])], _bicubic_upscaler)
    with pytest.raises(UserError, match="uint8"):
        G.MismatchStudy([("x", img.astype(float))], _bicubic_upscaler)
    with pytest.raises(UserError, match="unknown degradation"):
        G.MismatchStudy([("x", img)], _bicubic_upscaler, kinds=["opencv"])
    with pytest.raises(UserError, match="at least one"):
        G.MismatchStudy([], _bicubic_upscaler)
    study = G.MismatchStudy([("x", img)], lambda b: b)  # returns its input: no upscaler
    with pytest.raises(UserError, match="x4 model"):
        study.sr("x", "matlab")
    with pytest.raises(UserError, match="no image"):
        study.lr("y", "matlab")


def test_figures_draw(rng):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    img = rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    study = G.MismatchStudy([("x", img)], _bicubic_upscaler, kinds=["keras"])
    for fig in (G.crop_figure(study, "x", (16, 16, 32)),
                G.grid_figure(study, [("x", (16, 16, 32))]),
                G.sweep_figure(study.summary(), [0, 1], "kind")):
        assert fig.axes
        plt.close(fig)


@pytest.mark.backend
def test_study_runs_a_keras_generator(rng):
    from srgan_lib import models

    gen = models.srresnet(num_blocks=1, filters=8)
    img = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    study = G.MismatchStudy([("x", img)], gen, kinds=["pil"])
    sr = study.sr("x", "pil")
    assert sr.shape == (32, 32, 3) and sr.dtype == np.uint8
    eager = models.super_resolve(gen, D.bicubic(study.images["x"], 4))
    # the study compiles the generator with BatchNorm folded: equal up to rounding ties
    assert np.abs(study.sr("x", "matlab").astype(int) - eager).max() <= 1


def test_widget_builds(rng):
    pytest.importorskip("ipywidgets")
    import matplotlib

    matplotlib.use("Agg")
    img = rng.integers(0, 256, size=(64, 80, 3), dtype=np.uint8)
    study = G.MismatchStudy([("x", img), ("y", img[:48])], _bicubic_upscaler,
                            kinds=["keras"])
    box = G.widget(study, size=32)
    image, kind = box.children[0].children
    pick, crop = box.children[1].children
    top, left = box.children[2].children
    assert (top.value, left.value) == G.texture_box(img, 32, 4)[:2]
    image.value = "y"  # a smaller image: the sliders follow
    assert top.max == 48 - crop.value and left.max == 80 - crop.value
    pick.value = "flattest"
    want = G.texture_box(img[:48], crop.value, 4, "flattest")[:2]
    assert (top.value, left.value) == want
    picture = box.children[3]  # an ipywidgets.Image holding the figure as a PNG
    before = bytes(picture.value)
    assert before.startswith(b"\x89PNG")
    image.value = "x"
    assert bytes(picture.value).startswith(b"\x89PNG") and bytes(picture.value) != before


def test_chapter_1_scores_equal_srgan_eval(data_dir):
    """Chapter 1 scores Set14 through samples.sample_images and MismatchStudy; every image's PSNR and
    SSIM must be srgan eval's, the gray bridge (scored on its gray levels) included."""
    from srgan_lib import degrade
    from srgan_lib.evaluate import evaluate
    from srgan_lib.teaching import degradations, samples

    images = samples.sample_images("Set14", scale=4)
    assert images.is_benchmark and images.gray == frozenset({"bridge"})

    def bicubic(lr_batch):  # an "upscaler" that is the bicubic baseline: sr_psnr is then eval's bicubic
        return np.stack([degrade.upscale_bicubic(lr, 4) for lr in lr_batch])

    study = degradations.MismatchStudy(images, bicubic, kinds=["matlab"])
    ref = {r["name"]: r for r in evaluate("Set14", "bicubic")["images"]}
    for name, _ in images:
        score = study.score(name, "matlab")
        assert score["sr_psnr"] == pytest.approx(ref[name]["psnr"], abs=1e-9), name
        assert score["bicubic_psnr"] == pytest.approx(ref[name]["psnr"], abs=1e-9), name
        assert score["sr_ssim"] == pytest.approx(ref[name]["ssim"], abs=1e-9), name
