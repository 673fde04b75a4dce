"""Headless Chromium driven over the Chrome DevTools Protocol (websocket-client).

The one launcher and client used by tests/test_site.py (the rendered book), tests/test_mos_rater_ui.py
(the MOS rating page) and scripts/make_rater_screenshot.py (chapter 6's screenshot of that page).
Debian: ``apt-get install -y chromium``; Python: ``websocket-client``.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-extensions", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--remote-debugging-port=0", "--remote-allow-origins=*")


class ChromiumError(RuntimeError):
    """Chromium could not be started or did not expose its DevTools endpoint."""


def find_chromium() -> str | None:
    """The Chromium executable: ``$CHROMIUM``, else the first of chromium, chromium-browser, google-chrome,
    chrome on the PATH; None if there is none."""
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome", "chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class CDP:
    """A minimal DevTools Protocol client: one websocket, calls answered in order, events kept in
    ``events``."""

    def __init__(self, ws_url: str, timeout: float = 60):
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=timeout, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        """Send ``method`` and return its result; events received meanwhile go to ``events``."""
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    __call__ = call

    def wait_event(self, method: str, timeout: float = 60) -> dict:
        """The first event ``method`` received (already or within ``timeout`` seconds)."""
        for ev in self.events:
            if ev.get("method") == method:
                return ev
        end = time.time() + timeout
        while time.time() < end:
            msg = json.loads(self.ws.recv())
            self.events.append(msg)
            if msg.get("method") == method:
                return msg
        raise TimeoutError(method)

    def js(self, expression: str):
        """The value of a JavaScript expression in the page (promises awaited); a thrown exception raises."""
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"{expression}: {res['exceptionDetails']}")
        return res["result"].get("value")

    def wait(self, expression: str, timeout: float = 30) -> None:
        """Poll ``expression`` every 0.1 s until it is truthy."""
        end = time.time() + timeout
        while time.time() < end:
            if self.js(expression):
                return
            time.sleep(0.1)
        raise TimeoutError(expression)

    def key(self, key: str) -> None:
        """Press and release a digit key or Enter."""
        code = "Enter" if key == "Enter" else f"Digit{key}"
        vk = 13 if key == "Enter" else ord(key)
        text = "\r" if key == "Enter" else key
        self.call("Input.dispatchKeyEvent", type="keyDown", key=key, code=code, text=text,
                  windowsVirtualKeyCode=vk, nativeVirtualKeyCode=vk)
        self.call("Input.dispatchKeyEvent", type="keyUp", key=key, code=code, windowsVirtualKeyCode=vk)

    def click(self, selector: str) -> None:
        """A left mouse click at the centre of the first element matching ``selector``."""
        x, y = self.js(f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
                       f".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()")
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)


@contextlib.contextmanager
def launch(binary: str, profile: Path, extra_flags=(), start_timeout: float = 60):
    """Start headless Chromium with a fresh profile folder; yield ``(browser, page)`` clients (the browser
    target and its first page); terminate Chromium on exit.  Raises :class:`ChromiumError` if it does not
    come up within ``start_timeout`` seconds."""
    profile = Path(profile)
    proc = subprocess.Popen([binary, *FLAGS, *extra_flags, f"--user-data-dir={profile}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        end = time.time() + start_timeout
        while not (port_file.is_file() and len(port_file.read_text().split()) >= 2):
            if proc.poll() is not None:
                raise ChromiumError(f"{binary} exited with code {proc.returncode} before opening DevTools")
            if time.time() > end:
                raise ChromiumError(f"{binary} did not open DevTools within {start_timeout:.0f} s")
            time.sleep(0.1)
        port, browser_path = port_file.read_text().split()[:2]
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read())
        page = next(t for t in targets if t.get("type") == "page")
        yield CDP(f"ws://127.0.0.1:{port}{browser_path}"), CDP(page["webSocketDebuggerUrl"])
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
