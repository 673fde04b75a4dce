"""Tests for srgan_lib.teaching.tradeoff: network interpolation (exact endpoints, the blend of every
weight, architecture checks; the shipped generators at alpha 0 and 1) and the perception-distortion
plane (its PSNR is evaluate's, its VGG distance evaluate's feature distance)."""
import numpy as np
import pytest


def _pair(seed=0):
    """Two small generators of one architecture, the second a perturbed copy of the first."""
    import keras

    from srgan_lib import models
    keras.utils.set_random_seed(seed)
    a = models.srresnet(num_blocks=1, filters=8)
    b = models.srresnet(num_blocks=1, filters=8)
    rng = np.random.default_rng(seed)
    b.set_weights([w + rng.normal(0, 0.05, w.shape).astype(w.dtype) if w.ndim else w
                   for w in a.get_weights()])
    return a, b


def _images(size=64):
    from srgan_lib.images import center_crop
    from srgan_lib.teaching.samples import skimage_images
    return [(n, center_crop(hr, size)) for n, hr in skimage_images(("astronaut", "coffee"))]


@pytest.mark.backend
def test_interpolate_weights_endpoints_are_exact_and_the_middle_is_the_mean():
    from srgan_lib.teaching.tradeoff import interpolate_weights
    a, b = _pair()
    wa, wb = a.get_weights(), b.get_weights()
    for got, want in zip(interpolate_weights(a, b, 0), wa):
        assert got.dtype == want.dtype and np.array_equal(got, want)
    for got, want in zip(interpolate_weights(a, b, 1.0), wb):
        assert np.array_equal(got, want)
    mid = interpolate_weights(a, b, 0.25)
    assert len(mid) == len(wa) == len(a.weights)  # BN moving statistics are blended too
    for got, p, g in zip(mid, wa, wb):
        np.testing.assert_allclose(got, 0.75 * p.astype(np.float64) + 0.25 * g, rtol=1e-6, atol=1e-7)
    assert not np.array_equal(mid[0], wa[0]) and not np.array_equal(mid[0], wb[0])


def test_interpolation_checks_alpha_and_architecture():
    from srgan_lib import models
    from srgan_lib.errors import UserError
    from srgan_lib.teaching.tradeoff import interpolate_weights, interpolated_generator
    a, b = _pair()
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(UserError, match="alpha in"):
            interpolate_weights(a, b, bad)
    other = models.srresnet(num_blocks=2, filters=8)
    with pytest.raises(UserError, match="one architecture"):
        interpolate_weights(a, other, 0.5)
    with pytest.raises(UserError, match="another architecture"):
        interpolated_generator(a, b, 0.5, into=other)


@pytest.mark.backend
def test_interpolated_generator_leaves_its_inputs_and_reuses_a_target():
    from srgan_lib.models import super_resolve
    from srgan_lib.teaching.tradeoff import interpolated_generator
    a, b = _pair(1)
    before = [w.copy() for w in a.get_weights()] + [w.copy() for w in b.get_weights()]
    g = interpolated_generator(a, b, 0.5)
    assert g is not a and g is not b
    assert all(np.array_equal(x, y) for x, y in zip(before, a.get_weights() + b.get_weights()))
    again = interpolated_generator(a, b, 1.0, into=g)
    assert again is g
    lr = np.random.default_rng(0).integers(0, 256, (12, 10, 3)).astype(np.uint8)
    np.testing.assert_array_equal(super_resolve(g, lr), super_resolve(b, lr))


@pytest.mark.backend
def test_alpha_0_is_srresnet_mse_and_alpha_1_is_srgan_vgg54():
    """The chapter's curve starts and ends exactly at the two shipped generators."""
    from srgan_lib import weights
    from srgan_lib.models import super_resolve
    from srgan_lib.teaching.tradeoff import interpolated_generator
    psnr, gan = weights.load_generator("srresnet-mse"), weights.load_generator("srgan-vgg54")
    lr = np.random.default_rng(3).integers(0, 256, (20, 24, 3)).astype(np.uint8)
    g = interpolated_generator(psnr, gan, 0.0)
    assert all(np.array_equal(x, y) for x, y in zip(g.get_weights(), psnr.get_weights()))
    np.testing.assert_array_equal(super_resolve(g, lr), super_resolve(psnr, lr))
    g = interpolated_generator(psnr, gan, 1.0, into=g)
    assert all(np.array_equal(x, y) for x, y in zip(g.get_weights(), gan.get_weights()))
    np.testing.assert_array_equal(super_resolve(g, lr), super_resolve(gan, lr))
    half = super_resolve(interpolated_generator(psnr, gan, 0.5, into=g), lr)
    assert not np.array_equal(half, super_resolve(psnr, lr))


