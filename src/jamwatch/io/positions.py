"""Readers for positions already decoded elsewhere: OpenSky state vectors, traffic, readsb traces.

Every reader returns an Arrow table with the decoded column names and units of
:data:`jamwatch.schema.DECODED` (``time`` UTC ns, ``icao`` lower-case hex, ``latitude``,
``longitude``, ``altitude_baro_ft``, ``altitude_gnss_ft``, ``groundspeed_kt``, ``track_deg``,
``vertical_rate_fpm``, ``callsign``, ``nic``, ``nacp``, ``sil``, ``version``, ``df``) plus
``on_ground`` (bool) where the source says so. Integrity columns a source does not carry are
null, never guessed.

Formats (detected from the content, or named with ``fmt``):

``opensky``
    State vectors with OpenSky's historical column names (``time`` s, ``icao24``, ``lat``,
    ``lon``, ``velocity`` m/s, ``heading``, ``vertrate`` m/s, ``callsign``, ``onground``,
    ``baroaltitude`` m, ``geoaltitude`` m) in CSV, Parquet or JSON (records, one per line or in
    an array), or the REST API's ``{"time": ..., "states": [[...], ...]}`` document.
``traffic``
    The traffic library's pandas JSON (records or columns orient, gzip or not): ``timestamp``
    (ms), ``icao24``, ``latitude``, ``longitude``, ``altitude`` (ft), ``groundspeed`` (kt),
    ``track``, ``vertical_rate`` (ft/min), ``callsign``.
``trace``
    readsb / tar1090 ``trace_full`` JSON: a base ``timestamp`` and points ``[dt, lat, lon,
    alt|"ground", gs, track, flags, vrate, state|null, type, geom_alt, ...]``; the sparse state
    object's ``nic``, ``nac_p``, ``sil``, ``version`` and ``flight`` carry forward to the
    following points. ``type`` adsb_icao gives ``df`` 17; adsb_icao_nt, adsr_* and tisb_* give
    18; other sources (mlat, mode_s) leave ``df`` null.

:func:`clean_positions` drops, counts and names the reason of every bad row: latitude or
longitude outside -90..90 / -180..180, time before 1990 or in the future, and repeats of an
aircraft's previous report (same time and position).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from jamwatch.io.streams import PARQUET_MAGIC, read_all, read_head
from jamwatch.reports import ReportBatch
from jamwatch.schema import DECODED, TIME_TYPE

FT_PER_M = 1 / 0.3048
KT_PER_MPS = 3600 / 1852
FPM_PER_MPS = 60 / 0.3048
T_1990_NS = 631_152_000 * 1_000_000_000
POSITION_FORMATS = ("opensky", "traffic", "trace")
#: columns of the traffic library's tables (the first of a pandas "columns" JSON names it)
TRAFFIC_COLUMNS = frozenset(
    {"timestamp", "icao24", "latitude", "longitude", "altitude", "geoaltitude", "groundspeed",
     "track", "vertical_rate", "callsign", "onground", "last_position"}
)  # fmt: skip

#: columns of a positions table, in order (decoded names and types, plus ``on_ground``)
POSITION_SCHEMA = pa.schema(
    [
        DECODED.field(name)
        for name in (
            "time", "icao", "df", "callsign", "latitude", "longitude", "altitude_baro_ft",
            "altitude_gnss_ft", "nic", "nacp", "sil", "version", "groundspeed_kt", "track_deg",
            "vertical_rate_fpm",
        )
    ]
    + [pa.field("on_ground", pa.bool_())]
)  # fmt: skip


@dataclass(slots=True)
class PositionReport:
    """What was read from one source: format, rows kept, rows dropped by reason."""

    source: str
    format: str = ""
    rows_read: int = 0
    rows_kept: int = 0
    rejects: Counter[str] = field(default_factory=Counter)


class PositionFormatError(ValueError):
    """A file that is none of the position formats (the message names those tried)."""


def detect_position_format(path: str | os.PathLike[str]) -> str:
    """``opensky``, ``traffic`` or ``trace`` from the file's content (raises otherwise): a
    Parquet file's column names, or the first ``HEAD_BYTES`` of the decompressed content."""
    p = Path(path)
    return position_format_of_head(read_head(p), p)


