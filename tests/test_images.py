"""srgan_lib.images: robust reading (modes, 16 bit, EXIF), atomic writing, folder listing."""
import os

import numpy as np
import pytest
from PIL import Image

from srgan_lib import errors
from srgan_lib.images import (MAX_PIXELS, ImageReadError, list_images, pixels_from_pil, read_image,
                              read_pixels, write_image)


@pytest.fixture
def rgb(rng):
    return rng.integers(0, 256, size=(7, 9, 3), dtype=np.uint8)


def test_rgb_roundtrip(tmp_path, rgb):
    p = write_image(tmp_path / "a.png", rgb)
    out = read_image(p)
    assert out.dtype == np.uint8 and out.shape == (7, 9, 3)
    np.testing.assert_array_equal(out, rgb)


def test_grayscale_replicated(tmp_path, rng):
    g = rng.integers(0, 256, size=(5, 6), dtype=np.uint8)
    Image.fromarray(g, "L").save(tmp_path / "g.png")
    out = read_image(tmp_path / "g.png")
    assert out.shape == (5, 6, 3)
    for c in range(3):
        np.testing.assert_array_equal(out[:, :, c], g)


def test_la_and_rgba_drop_alpha(tmp_path, rgb, rng):
    alpha = rng.integers(0, 256, size=rgb.shape[:2], dtype=np.uint8)
    Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(tmp_path / "a.png")
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), rgb)
    px = read_pixels(tmp_path / "a.png")
    np.testing.assert_array_equal(px.rgb, rgb)
    np.testing.assert_array_equal(px.alpha, alpha)
    Image.fromarray(np.dstack([rgb[:, :, 0], alpha]), "LA").save(tmp_path / "la.png")
    out = read_image(tmp_path / "la.png")
    np.testing.assert_array_equal(out, np.repeat(rgb[:, :, :1], 3, axis=2))
    assert read_pixels(tmp_path / "la.png").alpha is not None
    assert read_pixels(write_image(tmp_path / "b.png", rgb)).alpha is None


def test_palette(tmp_path):
    palette_rgb = np.array([[255, 0, 0], [0, 128, 255], [10, 20, 30]], dtype=np.uint8)
    idx = np.array([[0, 1, 2], [2, 1, 0]], dtype=np.uint8)
    im = Image.fromarray(idx, "P")
    im.putpalette(palette_rgb.ravel().tolist())
    im.save(tmp_path / "p.png")
    np.testing.assert_array_equal(read_image(tmp_path / "p.png"), palette_rgb[idx])


def test_16bit_scaled_not_truncated(tmp_path):
    v = np.array([[0, 257, 32768], [65535, 65280, 1000]], dtype=np.uint16)
    Image.fromarray(v).save(tmp_path / "d.png")  # a 16-bit grayscale PNG
    assert Image.open(tmp_path / "d.png").mode.startswith("I")
    out = read_image(tmp_path / "d.png")
    expected = np.rint(v.astype(float) * 255 / 65535).astype(np.uint8)  # 0, 1, 128, 255, 254, 4
    np.testing.assert_array_equal(out[:, :, 0], expected)
    np.testing.assert_array_equal(out[:, :, 2], expected)
    # "I" mode (32-bit int holding 16-bit data)
    Image.fromarray(v.astype(np.int32), "I").save(tmp_path / "i.tif")
    np.testing.assert_array_equal(read_image(tmp_path / "i.tif")[:, :, 1], expected)


def test_cmyk(tmp_path, rgb):
    Image.fromarray(rgb, "RGB").convert("CMYK").save(tmp_path / "c.jpg", quality=100)
    out = read_image(tmp_path / "c.jpg")
    assert out.shape == rgb.shape and out.dtype == np.uint8
    im = Image.open(tmp_path / "c.jpg")
    assert im.mode == "CMYK"
    np.testing.assert_array_equal(out, np.asarray(im.convert("RGB")))


def test_exif_orientation_applied(tmp_path):
    a = np.zeros((2, 4, 3), dtype=np.uint8)
    a[0, 0] = 255  # top-left white pixel
    im = Image.fromarray(a)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    im.save(tmp_path / "r.png", exif=exif.tobytes())
    out = read_image(tmp_path / "r.png")
    assert out.shape == (4, 2, 3)
    assert out[0, 1].tolist() == [255, 255, 255]  # top-left went to top-right
    assert out.sum() == 3 * 255


