"""Beast binary: the receiver output of Mode-S Beast, dump1090, readsb (port 30005).

Layout of one message::

    0x1a  type  counter(6)  signal(1)  frame(2 | 7 | 14)

``type`` is ``'1'`` (0x31, Mode A/C, 2 bytes), ``'2'`` (0x32, Mode S short, 7 bytes) or
``'3'`` (0x33, Mode S long, 14 bytes). ``counter`` is a 48-bit big-endian count of a
12 MHz clock, ``signal`` the receiver's signal level byte. Every 0x1a byte inside the
counter, signal or frame is doubled (0x1a 0x1a), so a single 0x1a always starts a message.

The counter has no epoch: a :class:`jamwatch.io.clock.BeastClock` turns it into UTC (free
running: ``start + (counter - first counter) / 12 MHz``, with restarts, zero and MLAT counters
handled; or GPS time of day), and :func:`jamwatch.io.read_frames` chooses ``start``.

The parser makes one pass over a byte buffer (:func:`parse_beast`). A message broken by a
0x1a that is not doubled, by an unknown type or by the end of the input is counted under
one of :data:`REASONS` and the parser resynchronises on the next single 0x1a; every good
message around it is kept. Bytes that do not belong to any good message are counted in
``skipped_bytes``, so ``good_bytes + skipped_bytes + carry`` always equals the input length.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from jamwatch.io.base import ReadReport
from jamwatch.io.clock import BeastClock
from jamwatch.io.lines import (
    ByteSink,
    ByteStream,
    TableLike,
    datetime_ns,
    iter_batches_of,
    ns_to_counter,
    open_sink,
    slice_batches,
    to_ns,
)
from jamwatch.schema import RAW_FRAMES, TIME_TYPE

ESC = 0x1A
#: Beast message type byte -> frame length.
FRAME_LENGTH = {0x31: 2, 0x32: 7, 0x33: 14}
_TYPE_OF_LENGTH = {2: 0x31, 7: 0x32, 14: 0x33}

#: Reject reasons, in the order of the kernel's counters.
REASONS = ("beast_bad_escape", "beast_truncated", "beast_unknown_type", "beast_garbage")
_BAD_ESCAPE, _TRUNCATED, _UNKNOWN, _GARBAGE, _GOOD, _SKIPPED = 0, 1, 2, 3, 4, 5
#: Shortest message on the wire (Mode A/C): escape, type, counter, signal, 2 bytes.
MIN_MESSAGE = 11
# a message after its escape and type bytes (unescaped): a 6-byte big-endian counter, ...
_REC_SIGNAL = 6  # ... the signal byte, ...
_REC_FRAME = 7  # ... then the frame
# slots of the parser's state carried between buffers
_RESYNC = 0  # 1 while resynchronising after a reject (a broken stretch is counted once)
_N_STATE = 1


@nb.njit(cache=True, nogil=True)
def _skip_to_start(buf: npt.NDArray[np.uint8], j: int, n: int) -> int:  # pragma: no cover
    """Index of the next single 0x1a at or after ``j`` (doubled pairs skipped), or ``n``."""
    while j < n:
        if buf[j] == ESC:
            if j + 1 < n and buf[j + 1] == ESC:
                j += 2
                continue
            return j
        j += 1
    return n


# outcomes of ``_unescape``
_COMPLETE = 0  # the whole message was read
_NEEDS_MORE = 1  # the input ends inside the message
_BAD = 2  # broken by a single 0x1a that does not start a message
_CUT = 3  # cut short by the start of the next message


@nb.njit(cache=True, nogil=True, inline="always")
def _frame_length(t: int) -> int:  # pragma: no cover
    """Frame length of a Beast message type byte; 0 for an unknown type."""
    if t == 0x31:
        return 2
    if t == 0x32:
        return 7
    if t == 0x33:
        return 14
    return 0


@nb.njit(cache=True, nogil=True, inline="always")
def _next_escape(buf: npt.NDArray[np.uint8], j: int, n: int) -> int:  # pragma: no cover
    """Index of the next 0x1a at or after ``j``, or ``n``."""
    while j < n and buf[j] != ESC:
        j += 1
    return j


@nb.njit(cache=True, nogil=True, inline="always")
def _broken(counts: npt.NDArray[np.int64], reason: int, resync: int) -> int:  # pragma: no cover
    """Count a broken stretch under ``reason``, unless one is open (``resync`` is 1).

    Returns the new ``resync``: 1, resynchronising on the next message.
    """
    counts[reason] += 1 if resync == 0 else 0
    return 1


@nb.njit(cache=True, nogil=True, inline="always")
def _unescape(
    buf: npt.NDArray[np.uint8], j: int, n: int, need: int, rec: npt.NDArray[np.uint8]
) -> tuple[int, int]:  # pragma: no cover
    """Read ``need`` bytes of a message body from ``buf[j:]`` into ``rec``, undoubling 0x1a.

    Returns (outcome, index after the bytes read): ``_COMPLETE``, ``_NEEDS_MORE``, or
    ``_BAD`` / ``_CUT`` with the index of the single 0x1a that broke the message.
    """
    m = 0
    while m < need:
        if j >= n:
            return _NEEDS_MORE, j
        c = buf[j]
        if c == ESC:
            if j + 1 >= n:
                return _NEEDS_MORE, j
            d = buf[j + 1]
            if d != ESC:
                return (_CUT if (d == 0x31 or d == 0x32 or d == 0x33) else _BAD), j
            j += 2
        else:
            j += 1
        rec[m] = c
        m += 1
    return _COMPLETE, j


@nb.njit(cache=True, nogil=True, inline="always")
def _emit(
    rec: npt.NDArray[np.uint8],
    flen: int,
    k: int,
    pos: int,
    data: npt.NDArray[np.uint8],
    offsets: npt.NDArray[np.int32],
    counters: npt.NDArray[np.int64],
    signals: npt.NDArray[np.uint8],
) -> int:  # pragma: no cover
    """Write message ``k`` (its unescaped record ``rec``) at ``data[pos:]``; the new ``pos``."""
    c48 = 0
    for q in range(_REC_SIGNAL):  # the counter bytes
        c48 = (c48 << 8) | rec[q]
    counters[k] = c48
    signals[k] = rec[_REC_SIGNAL]
    for q in range(flen):
        data[pos + q] = rec[_REC_FRAME + q]
    pos += flen
    offsets[k + 1] = pos
    return pos


@nb.njit(cache=True, nogil=True)
def _parse(
    buf: npt.NDArray[np.uint8],
    final: bool,
    state: npt.NDArray[np.int64],
    data: npt.NDArray[np.uint8],
    offsets: npt.NDArray[np.int32],
    counters: npt.NDArray[np.int64],
    signals: npt.NDArray[np.uint8],
    counts: npt.NDArray[np.int64],
) -> tuple[int, int]:  # pragma: no cover
    """Parse ``buf``; return (frames written, bytes consumed). Unconsumed bytes are carried.

    ``state[_RESYNC]`` is 1 while resynchronising after a reject (a broken stretch is counted
    once).
    ``counts`` accumulates the :data:`REASONS` counters, then good and skipped byte counts.
    """
    n = buf.shape[0]
    rec = np.empty(_REC_FRAME + 14, dtype=np.uint8)  # the longest: a 14-byte frame
    resync = state[_RESYNC]
    i = 0
    k = 0
    pos = 0
    offsets[0] = 0
    while i < n:
        if buf[i] != ESC:
            j = _next_escape(buf, i + 1, n)
            resync = _broken(counts, _GARBAGE, resync)
            counts[_SKIPPED] += j - i
            i = j
            continue
        if i + 1 >= n:
            if final:
                resync = _broken(counts, _TRUNCATED, resync)
                counts[_SKIPPED] += 1
                i = n
            break
        flen = _frame_length(buf[i + 1])
        if flen == 0:
            resync = _broken(counts, _UNKNOWN, resync)
            j = _skip_to_start(buf, i + 2, n)
            counts[_SKIPPED] += j - i
            i = j
            continue
        outcome, j = _unescape(buf, i + 2, n, _REC_FRAME + flen, rec)
        if outcome == _NEEDS_MORE:
            if not final:
                break
            resync = _broken(counts, _TRUNCATED, resync)
            counts[_SKIPPED] += n - i
            i = n
            break
        if outcome != _COMPLETE:
            resync = _broken(counts, _BAD_ESCAPE if outcome == _BAD else _TRUNCATED, resync)
            counts[_SKIPPED] += j - i
            i = j
            continue
        pos = _emit(rec, flen, k, pos, data, offsets, counters, signals)
        k += 1
        counts[_GOOD] += j - i
        resync = 0
        i = j
    state[_RESYNC] = resync
    return k, i


@dataclass(frozen=True, slots=True)
class BeastParse:
    """The result of :func:`parse_beast` on one buffer."""

    frames: pa.Array  # binary, 2/7/14 bytes each
    counters: npt.NDArray[np.int64]  # 12 MHz ticks
    signals: npt.NDArray[np.uint8]
    consumed: int  # bytes parsed; the rest must be carried to the next buffer
    rejects: dict[str, int]
    good_bytes: int
    skipped_bytes: int
    resync: bool  # the buffer ended inside a broken stretch


def parse_beast(
    buf: npt.NDArray[np.uint8] | bytes, *, final: bool = True, resync: bool = False
) -> BeastParse:
    """Parse Beast messages from one buffer (a chunk of a stream when ``final`` is false).

    With ``final=False`` an incomplete message at the end is left unconsumed
    (``consumed < len(buf)``): prepend it to the next buffer and pass the returned ``resync``.
    """
    arr = np.frombuffer(buf, dtype=np.uint8) if isinstance(buf, bytes | bytearray) else buf
    n = int(arr.shape[0])
    cap = n // MIN_MESSAGE + 1
    data = np.empty(max(n, 1), dtype=np.uint8)
    offsets = np.empty(cap + 1, dtype=np.int32)
    counters = np.empty(cap, dtype=np.int64)
    signals = np.empty(cap, dtype=np.uint8)
    counts = np.zeros(6, dtype=np.int64)
    state = np.zeros(_N_STATE, dtype=np.int64)
    state[_RESYNC] = 1 if resync else 0
    k, consumed = _parse(arr, final, state, data, offsets, counters, signals, counts)
    frames = pa.Array.from_buffers(
        pa.binary(), k, [None, pa.py_buffer(offsets[: k + 1]), pa.py_buffer(data)]
    )
    return BeastParse(
        frames=frames,
        counters=counters[:k],
        signals=signals[:k],
        consumed=int(consumed),
        rejects={
            r: int(c) for r, c in zip(REASONS, counts[: len(REASONS)].tolist(), strict=True) if c
        },
        good_bytes=int(counts[_GOOD]),
        skipped_bytes=int(counts[_SKIPPED]),
        resync=bool(state[_RESYNC]),
    )


def read_beast(
    stream: ByteStream,
    *,
    clock: BeastClock,
    report: ReadReport,
    batch_rows: int = 1_000_000,
    chunk_bytes: int = 16 << 20,
) -> Iterator[pa.RecordBatch]:
    """Stream Beast messages from a binary file object as RAW_FRAMES batches.

    ``clock`` turns the counters into times and keeps its state from batch to batch.
    """
    carry = b""
    resync = False
    eof = False
    while not eof:
        chunk = stream.read(chunk_bytes)
        eof = not chunk
        report.bytes_read += len(chunk)
        buf = carry + chunk if carry else chunk
        if not buf:
            break
        parsed = parse_beast(buf, final=eof, resync=resync)
        resync = parsed.resync
        carry = buf[parsed.consumed :]
        for reason, count in parsed.rejects.items():
            report.rejects[reason] += count
        n = len(parsed.frames)
        if n == 0:
            continue
        times = pa.Array.from_buffers(
            TIME_TYPE, n, [None, pa.py_buffer(clock.times(parsed.counters))]
        )
        batch = pa.RecordBatch.from_arrays(
            [times, parsed.frames, pa.array(parsed.signals, pa.uint8())], schema=RAW_FRAMES
        )
        report.frames += n
        yield from slice_batches(batch, batch_rows)


def encode_beast(
    batch: pa.RecordBatch | pa.Table, *, start_ns: int, first_tick: int = 0
) -> bytes:  # fmt: skip
    """Beast bytes for a RAW_FRAMES batch (null signal written as 0): the counter is
    ``first_tick`` plus the 12 MHz ticks since ``start_ns`` (a counter of 0 means "no time"
    to a reader: a live feed starts at 1)."""
    n = batch.num_rows
    if n == 0:
        return b""
    frames = batch.column("frame")
    if isinstance(frames, pa.ChunkedArray):
        frames = frames.combine_chunks()
    if frames.null_count:
        raise ValueError("write_beast: null frame")
    frames = frames.cast(pa.binary())
    bufs = frames.buffers()
    offs = np.frombuffer(bufs[1], dtype=np.int32, count=n + 1, offset=frames.offset * 4)
    fdata = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    lengths = np.diff(offs)
    if not np.isin(lengths, (2, 7, 14)).all():
        bad = sorted(set(lengths.tolist()) - {2, 7, 14})
        raise ValueError(f"write_beast: frames must be 2, 7 or 14 bytes (got lengths {bad})")
    times = to_ns(batch.column("time"))
    if times is None:
        raise ValueError("write_beast: every frame needs a time (null found)")
    counters = ns_to_counter(times - start_ns) + first_tick
    if counters.min() < 0 or counters.max() >= 1 << 48:
        raise ValueError(
            "write_beast: times must lie between start and start + 2**48 ticks of 12 MHz "
            "(about 271 days)"
        )
    sig_col = batch.column("signal") if "signal" in batch.schema.names else None
    signals = np.zeros(n, dtype=np.uint8)
    if sig_col is not None:
        if isinstance(sig_col, pa.ChunkedArray):
            sig_col = sig_col.combine_chunks()
        signals = np.asarray(sig_col.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.uint8)
    rec_len = 9 + lengths
    rec_start = np.zeros(n, dtype=np.int64)
    np.cumsum(rec_len[:-1], out=rec_start[1:])
    raw = np.empty(int(rec_len.sum()), dtype=np.uint8)
    shifts = np.arange(40, -1, -8, dtype=np.int64)
    for flen, type_byte in _TYPE_OF_LENGTH.items():
        rows = np.flatnonzero(lengths == flen)
        if rows.size == 0:
            continue
        rec = np.empty((rows.size, 9 + flen), dtype=np.uint8)
        rec[:, 0] = ESC
        rec[:, 1] = type_byte
        rec[:, 2:8] = (counters[rows, None] >> shifts) & 0xFF
        rec[:, 8] = signals[rows]
        rec[:, 9:] = fdata[offs[rows, None] + np.arange(flen)]
        raw[rec_start[rows, None] + np.arange(9 + flen)] = rec
    repeats = np.where(raw == ESC, 2, 1)
    repeats[rec_start] = 1  # the escape that opens a message is not doubled
    return np.repeat(raw, repeats).tobytes()


def write_beast(
    batches_or_table: TableLike,
    file_or_path: str | os.PathLike[str] | ByteSink,
    *,
    start: datetime,
) -> int:
    """Write RAW_FRAMES rows as Beast binary; return the number of frames written.

    The counter is ``round((time - start) * 12 MHz)``; a naive ``start`` is taken as UTC.
    A path ending in ``.gz`` is gzip-compressed.
    """
    start_ns = datetime_ns(start)
    written = 0
    with open_sink(file_or_path) as out:
        for batch in iter_batches_of(batches_or_table):
            out.write(encode_beast(batch, start_ns=start_ns))
            written += batch.num_rows
    return written


__all__ = ["REASONS", "BeastParse", "encode_beast", "parse_beast", "read_beast", "write_beast"]
