"""The io readers on the real recordings of ../shared/data/adsb (see its PROVENANCE.md).

Expected values are derived here independently of jamwatch: a plain Python Beast parser,
the csv module, datetime.fromisoformat and bytes.fromhex.
"""

from __future__ import annotations

import csv
import gzip
import os
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from conftest import shared_path
from jamwatch.decoder import Decoder
from jamwatch.io import ReadReport, detect_format, read_frames

START = datetime(2024, 5, 29, 12, 0, tzinfo=UTC)
START_NS = 1_716_984_000 * 10**9
LENGTHS = {0x31: 2, 0x32: 7, 0x33: 14}


def reference_beast(data: bytes) -> list[tuple[int, int, bytes]]:
    """(counter, signal, frame) of a clean Beast stream; asserts it is clean."""
    out = []
    i = 0
    while i < len(data):
        assert data[i] == 0x1A
        flen = LENGTHS[data[i + 1]]
        i += 2
        payload = bytearray()
        while len(payload) < 7 + flen:
            b = data[i]
            i += 1
            if b == 0x1A:
                assert data[i] == 0x1A
                i += 1
            payload.append(b)
        out.append((int.from_bytes(payload[:6], "big"), payload[6], bytes(payload[7:])))
    return out


def read_table(path: Path | str, **kwargs: object) -> tuple[pa.Table, ReadReport]:
    report = ReadReport(str(path))
    batches = list(read_frames(path, report=report, **kwargs))  # type: ignore[arg-type]
    return pa.Table.from_batches(batches), report


def ns_column(table: pa.Table) -> list[int | None]:
    return table.column("time").cast(pa.int64()).to_pylist()  # type: ignore[no-any-return]


def test_beast_sample_matches_reference_parser() -> None:
    # xoolive/traffic sample_dump1090.bin: 239 real frames from a receiver near Toulouse
    path = shared_path("adsb", "dump1090_sample.beast")
    expected = reference_beast(path.read_bytes())
    assert len(expected) == 239
    assert detect_format(path) == "beast"
    table, report = read_table(path, start=START)
    assert report.format == "beast"
    assert report.frames == table.num_rows == 239
    assert report.bytes_read == path.stat().st_size
    assert not report.rejects
    assert table.column("frame").to_pylist() == [f for _, _, f in expected]
    assert table.column("signal").to_pylist() == [s for _, s, _ in expected]
    # time = start + (counter - first counter) / 12 MHz, to the nearest nanosecond
    first = expected[0][0]
    assert ns_column(table) == [START_NS + round(Fraction((c - first) * 10**9, 12_000_000))
                                for c, _, _ in expected]


def test_beast_sample_crc_is_plausible() -> None:
    # every frame whose parity can be checked (DF11/17/18) passes the CRC
    path = shared_path("adsb", "dump1090_sample.beast")
    table, _ = read_table(path, start=START)
    decoded = Decoder().decode(table)
    df = decoded.column("df").to_pylist()
    crc = decoded.column("crc_ok").to_pylist()
    checkable = [ok for d, ok in zip(df, crc, strict=True) if d in (11, 17, 18)]
    assert len(checkable) == 113
    assert all(checkable)
    assert df.count(17) == 23


def test_beast_start_defaults_to_mtime_minus_the_span(tmp_path: Path) -> None:
    # a recording's file is last written when it ends: the last frame is at the mtime
    src = shared_path("adsb", "dump1090_sample.beast")
    copy = tmp_path / "copy.beast"
    copy.write_bytes(src.read_bytes())
    os.utime(copy, ns=(START_NS, START_NS))
    ticks = [c for c, _, _ in reference_beast(src.read_bytes())]
    table, report = read_table(copy)
    assert report.start == "derived" and report.clock == "free"
    span = round(Fraction((ticks[-1] - ticks[0]) * 10**9, 12_000_000))
    assert ns_column(table)[0] == START_NS - span
    assert ns_column(table)[-1] == START_NS
    assert (report.first_ns, report.last_ns) == (START_NS - span, START_NS)


def test_iso_hex_sample(tmp_path: Path) -> None:
    # pyModeS data.txt: 4,516 mixed Mode S frames, 2015-03-03, naive ISO times (UTC);
    # the last line has no newline
    path = shared_path("adsb", "pymodes_mixed_2015-03-03.txt")
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    assert len(rows) == 4516
    assert detect_format(path) == "iso-hex"
    table, report = read_table(path)
    assert (report.format, report.frames, dict(report.rejects)) == ("iso-hex", 4516, {})
    assert table.column("frame").to_pylist() == [bytes.fromhex(h) for _, h in rows]
    expected = [datetime.fromisoformat(t).replace(tzinfo=UTC) for t, _ in rows]
    assert table.column("time").cast(pa.timestamp("us", "UTC")).to_pylist() == expected
    assert table.column("signal").null_count == 4516
    # small batches give the same table
    small, _ = read_table(path, batch_rows=333)
    assert small.equals(table)
    assert max(b.num_rows for b in read_frames(path, batch_rows=333)) <= 333


