"""``jamwatch watch --store``: the reports written while the monitor runs survive a
``kill -9`` up to the last flush, and a monitor started again on the store shows the events
and the map it showed before.

The recording is the simulator's andoya-2024 (seed 3), served by ``jamwatch replay``.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import free_port
from jamwatch.api import decode
from jamwatch.io.store import Store
from live import andoya_recording, get_json, jamwatch_process, wait_all_read


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, datetime]:
    return andoya_recording(tmp_path_factory.mktemp("replay"))


def _wait(
    api: str, what: str, ok: Callable[[dict[str, Any]], bool], timeout_s: float = 120.0
) -> dict[str, Any]:
    """The monitor's status once ``ok`` holds for it."""
    deadline = time.monotonic() + timeout_s
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            status = get_json(f"{api}/api/status")
        except OSError:
            status = {}
        if status and ok(status):
            return status
        time.sleep(0.2)
    raise AssertionError(f"{what} not seen in {timeout_s} s: {status}")


def _start(
    path: Path, store: Path, speed: str, *options: str
) -> tuple[subprocess.Popen[str], subprocess.Popen[str], str]:
    """A replay of ``path`` at ``speed`` and a monitor on it with ``store``; its API's URL."""
    feed, http = free_port(), free_port()
    replay = jamwatch_process("replay", str(path), "--port", str(feed), "--speed", speed)
    watch = jamwatch_process(
        "watch", "--beast", f"127.0.0.1:{feed}", "--http", f"127.0.0.1:{http}",
        "--store", str(store), *options,
    )  # fmt: skip
    return replay, watch, f"http://127.0.0.1:{http}"


def test_a_killed_monitor_loses_at_most_one_flush_and_resumes_from_its_store(
    recording: tuple[Path, int, datetime], tmp_path: Path
) -> None:
    path, n_frames, _ = recording
    store = tmp_path / "store"
    replay, watch, api = _start(path, store, "0", "--flush", "0.5", "--look", "0")
    try:
        status = wait_all_read(api, n_frames)
        status = _wait(api, "every report written", lambda s: s["store"]["written"] == n_frames)
        events = get_json(f"{api}/api/events")
        cells = get_json(f"{api}/api/cells?window=24h")
    finally:
        watch.send_signal(signal.SIGKILL)
        watch.communicate(timeout=60)
        replay.communicate(timeout=60)
    assert watch.returncode == -signal.SIGKILL
    assert events and cells

    # the store holds every report the monitor decoded, as jamwatch decode gives them
    anchor = datetime.fromisoformat(status["feeds"][0]["clock_start"].replace("Z", "+00:00"))
    stored = Store.open(store, writable=False).read()
    assert stored.num_rows == n_frames
    assert stored.equals(decode(path, start=anchor).sort_by("time"))

    # started again on the store, with its feed gone: the same events and the same map
    http2, gone = free_port(), free_port()
    api2 = f"http://127.0.0.1:{http2}"
    again = jamwatch_process(
        "watch", "--beast", f"127.0.0.1:{gone}", "--http", f"127.0.0.1:{http2}",
        "--store", str(store), "--look", "0",
    )  # fmt: skip
    try:
        resumed = _wait(api2, "the resume", lambda s: s["store"]["resumed"] == n_frames)
        assert get_json(f"{api2}/api/events") == events
        assert get_json(f"{api2}/api/cells?window=24h") == cells
    finally:
        again.send_signal(signal.SIGTERM)
        _, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert f"resumed {n_frames:,} reports" in err
    assert resumed["feeds"][0]["connected"] is False
    assert Store.open(store, writable=False).rows == n_frames  # (nothing written twice)


def test_a_kill_during_a_stream_loses_no_report_older_than_a_flush(
    recording: tuple[Path, int, datetime], tmp_path: Path
) -> None:
    """The replay at 600 times real time (the two hours in 12 s); the monitor writes every
    second and is killed while frames still arrive: every report decoded two flushes before
    the kill is in the store, and the store reads back whole."""
    path, n_frames, _ = recording
    store = tmp_path / "store"
    replay, watch, api = _start(path, store, "600", "--flush", "1", "--look", "60")
    try:
        before = _wait(api, "a third of the frames", lambda s: s["reports"] > n_frames // 3)
        time.sleep(2.5)  # (two flushes and a step)
        watch.send_signal(signal.SIGKILL)
        watch.communicate(timeout=60)
    finally:
        replay.kill()
        replay.communicate(timeout=60)
    kept = Store.open(store)  # (opened for writing: it takes the lock the killed one held)
    rows = kept.read().num_rows
    kept.close()
    assert before["reports"] <= rows < n_frames


def test_event_ids_go_on_across_a_restart_that_takes_back_only_the_last_day(
    recording: tuple[Path, int, datetime], tmp_path: Path
) -> None:
    """The store notes each event's id and start; a monitor resumed on it numbers the events
    it takes back after those that began before the span it takes back, and never reuses an
    id. The notes here stand for a monitor that ran two days: events 1-6 began more than a
    day before the recording, event 7 an hour before it, and the recording's events got 8 and
    on; 12 was the last id given."""
    from jamwatch.watch.monitor import EVENT_IDS, Monitor

    path, _, start = recording
    table = decode(path, start=start)
    store = Store.open(tmp_path / "store")
    store.append(table)
    first_ns = int(start.timestamp() * 1e9)
    day_ns = 86_400 * 10**9
    onsets = [[i, first_ns - 2 * day_ns + i] for i in range(1, 7)]
    onsets += [[7, first_ns - 3600 * 10**9], [8, first_ns + 60 * 10**9]]
    store.note(EVENT_IDS, {"last_id": 12, "onsets": onsets})
    store.close()
    store = Store.open(tmp_path / "store", writable=False)
    assert store.meta[EVENT_IDS]["last_id"] == 12  # (kept in the manifest)
    monitor = Monitor()
    monitor.resume(store)
    ids = sorted(e["id"] for e in monitor.events())
    assert ids and ids[0] == 8  # after event 7, which began before the span taken back
    assert monitor.log.next_id == 13  # the next new event never takes an id given before
