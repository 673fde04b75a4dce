"""The screenshot of the MOS rating page shown in chapter 6 (book/images/mos_rater_page.png).

    python scripts/make_rater_screenshot.py [--out book/images/mos_rater_page.png] [--overwrite]

Builds a tiny study with srgan_lib.mos (Set5 centre crops, bicubic plus the NN/HR anchors, two
calibration images of BSD200; scikit-image's photographs where the benchmark sets are missing),
writes one rater's page (mos.write_rater_page, via prepare_study), opens it in headless Chromium
over the DevTools protocol (tests/headless_chromium.py, the driver the tests use), steps through the
calibration, rates two images with the keyboard and captures the page.  Needs chromium and websocket-client;
the chapter only shows the PNG.
"""
from __future__ import annotations

import argparse
import base64
import io
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from srgan_lib import images, mos
from srgan_lib.errors import SRGANError
from srgan_lib.teaching import samples

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from headless_chromium import ChromiumError, find_chromium, launch  # noqa: E402  (the tests' Chromium driver)

CALIBRATION_FALLBACK = ("rocket", "immunohistochemistry")  # scikit-image photos, not study images


def build_study(work: Path, crop: int) -> Path:
    """A tiny blinded study in ``work/study``: Set5 (or scikit-image) crops, bicubic + anchors."""
    study_set = samples.sample_images("Set5", limit=3)
    calibration_dataset = "BSD200"
    if not study_set.is_benchmark:
        folder = work / "photos"
        folder.mkdir()
        for name, hr in study_set:
            images.write_image(folder / f"{name}.png", hr)
        cal = work / "calibration"
        cal.mkdir()
        for name, hr in samples.skimage_images(CALIBRATION_FALLBACK):
            images.write_image(cal / f"{name}.png", hr)
        datasets, calibration_dataset = [str(folder)], str(cal)
    else:
        datasets = ["Set5"]
    out = work / "study"
    mos.prepare_study(datasets, ["bicubic"], out, raters=1, calibration=2, calibration_dataset=calibration_dataset,
                      crop=crop, seed=0, embed="no", progress=lambda m: None)
    return out


def capture(page_path: Path, binary: str, profile: Path, width: int, height: int) -> bytes:
    """Open the rater page, step through the calibration, rate two images, return the PNG."""
    with launch(binary, profile, extra_flags=("--hide-scrollbars",)) as (_, page):
        page("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        page("Page.enable")
        page("Page.navigate", url=page_path.resolve().as_uri())
        page.wait("document.body && document.body.dataset.phase === 'calibration'")
        while page.js("document.body.dataset.phase") == "calibration":
            page.key("Enter")  # each calibration image: read its anchor score, then Next
            time.sleep(0.1)
        page.wait("document.body.dataset.phase === 'rating'")
        for score in ("4", "2"):
            page.key(score)
            time.sleep(0.1)
        page.wait("document.getElementById('img').complete && document.getElementById('img').naturalWidth > 0")
        shot = page("Page.captureScreenshot", format="png")
        return base64.b64decode(shot["data"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "book" / "images" / "mos_rater_page.png")
    ap.add_argument("--crop", type=int, default=256, help="side of the study's centre crops")
    ap.add_argument("--width", type=int, default=760)
    ap.add_argument("--height", type=int, default=420)
    ap.add_argument("--chromium", default=find_chromium())
    ap.add_argument("--overwrite", action="store_true")
    args = ap.parse_args(argv)
    if not args.chromium:
        print("make_rater_screenshot: chromium is not installed", file=sys.stderr)
        return 2
    try:
        with tempfile.TemporaryDirectory(prefix="rater-shot-") as tmp:
            work = Path(tmp)
            study = build_study(work, args.crop)
            png = capture(study / "rater" / "rate_r01.html", args.chromium, work / "profile", args.width,
                          args.height)
        from PIL import Image

        shot = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        images.write_image(args.out, shot, overwrite=args.overwrite)
    except (SRGANError, ChromiumError) as exc:
        print(f"make_rater_screenshot: {exc}", file=sys.stderr)
        return 2
    print(f"{args.out} ({args.out.stat().st_size / 1024:.0f} KB, {shot.shape[1]}x{shot.shape[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
