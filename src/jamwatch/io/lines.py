"""What the readers share: time conversions, batch slicing, and the line-text machinery.

Line formats (AVR, hex lines, ISO time + hex) are read in large chunks; the partial last
line of a chunk is carried to the next one. A per-format Numba kernel makes one pass over
a chunk, splits it into lines, parses each line's prefix or timestamp and copies the hex
digits of the frame into one contiguous buffer, which :func:`jamwatch.io.hex_to_frames`
then turns into frame bytes. Kernels share the line loop :func:`scan_lines` and the output
layout of :func:`text_kernel_outputs`; a format supplies only how to read one line.
"""

from __future__ import annotations

import contextlib
import gzip
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Protocol, TypeAlias

import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from jamwatch.io.base import ReadReport
from jamwatch.io.clock import BeastClock
from jamwatch.io.hexframes import BAD_CHAR, BAD_LENGTH, hex_to_frames
from jamwatch.schema import RAW_FRAMES, TIME_TYPE

TableLike: TypeAlias = "pa.Table | pa.RecordBatch | Iterable[pa.Table | pa.RecordBatch]"


class ByteStream(Protocol):
    """What the readers need of an input: ``read(size) -> bytes`` (b"" at the end)."""

    def read(self, size: int = -1, /) -> bytes: ...


class ByteSink(Protocol):
    """What the writers need of an output."""

    def write(self, data: bytes, /) -> object: ...


@contextlib.contextmanager
def open_sink(target: str | os.PathLike[str] | ByteSink) -> Iterator[ByteSink]:
    """An open binary output: a file object as is, or a path (gzip when it ends in .gz)."""
    if not isinstance(target, str | os.PathLike):
        yield target
        return
    path = os.fspath(target)
    if path.endswith(".gz"):
        with gzip.open(path, "wb") as zf:
            yield zf
    else:
        with open(path, "wb") as f:
            yield f

#: Reject reasons shared by the text and table readers.
BAD_LINE = "bad_line"  # a line with no recognisable layout (wrong prefix, no frame field)
BAD_TIMESTAMP = "bad_timestamp"
BAD_HEX_CHAR = "bad_hex_char"
BAD_LENGTH_REASON = "bad_length"  # a frame that is not 4, 14 or 28 hex digits
LINE_TOO_LONG = "line_too_long"  # more than MAX_LINE bytes without a newline
TEXT_REASONS = (BAD_LINE, BAD_TIMESTAMP, LINE_TOO_LONG)  # order of a text kernel's counters
#: Indexes into a text kernel's counters, in the order of TEXT_REASONS; KEEP keeps the line.
KEEP, REJECT_BAD_LINE, REJECT_BAD_TIMESTAMP, REJECT_LINE_TOO_LONG = -1, 0, 1, 2
#: What a format's ``parse_line`` returns for one line: (reject, hex start, hex end, time,
#: time kind, signal). ``reject`` is KEEP or a counter index; ``signal`` -1 is no signal.
LineFields: TypeAlias = tuple[int, int, int, int, int, int]

#: Kernel time kinds.
NO_TIME, TICKS, UNIX_NS = 0, 1, 2
MAX_LINE = 64 << 10
NS_PER_S = 1_000_000_000

# --------------------------------------------------------------------------- times


def datetime_ns(value: datetime) -> int:
    """Nanoseconds since the Unix epoch; a naive datetime is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1000


def counter_to_ns(ticks: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """12 MHz ticks to nanoseconds, rounded to the nearest nanosecond."""
    return (ticks * 250 + 1) // 3


def ns_to_counter(ns: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Nanoseconds to 12 MHz ticks, rounded to the nearest tick (halves up)."""
    return (ns * 6 + 250) // 500


