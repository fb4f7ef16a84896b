"""Columnar AIS decoder: assembled payloads (:data:`jamwatch.schema.AIS_SENTENCES`) to the
decoded columns (:data:`jamwatch.schema.AIS_DECODED`).

A compiled pass de-armours each payload into 60-bit words; the messages are then taken
type by type and every field of the type read from the layout table in
:mod:`jamwatch.decoder.ais_fields` as one column (no per-type code, and no branch that
changes from message to message); NumPy then scales the values and turns the "not
available" codes into nulls. Position reports (1, 2, 3, 18, 19, 27), base stations
(4, 11) and static data (5, 24) are decoded; other types keep their ``mmsi`` and ``msg_type``.
A payload shorter than its type needs leaves the missing fields null and is counted
(``short_payload``).
"""

from __future__ import annotations

import os
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from jamwatch.decoder.ais_fields import (
    COMMON,
    N_TYPES,
    NUMBER_NAMES,
    NUMBERS,
    TEXT_NAMES,
    TEXTS,
    layout,
)
from jamwatch.io.arrays import arrow_column, arrow_strings
from jamwatch.io.base import ReadReport
from jamwatch.io.lines import days_from_civil
from jamwatch.io.nmea import Assembler, Payloads, nmea_chunks
from jamwatch.schema import AIS_DECODED

