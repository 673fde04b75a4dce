"""srgan_lib.degrade: MATLAB-compatible bicubic imresize and the LR degradations."""
import math

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from srgan_lib import degrade as D


# ---------------------------------------------------------------- slow reference (MATLAB, literally)
def _cubic_ref(x):
    ax = abs(x)
    if ax <= 1:
        return 1.5 * ax ** 3 - 2.5 * ax ** 2 + 1
    if ax <= 2:
        return -0.5 * ax ** 3 + 2.5 * ax ** 2 - 4 * ax + 2
    return 0.0


def _resize_1d_ref(v, out_len, scale):
    """MATLAB imresize 'contributions' + resize along one vector, with plain loops (1-based)."""
    n = len(v)
    width = 4.0 / scale if scale < 1 else 4.0
    out = []
    for x in range(1, out_len + 1):
        u = x / scale + 0.5 * (1 - 1 / scale)
        left = math.floor(u - width / 2)
        taps = []
        for j in range(left, left + math.ceil(width) + 2):
            d = u - j
            w = scale * _cubic_ref(scale * d) if scale < 1 else _cubic_ref(d)
            # symmetric mirror: 0 -> 1, -1 -> 2, n+1 -> n, ...
            k = j
            while k < 1 or k > n:
                k = 1 - k if k < 1 else 2 * n + 1 - k
            taps.append((k, w))
        total = sum(w for _, w in taps)
        out.append(sum(w * v[k - 1] for k, w in taps) / total)
    return np.array(out)


def _imresize_ref(img, scale):
    img = np.asarray(img, dtype=np.float64)
    h, w = img.shape[:2]
    oh, ow = math.ceil(h * scale), math.ceil(w * scale)
    tmp = np.zeros((oh, w) + img.shape[2:])
    for c in np.ndindex(*img.shape[2:]):
        for j in range(w):
            tmp[(slice(None), j) + c] = _resize_1d_ref(img[(slice(None), j) + c], oh, scale)
    out = np.zeros((oh, ow) + img.shape[2:])
    for c in np.ndindex(*img.shape[2:]):
        for i in range(oh):
            out[(i, slice(None)) + c] = _resize_1d_ref(tmp[(i, slice(None)) + c], ow, scale)
    return out


# ---------------------------------------------------------------- known values
def test_hand_computed_upscale_x2():
    # x2 upscale, output pixel 1: u = 0.75, taps at input 1-based -1,0,1,2 with distances
    # 1.75, 0.75, -0.25, -1.25 -> Keys(a=-0.5) weights -0.0234375, 0.2265625, 0.8671875, -0.0703125;
    # mirroring -1 -> 2, 0 -> 1: out1 = (0.2265625 + 0.8671875) v1 + (-0.0234375 - 0.0703125) v2.
    # Output pixel 2: u = 1.25, taps 0,1,2,3 (distances 1.25, 0.25, -0.75, -1.75):
    # out2 = (-0.0703125 + 0.8671875) v1 + 0.2265625 v2 - 0.0234375 v3.
    v = np.array([[1.0, 2.0, 3.0, 4.0]])
    out = D.imresize(v, output_shape=(1, 8))[0]
    assert out[0] == pytest.approx(1.09375 * 1 - 0.09375 * 2)  # 0.90625
    assert out[1] == pytest.approx(0.796875 * 1 + 0.2265625 * 2 - 0.0234375 * 3)  # 1.1796875
    # interior of a linear ramp is reproduced exactly (cubic convolution is exact for lines)
    assert out[3] == pytest.approx(2.25) and out[4] == pytest.approx(2.75)
    # symmetric around the centre
    np.testing.assert_allclose(out + out[::-1], 5.0)


def test_x4_downscale_kernel_has_16_taps():
    w = D.resize_weights(64, 16, 0.25)
    assert w.shape == (16, 64)
    # interior row (output 8, 1-based): u = 4*8 - 1.5 = 30.5, taps 23..38 (16 of them),
    # weight of distance d is cubic(d/4)/4, normalised.
    row = w[7]
    nz = np.flatnonzero(row)
    assert nz.tolist() == list(range(22, 38))  # 0-based 22..37 == 1-based 23..38
    d = 30.5 - np.arange(23, 39)
    expected = np.array([_cubic_ref(t / 4) / 4 for t in d])
    expected /= expected.sum()
    np.testing.assert_allclose(row[nz], expected, rtol=0, atol=1e-15)
    # outermost tap: distance 7.5 -> cubic(1.875)/4 = -0.00170898.. (before normalisation)
    assert _cubic_ref(7.5 / 4) / 4 == pytest.approx(-0.0017089843750)
    np.testing.assert_allclose(row[nz], row[nz][::-1])  # symmetric kernel


def test_weight_rows_sum_to_one():
    for n_in, n_out, s in [(96, 24, 0.25), (24, 96, 4), (10, 5, 0.5), (7, 21, 3), (13, 4, 0.3)]:
        np.testing.assert_allclose(D.resize_weights(n_in, n_out, s).sum(axis=1), 1.0, atol=1e-12)


