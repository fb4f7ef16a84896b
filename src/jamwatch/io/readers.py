"""Read any supported recording: format detection from the content, and one streaming entry point.

:func:`read_frames` opens a file (gzip-, xz-, bzip2- or zstd-compressed or not: detected by its
magic bytes, :mod:`jamwatch.io.streams`), detects its format from the first bytes unless
``fmt`` is given, and yields
:data:`jamwatch.schema.RAW_FRAMES` record batches, reading in chunks so memory stays
bounded whatever the file size. What was read and rejected goes to a
:class:`jamwatch.io.ReadReport`. The layouts are documented in each format's module and
in ``docs/formats.md``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import IO

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from jamwatch.io.avr import avr_kernel, read_avr
from jamwatch.io.base import FormatError, ReadReport
from jamwatch.io.beast import parse_beast, read_beast, write_beast
from jamwatch.io.clock import (
    CLOCKS,
    DAY_NS,
    GPS_MATCH_NS,
    BeastClock,
    ClockProbe,
    gps_time_of_day,
    guess_clock,
)
from jamwatch.io.hexlines import read_hexlines, read_iso_hex, write_hexlines
from jamwatch.io.lines import TICKS, datetime_ns, text_kernel_outputs
from jamwatch.io.opensky import parquet_columns_ok, read_opensky_csv, read_opensky_parquet
from jamwatch.io.streams import (
    DECOMPRESS_ERRORS,
    HEAD_BYTES,
    PARQUET_MAGIC,
    decompress_head,
    open_stream,
    read_head,
)
from jamwatch.io.tables import STREAM_ERRORS, read_pymodes_csv

FORMATS: tuple[str, ...] = (
    "beast",
    "avr",
    "pymodes-csv",
    "iso-hex",
    "hexlines",
    "opensky-csv",
    "opensky-parquet",
)

#: Lines of the head examined by the text detectors, and the share that must match.
SAMPLE_LINES = 200
MIN_MATCH = 0.5

_HEX = r"[0-9A-Fa-f]{4,28}"
_ISO = r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d([.,]\d+)?([Zz]|[+-]\d\d:?\d\d)?"
_LINE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("pymodes-csv", re.compile(r'"?[+-]?\d+(\.\d*)?"?\s*,\s*"?' + _HEX + r'"?\s*(,.*)?')),
    ("iso-hex", re.compile(_ISO + r"\s+" + _HEX)),
    ("avr", re.compile(r"([*:]|[@%][0-9A-Fa-f]{12}|<[0-9A-Fa-f]{14})" + _HEX + ";?")),
    ("hexlines", re.compile(_HEX)),
)


def _check_path(source: str | os.PathLike[str]) -> Path:
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory, not a recording (give a file)")
    return path


def _tried(name: str, why: str) -> FormatError:
    return FormatError(
        f"{name}: not a recording in a format jamwatch reads ({why}); "
        f"tried {', '.join(FORMATS)}",
        why,
    )


def frame_format_of_head(head: bytes, name: str, complete: bool) -> str:
    """The raw-frame format of a head of (decompressed) content (``complete``: the whole
    content); FormatError naming ``name`` and the formats tried if none fits."""
    if not head:
        raise _tried(name, "empty file")
    if head.startswith(PARQUET_MAGIC):
        return "opensky-parquet"
    if 0x1A in head:
        arr = np.frombuffer(head, dtype=np.uint8)
        parsed = parse_beast(arr, final=complete)
        if len(parsed.frames) and parsed.good_bytes >= 0.5 * max(parsed.consumed, 1):
            return "beast"
    text = head.decode("latin-1")
    lines = text.splitlines()
    if not complete and lines and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the head may cut the last line
    sample = [s.strip() for s in lines if s.strip()][:SAMPLE_LINES]
    if not sample:
        raise _tried(name, "no frame in the first bytes")
    header = [c.strip().strip('"').lower() for c in sample[0].split(",")]
    if "mintime" in header and "rawmsg" in header:
        return "opensky-csv"
    scores = [(sum(1 for s in sample if p.fullmatch(s)), fmt) for fmt, p in _LINE_PATTERNS]
    best, fmt = max(scores, key=lambda sf: sf[0])  # first of equals wins: pattern order
    if best >= MIN_MATCH * len(sample):
        if fmt == "hexlines" and any(s.startswith("*") for s in sample):
            return "avr"
        return fmt
    raise _tried(name, f"only {best} of the first {len(sample)} lines fit any line format")


def detect_format(path_or_head_bytes: str | os.PathLike[str] | bytes) -> str:
    """The format of a recording, from its content (never its name).

    Accepts a path or the first bytes of a file (gzip, xz, bzip2 and zstd are decompressed
    in both cases).
    Raises FormatError when nothing fits, naming the file and the formats tried.
    """
    if isinstance(path_or_head_bytes, bytes | bytearray | memoryview):
        head = decompress_head(bytes(path_or_head_bytes))  # (damaged: a FormatError)
        return frame_format_of_head(head, "<bytes>", complete=len(head) < HEAD_BYTES)
    path = _check_path(path_or_head_bytes)
    head = read_head(path)  # (a damaged stream: DamagedStreamError, a FormatError)
    fmt = frame_format_of_head(head, str(path), complete=len(head) < HEAD_BYTES)
    if fmt == "opensky-parquet":
        ok, why = parquet_columns_ok(str(path))
        if not ok:
            raise _tried(str(path), why)
    return fmt


def read_frames(
    source: str | os.PathLike[str],
    *,
    fmt: str | None = None,
    start: datetime | None = None,
    clock: str = "auto",
    batch_rows: int = 1_000_000,
    report: ReadReport | None = None,
) -> Iterator[pa.RecordBatch]:
    """Stream a recording as RAW_FRAMES record batches of at most ``batch_rows`` rows.

    ``fmt`` is one of :data:`FORMATS`; by default it is detected from the content.

    Beast frames and timestamped AVR lines carry a receiver counter, not a time (see
    :mod:`jamwatch.io.clock`). ``start`` is the UTC time of the recording's first frame (a
    naive datetime is taken as UTC); without it, the start is the file's modification time
    (when the recording ended) minus the recording's span, found in a first pass over the file,
    and ``report.start`` says "derived". ``clock`` is "free" (a free-running 12 MHz counter),
    "gps" (GPS time of day, as Radarcape writes) or "auto" (decided from the first frames).

    ``report``, if given, receives the format, frames kept, bytes read, the time span read,
    the clock and rejects by reason. An empty file raises FormatError when the format must be
    detected and yields nothing when ``fmt`` is given. The path is checked, the format detected
    and the start derived when this function is called, before the first batch is requested.
    """
    path = _check_path(source)
    if fmt is None:
        fmt = detect_format(path)
    elif fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    if clock not in CLOCKS:
        raise ValueError(f"unknown clock {clock!r}; known: {', '.join(CLOCKS)}")
    if batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    if report is None:
        report = ReadReport(str(path))
    report.format = fmt
    if path.stat().st_size == 0:
        return iter(())
    if fmt == "opensky-parquet":
        return _timed(read_opensky_parquet(str(path), report=report, batch_rows=batch_rows), report)
    beast_clock = None
    if fmt in COUNTER_FORMATS:
        beast_clock = _clock_for(path, fmt, start, clock, report)
    return _timed(_stream(path, fmt, beast_clock, batch_rows, report), report)


#: The UTC start of recordings, by path (``str(path)``, as given).
Starts = Mapping[str, datetime]

#: Formats whose times come from a receiver counter.
COUNTER_FORMATS = ("beast", "avr")


def _counters(path: Path, fmt: str) -> Iterator[npt.NDArray[np.int64]]:
    """The raw counters of a Beast or AVR recording, chunk by chunk."""
    with open_stream(path) as raw:
        stream = GuardedStream(raw, ReadReport(str(path)))
        carry, resync, eof = b"", False, False
        while not eof:
            chunk = stream.read(4 << 20)
            eof = not chunk
            if fmt == "beast":
                buf = carry + chunk
                parsed = parse_beast(buf, final=eof, resync=resync)
                carry, resync = buf[parsed.consumed :], parsed.resync
                yield parsed.counters
            else:
                buf = carry + chunk
                cut = len(buf) if eof else buf.rfind(b"\n") + 1
                carry = buf[cut:]
                arr, out = text_kernel_outputs(buf[:cut])
                rows = avr_kernel(arr, out)
                ticks, kind = out[2][:rows], out[3][:rows]
                yield ticks[kind == TICKS]


def _clock_for(
    path: Path, fmt: str, start: datetime | None, clock: str, report: ReadReport
) -> BeastClock:
    """The clock of a Beast or AVR recording (kind guessed, start derived when not given)."""
    start_ns = None if start is None else datetime_ns(start)
    end_ns = int(path.stat().st_mtime_ns)
    probe = None
    if clock == "auto" or start_ns is None:
        probe = ClockProbe()
        for counters in _counters(path, fmt):
            probe.add(counters)
    if clock == "auto":
        assert probe is not None
        clock = guess_clock(probe, first_ns=start_ns, last_ns=end_ns)
    report.clock = clock
    report.start = "given" if start_ns is not None else "derived"
    if start_ns is not None:
        return BeastClock(start_ns, clock)
    assert probe is not None
    if clock == "free":
        return BeastClock(end_ns - probe.span_ns, clock)
    # GPS time stamps are times of day: only the date is unknown; the day before the file's
    # modification when its last time of day is later than the modification's
    tod = gps_time_of_day(probe.last) if probe.last is not None else None
    late = tod is not None and tod > end_ns % DAY_NS + GPS_MATCH_NS
    return BeastClock(end_ns - DAY_NS if late else end_ns, clock)


def _timed(batches: Iterator[pa.RecordBatch], report: ReadReport) -> Iterator[pa.RecordBatch]:
    """``batches`` as they are, their time span noted in ``report``."""
    for batch in batches:
        lo, hi = pc.min_max(batch.column("time")).values()
        if lo.is_valid:
            report.saw_times(lo.value, hi.value)
        yield batch


def _stream(
    path: Path, fmt: str, clock: BeastClock | None, batch_rows: int, report: ReadReport
) -> Iterator[pa.RecordBatch]:
    with open_stream(path) as stream:
        guarded = GuardedStream(stream, report)
        if fmt in COUNTER_FORMATS:
            assert clock is not None
            reader = read_beast if fmt == "beast" else read_avr
            yield from reader(guarded, clock=clock, report=report, batch_rows=batch_rows)
            report.restarts, report.untimed = clock.restarts, clock.untimed
        elif fmt == "iso-hex":
            yield from read_iso_hex(guarded, report=report, batch_rows=batch_rows)
        elif fmt == "hexlines":
            yield from read_hexlines(guarded, report=report, batch_rows=batch_rows)
        elif fmt == "pymodes-csv":
            yield from read_pymodes_csv(guarded, report=report, batch_rows=batch_rows)
        else:
            yield from read_opensky_csv(guarded, report=report, batch_rows=batch_rows)


class GuardedStream:
    """A binary stream whose read errors (a damaged gzip tail) end the input and are counted."""

    def __init__(self, stream: IO[bytes], report: ReadReport) -> None:
        self._stream = stream
        self._report = report
        self._failed = False
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all when negative); what was decompressed before damage is kept."""
        if self._failed:
            return b""
        want = size if size >= 0 else 1 << 62
        parts: list[bytes] = []
        got = 0
        while got < want:
            try:
                piece = self._stream.read1(min(want - got, 1 << 20))  # type: ignore[attr-defined]
            except (*STREAM_ERRORS, *DECOMPRESS_ERRORS):
                self._failed = True
                self._report.rejects["damaged_stream"] += 1
                break
            if not piece:
                break
            parts.append(piece)
            got += len(piece)
        return b"".join(parts)

    def tell(self) -> int:
        return int(self._stream.tell())

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True


__all__ = [
    "COUNTER_FORMATS",
    "FORMATS",
    "GuardedStream",
    "Starts",
    "detect_format",
    "read_frames",
    "write_beast",
    "write_hexlines",
]
