"""Position readers on the real samples of ../shared/data and on small hand-made files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import shared_path
from jamwatch.io.positions import (
    POSITION_SCHEMA,
    PositionFormatError,
    PositionReport,
    detect_position_format,
    read_positions,
)


def test_traffic_switzerland_records() -> None:
    # xoolive/traffic switzerland.json.gz (MIT): 139,098 positions of 842 aircraft, 10 s spacing
    path = shared_path("trajectories", "switzerland_2018-08-01.json.gz")
    report = PositionReport(str(path))
    t = read_positions(path, report=report)
    assert report.format == "traffic"
    assert t.schema == POSITION_SCHEMA
    assert (t.num_rows, report.rows_read, sum(report.rejects.values())) == (139_098, 139_098, 0)
    assert len(set(t.column("icao").to_pylist())) == 842
    first = t.slice(0, 1).to_pylist()[0]
    # the file's first record: DLH8JW 3003ae at 1533101250000 ms, 45.8189849854 9.2295455933
    assert first["icao"] == "3003ae" and first["callsign"] == "DLH8JW"
    assert t.column("time")[0].value == 1_533_101_250_000 * 1_000_000
    assert first["latitude"] == pytest.approx(45.8189849854)
    assert first["altitude_baro_ft"] == 34975.0
    assert t.column("nacp").null_count == t.num_rows  # no integrity in this source: null


def test_traffic_columns_orient_thy9bp() -> None:
    # xoolive/traffic noisy_spoofing.json.gz: THY9BP 4baac6, one row per second, 08:04-10:30
    path = shared_path("trajectories", "thy9bp_2024-09-17_spoofed.json.gz")
    t = read_positions(path)
    assert set(t.column("icao").to_pylist()) == {"4baac6"}
    assert t.column("time")[0].value == 1_726_560_266_000 * 1_000_000


def test_readsb_trace_carries_integrity_forward() -> None:
    # xoolive/traffic trace_full_ac671b.json: 2,500 points of DAL1812, 625 with a state object
    path = shared_path("traces", "readsb_trace_full_ac671b.json")
    raw = json.loads(path.read_text())
    t = read_positions(path)
    assert detect_position_format(path) == "trace" and t.num_rows == 2500
    first_state = next(i for i, p in enumerate(raw["trace"]) if p[8])
    nacp = t.column("nacp").to_pylist()
    assert nacp[:first_state] == [None] * first_state
    assert nacp[first_state] == raw["trace"][first_state][8]["nac_p"] == 10
    assert t.column("nic").null_count == first_state  # every later point has the carried NIC
    ground = t.column("on_ground").to_pylist()
    assert sum(ground) == sum(p[3] == "ground" for p in raw["trace"])
    assert t.column("time")[0].value == round(raw["timestamp"] * 1000) * 1_000_000
    # the callsign carries forward too: the aircraft flew DAL1812, then a later leg DAL2927
    flights = [p[8]["flight"].strip() for p in raw["trace"] if p[8] and "flight" in p[8]]
    assert flights[0] == "DAL1812" and flights[-1] == "DAL2927"
    assert t.column("callsign").to_pylist()[-1] == flights[-1]


def test_opensky_csv_units_and_bad_rows(tmp_path: Path) -> None:
    csv = tmp_path / "states.csv"
    csv.write_text(
        "time,icao24,lat,lon,velocity,heading,vertrate,callsign,onground,baroaltitude,geoaltitude\n"
        "1700000000,ABC123,46.0,7.0,100.0,90.0,5.08,SWR12  ,false,10000.0,10100.0\n"
        "1700000000,abc123,46.0,7.0,100.0,90.0,5.08,SWR12  ,false,10000.0,10100.0\n"  # repeat
        "1700000010,abc123,95.0,7.0,100.0,90.0,0,SWR12,false,10000.0,10100.0\n"
        "1700000020,abc123,46.1,181.0,100.0,90.0,0,SWR12,false,10000.0,10100.0\n"
        "600000000,abc123,46.1,7.1,100.0,90.0,0,SWR12,false,10000.0,10100.0\n"
        "4000000000,abc123,46.1,7.1,100.0,90.0,0,SWR12,false,10000.0,10100.0\n"
        "1700000030,abc123,,,100.0,90.0,0,SWR12,true,,\n"
    )
    report = PositionReport(str(csv))
    t = read_positions(csv, report=report)
    assert report.format == "opensky"
    assert dict(report.rejects) == {
        "duplicate": 1,
        "latitude out of range": 1,
        "longitude out of range": 1,
        "time before 1990": 1,
        "time in the future": 1,
    }
    assert t.num_rows == 2 and report.rows_kept == 2
    row = t.slice(0, 1).to_pylist()[0]
    assert row["icao"] == "abc123" and row["callsign"] == "SWR12"
    assert row["altitude_baro_ft"] == pytest.approx(10000 / 0.3048)
    assert row["altitude_gnss_ft"] == pytest.approx(10100 / 0.3048)
    assert row["groundspeed_kt"] == pytest.approx(100 * 3600 / 1852)
    assert row["vertical_rate_fpm"] == pytest.approx(1000.0)
    assert t.column("on_ground").to_pylist() == [False, True]
    # the same rows as Parquet and as the REST document give the same table
    pq.write_table(pa.csv.read_csv(csv), tmp_path / "states.parquet")
    assert read_positions(tmp_path / "states.parquet").equals(t)
    doc = {
        "time": 0,
        "states": [
            [
                "abc123",
                "SWR12",
                "CH",
                1700000000,
                1700000000,
                7.0,
                46.0,
                10000.0,
                False,
                100.0,
                90.0,
                5.08,
                None,
                10100.0,
                None,
                False,
                0,
            ]
        ],
    }
    (tmp_path / "api.json.gz").write_bytes(gzip.compress(json.dumps(doc).encode()))
    api = read_positions(tmp_path / "api.json.gz")
    assert api.slice(0, 1).to_pylist()[0] == row


def test_unknown_file_names_the_formats(tmp_path: Path) -> None:
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(PositionFormatError, match="opensky, traffic, trace"):
        read_positions(bad)