def position_format_of_head(head: bytes, p: Path) -> str:
    """As :func:`detect_position_format`, from the first bytes of the file ``p``."""
    if head[:4] == PARQUET_MAGIC:
        try:
            names = set(pq.read_schema(p).names)
        except (pa.ArrowException, OSError) as exc:
            raise PositionFormatError(f"{p}: unreadable Parquet file ({exc})") from exc
        return _format_from_names(names, p)
    raw = head.decode("utf-8", "replace").lstrip()
    if raw.startswith("{") and ('"trace"' in raw or '"states"' in raw):
        return "trace" if '"trace"' in raw else "opensky"
    first = raw.split("\n", 1)[0]
    names = set()
    columns = re.match(r'\{\s*"(\w+)"\s*:\s*\{', raw)
    if columns:  # pandas "columns" orient: one object per column, the first may be long
        if columns.group(1) in TRAFFIC_COLUMNS:
            return "traffic"  # (read_traffic checks that the columns it needs are there)
        names = set(re.findall(r'"(\w+)"\s*:\s*\{', raw))
    elif raw.startswith(("{", "[")):
        names = set(re.findall(r'"(\w+)"\s*:', raw[:4096]))
    else:
        names = {c.strip().strip('"') for c in first.split(",")}
    return _format_from_names(names, p)


def _format_from_names(names: set[str], path: Path) -> str:
    if {"icao24", "lat", "lon"} <= names:
        return "opensky"
    if {"icao24", "latitude", "longitude", "timestamp"} <= names:
        return "traffic"
    raise PositionFormatError(
        f"{path}: not a positions file (tried {', '.join(POSITION_FORMATS)}: OpenSky state "
        "vectors need icao24, lat, lon; traffic needs timestamp, icao24, latitude, longitude; "
        "a readsb trace needs a trace array)"
    )


def _finish(columns: dict[str, Any], n: int) -> pa.Table:
    """A positions table from ``columns`` (Arrow arrays or lists); absent columns null."""
    arrays = []
    for f in POSITION_SCHEMA:
        value = columns.get(f.name)
        if value is None:
            arrays.append(pa.nulls(n, f.type))
            continue
        arr = value if isinstance(value, pa.Array | pa.ChunkedArray) else pa.array(value)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        if pa.types.is_floating(f.type) and not pa.types.is_floating(arr.type):
            arr = arr.cast(pa.float64())
        arrays.append(arr.cast(f.type))
    table = pa.Table.from_arrays(arrays, schema=POSITION_SCHEMA)
    icao = pc.utf8_lower(pc.utf8_trim_whitespace(table.column("icao")))
    callsign = pc.utf8_rtrim_whitespace(table.column("callsign"))
    callsign = pc.if_else(pc.equal(callsign, ""), pa.scalar(None, pa.string()), callsign)
    table = table.set_column(1, "icao", icao)
    return table.set_column(3, "callsign", callsign)


def _seconds_to_time(values: pa.Array, scale: int) -> pa.Array:
    """Epoch numbers (seconds * ``scale`` ns per unit) to timestamp[ns, UTC]."""
    ns = pc.multiply(values.cast(pa.float64()), float(scale))
    return pc.round(ns).cast(pa.int64()).cast(TIME_TYPE)


def _load_table(path: Path) -> pa.Table:
    """A flat table from CSV, Parquet or JSON records (array or one per line)."""
    if read_head(path, 4) == PARQUET_MAGIC:
        return pq.read_table(path)
    data = read_all(path)
    text = data.lstrip()
    if text[:1] == b"[":
        records = json.loads(data)
        return pa.Table.from_pylist(records)
    if text[:1] == b"{":
        doc = json.loads(data) if b"\n{" not in text[:65536] else None
        if doc is None:
            return pa.Table.from_pylist([json.loads(line) for line in data.splitlines() if line])
        if isinstance(doc, dict) and all(isinstance(v, dict) for v in doc.values()):
            return pa.table({k: list(v.values()) for k, v in doc.items()})  # pandas columns
        return pa.Table.from_pylist([doc])
    return pacsv.read_csv(pa.py_buffer(data))