@pytest.mark.parametrize("content", [b"not an image at all", b"", b"\x89PNG\r\n\x1a\n garbage"])
def test_unreadable_raises_one_line_error_naming_file(tmp_path, content):
    p = tmp_path / "bad.png"
    p.write_bytes(content)
    with pytest.raises(ImageReadError) as info:
        read_image(p)
    msg = str(info.value)
    assert "bad.png" in msg and "\n" not in msg
    assert isinstance(info.value, errors.UserError) and isinstance(info.value, ValueError)


def test_truncated_file(tmp_path, rng):
    big = rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    Image.fromarray(big).save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "trunc.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="trunc.png"):
        read_image(tmp_path / "trunc.png")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(errors.InputNotFoundError, match="nope.png"):
        read_image(tmp_path / "nope.png")
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(ImageReadError, match="dir.png.*folder"):
        read_image(tmp_path / "dir.png")


def test_write_refuses_overwrite_and_is_atomic(tmp_path, rgb):
    p = tmp_path / "x.png"
    write_image(p, rgb)
    with pytest.raises(errors.OutputExistsError, match="x.png"):
        write_image(p, np.zeros_like(rgb))
    np.testing.assert_array_equal(read_image(p), rgb)  # untouched
    write_image(p, np.zeros_like(rgb), overwrite=True)
    assert read_image(p).max() == 0
    assert sorted(os.listdir(tmp_path)) == ["x.png"]  # no temp files left behind


def test_write_failure_leaves_nothing(tmp_path):
    with pytest.raises(ValueError):
        write_image(tmp_path / "y.png", np.zeros((4, 4, 3), dtype=np.float32))
    with pytest.raises(errors.UserError, match="extension"):
        write_image(tmp_path / "y.xyz", np.zeros((4, 4, 3), dtype=np.uint8))
    with pytest.raises(errors.UserError, match="JPEG has no alpha"):
        write_image(tmp_path / "y.jpg", np.zeros((4, 4, 4), dtype=np.uint8))
    with pytest.raises(errors.OutputError, match="missing"):
        write_image(tmp_path / "missing" / "y.png", np.zeros((4, 4, 3), dtype=np.uint8))
    assert os.listdir(tmp_path) == []


def test_write_format_from_suffix(tmp_path, rgb):
    write_image(tmp_path / "x.jpg", rgb)
    write_image(tmp_path / "x.bmp", rgb)
    assert Image.open(tmp_path / "x.jpg").format == "JPEG"
    assert Image.open(tmp_path / "x.bmp").format == "BMP"
    np.testing.assert_array_equal(read_image(tmp_path / "x.bmp"), rgb)


def test_list_images(tmp_path, rgb):
    for n in ["b.png", "a.JPG", "c.bmp"]:
        write_image(tmp_path / n, rgb)
    (tmp_path / "notes.txt").write_text("hi")
    (tmp_path / ".hidden.png").write_bytes(b"x")
    (tmp_path / "sub.png").mkdir()
    assert [p.name for p in list_images(tmp_path)] == ["a.JPG", "b.png", "c.bmp"]


