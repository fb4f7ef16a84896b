"""Ship jamming events: ships that lost their positions, grouped, and joined with the
aircraft's jamming events. Tracks written here with known answers; the thresholds are the
defaults of :class:`jamwatch.detect.ship_jamming.ShipJammingConfig`, set before any run."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from jamwatch.detect.ship_jamming import join_ship_jamming, lost_spans
from jamwatch.io.events import from_json, to_json
from jamwatch.schema import AIS_DECODED, EVENTS
from jamwatch.signals.ships import ship_signals

T0 = 1_717_000_000 * 10**9
MIN = 60 * 10**9


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    names = AIS_DECODED.names
    return pa.table(
        {n: pa.array([r.get(n) for r in rows], AIS_DECODED.field(n).type) for n in names}
    )


def _ship(
    mmsi: int, lat: float, lon: float, lost_from: int | None, minutes: int = 60
) -> list[dict[str, Any]]:
    """A ship reporting every 10 s; "not available" from minute ``lost_from`` on."""
    rows = []
    for k in range(minutes * 6):
        gone = lost_from is not None and k >= lost_from * 6
        rows.append({
            "time": T0 + k * 10**10, "mmsi": mmsi, "msg_type": 1, "sog_kt": 8.0,
            "latitude": None if gone else lat + k * 1e-5, "longitude": None if gone else lon,
        })  # fmt: skip
    return rows


def _aircraft_event(lat: float, lon: float, start: int, end: int) -> pa.Table:
    ring = [[lon - 0.5, lat - 0.5], [lon + 0.5, lat - 0.5], [lon + 0.5, lat + 0.5],
            [lon - 0.5, lat + 0.5], [lon - 0.5, lat - 0.5]]  # fmt: skip
    source = {"latitude": lat, "longitude": lon, "radius_95_km": 9.5, "start": start, "end": end}
    row = {
        "kind": "jamming", "start": start, "end": end, "aircraft": ["abc123", "def456"],
        "affected_aircraft": 2, "peak_share": 0.5,
        "area": json.dumps({"type": "Polygon", "coordinates": [ring]}), "source": source,
        "sources": [source], "rejected_sources": [],
    }  # fmt: skip
    return pa.Table.from_pylist([row], schema=EVENTS)


def test_ships_that_lose_their_positions_together_make_one_event() -> None:
    rows = _ship(440000001, 37.6, 125.6, 20) + _ship(440000002, 37.7, 125.8, 25)
    rows += _ship(440000003, 37.65, 125.7, None)  # a ship nearby that keeps its fix
    rows += _ship(440000004, 37.5, 125.5, 0)  # a unit that never has a fix: not placed
    events = join_ship_jamming(EVENTS.empty_table(), ship_signals(_table(rows)))
    (e,) = events.to_pylist()
    assert e["kind"] == "jamming" and e["aircraft"] == [] and e["source"] is None
    assert e["vessels"] == [440000001, 440000002]
    assert e["start"].timestamp() * 1e9 == T0 + 20 * MIN
    assert e["end"].timestamp() * 1e9 == T0 + 60 * MIN - 10**10
    area = json.loads(e["area"])["coordinates"][0]
    assert min(p[1] for p in area) < 37.6 + 20 * 6e-5 < max(p[1] for p in area)
    # as in events.json, and back
    assert from_json(to_json(events)).equals(events)


def test_a_lone_ship_makes_no_event_but_joins_the_aircraft_event_near_it() -> None:
    lone = ship_signals(_table(_ship(440000001, 37.6, 125.6, 20)))
    assert join_ship_jamming(EVENTS.empty_table(), lone).num_rows == 0
    assert [s["messages"] for s in lost_spans(lone)] == [240]
    near = _aircraft_event(37.9, 125.9, T0 + 10 * MIN, T0 + 50 * MIN)
    joined = join_ship_jamming(near, lone)
    assert joined.num_rows == 1 and joined.column("vessels").to_pylist() == [[440000001]]
    assert joined.column("aircraft").to_pylist() == [["abc123", "def456"]]
    # far away (about 400 km) or hours later it does not join
    far = _aircraft_event(41.5, 125.9, T0 + 10 * MIN, T0 + 50 * MIN)
    assert join_ship_jamming(far, lone).column("vessels").to_pylist() == [None]
    later = _aircraft_event(37.9, 125.9, T0 + 150 * MIN, T0 + 200 * MIN)
    assert join_ship_jamming(later, lone).column("vessels").to_pylist() == [None]


def test_events_without_ships_come_back_unchanged() -> None:
    events = _aircraft_event(37.9, 125.9, T0 + 10 * MIN, T0 + 50 * MIN)
    clean = ship_signals(_table(_ship(440000003, 37.65, 125.7, None)))
    assert join_ship_jamming(events, clean).equals(events)
