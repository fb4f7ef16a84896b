"""The map page in headless Chromium: cells drawn, legend shown, click shows counts, no network.

Input: real traffic (xoolive/traffic switzerland.json.gz, MIT) through ``jamwatch map``. The
page is served from 127.0.0.1; Chromium is Debian's (installed with apt-get when missing) and is
driven over its DevTools protocol with a small websocket client written here.
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from conftest import shared_path
from jamwatch.aggregate.job import map_cells
from jamwatch.serve.site import write_map

CHROMIUM = "/usr/bin/chromium"
OUTPUT = Path(__file__).resolve().parents[1] / "test-output"


class Cdp:
    """A minimal DevTools client: one websocket, JSON commands, events collected."""

    def __init__(self, url: str) -> None:
        host, rest = url.removeprefix("ws://").split("/", 1)
        h, p = host.split(":")
        self.sock = socket.create_connection((h, int(p)), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /{rest} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        response = b""
        while b"\r\n\r\n" not in response:
            response += self.sock.recv(4096)
        assert b" 101 " in response.split(b"\r\n")[0]
        self.buffer = response.split(b"\r\n\r\n", 1)[1]
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def _recv_exact(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("DevTools socket closed")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def _recv(self) -> dict[str, Any]:
        message = b""
        while True:
            b0, b1 = self._recv_exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._recv_exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._recv_exact(8))[0]
            message += self._recv_exact(n)
            if b0 & 0x80:
                return json.loads(message)  # type: ignore[no-any-return]

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        payload = json.dumps({"id": self.next_id, "method": method, "params": params}).encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        n = len(payload)
        header += (
            bytes([0x80 | 126]) + struct.pack(">H", n)
            if n >= 126 and n < 65536
            else (bytes([0x80 | 127]) + struct.pack(">Q", n) if n >= 65536 else bytes([0x80 | n]))
        )
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)
        while True:
            msg = self._recv()
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(msg["error"])
                return msg.get("result", {})  # type: ignore[no-any-return]
            self.events.append(msg)

    def js(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        return result["result"].get("value")


def ensure_chromium() -> str:
    if not Path(CHROMIUM).exists():
        subprocess.run(
            ["apt-get", "install", "-y", "chromium"], check=False, capture_output=True, timeout=600
        )
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installable here")
    return CHROMIUM


@pytest.mark.timeout(120)
def test_map_page_in_headless_chromium(tmp_path: Path) -> None:
    chromium = ensure_chromium()
    result = map_cells([shared_path("trajectories", "switzerland_2018-08-01.json.gz")])
    site = tmp_path / "site"
    write_map(result.cells, result.partials, site, 4)
    expected = result.cells.num_rows  # one day: every cell is in the one window

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    profile = tempfile.mkdtemp(prefix="jamwatch-chromium-")
    proc = subprocess.Popen(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--use-angle=swiftshader",
            "--enable-unsafe-swiftshader",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "--window-size=1280,800",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        for _ in range(200):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.1)
        devport = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{devport}/json/list") as r:
            page = next(t for t in json.load(r) if t["type"] == "page")
        cdp = Cdp(page["webSocketDebuggerUrl"])
        cdp.call("Network.enable")
        cdp.call("Page.enable")
        cdp.call("Page.navigate", url=f"http://127.0.0.1:{port}/index.html")
        drawn = 0
        for _ in range(300):
            ready = cdp.js("typeof window.jamwatch === 'object'")
            if ready:
                drawn = cdp.js("window.jamwatch.cellsDrawn()")
                if drawn == expected:
                    break
            time.sleep(0.1)
        assert drawn == expected
        assert cdp.js("window.jamwatch.cellsInWindow()") == expected
        assert cdp.js("getComputedStyle(document.getElementById('legend')).display") != "none"
        assert "10 %" in cdp.js("document.getElementById('legend').innerText")
        # click the cell with the most aircraft and read the panel
        best = max(result.cells.to_pylist(), key=lambda r: r["count_good_aircraft"])
        x, y = cdp.js(f"window.jamwatch.screenOf('{best['hex']}')")
        for kind in ("mousePressed", "mouseReleased"):
            cdp.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)
        text = ""
        for _ in range(50):
            text = cdp.js("document.getElementById('info').innerText") or ""
            if best["hex"] in text:
                break
            time.sleep(0.1)
        assert best["hex"] in text
        assert f"good aircraft\t{best['count_good_aircraft']}" in text
        assert "bad aircraft\t0" in text
        assert "#lat=" in cdp.js("location.hash") or "lat=" in cdp.js("location.hash")
        # side-by-side: compare the window with itself; the second map draws the same cells
        cdp.js(
            "(() => { const s = document.getElementById('win-b'); s.value = '0';"
            " s.dispatchEvent(new Event('change')); })()"
        )
        both = 0
        for _ in range(100):
            both = cdp.js("window.jamwatch.cellsDrawn('b')")
            if both == expected:
                break
            time.sleep(0.1)
        assert both == expected
        assert "b=0" in cdp.js("location.hash")
        assert cdp.js("document.getElementById('tag-b').textContent").startswith("2018-08-01")
        OUTPUT.mkdir(exist_ok=True)
        shot = cdp.call("Page.captureScreenshot", format="png")
        (OUTPUT / "map_page.png").write_bytes(base64.b64decode(shot["data"]))
        urls = [
            e["params"]["request"]["url"]
            for e in cdp.events
            if e.get("method") == "Network.requestWillBeSent"
        ]
        assert urls, "no request seen"
        outside = [u for u in urls if not u.startswith((f"http://127.0.0.1:{port}/", "data:"))]
        assert outside == []
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
