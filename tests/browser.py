"""Debian's chromium, headless, driven over the DevTools protocol on a loopback WebSocket: open a page at a
window size, evaluate JavaScript in it (where the browser laid an element out), take a screenshot. What a
test needs to check what a person sees, with no driver library beyond the `websockets` uvicorn brings."""

from __future__ import annotations

import base64
import itertools
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson
from websockets.sync.client import ClientConnection, connect

from tests.servers import stop
from tests.tools import require

STARTUP_SECONDS = 60  # a cold chromium on a loaded 2-core machine
# Headless, as root, and quiet on a machine with no network: without the last five, chromium keeps trying
# Google's hosts (updates, sync, field trials) and each refused connection costs it CPU.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--disable-quic", "--no-first-run"]
FLAGS += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]


class Chromium:
    """One headless browser with one tab. `with Chromium(profile) as browser: browser.open(url, 390)`."""

    def __init__(self, profile: Path) -> None:
        self.profile = profile
        self._ids = itertools.count(1)
        self._process: subprocess.Popen[bytes] | None = None
        self._socket: ClientConnection | None = None
        self._session = ""
        self._stack = ExitStack()

    def __enter__(self) -> Chromium:
        with ExitStack() as stack:  # a browser that fails to start is not left running
            args = [
                require("chromium"),
                *FLAGS,
                "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ]
            self._process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            stack.callback(stop, self._process)
            port, path = self._devtools_address()
            url = f"ws://127.0.0.1:{port}{path}"
            self._socket = stack.enter_context(connect(url, max_size=64 * 2**20, open_timeout=30))
            target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
            self._session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            self._stack = stack.pop_all()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._stack.close()

    def open(self, url: str, width: int, height: int = 900) -> None:
        """Load `url` in a window `width` CSS pixels wide and wait until it has loaded."""
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
        self._send("Emulation.setDeviceMetricsOverride", metrics, session=True)
        self._send("Page.navigate", {"url": url}, session=True)
        deadline = time.monotonic() + STARTUP_SECONDS
        while self.evaluate("document.readyState + ' ' + location.href") != f"complete {url}":
            assert time.monotonic() < deadline, f"{url} did not load"
            time.sleep(0.05)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-like values only)."""
        answer = self._send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=True)
        assert "exceptionDetails" not in answer, answer["exceptionDetails"]
        return answer["result"].get("value")

    def screenshot(self, width: int) -> bytes:
        """A PNG of the whole page (not just the window), `width` CSS pixels wide."""
        height = int(self.evaluate("document.documentElement.scrollHeight"))
        clip = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
        options = {"format": "png", "clip": clip, "captureBeyondViewport": True}
        shot = self._send("Page.captureScreenshot", options, session=True)
        return base64.b64decode(shot["data"])

    def _devtools_address(self) -> tuple[str, str]:
        """Chromium writes the port it chose, and the browser's WebSocket path, into the profile."""
        written = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            lines = written.read_text().split() if written.exists() else []
            if len(lines) == 2:
                return lines[0], lines[1]
            assert self._process is not None and self._process.poll() is None, "chromium exited at start"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            time.sleep(0.05)

    def _send(self, method: str, params: dict[str, Any], session: bool = False) -> dict[str, Any]:
        """One DevTools command and its result; the events the browser sends meanwhile are skipped."""
        assert self._socket is not None
        ident = next(self._ids)
        message: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if session:
            message["sessionId"] = self._session
        self._socket.send(orjson.dumps(message).decode())
        while True:
            answer = orjson.loads(self._socket.recv(timeout=STARTUP_SECONDS))
            if answer.get("id") == ident:
                assert "error" not in answer, f"{method}: {answer['error']}"
                result: dict[str, Any] = answer["result"]
                return result
