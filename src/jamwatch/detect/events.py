"""Jamming events: degraded reports grouped in space and time.

1. Every report gets the integrity signals of :mod:`jamwatch.signals` (NIC < 7, position lost
   while velocity and identification continue, the gpsjam counter, faulty avionics).
2. A report is *degraded* when its NIC is below 7, its NACp at most ``max_nacp``, or the
   aircraft's position is lost (while it is heard: a reception gap is not a loss); aircraft
   with faulty avionics (always NIC 0 / NACp 0 while aircraft near them report nominal
   integrity: :func:`faulty_among_nominal`) are left out. It is placed at its own position,
   or at the aircraft's last one.
3. Degraded reports become one point per aircraft and ``bin_s`` (the first report of the
   bin). Points closer than ``link_km`` in space and ``gap_s`` in time are linked; each
   connected group with at least ``min_aircraft`` distinct aircraft is an event. ``gap_s``
   is 30 minutes: over a jammed region that lasts for hours (the Baltic's lasts for days) the
   aircraft are affected one after the other with quiet spells between them, and the
   pattern is one event, not one per spell (the localizer cuts an event where transmitters
   switch).
4. An event has its onset (first degraded report), end (last), affected aircraft, area (the
   convex hull of its points, a GeoJSON polygon, padded by ``pad_km``) and peak share: the
   largest share, over its ``bin_s`` bins, of aircraft degraded among those reporting inside
   the area.

:mod:`jamwatch.detect.stream` runs the whole detection on a stream of batches. Sources
without integrity fields (NIC, NACp) give no event.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from jamwatch.detect.tracks import NS, Window, aircraft_codes, in_window, report_batch
from jamwatch.geo import convex_hull, local_xy, to_latlon
from jamwatch.reports import ReportBatch
from jamwatch.schema import TIME_TYPE
from jamwatch.signals import IntegrityConfig, IntegrityState
from jamwatch.signals.integrity import signal_arrays

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

JAMMING_EVENTS = pa.schema(
    [
        pa.field("start", TIME_TYPE),
        pa.field("end", TIME_TYPE),
        pa.field("aircraft", pa.list_(pa.string())),
        pa.field("affected_aircraft", pa.int64()),
        pa.field("peak_share", pa.float64()),
        pa.field("latitude", pa.float64()),
        pa.field("longitude", pa.float64()),
        pa.field("area", pa.string()),
    ]
)


@dataclass(frozen=True, slots=True)
class EventConfig:
    """Parameters of the grouping (see the module documentation)."""

    max_nacp: int = 4
    bin_s: float = 60.0
    link_km: float = 150.0
    gap_s: float = 1800.0
    min_aircraft: int = 2
    min_points: int = 3
    pad_km: float = 10.0
    #: faulty avionics: a nominal aircraft within this distance and time of an always-zero
    #: one, and not more than ``fault_below_ft`` below it (a lower aircraft may be beyond the
    #: transmitter's horizon), in at least half of its minutes (see faulty_among_nominal)
    fault_near_km: float = 80.0
    fault_near_s: float = 300.0
    fault_below_ft: float = 6000.0
    integrity: IntegrityConfig = field(default_factory=IntegrityConfig)


def degraded_points(reports: pa.Table | ReportBatch, config: EventConfig) -> dict[str, Any]:
    """Per report (a decoded table, or its :class:`ReportBatch` with motion): degraded flag,
    location, aircraft code and time (NumPy)."""
    rows = report_batch(reports)
    motion = rows.motion
    assert motion is not None
    state = IntegrityState()
    sig = signal_arrays(rows, config.integrity, state)
    code, names = aircraft_codes(rows)
    t, nic, nacp = rows.t, rows.nic, rows.nacp
    lost = sig.lost & sig.valid
    # always NIC 0 or NACp 0, over any span: faulty only beside nominal aircraft (below)
    fault = state.fault_mask(config.integrity, span=False)[np.maximum(sig.code, 0)]
    fault &= sig.code >= 0
    lat = np.where(np.isnan(rows.lat), sig.lat_last, rows.lat)
    lon = np.where(np.isnan(rows.lon), sig.lon_last, rows.lon)
    bad = ((nic >= 0) & (nic < config.integrity.nic_degraded_below)) | lost
    bad |= (nacp >= 0) & (nacp <= config.max_nacp)
    valid = (code >= 0) & ~np.isnan(lat) & ~((rows.df == 18) & (motion.ca >= 2)) & rows.t_ok
    nominal = valid & (nic >= 7) & (nacp >= 8) & ~fault
    fault &= faulty_among_nominal(
        code, t, (lat, lon, motion.alt_baro), fault & valid, nominal, config
    )
    valid &= ~fault
    return {
        "bad": bad & valid,
        "valid": valid,
        "code": code,
        "names": names,
        "time": t,
        "lat": lat,
        "lon": lon,
    }


def faulty_among_nominal(
    code: I64, t: I64, where: tuple[F64, F64, F64], suspect: npt.NDArray[np.bool_],
    nominal: npt.NDArray[np.bool_], config: EventConfig,
) -> npt.NDArray[np.bool_]:  # fmt: skip
    """Per row, whether its aircraft's always-zero integrity is a fault: only when, in at
    least half of its minutes, an aircraft near it (``fault_near_km``, ``fault_near_s``, not
    more than ``fault_below_ft`` lower; ``where`` is latitude, longitude and barometric
    altitude per row) reported nominal integrity. Inside a jammed region every aircraft looks
    always NIC 0, and an aircraft that flew only there (or alone) is jammed, not faulty."""
    lat, lon, alt = where
    out = np.zeros(code.shape[0], np.bool_)
    rows = np.flatnonzero(suspect)
    if rows.shape[0] == 0:
        return out
    bin_ns = int(config.bin_s * NS)
    near_ns = int(config.fault_near_s * NS)
    # one sample per aircraft-minute, a row with an altitude where the minute has one
    key = code[rows] * (1 << 40) + t[rows] // bin_ns
    order = np.lexsort((np.isnan(alt[rows]), key))
    _, first = np.unique(key[order], return_index=True)
    rows = rows[order]
    samples = rows[first]
    nom = np.flatnonzero(nominal)
    nom = nom[np.argsort(t[nom], kind="stable")]
    lat0, lon0 = float(np.median(lat[samples])), float(np.median(lon[samples]))
    sx, sy = local_xy(lat[samples], lon[samples], lat0, lon0)
    nx, ny = local_xy(lat[nom], lon[nom], lat0, lon0)
    lo = np.searchsorted(t[nom], t[samples] - near_ns, "left")
    hi = np.searchsorted(t[nom], t[samples] + near_ns, "right")
    reach = (config.fault_near_km * 1000.0) ** 2
    floor = alt[samples] - config.fault_below_ft  # NaN (unknown) compares as not lower
    seen = np.zeros(samples.shape[0], np.bool_)
    for k in range(samples.shape[0]):  # per aircraft-minute of a suspect aircraft
        a, b = lo[k], hi[k]
        near = (nx[a:b] - sx[k]) ** 2 + (ny[a:b] - sy[k]) ** 2 <= reach
        seen[k] = bool(np.any(near & ~(alt[nom[a:b]] < floor[k])))
    ac = code[samples]
    size = int(code.max()) + 1
    hits = np.bincount(ac, weights=seen.astype(np.float64), minlength=size)
    share = hits / np.maximum(np.bincount(ac, minlength=size), 1)
    return np.asarray(suspect & (share[np.maximum(code, 0)] >= 0.5), np.bool_)


@nb.njit(cache=True, nogil=True)
def _link(t: I64, x: F64, y: F64, gap_ns: int, link_m: float) -> I64:
    """Connected components of points within ``gap_ns`` and ``link_m`` (t sorted)."""
    n = t.shape[0]
    parent = np.arange(n)
    j0 = 0
    for i in range(n):
        while t[j0] < t[i] - gap_ns:
            j0 += 1
        for j in range(j0, i):
            if (x[i] - x[j]) ** 2 + (y[i] - y[j]) ** 2 <= link_m * link_m:
                a, b = i, j
                while parent[a] != a:
                    a = parent[a]
                while parent[b] != b:
                    b = parent[b]
                if a != b:
                    parent[max(a, b)] = min(a, b)
    for i in range(n):
        r = i
        while parent[r] != r:
            r = parent[r]
        parent[i] = r
    return parent


def _area(x: F64, y: F64, lat0: float, lon0: float, pad_m: float) -> tuple[str, F64, F64]:
    """GeoJSON polygon of the padded hull, and the padded hull in local metres."""
    hx, hy = convex_hull(x, y)
    ang = np.linspace(0, 2 * math.pi, 16, endpoint=False)
    px = (hx[:, None] + pad_m * np.cos(ang)[None, :]).ravel()
    py = (hy[:, None] + pad_m * np.sin(ang)[None, :]).ravel()
    hx, hy = convex_hull(px, py)
    la, lo = to_latlon(hx, hy, lat0, lon0)
    ring = [[round(float(a), 5), round(float(b), 5)] for a, b in zip(lo, la, strict=True)]
    ring.append(ring[0])
    return json.dumps({"type": "Polygon", "coordinates": [ring]}), hx, hy


def _inside(px: F64, py: F64, hx: F64, hy: F64) -> npt.NDArray[np.bool_]:
    """Points inside a counter-clockwise convex polygon."""
    inside = np.ones(px.shape[0], np.bool_)
    m = hx.shape[0]
    if m < 3:
        return np.zeros(px.shape[0], np.bool_)
    for k in range(m):  # polygon edges
        x1, y1, x2, y2 = hx[k], hy[k], hx[(k + 1) % m], hy[(k + 1) % m]
        inside &= (x2 - x1) * (py - y1) - (y2 - y1) * (px - x1) >= 0
    return inside


def detect_jamming(
    reports: pa.Table | ReportBatch, config: EventConfig | None = None,
    window: Window | None = None,
) -> pa.Table:  # fmt: skip
    """Jamming events (:data:`JAMMING_EVENTS`) in decoded reports (a table, or its
    :class:`ReportBatch` with motion). With a ``window`` (:data:`Window`), only the degraded
    reports inside it make events: the others are context (each aircraft's history, the
    nominal aircraft around)."""
    c = config or EventConfig()
    if len(reports) == 0:
        return JAMMING_EVENTS.empty_table()
    p = degraded_points(reports, c)
    if window is not None:
        p["bad"] &= in_window(p["time"], window)
    return _events(p, c)


def _events(p: dict[str, Any], c: EventConfig) -> pa.Table:
    bad = np.flatnonzero(p["bad"])
    if bad.shape[0] == 0:
        return JAMMING_EVENTS.empty_table()
    bin_ns = int(c.bin_s * NS)
    t, code = p["time"][bad], p["code"][bad]
    key = code * (1 << 40) + t // bin_ns
    order = np.lexsort((t, key))
    first = np.ones(order.shape[0], np.bool_)
    first[1:] = key[order][1:] != key[order][:-1]
    pts = bad[order[first]]
    pts = pts[np.argsort(p["time"][pts], kind="stable")]
    lat0 = float(np.median(p["lat"][pts]))
    lon0 = float(np.median(p["lon"][pts]))
    x, y = local_xy(p["lat"][pts], p["lon"][pts], lat0, lon0)
    comp = _link(p["time"][pts], x, y, int(c.gap_s * NS), c.link_km * 1000.0)
    valid = np.flatnonzero(p["valid"])
    vx, vy = local_xy(p["lat"][valid], p["lon"][valid], lat0, lon0)
    rows = []
    for root in np.unique(comp):  # per candidate event
        m = comp == root
        ac = np.unique(p["code"][pts[m]])
        if ac.shape[0] < c.min_aircraft or m.sum() < c.min_points:
            continue
        members = bad[np.isin(code, ac)]
        tm = p["time"][pts[m]]
        in_span = p["time"][members]
        members = members[(in_span >= tm.min()) & (in_span <= tm.max() + bin_ns)]
        area, hx, hy = _area(x[m], y[m], lat0, lon0, c.pad_km * 1000.0)
        start, end = int(p["time"][members].min()), int(p["time"][members].max())
        span = (p["time"][valid] >= start) & (p["time"][valid] <= end)
        sel = np.flatnonzero(span)
        inside = sel[_inside(vx[sel], vy[sel], hx, hy)]
        share = _peak_share(p, valid[inside], bin_ns)
        clat, clon = to_latlon(np.array([x[m].mean()]), np.array([y[m].mean()]), lat0, lon0)
        rows.append(
            {
                "start": start,
                "end": end,
                "aircraft": sorted(p["names"][i] for i in ac),
                "affected_aircraft": int(ac.shape[0]),
                "peak_share": share,
                "latitude": float(clat[0]),
                "longitude": float(clon[0]),
                "area": area,
            }
        )
    if not rows:
        return JAMMING_EVENTS.empty_table()
    out = pa.Table.from_pylist(
        rows,
        schema=JAMMING_EVENTS.set(0, pa.field("start", pa.int64())).set(
            1, pa.field("end", pa.int64())
        ),
    )
    out = out.set_column(0, "start", out.column("start").cast(TIME_TYPE))
    out = out.set_column(1, "end", out.column("end").cast(TIME_TYPE))
    return out.sort_by("start")


def _peak_share(p: dict[str, Any], rows: I64, bin_ns: int) -> float:
    """Largest share over bins of aircraft degraded among those reporting in the area."""
    if rows.shape[0] == 0:
        return 0.0
    b = p["time"][rows] // bin_ns
    key = p["code"][rows] * (1 << 40) + b
    uniq, inv = np.unique(key, return_inverse=True)
    bad = np.zeros(uniq.shape[0], np.bool_)
    np.logical_or.at(bad, inv, p["bad"][rows])
    bins = uniq % (1 << 40)
    _, binv = np.unique(bins, return_inverse=True)
    seen = np.bincount(binv)
    hit = np.bincount(binv, weights=bad)
    return float(np.max(hit / seen))


class ClusterEvents:
    """The space-time grouping detector (``name = "cluster"``)."""

    name = "cluster"

    def __init__(self, config: EventConfig | None = None) -> None:
        self.config = config or EventConfig()

    def detect(self, reports: ReportBatch, window: Window | None = None) -> pa.Table:
        """Jamming events of the reports (made of the degraded ones inside ``window``)."""
        return detect_jamming(reports, self.config, window)


__all__ = [
    "JAMMING_EVENTS",
    "ClusterEvents",
    "EventConfig",
    "degraded_points",
    "detect_jamming",
]