def to_ns(column: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.int64] | None:
    """A timestamp column as int64 UTC nanoseconds, or None when it holds a null."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if column.null_count:
        return None
    if not pa.types.is_timestamp(column.type):
        raise TypeError(f"time column must be a timestamp, not {column.type}")
    return np.asarray(column.cast(TIME_TYPE).cast(pa.int64()).to_numpy(), dtype=np.int64)


def seconds_to_ns(seconds: pa.Array) -> tuple[pa.Array, npt.NDArray[np.bool_]]:
    """Float Unix seconds to a UTC timestamp column (microsecond rounding) and a valid mask."""
    sec = np.asarray(seconds.cast(pa.float64()).fill_null(np.nan).to_numpy(), dtype=np.float64)
    ok = np.isfinite(sec) & (np.abs(sec) < 9.0e9)
    us = np.rint(np.where(ok, sec, 0.0) * 1e6).astype(np.int64)
    return pa.array(us * 1000, TIME_TYPE), ok


def parse_seconds(strings: pa.Array) -> pa.Array:
    """Decimal-number strings (blanks and double quotes around allowed) to float64.

    Anything else (blank, text, nan) becomes null.
    """
    if not pa.types.is_string(strings.type) and not pa.types.is_large_string(strings.type):
        return strings.cast(pa.float64())
    trimmed = pc.utf8_trim(strings, characters=' \t\r"')
    number = pc.match_substring_regex(trimmed, r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
    return pc.if_else(number, trimmed, pa.scalar(None, trimmed.type)).cast(pa.float64())


# --------------------------------------------------------------------------- batches


def iter_batches_of(source: TableLike) -> Iterator[pa.RecordBatch]:
    """Record batches of a table, a batch, or an iterable of either."""
    if isinstance(source, pa.RecordBatch):
        yield source
    elif isinstance(source, pa.Table):
        yield from source.to_batches()
    else:
        for item in source:
            yield from iter_batches_of(item)


def slice_batches(batch: pa.RecordBatch, rows: int) -> Iterator[pa.RecordBatch]:
    """``batch`` cut into slices of at most ``rows`` rows."""
    for offset in range(0, batch.num_rows, rows):
        yield batch.slice(offset, rows)


def raw_batch(
    times: pa.Array, hexes: pa.Array, signals: pa.Array, report: ReadReport,
    time_ok: npt.NDArray[np.bool_] | None = None,
) -> pa.RecordBatch:
    """A RAW_FRAMES batch from hex strings; rejected rows are counted in ``report``."""
    frames, status = hex_to_frames(hexes)
    keep = status == 0
    bad_char = int(np.count_nonzero(status == BAD_CHAR))
    bad_len = int(np.count_nonzero(status == BAD_LENGTH))
    if bad_char:
        report.rejects[BAD_HEX_CHAR] += bad_char
    if bad_len:
        report.rejects[BAD_LENGTH_REASON] += bad_len
    if time_ok is not None:
        bad_time = keep & ~time_ok
        if bad_time.any():
            report.rejects[BAD_TIMESTAMP] += int(np.count_nonzero(bad_time))
            keep &= time_ok
    if not keep.all():
        mask = pa.array(keep)
        times, frames, signals = times.filter(mask), frames.filter(mask), signals.filter(mask)
    report.frames += len(frames)
    return pa.RecordBatch.from_arrays([times, frames, signals], schema=RAW_FRAMES)


# --------------------------------------------------------------------------- text chunks


def iter_text_chunks(
    stream: ByteStream, report: ReadReport, chunk_bytes: int = 16 << 20
) -> Iterator[bytes]:
    """Chunks of whole lines (the last one may lack its newline at the end of input).

    A run of more than :data:`MAX_LINE` bytes without a newline is counted as
    ``line_too_long`` and skipped up to the next newline, so memory stays bounded.
    """
    carry = b""
    skipping = False
    while True:
        data = stream.read(chunk_bytes)
        if not data:
            break
        report.bytes_read += len(data)
        if skipping:
            nl = data.find(b"\n")
            if nl < 0:
                continue
            data = data[nl + 1 :]
            skipping = False
        buf = carry + data if carry else data
        last = buf.rfind(b"\n")
        carry = buf[last + 1 :]
        if last >= 0:
            yield buf[: last + 1]
        if len(carry) > MAX_LINE:
            report.rejects[LINE_TOO_LONG] += 1
            carry = b""
            skipping = True
    if carry:
        yield carry


@nb.njit(cache=True, nogil=True)
def days_from_civil(y: int, m: int, d: int) -> int:  # pragma: no cover
    """Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm)."""
    if m <= 2:
        y -= 1
    era = y // 400
    yoe = y - era * 400
    mp = m - 3 if m > 2 else m + 9
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@nb.njit(cache=True, nogil=True)
def is_blank(c: int) -> bool:  # pragma: no cover
    return c == 32 or c == 9 or c == 13 or c == 11 or c == 12 or c == 0


@nb.njit(cache=True, nogil=True)
def hexval(c: int) -> int:  # pragma: no cover
    if 48 <= c <= 57:
        return c - 48
    if 65 <= c <= 70:
        return c - 55
    if 97 <= c <= 102:
        return c - 87
    return -1


@nb.njit(cache=True, nogil=True)
def parse_hex(buf: npt.NDArray[np.uint8], a: int, ndigits: int) -> int:  # pragma: no cover
    """The value of ``ndigits`` hex digits at ``a``, or -1."""
    v = 0
    for q in range(ndigits):
        h = hexval(buf[a + q])
        if h < 0:
            return -1
        v = (v << 4) | h
    return v


@nb.njit(cache=True, nogil=True)
def emit_hex(
    buf: npt.NDArray[np.uint8], a: int, b: int, hex_data: npt.NDArray[np.uint8], pos: int
) -> int:  # pragma: no cover
    """Copy buf[a:b] to hex_data at ``pos``; return the new end position."""
    for q in range(a, b):
        hex_data[pos] = buf[q]
        pos += 1
    return pos


#: What a text kernel fills: ``(hex_off int64[L+1], hex_data uint8[len], ticks int64[L],
#: kind uint8[L], signal int16[L], counts int64[3])``.
TextOutputs: TypeAlias = tuple[
    npt.NDArray[np.int64],
    npt.NDArray[np.uint8],
    npt.NDArray[np.int64],
    npt.NDArray[np.uint8],
    npt.NDArray[np.int16],
    npt.NDArray[np.int64],
]


def text_kernel_outputs(buf: bytes) -> tuple[npt.NDArray[np.uint8], TextOutputs]:
    """The buffer as uint8 and the output arrays a text kernel fills, sized for ``buf``.

    See :data:`TextOutputs`; rows are the lines that reached the hex stage.
    """
    arr = np.frombuffer(buf, dtype=np.uint8)
    lines = buf.count(b"\n") + 1
    return arr, (
        np.zeros(lines + 1, dtype=np.int64),
        np.empty(max(len(buf), 1), dtype=np.uint8),
        np.zeros(lines, dtype=np.int64),
        np.zeros(lines, dtype=np.uint8),
        np.full(lines, -1, dtype=np.int16),
        np.zeros(len(TEXT_REASONS), dtype=np.int64),
    )


TextKernel = Callable[[npt.NDArray[np.uint8], TextOutputs], int]


def read_text(
    stream: ByteStream,
    kernel: TextKernel,
    *,
    clock: BeastClock | None,
    report: ReadReport,
    batch_rows: int,
    chunk_bytes: int = 16 << 20,
) -> Iterator[pa.RecordBatch]:
    """Stream a line format through its kernel as RAW_FRAMES batches.

    ``clock`` gives the times of lines with a 12 MHz counter (AVR ``@`` lines); formats
    without such lines pass None.
    """
    for chunk in iter_text_chunks(stream, report, chunk_bytes):
        arr, out = text_kernel_outputs(chunk)
        rows = kernel(arr, out)
        hex_off, hex_data, ticks, kind, signal, counts = out
        for reason, count in zip(TEXT_REASONS, counts.tolist(), strict=True):
            if count:
                report.rejects[reason] += count
        if rows == 0:
            continue
        batch = text_batch(rows, hex_off, hex_data, ticks, kind, signal, clock, report)
        yield from slice_batches(batch, batch_rows)


def text_batch(
    rows: int,
    hex_off: npt.NDArray[np.int64],
    hex_data: npt.NDArray[np.uint8],
    ticks: npt.NDArray[np.int64],
    kind: npt.NDArray[np.uint8],
    signal: npt.NDArray[np.int16],
    clock: BeastClock | None,
    report: ReadReport,
) -> pa.RecordBatch:
    """The RAW_FRAMES batch of the first ``rows`` kernel rows."""
    hexes = pa.Array.from_buffers(
        pa.large_string(), rows, [None, pa.py_buffer(hex_off[: rows + 1]), pa.py_buffer(hex_data)]
    )
    kind, ticks, signal = kind[:rows], ticks[:rows], signal[:rows]
    ns = ticks.copy()
    is_ticks = kind == TICKS
    if is_ticks.any():
        if clock is None:
            raise ValueError("a line with a 12 MHz counter needs a clock")
        ns[is_ticks] = clock.times(ticks[is_ticks])
    times = pa.array(ns, TIME_TYPE, mask=kind == NO_TIME)
    signals = pa.array(signal.astype(np.uint8), pa.uint8(), mask=signal < 0)
    return raw_batch(times, hexes, signals, report)


@nb.njit(cache=True, nogil=True)
def line_span(
    buf: npt.NDArray[np.uint8], i: int, n: int
) -> tuple[int, int, int]:  # pragma: no cover
    """The line starting at ``i`` without surrounding blanks: (start, end, next line start).

    A line longer than :data:`MAX_LINE` comes back empty with ``start`` = -1.
    """
    e = i
    while e < n and buf[e] != 10:
        e += 1
    if e - i > MAX_LINE:
        return -1, -1, e + 1
    a = i
    b = e
    while a < b and is_blank(buf[a]):
        a += 1
    while b > a and is_blank(buf[b - 1]):
        b -= 1
    return a, b, e + 1


@nb.njit(cache=True, nogil=True, inline="always")
def scan_lines(
    buf: npt.NDArray[np.uint8], out: TextOutputs, parse_line: Callable[..., LineFields]
) -> int:  # pragma: no cover
    """The pass every text kernel makes over a chunk; return the number of rows filled.

    Each line, without surrounding blanks, goes to ``parse_line(buf, start, end)`` (an njit
    function), which returns :data:`LineFields`. A line over :data:`MAX_LINE` bytes is counted
    as ``line_too_long`` and blank lines are skipped, both before ``parse_line``. A format's
    kernel is an njit function that calls this with its own ``parse_line``. This loop and
    each ``parse_line`` are inlined (``inline="always"``) into that kernel: one specialised
    loop per format, as fast as a hand-written one, and cacheable (a function passed on to a
    separately compiled callee is a run-time address, which Numba cannot cache).
    """
    hex_off, hex_data, ticks, kind, signal, counts = out
    n = buf.shape[0]
    i = 0
    rows = 0
    pos = 0
    hex_off[0] = 0
    while i < n:
        a, b, i = line_span(buf, i, n)
        if a < 0:
            counts[REJECT_LINE_TOO_LONG] += 1
            continue
        if a == b:
            continue
        reject, h, e, tick, k, sig = parse_line(buf, a, b)
        if reject >= 0:
            counts[reject] += 1
            continue
        pos = emit_hex(buf, h, e, hex_data, pos)
        ticks[rows] = tick
        kind[rows] = k
        signal[rows] = sig
        rows += 1
        hex_off[rows] = pos
    return rows
