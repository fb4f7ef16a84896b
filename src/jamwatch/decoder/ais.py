"""Columnar AIS decoder: assembled payloads (:data:`jamwatch.schema.AIS_SENTENCES`) to the
decoded columns (:data:`jamwatch.schema.AIS_DECODED`).

One compiled pass reads every field of every message from the layout table in
:mod:`jamwatch.decoder.ais_fields` (no per-type code); NumPy then scales the values and turns
the "not available" codes into nulls. Position reports (1, 2, 3, 18, 19, 27), base stations
(4, 11) and static data (5, 24) are decoded; other types keep their ``mmsi`` and ``msg_type``.
A payload shorter than its type needs leaves the missing fields null and is counted
(``short_payload``).
"""

from __future__ import annotations

from collections import Counter
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
    NUMBER_NAMES,
    NUMBERS,
    TEXT_NAMES,
    TEXTS,
    layout,
)
from jamwatch.io.arrays import arrow_column, arrow_strings
from jamwatch.io.base import ReadReport
from jamwatch.io.lines import days_from_civil
from jamwatch.io.nmea import read_nmea
from jamwatch.schema import AIS_DECODED

_STARTS, _WIDTHS, _SIGNED = layout(NUMBERS, NUMBER_NAMES, COMMON)
_TEXT_STARTS, _TEXT_WIDTHS, _ = layout(TEXTS, TEXT_NAMES, {})
_COL = {name: j for j, name in enumerate(NUMBER_NAMES)}
# raw field indices, compile-time constants of the kernel
_MMSI, _LAT, _LON, _SOG, _COG = (_COL[k] for k in ("mmsi", "lat", "lon", "sog", "cog"))
_HEADING, _SECOND, _STATUS, _EPFD = (_COL[k] for k in ("heading", "second", "nav_status", "epfd"))
_ACCURACY, _RAIM, _SHIP_TYPE, _PART, _IMO = (
    _COL[k] for k in ("accuracy", "raim", "ship_type", "part", "imo")
)
_YEAR, _MONTH, _DAY, _HOUR, _MINUTE = (_COL[k] for k in ("year", "month", "day", "hour", "minute"))
_SHIP_NAME, _CALLSIGN = TEXT_NAMES.index("ship_name"), TEXT_NAMES.index("callsign")
#: output columns by kind, in the order of the kernel's arrays
FLOATS = ("latitude", "longitude", "sog_kt", "cog_deg", "heading_deg")
SMALL = ("nav_status", "position_accuracy", "raim", "epfd", "ship_type", "utc_second")
WIDE = ("mmsi", "imo")
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


@nb.njit(cache=True, nogil=True, inline="always")
def _sixbit(c: int) -> int:  # pragma: no cover
    v = c - 48
    return v - 8 if v > 40 else v


@nb.njit(cache=True, nogil=True)
def _bits(data: npt.NDArray[np.uint8], a: int, start: int, width: int) -> int:  # pragma: no cover
    """The ``width``-bit field (at most 58 bits) at payload bit ``start`` of the payload at
    ``a``: the 6-bit characters it spans, shifted and masked."""
    first, last = start // 6, (start + width - 1) // 6
    v = 0
    for c in range(first, last + 1):
        v = (v << 6) | _sixbit(data[a + c])
    return (v >> (6 * (last + 1) - start - width)) & ((1 << width) - 1)


