"""Bad input: every good frame around a bad one is kept, and each reject is counted by reason."""

from __future__ import annotations

import gzip
import io
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import shared_path
from jamwatch.io import FormatError, ReadReport, detect_format, read_frames
from jamwatch.io.readers import FORMATS, write_beast
from jamwatch.schema import RAW_FRAMES

START = datetime(2024, 1, 1, tzinfo=UTC)
START_NS = 1_704_067_200 * 10**9
LONG = bytes.fromhex("8D4840D6202CC371C32CE0576098")
SHORT = bytes.fromhex("5D4840D6F87407")


def read_all(path: Path, **kwargs: object) -> tuple[pa.Table, ReadReport]:
    report = ReadReport(str(path))
    batches = list(read_frames(path, report=report, **kwargs))  # type: ignore[arg-type]
    return pa.Table.from_batches(batches, schema=RAW_FRAMES), report


def beast(frame: bytes, tick: int) -> bytes:
    """One Beast message written by jamwatch's writer (signal 0x20)."""
    table = pa.table({"time": pa.array([START_NS + tick * 1000], pa.timestamp("ns", "UTC")),
                      "frame": pa.array([frame], pa.binary()),
                      "signal": pa.array([0x20], pa.uint8())}, schema=RAW_FRAMES)
    out = io.BytesIO()
    write_beast(table, out, start=START)
    return out.getvalue()


def test_beast_good_frames_around_every_kind_of_damage(tmp_path: Path) -> None:
    a, b, c, d = beast(LONG, 12), beast(SHORT, 24), beast(b"\x12\x34", 36), beast(LONG, 48)
    escaped = beast(b"\x8d\x1a\x05" + LONG[3:], 60)
    assert escaped.count(b"\x1a\x1a\x05") == 1
    badly_escaped = escaped.replace(b"\x1a\x1a\x05", b"\x1a\x05")
    f, g = beast(SHORT, 72), beast(LONG, 84)
    data = (
        b"\x00\x01junk"  # garbage before the first message
        + a
        + beast(LONG, 999)[:8]  # cut short by the next message
        + b
        + c
        + badly_escaped  # a 0x1a inside the frame that is not doubled
        + d
        + b"\x1a\x35" + bytes(range(40, 50))  # unknown message type '5'
        + f
        + g
        + beast(SHORT, 5)[:12]  # cut short by the end of the file
    )
    path = tmp_path / "damaged.beast"
    path.write_bytes(data)
    table, report = read_all(path, fmt="beast", start=START)
    assert table.column("frame").to_pylist() == [LONG, SHORT, b"\x12\x34", LONG, SHORT, LONG]
    # the first good frame (counter 12 us) is at the start
    assert table.column("time").cast(pa.int64()).to_pylist() == [
        START_NS + (t - 12) * 1000 for t in (12, 24, 36, 48, 72, 84)
    ]
    assert dict(report.rejects) == {
        "beast_garbage": 1,
        "beast_truncated": 2,
        "beast_bad_escape": 1,
        "beast_unknown_type": 1,
    }
    assert report.frames == 6 and report.bytes_read == len(data)
    assert detect_format(path) == "beast"  # mostly good messages


