"""Where is the jammer: maximum likelihood over candidate sites from who lost GNSS, and where.

Observations (one per aircraft and ``bin_s`` during an event, within ``search_km`` of it):
class 2 *lost* (NIC 0, NACp 0, or positions stopped while velocity continues), class 1
*degraded* (NIC 1-6), class 0 *nominal* (NIC >= 7). An aircraft whose positions stopped is
placed at its last position moved on by its reported velocity (up to ``dead_reckon_s``).

Model, for a candidate site at height ``h`` (a few heights are tried): the jamming power at
the aircraft falls with free-space loss ``20 log10(slant range)`` and vanishes beyond the
radio horizon of a 4/3 earth, ``4.12 (sqrt(h) + sqrt(altitude))`` km (as in
:mod:`jamwatch.simulate.radio`). With ``L`` the loss term, the classes follow an ordered
logistic model::

    P(class >= 1) = sigmoid((c - L) / s)       P(class = 2) = sigmoid((c - band - L) / s)

where ``c`` (which absorbs the unknown EIRP and the receivers' J/S thresholds) and ``band``
are fitted for every candidate, and ``s`` is fixed. The site is found by a coarse-to-fine
grid search of the profile log-likelihood (10 km, then 1 km, then 0.2 km). The 95 %
confidence region is the set of grid sites whose log-likelihood is within 3.0 (chi-square,
2 degrees of freedom, 5.99 / 2) of the best; its radius is the farthest such site plus the
grid step. Once a source is found, affected observations it does not explain (outside its
fitted degraded zone) are fitted again for a second source when there are enough of them.

Limits: the model knows nothing of terrain, antenna patterns or aircraft attitude; the
radius is a statement about this model and is too small when the model is wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from jamwatch.detect.tracks import FT, KT, NS, local_xy, prepare, to_latlon

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

SOURCES = pa.schema(
    [
        pa.field("event", pa.int64()),
        pa.field("latitude", pa.float64()),
        pa.field("longitude", pa.float64()),
        pa.field("radius_95_km", pa.float64()),
        pa.field("height_m", pa.float64()),
        pa.field("observations", pa.int64()),
    ]
)


@dataclass(frozen=True, slots=True)
class LocalizeConfig:
    """Parameters of the maximum-likelihood localizer (see the module documentation)."""

    bin_s: float = 10.0
    search_km: float = 300.0
    dead_reckon_s: float = 300.0
    max_observations: int = 1000
    slope_db: float = 1.5
    heights_m: tuple[float, ...] = (50.0,)
    bands_db: tuple[float, ...] = (8.0,)
    coarse_km: float = 10.0
    second_min_observations: int = 30
    delta_ll: float = 3.0


@dataclass(frozen=True, slots=True)
class Observations:
    """Observation arrays of one event (local metres around ``lat0``, ``lon0``)."""

    x: F64
    y: F64
    alt_m: F64
    cls: I64
    lat0: float
    lon0: float


@nb.njit(cache=True, nogil=True)
def _ll_site(
    x: F64, y: F64, alt: F64, cls: I64, cx: float, cy: float, h: float, s: float,
    bands: F64, loss: F64,
) -> tuple[float, float, float]:  # fmt: skip
    """Best log-likelihood over (c, band) at one site and height: (ll, c, band)."""
    n = x.shape[0]
    lo, hi = 1e9, -1e9
    for i in range(n):
        g = math.sqrt((x[i] - cx) ** 2 + (y[i] - cy) ** 2)
        horizon = 4120.0 * (math.sqrt(max(h, 0.0)) + math.sqrt(max(alt[i], 0.0)))
        if g > horizon:
            loss[i] = 1e9
        else:
            slant = math.sqrt(g * g + (alt[i] - h) ** 2)
            loss[i] = 20.0 * math.log10(max(slant, 1.0))
            lo = min(lo, loss[i])
            hi = max(hi, loss[i])
    best, best_c, best_b = -1e300, 0.0, 0.0
    if hi < lo:
        return best, best_c, best_b
    for band in bands:
        a, b = lo - 2 * s, hi + band + 2 * s
        for _ in range(25):  # golden-section search on c (unimodal in practice)
            m1 = b - 0.618 * (b - a)
            m2 = a + 0.618 * (b - a)
            if _ll(loss, cls, m1, band, s) < _ll(loss, cls, m2, band, s):
                a = m1
            else:
                b = m2
        c = 0.5 * (a + b)
        v = _ll(loss, cls, c, band, s)
        if v > best:
            best, best_c, best_b = v, c, band
    return best, best_c, best_b


@nb.njit(cache=True, nogil=True)
def _ll(loss: F64, cls: I64, c: float, band: float, s: float) -> float:
    total = 0.0
    for i in range(loss.shape[0]):
        p1 = 1.0 / (1.0 + math.exp(-(c - loss[i]) / s)) if loss[i] < 1e8 else 0.0
        p2 = 1.0 / (1.0 + math.exp(-(c - band - loss[i]) / s)) if loss[i] < 1e8 else 0.0
        p = 1.0 - p1 if cls[i] == 0 else (p1 - p2 if cls[i] == 1 else p2)
        total += math.log(max(p, 1e-9))
    return total


@nb.njit(cache=True, nogil=True)
def _grid(
    x: F64, y: F64, alt: F64, cls: I64, gx: F64, gy: F64, heights: F64, s: float, bands: F64,
    out: F64,
) -> None:  # fmt: skip
    """Profile log-likelihood at every grid site: columns ll, c, band, height."""
    loss = np.empty(x.shape[0])
    for k in range(gx.shape[0]):
        out[k, 0] = -1e300
        for h in heights:
            v, c, b = _ll_site(x, y, alt, cls, gx[k], gy[k], h, s, bands, loss)
            if v > out[k, 0]:
                out[k, 0], out[k, 1], out[k, 2], out[k, 3] = v, c, b, h


def observations(
    table: pa.Table, start_ns: int, end_ns: int, lat0: float, lon0: float,
    config: LocalizeConfig | None = None,
) -> Observations:  # fmt: skip
    """Observations of the classes of the module documentation around (lat0, lon0)."""
    c = config or LocalizeConfig()
    tr = prepare(table)
    t = tr.time
    in_time = (t >= start_ns) & (t <= end_ns)
    has = tr.has_position
    age = (t - tr.last_time) / NS
    lost_pos = ~has & ((tr.tc == 19) | ((tr.tc >= 1) & (tr.tc <= 4)))
    lost_pos &= (tr.last_time >= 0) & (age > 30.0) & (age <= c.dead_reckon_s)
    lost_pos &= ~np.isnan(tr.groundspeed_kt)
    nic, nacp = tr.nic, tr.nacp
    cls = np.full(tr.size, -1, np.int64)
    cls[has & ((nic >= 7) | ((nic < 0) & (nacp >= 7)))] = 0
    cls[has & (nic >= 1) & (nic < 7)] = 1
    cls[has & ((nic == 0) | (nacp == 0))] = 2
    cls[lost_pos] = 2
    lat = np.where(has, tr.latitude, tr.last_latitude)
    lon = np.where(has, tr.longitude, tr.last_longitude)
    x, y = local_xy(lat, lon, lat0, lon0)
    dr = np.where(lost_pos, age, 0.0) * np.nan_to_num(tr.groundspeed_kt) * KT
    trk = np.radians(np.nan_to_num(tr.track_deg))
    x = x + dr * np.sin(trk)
    y = y + dr * np.cos(trk)
    alt = tr.altitude_ft * FT
    ok = in_time & (cls >= 0) & ~np.isnan(alt) & (np.hypot(x, y) <= c.search_km * 1000.0)
    idx = np.flatnonzero(ok)
    # one observation per aircraft and bin: the worst class
    key = tr.code[idx] * (1 << 40) + t[idx] // int(c.bin_s * NS)
    order = np.lexsort((-cls[idx], key))
    first = np.ones(order.shape[0], np.bool_)
    first[1:] = key[order][1:] != key[order][:-1]
    idx = idx[order[first]]
    if idx.shape[0] > c.max_observations:
        idx = idx[np.linspace(0, idx.shape[0] - 1, c.max_observations).astype(np.int64)]
    return Observations(x[idx], y[idx], np.maximum(alt[idx], 0.0), cls[idx], lat0, lon0)


def _search(
    ob: Observations, center: tuple[float, float], half_km: float, c: LocalizeConfig
) -> tuple[F64, F64, float]:
    """Coarse-to-fine grid search: the best site (x, y, ll, c, band, h) and the 95 % radius."""
    heights = np.asarray(c.heights_m, np.float64)
    bands = np.asarray(c.bands_db, np.float64)
    cx, cy = center
    step = c.coarse_km * 1000.0
    half = half_km * 1000.0
    best = np.zeros(6)
    radius = step
    for level in range(3):
        ax = np.arange(-half, half + 1.0, step)
        mx, my = np.meshgrid(cx + ax, cy + ax)
        gx, gy = mx.ravel(), my.ravel()
        out = np.empty((gx.shape[0], 4))
        _grid(ob.x, ob.y, ob.alt_m, ob.cls, gx, gy, heights, c.slope_db, bands, out)
        k = int(np.argmax(out[:, 0]))
        best = np.array([gx[k], gy[k], *out[k]])
        near = out[:, 0] >= out[k, 0] - c.delta_ll
        radius = float(np.max(np.hypot(gx[near] - gx[k], gy[near] - gy[k]))) + step
        cx, cy = float(gx[k]), float(gy[k])
        if level == 0:
            half, step = 12_000.0, 1000.0
        else:
            half, step = max(2_000.0, min(radius, 12_000.0)), step / 5.0
    return best, np.array([cx, cy]), radius


def _affected_zone(ob: Observations, best: F64, slope: float) -> npt.NDArray[np.bool_]:
    """Observations the fitted source explains as degraded or lost (P(class >= 1) > 0.5)."""
    g = np.hypot(ob.x - best[0], ob.y - best[1])
    h = best[5]
    horizon = 4120.0 * (np.sqrt(max(h, 0.0)) + np.sqrt(ob.alt_m))
    loss = 20.0 * np.log10(np.maximum(np.hypot(g, ob.alt_m - h), 1.0))
    return np.asarray((g <= horizon) & (loss <= best[3] + 2 * slope))


def localize(ob: Observations, config: LocalizeConfig | None = None) -> list[dict[str, float]]:
    """Sources (latitude, longitude, radius_95_km, height_m, observations) for one event."""
    c = config or LocalizeConfig()
    affected = ob.cls >= 1
    if affected.sum() < 3 or (~affected).sum() < 3:
        return []
    out = []
    center = (float(np.mean(ob.x[ob.cls == 2 if (ob.cls == 2).any() else affected])),
              float(np.mean(ob.y[ob.cls == 2 if (ob.cls == 2).any() else affected])))  # fmt: skip
    best, _, radius = _search(ob, center, c.search_km * 0.5, c)
    out.append((best, radius, ob.x.shape[0]))
    zone = _affected_zone(ob, best, c.slope_db)
    rest = ~zone
    if (affected & rest).sum() >= c.second_min_observations:
        sub = Observations(ob.x[rest], ob.y[rest], ob.alt_m[rest], ob.cls[rest], ob.lat0, ob.lon0)
        sel = sub.cls >= 1
        center2 = (float(np.mean(sub.x[sel])), float(np.mean(sub.y[sel])))
        best2, _, radius2 = _search(sub, center2, c.search_km * 0.5, c)
        if (_affected_zone(sub, best2, c.slope_db) & sel).sum() >= c.second_min_observations:
            out.append((best2, radius2, sub.x.shape[0]))
    result = []
    for b, r, n in out:
        lat, lon = to_latlon(np.array([b[0]]), np.array([b[1]]), ob.lat0, ob.lon0)
        result.append(
            {
                "latitude": float(lat[0]),
                "longitude": float(lon[0]),
                "radius_95_km": round(r / 1000.0, 3),
                "height_m": float(b[5]),
                "observations": int(n),
            }
        )
    return result


class LikelihoodLocalizer:
    """The maximum-likelihood grid localizer (``name = "likelihood"``)."""

    name = "likelihood"

    def __init__(self, config: LocalizeConfig | None = None) -> None:
        self.config = config or LocalizeConfig()

    def locate(self, table: pa.Table, events: pa.Table) -> pa.Table:
        """Sources (:data:`SOURCES`) of every event of ``events`` from the reports in ``table``."""
        return locate_sources(table, events, self.config)


def locate_sources(
    table: pa.Table, events: pa.Table, config: LocalizeConfig | None = None
) -> pa.Table:
    """One or two sources per jamming event (:data:`SOURCES`; none when unobservable)."""
    rows = []
    starts = events.column("start").cast(pa.int64()).to_pylist()
    ends = events.column("end").cast(pa.int64()).to_pylist()
    lats = events.column("latitude").to_pylist()
    lons = events.column("longitude").to_pylist()
    for k in range(events.num_rows):  # per event
        ob = observations(table, starts[k], ends[k], lats[k], lons[k], config)
        for src in localize(ob, config):
            rows.append({"event": k, **src})
    return pa.Table.from_pylist(rows, schema=SOURCES)


__all__ = [
    "SOURCES",
    "LikelihoodLocalizer",
    "LocalizeConfig",
    "Observations",
    "localize",
    "locate_sources",
    "observations",
]
