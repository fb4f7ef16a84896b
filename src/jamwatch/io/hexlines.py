"""Hex text, one frame per line: bare hex lines and ISO-8601 time + hex lines.

``hexlines``, one frame per line, optionally in AVR dress::

    8D4840D6202CC371C32CE0576098
    *8D4840D6202CC371C32CE0576098;

``iso-hex``, an ISO-8601 time, blanks, the frame (as in pyModeS's ``data.txt``)::

    2015-03-03T16:12:24.846557    5D4840D6F87407

The time is ``YYYY-MM-DD[T| ]hh:mm:ss[.f...][Z|+hh:mm|-hh:mm|+hhmm]``; without a zone it is
UTC. Up to 9 fraction digits are kept. Blank lines are skipped; surrounding blanks and a
trailing CR are ignored. A frame is 4 (Mode A/C), 14 or 28 hex digits.

:func:`write_hexlines` writes these formats and AVR (``*HEX;`` or ``@TTTTTTTTTTTTHEX;``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from typing import Literal

import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from jamwatch.io.base import ReadReport
from jamwatch.io.lines import (
    KEEP,
    NO_TIME,
    REJECT_BAD_LINE,
    REJECT_BAD_TIMESTAMP,
    UNIX_NS,
    ByteSink,
    ByteStream,
    LineFields,
    TableLike,
    TextOutputs,
    datetime_ns,
    days_from_civil,
    is_blank,
    iter_batches_of,
    ns_to_counter,
    open_sink,
    read_text,
    scan_lines,
    to_ns,
)

_DAYS = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


@nb.njit(cache=True, nogil=True)
def _digits(buf: npt.NDArray[np.uint8], a: int, k: int) -> int:  # pragma: no cover
    v = 0
    for q in range(k):
        c = buf[a + q]
        if c < 48 or c > 57:
            return -1
        v = v * 10 + (c - 48)
    return v


@nb.njit(cache=True, nogil=True)
def parse_iso(buf: npt.NDArray[np.uint8], a: int, b: int) -> tuple[int, int]:  # pragma: no cover
    """Parse an ISO-8601 time at ``buf[a:b]``: (UTC nanoseconds, end index), end -1 if bad."""
    if b - a < 19:
        return 0, -1
    year = _digits(buf, a, 4)
    month = _digits(buf, a + 5, 2)
    day = _digits(buf, a + 8, 2)
    hour = _digits(buf, a + 11, 2)
    minute = _digits(buf, a + 14, 2)
    sec = _digits(buf, a + 17, 2)
    sep = buf[a + 10]
    if (
        year < 0 or month < 1 or month > 12 or day < 1 or hour < 0 or hour > 23
        or minute < 0 or minute > 59 or sec < 0 or sec > 60
        or buf[a + 4] != 45 or buf[a + 7] != 45 or buf[a + 13] != 58 or buf[a + 16] != 58
        or not (sep == 84 or sep == 116 or sep == 32)
    ):
        return 0, -1
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if day > _DAYS[month] or (month == 2 and day == 29 and not leap):
        return 0, -1
    j = a + 19
    frac = 0
    if j < b and (buf[j] == 46 or buf[j] == 44):
        j += 1
        nd = 0
        while j < b and 48 <= buf[j] <= 57:
            if nd < 9:
                frac = frac * 10 + (buf[j] - 48)
                nd += 1
            j += 1
        if nd == 0:
            return 0, -1
        for _ in range(nd, 9):
            frac *= 10
    offset = 0
    if j < b and (buf[j] == 90 or buf[j] == 122):
        j += 1
    elif j < b and (buf[j] == 43 or buf[j] == 45):
        sign = 1 if buf[j] == 43 else -1
        if j + 3 > b:
            return 0, -1
        oh = _digits(buf, j + 1, 2)
        j += 3
        if j < b and buf[j] == 58:
            j += 1
        om = _digits(buf, j, 2) if j + 2 <= b else -1
        if oh < 0 or oh > 23 or om < 0 or om > 59:
            return 0, -1
        j += 2
        offset = sign * (oh * 3600 + om * 60)
    days = days_from_civil(year, month, day)
    seconds = days * 86400 + hour * 3600 + minute * 60 + sec - offset
    return seconds * 1_000_000_000 + frac, j


@nb.njit(cache=True, nogil=True, inline="always")
def hexlines_line(buf: npt.NDArray[np.uint8], a: int, b: int) -> LineFields:  # pragma: no cover
    """One bare hex line (an optional leading ``*`` and trailing ``;`` are dropped)."""
    if buf[a] == 42:
        a += 1
    if b > a and buf[b - 1] == 59:
        b -= 1
    return KEEP, a, b, 0, NO_TIME, -1


@nb.njit(cache=True, nogil=True, inline="always")
def iso_hex_line(buf: npt.NDArray[np.uint8], a: int, b: int) -> LineFields:  # pragma: no cover
    """One ISO-8601 time, blanks, hex frame line."""
    ns, end = parse_iso(buf, a, b)
    if end < 0 or (end < b and not is_blank(buf[end])):
        return REJECT_BAD_TIMESTAMP, 0, 0, 0, 0, -1
    while end < b and is_blank(buf[end]):
        end += 1
    if end == b:
        return REJECT_BAD_LINE, 0, 0, 0, 0, -1
    return KEEP, end, b, ns, UNIX_NS, -1


@nb.njit(cache=True, nogil=True)
def hexlines_kernel(buf: npt.NDArray[np.uint8], out: TextOutputs) -> int:  # pragma: no cover
    """Bare hex lines. counts: bad_line, bad_timestamp, line_too_long."""
    return scan_lines(buf, out, hexlines_line)


@nb.njit(cache=True, nogil=True)
def iso_hex_kernel(buf: npt.NDArray[np.uint8], out: TextOutputs) -> int:  # pragma: no cover
    """ISO-8601 time, blanks, hex frame. counts: bad_line, bad_timestamp, line_too_long."""
    return scan_lines(buf, out, iso_hex_line)


def read_hexlines(
    stream: ByteStream, *, report: ReadReport, batch_rows: int, chunk_bytes: int = 16 << 20
) -> Iterator[pa.RecordBatch]:
    """Stream bare hex lines as RAW_FRAMES batches (null times)."""
    return read_text(
        stream, hexlines_kernel, clock=None, report=report, batch_rows=batch_rows,
        chunk_bytes=chunk_bytes,
    )


def read_iso_hex(
    stream: ByteStream, *, report: ReadReport, batch_rows: int, chunk_bytes: int = 16 << 20
) -> Iterator[pa.RecordBatch]:
    """Stream ISO-time + hex lines as RAW_FRAMES batches."""
    return read_text(
        stream, iso_hex_kernel, clock=None, report=report, batch_rows=batch_rows,
        chunk_bytes=chunk_bytes,
    )


# --------------------------------------------------------------------------- writing

_HEX_DIGITS = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)
#: bytes of a time written by ``_iso_chars``: ``YYYY-MM-DDThh:mm:ss.fffffffffZ``
_ISO_WIDTH = 30
_HEX_PAIRS = np.stack([_HEX_DIGITS[np.arange(256) >> 4], _HEX_DIGITS[np.arange(256) & 15]], 1)


@nb.njit(cache=True, nogil=True)
def _iso_chars(ns: npt.NDArray[np.int64], out: npt.NDArray[np.uint8]) -> bool:  # pragma: no cover
    """Write ``YYYY-MM-DDThh:mm:ss.fffffffffZ`` (30 bytes) per time; False for a year > 9999."""
    for r in range(ns.shape[0]):
        v = ns[r]
        days = v // 86_400_000_000_000
        rem = v - days * 86_400_000_000_000
        z = days + 719468
        era = z // 146097
        doe = z - era * 146097
        yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
        doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
        mp = (5 * doy + 2) // 153
        day = doy - (153 * mp + 2) // 5 + 1
        month = mp + 3 if mp < 10 else mp - 9
        year = yoe + era * 400 + (1 if month <= 2 else 0)
        if year < 0 or year > 9999:
            return False
        sec = rem // 1_000_000_000
        frac = rem - sec * 1_000_000_000
        fields = (year, month, day, sec // 3600, (sec // 60) % 60, sec % 60)
        widths = (4, 2, 2, 2, 2, 2)
        seps = (45, 45, 84, 58, 58, 46)
        p = 0
        for f in range(6):
            x = fields[f]
            for q in range(widths[f] - 1, -1, -1):
                out[r, p + q] = 48 + x % 10
                x //= 10
            p += widths[f]
            out[r, p] = seps[f]
            p += 1
        for q in range(8, -1, -1):
            out[r, p + q] = 48 + frac % 10
            frac //= 10
        out[r, _ISO_WIDTH - 1] = 90  # the closing Z
    return True


def _fixed_strings(chars: npt.NDArray[np.uint8]) -> pa.Array:
    """A (n, w) uint8 matrix as a string column of width w."""
    n, width = chars.shape
    offsets = np.arange(n + 1, dtype=np.int32) * width
    data = np.ascontiguousarray(chars).reshape(-1)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def hex_column(frames: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Frames (binary) as upper-case hex strings, vectorised."""
    if isinstance(frames, pa.ChunkedArray):
        frames = frames.combine_chunks()
    if frames.null_count:
        raise ValueError("null frame")
    frames = frames.cast(pa.binary())
    n = len(frames)
    bufs = frames.buffers()
    offs = np.frombuffer(bufs[1], dtype=np.int32, count=n + 1, offset=frames.offset * 4)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    chars = _HEX_PAIRS[data[offs[0] : offs[-1]]].reshape(-1)
    out_offs = ((offs - offs[0]) * 2).astype(np.int32)
    return pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(out_offs), pa.py_buffer(chars)]
    )