def _col(table: pa.Table, name: str) -> pa.Array | None:
    return table.column(name).combine_chunks() if name in table.column_names else None


def _scaled(arr: pa.Array | None, factor: float) -> pa.Array | None:
    return None if arr is None else pc.multiply(arr.cast(pa.float64()), factor)


def read_opensky(path: str | os.PathLike[str]) -> pa.Table:
    """OpenSky state vectors (CSV, Parquet, JSON records or the REST ``states`` document)."""
    p = Path(path)
    data = read_all(p) if read_head(p, 4) != PARQUET_MAGIC else b""
    if data.lstrip()[:1] == b"{" and b'"states"' in data[:65536]:
        doc = json.loads(data)
        states = doc.get("states") or []
        cols: list[Any] = list(zip(*states, strict=True)) if states else [[]] * 17
        t = pa.table(
            {
                "time": [doc.get("time")] * len(states) if not states else list(cols[3]),
                "icao24": list(cols[0]), "callsign": list(cols[1]), "lon": list(cols[5]),
                "lat": list(cols[6]), "baroaltitude": list(cols[7]), "onground": list(cols[8]),
                "velocity": list(cols[9]), "heading": list(cols[10]), "vertrate": list(cols[11]),
                "geoaltitude": list(cols[13]),
            }
        )  # fmt: skip
    else:
        t = _load_table(p)
    n = t.num_rows
    time_col = _col(t, "time")
    columns = {
        "time": None if time_col is None else _seconds_to_time(time_col, 1_000_000_000),
        "icao": _col(t, "icao24"),
        "callsign": _col(t, "callsign"),
        "latitude": _col(t, "lat"),
        "longitude": _col(t, "lon"),
        "altitude_baro_ft": _scaled(_col(t, "baroaltitude"), FT_PER_M),
        "altitude_gnss_ft": _scaled(_col(t, "geoaltitude"), FT_PER_M),
        "groundspeed_kt": _scaled(_col(t, "velocity"), KT_PER_MPS),
        "track_deg": _col(t, "heading"),
        "vertical_rate_fpm": _scaled(_col(t, "vertrate"), FPM_PER_MPS),
        "on_ground": _col(t, "onground"),
    }
    return _finish(columns, n)


def read_traffic(path: str | os.PathLike[str]) -> pa.Table:
    """The traffic library's pandas JSON (timestamp ms, altitude ft, groundspeed kt)."""
    t = _load_table(Path(path))
    missing = {"timestamp", "icao24", "latitude", "longitude"} - set(t.column_names)
    if missing:
        raise PositionFormatError(
            f"{path}: not a traffic table (missing column(s) {', '.join(sorted(missing))})"
        )
    ts = _col(t, "timestamp")
    if ts is not None and not pa.types.is_timestamp(ts.type):
        ts = _seconds_to_time(ts, 1_000_000)  # milliseconds
    elif ts is not None:
        ts = ts.cast(TIME_TYPE)
    columns = {
        "time": ts,
        "icao": _col(t, "icao24"),
        "callsign": _col(t, "callsign"),
        "latitude": _col(t, "latitude"),
        "longitude": _col(t, "longitude"),
        "altitude_baro_ft": _col(t, "altitude"),
        "altitude_gnss_ft": _col(t, "geoaltitude"),
        "groundspeed_kt": _col(t, "groundspeed"),
        "track_deg": _col(t, "track"),
        "vertical_rate_fpm": _col(t, "vertical_rate"),
        "on_ground": _col(t, "onground"),
    }
    return _finish(columns, t.num_rows)


def read_trace(path: str | os.PathLike[str]) -> pa.Table:
    """A readsb / tar1090 ``trace_full`` JSON file, gzip-compressed or not (integrity fields
    carried forward: :func:`jamwatch.io.traces.trace_reports`)."""
    from jamwatch.io.traces import TraceError, trace_reports

    try:
        table = trace_reports(read_all(Path(path)))
    except TraceError as exc:
        raise PositionFormatError(f"{path}: {exc}") from None
    columns: dict[str, Any] = {name: table.column(name) for name in table.column_names}
    columns["on_ground"] = pc.equal(table.column("tc"), 6)
    return _finish(columns, table.num_rows)


