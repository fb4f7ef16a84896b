"""Events of ``jamwatch detect`` on the map: the 95 % circle, reading and checking events files,
and ``jamwatch map`` with events. The events are written here with known values."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from jamwatch.cli import app
from jamwatch.geo import haversine_m
from jamwatch.serve.events import (
    EventsFormatError,
    circle,
    events_geojson,
    is_events_file,
    page_events,
    read_events,
)

JAMMING: dict[str, Any] = {
    "kind": "jamming",
    "start": "2024-05-29T06:10:00.224Z",
    "end": "2024-05-29T06:59:58.644Z",
    "aircraft": ["71c011", "71be02"],
    "area": {
        "type": "Polygon",
        "coordinates": [[[124.0, 37.5], [126.5, 37.5], [126.0, 38.5], [124.0, 37.5]]],
    },
    "source": {"latitude": 38.04885, "longitude": 125.7106, "radius_95_km": 4.114},
    "sources": [
        {"latitude": 38.04885, "longitude": 125.7106, "radius_95_km": 4.114},
        {"latitude": 37.4649, "longitude": 126.44008, "radius_95_km": 15.841},
    ],
}
SPOOFING: dict[str, Any] = {
    "kind": "spoofing",
    "start": "2024-05-29T07:30:00.000Z",
    "end": "2024-05-29T07:40:00.000Z",
    "icao": "4baac6",
    "aircraft": ["4baac6"],
    "false_position": {"latitude": 33.82, "longitude": 35.49},
}


@pytest.mark.parametrize(
    ("lat", "lon", "radius"),
    [(38.04885, 125.7106, 4.114), (0.0, 0.0, 100.0), (69.3, 16.1, 250.0), (-33.9, 179.95, 15.8)],
)
def test_circle_vertices_are_at_the_radius(lat: float, lon: float, radius: float) -> None:
    ring = circle(lat, lon, radius)
    assert len(ring) == 65 and ring[0] == ring[-1]  # 64 vertices, closed
    for x, y in ring:
        assert abs(haversine_m(lat, lon, y, x) / 1000.0 - radius) <= 0.005 * radius
    # the vertices go round the centre: initial bearings step by 360/64 degrees
    p1 = math.radians(lat)
    for k, (x, y) in enumerate(ring[:-1]):
        p2, dl = math.radians(y), math.radians(x - lon)
        bearing = math.atan2(
            math.sin(dl) * math.cos(p2),
            math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl),
        )
        assert math.degrees(bearing) % 360 == pytest.approx(k * 360 / 64, abs=1e-6)


def test_circle_crossing_the_antimeridian_stays_continuous() -> None:
    ring = circle(-33.9, 179.95, 15.8)
    assert max(x for x, _ in ring) > 180  # drawn whole, not split across the map
    assert max(x for x, _ in ring) - min(x for x, _ in ring) < 1


def test_haversine_of_a_known_distance() -> None:
    # one degree of latitude on the mean sphere: 2 * pi * R / 360
    assert haversine_m(10.0, 20.0, 11.0, 20.0) / 1000.0 == pytest.approx(111.19508, abs=1e-4)


def write(tmp_path: Path, doc: Any, name: str = "events.json") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def test_read_events_keeps_values(tmp_path: Path) -> None:
    events = read_events(write(tmp_path, [JAMMING, SPOOFING]))
    jam, spoof = events
    assert jam["start"].isoformat() == "2024-05-29T06:10:00.224000+00:00"
    assert jam["source"] == JAMMING["source"]
    assert jam["sources"] == JAMMING["sources"]
    assert jam["area"] == [JAMMING["area"]["coordinates"]]
    assert spoof["icao"] == "4baac6"
    assert spoof["false_position"] == {"latitude": 33.82, "longitude": 35.49}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "jam"}, "event 1: kind 'jam' is not 'jamming' or 'spoofing'"),
        ({"start": "yesterday"}, "event 1: start is not an ISO 8601 time with a time zone"),
        ({"end": "2024-05-29T06:59:58"}, "event 1: end is not an ISO 8601 time with a time zone"),
        ({"end": "2024-05-29T06:00:00Z"}, "event 1: end is before start"),
        ({"aircraft": "71c011"}, "event 1: aircraft is not a list of ICAO addresses"),
        ({"source": {"latitude": 95, "longitude": 1, "radius_95_km": 1}}, "source.latitude"),
        ({"source": {"latitude": 38, "longitude": 1}}, "source.radius_95_km is not a number"),
        ({"sources": [{"latitude": 38}]}, "event 1: sources[0].longitude is not a number"),
        ({"area": {"type": "Point", "coordinates": [1, 2]}}, "area is not a GeoJSON Polygon"),
        ({"area": {"type": "Polygon", "coordinates": [[[1, 2]]]}}, "area.coordinates are not"),
    ],
)
def test_bad_event_is_named_with_the_file(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    path = write(tmp_path, [SPOOFING, {**JAMMING, **change}])
    with pytest.raises(EventsFormatError) as info:
        read_events(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


def test_bad_spoofing_event_and_bad_documents(tmp_path: Path) -> None:
    with pytest.raises(EventsFormatError, match="event 0: icao is not a string"):
        read_events(write(tmp_path, [{**SPOOFING, "icao": None}]))
    with pytest.raises(EventsFormatError, match=r"false_position\.longitude"):
        read_events(write(tmp_path, [{**SPOOFING, "false_position": {"latitude": 1}}]))
    with pytest.raises(EventsFormatError, match=r"events\.json: not valid JSON"):
        read_events(write(tmp_path, '[{"kind": "jamming", '))
    with pytest.raises(EventsFormatError, match="a JSON list of objects"):
        read_events(write(tmp_path, {"kind": "jamming"}))


def test_events_files_are_recognised_by_content(tmp_path: Path) -> None:
    assert is_events_file(write(tmp_path, [JAMMING], "a.json"))
    assert is_events_file(write(tmp_path, "[]\n", "empty.json"))
    assert is_events_file(write(tmp_path, '[{"kind": "jamming", ', "broken.json"))
    traffic = [{"timestamp": 1, "icao24": "4baac6", "latitude": 1.0, "longitude": 2.0}]
    assert not is_events_file(write(tmp_path, traffic, "traffic.json"))
    assert not is_events_file(write(tmp_path, {"trace": []}, "trace.json"))
    assert not is_events_file(write(tmp_path, "time,icao24,lat,lon\n", "states.csv"))


def test_page_records_and_geojson(tmp_path: Path) -> None:
    events = read_events(write(tmp_path, [JAMMING, SPOOFING]))
    hour = 3600
    six = 1_716_962_400 * 10**9  # 2024-05-29T06:00Z
    records = page_events(events, [(six, hour), (six + hour * 10**9, hour)])
    assert [r["w"] for r in records] == [[0], [1]]  # 06:10-06:59 and 07:30-07:40
    assert records[0]["n"] == 2 and records[0]["p"] == 0
    assert [(s["y"], s["x"], s["r"]) for s in records[0]["src"]] == [
        (38.04885, 125.7106, 4.114),
        (37.4649, 126.44008, 15.841),
    ]
    assert len(records[0]["src"][0]["c"]) == 65
    assert records[1]["fp"] == {"y": 33.82, "x": 35.49} and records[1]["icao"] == "4baac6"
    roles = [f["properties"]["role"] for f in events_geojson(events)["features"]]
    assert roles == ["area", "source", "circle_95", "source", "circle_95", "false_position"]


def test_map_command_with_events(tmp_path: Path) -> None:
    events = write(tmp_path, [JAMMING, SPOOFING])
    named = write(tmp_path, [SPOOFING], "more.json")
    out = tmp_path / "map"
    result = CliRunner().invoke(app, ["map", str(events), "--events", str(named), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "events: 1 jamming (1 with a source), 2 spoofing" in result.output
    text = (out / "events.js").read_text()
    records = json.loads(text.removeprefix("window.JAMWATCH_EVENTS = ").rstrip().rstrip(";"))
    assert [r["k"] for r in records] == ["spoofing", "jamming", "spoofing"]  # --events first
    geo = json.loads((out / "events.geojson").read_text())
    assert sum(f["properties"]["role"] == "source" for f in geo["features"]) == 2
    assert '<script src="events.js">' in (out / "index.html").read_text()
    assert (out / "map.png").stat().st_size > 0


def test_map_command_names_a_bad_events_file(tmp_path: Path) -> None:
    bad = write(tmp_path, [{**JAMMING, "start": "soon"}], "bad-events.json")
    result = CliRunner().invoke(app, ["map", str(bad), "-o", str(tmp_path / "m")])
    assert result.exit_code == 2
    assert "bad-events.json: event 0: start is not an ISO 8601 time" in result.output
    other = write(tmp_path, {"kind": "jamming"}, "not-a-list.json")
    result = CliRunner().invoke(app, ["map", "--events", str(other), "-o", str(tmp_path / "m")])
    assert result.exit_code == 2
    assert "not-a-list.json: an events file is a JSON list" in result.output
