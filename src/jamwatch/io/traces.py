"""readsb ``trace_full`` JSON (globe_history, the adsb.lol daily archives) as decoded reports.

A trace is one aircraft's day (readsb's README-json.md, "trace jsons"): ``icao``, a base
``timestamp`` (Unix seconds) and ``trace``, one array per position::

    [seconds after timestamp, lat, lon, altitude ft | "ground" | null, ground speed kt,
     track deg, flags, vertical rate fpm, state object | null, source type,
     geometric altitude ft, geometric vertical rate, indicated airspeed, roll]

``flags``: 1 the position is stale (none in the 20 s before it), 2 a new leg starts, 4 the
vertical rate is geometric, 8 the altitude is geometric. The state object is sparse (readsb
writes it every few points): its ``nic``, ``nac_p``, ``sil``, ``version`` and ``flight``
carry forward to the points that follow, as readsb's own state did when it wrote them.

:func:`trace_reports` turns one trace (gzip-compressed or not, as the archives hold them
whatever their name) into rows of :data:`jamwatch.schema.DECODED`: each point is an ADS-B
position (DF 17 for ``adsb_icao``, 18 for ``adsb_icao_nt``, ``adsr_*`` and ``tisb_*``, null
for MLAT and the rest) with type code 11 (airborne) or 6 (``"ground"``), the integrity
carried forward, a geometric altitude (flag 8) in ``altitude_gnss_ft`` and not as the
barometric one. :func:`trace_points` reads a trace with the compiled scanner of
:mod:`jamwatch.io.trace_scan` (orjson for what it declines) and :func:`reports_of` builds one
table from many traces at once: no Python runs per point, only per trace and per change of
callsign.

What a trace cannot say: it holds positions only, not every message. The gpsjam counter
(which counts an aircraft's messages while its position is missing) sees no message between
two points, so a position lost for minutes while the aircraft kept sending is a gap, not bad
reports; the NACp and NIC of the points are those readsb had last received (see
docs/archive.md for what the map from traces counts and how it differs).
"""

from __future__ import annotations

import gzip
import itertools
import zlib
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from jamwatch.io.trace_scan import (
    F_ALT,
    F_DT,
    F_GEOM,
    F_GS,
    F_LAT,
    F_LON,
    F_TRACK,
    F_VRATE,
    Scanned,
    scan,
)
from jamwatch.schema import DECODED, TIME_TYPE

GZIP_MAGIC = b"\x1f\x8b"
#: state-object fields carried forward, and the decoded column each goes to
STATE_FIELDS = {"nic": "nic", "nac_p": "nacp", "sil": "sil", "version": "version"}
_DF18 = ("adsb_icao_nt", "adsr", "tisb")
_KIND_DF = {"adsb_icao": 17}
_TC_AIRBORNE, _TC_SURFACE = 11, 6


class TraceError(ValueError):
    """A file that is not a readsb trace (the message says what is missing)."""



def _column(cols: list[tuple[Any, ...]], k: int, n: int) -> np.ndarray:
    """Column ``k`` of the points as float64 (null, ``"ground"`` and absent entries: NaN)."""
    if k >= len(cols):
        return np.full(n, np.nan)
    try:
        return np.array(cols[k], dtype=np.float64)  # (null becomes NaN)
    except (TypeError, ValueError):
        return np.array(
            [v if isinstance(v, int | float) and not isinstance(v, bool) else None
             for v in cols[k]],
            dtype=np.float64,
        )  # fmt: skip