def test_pymodes_csv_sample() -> None:
    # pyModeS tests/data/sample_data_adsb.csv: 2,000 DF17 messages, 2016-03-14, no header
    path = shared_path("adsb", "pymodes_sample_data_adsb.csv")
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    assert len(rows) == 2000
    assert detect_format(path) == "pymodes-csv"
    table, report = read_table(path)
    assert (report.format, report.frames, dict(report.rejects)) == ("pymodes-csv", 2000, {})
    assert table.column("frame").to_pylist() == [bytes.fromhex(r[1]) for r in rows]
    assert ns_column(table) == [int(r[0]) * 10**9 for r in rows]
    decoded = Decoder().decode(table)
    assert pc.all(decoded.column("crc_ok")).as_py()


def test_gzip_is_read_transparently(tmp_path: Path) -> None:
    for name in ("dump1090_sample.beast", "pymodes_mixed_2015-03-03.txt",
                 "pymodes_sample_data_adsb.csv"):
        src = shared_path("adsb", name)
        packed = tmp_path / (name + ".gz")  # the name plays no part in detection
        packed.write_bytes(gzip.compress(src.read_bytes()))
        plain_table, plain_report = read_table(src, start=START)
        gz_table, gz_report = read_table(packed, start=START)
        assert gz_report.format == plain_report.format
        assert gz_table.equals(plain_table)
        assert detect_format(packed.read_bytes()[:4096]) == plain_report.format


def test_avr_and_hexlines_from_real_frames(tmp_path: Path) -> None:
    # the frames of pyModeS data.txt, written as AVR and as bare hex lines
    path = shared_path("adsb", "pymodes_mixed_2015-03-03.txt")
    hexes = [line.split()[1] for line in path.read_text().splitlines() if line.strip()]
    avr = tmp_path / "frames.avr"
    avr.write_text("".join(f"*{h};\r\n" for h in hexes))
    bare = tmp_path / "frames.hex"
    bare.write_text("\n".join(hexes) + "\n\n")
    for file, fmt in ((avr, "avr"), (bare, "hexlines")):
        assert detect_format(file) == fmt
        table, report = read_table(file)
        assert (report.frames, dict(report.rejects)) == (4516, {})
        assert table.column("frame").to_pylist() == [bytes.fromhex(h) for h in hexes]
        assert table.column("time").null_count == 4516


def test_avr_timestamped_and_mlat_lines(tmp_path: Path) -> None:
    # counters: 0xC = 12 ticks = 1 us, 0x18 = 2 us, 0x2EE0 = 12,000 ticks = 1 ms; the first
    # line is at the start given
    path = tmp_path / "mlat.avr"
    path.write_text(
        "@00000000000C8D4840D6202CC371C32CE0576098;\n"
        "%000000000018" "5D4840D6F87407;\n"
        "<000000002EE0" "A5" "8D4840D6202CC371C32CE0576098;\n"
        "*8D4840D6202CC371C32CE0576098;\n"
    )
    table, report = read_table(path, start=START)
    assert report.frames == 4
    assert ns_column(table) == [START_NS, START_NS + 1000, START_NS + 10**6 - 1000, None]
    assert table.column("signal").to_pylist() == [None, None, 0xA5, None]
    assert table.column("frame").to_pylist()[1] == bytes.fromhex("5D4840D6F87407")


def test_opensky_parquet_and_csv(tmp_path: Path) -> None:
    # OpenSky raw tables built from the real pyModeS CSV frames (other columns ignored)
    src = shared_path("adsb", "pymodes_sample_data_adsb.csv")
    with src.open(newline="") as f:
        rows = list(csv.reader(f))
    mintime = [int(r[0]) + 0.25 + i * 1e-6 for i, r in enumerate(rows)]
    raw = pa.table({
        "icao24": [r[2].lower() for r in rows],
        "mintime": mintime,
        "rawmsg": [r[1].lower() for r in rows],
        "msgcount": [1] * len(rows),
    })
    parquet = tmp_path / "rollcall.parquet"
    pq.write_table(raw, parquet)
    text = tmp_path / "rollcall.csv"
    lines = ["icao24,mintime,rawmsg,msgcount"]
    lines += [f"{r[2]},{t!r},{r[1]},1" for r, t in zip(rows, mintime, strict=True)]
    text.write_text("\n".join(lines) + "\n")
    expected_us = [round(t * 1e6) for t in mintime]
    for file, fmt in ((parquet, "opensky-parquet"), (text, "opensky-csv")):
        assert detect_format(file) == fmt
        table, report = read_table(file)
        assert (report.format, report.frames, dict(report.rejects)) == (fmt, 2000, {})
        assert table.column("frame").to_pylist() == [bytes.fromhex(r[1]) for r in rows]
        assert ns_column(table) == [us * 1000 for us in expected_us]


@pytest.mark.parametrize("name", ["testvectors_adsb.json"])
def test_real_non_recording_is_rejected(name: str) -> None:
    from jamwatch.io import FormatError

    path = shared_path("adsb", name)
    with pytest.raises(FormatError, match=name) as err:
        list(read_frames(path))
    for fmt in ("beast", "avr", "pymodes-csv", "iso-hex", "hexlines", "opensky-csv"):
        assert fmt in str(err.value)