def _counter_prefix(ticks: npt.NDArray[np.int64]) -> pa.Array:
    """``@`` and 12 hex digits of each 48-bit counter."""
    shifts = np.arange(40, -1, -8, dtype=np.int64)
    octets = ((ticks[:, None] >> shifts) & 0xFF).astype(np.uint8)
    chars = np.empty((len(ticks), 13), dtype=np.uint8)
    chars[:, 0] = ord("@")
    chars[:, 1:] = _HEX_PAIRS[octets].reshape(len(ticks), 12)
    return _fixed_strings(chars)


def encode_lines(
    batch: pa.RecordBatch | pa.Table,
    style: Literal["avr", "iso", "plain"],
    start_ns: int | None = None,
    first_tick: int = 0,
) -> bytes:
    """The text lines of one batch in ``style`` (``avr`` with ``start_ns``: the counter is
    ``first_tick`` plus the 12 MHz ticks since ``start_ns``; 0 means "no time" to a reader,
    so a live feed starts at 1)."""
    n = batch.num_rows
    if n == 0:
        return b""
    hexes = hex_column(batch.column("frame"))
    if style == "plain":
        lines = pc.binary_join_element_wise(hexes, pa.scalar("\n"), "")
    elif style == "avr":
        star = pa.array(["*"] * n, pa.string())
        prefix = star
        if start_ns is not None:
            col = batch.column("time")
            if isinstance(col, pa.ChunkedArray):
                col = col.combine_chunks()
            valid = np.asarray(col.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
            as_ns = col.cast(pa.timestamp("ns", "UTC")).cast(pa.int64()).fill_null(start_ns)
            ns = np.asarray(as_ns)
            ticks = ns_to_counter(ns.astype(np.int64) - start_ns) + first_tick
            if (ticks[valid] < 0).any() or (ticks[valid] >= 1 << 48).any():
                raise ValueError("avr: times must lie within 2**48 ticks of 12 MHz after start")
            prefix = pc.if_else(pa.array(valid), _counter_prefix(np.clip(ticks, 0, None)), star)
        lines = pc.binary_join_element_wise(prefix, hexes, pa.scalar(";\n"), "")
    elif style == "iso":
        ns_or_none = to_ns(batch.column("time"))
        if ns_or_none is None:
            raise ValueError("iso: every frame needs a time (null found)")
        chars = np.empty((n, _ISO_WIDTH), dtype=np.uint8)
        if not _iso_chars(ns_or_none, chars):
            raise ValueError("iso: times must fall in the years 0000-9999")
        lines = pc.binary_join_element_wise(
            _fixed_strings(chars), pa.scalar("    "), hexes, pa.scalar("\n"), ""
        )
    else:
        raise ValueError(f"unknown style {style!r}: use 'avr', 'iso' or 'plain'")
    bufs = lines.buffers()
    offs = np.frombuffer(bufs[1], dtype=np.int32, count=n + 1, offset=lines.offset * 4)
    return bytes(memoryview(bufs[2])[int(offs[0]) : int(offs[-1])])


def write_hexlines(
    table: TableLike,
    file_or_path: str | os.PathLike[str] | ByteSink,
    *,
    style: Literal["avr", "iso", "plain"] = "avr",
    start: datetime | None = None,
) -> int:
    """Write RAW_FRAMES rows as text lines; return the number of frames written.

    ``avr``: ``*HEX;``, or ``@TTTTTTTTTTTTHEX;`` (12 MHz ticks since ``start``) for rows
    with a time when ``start`` is given. ``iso``: ``YYYY-MM-DDThh:mm:ss.fffffffffZ    HEX``
    (every row needs a time). ``plain``: ``HEX``. A path ending in ``.gz`` is gzip-compressed.
    """
    start_ns = None if start is None else datetime_ns(start)
    written = 0
    with open_sink(file_or_path) as out:
        for batch in iter_batches_of(table):
            out.write(encode_lines(batch, style, start_ns))
            written += batch.num_rows
    return written
