"""Writers and readers round-trip: random frames (many 0x1a bytes) and times survive."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jamwatch.io import ReadReport, read_frames
from jamwatch.io.beast import parse_beast, read_beast
from jamwatch.io.clock import BeastClock
from jamwatch.io.readers import write_beast, write_hexlines
from jamwatch.schema import RAW_FRAMES

# Not near midnight: small counters would then also read as GPS times of day (jamwatch.io.clock)
START = datetime(2024, 11, 1, 12, 34, 56, tzinfo=UTC)
START_NS = (1_730_419_200 + 12 * 3600 + 34 * 60 + 56) * 10**9
MAX_TICK = (1 << 48) - 1

# bytes biased towards the escape value 0x1a
byte = st.one_of(st.just(0x1A), st.integers(0, 255))
frame = st.sampled_from([2, 7, 14]).flatmap(
    lambda n: st.lists(byte, min_size=n, max_size=n).map(bytes)
)
signal = st.one_of(st.just(0x1A), st.integers(0, 255))
# A free-running 12 MHz counter: a first value (whole microseconds, so that the time of the
# first frame is a datetime), then steps forward of up to an hour (0x1a bytes included).
first_tick = st.integers(1, (MAX_TICK >> 1) // 12).map(lambda k: 12 * k)
step = st.one_of(st.just(0x1A1A), st.integers(0, 12_000_000 * 3600))


@st.composite
def rows_strategy(draw: st.DrawFn) -> list[tuple[bytes, int, int]]:
    frames = draw(st.lists(st.tuples(frame, signal), min_size=1, max_size=60))
    tick = draw(first_tick)
    rows = []
    for k, (f, s) in enumerate(frames):
        tick += draw(step) if k else 0
        rows.append((f, min(tick, MAX_TICK), s))
    return rows


def first_frame_time(rows: list[tuple[bytes, int, int]]) -> datetime:
    """The time of the first frame, the start a reader of the written file must be given."""
    first_ns = START_NS + tick_ns(rows[0][1])
    return datetime.fromtimestamp(0, UTC) + timedelta(microseconds=first_ns // 1000)


SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def tick_ns(tick: int) -> int:
    """Nanoseconds of a 12 MHz tick count, rounded (exact integer arithmetic)."""
    return (tick * 250 + 1) // 3


def table_of(rows: list[tuple[bytes, int, int]], with_time: bool = True) -> pa.Table:
    return pa.table(
        {
            "time": pa.array([START_NS + tick_ns(t) if with_time else None for _, t, _ in rows],
                             pa.timestamp("ns", "UTC")),
            "frame": pa.array([f for f, _, _ in rows], pa.binary()),
            "signal": pa.array([s for _, _, s in rows], pa.uint8()),
        },
        schema=RAW_FRAMES,
    )


def ticks_of(table: pa.Table) -> list[int]:
    ns = table.column("time").cast(pa.int64()).to_pylist()
    return [(6 * (v - START_NS) + 250) // 500 for v in ns]


@SETTINGS
@given(rows=rows_strategy())
def test_beast_roundtrip(tmp_path: Path, rows: list[tuple[bytes, int, int]]) -> None:
    path = tmp_path / "frames.bin"
    assert write_beast(table_of(rows), path, start=START) == len(rows)
    report = ReadReport(str(path))
    # the written counter runs freely; "auto" may read a few random counters as GPS time
    # when they fall near the start's time of day (documented in jamwatch.io.clock, and
    # tested there), which is not what this round trip is about
    table = pa.Table.from_batches(
        list(read_frames(path, start=first_frame_time(rows), clock="free", report=report))
    )
    assert report.format == "beast"
    assert not report.rejects
    assert table.column("frame").to_pylist() == [f for f, _, _ in rows]
    assert table.column("signal").to_pylist() == [s for _, _, s in rows]
    assert ticks_of(table) == [t for _, t, _ in rows]


@SETTINGS
@given(rows=rows_strategy(), chunk=st.integers(1, 40))
def test_beast_stream_chunking_keeps_every_frame(
    rows: list[tuple[bytes, int, int]], chunk: int
) -> None:
    # the carry-over between chunks: any chunk size gives the same frames
    out = io.BytesIO()
    write_beast(table_of(rows), out, start=START)
    data = out.getvalue()
    escapes = sum(f.count(0x1A) + s.to_bytes(1, "big").count(0x1A)
                  + t.to_bytes(6, "big").count(0x1A) for f, t, s in rows)
    assert len(data) == sum(9 + len(f) for f, _, _ in rows) + escapes
    report = ReadReport("<stream>")
    clock = BeastClock(START_NS + tick_ns(rows[0][1]))
    batches = list(read_beast(io.BytesIO(data), clock=clock, report=report,
                              chunk_bytes=chunk, batch_rows=7))
    assert all(b.num_rows <= 7 for b in batches)
    table = pa.Table.from_batches(batches, schema=RAW_FRAMES)
    assert table.column("frame").to_pylist() == [f for f, _, _ in rows]
    assert ticks_of(table) == [t for _, t, _ in rows]
    assert report.bytes_read == len(data) and not report.rejects
    whole = parse_beast(data)
    assert whole.good_bytes == len(data) and whole.skipped_bytes == 0


@SETTINGS
@given(rows=rows_strategy(), stamped=st.booleans())
def test_avr_roundtrip(tmp_path: Path, rows: list[tuple[bytes, int, int]], stamped: bool) -> None:
    path = tmp_path / "frames.avr"
    write_hexlines(table_of(rows), path, style="avr", start=START if stamped else None)
    report = ReadReport(str(path))
    # the written counter runs freely, as in the Beast round trip above: "auto" read one
    # (four frames from counter 487,901,067,360, which as a GPS time stamp is 00:07:34, 15
    # minutes from the start's 23:52:34) as GPS time
    table = pa.Table.from_batches(
        list(read_frames(path, start=first_frame_time(rows), clock="free", report=report))
    )
    assert report.format == "avr" and not report.rejects
    assert table.column("frame").to_pylist() == [f for f, _, _ in rows]
    if stamped:
        assert ticks_of(table) == [t for _, t, _ in rows]
    else:
        assert table.column("time").null_count == len(rows)


@SETTINGS
@given(rows=rows_strategy(), ns=st.lists(st.integers(-2 * 10**18, 4 * 10**18), min_size=60,
                                       max_size=60))
def test_iso_and_plain_roundtrip(
    tmp_path: Path, rows: list[tuple[bytes, int, int]], ns: list[int]
) -> None:
    table_in = table_of(rows).set_column(
        0, "time", pa.array(ns[: len(rows)], pa.timestamp("ns", "UTC"))
    )
    iso = tmp_path / "frames.txt"
    write_hexlines(table_in, iso, style="iso")
    table = pa.Table.from_batches(list(read_frames(iso)))
    assert table.column("frame").to_pylist() == [f for f, _, _ in rows]
    assert table.column("time").cast(pa.int64()).to_pylist() == ns[: len(rows)]
    plain = tmp_path / "frames.hex"
    write_hexlines(table_in, plain, style="plain")
    report = ReadReport(str(plain))
    table = pa.Table.from_batches(list(read_frames(plain, fmt="hexlines", report=report)))
    assert table.column("frame").to_pylist() == [f for f, _, _ in rows]
    assert not report.rejects


def test_gzip_writer_output_is_read(tmp_path: Path) -> None:
    # counters full of escape bytes; the first frame is at the start given
    rows = [(bytes([0x1A] * 14), 0x1A1A1A1A1A1A, 0x1A), (b"\x1a\x00", 0x1A1A1A1A1A1A + 12, 2)]
    path = tmp_path / "frames.beast.gz"
    write_beast(table_of(rows), path, start=START)
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    table = pa.Table.from_batches(list(read_frames(path, start=START)))
    assert table.column("frame").to_pylist() == [f for f, _, _ in rows]
    assert table.column("time").cast(pa.int64()).to_pylist() == [START_NS, START_NS + 1000]
