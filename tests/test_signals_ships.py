"""Ship signals and ship spoofing episodes, on the real AIS of ../shared/data/ais (pyais's real
captures, MIT) and on tracks written here with known answers.

The thresholds are the defaults of :class:`jamwatch.signals.ships.ShipConfig` and
:class:`jamwatch.detect.ships.ShipEpisodeConfig`: round figures set before any data was run
(docs/ais.md). The land-mask margin (2 km) was set before the real sample was tested with it;
the tracks below were written afterwards, to test those values, not to choose them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from conftest import AIS_FILES, shared_path
from jamwatch.decoder.ais_files import read_ais
from jamwatch.detect.ships import ship_events
from jamwatch.geo import destination, distance_m
from jamwatch.io.events import from_json, to_json
from jamwatch.schema import AIS_DECODED
from jamwatch.signals.land import on_land
from jamwatch.signals.ships import ship_signals

T0 = 1_717_000_000 * 10**9  # 2024-05-29 16:26:40 UTC
KT = 1852.0 / 3600.0
FILES = AIS_FILES


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    names = AIS_DECODED.names
    return pa.table(
        {n: pa.array([r.get(n) for r in rows], AIS_DECODED.field(n).type) for n in names}
    )


def _pos(
    mmsi: int, t_s: float, lat: float | None, lon: float | None, sog: float | None = 10.0,
    msg_type: int = 1,
) -> dict[str, Any]:  # fmt: skip
    return {
        "time": T0 + int(t_s * 1e9), "mmsi": mmsi, "msg_type": msg_type, "latitude": lat,
        "longitude": lon, "sog_kt": sog,
    }  # fmt: skip


def _sailing(mmsi: int, lat: float, lon: float, course: float, kt: float, n: int, step_s: float):
    """Positions of a ship sailing straight, every ``step_s``."""
    for k in range(n):
        la, lo = destination(lat, lon, course, kt * KT * k * step_s)
        yield k * step_s, float(la), float(lo)


def _real() -> pa.Table:
    table, _, _, errors = read_ais([shared_path("ais", name) for name in FILES])
    assert errors == []
    return table


def test_clean_real_ais_has_no_spoofing_episode() -> None:
    # the real captures (pyais's test data: Greek waters, the Netherlands, Belgium): no ship
    # was spoofed there; an inland barge on the Lek and a ship in Antwerp's docks lie "on
    # land" by Natural Earth (no rivers, no docks) and must not make an episode.
    events, signals = ship_events(_real())
    assert events.num_rows == 0
    assert signals.num_rows == 815
    assert not any(signals.column("spoofed").to_pylist())
    land = signals.filter(signals.column("on_land"))
    assert sorted(set(land.column("mmsi").to_pylist())) == [786434, 205448890]
    assert sum(signals.column("position_missing").to_pylist()) == 4


def test_land_mask_needs_its_margin_on_real_harbour_positions() -> None:
    # 764 real positions of 164 ships in Greek waters (nmea_data_sample.txt), many in
    # harbours: Natural Earth's 1:10m coast puts 64 of them on land; with the 2 km margin,
    # none. (Both counts measured with the mask as shipped.)
    table, _, _, _ = read_ais([shared_path("ais", "nmea_data_sample.txt")])
    sample = table.filter(pa.compute.is_valid(table.column("latitude")))
    lat = sample.column("latitude").to_numpy(zero_copy_only=False)
    lon = sample.column("longitude").to_numpy(zero_copy_only=False)
    assert lat.shape[0] == 764
    assert int(on_land(lat, lon, 0.0).sum()) == 64
    assert int(on_land(lat, lon).sum()) == 0
    # places: inland Finland, Seoul, Frankfurt airport on land; open sea and the Gulf of
    # Finland not; a missing position is not on land
    lat_p = [61.5, 37.56, 50.03, 37.0, 59.9, np.nan]
    lon_p = [23.76, 126.98, 8.56, 125.0, 25.0, 0.0]
    assert on_land(lat_p, lon_p).tolist() == [True, True, True, False, False, False]


def test_a_ship_that_reports_a_false_point_makes_one_episode_with_it() -> None:
    rows = []
    for t, lat, lon in _sailing(111111111, 37.3, 125.0, 90.0, 12.0, 720, 10.0):
        if 1800.0 <= t < 3600.0:  # half an hour at a false point 70 km away
            lat, lon = 37.67, 125.70
        rows.append(_pos(111111111, t, lat, lon, 12.0))
    events, signals = ship_events(_table(rows))
    assert events.num_rows == 1
    e = events.to_pylist()[0]
    assert e["kind"] == "spoofing" and e["mmsi"] == 111111111 and e["vessels"] == [111111111]
    assert e["aircraft"] == [] and e["icao"] is None
    # the false point is far (a jump) and held while the ship reports 12 kt
    assert e["reports"] == 180 and e["evidence"] == ["jump", "held_point"]
    assert e["start"].timestamp() == pytest.approx((T0 / 1e9) + 1800.0, abs=1e-3)
    assert e["end"].timestamp() == pytest.approx((T0 / 1e9) + 3590.0, abs=1e-3)
    assert e["false_position"]["latitude"] == pytest.approx(37.67)
    assert e["false_position"]["converging_vessels"] == 1
    # the true track before and after is not flagged
    assert sum(signals.column("false_track").to_pylist()) == 180


def test_perfect_circles_are_found_and_a_fishing_loop_is_not() -> None:
    rows = []
    # a spoofed ship going round a circle of 1 km every 10 minutes for 2 hours
    for k in range(720):
        lat, lon = destination(37.0, 124.8, 360.0 * k * 10.0 / 600.0, 1000.0)
        rows.append(_pos(222222222, k * 10.0, float(lat), float(lon), 20.0))
    # a purse seiner: one loop of about 800 m, not round (+-150 m and 20 m noise), then away
    rng = np.random.default_rng(1)
    for k in range(360):
        t = k * 10.0
        angle = 360.0 * min(t, 900.0) / 900.0
        r = 800.0 + 150.0 * np.sin(np.radians(3 * angle)) + rng.normal(0.0, 20.0)
        lat, lon = destination(36.9, 125.2, angle, r)
        if t > 900.0:
            lat, lon = destination(36.9, 125.2, 0.0, 800.0 + 4.0 * (t - 900.0))
        rows.append(_pos(333333333, t, float(lat), float(lon), 6.0))
    # a survey ship mowing the lawn: 2 km legs, 200 m apart, turning at each end
    t = 0.0
    for leg in range(12):
        for k in range(20):
            north = 2000.0 * (k / 19.0 if leg % 2 == 0 else 1.0 - k / 19.0)
            la, lo = destination(36.8, 125.4, 0.0, north)
            la, lo = destination(la, lo, 90.0, 200.0 * leg)
            rows.append(_pos(444444444, t, float(la), float(lo), 8.0))
            t += 10.0
    events, signals = ship_events(_table(rows))
    assert [e["mmsi"] for e in events.to_pylist()] == [222222222]
    e = events.to_pylist()[0]
    assert e["evidence"] == ["circle"] and e["reports"] == 720
    centre = e["false_position"]
    assert distance_m(centre["latitude"], centre["longitude"], 37.0, 124.8) < 50.0
    flagged = signals.filter(signals.column("circling"))
    assert set(flagged.column("mmsi").to_pylist()) == {222222222}


def test_two_ships_under_one_mmsi_are_not_spoofing() -> None:
    # real AIS has MMSIs shared by two ships: the track alternates between their places
    rows = []
    for k in range(720):
        if k % 3 == 0:
            rows.append(_pos(555555555, k * 10.0, 36.5, 126.0 + k * 1e-5, 5.0))
        else:
            rows.append(_pos(555555555, k * 10.0, 37.0, 126.5 - k * 1e-5, 5.0))
    # and long runs of each (the receiver hears one, then the other)
    for k in range(600):
        far = (k // 60) % 2 == 1
        rows.append(_pos(666666666, 8000.0 + k * 10.0, 35.0 if far else 35.5, 127.0, 3.0))
    events, signals = ship_events(_table(rows))
    assert events.num_rows == 0
    shared = signals.filter(signals.column("shared_mmsi"))
    assert set(shared.column("mmsi").to_pylist()) == {666666666}


def test_a_base_station_that_moves_and_ships_that_lose_their_position() -> None:
    rows = [_pos(2440000, k * 60.0, 37.5 + (0.05 if k >= 30 else 0.0), 126.6, None, 4)
            for k in range(50)]  # fmt: skip
    # a ship reports "not available" for 10 minutes, then only static data for 20 minutes
    for k in range(60):
        rows.append(_pos(777777777, k * 10.0, 37.2, 125.5 + k * 1e-4))
    for k in range(60, 120):
        rows.append(_pos(777777777, k * 10.0, None, None, None))
    for k in range(12, 36):
        rows.append({"time": T0 + k * 60 * 10**9, "mmsi": 777777777, "msg_type": 5})
    events, signals = ship_events(_table(rows))
    assert [(e["mmsi"], e["evidence"], e["reports"]) for e in events.to_pylist()] == [
        (2440000, ["station_moved"], 20)
    ]
    assert sum(signals.column("position_missing").to_pylist()) == 60
    # static messages more than five of its 10 s intervals and a minute after its last
    # position (at 590 s): all 24, from 12:00 on
    assert sum(signals.column("position_silent").to_pylist()) == 24
    # a ship at anchor (a position every 3 minutes) whose static data comes between them,
    # heard by two stations, is not silent
    quiet = [_pos(888888888, k * 180.0 + d, 37.0, 125.0, 0.0) for k in range(10) for d in (0, 0.1)]
    quiet += [{"time": T0 + int((k * 180 + 170) * 1e9), "mmsi": 888888888, "msg_type": 24}
              for k in range(10)]  # fmt: skip
    assert not any(ship_signals(_table(quiet)).column("position_silent").to_pylist())


def test_ship_episodes_in_events_json_round_trip_and_match_the_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    rows = [_pos(111111111, t, lat, lon, 12.0)
            for t, lat, lon in _sailing(111111111, 37.3, 125.0, 90.0, 12.0, 200, 10.0)]  # fmt: skip
    rows += [_pos(111111111, 2000.0 + k * 10.0, 38.0, 126.0, 0.0) for k in range(30)]
    events, _ = ship_events(_table(rows))
    items = to_json(events)
    assert items[0]["mmsi"] == 111111111 and "icao" not in items[0]
    assert items[0]["false_position"] == {
        "latitude": 38.0, "longitude": 126.0, "converging_vessels": 1
    }  # fmt: skip
    schema = json.loads((Path(__file__).parents[1] / "docs" / "events.schema.json").read_text())
    jsonschema.validate(items, schema)
    assert from_json(items).equals(events)


def test_reports_without_time_are_checked_for_land_only() -> None:
    rows = [_pos(888888888, 0.0, 61.5, 23.76), _pos(888888888, 10.0, 37.0, 125.0)]
    for r in rows:
        r["time"] = None
    signals = ship_signals(_table(rows))
    assert signals.column("on_land").to_pylist() == [True, False]
    assert not any(signals.column("false_track").to_pylist())


def test_the_map_reads_ship_episodes(tmp_path: Path) -> None:
    from jamwatch.io.events import write_events
    from jamwatch.serve.events import events_geojson, page_events, read_events

    rows = [_pos(111111111, k * 10.0, 37.0, 125.0 + k * 1e-4, 10.0) for k in range(100)]
    rows += [_pos(111111111, 1000.0 + k * 10.0, 38.0, 126.0, 10.0) for k in range(30)]
    events, _ = ship_events(_table(rows))
    path = tmp_path / "events.json"
    write_events(events, path)
    read = read_events(path)
    assert [(e["kind"], e["mmsi"], e["aircraft"]) for e in read] == [
        ("spoofing", 111111111, [])
    ]  # fmt: skip
    page = page_events(read, [(T0, 86_400)])
    assert page[0]["mmsi"] == 111111111 and page[0]["fp"] == {"y": 38.0, "x": 126.0}
    (feature,) = events_geojson(read)["features"]
    assert feature["properties"]["mmsi"] == 111111111
    assert feature["geometry"]["coordinates"] == [126.0, 38.0]


def test_a_frozen_fix_counts_from_its_first_repeat_and_static_data_inside_it() -> None:
    # a ship sails at 10 kt (a position every 10 s, 0-590 s), loses its fix after 300 s and
    # repeats the last one to its last report, with static data at 400 s
    track = list(_sailing(555555555, 37.3, 125.6, 90.0, 10.0, 60, 10.0))
    rows = []
    for t, lat, lon in track:
        if 300 < t <= 600:
            lat, lon = track[30][1], track[30][2]  # (the fix of 300 s, repeated)
        rows.append(_pos(555555555, t, lat, lon))
    rows.append({"time": T0 + 400 * 10**9, "mmsi": 555555555, "msg_type": 5})
    # an anchored ship (0 kt) whose fix repeats, with static data between: nothing lost
    rows += [_pos(666666666, k * 10.0, 37.0, 125.0, 0.0) for k in range(60)]
    rows.append({"time": T0 + 400 * 10**9, "mmsi": 666666666, "msg_type": 5})
    signals = ship_signals(_table(rows))
    mmsi = np.asarray(signals.column("mmsi").to_pylist())
    frozen = np.asarray(signals.column("position_frozen").to_pylist())
    silent = np.asarray(signals.column("position_silent").to_pylist())
    t = (np.asarray(signals.column("time").cast(pa.int64()).to_pylist()) - T0) // 10**9
    # every repeat, 310 s to 590 s (29 reports); not the fix of 300 s itself
    assert sorted(t[frozen & (mmsi == 555555555)].tolist()) == list(range(310, 600, 10))
    assert t[silent & (mmsi == 555555555)].tolist() == [400]
    assert not (frozen | silent)[mmsi == 666666666].any()
