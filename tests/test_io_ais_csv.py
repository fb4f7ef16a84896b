"""The DMA and MarineCadastre AIS CSV exports.

No such export is among the shared recordings, so the files are built here in the published
layouts (the DMA's 26-column ``aisdk-YYYY-MM-DD.csv``, MarineCadastre's 17-column
``AIS_YYYY_MM_DD.csv``) from real messages: every position and static report of
../shared/data/ais/nmea_data_sample.txt (pyais's real capture, MIT), decoded by jamwatch's
NMEA decoder (itself checked against pyais in test_decoder_ais.py), written as those
exporters write them (words for the DMA's status, ship type and device; numbers for
MarineCadastre). Reading them back must give the same values.
"""

from __future__ import annotations

import csv
import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from conftest import shared_path
from jamwatch.cli import app
from jamwatch.decoder.ais import decode_nmea
from jamwatch.io.ais_csv import EPFD, NAV_STATUS, SHIP_TYPE, read_ais_csv
from jamwatch.io.base import ReadReport
from jamwatch.io.sniff import sniff
from jamwatch.schema import AIS_DECODED

DMA_HEADER = [
    "# Timestamp",
    "Type of mobile",
    "MMSI",
    "Latitude",
    "Longitude",
    "Navigational status",
    "ROT",
    "SOG",
    "COG",
    "Heading",
    "IMO",
    "Callsign",
    "Name",
    "Ship type",
    "Cargo type",
    "Width",
    "Length",
    "Type of position fixing device",
    "Draught",
    "Destination",
    "ETA",
    "Data source type",
    "A",
    "B",
    "C",
    "D",
]
MC_HEADER = [  # "TranscieverClass": the spelling of many published years
    "MMSI", "BaseDateTime", "LAT", "LON", "SOG", "COG", "Heading", "VesselName", "IMO",
    "CallSign", "VesselType", "Status", "Length", "Width", "Draft", "Cargo", "TranscieverClass",
]  # fmt: skip
START = datetime(2024, 3, 1, tzinfo=UTC)
WORD = {
    "nav_status": {v: k.capitalize() for k, v in NAV_STATUS.items()},
    "ship_type": {v: k.capitalize() for k, v in SHIP_TYPE.items() if v},
    "epfd": {v: k.upper() if k == "gps" else k.capitalize() for k, v in EPFD.items()},
}


def real_messages() -> list[dict[str, Any]]:
    path = shared_path("ais", "nmea_data_sample.txt")
    rows = pa.concat_tables(list(decode_nmea(path))).to_pylist()
    kept = [r for r in rows if r["msg_type"] in (1, 2, 3, 18, 19, 5, 24)]
    for i, row in enumerate(kept):
        row["time"] = START + timedelta(seconds=i)
    return kept


def blank(value: Any, fmt: str = "{}") -> str:
    return "" if value is None else fmt.format(value)


def dma_row(r: dict[str, Any]) -> list[str]:
    mobile = "Class B" if r["msg_type"] in (18, 19, 24) else "Class A"
    # the DMA writes 91/181 for "not available", and the category of a ship type
    category = max((c for c in WORD["ship_type"] if r["ship_type"] and c <= r["ship_type"]),
                   default=None)  # fmt: skip
    row = {
        "# Timestamp": r["time"].strftime("%d/%m/%Y %H:%M:%S"),
        "Type of mobile": mobile,
        "MMSI": str(r["mmsi"]),
        "Latitude": blank(r["latitude"], "{:.6f}") or "91.000000",
        "Longitude": blank(r["longitude"], "{:.6f}") or "181.000000",
        "Navigational status": WORD["nav_status"].get(r["nav_status"], ""),
        "SOG": blank(r["sog_kt"]),
        "COG": blank(r["cog_deg"]),
        "Heading": blank(r["heading_deg"], "{:.0f}"),
        "IMO": blank(r["imo"]) or "Unknown",
        "Callsign": blank(r["callsign"]) or "Unknown",
        "Name": blank(r["ship_name"]),
        "Ship type": WORD["ship_type"][category] if category else "Undefined",
        "Type of position fixing device": WORD["epfd"].get(r["epfd"], ""),
        "Data source type": "AIS",
    }
    return [row.get(name, "") for name in DMA_HEADER]


