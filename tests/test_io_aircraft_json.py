"""readsb's ``aircraft.json`` as a live feed (:mod:`jamwatch.io.aircraft_json`,
:func:`jamwatch.io.feeds.poll_aircraft_json`): new positions and messages become decoded
reports, nothing twice; other sources and broken snapshots are counted. The snapshots are
written here in the layout of readsb's README-json.md."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from jamwatch.io.aircraft_json import SnapshotState, reports
from jamwatch.io.feeds import FeedStats, poll_aircraft_json
from jamwatch.schema import DECODED
from jamwatch.watch.monitor import Monitor

NOW = 1_767_672_000.0  # 2026-01-06T04:00:00Z


def _snapshot(now: float, aircraft: list[dict[str, Any]]) -> str:
    return json.dumps({"now": now, "messages": 1000, "aircraft": aircraft})


GOOD = {"hex": "4CA7B5", "type": "adsb_icao", "lat": 60.1, "lon": 24.9, "alt_baro": 35000,
        "gs": 450.2, "track": 90.0, "nic": 8, "nac_p": 9, "sil": 3, "version": 2,
        "seen_pos": 0.5, "seen": 0.2}  # fmt: skip
LOST = {"hex": "461f4d", "type": "adsb_icao", "lat": 60.3, "lon": 25.0, "alt_baro": 30000,
        "nic": 0, "nac_p": 0, "seen_pos": 30.0, "seen": 0.1}  # fmt: skip
MLAT = {"hex": "4b1803", "type": "mlat", "lat": 60.0, "lon": 24.0, "seen_pos": 1, "seen": 1}


def test_a_snapshot_gives_new_positions_and_messages_once() -> None:
    state = SnapshotState()
    first = reports(_snapshot(NOW, [GOOD, LOST, MLAT]), state)
    assert first.schema == DECODED
    rows = first.to_pylist()
    assert [(r["icao"], r["tc"]) for r in rows] == [
        ("461f4d", 11), ("4ca7b5", 11), ("4ca7b5", 19), ("461f4d", 19)
    ]  # (in time order: 461f4d's position is 30 s old, its last message 0.1 s)
    pos = rows[1]
    assert (pos["latitude"], pos["longitude"], pos["altitude_baro_ft"]) == (60.1, 24.9, 35000.0)
    assert (pos["nic"], pos["nacp"], pos["groundspeed_kt"], pos["df"]) == (8, 9, 450.2, 17)
    assert rows[3]["latitude"] is None and rows[3]["nic"] is None and rows[3]["nacp"] == 0
    assert state.left_out == 1  # (the MLAT aircraft)
    # a second later: 4ca7b5 has a new position, 461f4d still the old one but new messages
    later = [{**GOOD, "seen_pos": 0.1, "seen": 0.1}, {**LOST, "seen_pos": 31.0, "seen": 0.3}]
    second = reports(_snapshot(NOW + 1, later), state).to_pylist()
    assert [(r["icao"], r["tc"]) for r in second] == [("461f4d", 19), ("4ca7b5", 11)]
    assert reports(_snapshot(NOW + 1, later), state).num_rows == 0  # (the same again)


@pytest.mark.parametrize("text", ["not json", "[]", '{"now": 1}', '{"aircraft": []}'])
def test_a_broken_snapshot_is_named(text: str) -> None:
    with pytest.raises(ValueError):
        reports(text, SnapshotState())


def test_the_feed_polls_a_folder_and_counts_what_it_cannot_read(tmp_path: Path) -> None:
    """A folder whose aircraft.json is rewritten, once broken: the monitor gets each new
    report once and shows the aircraft with their integrity."""
    snapshots = [
        _snapshot(NOW, [GOOD, LOST]),
        "{broken",
        _snapshot(
            NOW + 1,
            [{**GOOD, "seen_pos": 0.1, "seen": 0.1}, {**LOST, "seen_pos": 31, "seen": 0.05}],
        ),
    ]
    got: list[pa.Table] = []
    stats = FeedStats("aircraft.json", str(tmp_path))

    async def run() -> None:
        task = asyncio.create_task(poll_aircraft_json(str(tmp_path), got.append, stats, 0.02))
        for text in snapshots:
            (tmp_path / "aircraft.json").write_text(text)
            await asyncio.sleep(0.2)
        task.cancel()

    asyncio.run(run())
    assert sum(t.num_rows for t in got) == 6 == stats.frames
    assert stats.failures >= 1 and "aircraft.json" not in stats.last_error  # (JSON's message)
    monitor = Monitor()
    monitor.step([], decoded=got, look=False)
    seen = {a["icao"]: a for a in monitor.aircraft_list()}
    assert seen["4ca7b5"]["nic"] == 8 and not seen["4ca7b5"]["degraded"]
    assert seen["461f4d"]["nacp"] == 0 and seen["461f4d"]["degraded"]
