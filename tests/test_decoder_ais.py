"""AIS: every sentence of ../shared/data/ais (pyais's real test captures, MIT) read by
jamwatch's NMEA reader and columnar decoder, and compared with pyais 3 field by field.

pyais's ``FileReaderStream`` gives the oracle's messages in order. jamwatch must decode the
same messages, except where it rejects a sentence pyais takes and the test names why
(``REJECTED``). Where jamwatch has a null, pyais must hold the "not available" code of
ITU-R M.1371-5 (or the field must be out of its range); everywhere else the values agree
(positions to pyais's 6 decimals).
"""

from __future__ import annotations

import gzip
import json
import math
from collections import Counter
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import AIS_FILES, shared_path
from jamwatch.decoder.ais import AisDecodeReport, decode_ais, decode_nmea
from jamwatch.io.base import ReadReport
from jamwatch.io.nmea import Assembler, read_nmea

pyais_stream = pytest.importorskip("pyais.stream")
pyais_exceptions = pytest.importorskip("pyais.exceptions")

FILES = AIS_FILES
# Sentences pyais decodes and jamwatch rejects, with the reason it counts.
REJECTED = {
    # no "*hh" checksum (the fill-bit field reads "013"): NMEA 0183 requires the checksum
    # on encapsulated sentences, so nothing vouches for the payload.
    b"!AIVDM,1,1,,B,15N4cJ005Jrek0H@9nDW5608EP,013": "no_checksum",
}
# jamwatch column -> pyais field, and the raw codes that mean "not available"
FIELDS: dict[str, tuple[str, Any]] = {
    "mmsi": ("mmsi", None),
    "msg_type": ("msg_type", None),
    "latitude": ("lat", lambda v: v == 91 or abs(v) > 90),
    "longitude": ("lon", lambda v: v == 181 or abs(v) > 180),
    "sog_kt": ("speed", lambda v: v in (102.3, 63)),
    "cog_deg": ("course", lambda v: v >= 360),
    "heading_deg": ("heading", lambda v: v >= 360),
    "nav_status": ("status", None),
    "position_accuracy": ("accuracy", None),
    "raim": ("raim", None),
    "epfd": ("epfd", None),
    "ship_name": ("shipname", None),
    "ship_type": ("ship_type", lambda v: v == 0),
    "utc_second": ("second", lambda v: v >= 60),
    "callsign": ("callsign", None),
    "imo": ("imo", lambda v: v == 0),
}
# types whose "second" field is a base station's UTC second, not the fix's (station_time)
BASE_STATIONS = (4, 11)


def oracle(path: str) -> list[tuple[bytes, dict[str, Any]]]:
    out = []
    for sentence in pyais_stream.FileReaderStream(path):
        try:
            out.append((sentence.raw, sentence.decode().asdict()))
        except pyais_exceptions.MissingPayloadException:
            continue  # an empty payload: jamwatch counts it (empty_payload)
    return out


def ours(path: str) -> tuple[list[dict[str, Any]], ReadReport, AisDecodeReport]:
    read, decoded = ReadReport(path), AisDecodeReport()
    tables = [decode_ais(t, decoded) for t in read_nmea(path, read)]
    rows = pa.concat_tables(tables).to_pylist() if tables else []
    return rows, read, decoded


def plain(value: Any) -> Any:
    return getattr(value, "value", value)


def agree(column: str, mine: Any, theirs: Any, msg_type: int) -> bool:
    _, not_available = FIELDS[column]
    if column == "utc_second" and msg_type in BASE_STATIONS:
        return mine is None
    theirs = plain(theirs)
    if mine is None:
        return theirs is None or (not_available is not None and not_available(theirs))
    if theirs is None:
        return False
    if isinstance(mine, float):
        return math.isclose(mine, theirs, abs_tol=6e-7)
    return bool(mine == theirs) if isinstance(mine, bool) else mine == theirs


