"""Per-aircraft tracks from decoded reports: the common input of every detector.

:func:`prepare` takes any table with the decoded column names (frames decoded by
:func:`jamwatch.decode`, or positions read by :mod:`jamwatch.io.positions`), or those reports
converted once (:class:`jamwatch.reports.ReportBatch` with its motion), and returns the
rows sorted by aircraft then time, with the aircraft's latest velocity, altitudes and
position carried forward (each with its own age limit). Rows without an address or a time,
and DF18 TIS-B / ADS-R rows (control field >= 2: not the aircraft's own GNSS) are left out;
``row`` keeps the index of every kept row in the input table, so results map back.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from jamwatch.reports import Motion, ReportBatch

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]
I16 = npt.NDArray[np.int16]

NS = 1_000_000_000
KT = 1852.0 / 3600.0  # m/s per knot
FT = 0.3048


@dataclass(frozen=True, slots=True)
class Tracks:
    """Reports sorted by (aircraft, time), with carried-forward state.

    ``code`` indexes ``icaos``; ``start[k]:start[k+1]`` are the rows of aircraft ``k``.
    ``latitude``/``longitude`` are the report's own position (NaN when it has none);
    ``last_latitude``/``last_longitude``/``last_time`` the aircraft's latest position up to
    this row (NaN / -1 when none yet). ``groundspeed_kt``, ``track_deg``, ``altitude_ft``
    (barometric) and ``gnss_baro_ft`` (GNSS height minus baro) are the latest values within
    ``carry_s`` (NaN when older or never seen). ``nic`` and ``nacp`` are -1 when unknown;
    ``tc`` is -1 for sources without a type code.
    """

    row: I64
    code: I64
    icaos: list[str]
    start: I64
    time: I64
    latitude: F64
    longitude: F64
    last_latitude: F64
    last_longitude: F64
    last_time: I64
    groundspeed_kt: F64
    track_deg: F64
    altitude_ft: F64
    gnss_baro_ft: F64
    nic: I16
    nacp: I16
    tc: I16
    #: the number of rows of the input (``row`` indexes them)
    size_in: int

    @property
    def size(self) -> int:
        """Number of rows."""
        return int(self.row.shape[0])

    @property
    def has_position(self) -> B:
        """Rows that carry a position of their own."""
        return np.asarray(~np.isnan(self.latitude) & ~np.isnan(self.longitude))

    @property
    def surface(self) -> B:
        """Surface position reports (type code 5-8): their NIC comes from the type code,
        not from the receiver, so they say nothing about interference (the gpsjam method
        counts airborne aircraft only)."""
        return np.asarray((self.tc >= 5) & (self.tc <= 8))

    def codes_of(self, names: list[str]) -> I64:
        """The codes of the aircraft ``names`` (lower-case addresses, as events list them)
        that have tracks here, ascending."""
        code = {name: k for k, name in enumerate(self.icaos)}
        return np.array(sorted(code[n] for n in names if n in code), np.int64)


#: the fields of :class:`Tracks` that are not per row
_WHOLE = ("icaos", "start", "size_in")


def of_aircraft(tr: Tracks, aircraft: I64) -> Tracks:
    """The tracks of some aircraft (codes, ascending), every row of each, with the codes, the
    addresses and the order as they are (per-aircraft results over them are those over all)."""
    lo, hi = tr.start[aircraft], tr.start[aircraft + 1]
    counts = hi - lo
    rows = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
    take = {f.name: getattr(tr, f.name)[rows] for f in fields(Tracks) if f.name not in _WHOLE}
    code = take["code"]
    start = np.searchsorted(code, np.arange(len(tr.icaos) + 1)).astype(np.int64)
    return Tracks(**take, icaos=tr.icaos, start=start, size_in=tr.size_in)


def aircraft_codes(batch: ReportBatch) -> tuple[I64, list[str]]:
    """Per row an aircraft code (-1 for a null address) and the addresses by code: one
    aircraft per address in lower case, numbered in the order they first appear."""
    lower: dict[str, int] = {}
    merged = [lower.setdefault(str(name).lower(), len(lower)) for name in batch.names.to_pylist()]
    m = np.append(np.array(merged, np.int64), -1)[batch.code]  # code -1 takes the last entry
    known = m >= 0
    seen, first = np.unique(m[known], return_index=True)
    order = np.argsort(first, kind="stable")
    rank = np.full(len(lower), -1, np.int64)
    rank[seen[order]] = np.arange(seen.shape[0])
    by_code = list(lower)
    names = [by_code[int(k)] for k in seen[order]]
    return np.where(known, rank[np.maximum(m, 0)], -1), names


def report_batch(reports: pa.Table | ReportBatch) -> ReportBatch:
    """The detectors' reports: a decoded table converted once with :class:`Motion`, or a
    batch that has it (ValueError otherwise)."""
    if isinstance(reports, ReportBatch):
        if reports.motion is None:
            raise ValueError("the detectors need the reports' motion (ReportBatch.from_table("
                             "table, motion=True))")  # fmt: skip
        return reports
    return ReportBatch.from_table(reports, motion=True)


@nb.njit(cache=True, nogil=True)
def _carry(
    code: I64,
    t: I64,
    lat: F64,
    lon: F64,
    gs: F64,
    trk: F64,
    alt: F64,
    gdiff: F64,
    carry_ns: int,
    out_gs: F64,
    out_trk: F64,
    out_alt: F64,
    out_gdiff: F64,
    out_lat: F64,
    out_lon: F64,
    out_t: I64,
) -> None:
    n = code.shape[0]
    prev = -1
    v_t = a_t = g_t = p_t = np.int64(-1)
    v_gs = v_trk = a_v = g_v = p_lat = p_lon = np.nan
    for i in range(n):
        if code[i] != prev:
            prev = code[i]
            v_t = a_t = g_t = p_t = np.int64(-1)
        now = t[i]
        if not np.isnan(gs[i]):
            v_gs = gs[i]
            v_trk = trk[i]
            v_t = now
        if not np.isnan(alt[i]):
            a_v = alt[i]
            a_t = now
        if not np.isnan(gdiff[i]):
            g_v = gdiff[i]
            g_t = now
        if not (np.isnan(lat[i]) or np.isnan(lon[i])):
            p_lat = lat[i]
            p_lon = lon[i]
            p_t = now
        ok = v_t >= 0 and now - v_t <= carry_ns
        out_gs[i] = v_gs if ok else np.nan
        out_trk[i] = v_trk if ok else np.nan
        out_alt[i] = a_v if a_t >= 0 and now - a_t <= carry_ns else np.nan
        out_gdiff[i] = g_v if g_t >= 0 and now - g_t <= carry_ns else np.nan
        out_lat[i] = p_lat if p_t >= 0 else np.nan
        out_lon[i] = p_lon if p_t >= 0 else np.nan
        out_t[i] = p_t


#: a time window [start, end) in ns; None for no bound on that side
Window = tuple[int | None, int | None]


def in_window(t: npt.NDArray[np.int64], window: Window) -> npt.NDArray[np.bool_]:
    """Which times ``t`` (ns) lie inside ``window``."""
    lo, hi = window
    out = np.ones(t.shape[0], np.bool_)
    if lo is not None:
        out &= t >= lo
    if hi is not None:
        out &= t < hi
    return out


def prepare(
    reports: pa.Table | ReportBatch | Tracks, carry_s: float = 60.0, *, consume: bool = False
) -> Tracks:
    """Sort decoded reports by aircraft and time and carry state forward (see
    :class:`Tracks`); tracks given are returned as they are. ``consume``: the batch given is
    emptied column by column as its rows are sorted in (its memory is freed as the tracks'
    grows; the batch is of no use afterwards)."""
    if isinstance(reports, Tracks):
        return reports
    batch = report_batch(reports)
    motion = batch.motion
    assert motion is not None
    size_in = len(batch)
    code_all, names = aircraft_codes(batch)
    keep = (code_all >= 0) & batch.t_ok & ~((batch.df == 18) & (motion.ca >= 2))
    rows = np.flatnonzero(keep).astype(np.int64)
    del keep
    order = np.lexsort((batch.t[rows], code_all[rows]))
    rows = rows[order]
    del order
    code = code_all[rows]
    del code_all

    def take(source: ReportBatch | Motion, name: str) -> Any:
        values = getattr(source, name)[rows]
        if consume:
            setattr(source, name, values[:0])
        return values

    if consume:
        for name in ("code", "t_ok", "df", "alt_known", "ground"):
            setattr(batch, name, getattr(batch, name)[:0])
        motion.ca = motion.ca[:0]
    t = take(batch, "t")
    lat, lon = take(batch, "lat"), take(batch, "lon")
    alt = take(motion, "alt_baro")
    gdiff = take(motion, "gnss_baro_diff")
    miss = np.flatnonzero(np.isnan(gdiff))
    gdiff[miss] = motion.alt_gnss[rows[miss]] - alt[miss]
    if consume:
        motion.alt_gnss = motion.alt_gnss[:0]
    gs, trk = take(batch, "gs"), take(motion, "track")
    nic, nacp, tc = take(batch, "nic"), take(batch, "nacp"), take(batch, "tc")
    n = rows.shape[0]
    last_lat, last_lon, last_t = np.empty(n), np.empty(n), np.empty(n, np.int64)
    # (carried in place: each report's own value is read before its carried one is written)
    _carry(
        code, t, lat, lon, gs, trk, alt, gdiff,
        int(carry_s * NS), gs, trk, alt, gdiff, last_lat, last_lon, last_t,
    )  # fmt: skip
    start = np.searchsorted(code, np.arange(len(names) + 1)).astype(np.int64)
    return Tracks(
        row=rows,
        code=code,
        icaos=names,
        start=start,
        time=t,
        latitude=lat,
        longitude=lon,
        last_latitude=last_lat,
        last_longitude=last_lon,
        last_time=last_t,
        groundspeed_kt=gs,
        track_deg=trk,
        altitude_ft=alt,
        gnss_baro_ft=gdiff,
        nic=nic,
        nacp=nacp,
        tc=tc,
        size_in=size_in,
    )