def test_beast_random_bytes_never_fail_with_explicit_format(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    path = tmp_path / "noise.bin"
    path.write_bytes(rng.integers(0, 256, 200_000, dtype=np.uint8).tobytes())
    _, report = read_all(path, fmt="beast", start=START)
    assert report.bytes_read == 200_000
    # one broken stretch is counted once: noise is garbage up to the (rare) chance message
    assert report.rejects["beast_garbage"] >= 1
    assert report.frames < 50


def test_avr_rejects_by_reason(tmp_path: Path) -> None:
    path = tmp_path / "bad.avr"
    path.write_text(
        "*8D4840D6202CC371C32CE0576098;\n"
        "*8D4840D6202CC371C32CE057609G;\n"  # non-hex character
        "*8D4840D6202CC371C32CE057609;\n"  # 27 digits
        "@00000000000Z8D4840D6202CC371C32CE0576098;\n"  # counter not hex
        "@0000;\n"  # too short for a counter
        "#8D4840D6202CC371C32CE0576098;\n"  # unknown prefix
        "\n   \n"
        "*5D4840D6F87407;"  # no newline at the end
    )
    table, report = read_all(path, fmt="avr")
    assert table.column("frame").to_pylist() == [LONG, SHORT]
    assert dict(report.rejects) == {
        "bad_hex_char": 1, "bad_length": 1, "bad_timestamp": 2, "bad_line": 1,
    }


def test_iso_hex_rejects_by_reason(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(
        "2015-03-03T16:12:24.846557    5D4840D6F87407\n"
        "2015-02-29T16:12:24    5D4840D6F87407\n"  # no 29 February in 2015
        "2015-03-03T16:12:24.846557\n"  # no frame
        "2015-03-03T25:12:24 5D4840D6F87407\n"  # hour 25
        "yesterday 5D4840D6F87407\n"
        "2015-03-03T16:12:24+02:00\t5D4840D6F87407\r\n"
        "2016-02-29 16:12:24Z 8D4840D6202CC371C32CE0576098\n"
        "2015-03-03T16:12:24 5D4840D6F8740\n"  # 13 digits
    )
    table, report = read_all(path, fmt="iso-hex")
    assert table.column("frame").to_pylist() == [SHORT, SHORT, LONG]
    expected = [datetime(2015, 3, 3, 16, 12, 24, 846557, tzinfo=UTC),
                datetime(2015, 3, 3, 14, 12, 24, tzinfo=UTC),
                datetime(2016, 2, 29, 16, 12, 24, tzinfo=UTC)]
    assert table.column("time").cast(pa.timestamp("us", "UTC")).to_pylist() == expected
    assert dict(report.rejects) == {"bad_timestamp": 3, "bad_line": 1, "bad_length": 1}


def test_hexlines_bad_characters_lengths_and_a_huge_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.hex"
    path.write_bytes(
        LONG.hex().encode() + b"\n"
        + b"xyz\n"  # 3 characters
        + b"8D4840D6202CC371C32CE057609Z\n"
        + b"\xff\xfe" * 7 + b"\n"  # 14 non-ASCII bytes
        + b"A" * (200 << 10) + b"\n"  # 200 KiB without a newline: skipped
        + SHORT.hex().encode()
    )
    table, report = read_all(path, fmt="hexlines")
    assert table.column("frame").to_pylist() == [LONG, SHORT]
    assert dict(report.rejects) == {"bad_length": 1, "bad_hex_char": 2, "line_too_long": 1}


def test_pymodes_csv_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        f'1457996400,"{LONG.hex()}","4840D6",4\n'
        f'abc,"{LONG.hex()}","4840D6",4\n'  # time not a number
        f'1457996401,"8D40ZZ{LONG.hex()[6:]}","4840D6",4\n'
        "1457996402\n"  # too few columns
        f'1457996403,"{LONG.hex()}","4840D6",4,extra\n'  # too many columns
        f'"1457996404.5","{SHORT.hex()}","4840D6",0\n'  # quoted time
    )
    table, report = read_all(path, fmt="pymodes-csv")
    assert table.column("frame").to_pylist() == [LONG, SHORT]
    assert table.column("time").cast(pa.int64()).to_pylist() == [
        1457996400 * 10**9, 1457996404_500_000_000,
    ]
    assert dict(report.rejects) == {"bad_timestamp": 1, "bad_hex_char": 1, "bad_line": 2}


def test_truncated_gzip_keeps_the_frames_before_the_damage(tmp_path: Path) -> None:
    src = shared_path("adsb", "pymodes_mixed_2015-03-03.txt")  # pyModeS data.txt
    packed = gzip.compress(src.read_bytes())
    path = tmp_path / "cut.txt.gz"
    path.write_bytes(packed[: len(packed) * 2 // 3])
    table, report = read_all(path)
    full, _ = read_all(src)
    assert report.format == "iso-hex"
    assert 0 < table.num_rows < full.num_rows
    assert table.equals(full.slice(0, table.num_rows))
    assert report.rejects["damaged_stream"] == 1


@pytest.mark.parametrize(
    "content",
    [
        np.random.default_rng(3).integers(0, 256, 5000, dtype=np.uint8).tobytes(),
        b'{"8D4840D6202CC371C32CE0576098": "a test vector"}\n',
        b"hello world\nthis is not a recording\n",
        b"\x00" * 1000,
    ],
    ids=["random-bytes", "json", "prose", "zeros"],
)
def test_unknown_content_names_file_and_formats(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "mystery.dat"
    path.write_bytes(content)
    with pytest.raises(FormatError) as err:
        read_frames(path)
    message = str(err.value)
    assert str(path) in message
    assert all(fmt in message for fmt in FORMATS)
    gz = tmp_path / "mystery.dat.gz"
    gz.write_bytes(gzip.compress(content))
    with pytest.raises(FormatError):
        detect_format(gz)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.beast"
    path.write_bytes(b"")
    with pytest.raises(FormatError, match="empty file"):
        read_frames(path)
    for fmt in FORMATS:
        table, report = read_all(path, fmt=fmt)
        assert table.num_rows == 0 and report.frames == 0 and not report.rejects
    (tmp_path / "empty.gz").write_bytes(gzip.compress(b""))
    with pytest.raises(FormatError, match="empty file"):
        detect_format(tmp_path / "empty.gz")


def test_missing_path_directory_and_unknown_format(tmp_path: Path) -> None:
    missing = tmp_path / "nope.beast"
    with pytest.raises(FileNotFoundError, match=r"nope\.beast"):
        read_frames(missing)
    with pytest.raises(FileNotFoundError, match=r"nope\.beast"):
        detect_format(missing)
    with pytest.raises(IsADirectoryError, match="is a directory"):
        read_frames(tmp_path)
    path = tmp_path / "x.hex"
    path.write_text(LONG.hex())
    with pytest.raises(ValueError, match="unknown format 'sbs'"):
        read_frames(path, fmt="sbs")


def test_parquet_without_opensky_columns(tmp_path: Path) -> None:
    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"a": [1, 2]}), path)
    with pytest.raises(FormatError, match="mintime, rawmsg"):
        read_frames(path)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1" + b"\x00" * 100)
    with pytest.raises(FormatError, match=r"broken\.parquet"):
        read_frames(broken)


def test_writer_refuses_what_beast_cannot_hold() -> None:
    def table(frame: bytes, ns: int | None) -> pa.Table:
        return pa.table({"time": pa.array([ns], pa.timestamp("ns", "UTC")),
                         "frame": pa.array([frame], pa.binary()),
                         "signal": pa.array([None], pa.uint8())}, schema=RAW_FRAMES)

    out = io.BytesIO()
    with pytest.raises(ValueError, match="between start"):
        write_beast(table(LONG, START_NS - 1000), out, start=START)
    with pytest.raises(ValueError, match="2, 7 or 14 bytes"):
        write_beast(table(b"\x01\x02\x03", START_NS), out, start=START)
    with pytest.raises(ValueError, match="needs a time"):
        write_beast(table(LONG, None), out, start=START)
    write_beast(table(SHORT, START_NS), out, start=START)
    assert out.getvalue() == b"\x1a\x32" + bytes(7) + SHORT  # null signal written as 0
