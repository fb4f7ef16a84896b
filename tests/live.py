"""Helpers of the tests that run ``jamwatch watch`` and ``jamwatch replay`` as processes on
loopback: the replayed recording, the processes, and the monitor's JSON API."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from jamwatch.io.beast import write_beast
from jamwatch.simulate.scenario import load, run_scenario


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read()) if "json" in r.headers["content-type"] else r.read().decode()


def andoya_recording(folder: Path) -> tuple[Path, int, datetime]:
    """andoya-2024 (seed 3: jammers switching every 10 minutes for two hours) as a Beast file
    in ``folder``, its number of frames and its start."""
    frames = run_scenario(load("andoya-2024"), 3).frames.sort_by("time")
    path = folder / "andoya.beast"
    start = frames.column("time")[0].as_py()
    write_beast(frames, path, start=start)
    return path, frames.num_rows, start


def jamwatch_process(*args: str, **kw: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "jamwatch", *args], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, **kw,
    )  # fmt: skip


def wait_all_read(api: str, frames: int, timeout_s: float = 240.0) -> dict[str, Any]:
    """The status once the monitor has decoded and detected every frame of the replay."""
    deadline = time.monotonic() + timeout_s
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            status = get_json(f"{api}/api/status")
        except (urllib.error.URLError, ConnectionError):
            status = {}
        if status.get("looked_reports") == frames:  # (looked at once all were stepped)
            return status
        time.sleep(0.5)
    raise AssertionError(f"the monitor did not read every frame in {timeout_s} s: {status}")