def _from_json(raw: bytes) -> Scanned:
    """The trace read with orjson (any layout JSON allows), as the scanner gives it."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise TraceError(f"not a readsb trace: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("trace"), list):
        raise TraceError("not a readsb trace: no 'trace' list")
    icao, base = doc.get("icao"), doc.get("timestamp")
    if not isinstance(icao, str) or not isinstance(base, int | float):
        raise TraceError("not a readsb trace: no 'icao' or 'timestamp'")
    points = [p for p in doc["trace"] if isinstance(p, list) and len(p) >= 4]
    n, width = len(points), max(map(len, points), default=11)
    cols = [tuple(p[k] if k < len(p) else None for p in points) for k in range(max(width, 11))]
    floats = np.column_stack([_column(cols, k, n) for k in (0, 1, 2, 3, 4, 5, 7, 10)])
    ground = np.array([v == "ground" for v in cols[3]], np.bool_)
    flags = np.nan_to_num(_column(cols, 6, n)).astype(np.int64)
    df = np.array([_KIND_DF.get(v, 18 if isinstance(v, str) and v.startswith(_DF18) else 0)
                   if isinstance(v, str) else 0 for v in cols[9]], np.int64)  # fmt: skip
    state, has = np.zeros((n, 4)), np.zeros((n, 4), np.bool_)
    flights: dict[int, str] = {}
    last = None
    for k, obj in enumerate(cols[8]):  # (a Python loop per state object, not per point)
        if not isinstance(obj, dict):
            continue
        for slot, key in enumerate(STATE_FIELDS):
            v = obj.get(key)
            if isinstance(v, int | float) and not isinstance(v, bool):
                state[k, slot], has[k, slot] = v, True
        if isinstance(obj.get("flight"), str) and obj["flight"] != last:
            flights[k] = last = obj["flight"]  # (where it changes, as the scanner keeps it)
    return Scanned(icao, float(base), floats, ground, flags, df, state, has, flights)


def _carry(values: np.ndarray, has: np.ndarray, first: np.ndarray) -> np.ndarray:
    """``values`` where ``has``, carried forward to the points after within each trace (a
    trace starts at point ``first`` of each row; NaN before its first such point)."""
    n = values.shape[0]
    last = np.maximum.accumulate(np.where(has, np.arange(n), -1)) if n else np.zeros(0, np.int64)
    return np.where(last >= first, values[np.maximum(last, 0)], np.nan)


def _callsigns(traces: list[Scanned], offsets: np.ndarray, first: np.ndarray) -> pa.Array:
    """Each point's callsign: the last ``flight`` of a state object at or before it."""
    n = int(offsets[-1])
    names: dict[str, int] = {}
    code = np.full(n, -1, np.int64)
    for sc, at in zip(traces, offsets[:-1], strict=True):
        for k, name in sc.flights.items():
            code[at + k] = names.setdefault(name, len(names))
    last = np.maximum.accumulate(np.where(code >= 0, np.arange(n), -1)) if n else code
    code = np.where(last >= first, code[np.maximum(last, 0)], -1)
    indices = pa.array(np.maximum(code, 0).astype(np.int32), mask=code < 0)
    dictionary = pa.array(list(names), pa.string())
    named = pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())
    return pc.utf8_rtrim_whitespace(named)


def _ints(values: np.ndarray, dtype: pa.DataType) -> pa.Array:
    ok = ~np.isnan(values) & (values >= 0) & (values < 256)
    return pa.array(np.where(ok, values, 0).astype(np.uint8), dtype, mask=~ok)


def _floats(values: np.ndarray) -> pa.Array:
    return pa.array(values, pa.float64(), mask=np.isnan(values))


def trace_points(raw: bytes) -> Scanned:
    """One trace (gzip-compressed or plain JSON bytes) as columns (the compiled scanner's,
    or orjson's for what it declines). Raises :class:`TraceError` for what is not a trace."""
    try:
        if raw[:2] == GZIP_MAGIC:
            raw = zlib.decompress(raw, 47)  # (gzip header, any window)
    except zlib.error as exc:
        raise TraceError(f"not a readsb trace: {exc}") from None
    return scan(raw) or _from_json(raw)