@pytest.mark.parametrize("name", FILES)
def test_every_sentence_agrees_with_pyais(name: str) -> None:
    path = str(shared_path("ais", name))
    rows, read, _ = ours(path)
    expected = oracle(path)
    kept = [(raw, d) for raw, d in expected if raw not in REJECTED]
    assert len(rows) == len(kept) > 0
    disagreements = []
    for row, (raw, fields) in zip(rows, kept, strict=True):
        for column, (field, _) in FIELDS.items():
            if field not in fields:
                assert row[column] is None, (raw, column)
                continue
            if not agree(column, row[column], fields[field], fields["msg_type"]):
                disagreements.append((raw, column, row[column], fields[field]))
    assert disagreements == []
    rejected = Counter(REJECTED[raw] for raw, _ in expected if raw in REJECTED)
    for reason, count in rejected.items():
        assert read.rejects[reason] >= count


def test_the_real_sample_counts_what_it_skips() -> None:
    # nmea_data_sample.txt: 897 sentences; 100 have an empty payload and 20 are first
    # fragments of two-sentence type 5 messages whose second fragment is not in the file.
    rows, read, decoded = ours(str(shared_path("ais", "nmea_data_sample.txt")))
    assert len(rows) == 777 + 1
    assert read.rejects == Counter({"empty_payload": 100, "broken_multipart": 20})
    assert dict(decoded.by_type) == {1: 667, 3: 76, 18: 19, 15: 7, 4: 6, 24: 2, 20: 1}
    base = [r for r in rows if r["msg_type"] == 4]
    assert all(r["station_time"] is not None and r["station_time"].year >= 2000 for r in base)
    assert decoded.positions == sum(r["latitude"] is not None for r in rows)


def test_tag_blocks_and_gatehouse_lines_give_times_and_stations() -> None:
    rows, read, _ = ours(str(shared_path("ais", "mixed.txt")))
    timed = [(r["mmsi"], r["time"].isoformat(), r["station"]) for r in rows if r["time"]]
    # the tag block of the two-sentence type 5 (c:1428621738, s:b003669710) and the valid
    # Gatehouse line "$PGHP,1,2008,5,9,0,0,0,10,..." before 367309370's sentence; the tag
    # blocks with a wrong checksum are ignored and counted.
    assert timed == [
        (366989380, "2015-04-09T23:22:18+00:00", "b003669710"),
        (367309370, "2008-05-09T00:00:00.010000+00:00", None),
    ]
    assert read.rejects["bad_tag_block"] == 3
    assert read.rejects["other_nmea"] == 4  # $GPGGA, $GPRTE, $GPR00, $IIMWV


def sentence(body: str) -> bytes:
    """``!body*hh`` with its NMEA checksum, and a newline."""
    checksum = 0
    for char in body.encode():
        checksum ^= char
    return f"!{body}*{checksum:02X}\n".encode()


def test_multipart_across_chunks_and_bad_lines_around_good_ones() -> None:
    # the two sentences of a real type 5 (from mixed.txt), fed in separate chunks, with
    # damaged lines between and around them
    name = "55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8"
    first = sentence(f"AIVDM,2,1,1,A,{name},0")
    second = sentence("AIVDM,2,2,1,A,88888888880,2")
    good = sentence("AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0")
    bad_checksum = good.replace(b"*23", b"*24")
    orphan = sentence("AIVDM,2,2,3,B,88888888880,2")  # a second fragment without a first
    unfinished = sentence(f"AIVDM,2,1,4,A,{name},0")  # open when the input ends
    report = ReadReport("chunks")
    assembler = Assembler(report)
    parts = [
        assembler.feed(b"garbage\n" + first + bad_checksum),
        assembler.feed(second + good + orphan),
        assembler.feed(unfinished, final=True),
    ]
    rows = decode_ais(pa.concat_tables(parts)).to_pylist()
    assert [(r["mmsi"], r["msg_type"], r["ship_name"]) for r in rows] == [
        (351759000, 5, "EVER DIADEM"),
        (227006760, 1, None),
    ]
    assert report.rejects == Counter({"not_nmea": 1, "bad_checksum": 1, "broken_multipart": 2})


