"""`make lab` (scripts/lab.sh): JupyterLab in the project's environment, and the book's widgets work in it.

Starts JupyterLab the way `make lab` does (the same script, on a free port, without a browser or token),
opens a notebook with a figure widget (`srgan_lib.teaching.display.figure_widget`, what the chapters'
explorers are built on) in headless Chromium, runs it through JupyterLab's own command, and checks that
the slider and the figure rendered, and that moving the slider from the kernel redraws the figure.
Skips without Chromium.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from headless_chromium import ChromiumError, find_chromium, launch

ROOT = Path(__file__).resolve().parents[1]
CELL = """import ipywidgets as w
import matplotlib.pyplot as plt
from srgan_lib.teaching import display

n = w.IntSlider(value=2, min=1, max=4, description="n")


def draw(n):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot(range(n + 1))
    return fig


picture = display.figure_widget(draw, {"n": n})
w.VBox([n, picture])"""


PANEL = "Array.from(window.jupyterapp.shell.widgets('main')).find(w => w.sessionContext)"
IMAGE = "Array.from(document.querySelectorAll('.jp-OutputArea img')).some(i => i.complete && i.naturalWidth > 0)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_lab_serves_the_chapters_with_working_widgets(tmp_path):
    exe = find_chromium()
    if exe is None:
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    pytest.importorskip("websocket", reason="websocket-client is needed to drive Chromium")
    pytest.importorskip("jupyterlab")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "widget.ipynb")
    port = _free_port()
    env = dict(os.environ, PY=sys.executable, HOME=str(tmp_path / "home"), JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"),
               SRGAN_LAB_DIR=str(tmp_path))
    lab = subprocess.Popen(["bash", str(ROOT / "scripts" / "lab.sh"), "--no-browser", f"--port={port}",
                            "--ServerApp.token=", "--ServerApp.password=",
                            "--LabApp.expose_app_in_browser=True"], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}/lab/tree/widget.ipynb"
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2)
                break
            except OSError:
                assert lab.poll() is None, lab.stdout.read()[-3000:]
                time.sleep(0.5)
        try:
            with launch(exe, tmp_path / "chromium-profile") as (_, cdp):
                cdp.call("Page.enable")
                cdp.call("Runtime.enable")
                cdp.call("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1,
                         mobile=False)
                cdp.call("Page.navigate", url=url)
                cdp.wait(f"!!(window.jupyterapp && {PANEL})", timeout=120)
                cdp.wait(f"(() => {{ const k = ({PANEL}).sessionContext.session?.kernel;"
                         " return !!k && k.status === 'idle'; })()", timeout=120)
                cdp.js(f"(() => {{ const p = {PANEL}; window.jupyterapp.shell.activateById(p.id);"
                       " window.jupyterapp.commands.execute('notebook:run-all-cells'); return true; })()")
                cdp.wait(f"!!document.querySelector('.jp-OutputArea .widget-slider') && {IMAGE}", timeout=180)
                first = cdp.js("document.querySelector('.jp-OutputArea img').src")
                # the kernel moves the slider: the figure is redrawn in the page
                cdp.js(f"(() => {{ ({PANEL}).sessionContext.session.kernel.requestExecute({{code: 'n.value = 4'}});"
                       " return true; })()")
                cdp.wait(f"document.querySelector('.jp-OutputArea img').src !== {first!r} && {IMAGE}", timeout=60)
                assert cdp.js("document.querySelector('.jp-OutputArea .widget-readout').textContent.trim()") == "4"
        except ChromiumError as e:
            pytest.skip(f"Chromium did not start: {e}")
    finally:
        lab.terminate()
        try:
            lab.wait(timeout=30)
        except subprocess.TimeoutExpired:
            lab.kill()