@pytest.mark.needs_vgg
def test_plane_point_is_evaluate_with_its_feature_distance(vgg_weights):
    from srgan_lib import evaluate
    from srgan_lib.models import super_resolve
    from srgan_lib.teaching.tradeoff import Plane
    images = _images()
    plane = Plane(images, dataset_name="two crops")
    a, _ = _pair(2)
    for method, same in (("bicubic", "bicubic"), (a, lambda lr: super_resolve(a, lr))):
        p = plane.point("m", method)
        ref = evaluate.evaluate(images, same, dataset_name="two crops", feature_layers=("54",))
        assert p["dataset"] == "two crops" and p["n"] == 2 and p["label"] == "m"
        assert p["psnr"] == ref["psnr"] and p["ssim"] == ref["ssim"]
        assert p["vgg54"] == pytest.approx(ref["vgg54"], rel=1e-5)
        for row, want in zip(p["images"], ref["images"]):
            assert row["name"] == want["name"] and row["vgg54"] == pytest.approx(want["vgg54"], rel=1e-5)


@pytest.mark.needs_vgg
def test_interpolation_curve_runs_from_one_model_to_the_other(vgg_weights):
    from srgan_lib.teaching.tradeoff import Plane, interpolation_curve, plane_figure
    plane = Plane(_images(48), dataset_name="crops")
    a, b = _pair(4)
    curve = interpolation_curve(plane, a, b, alphas=(0.0, 0.5, 1.0), label="blend")
    assert [c["alpha"] for c in curve] == [0.0, 0.5, 1.0]
    assert curve[1]["label"] == "blend alpha=0.5"
    ends = {}
    for c, model, alpha in ((curve[0], a, 0), (curve[-1], b, 1)):
        ends[alpha] = plane.point(f"model {alpha}", model)
        assert (c["psnr"], c["vgg54"]) == (ends[alpha]["psnr"], ends[alpha]["vgg54"])
    reused = interpolation_curve(plane, a, b, alphas=(0, 0.5, 1), known=ends)
    assert [c["label"] for c in reused] == ["model 0", "interpolated alpha=0.5",
                                            "model 1"]
    assert reused[1]["psnr"] == curve[1]["psnr"] and reused[0]["alpha"] == 0.0
    import matplotlib
    matplotlib.use("Agg")
    fig = plane_figure([("crops", [plane.point("bicubic", "bicubic")], curve)])
    ax = fig.axes[0]
    assert ax.get_title() == "crops" and "PSNR" in ax.get_xlabel()
    texts = [t.get_text() for t in ax.texts]
    assert "bicubic" in texts and "0.5" in texts  # the point and the curve's alpha labels
    from srgan_lib.errors import UserError
    with pytest.raises(UserError, match="at least one"):
        plane_figure([])
    with pytest.raises(UserError, match="layer must be"):
        Plane(_images(48), layer="33")


def test_lpips_plane_and_published_points(lpips_weights):
    """A plane without VGG, with LPIPS: its points carry evaluate's LPIPS; the published points are
    drawn as hollow grey diamonds beside the computed ones."""
    import matplotlib

    from srgan_lib import evaluate
    from srgan_lib.teaching.tradeoff import PUBLISHED, Plane, plane_figure, published_points
    matplotlib.use("Agg")
    images = _images(48)
    plane = Plane(images, layer=None, lpips="alex", dataset_name="crops")
    p = plane.point("bicubic", "bicubic")
    ref = evaluate.evaluate(images, "bicubic", dataset_name="crops", lpips="alex")
    assert plane.key is None and "vgg54" not in p
    assert p["lpips"] == ref["lpips"] and p["images"][0]["lpips"] == ref["images"][0]["lpips"]
    pub = published_points("Set5")
    assert [q["label"] for q in pub] == list(PUBLISHED) and all(q["published"] for q in pub)
    assert {q["label"]: (q["psnr"], q["lpips"]) for q in pub}["SRGAN"] == (29.168, 0.0882)
    assert published_points("Urban100") == []
    fig = plane_figure([("Set5", [p] + pub, None)], key="lpips")
    ax = fig.axes[0]
    assert ax.get_yscale() == "linear" and ax.get_ylabel().startswith("LPIPS to HR")
    hollow = [line for line in ax.lines if line.get_label().endswith("(published)")]
    assert [line.get_markerfacecolor() for line in hollow] == ["none"] * len(PUBLISHED)
    assert len({line.get_marker() for line in hollow}) == len(PUBLISHED)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"{k} (published)" for k in PUBLISHED]
    assert [t.get_text() for t in ax.texts] == ["bicubic"]  # computed points are labelled on the axes