_STARTS, _WIDTHS, _SIGNED = layout(NUMBERS, NUMBER_NAMES, COMMON)
#: fields that no output column takes are not read (each lies before a field that is, so
#: a payload too short for them is still counted short)
_UNREAD = ("repeat", "turn", "ais_version")
_WIDTHS[:, [NUMBER_NAMES.index(name) for name in _UNREAD]] = 0
_TEXT_STARTS, _TEXT_WIDTHS, _ = layout(TEXTS, TEXT_NAMES, {})
#: 60-bit words of a payload that the layout reaches
_WORDS = -(-int(max((_STARTS + _WIDTHS).max(), (_TEXT_STARTS + _TEXT_WIDTHS).max())) // 60)
_COL = {name: j for j, name in enumerate(NUMBER_NAMES)}
# raw field indices, compile-time constants of the kernel
_MMSI, _LAT, _LON, _SOG, _COG = (_COL[k] for k in ("mmsi", "lat", "lon", "sog", "cog"))
_HEADING, _SECOND, _STATUS, _EPFD = (_COL[k] for k in ("heading", "second", "nav_status", "epfd"))
_ACCURACY, _RAIM, _SHIP_TYPE, _PART, _IMO = (
    _COL[k] for k in ("accuracy", "raim", "ship_type", "part", "imo")
)
_YEAR, _MONTH, _DAY, _HOUR, _MINUTE = (_COL[k] for k in ("year", "month", "day", "hour", "minute"))
_SHIP_NAME, _CALLSIGN = TEXT_NAMES.index("ship_name"), TEXT_NAMES.index("callsign")
#: output columns built as another type, then cast (flags are 0/1 bytes)
_STORED = {"position_accuracy": pa.uint8(), "raim": pa.uint8()}
#: longest text field, characters
_MAX_CHARS = 20
#: raw "not available" codes (ITU-R M.1371-5)
_SOG_NA, _SOG_NA_LONG_RANGE = 1023, 63
_COG_LIMIT, _COG_LIMIT_LONG_RANGE = 3600, 360
_SECOND_LIMIT = 60
_PER_DEGREE, _PER_DEGREE_LONG_RANGE = 600_000.0, 600.0
LONG_RANGE = 27
STATIC_B = 24
NS_PER_S = 1_000_000_000


#: payload characters packed into one word of the bit buffer (60 of its 64 bits)
_CHARS_PER_WORD = 10
_WORD_BITS = 6 * _CHARS_PER_WORD


#: the 6-bit value of each armoured payload character ('0'-'W' are 0-39, '`'-'w' 40-63)
_SIXBIT = np.array([max(c - 48, 0) - (8 if c - 48 > 40 else 0) for c in range(256)], np.uint64)


@nb.njit(cache=True, nogil=True, inline="always")
def _pack(
    data: npt.NDArray[np.uint8], a: int, b: int, words: npt.NDArray[np.uint64]
) -> None:  # pragma: no cover
    """De-armour the payload data[a:b] into ``words``, 60 bits (10 characters) each, the
    first bit of the payload the most significant of the first word's 60 (the last word
    padded with zeros)."""
    full = (b - a) // _CHARS_PER_WORD
    for k in range(full):
        v = np.uint64(0)
        q = a + k * _CHARS_PER_WORD
        for c in range(_CHARS_PER_WORD):
            v = (v << np.uint64(6)) | _SIXBIT[data[q + c]]
        words[k] = v
    q = a + full * _CHARS_PER_WORD
    if q < b:
        v = np.uint64(0)
        for c in range(_CHARS_PER_WORD):
            v = (v << np.uint64(6)) | (_SIXBIT[data[q + c]] if q + c < b else np.uint64(0))
        words[full] = v


@nb.njit(cache=True, nogil=True, inline="always")
def _bits(words: npt.NDArray[np.uint64], start: int, width: int) -> int:  # pragma: no cover
    """The ``width``-bit field (at most 58 bits) at payload bit ``start`` of the packed
    payload: one word, or the end of one and the start of the next."""
    k = start // _WORD_BITS
    lead = start - k * _WORD_BITS  # bits of word k before the field
    mask = (np.uint64(1) << np.uint64(width)) - np.uint64(1)
    if lead + width <= _WORD_BITS:
        return int((words[k] >> np.uint64(_WORD_BITS - lead - width)) & mask)
    rest = lead + width - _WORD_BITS  # bits taken from word k + 1
    high = words[k] << np.uint64(rest)
    low = words[k + 1] >> np.uint64(_WORD_BITS - rest)
    return int((high | low) & mask)


@nb.njit(cache=True, nogil=True)
def _text(
    words: npt.NDArray[np.uint64],
    start: int,
    width: int,
    out: npt.NDArray[np.uint8],
    pos: int,
) -> int:  # pragma: no cover
    """Write the 6-bit text field to ``out`` at ``pos`` (up to the first '@', blanks
    stripped at both ends); return the end position."""
    begin = pos
    for k in range(width // 6):
        c = _bits(words, start + 6 * k, 6)
        if c == 0:  # '@' ends the text
            break
        if pos == begin and c == 32:  # leading blank
            continue
        out[pos] = c + 64 if c < 32 else c
        pos += 1
    while pos > begin and out[pos - 1] == 32:
        pos -= 1
    return pos


@nb.njit(cache=True, nogil=True)
def _unpack(
    data: npt.NDArray[np.uint8],
    start: npt.NDArray[np.int64],
    end: npt.NDArray[np.int64],
    fill: npt.NDArray[np.uint8],
    order: npt.NDArray[np.int64],
    words: npt.NDArray[np.uint64],
    nbits: npt.NDArray[np.int64],
) -> None:  # pragma: no cover
    """Message ``order[r]``'s payload (``data[start:end]``) packed into row ``r`` of
    ``words`` (as far as the layout reaches) and its length in bits into ``nbits[r]``."""
    reach = words.shape[1] * _CHARS_PER_WORD
    for r in range(len(order)):
        i = order[r]
        a, b = start[i], end[i]
        nbits[r] = 6 * (b - a) - fill[i]
        _pack(data, a, min(b, a + reach), words[r])


@nb.njit(cache=True, nogil=True)
def _fields(
    words: npt.NDArray[np.uint64],
    nbits: npt.NDArray[np.int64],
    order: npt.NDArray[np.int64],
    bounds: npt.NDArray[np.int64],
    starts: npt.NDArray[np.int16],
    widths: npt.NDArray[np.int16],
    signed: npt.NDArray[np.bool_],
    raw: npt.NDArray[np.int64],
    ok: npt.NDArray[np.bool_],
    short: npt.NDArray[np.bool_],
) -> None:  # pragma: no cover
    """Every numeric field into ``raw[field]`` (``ok`` where the payload holds it), type
    by type: rows ``bounds[t]:bounds[t + 1]`` of ``words`` and ``nbits`` are the messages
    of type ``t``, message ``order[r]`` in row ``r``."""
    for t in range(len(bounds) - 1):
        r0, r1 = bounds[t], bounds[t + 1]
        for j in range(starts.shape[1]):
            s, w, negative = int(starts[t, j]), int(widths[t, j]), bool(signed[t, j])
            if w == 0 or r0 == r1:
                continue
            half = 1 << (w - 1)
            out, out_ok = raw[j], ok[j]
            for r in range(r0, r1):
                i = order[r]
                if s + w > nbits[r]:
                    short[i] = True
                    continue
                v = _bits(words[r], s, w)
                out[i] = v - 2 * half if negative and v >= half else v
                out_ok[i] = True


@nb.njit(cache=True, nogil=True)
def _texts(
    words: npt.NDArray[np.uint64],
    nbits: npt.NDArray[np.int64],
    msg_type: npt.NDArray[np.uint8],
    order: npt.NDArray[np.int64],
    part: npt.NDArray[np.int64],
    text_starts: npt.NDArray[np.int16],
    text_widths: npt.NDArray[np.int16],
    text: npt.NDArray[np.uint8],
    text_off: npt.NDArray[np.int64],
    text_ok: npt.NDArray[np.bool_],
    short: npt.NDArray[np.bool_],
) -> None:  # pragma: no cover
    """The text fields, in the order of the messages (message ``order[r]`` is row ``r`` of
    ``words``; a type 24's name from part A, its call sign from part B; ``part`` is -1
    where it was not read)."""
    row = np.empty_like(order)
    row[order] = np.arange(len(order))
    for i in range(len(msg_type)):
        t = msg_type[i]
        for j in range(text_starts.shape[1]):
            pos = text_off[j, i]
            s, w = text_starts[t, j], text_widths[t, j]
            wanted = t != STATIC_B or part[i] == (0 if j == _SHIP_NAME else 1)
            if w > 0 and s + w <= nbits[row[i]] and wanted:
                text_ok[j, i] = True
                pos = _text(words[row[i]], s, w, text[j], pos)
            elif w > 0 and wanted:
                short[i] = True
            text_off[j, i + 1] = pos


@nb.njit(cache=True, nogil=True)
def _station_times(
    msg_type: npt.NDArray[np.uint8],
    raw: npt.NDArray[np.int64],
    ok: npt.NDArray[np.bool_],
    out: npt.NDArray[np.int64],
) -> None:  # pragma: no cover
    """A base station's (4, 11) reported UTC time in ns, -1 when a part is not available."""
    for i in range(len(msg_type)):
        if msg_type[i] != 4 and msg_type[i] != 11:
            continue
        y, mo, d = raw[_YEAR, i], raw[_MONTH, i], raw[_DAY, i]
        h, mi, s = raw[_HOUR, i], raw[_MINUTE, i], raw[_SECOND, i]
        parts = ok[_YEAR, i] and ok[_MONTH, i] and ok[_DAY, i] and ok[_HOUR, i]
        if not (parts and ok[_MINUTE, i] and ok[_SECOND, i]) or y == 0:
            continue
        if 1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60 and s < 60:
            days = days_from_civil(y, mo, d)
            out[i] = ((days * 24 + h) * 60 + mi) * 60 * NS_PER_S + s * NS_PER_S


def _scaled(
    msg_type: npt.NDArray[np.uint8], raw: npt.NDArray[np.int64], ok: npt.NDArray[np.bool_]
) -> dict[str, tuple[npt.NDArray[np.generic], npt.NDArray[np.bool_]]]:
    """The raw fields scaled into the output columns (values, validity); "not available"
    codes and values out of range are not valid."""
    long_range = msg_type == LONG_RANGE
    per_degree = np.where(long_range, _PER_DEGREE_LONG_RANGE, _PER_DEGREE)
    lat, lon = raw[_LAT] / per_degree, raw[_LON] / per_degree
    position = ok[_LAT] & ok[_LON] & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    tenths = np.where(long_range, 1.0, 10.0)
    sog_na = np.where(long_range, _SOG_NA_LONG_RANGE, _SOG_NA)
    cog_limit = np.where(long_range, _COG_LIMIT_LONG_RANGE, _COG_LIMIT)
    base = (msg_type == 4) | (msg_type == 11)
    part_b = (msg_type != STATIC_B) | (ok[_PART] & (raw[_PART] == 1))
    return {
        "latitude": (lat, position),
        "longitude": (lon, position),
        "sog_kt": (raw[_SOG] / tenths, ok[_SOG] & (raw[_SOG] != sog_na)),
        "cog_deg": (raw[_COG] / tenths, ok[_COG] & (raw[_COG] < cog_limit)),
        "heading_deg": (raw[_HEADING].astype(np.float64), ok[_HEADING] & (raw[_HEADING] < 360)),
        "nav_status": (raw[_STATUS], ok[_STATUS]),
        "position_accuracy": (raw[_ACCURACY], ok[_ACCURACY]),
        "raim": (raw[_RAIM], ok[_RAIM]),
        "epfd": (raw[_EPFD], ok[_EPFD]),
        "ship_type": (raw[_SHIP_TYPE], ok[_SHIP_TYPE] & (raw[_SHIP_TYPE] != 0) & part_b),
        "utc_second": (raw[_SECOND], ~base & ok[_SECOND] & (raw[_SECOND] < _SECOND_LIMIT)),
        "mmsi": (raw[_MMSI], ok[_MMSI]),
        "imo": (raw[_IMO], ok[_IMO] & (raw[_IMO] != 0)),
    }


@dataclass(slots=True)
class AisDecodeReport:
    """What the AIS decoder saw: messages by type, positions, rejects by reason."""

    messages: int = 0
    by_type: Counter[int] = field(default_factory=Counter)
    vessels: set[int] = field(default_factory=set)
    positions: int = 0
    rejects: Counter[str] = field(default_factory=Counter)

    def saw(self, table: pa.Table) -> None:
        """Count a table of decoded AIS (:data:`AIS_DECODED`)."""
        self.messages += table.num_rows
        for item in pc.value_counts(table.column("msg_type").drop_null()).to_pylist():
            self.by_type[item["values"]] += item["counts"]
        self.vessels.update(pc.unique(table.column("mmsi").drop_null()).to_pylist())
        self.positions += table.num_rows - table.column("latitude").null_count

    def add(self, other: AisDecodeReport) -> None:
        """Add the counts of ``other`` (another part of the same input)."""
        self.messages += other.messages
        self.by_type.update(other.by_type)
        self.vessels |= other.vessels
        self.positions += other.positions
        self.rejects.update(other.rejects)


def _payload_arrays(
    column: pa.ChunkedArray | pa.Array,
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """The payload characters and offsets (from 0) of a string column, without a copy."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    wide = pa.types.is_large_string(arr.type)
    _, off_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(off_buf, np.int64 if wide else np.int32)
    offsets = offsets[arr.offset : arr.offset + len(arr) + 1].astype(np.int64)
    data = np.frombuffer(data_buf, np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    return data[offsets[0] : offsets[-1]], offsets - offsets[0]


def decode_ais(sentences: pa.Table, report: AisDecodeReport | None = None) -> pa.Table:
    """Decode a table of assembled messages (:data:`AIS_SENTENCES`) to :data:`AIS_DECODED`."""
    data, offsets = _payload_arrays(sentences.column("payload"))
    fill = np.asarray(sentences.column("fill_bits").to_numpy(), np.uint8)
    sides = {name: sentences.column(name) for name in ("time", "channel", "station")}
    return _reported(_decoded(data, offsets[:-1], offsets[1:], fill, sides), report)


def decode_payloads(payloads: Payloads, report: AisDecodeReport | None = None) -> pa.Table:
    """:func:`decode_ais` of the messages as the assembler leaves them (no table of
    payloads in between)."""
    sides = payloads.sides()
    decoded = _decoded(payloads.data, payloads.start, payloads.end, payloads.fill, sides)
    return _reported(decoded, report)


def _reported(decoded: tuple[pa.Table, int], report: AisDecodeReport | None) -> pa.Table:
    table, short = decoded
    if report is not None:
        report.saw(table)
        if short:
            report.rejects["short_payload"] += short
    return table


def _decoded(
    data: npt.NDArray[np.uint8],
    start: npt.NDArray[np.int64],
    end: npt.NDArray[np.int64],
    fill: npt.NDArray[np.uint8],
    sides: dict[str, pa.Array | pa.ChunkedArray],
) -> tuple[pa.Table, int]:
    """The decoded table of the payloads ``data[start:end]`` (with their ``fill`` bits and
    the ``time``, ``channel`` and ``station`` columns in ``sides``) and the number of
    payloads too short for their type."""
    n = len(start)
    if np.any(end == start):
        raise ValueError("decode_ais: empty payloads (the NMEA reader drops them)")
    msg_type = _SIXBIT[data[start]].astype(np.uint8)
    order = np.argsort(msg_type, kind="stable")
    bounds = np.searchsorted(msg_type[order], np.arange(N_TYPES + 1)).astype(np.int64)
    words = np.empty((n, _WORDS), np.uint64)
    nbits = np.empty(n, np.int64)
    raw = np.empty((len(NUMBER_NAMES), n), np.int64)  # read only where ``ok``
    ok = np.zeros((len(NUMBER_NAMES), n), np.bool_)
    short = np.zeros(n, np.bool_)
    _unpack(data, start, end, fill, order, words, nbits)
    _fields(words, nbits, order, bounds, _STARTS, _WIDTHS, _SIGNED, raw, ok, short)
    station_time = np.full(n, -1, np.int64)
    _station_times(msg_type, raw, ok, station_time)
    text = np.empty((len(TEXT_NAMES), n * _MAX_CHARS), np.uint8)
    text_off = np.zeros((len(TEXT_NAMES), n + 1), np.int64)
    text_ok = np.zeros((len(TEXT_NAMES), n), np.bool_)
    part = np.where(ok[_PART], raw[_PART], -1)
    _texts(
        words, nbits, msg_type, order, part, _TEXT_STARTS, _TEXT_WIDTHS, text, text_off, text_ok,
        short,
    )  # fmt: skip
    columns: dict[str, pa.Array | pa.ChunkedArray] = {"time": sides["time"]}
    columns["msg_type"] = pa.array(msg_type, pa.uint8())
    for name, (values, valid) in _scaled(msg_type, raw, ok).items():
        typ = AIS_DECODED.field(name).type
        width = _STORED.get(name, typ)
        column = arrow_column(values.astype(width.to_pandas_dtype()), valid, width)
        columns[name] = column.cast(typ) if width != typ else column
    for j, name in enumerate(TEXT_NAMES):
        columns[name] = arrow_strings(n, text[j], text_off[j], text_ok[j])
    columns["station_time"] = arrow_column(station_time, station_time >= 0, pa.int64()).cast(
        AIS_DECODED.field("station_time").type
    )
    columns["channel"] = sides["channel"]
    columns["station"] = sides["station"]
    table = pa.table({name: columns[name] for name in AIS_DECODED.names}, schema=AIS_DECODED)
    return table, int(np.count_nonzero(short))


def decode_nmea(
    source: str | Path,
    read: ReadReport | None = None,
    report: AisDecodeReport | None = None,
    *,
    chunk_bytes: int = 4 << 20,
    threads: int | None = None,
) -> Iterator[pa.Table]:
    """Decoded AIS (:data:`AIS_DECODED`) of an NMEA file, chunk by chunk, in input order.

    The chunks are assembled and decoded on ``threads`` threads at once (default: one per
    core; the kernels release the GIL), each from an empty assembler. Taken in order, a
    chunk that continues a multi-sentence message of the chunk before it (or follows a
    Gatehouse line at its end) is assembled again from that state, so the tables and
    counts are those of one pass in order (:func:`jamwatch.io.nmea.read_nmea` and
    :func:`decode_ais`).
    """
    read = read if read is not None else ReadReport(str(source), "nmea")
    report = report if report is not None else AisDecodeReport()
    if not threads:
        cores = getattr(os, "sched_getaffinity", None)
        threads = len(cores(0)) if cores is not None else (os.cpu_count() or 1)
    tables = _in_order(nmea_chunks(source, read, chunk_bytes), Assembler(read), report, threads)
    yield from (table for table in tables if table.num_rows)


def _in_order(
    chunks: Iterator[bytes], state: Assembler, report: AisDecodeReport, threads: int
) -> Iterator[pa.Table]:
    """The decoded chunks in order, each taken as :func:`_taken` says, then what the end of
    the input closes; at most ``threads`` + 1 chunks in flight."""
    with ThreadPoolExecutor(threads, thread_name_prefix="jamwatch-ais") as pool:
        running: deque[tuple[bytes, Future[_Chunk]]] = deque()
        for chunk in chunks:
            running.append((chunk, pool.submit(_chunk, chunk)))
            if len(running) > threads:
                yield _taken(*running.popleft(), state, report)
        while running:
            yield _taken(*running.popleft(), state, report)
    yield decode_payloads(state.payloads(b"", final=True), report)


#: a chunk assembled from an empty state: the assembler after it, the decoded table and
#: what the decoder saw in it
_Chunk = tuple[Assembler, pa.Table, AisDecodeReport]


def _chunk(chunk: bytes) -> _Chunk:
    assembler = Assembler()
    seen = AisDecodeReport()
    return assembler, decode_payloads(assembler.payloads(chunk), seen), seen


def _taken(
    chunk: bytes, future: Future[_Chunk], state: Assembler, report: AisDecodeReport
) -> pa.Table:
    """The chunk's table, from its assembly from an empty state when that is what
    ``state`` (after the chunks before it) gives, else assembled again from ``state``;
    its counts added."""
    assembler, table, seen = future.result()
    if state.continued_by(assembler):
        state.adopt(assembler)
    else:
        seen = AisDecodeReport()
        table = decode_payloads(state.payloads(chunk), seen)
    report.add(seen)
    return table


__all__ = ["AisDecodeReport", "decode_ais", "decode_nmea", "decode_payloads"]
