"""Beast time stamps: relative free-running counters, untimed frames, restarts, GPS time."""

from __future__ import annotations

import bz2
import lzma
import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from conftest import shared_path
from jamwatch.io import ReadReport, read_frames
from jamwatch.io.beast import write_beast
from jamwatch.io.clock import MLAT_MAGIC, BeastClock, ClockProbe, guess_clock
from jamwatch.schema import RAW_FRAMES

S = 12_000_000  # ticks per second
T0 = 1_767_671_092 * 10**9  # 2026-01-06T03:44:52Z, a time of day far from midnight
DAY = 86_400 * 10**9
FRAME = bytes.fromhex("8D4840D6202CC371C32CE0576098")


def times(counters: list[int], start_ns: int = T0, kind: str = "free") -> list[int]:
    return BeastClock(start_ns, kind).times(np.array(counters, np.int64)).tolist()


def test_free_counter_is_relative_to_the_first_frame() -> None:
    # a receiver up for 910 s: only differences count; the first frame is at the start
    first = 910 * S + 123
    assert times([first, first + S, first + 12]) == [T0, T0 + 10**9, T0 + 1000]


def test_zero_and_mlat_counters_take_the_time_of_the_frame_before() -> None:
    c = 500 * S
    got = times([0, c, 0, c + S, MLAT_MAGIC, c + 2 * S])
    # a leading untimed frame is at the start; the others repeat the time before them
    assert got == [T0, T0, T0, T0 + 10**9, T0 + 10**9, T0 + 2 * 10**9]
    clock = BeastClock(T0)
    clock.times(np.array([0, c, 0, MLAT_MAGIC], np.int64))
    assert clock.untimed == 3 and clock.restarts == 0


def test_a_counter_that_jumps_back_starts_a_new_segment() -> None:
    # receiver restart: the new counter continues from the last time (the gap is unknown)
    clock = BeastClock(T0)
    got = clock.times(np.array([7000 * S, 7100 * S, 8 * S, 9 * S], np.int64)).tolist()
    assert got == [T0, T0 + 100 * 10**9, T0 + 100 * 10**9, T0 + 101 * 10**9]
    assert clock.restarts == 1


def test_small_reordering_is_not_a_restart() -> None:
    # frames a few ms out of order keep their own times
    clock = BeastClock(T0)
    got = clock.times(np.array([100 * S, 100 * S + 36_000, 100 * S + 12_000], np.int64))
    assert got.tolist() == [T0, T0 + 3_000_000, T0 + 1_000_000]
    assert clock.restarts == 0


def test_batches_give_the_same_times_as_one_pass() -> None:
    rng = np.random.default_rng(3)
    counters = np.cumsum(rng.integers(0, S // 10, 400)) + 900 * S
    counters[rng.integers(0, 400, 20)] = 0
    counters[200:] -= 800 * S  # a restart in the middle
    whole = BeastClock(T0).times(counters)
    for cut in (1, 57, 200, 399):
        clock = BeastClock(T0)
        parts = np.concatenate([clock.times(counters[:cut]), clock.times(counters[cut:])])
        np.testing.assert_array_equal(parts, whole)


def gps_stamp(seconds_of_day: int, ns: int) -> int:
    return (seconds_of_day << 30) | ns


def test_gps_time_of_day_and_midnight() -> None:
    day = T0 - T0 % DAY
    stamps = [gps_stamp(86_399, 999_000_000), 0, gps_stamp(0, 5_000_000), gps_stamp(1, 0)]
    got = times(stamps, start_ns=day + 86_000 * 10**9, kind="gps")
    last = day + 86_399 * 10**9 + 999_000_000
    assert got == [last, last, day + DAY + 5_000_000, day + DAY + 10**9]


def test_guess_clock() -> None:
    tod = T0 % DAY
    gps = ClockProbe()
    gps.add(np.array([gps_stamp(tod // 10**9 + k, 1000 * k) for k in range(50)], np.int64))
    assert guess_clock(gps, first_ns=T0) == "gps"
    assert guess_clock(gps, last_ns=T0 + 49 * 10**9) == "gps"
    assert guess_clock(gps, first_ns=T0 + 6 * 3600 * 10**9) == "free"  # another time of day
    # a receiver started 30 s ago: its counter is below 2**30 and would read as 00:00:00.x
    young = ClockProbe()
    young.add(np.arange(30 * S, 80 * S, S // 2, dtype=np.int64))
    assert guess_clock(young, first_ns=T0 - tod) == "free"
    # an older free counter leaves the valid nanosecond range within 89.5 s
    old = ClockProbe()
    old.add(np.arange(1000 * S, 1100 * S, S // 4, dtype=np.int64))
    assert not old.all_gps and guess_clock(old, first_ns=T0) == "free"
    assert old.span_ns == (1100 * S - S // 4 - 1000 * S) * 250 // 3


def write_recording(path: Path, counters: list[int]) -> None:
    """A Beast file with the given raw counters (written as times from an epoch start)."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    ns = [(c * 250 + 1) // 3 for c in counters]
    table = pa.table(
        {"time": pa.array(ns, pa.timestamp("ns", "UTC")),
         "frame": pa.array([FRAME] * len(ns), pa.binary()),
         "signal": pa.array([7] * len(ns), pa.uint8())},
        schema=RAW_FRAMES,
    )
    write_beast(table, path, start=epoch)


def test_start_derived_from_the_modification_time_minus_the_span(tmp_path: Path) -> None:
    # 100 s of frames, a restart, 50 s more, zero counters: the span is 150 s
    counters = [0, *range(5000 * S, 5101 * S, S), 0, *range(2 * S, 53 * S, S), MLAT_MAGIC]
    path = tmp_path / "rec.beast"
    write_recording(path, counters)
    os.utime(path, ns=(T0, T0))
    report = ReadReport(str(path))
    table = pa.Table.from_batches(list(read_frames(path, report=report, batch_rows=17)))
    ns = table.column("time").cast(pa.int64()).to_numpy()
    assert report.start == "derived" and report.clock == "free"
    assert (report.restarts, report.untimed) == (1, 3)
    assert ns[0] == ns[1] == T0 - 150 * 10**9
    assert ns[-1] == ns[-2] == T0
    assert (report.first_ns, report.last_ns) == (T0 - 150 * 10**9, T0)
    assert bool((np.diff(ns) >= 0).all())


@pytest.mark.parametrize("compress", [lzma.compress, bz2.compress])
def test_xz_and_bzip2_recordings_read_like_plain_ones(
    tmp_path: Path, compress: object
) -> None:
    # xoolive/traffic sample_dump1090.bin, compressed here
    raw = shared_path("adsb", "dump1090_sample.beast").read_bytes()
    start = datetime(2026, 1, 6, 3, 44, 52, tzinfo=UTC)
    path = tmp_path / "sample.beast.packed"
    path.write_bytes(compress(raw))  # type: ignore[operator]
    plain = tmp_path / "sample.beast"
    plain.write_bytes(raw)
    got = pa.Table.from_batches(list(read_frames(path, start=start)))
    want = pa.Table.from_batches(list(read_frames(plain, start=start)))
    assert got.num_rows == 239 and got.equals(want)