def reports_of(traces: list[Scanned]) -> pa.Table:
    """The points of ``traces`` as one table of DECODED rows, trace after trace."""
    sizes = np.array([sc.floats.shape[0] for sc in traces], np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    n = int(offsets[-1])
    if n == 0:
        return DECODED.empty_table()
    first = np.repeat(offsets[:-1], sizes)  # (each point's trace's first point)
    f = np.concatenate([sc.floats for sc in traces])
    ground = np.concatenate([sc.ground for sc in traces])
    geometric = (np.concatenate([sc.flags for sc in traces]) & 8) != 0  # (not barometric)
    df = np.concatenate([sc.df for sc in traces]).astype(np.float64)
    state = np.concatenate([sc.state for sc in traces])
    has = np.concatenate([sc.has for sc in traces])
    base = np.repeat(np.array([sc.timestamp for sc in traces]), sizes)
    alt = np.where(ground, np.nan, f[:, F_ALT])
    ms = np.round((base + f[:, F_DT]) * 1e3)
    ok = ~np.isnan(ms)
    names = pa.array([sc.icao.lower().lstrip("~") for sc in traces], pa.string())
    trace_of = pa.array(np.repeat(np.arange(len(traces), dtype=np.int32), sizes))
    columns = {
        "time": pa.array(np.where(ok, ms, 0).astype(np.int64) * 1_000_000, pa.int64(), mask=~ok)
        .cast(TIME_TYPE),
        "df": _ints(np.where(df > 0, df, np.nan), pa.uint8()),
        "icao": pa.DictionaryArray.from_arrays(trace_of, names).cast(pa.string()),
        "crc_ok": pa.array(np.ones(n, np.bool_)),
        "tc": pa.array(np.where(ground, _TC_SURFACE, _TC_AIRBORNE).astype(np.uint8)),
        "callsign": _callsigns(traces, offsets, first),
        "latitude": _floats(f[:, F_LAT]),
        "longitude": _floats(f[:, F_LON]),
        "altitude_baro_ft": _floats(np.where(geometric, np.nan, alt)),
        "altitude_gnss_ft": _floats(np.where(geometric, alt, f[:, F_GEOM])),
        "groundspeed_kt": _floats(f[:, F_GS]),
        "track_deg": _floats(f[:, F_TRACK]),
        "vertical_rate_fpm": _floats(f[:, F_VRATE]),
    }  # fmt: skip
    for slot, name in enumerate(STATE_FIELDS.values()):
        columns[name] = _ints(_carry(state[:, slot], has[:, slot], first), pa.uint8())
    arrays = [
        columns[f.name].cast(f.type) if f.name in columns else pa.nulls(n, f.type)
        for f in DECODED
    ]
    return pa.Table.from_arrays(arrays, schema=DECODED)


def trace_reports(raw: bytes) -> pa.Table:
    """The points of one trace (gzip-compressed or plain JSON bytes) as DECODED rows, in the
    trace's order (time order). Raises :class:`TraceError` for what is not a trace."""
    return reports_of([trace_points(raw)])


_TRACE_COLUMNS = (
    "latitude", "longitude", "altitude_baro_ft", "altitude_gnss_ft", "groundspeed_kt",
    "track_deg", "vertical_rate_fpm", "tc", "df", "nic", "nacp", "sil", "version", "callsign",
)  # fmt: skip
_KINDS = {17: "adsb_icao", 18: "adsb_icao_nt"}


def _round(value: float | None, digits: int) -> float | int | None:
    """As readsb prints it: positions to 6 decimals, speeds to 1, altitudes whole."""
    if value is None:
        return None
    return round(value) if digits == 0 else round(value, digits)


def _trace_doc(icao: str, t: np.ndarray, cols: dict[str, list[Any]], every: int) -> bytes:
    """One aircraft's trace (its rows ``cols`` at times ``t``, ns) as readsb writes it."""
    base = int(t[0]) / 1e9
    points, last = [], None
    for k in range(t.shape[0]):
        state = {"nic": cols["nic"][k], "nac_p": cols["nacp"][k], "sil": cols["sil"][k],
                 "version": cols["version"][k], "flight": cols["callsign"][k]}  # fmt: skip
        state = {key: v for key, v in state.items() if v is not None}
        shown = state if state and (state != last or k % every == 0) else None
        last = state
        tc = cols["tc"][k]
        stale = k > 0 and int(t[k] - t[k - 1]) > 20 * 10**9
        ground = tc is not None and 5 <= tc <= 8
        alt = "ground" if ground else _round(cols["altitude_baro_ft"][k], 0)
        points.append([
            round(int(t[k]) / 1e9 - base, 3), _round(cols["latitude"][k], 6),
            _round(cols["longitude"][k], 6), alt, _round(cols["groundspeed_kt"][k], 1),
            _round(cols["track_deg"][k], 1), int(stale), _round(cols["vertical_rate_fpm"][k], 0),
            shown, _KINDS.get(cols["df"][k]), _round(cols["altitude_gnss_ft"][k], 0),
            None, None, None,
        ])  # fmt: skip
    doc = {"icao": icao, "timestamp": round(base, 3), "trace": points}
    return gzip.compress(orjson.dumps(doc), 1, mtime=0)


def traces_of(reports: pa.Table, state_every: int = 4) -> dict[str, bytes]:
    """Decoded reports as readsb would write their traces: per aircraft, its positions in
    time order (one point each, ``flags`` 1 after 20 s without one), a state object with
    ``nic``, ``nac_p``, ``sil``, ``version`` and ``flight`` when one of them changed and on
    every ``state_every``-th point; gzip-compressed JSON, by ICAO address. For test archives
    and for measuring what the map loses to traces (it keeps only what a trace keeps)."""
    table = reports.filter(pc.and_(pc.is_valid(reports["latitude"]), pc.is_valid(reports["time"])))
    table = table.sort_by([("icao", "ascending"), ("time", "ascending")])
    icao = table.column("icao").to_pylist()
    t = np.asarray(pc.cast(table.column("time"), pa.int64()))
    cols = {c: table.column(c).to_pylist() for c in _TRACE_COLUMNS}
    cuts = [0] + [k for k in range(1, len(icao)) if icao[k] != icao[k - 1]] + [len(icao)]
    out: dict[str, bytes] = {}
    for a, b in itertools.pairwise(cuts):
        rows = {c: v[a:b] for c, v in cols.items()}
        out[icao[a]] = _trace_doc(icao[a], t[a:b], rows, state_every)
    return out


__all__ = ["STATE_FIELDS", "TraceError", "reports_of", "trace_points", "trace_reports", "traces_of"]
