"""The map page in headless Chromium: cells drawn, legend shown, click shows counts, events listed
and drawn, a click on an event flies to it, no network.

Input: real traffic (xoolive/traffic switzerland.json.gz, MIT) through ``jamwatch map``, and an
events file written here with known values (``EVENTS``: two in the day of the traffic, one two
days later), in the format of ``jamwatch detect``. The page is served from 127.0.0.1; Chromium
is Debian's (installed with apt-get when missing) and is driven over its DevTools protocol with
a small websocket client written here.
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

from conftest import apt_binary, shared_path
from jamwatch.aggregate.job import map_cells
from jamwatch.serve.events import read_events
from jamwatch.serve.site import write_map

CHROMIUM = "/usr/bin/chromium"
OUTPUT = Path(__file__).resolve().parents[1] / "test-output"

AREA = [[6.9, 46.1], [7.6, 46.1], [7.7, 46.5], [7.0, 46.6], [6.9, 46.1]]
EVENTS = [
    {
        "kind": "jamming",
        "start": "2018-08-01T10:00:00.000Z",
        "end": "2018-08-01T10:45:00.000Z",
        "aircraft": ["4b1805", "3c6444", "4ca7b3"],
        "affected_aircraft": 3,
        "peak_share": 0.5,
        "area": {"type": "Polygon", "coordinates": [AREA]},
        "source": {"latitude": 46.3, "longitude": 7.2, "radius_95_km": 8.5},
        "sources": [
            {"latitude": 46.3, "longitude": 7.2, "radius_95_km": 8.5},
            {"latitude": 46.9, "longitude": 9.6, "radius_95_km": 20.0},
        ],
    },
    {
        "kind": "spoofing",
        "start": "2018-08-01T14:00:00.000Z",
        "end": "2018-08-01T14:20:00.000Z",
        "icao": "4b1901",
        "aircraft": ["4b1901"],
        "false_position": {"latitude": 47.0, "longitude": 6.5},
    },
    {
        "kind": "jamming",
        "start": "2018-08-03T08:00:00.000Z",
        "end": "2018-08-03T09:30:00.000Z",
        "aircraft": ["4b1805", "3c6444"],
        "source": {"latitude": 45.9, "longitude": 10.5, "radius_95_km": 5.0},
    },
]


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
    """Debian's chromium (see :func:`conftest.apt_binary`)."""
    return apt_binary("chromium", CHROMIUM)


@pytest.mark.timeout(2400)  # an apt install of chromium on a fresh machine included
def test_map_page_in_headless_chromium(tmp_path: Path) -> None:
    chromium = ensure_chromium()
    result = map_cells([shared_path("trajectories", "switzerland_2018-08-01.json.gz")])
    site = tmp_path / "site"
    events_file = tmp_path / "events.json"
    events_file.write_text(json.dumps(EVENTS))
    write_map(result.cells, result.partials, site, 4, read_events(events_file))
    expected = result.cells.num_rows  # one day: every cell is in the one window

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    proc, profile, devport = start_chromium(chromium)
    try:
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
        # hover first, as a hand does: the tooltip names the cell (the first picking pass also
        # compiles the layers' picking shaders, slow in software GL, before the click's timing)
        cdp.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        tip = f"document.querySelector('.deck-tooltip')?.innerText.includes('{best['hex']}')"
        assert wait_for(cdp, tip, tries=200)
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
        # back to one map: the events panel, layers, screenshot, and a flight to an event
        cdp.js(
            "(() => { const s = document.getElementById('win-b'); s.value = '';"
            " s.dispatchEvent(new Event('change')); })()"
        )
        check_events(cdp)
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


CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--remote-debugging-port=0",
    "--window-size=1280,800",
)  # fmt: skip


