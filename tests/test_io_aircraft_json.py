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
from jamwatch.io.feeds import FeedStats, poll_aircraft_json, run_feed
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


def _line(now: float, ac: dict[str, Any]) -> bytes:
    """A line of readsb's JSON position stream: the aircraft object with its ``now`` first
    (readsb's sprintAircraftObject, print mode 2)."""
    return (json.dumps({"now": now, **ac}) + "\n").encode()


def test_the_json_position_stream_over_tcp_gives_each_new_report_once() -> None:
    """readsb's --net-json-port stream served on loopback, split mid-line across writes, with
    a broken line, a line without time and an MLAT aircraft among the good ones; the server
    then drops the connection and the feed connects again."""
    lines = [
        _line(NOW, GOOD),
        b"{not json\n",
        _line(NOW + 0.5, LOST),
        json.dumps({"hex": "4ca7b5"}).encode() + b"\n",
        _line(NOW + 0.7, MLAT),
        _line(NOW + 1.0, {**GOOD, "seen_pos": 0.1, "seen": 0.1, "nic": 0, "nac_p": 0}),
        _line(NOW + 1.0, GOOD),  # (a repeat of the first position, in a later connection)
    ]
    data = b"".join(lines)
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        if connections == 1:  # the first five lines, in pieces of 7 bytes, then a drop
            head = b"".join(lines[:5])
            for k in range(0, len(head), 7):
                writer.write(head[k : k + 7])
                await writer.drain()
        else:
            writer.write(data[len(b"".join(lines[:5])) :])
            await writer.drain()
            await asyncio.sleep(0.3)
        writer.close()

    got: list[pa.Table] = []
    stats = FeedStats("json", "127.0.0.1")

    async def run() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        task = asyncio.create_task(
            run_feed("json", "127.0.0.1", port, got.append, stats, backoff=(0.05, 0.1))
        )
        for _ in range(100):
            await asyncio.sleep(0.05)
            if connections >= 2 and stats.frames >= 5:
                break
        task.cancel()
        server.close()

    asyncio.run(run())
    rows = [r for t in got for r in t.to_pylist()]
    assert [(r["icao"], r["tc"], r["nic"]) for r in rows] == [
        ("4ca7b5", 11, 8), ("4ca7b5", 19, None), ("461f4d", 11, 0), ("461f4d", 19, None),
        ("4ca7b5", 11, 0),
    ]  # fmt: skip
    assert all(t.schema == DECODED for t in got)
    assert stats.frames == 5 and stats.connections >= 2
    assert stats.rejects == {"not JSON": 1, "no 'now' time": 1, "not ADS-B": 1}