@pytest.mark.parametrize("shape,scale", [((12, 16), 0.25), ((9, 7, 3), 0.5), ((5, 6, 2), 4),
                                         ((10, 11), 1 / 3), ((6, 5, 3), 3), ((13, 17), 0.3)])
def test_matches_slow_reference(rng, shape, scale):
    img = rng.uniform(0, 255, size=shape)
    np.testing.assert_allclose(D.imresize(img, scale=scale), _imresize_ref(img, scale), atol=1e-9)


def test_constant_image_stays_constant():
    for scale in (0.25, 0.5, 2, 4, 1 / 3):
        out = D.imresize(np.full((12, 9, 3), 77.0), scale=scale)
        np.testing.assert_allclose(out, 77.0, atol=1e-10)


def test_output_shape_and_dtype(rng):
    img = rng.integers(0, 256, size=(10, 7, 3), dtype=np.uint8)
    out = D.imresize(img, scale=0.5)
    assert out.dtype == np.float64 and out.shape == (5, 4, 3)  # ceil(7/2) = 4
    assert D.imresize(img, output_shape=(20, 3)).shape == (20, 3, 3)
    with pytest.raises(ValueError):
        D.imresize(img)
    with pytest.raises(ValueError):
        D.imresize(img, scale=2, output_shape=(1, 1))


def test_batch_equals_per_image(rng):
    batch = rng.uniform(0, 255, size=(4, 16, 12, 3))
    out = D.imresize(batch, scale=0.25)
    assert out.shape == (4, 4, 3, 3)
    for i in range(4):
        np.testing.assert_allclose(out[i], D.imresize(batch[i], scale=0.25), atol=1e-10)
        np.testing.assert_allclose(out[i, :, :, 1], D.imresize(batch[i, :, :, 1], scale=0.25), atol=1e-10)


def test_modcrop():
    x = np.zeros((10, 13, 3))
    assert D.modcrop(x, 4).shape == (8, 12, 3)
    assert D.modcrop(np.zeros((2, 10, 13, 3)), 4).shape == (2, 8, 12, 3)
    assert D.modcrop(np.zeros((8, 8)), 4).shape == (8, 8)
    with pytest.raises(ValueError):
        D.modcrop(np.zeros((3, 3)), 4)


def test_bicubic_rounds_and_clips(rng):
    hr = rng.integers(0, 256, size=(16, 20, 3), dtype=np.uint8)
    lr = D.bicubic(hr, 4)
    assert lr.dtype == np.uint8 and lr.shape == (4, 5, 3)
    ref = _imresize_ref(hr, 0.25)
    np.testing.assert_array_equal(lr, np.clip(np.rint(ref), 0, 255).astype(np.uint8))
    # a black/white step edge: the kernel's negative lobes give -3.24 and 258.24 -> clipped
    block = np.zeros((16, 32, 3), dtype=np.uint8)
    block[:, 16:] = 255
    ref = _imresize_ref(block, 0.25)
    assert ref.min() == pytest.approx(-3.2373046875) and ref.max() == pytest.approx(258.2373046875)
    np.testing.assert_array_equal(D.bicubic(block, 4), np.clip(np.rint(ref), 0, 255).astype(np.uint8))
    with pytest.raises(ValueError, match="modcrop"):
        D.bicubic(hr[:15], 4)
    with pytest.raises(ValueError, match="uint8"):
        D.bicubic(hr.astype(float), 4)


def test_gaussian_bicubic(rng):
    hr = rng.integers(0, 256, size=(24, 16, 3), dtype=np.uint8)
    lr = D.gaussian_bicubic(hr, 4, sigma=1.5)
    blurred = gaussian_filter(hr.astype(float), sigma=(1.5, 1.5, 0), mode="reflect", truncate=4.0)
    expected = np.clip(np.rint(_imresize_ref(blurred, 0.25)), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(lr, expected)
    assert not np.array_equal(lr, D.bicubic(hr, 4))


def test_degrade_names(rng):
    hr = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
    assert D.DEGRADATIONS == ("bicubic", "gaussian_bicubic")
    np.testing.assert_array_equal(D.degrade(hr, 4, "bicubic"), D.bicubic(hr, 4))
    np.testing.assert_array_equal(D.degrade(hr, 4, "gaussian_bicubic"), D.gaussian_bicubic(hr, 4))
    with pytest.raises(ValueError, match="unknown degradation 'jpeg'.*bicubic, gaussian_bicubic"):
        D.degrade(hr, 4, "jpeg")


def test_upscale_baselines(rng):
    lr = rng.integers(0, 256, size=(5, 6, 3), dtype=np.uint8)
    nn = D.upscale_nearest(lr, 4)
    assert nn.shape == (20, 24, 3) and nn.dtype == np.uint8
    np.testing.assert_array_equal(nn[::4, ::4], lr)
    np.testing.assert_array_equal(nn[3::4, 3::4], lr)
    bc = D.upscale_bicubic(lr, 4)
    assert bc.shape == (20, 24, 3) and bc.dtype == np.uint8
    np.testing.assert_array_equal(bc, np.clip(np.rint(_imresize_ref(lr, 4)), 0, 255).astype(np.uint8))


