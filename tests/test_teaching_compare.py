"""Tests for srgan_lib.teaching.compare: availability of the variants, the panels of a crop (their
metrics against srgan_lib.metrics / evaluate computed directly), the SR cache, the static grid,
the widget, and the ranking table against an independent computation (evaluate.evaluate)."""
import numpy as np
import pytest


@pytest.fixture(scope="module")
def set5(data_dir):
    from srgan_lib import evaluate
    return evaluate.load_eval_set("Set5")


@pytest.fixture(scope="module")
def small(set5):
    """Two Set5 images cut to 128x128 (fast), and the comparison over them."""
    from srgan_lib.images import center_crop
    from srgan_lib.teaching import compare
    images = [(name, center_crop(hr, 128)) for name, hr in set5 if name in ("butterfly", "bird")]
    assert len(images) == 2
    return compare.Comparison(images)


def test_variant_status_follows_the_shipped_models(monkeypatch):
    from srgan_lib import weights
    from srgan_lib.teaching import compare
    shipped = set(weights.shipped_models())
    available, missing = compare.variant_status()
    assert available == [v for v in compare.VARIANTS if v in shipped or v in compare.BASELINES]
    assert set(missing) == set(compare.VARIANTS) - set(available)
    assert all(why == "no shipped weights" for why in missing.values())
    assert {"srresnet-mse", "srgan-vgg54"} <= set(available)  # the generators this repository ships
    monkeypatch.setattr(weights, "shipped_models", lambda: {})
    available, missing = compare.variant_status()
    assert available == ["bicubic", "hr"] and list(missing) == ["srresnet-mse", "srresnet-vgg22", "srgan-mse",
                                                                "srgan-vgg22", "srgan-vgg54"]
    from srgan_lib.teaching import paper_tables  # one list of the paper's variants for every chapter
    assert compare.VARIANTS == ("bicubic", *paper_tables.TABLE1_VARIANTS, "hr")


def test_comparison_validates_its_input():
    from srgan_lib.errors import UserError
    from srgan_lib.teaching import compare
    with pytest.raises(UserError, match="at least one"):
        compare.Comparison([])
    with pytest.raises(UserError, match="'a' must be uint8"):
        compare.Comparison([("a", np.zeros((32, 32, 3), np.float32))])
    c = compare.Comparison([("a", np.zeros((40, 52, 3), np.uint8))], variants=("bicubic", "srgan-mse", "hr"))
    assert c.images["a"].shape == (40, 52, 3) and c.missing == {"srgan-mse": "no shipped weights"}
    with pytest.raises(UserError, match="'srgan-mse' is not available"):
        c.super_resolve("a", "srgan-mse")
    with pytest.raises(UserError, match="no image 'b'"):
        c.super_resolve("b", "bicubic")
    with pytest.raises(UserError, match="at least 16"):
        c.crop_box("a", 0, 0, 8)
    assert c.crop_box("a", 100, -5, 32) == (8, 0, 32)   # moved inside the image
    assert c.crop_box("a", 0, 0, 500) == (0, 0, 40)     # clipped to the image


def test_super_resolve_is_cached_once_per_image_and_variant(monkeypatch):
    from srgan_lib import methods
    from srgan_lib.degrade import bicubic, upscale_bicubic
    from srgan_lib.teaching import compare
    calls = []
    real = methods.make_method

    def counting(spec, scale=4):
        calls.append(spec)
        return real(spec, scale)

    monkeypatch.setattr(compare, "make_method", counting)
    rng = np.random.default_rng(0)
    images = [("a", rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)),
              ("b", rng.integers(0, 256, (48, 36, 3), dtype=np.uint8))]
    c = compare.Comparison(images, variants=("bicubic", "hr"))
    first = c.super_resolve("a", "bicubic")
    assert c.super_resolve("a", "bicubic") is first
    np.testing.assert_array_equal(first, upscale_bicubic(bicubic(images[0][1], 4), 4))
    c.super_resolve("b", "bicubic")
    assert calls == ["bicubic"]                 # one method per variant
    assert c.super_resolve("a", "hr") is c.images["a"]


@pytest.mark.needs_data
@pytest.mark.needs_vgg
def test_panels_metrics_equal_direct_computation(small, vgg_weights):
    from srgan_lib import evaluate, metrics
    from srgan_lib.teaching import compare
    c = small
    panels = c.panels("butterfly", 20, 30, 64)
    assert [p.variant for p in panels] == c.available
    hr = c.images["butterfly"][20:84, 30:94]
    y_hr = metrics.rgb_to_y(hr)
    for p in panels:
        sr = c.super_resolve("butterfly", p.variant)[20:84, 30:94]
        np.testing.assert_array_equal(p.image, sr)
        np.testing.assert_array_equal(p.difference, np.abs(metrics.rgb_to_y(sr) - y_hr))
        assert p.psnr == metrics.psnr(sr, hr, border=0)
        assert p.ssim == pytest.approx(metrics.ssim(sr, hr, border=0), abs=1e-12)
        assert p.vgg22 == pytest.approx(evaluate.feature_distance(sr, hr, "22"), rel=1e-6)
        assert p.vgg54 == pytest.approx(evaluate.feature_distance(sr, hr, "54"), rel=1e-6, abs=1e-9)
        assert p.label == compare.LABELS[p.variant]
    by = {p.variant: p for p in panels}
    assert by["hr"].psnr == float("inf") and by["hr"].ssim == 1.0 and by["hr"].vgg22 == by["hr"].vgg54 == 0.0
    assert by["hr"].title() == "HR (reference)"
    assert "PSNR" in by["bicubic"].title() and "VGG54" in by["bicubic"].title()
    # the shipped SRResNet-MSE is closer to HR in pixels than bicubic on this crop
    assert by["srresnet-mse"].psnr > by["bicubic"].psnr
    only = c.panels("butterfly", 20, 30, 64, variants=["hr", "srgan-mse", "bicubic"])
    assert [p.variant for p in only] == ["hr", "bicubic"]  # missing ones are left out