def start_chromium(chromium: str) -> tuple[subprocess.Popen[bytes], str, str]:
    """(process, profile folder, DevTools port) of a headless chromium on loopback.

    On a loaded machine a cold start can take long, or the browser can exit before it opens
    its DevTools port: it is waited for up to 60 s and started once more if it did not come
    up; a second failure ends the test with the browser's own log."""
    log = ""
    for _ in range(2):
        profile = tempfile.mkdtemp(prefix="jamwatch-chromium-")
        log_path = Path(profile).parent / (Path(profile).name + ".log")
        with log_path.open("wb") as err:
            proc = subprocess.Popen(
                [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        port_file = Path(profile) / "DevToolsActivePort"
        for _ in range(600):
            if port_file.exists() and port_file.read_text().strip():
                log_path.unlink(missing_ok=True)
                return proc, profile, port_file.read_text().split()[0]
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        proc.kill()
        proc.wait(timeout=10)
        log = log_path.read_text(errors="replace")[-2000:]
        log_path.unlink(missing_ok=True)
        shutil.rmtree(profile, ignore_errors=True)
    pytest.fail(f"chromium did not open its DevTools port (exit {proc.returncode}):\n{log}")


def wait_for(cdp: Cdp, expression: str, tries: int = 100) -> Any:
    value = None
    for _ in range(tries):
        value = cdp.js(expression)
        if value:
            return value
        time.sleep(0.05)
    return value


def check_events(cdp: Cdp) -> None:
    """The panel lists EVENTS with their values, the layers draw them, a click flies to one."""
    assert cdp.js("window.jamwatch.events") == 3
    items = cdp.js(
        "[...document.querySelectorAll('#events-list .event')]"
        ".map((e) => [e.innerText, e.className])"
    )
    assert [text.split("\n")[0] for text, _ in items] == [
        "Jamming, 2018-08-01 10:00:00 \u2013 10:45:00 UTC",
        "Spoofing 4b1901, 2018-08-01 14:00:00 \u2013 14:20:00 UTC",
        "Jamming, 2018-08-03 08:00:00 \u2013 09:30:00 UTC",
    ]
    assert items[0][0].split("\n")[1] == (
        "3 aircraft; source 46.3000, 7.2000 \u00b1 8.5 km; also 46.9000, 9.6000 \u00b1 20.0 km"
    )
    assert items[1][0].split("\n")[1] == "1 aircraft; false position 47.0000, 6.5000"
    assert items[2][0].split("\n")[1] == "2 aircraft; source 45.9000, 10.5000 \u00b1 5.0 km"
    # the map's window is 2018-08-01: the first two events overlap it, the third does not
    assert ["current" in cls.split() for _, cls in items] == [True, True, False]
    assert "2 of 3 events in this window" in cdp.js("document.getElementById('summary').innerText")
    # the layers draw the sources and the false position where the file puts them
    x, y = cdp.js("window.jamwatch.screenOfPoint(7.2, 46.3)")
    assert cdp.js(f"window.jamwatch.pickEvent({x}, {y}, 'sources')") == 0
    x, y = cdp.js("window.jamwatch.screenOfPoint(6.5, 47.0)")
    assert cdp.js(f"window.jamwatch.pickEvent({x}, {y}, 'fakes')") == 1
    x, y = cdp.js("window.jamwatch.screenOfPoint(8.3, 47.3)")  # no event shape there
    assert cdp.js(f"window.jamwatch.pickEvent({x}, {y}, 'sources')") is None
    OUTPUT.mkdir(exist_ok=True)
    shot = cdp.call("Page.captureScreenshot", format="png")
    (OUTPUT / "map_page.png").write_bytes(base64.b64decode(shot["data"]))
    # a click on the third event in the panel flies the map to its source and highlights it
    before = cdp.js("window.jamwatch.view()")
    x, y = cdp.js(
        "(() => { const r = document.querySelectorAll('#events-list .event')[2]"
        ".getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()"
    )
    for kind in ("mousePressed", "mouseReleased"):
        cdp.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)
    assert wait_for(cdp, "window.jamwatch.selected() === 2")
    assert wait_for(cdp, "!window.jamwatch.moving()")
    after = cdp.js("window.jamwatch.view()")
    assert abs(after["latitude"] - 45.9) < 1e-6 and abs(after["longitude"] - 10.5) < 1e-6
    assert after["zoom"] > before["zoom"] + 2  # a 5 km circle fills more of the map than a country
    assert "e=2" in cdp.js("location.hash")
    classes = cdp.js("document.querySelectorAll('#events-list .event')[2].className").split()
    assert "selected" in classes
    x, y = cdp.js("window.jamwatch.screenOfPoint(10.5, 45.9)")
    box = cdp.js(
        "(() => { const r = document.getElementById('map-a').getBoundingClientRect();"
        " return [r.left, r.top, r.width, r.height]; })()"
    )
    assert abs(x - (box[0] + box[2] / 2)) < 2 and abs(y - (box[1] + box[3] / 2)) < 2
    assert wait_for(cdp, f"window.jamwatch.pickEvent({x}, {y}, 'sources') === 2")
