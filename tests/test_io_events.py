"""The events table (``jamwatch.schema.EVENTS``) and its serialization ``events.json``: the
JSON Schema in docs/ against what detect writes, the round trip table -> JSON -> table, and
the map's reader on the written file. Real data: the flight THY9BP (xoolive/traffic
samples/noisy/noisy_spoofing.json.gz @ 8286f88e, MIT), one spoofing episode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pyarrow as pa
import pytest

from conftest import shared_path
from jamwatch.detect import detect
from jamwatch.io.events import from_json, iso, parse_iso, to_json, write_events
from jamwatch.io.positions import read_positions
from jamwatch.schema import EVENTS
from jamwatch.serve.events import read_events

SCHEMA = json.loads((Path(__file__).parents[1] / "docs" / "events.schema.json").read_text())
NS = 1_000_000_000
T0 = parse_iso("2024-05-29T06:10:00.224Z")

RING = [[124.0, 37.5], [126.5, 37.5], [126.0, 38.5], [124.0, 37.5]]
SOURCE = {
    "latitude": 38.04885,
    "longitude": 125.7106,
    "radius_95_km": 4.114,
    "start": T0,
    "end": T0 + 600 * NS,
}
ROWS: list[dict[str, Any]] = [
    {
        "kind": "jamming",
        "start": T0,
        "end": T0 + 3000 * NS,
        "aircraft": ["71c011", "71be02"],
        "affected_aircraft": 2,
        "peak_share": 0.6667,
        "area": json.dumps({"type": "Polygon", "coordinates": [RING]}),
        "source": SOURCE,
        "sources": [SOURCE, {**SOURCE, "latitude": 37.4649, "start": None, "end": None}],
        "rejected_sources": [{**SOURCE, "latitude": 36.0, "reason": "beyond the horizon"}],
    },
    {
        "kind": "spoofing",
        "start": T0 + 5000 * NS,
        "end": T0 + 5600 * NS,
        "aircraft": ["4baac6"],
        "icao": "4baac6",
        "reports": 120,
        "evidence": ["speed_mismatch", "gnss_baro"],
        "false_position": {"latitude": 33.82, "longitude": 35.49, "converging_aircraft": 3},
    },
    {
        "kind": "jamming",
        "start": T0 + 7000 * NS,
        "end": T0 + 7100 * NS,
        "aircraft": ["71c011"],
        "affected_aircraft": 1,
        "peak_share": 0.5,
        "area": None,
        "source": None,
        "sources": [],
        "rejected_sources": [],
    },
]


def known() -> pa.Table:
    return pa.Table.from_pylist(ROWS, schema=EVENTS)


def test_known_events_serialize_as_documented() -> None:
    items = to_json(known())
    jsonschema.validate(items, SCHEMA)
    jam, spoof, bare = items
    assert jam["start"] == "2024-05-29T06:10:00.224Z" and jam["end"] == "2024-05-29T07:00:00.224Z"
    assert jam["area"]["type"] == "Polygon"  # the GeoJSON object, not its text
    assert jam["source"] == {**jam["sources"][0]}
    assert jam["source"]["end"] == "2024-05-29T06:20:00.224Z"
    assert "start" not in jam["sources"][1]  # a span not known is left out
    assert jam["rejected_sources"][0]["reason"] == "beyond the horizon"
    assert set(spoof) == {"kind", "start", "end", "icao", "aircraft", "reports", "evidence",
                          "false_position"}  # fmt: skip
    assert spoof["false_position"]["converging_aircraft"] == 3
    assert bare["source"] is None and bare["area"] is None and bare["sources"] == []


def test_round_trip_is_exact() -> None:
    table = known()
    assert from_json(to_json(table)).equals(table)
    # and through the text of a file
    assert from_json(json.loads(json.dumps(to_json(table)))).equals(table)


def test_times_to_the_millisecond() -> None:
    assert iso(T0 + 999_999) == "2024-05-29T06:10:00.224Z"  # floored, never rounded up
    assert parse_iso("2024-05-29T06:10:00.224+00:00") == T0
    assert parse_iso(iso(T0)) == T0


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda e: e.pop("kind"), "kind"),
        (lambda e: e.update(start="2024-05-29 06:10"), "start"),
        (lambda e: e["source"].update(latitude=91.0), "latitude"),
        (lambda e: e["source"].update(radius_95_km=-1.0), "radius_95_km"),
        (lambda e: e["aircraft"].append("71C011"), "aircraft"),
        (lambda e: e.update(icao="4baac6"), "icao"),  # a spoofing field on a jamming event
    ],
)
def test_schema_rejects_broken_events(change: Any, where: str) -> None:
    items = to_json(known())
    change(items[0])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(items, SCHEMA)


def test_detect_on_a_real_flight(tmp_path: Path) -> None:
    """detect's table on THY9BP: its JSON fits the schema, reads back equal, and the map's
    reader takes the file."""
    src = shared_path("trajectories", "thy9bp_2024-09-17_spoofed.json.gz")
    table = read_positions(src)
    events = detect(table)
    assert events.schema.equals(EVENTS)
    assert events.column("kind").to_pylist() == ["spoofing"]
    assert events.column("icao").to_pylist() == ["4baac6"]
    path = tmp_path / "events.json"
    write_events(events, path)
    items = json.loads(path.read_text())
    jsonschema.validate(items, SCHEMA)
    assert from_json(items).equals(events)
    assert [e["icao"] for e in read_events(path)] == ["4baac6"]


def test_an_empty_table_is_an_empty_list(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    write_events(EVENTS.empty_table(), path)
    assert json.loads(path.read_text()) == []
    assert from_json([]).equals(EVENTS.empty_table())
