"""Tests for srgan_lib.teaching.showcase: methods of every kind on one image, the benchmark PSNR,
a given LR image, input checks and the figure."""
import math

import numpy as np
import pytest


def _hr():
    from srgan_lib.images import center_crop
    from srgan_lib.teaching.samples import skimage_images
    return center_crop(dict(skimage_images(("astronaut",)))["astronaut"], 64)


def test_compare_methods_scores_every_kind_of_method():
    import keras

    from srgan_lib import degrade, metrics, models
    from srgan_lib.teaching.showcase import compare_methods
    keras.utils.set_random_seed(0)
    hr = _hr()
    gen = models.srresnet(num_blocks=1, filters=8)
    res = compare_methods(hr, {"nn": "nearest", "bic": "bicubic", "net": gen,
                               "fn": lambda lr: degrade.upscale_bicubic(lr, 4)})
    assert [r.label for r in res] == ["nn", "bic", "net", "fn", "HR"]
    bic = degrade.upscale_bicubic(degrade.bicubic(hr, 4), 4)
    np.testing.assert_array_equal(res[1].image, bic)
    assert res[1].psnr == metrics.psnr(bic, hr, border=4) == res[3].psnr
    np.testing.assert_array_equal(res[2].image, models.super_resolve(gen, degrade.bicubic(hr, 4)))
    assert math.isinf(res[-1].psnr) and res[-1].image is not hr
    other = np.zeros((16, 16, 3), np.uint8)
    res = compare_methods(hr, {"bic": "bicubic"}, lr_uint8=other, with_hr=False)
    assert len(res) == 1 and res[0].image.max() == 0


def test_compare_methods_checks_and_draws():
    import matplotlib
    matplotlib.use("Agg")
    from srgan_lib.errors import UserError
    from srgan_lib.teaching.showcase import as_method, compare_methods, methods_figure
    hr = _hr()
    with pytest.raises(UserError, match="must be uint8 16x16x3"):
        compare_methods(hr, {"b": "bicubic"}, lr_uint8=np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(UserError, match="returned"):
        compare_methods(hr, {"bad": lambda lr: lr})
    with pytest.raises(UserError, match="spec string"):
        as_method(3)
    fig = methods_figure(compare_methods(hr, {"bicubic": "bicubic"}))
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].startswith("bicubic\nPSNR") and titles[1] == "HR\nreference"