def test_list_images_errors(tmp_path):
    with pytest.raises(errors.InputNotFoundError, match="missing"):
        list_images(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("x")
    with pytest.raises(errors.UserError, match="empty"):
        list_images(tmp_path / "empty")
    with pytest.raises(errors.UserError, match="not a folder"):
        list_images(tmp_path / "empty" / "readme.txt")


def test_write_pil_image_and_gray_alpha(tmp_path, rgb):
    im = Image.fromarray(rgb)
    np.testing.assert_array_equal(read_image(write_image(tmp_path / "p.png", im)), rgb)
    la = np.dstack([rgb[:, :, 0], rgb[:, :, 1]])
    with Image.open(write_image(tmp_path / "la.png", la)) as back:
        assert back.mode == "LA"
        np.testing.assert_array_equal(np.asarray(back), la)


def test_pixels_gray_flag_and_alpha(tmp_path, rgb):
    """One conversion for files and in-memory images: gray flag, alpha, 16-bit, palettes."""
    g = rgb[:, :, 0]
    cases = {
        "RGB": (Image.fromarray(rgb), False, False),
        "L": (Image.fromarray(g), True, False),
        "LA": (Image.fromarray(np.dstack([g, g]), "LA"), True, True),
        "1": (Image.fromarray(g > 128), True, False),
        "I;16": (Image.fromarray(g.astype(np.uint16) * 257), True, False),
        "P-gray": (Image.fromarray(g).convert("P"), True, False),
        "P-color": (Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE), False, False),
        "RGBA": (Image.fromarray(np.dstack([rgb, g])), False, True),
    }
    for name, (im, gray, has_alpha) in cases.items():
        px = pixels_from_pil(im)
        assert px.gray == gray and (px.alpha is not None) == has_alpha, name
        assert px.rgb.shape == rgb.shape and px.rgb.dtype == np.uint8, name
        if gray:
            assert (px.rgb == px.rgb[:, :, :1]).all(), name
        path = tmp_path / f"{name}.png"
        im.save(path)
        from_file = read_pixels(path)
        np.testing.assert_array_equal(from_file.rgb, px.rgb)
        assert from_file.gray == gray, name
    np.testing.assert_array_equal(pixels_from_pil(cases["I;16"][0]).rgb[:, :, 0], g)
    np.testing.assert_array_equal(pixels_from_pil(cases["RGBA"][0]).alpha, g)


def test_pixels_from_pil_applies_exif_orientation(rgb):
    im = Image.fromarray(rgb)
    im.getexif()[0x0112] = 8  # rotate 90 degrees counter-clockwise for display
    np.testing.assert_array_equal(pixels_from_pil(im).rgb, np.rot90(rgb))
    assert np.asarray(im).shape == rgb.shape  # the caller's image is not changed


def test_pixel_limit_replaces_pillows(tmp_path, rgb, monkeypatch):
    """The readers apply ``max_pixels`` (default MAX_PIXELS) instead of Pillow's global
    decompression-bomb limit, and leave that global as it was."""
    assert MAX_PIXELS == 2 ** 30
    path = write_image(tmp_path / "a.png", rgb)  # 63 pixels
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)  # Pillow alone would refuse the file
    with pytest.raises(Image.DecompressionBombError):
        Image.open(path)
    np.testing.assert_array_equal(read_image(path), rgb)
    assert Image.MAX_IMAGE_PIXELS == 10
    with pytest.raises(ImageReadError, match="9x7 = 63 pixels is more than max_pixels=62"):
        read_image(path, max_pixels=62)
    np.testing.assert_array_equal(read_image(path, max_pixels=63), rgb)
    np.testing.assert_array_equal(read_image(path, max_pixels=None), rgb)


def test_reads_an_image_above_pillows_limit(tmp_path):
    """A real 14000 x 13000 file (182 million pixels, above Pillow's 179-million refusal limit,
    as the x4 output of a 3500 x 3250 photo is): cheap to make as a 1-bit image, read whole."""
    w, h = 14000, 13000
    im = Image.new("1", (w, h))
    im.putpixel((w - 1, h - 1), 1)
    im.save(tmp_path / "big.png")
    del im
    assert w * h > 2 * Image.MAX_IMAGE_PIXELS
    px = read_pixels(tmp_path / "big.png")
    assert px.rgb.shape == (h, w, 3) and px.gray
    assert px.rgb[-1, -1].tolist() == [255, 255, 255] and int(px.rgb[0].max()) == 0


def test_center_crop():
    from srgan_lib.images import center_crop

    img = np.arange(10 * 12 * 3).reshape(10, 12, 3)
    c = center_crop(img, 4)
    assert c.shape == (4, 4, 3) and c.flags.c_contiguous
    np.testing.assert_array_equal(c, img[3:7, 4:8])
    np.testing.assert_array_equal(center_crop(img, (2, 6)), img[4:6, 3:9])
    assert center_crop(img, 50).shape == (10, 12, 3)  # clipped to the image
    assert center_crop(img, None) is not None and center_crop(img, 0).shape == img.shape
    np.testing.assert_array_equal(center_crop(img[:, :, 0], 3), img[3:6, 4:7, 0])