@pytest.mark.parametrize("chunk_bytes", [97, 256, 1000, 4 << 20])
def test_chunks_decoded_at_once_give_what_one_pass_in_order_gives(
    tmp_path: Any, chunk_bytes: int
) -> None:
    # decode_nmea assembles every chunk from an empty state on two threads and takes a
    # chunk again from the true state where a message crosses into it: every real
    # sentence (type 5 halves whose second half is missing, tag blocks, Gatehouse lines,
    # other NMEA) and written two-sentence messages cut at every place by small chunks
    name = "55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8"
    written = b"".join(
        sentence(f"AIVDM,2,1,{k % 10},{'AB'[k % 2]},{name},0")
        + sentence("AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0")
        + sentence(f"AIVDM,2,2,{k % 10},{'AB'[k % 2]},88888888880,2")
        for k in range(40)
    )
    path = tmp_path / "mixed.nmea"
    path.write_bytes(b"".join(shared_path("ais", file).read_bytes() for file in FILES) + written)
    read, decoded = ReadReport(str(path)), AisDecodeReport()
    tables = list(decode_nmea(path, read, decoded, chunk_bytes=chunk_bytes, threads=2))
    rows, read_in_order, decoded_in_order = ours(str(path))
    assert pa.concat_tables(tables).to_pylist() == rows
    assert read.rejects == read_in_order.rejects and read.frames == read_in_order.frames
    assert decoded == decoded_in_order
    assert sum(r["msg_type"] == 5 for r in rows) >= 40


def test_compressed_input_reads_the_same(tmp_path: Any) -> None:
    source = shared_path("ais", "nmea_data_sample.txt")
    packed = tmp_path / "sample.nmea.gz"
    packed.write_bytes(gzip.compress(source.read_bytes()))
    assert ours(str(packed))[0] == ours(str(source))[0]


def test_decode_command_writes_the_ais_columns(tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from jamwatch.cli import app
    from jamwatch.schema import AIS_DECODED

    folder = shared_path("ais", "mixed.txt").parent
    out = tmp_path / "ais.parquet"
    result = CliRunner().invoke(app, ["decode", str(folder), "-o", str(out)])
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.schema == AIS_DECODED
    expected = sum(len(ours(str(folder / name))[0]) for name in sorted(FILES))
    assert table.num_rows == expected == 815
    assert "empty_payload" in result.output and "wrote 815 rows" in result.output

    beast = shared_path("adsb", "dump1090_sample.beast")
    mixed = CliRunner().invoke(
        app, ["decode", str(folder / "mixed.txt"), str(beast), "-o", str(out)]
    )
    assert mixed.exit_code == 2  # a usage error: nothing is decoded
    assert "separate runs" in mixed.output
    # detect reads AIS beside Mode S (the ships' episodes: none in this clean capture)
    events = tmp_path / "events.json"
    detect = CliRunner().invoke(
        app, ["detect", str(folder / "mixed.txt"), str(beast), "-o", str(events)]
    )
    assert detect.exit_code == 0, detect.output
    assert "ships: position missing 0" in detect.output
    assert json.loads(events.read_text()) == []
    # map reads AIS as ships (of the capture's 12 messages, 2 have a time: no cell without)
    page = tmp_path / "map"
    shown = CliRunner().invoke(app, ["map", str(folder / "mixed.txt"), str(beast), "-o", str(page)])
    assert shown.exit_code == 0, shown.output
    assert "ships: 1 cells and windows, 0 bad ship-cells" in shown.output
    cells = pq.read_table(page / "cells.parquet")
    assert sum(cells.column("count_good_vessels").to_pylist()) == 1


def test_a_cut_compressed_file_keeps_what_came_before(tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from jamwatch.cli import app

    # five copies of the real sample (3,890 messages), so that the cut falls after the head
    # the reader judges the file by
    whole = gzip.compress(shared_path("ais", "nmea_data_sample.txt").read_bytes() * 5)
    cut = tmp_path / "cut.nmea.gz"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    out = tmp_path / "ais.parquet"
    result = CliRunner().invoke(app, ["decode", str(cut), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "damaged_stream" in result.output  # counted, as for Mode S recordings
    rows = pq.read_table(out).num_rows
    assert 2000 < rows < 5 * 778  # the messages before the cut