@nb.njit(cache=True, nogil=True)
def _repeats(
    order: npt.NDArray[np.int64],
    code: npt.NDArray[np.int64],
    t: npt.NDArray[np.int64],
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    n_codes: int,
) -> npt.NDArray[np.bool_]:
    last_t = np.full(n_codes, np.iinfo(np.int64).min)
    last_lat = np.full(n_codes, np.nan)
    last_lon = np.full(n_codes, np.nan)
    out = np.zeros(order.shape[0], np.bool_)
    for k in range(order.shape[0]):
        i = order[k]
        c = code[i]
        if c < 0:
            continue
        same_lat = lat[i] == last_lat[c] or (np.isnan(lat[i]) and np.isnan(last_lat[c]))
        same_lon = lon[i] == last_lon[c] or (np.isnan(lon[i]) and np.isnan(last_lon[c]))
        if t[i] == last_t[c] and same_lat and same_lon:
            out[i] = True
        last_t[c] = t[i]
        last_lat[c] = lat[i]
        last_lon[c] = lon[i]
    return out


def clean_mask(
    rows: ReportBatch, report: PositionReport, now_ns: int | None = None
) -> npt.NDArray[np.bool_]:
    """The rows to keep; the others are counted by reason in ``report`` (first reason wins).

    Reasons: ``latitude out of range``, ``longitude out of range``, ``time before 1990``,
    ``time in the future``, ``duplicate`` (same aircraft, time and position as its previous
    report in time order). Rows without a position are kept: they may still carry integrity.
    """
    n = len(rows)
    report.rows_read += n
    if n == 0:
        return np.ones(0, np.bool_)
    now_ns = now_ns if now_ns is not None else time.time_ns()
    t, t_ok = rows.t, rows.t_ok
    reasons: list[tuple[str, npt.NDArray[np.bool_]]] = [
        ("latitude out of range", np.abs(rows.lat) > 90),
        ("longitude out of range", np.abs(rows.lon) > 180),
        ("time before 1990", t_ok & (t < T_1990_NS)),
        ("time in the future", t_ok & (t > now_ns)),
    ]
    bad = np.zeros(n, np.bool_)
    for reason, mask in reasons:
        new = mask & ~bad
        if new.any():
            report.rejects[reason] += int(new.sum())
        bad |= new
    code = np.where(bad | ~t_ok, -1, rows.code)
    dup = _repeats(rows.time_order(), code, t, rows.lat, rows.lon, len(rows.names))
    if dup.any():
        report.rejects["duplicate"] += int(dup.sum())
    keep = ~(bad | dup)
    report.rows_kept += int(keep.sum())
    return keep


def clean_positions(
    table: pa.Table, report: PositionReport | None = None, now_ns: int | None = None
) -> pa.Table:
    """``table`` without its bad rows (see :func:`clean_mask`), counted by reason in ``report``."""
    report = report if report is not None else PositionReport("<table>")
    if table.num_rows == 0:
        return table
    keep = clean_mask(ReportBatch.from_table(table), report, now_ns)
    return table if keep.all() else table.filter(pa.array(keep))


_READERS = {"opensky": read_opensky, "traffic": read_traffic, "trace": read_trace}


def read_positions(
    path: str | os.PathLike[str],
    fmt: str | None = None,
    report: PositionReport | None = None,
    now_ns: int | None = None,
) -> pa.Table:
    """One positions file (format detected unless ``fmt``), cleaned by :func:`clean_positions`."""
    fmt = fmt or detect_position_format(path)
    if fmt not in _READERS:
        raise PositionFormatError(f"{path}: unknown positions format {fmt!r}")
    report = report if report is not None else PositionReport(str(path))
    report.format = fmt
    return clean_positions(_READERS[fmt](path), report, now_ns)
