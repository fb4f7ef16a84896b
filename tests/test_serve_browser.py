"""The map page in headless Chromium: cells drawn, legend shown, click shows counts, events listed
and drawn, a click on an event flies to it, no network.

Input: real traffic (xoolive/traffic switzerland.json.gz, MIT) through ``jamwatch map``, and an
events file written here with known values (``EVENTS``: two in the day of the traffic, one two
days later), in the format of ``jamwatch detect``. The page is served from 127.0.0.1; Chromium
is Debian's (installed with apt-get when missing) and is driven over its DevTools protocol with
a small websocket client (tests/browser.py).
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import shutil
import threading
import time
from pathlib import Path

import pytest

from browser import Cdp, ensure_chromium, open_page, start_chromium, wait_for
from conftest import shared_path
from jamwatch.aggregate.job import map_cells
from jamwatch.serve.events import read_events
from jamwatch.serve.site import write_map

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
        cdp = open_page(devport, f"http://127.0.0.1:{port}/index.html")
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
        # the click's picking pass, like the hover's, can take many seconds in software GL on
        # a busy machine: wait up to a minute for the panel (it is filled once, when done)
        panel = f"document.getElementById('info').innerText.includes('{best['hex']}')"
        wait_for(cdp, panel, tries=1200)
        text = cdp.js("document.getElementById('info').innerText") or ""
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