@nb.njit(cache=True, nogil=True)
def _text(
    data: npt.NDArray[np.uint8],
    a: int,
    start: int,
    width: int,
    out: npt.NDArray[np.uint8],
    pos: int,
) -> int:  # pragma: no cover
    """Write the 6-bit text field to ``out`` at ``pos`` (up to the first '@', blanks
    stripped at both ends); return the end position."""
    begin = pos
    for k in range(width // 6):
        c = _bits(data, a, start + 6 * k, 6)
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
def _station_ns(raw: npt.NDArray[np.int64], ok: npt.NDArray[np.bool_]) -> int:  # pragma: no cover
    """A base station's reported UTC time in ns, or -1 when a part is not available."""
    y, mo, d = int(raw[_YEAR]), int(raw[_MONTH]), int(raw[_DAY])
    h, mi, s = int(raw[_HOUR]), int(raw[_MINUTE]), int(raw[_SECOND])
    if not (ok[_YEAR] and ok[_MONTH] and ok[_DAY] and ok[_HOUR] and ok[_MINUTE] and ok[_SECOND]):
        return -1
    if y == 0 or not (1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60 and s < 60):
        return -1
    return ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 * NS_PER_S + s * NS_PER_S


@nb.njit(cache=True, nogil=True)
def _scale(
    i: int,
    t: int,
    raw: npt.NDArray[np.int64],
    ok: npt.NDArray[np.bool_],
    floats: npt.NDArray[np.float64],
    floats_ok: npt.NDArray[np.bool_],
    small: npt.NDArray[np.uint8],
    small_ok: npt.NDArray[np.bool_],
    wide: npt.NDArray[np.uint32],
    wide_ok: npt.NDArray[np.bool_],
    station_time: npt.NDArray[np.int64],
) -> None:  # pragma: no cover
    """Message ``i``'s raw fields scaled into the output columns; "not available" codes
    and values out of range stay null."""
    long_range = t == LONG_RANGE
    per_degree = _PER_DEGREE_LONG_RANGE if long_range else _PER_DEGREE
    lat, lon = raw[_LAT] / per_degree, raw[_LON] / per_degree
    if ok[_LAT] and ok[_LON] and abs(lat) <= 90 and abs(lon) <= 180:
        floats[0, i], floats[1, i] = lat, lon
        floats_ok[0, i] = floats_ok[1, i] = True
    if ok[_SOG] and raw[_SOG] != (_SOG_NA_LONG_RANGE if long_range else _SOG_NA):
        floats[2, i] = raw[_SOG] if long_range else raw[_SOG] / 10.0
        floats_ok[2, i] = True
    if ok[_COG] and raw[_COG] < (_COG_LIMIT_LONG_RANGE if long_range else _COG_LIMIT):
        floats[3, i] = raw[_COG] if long_range else raw[_COG] / 10.0
        floats_ok[3, i] = True
    if ok[_HEADING] and raw[_HEADING] < 360:
        floats[4, i] = raw[_HEADING]
        floats_ok[4, i] = True
    for k, j in enumerate((_STATUS, _ACCURACY, _RAIM, _EPFD)):
        if ok[j]:
            small[k, i] = raw[j]
            small_ok[k, i] = True
    if (
        ok[_SHIP_TYPE]
        and raw[_SHIP_TYPE] != 0
        and (t != STATIC_B or (ok[_PART] and raw[_PART] == 1))
    ):
        small[4, i] = raw[_SHIP_TYPE]
        small_ok[4, i] = True
    if t == 4 or t == 11:
        ns = _station_ns(raw, ok)
        if ns >= 0:
            station_time[i] = ns
    elif ok[_SECOND] and raw[_SECOND] < _SECOND_LIMIT:
        small[5, i] = raw[_SECOND]
        small_ok[5, i] = True
    if ok[_MMSI]:
        wide[0, i] = raw[_MMSI]
        wide_ok[0, i] = True
    if ok[_IMO] and raw[_IMO] != 0:
        wide[1, i] = raw[_IMO]
        wide_ok[1, i] = True


@nb.njit(cache=True, nogil=True)
def _decode(
    data: npt.NDArray[np.uint8],
    offsets: npt.NDArray[np.int64],
    fill: npt.NDArray[np.uint8],
    starts: npt.NDArray[np.int16],
    widths: npt.NDArray[np.int16],
    signed: npt.NDArray[np.bool_],
    text_starts: npt.NDArray[np.int16],
    text_widths: npt.NDArray[np.int16],
    msg_type: npt.NDArray[np.uint8],
    floats: npt.NDArray[np.float64],
    floats_ok: npt.NDArray[np.bool_],
    small: npt.NDArray[np.uint8],
    small_ok: npt.NDArray[np.bool_],
    wide: npt.NDArray[np.uint32],
    wide_ok: npt.NDArray[np.bool_],
    station_time: npt.NDArray[np.int64],
    text: npt.NDArray[np.uint8],
    text_off: npt.NDArray[np.int64],
    text_ok: npt.NDArray[np.bool_],
    short: npt.NDArray[np.bool_],
) -> None:  # pragma: no cover
    """Every field of every message from the layout table, then scaled and checked for
    the "not available" codes, into the output arrays (see :data:`FLOATS`, :data:`SMALL`,
    :data:`WIDE`)."""
    n = len(offsets) - 1
    raw = np.zeros(starts.shape[1], np.int64)
    ok = np.zeros(starts.shape[1], np.bool_)
    for i in range(n):
        a = offsets[i]
        nbits = 6 * (offsets[i + 1] - a) - fill[i]
        t = _sixbit(data[a])
        msg_type[i] = t
        for j in range(starts.shape[1]):
            s, w = starts[t, j], widths[t, j]
            ok[j] = False
            if w == 0:
                continue
            if s + w > nbits:
                short[i] = True
                continue
            v = _bits(data, a, s, w)
            if signed[t, j] and v >= 1 << (w - 1):
                v -= 1 << w
            raw[j] = v
            ok[j] = True
        _scale(i, t, raw, ok, floats, floats_ok, small, small_ok, wide, wide_ok, station_time)
        part_a = t == STATIC_B and ok[_PART] and raw[_PART] == 0
        part_b = t == STATIC_B and ok[_PART] and raw[_PART] == 1
        for j in range(text_starts.shape[1]):
            pos = text_off[j, i]
            s, w = text_starts[t, j], text_widths[t, j]
            wanted = t != STATIC_B or (part_a if j == _SHIP_NAME else part_b)
            if w > 0 and s + w <= nbits and wanted:
                text_ok[j, i] = True
                pos = _text(data, a, s, w, text[j], pos)
            elif w > 0 and wanted:
                short[i] = True
            text_off[j, i + 1] = pos


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
    n = sentences.num_rows
    data, offsets = _payload_arrays(sentences.column("payload"))
    if np.any(offsets[1:] == offsets[:-1]):
        raise ValueError("decode_ais: empty payloads (the NMEA reader drops them)")
    fill = np.asarray(sentences.column("fill_bits").to_numpy(), np.uint8)
    msg_type = np.zeros(n, np.uint8)
    floats = np.zeros((len(FLOATS), n), np.float64)
    floats_ok = np.zeros((len(FLOATS), n), np.bool_)
    small = np.zeros((len(SMALL), n), np.uint8)
    small_ok = np.zeros((len(SMALL), n), np.bool_)
    wide = np.zeros((len(WIDE), n), np.uint32)
    wide_ok = np.zeros((len(WIDE), n), np.bool_)
    station_time = np.full(n, -1, np.int64)
    text = np.zeros((len(TEXT_NAMES), n * _MAX_CHARS), np.uint8)
    text_off = np.zeros((len(TEXT_NAMES), n + 1), np.int64)
    text_ok = np.zeros((len(TEXT_NAMES), n), np.bool_)
    short = np.zeros(n, np.bool_)
    _decode(
        data, offsets, fill, _STARTS, _WIDTHS, _SIGNED, _TEXT_STARTS, _TEXT_WIDTHS, msg_type,
        floats, floats_ok, small, small_ok, wide, wide_ok, station_time, text, text_off,
        text_ok, short,
    )  # fmt: skip
    columns: dict[str, pa.Array | pa.ChunkedArray] = {"time": sentences.column("time")}
    columns["msg_type"] = pa.array(msg_type, pa.uint8())
    for k, name in enumerate(FLOATS):
        columns[name] = arrow_column(floats[k], floats_ok[k], pa.float64())
    for k, name in enumerate(SMALL):
        typ = pa.bool_() if name in ("position_accuracy", "raim") else pa.uint8()
        col = arrow_column(small[k], small_ok[k], pa.uint8())
        columns[name] = col.cast(typ) if typ != pa.uint8() else col
    for k, name in enumerate(WIDE):
        columns[name] = arrow_column(wide[k], wide_ok[k], pa.uint32())
    for j, name in enumerate(TEXT_NAMES):
        columns[name] = arrow_strings(n, text[j], text_off[j], text_ok[j])
    columns["station_time"] = arrow_column(station_time, station_time >= 0, pa.int64()).cast(
        AIS_DECODED.field("station_time").type
    )
    columns["channel"] = sentences.column("channel")
    columns["station"] = sentences.column("station")
    table = pa.table({name: columns[name] for name in AIS_DECODED.names}, schema=AIS_DECODED)
    if report is not None:
        report.saw(table)
        if short.any():
            report.rejects["short_payload"] += int(short.sum())
    return table


def decode_nmea(
    source: str | Path,
    read: ReadReport | None = None,
    report: AisDecodeReport | None = None,
    *,
    chunk_bytes: int = 4 << 20,
) -> Iterator[pa.Table]:
    """Decoded AIS (:data:`AIS_DECODED`) of an NMEA file, chunk by chunk, in input order.

    Reading and assembling a chunk overlaps with decoding the one before, on a second
    thread (both kernels release the GIL), so two cores are used when the machine has them.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="jamwatch-ais") as pool:
        pending: Future[pa.Table] | None = None
        for sentences in read_nmea(source, read, chunk_bytes):
            ahead = pool.submit(decode_ais, sentences, report)
            if pending is not None:
                yield pending.result()
            pending = ahead
        if pending is not None:
            yield pending.result()


__all__ = ["AisDecodeReport", "decode_ais", "decode_nmea"]