def mc_row(r: dict[str, Any]) -> list[str]:
    row = {
        "MMSI": str(r["mmsi"]),
        "BaseDateTime": r["time"].strftime("%Y-%m-%dT%H:%M:%S"),
        "LAT": blank(r["latitude"], "{:.5f}"),
        "LON": blank(r["longitude"], "{:.5f}"),
        "SOG": blank(r["sog_kt"]) or "102.3",
        "COG": blank(r["cog_deg"]) or "360.0",
        "Heading": blank(r["heading_deg"], "{:.0f}") or "511",
        "VesselName": blank(r["ship_name"]),
        "IMO": blank(r["imo"], "IMO{}"),
        "CallSign": blank(r["callsign"]),
        "VesselType": blank(r["ship_type"]),
        "Status": blank(r["nav_status"]),
        "TranscieverClass": "B" if r["msg_type"] in (18, 19, 24) else "A",
    }
    return [row.get(name, "") for name in MC_HEADER]


def write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(header)
        out.writerows(rows)


@pytest.fixture(scope="module")
def messages() -> list[dict[str, Any]]:
    return real_messages()


def read_all(path: Path, fmt: str) -> tuple[list[dict[str, Any]], ReadReport]:
    report = ReadReport(str(path))
    tables = list(read_ais_csv(path, fmt, report))
    return pa.concat_tables(tables).to_pylist(), report


def test_a_dma_file_reads_back_the_real_messages(tmp_path: Path, messages: list[Any]) -> None:
    path = tmp_path / "aisdk-2024-03-01.csv"
    write(path, DMA_HEADER, [dma_row(r) for r in messages])
    assert sniff(path).format == "dma-csv"
    rows, report = read_all(path, "dma-csv")
    assert len(rows) == len(messages) == 764
    assert not report.rejects
    for got, want in zip(rows, messages, strict=True):
        assert got["time"] == want["time"]
        assert got["mmsi"] == want["mmsi"]
        assert got["msg_type"] == (18 if want["msg_type"] in (18, 19, 24) else 1)
        for name in ("latitude", "longitude"):
            assert got[name] == pytest.approx(want[name], abs=5e-7) if want[name] else True
            assert (got[name] is None) == (want[name] is None)
        for name in ("sog_kt", "cog_deg", "heading_deg", "nav_status", "epfd", "ship_name"):
            assert got[name] == want[name], name
        if want["ship_type"]:  # the DMA gives the category: its first code
            assert got["ship_type"] <= want["ship_type"] < got["ship_type"] + 10


def test_a_marinecadastre_file_reads_back_the_real_messages(
    tmp_path: Path, messages: list[Any]
) -> None:
    path = tmp_path / "AIS_2024_03_01.csv.gz"
    plain = tmp_path / "plain.csv"
    write(plain, MC_HEADER, [mc_row(r) for r in messages])
    path.write_bytes(gzip.compress(plain.read_bytes()))
    assert sniff(path).format == "marinecadastre-csv"
    rows, report = read_all(path, "marinecadastre-csv")
    assert len(rows) == 764
    assert not report.rejects
    for got, want in zip(rows, messages, strict=True):
        assert (got["mmsi"], got["time"]) == (want["mmsi"], want["time"])
        for name in ("sog_kt", "cog_deg", "heading_deg", "nav_status", "ship_type", "imo"):
            assert got[name] == want[name], name
        if want["latitude"] is not None:
            assert got["latitude"] == pytest.approx(want["latitude"], abs=5.1e-6)  # 5 decimals


def test_bad_rows_are_counted_and_the_good_ones_kept(tmp_path: Path, messages: list[Any]) -> None:
    path = tmp_path / "aisdk-2024-03-01.csv"
    good = [dma_row(r) for r in messages[:3]]
    short = good[0][:5]  # a row cut short
    not_a_number = [*good[1][:3], "5x.1", *good[1][4:]]
    bad_time = ["31/02/2024 25:00:00", *good[2][1:]]
    write(path, DMA_HEADER, [good[0], short, not_a_number, bad_time, good[2]])
    rows, report = read_all(path, "dma-csv")
    assert len(rows) == 4
    assert report.rejects == {"bad_line": 1, "bad_value": 1, "bad_timestamp": 1}
    assert rows[1]["latitude"] is None and rows[1]["longitude"] is None  # both or neither
    assert rows[1]["mmsi"] == messages[1]["mmsi"]
    assert rows[2]["time"] is None and rows[2]["mmsi"] == messages[2]["mmsi"]


def test_decode_command_reads_both_exports(tmp_path: Path, messages: list[Any]) -> None:
    dma, mc = tmp_path / "aisdk-2024-03-01.csv", tmp_path / "AIS_2024_03_01.csv"
    write(dma, DMA_HEADER, [dma_row(r) for r in messages])
    write(mc, MC_HEADER, [mc_row(r) for r in messages])
    out = tmp_path / "ships.parquet"
    result = CliRunner().invoke(app, ["decode", str(dma), str(mc), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "(dma-csv)" in result.output and "(marinecadastre-csv)" in result.output
    table = pq.read_table(out)
    assert table.schema == AIS_DECODED and table.num_rows == 2 * 764
