"""The screenshot of the MOS rating page shown in chapter 6 (book/images/mos_rater_page.png).

    python scripts/make_rater_screenshot.py [--out book/images/mos_rater_page.png] [--overwrite]

Builds a tiny study with srgan_lib.mos (Set5 centre crops, bicubic plus the NN/HR anchors, two
calibration images of BSD200; scikit-image's photographs where the benchmark sets are missing),
writes one rater's page (mos.write_rater_page, via prepare_study), opens it in headless Chromium
over the DevTools protocol (as tests/test_mos_rater_ui.py does), steps through the calibration,
rates two images with the keyboard and captures the page.  Needs chromium and websocket-client;
the chapter only shows the PNG.
"""
from __future__ import annotations

import argparse
import base64
import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

from srgan_lib import images, mos
from srgan_lib.errors import SRGANError
from srgan_lib.teaching import samples

ROOT = Path(__file__).resolve().parents[1]
CALIBRATION_FALLBACK = ("rocket", "immunohistochemistry")  # scikit-image photos, not study images


class CDP:
    """A minimal Chrome DevTools Protocol client (websocket-client)."""

    def __init__(self, ws_url):
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.n = 0

    def __call__(self, method, **params):
        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.n:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def js(self, expr):
        r = self("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        return r["result"].get("value")

    def key(self, key):
        code = "Enter" if key == "Enter" else f"Digit{key}"
        vk = 13 if key == "Enter" else ord(key)
        text = "\r" if key == "Enter" else key
        self("Input.dispatchKeyEvent", type="keyDown", key=key, code=code, text=text,
             windowsVirtualKeyCode=vk, nativeVirtualKeyCode=vk)
        self("Input.dispatchKeyEvent", type="keyUp", key=key, code=code, windowsVirtualKeyCode=vk)

    def wait(self, expr, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            if self.js(expr):
                return
            time.sleep(0.1)
        raise TimeoutError(expr)


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


def start_chromium(binary: str, profile: Path):
    proc = subprocess.Popen([binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                             "--disable-background-networking", "--disable-component-update", "--no-first-run",
                             "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                             "--remote-debugging-port=0", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port_file = profile / "DevToolsActivePort"
    end = time.time() + 60
    while not (port_file.is_file() and len(port_file.read_text().split()) >= 2):
        if proc.poll() is not None or time.time() > end:
            proc.kill()
            raise SystemExit("chromium did not start (no DevToolsActivePort)")
        time.sleep(0.1)
    port = port_file.read_text().split()[0]
    targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read())
    page = next(t for t in targets if t["type"] == "page")
    return proc, CDP(page["webSocketDebuggerUrl"])


def capture(page_path: Path, binary: str, profile: Path, width: int, height: int) -> bytes:
    proc, page = start_chromium(binary, profile)
    try:
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
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "book" / "images" / "mos_rater_page.png")
    ap.add_argument("--crop", type=int, default=256, help="side of the study's centre crops")
    ap.add_argument("--width", type=int, default=760)
    ap.add_argument("--height", type=int, default=420)
    ap.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser")
                    or shutil.which("google-chrome"))
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
    except SRGANError as exc:
        print(f"make_rater_screenshot: {exc}", file=sys.stderr)
        return 2
    print(f"{args.out} ({args.out.stat().st_size / 1024:.0f} KB, {shot.shape[1]}x{shot.shape[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