@pytest.mark.needs_data
@pytest.mark.needs_vgg
def test_grid_figure_and_difference_scale(small, vgg_weights):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from srgan_lib.errors import UserError
    from srgan_lib.teaching import compare
    c = small
    crops = [("butterfly", 0, 0, 48), ("bird", 40, 40, 48)]
    fig = compare.grid_figure(c, crops, view="image")
    axes = np.array(fig.axes).reshape(2, len(c.available))
    assert axes.shape == (2, len(c.available))
    assert axes[0, 0].get_title().startswith("butterfly: bicubic")
    assert axes[1, -1].get_title() == "HR (reference)"
    assert fig._suptitle is not None and "srgan-mse" in fig._suptitle.get_text()
    plt.close(fig)
    fig = c.figure("bird", 40, 40, 48, variants=["bicubic", "hr"], view="both")
    assert len(fig.axes) == 4
    panels = c.panels("bird", 40, 40, 48, variants=["bicubic", "hr"])
    vmax = compare.difference_scale(panels)
    assert vmax == pytest.approx(max(1.0, np.percentile(panels[0].difference, 99)))
    image = fig.axes[2].get_images()[0]  # the difference row shares one colour scale
    assert image.get_clim() == (0.0, pytest.approx(vmax))
    # HR's own difference is 0 everywhere: no black panel, a note that HR is the reference
    assert fig.axes[3].get_images() == [] and "HR is the reference" in fig.axes[3].texts[0].get_text()
    plt.close(fig)
    fig = c.figure("bird", 40, 40, 48, variants=["bicubic"], view="difference", difference_max=20)
    assert fig.axes[0].get_images()[0].get_clim() == (0.0, 20.0)
    plt.close(fig)
    with pytest.raises(UserError, match="view must be one of"):
        c.figure("bird", 0, 0, 48, view="diff")


@pytest.mark.needs_data
@pytest.mark.needs_vgg
def test_widget_builds_and_draws(small, vgg_weights):
    pytest.importorskip("ipywidgets")
    import matplotlib
    matplotlib.use("Agg")
    from srgan_lib.teaching import compare
    box = compare.widget(small, size=48)
    header, row1, row2, out = box.children
    assert "srgan-mse (no shipped weights)" in header.value
    image, crop, view = row1.children
    top, left, variants = row2.children
    assert list(image.options) == small.names and crop.value == 48
    assert tuple(variants.options) == tuple(small.available)
    image.value = "bird"
    assert top.max == small.images["bird"].shape[0] - compare.MIN_CROP


def _pixel_mse(sr, hr):
    return float(np.mean((sr.astype(np.float64) / 127.5 - hr.astype(np.float64) / 127.5) ** 2))


def _check_ranking(rows, images, variants):
    """rank_losses rows against evaluate.evaluate (VGG distances) and numpy (pixel MSE)."""
    from srgan_lib import evaluate
    assert [r["variant"] for r in rows] == list(variants)
    for r in rows:
        ev = evaluate.evaluate(images, r["variant"], feature_layers=("22", "54"))
        assert r["n"] == ev["n"] == len(images)
        assert r["vgg22"] == pytest.approx(ev["vgg22"], rel=1e-6)
        assert r["vgg54"] == pytest.approx(ev["vgg54"], rel=1e-6)
        method = evaluate.make_method(r["variant"])
        from srgan_lib.degrade import bicubic
        mse = np.mean([_pixel_mse(method(bicubic(hr, 4)), hr) for _, hr in images])
        assert r["mse"] == pytest.approx(mse, rel=1e-9)
    for loss in ("mse", "vgg22", "vgg54"):
        order = sorted(rows, key=lambda r: r[loss])
        assert [r[f"rank_{loss}"] for r in order] == list(range(1, len(rows) + 1))


@pytest.mark.needs_data
@pytest.mark.needs_vgg
def test_rank_losses_equals_an_independent_computation(small, vgg_weights):
    from srgan_lib.teaching import compare
    variants = ("bicubic", "srresnet-mse", "srgan-vgg54")
    rows = compare.rank_losses(small, variants, dataset="Set5 crops")
    _check_ranking(rows, list(small.images.items()), variants)
    by = {r["variant"]: r for r in rows}
    assert by["srresnet-mse"]["rank_mse"] == 1     # the MSE-trained network wins the pixel loss
    assert by["bicubic"]["rank_vgg54"] == 3        # bicubic is last in VGG54
    table = compare.format_ranking(rows)
    assert table.splitlines()[0].startswith("| dataset | variant | pixel MSE (rank)")
    assert f"| Set5 crops | SRResNet-MSE | {by['srresnet-mse']['mse']:.4f} (1) |" in table
    # a missing variant is left out of the ranking
    assert [r["variant"] for r in compare.rank_losses(small, ("bicubic", "srgan-mse"))] == ["bicubic"]


@pytest.mark.needs_data
@pytest.mark.needs_vgg
def test_rank_losses_on_set5(set5, vgg_weights):
    """#11 point 5 on the whole Set5 images (VGG54 of five whole images x three variants, twice)."""
    from srgan_lib.teaching import compare
    variants = ("bicubic", "srresnet-mse", "srgan-vgg54")
    rows = compare.rank_losses(compare.Comparison(set5, variants), variants, dataset="Set5")
    _check_ranking(rows, list(set5), variants)
