"""The live page of ``jamwatch watch`` in headless Chromium: a recording served by
``jamwatch replay``, the monitor reading it, and the page showing the feed, the receiver and
the event as its alert arrives, then the live map drawing the latest hour, with no request
beyond the monitor.

The recording is the simulator's andoya-2024 (seed 3), as in ``test_watch_live.py``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from browser import ensure_chromium, open_page, start_chromium, wait_for
from conftest import free_port
from jamwatch.io.beast import write_beast
from jamwatch.simulate.scenario import load, run_scenario


@pytest.mark.timeout(2400)  # an apt install of chromium on a fresh machine included
def test_the_live_page_shows_the_event_as_its_alert_arrives(tmp_path: Path) -> None:
    chromium = ensure_chromium()
    frames = run_scenario(load("andoya-2024"), 3).frames.sort_by("time")
    path = tmp_path / "andoya.beast"
    write_beast(frames, path, start=frames.column("time")[0].as_py() - timedelta(seconds=1))
    feed, http = free_port(), free_port()
    alerts = tmp_path / "alerts.jsonl"
    run = [sys.executable, "-m", "jamwatch"]
    replay = subprocess.Popen([*run, "replay", str(path), "--port", str(feed), "--speed", "0"])
    watch = subprocess.Popen(
        [*run, "watch", "--beast", f"127.0.0.1:{feed}", "--http", f"127.0.0.1:{http}",
         "--alerts", str(alerts), "--look", "0"],
    )  # fmt: skip
    proc, profile, devport = start_chromium(chromium)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not (alerts.exists() and alerts.read_text()):
            time.sleep(0.2)
        first = json.loads(alerts.read_text().splitlines()[0])
        assert first["alert"] == "onset" and first["id"] == 1
        cdp = open_page(devport, f"http://127.0.0.1:{http}/")
        row = "document.querySelector('#events tbody tr')?.innerText"
        text = wait_for(cdp, row, tries=400)  # (the page refreshes every 5 s)
        cells = text.split("\t")
        assert cells[0] == "1" and cells[1] == "jamming"
        feeds = cdp.js("document.querySelector('#feeds tbody tr').innerText").split("\t")
        assert feeds[0] == f"beast 127.0.0.1:{feed}"
        status = cdp.js("document.getElementById('status').innerText")
        assert "open events: 1" in status and "receiver:" in status
        requested = [
            e["params"]["request"]["url"]
            for e in cdp.events
            if e.get("method") == "Network.requestWillBeSent"
        ]
        assert requested and all(u.startswith(f"http://127.0.0.1:{http}/") for u in requested)
        # the live map: the latest hour's cells drawn, the event listed, no other host
        api = f"http://127.0.0.1:{http}"
        cdp = open_page(devport, f"{api}/map/#z=4")  # (zoomed out: every cell on screen)
        page = "window.jamwatch"
        drawn = f"{page} && {page}.cellsInWindow() > 0 && {page}.cellsDrawn()"
        drawn += f" === {page}.cellsInWindow()"  # (deck.gl draws over a few frames)
        assert wait_for(cdp, drawn, tries=400)
        assert cdp.js(f"{page}.state.a") == cdp.js(f"{page}.windows") - 1  # (the latest)
        assert cdp.js(f"{page}.cellsDrawn()") == cdp.js(f"{page}.cellsInWindow()")
        assert cdp.js(f"{page}.events") >= 1
        assert "live, reloaded every" in cdp.js("document.getElementById('summary').innerText")
        assert "a=last" in cdp.js("location.hash")
        requested = [
            e["params"]["request"]["url"]
            for e in cdp.events
            if e.get("method") == "Network.requestWillBeSent"
        ]
        outside = [u for u in requested if not u.startswith((f"{api}/map/", "data:"))]
        assert requested and not outside  # (data: URLs are deck.gl's own, not requests)
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(profile, ignore_errors=True)
        watch.terminate()
        watch.wait(60)
        replay.kill()
        replay.wait(10)
