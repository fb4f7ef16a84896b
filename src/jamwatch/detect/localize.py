"""Where is the jammer: maximum likelihood of what every aircraft reported about its GNSS.

Physics the model uses (the same as :mod:`jamwatch.simulate.radio`, with its constants
unknown): the jamming-to-signal ratio at an aircraft is ``J/S = K - u`` with
``u = 20 log10(slant range)`` (free-space loss) and ``K`` (EIRP, antenna gains, signal level)
unknown; beyond the radio horizon of a 4/3 earth, ``4.12 (sqrt(h_tx) + sqrt(h_rx))`` km,
there is no jamming at all. A receiver loses lock above a J/S threshold and, in a band below
it, reports an integrity that falls with J/S. In loss terms, with ``c`` (threshold and
``K`` together) and ``B`` (the width of the band) unknown::

    u <= c              lock lost: positions stop, or come with NIC 0
    c < u < c + B       degraded: NIC / NIC_0 about (u - c) / B
    u >= c + B          nominal: the aircraft's own NIC_0

``NIC_0`` is the aircraft's nominal NIC (its largest in the input). Every report in the event
window is an *interval* of ``q = (u - c) / B``: NIC k of NIC_0 says ``k / NIC_0 <= q <
(k + 1) / NIC_0``; the nominal NIC says ``q >= 1``; NIC 0 says ``q < 1 / NIC_0``; velocity
while positions stopped (for ``lost_after_s``; placed by dead reckoning from the last
position) says ``q <= 0``. The likelihood of a report is the probability that the predicted
loss falls in its interval under logistic noise of scale ``sigma_db``, mixed with a small
``outlier`` probability; reports beyond the radio horizon are certainly nominal. So the
nominal reports bound the source from outside, the lost and degraded ones from inside, and
the graded NIC levels measure the loss itself (a range ratio between reports).

Fit: one observation per aircraft and ``bin_s`` (weight ``1 / sqrt`` of the aircraft's count)
and one at every change of level between consecutive reports (a boundary: weight 1; left out
near the event's start and end and when shared with other aircraft within ``switch_s``: a
transmitter switching). Per candidate site and transmitter height the nuisance parameters
``c`` and ``B`` are profiled out (least squares of the loss on the degraded levels, then
golden-section searches of the likelihood); the site is searched on a coarse grid, then finer
grids around the best candidates, then the height. The 95 % radius is the farthest grid site
whose profile log-likelihood is within ``delta_ll`` = 3.0 of the best (chi-square, 2 degrees
of freedom, 5.99 / 2).

Several transmitters: an event is cut in time where at least ``switch_aircraft`` aircraft
change level within ``switch_s`` (a transmitter switching on or off); a source is fitted in
each piece; the pieces are taken best explained first, and each later piece is fitted on the
observations the sources accepted so far leave unexplained (outside their degraded zone).
Sources closer than their 95 % radii (or ``merge_km``) are merged.

Limits: no terrain, antenna patterns or aircraft attitude; the altitude is barometric; the
integrity of a degraded receiver is taken as linear in J/S (dB) over the band; two sources
switching together are seen as one; the boundaries of one aircraft are taken as
independent, so the radius is too small with few aircraft; the radius is a statement about this
model and is too small when the model is wrong.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from jamwatch.detect.tracks import (
    EARTH_RADIUS_M,
    FT,
    KT,
    NS,
    Tracks,
    from_stereo,
    prepare,
    stereo_xy,
)

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

BIG = 1e6  # an open end of a q interval
FAR = 1e9  # the loss of a report beyond the radio horizon


@dataclass(frozen=True, slots=True)
class LocalizeConfig:
    """Parameters of the localizer (see the module documentation)."""

    bin_s: float = 10.0
    search_km: float = 250.0
    dead_reckon_s: float = 300.0
    lost_after_s: float = 10.0
    max_observations: int = 800
    coarse_observations: int = 400
    sigma_db: float = 0.1
    band_db: float = 10.0
    band_sd_db: float = 2.0
    outlier: float = 1e-3
    heights_m: tuple[float, ...] = (10.0, 30.0, 100.0, 300.0)
    coarse_km: float = 10.0
    delta_ll: float = 3.0
    min_affected: int = 3
    transition_gap_s: float = 3.0
    transition_weight: float = 1.0
    candidates: int = 4
    finals: int = 3
    coarse_sigma_db: float = 1.0
    mid_sigma_db: float = 0.3
    switch_s: float = 3.0
    switch_aircraft: int = 3
    min_piece_s: float = 120.0
    merge_km: float = 10.0
    min_aircraft: int = 3


@dataclass(frozen=True, slots=True)
class Observations:
    """Observation arrays of one event (local metres around ``lat0``, ``lon0``).

    ``lo``/``hi``: the interval of NIC levels each observation states (``-BIG`` when open
    below; a level k reads ``k, k + 1``; a boundary between levels ``a, b``); ``top``: a
    report at the aircraft's largest NIC ``nic0`` (nominal, or one level below a nominal
    ``nic0 + 1``: the likelihood takes the better of the two per aircraft); ``code``: the
    aircraft (observations sorted by it); ``time``: ns; ``weight``.
    """

    x: F64
    y: F64
    alt_m: F64
    lo: F64
    hi: F64
    top: F64
    nic0: F64
    code: I64
    time: I64
    weight: F64
    lat0: float
    lon0: float
    switches: I64 = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def affected(self) -> npt.NDArray[np.bool_]:
        """Observations that say the aircraft was degraded or lost lock."""
        return np.asarray((self.top == 0.0) & (self.hi <= self.nic0))

    def take(self, idx: npt.NDArray[np.int64] | npt.NDArray[np.bool_]) -> Observations:
        """A subset (in the same order)."""
        return Observations(
            self.x[idx], self.y[idx], self.alt_m[idx], self.lo[idx], self.hi[idx],
            self.top[idx], self.nic0[idx], self.code[idx], self.time[idx], self.weight[idx],
            self.lat0, self.lon0,
        )  # fmt: skip


# ---------------------------------------------------------------- compiled likelihood


@nb.njit(cache=True, nogil=True, inline="always")
def _sig(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@nb.njit(cache=True, nogil=True)
def _losses(x: F64, y: F64, alt: F64, sx: F64, sy: F64, sh: F64, out: F64) -> None:
    """Free-space loss term of every observation; with several sources, the loss that gives
    the summed power (``-10 log10 sum 10^(-u_k / 10)``); FAR beyond every horizon."""
    for i in range(x.shape[0]):
        a = max(alt[i], 0.0)
        total = 0.0
        for k in range(sx.shape[0]):
            g2 = (x[i] - sx[k]) ** 2 + (y[i] - sy[k]) ** 2
            horizon = 4120.0 * (math.sqrt(max(sh[k], 0.0)) + math.sqrt(a))
            if g2 <= horizon * horizon:
                slant2 = max(g2 + (a - sh[k]) ** 2, 1.0)
                total += 1.0 / slant2  # 10^(-u/10) with u = 10 log10(slant^2)
        out[i] = -10.0 * math.log10(total) if total > 0.0 else FAR


@nb.njit(cache=True, nogil=True, inline="always")
def _p(u: float, lo: float, hi: float, c: float, b: float, s: float) -> float:
    """Probability that the loss ``u`` (plus logistic noise) lies in ``[c + b lo, c + b hi]``
    (``lo``, ``hi`` as fractions of the nominal level; a zero-width interval is a boundary)."""
    if u >= FAR:  # beyond the horizon: nominal (a boundary to nominal: the horizon itself)
        return 1.0 if hi >= BIG or (hi - lo < 1e-9 and hi >= 1.0 - 1e-9) else 0.0
    pad = s if hi - lo < 1e-9 else 0.0
    ph = 1.0 if hi >= BIG else _sig((c + b * hi + pad - u) / s)
    pl = 0.0 if lo <= -BIG else _sig((c + b * lo - pad - u) / s)
    return ph - pl


@nb.njit(cache=True, nogil=True)
def _ll(
    u: F64, lo: F64, hi: F64, top: F64, n0: F64, code: I64, w: F64, c: float, b: float,
    s: float, eps: float,
) -> float:  # fmt: skip
    """Log-likelihood; per aircraft the better of a nominal NIC of ``n0`` and ``n0 + 1``."""
    total = 0.0
    ga = gb = 0.0
    for i in range(u.shape[0]):
        if i > 0 and code[i] != code[i - 1]:
            total += max(ga, gb)
            ga = gb = 0.0
        low = lo[i] / n0[i] if lo[i] > -BIG else -BIG
        pa_ = _p(u[i], low, BIG if top[i] != 0.0 else hi[i] / n0[i], c, b, s)
        m = n0[i] + 1.0
        pb_ = _p(u[i], lo[i] / m if lo[i] > -BIG else -BIG, hi[i] / m, c, b, s)
        ga += w[i] * math.log(eps + (1.0 - 2.0 * eps) * max(pa_, 0.0))
        gb += w[i] * math.log(eps + (1.0 - 2.0 * eps) * max(pb_, 0.0))
    return total + max(ga, gb)


ObsArrays = tuple[F64, F64, F64, F64, I64, F64]  # lo, hi, top, nic0, code, weight


Model = tuple[float, float, float, float]  # noise (dB), outlier, band prior: mean, sd (dB)


@nb.njit(cache=True, nogil=True)
def _llo(u: F64, o: ObsArrays, c: float, b: float, m: Model) -> float:
    """Log-likelihood plus the log prior of the band width (normal, mean ``m[2]``, sd ``m[3]``)."""
    prior = -0.5 * ((b - m[2]) / m[3]) ** 2 if m[3] > 0.0 else 0.0
    return _ll(u, o[0], o[1], o[2], o[3], o[4], o[5], c, b, m[0], m[1]) + prior


@nb.njit(cache=True, nogil=True)
def _golden(
    u: F64, o: ObsArrays, a: float, z: float, other: float, on_c: bool, n: int, m: Model
) -> float:  # fmt: skip
    """Golden-section maximum over ``c`` (``on_c``, ``other`` = B) or over B (``other`` = c)."""
    for _ in range(n):
        m1 = z - 0.618 * (z - a)
        m2 = a + 0.618 * (z - a)
        if on_c:
            v1, v2 = _llo(u, o, m1, other, m), _llo(u, o, m2, other, m)
        else:
            v1, v2 = _llo(u, o, other, m1, m), _llo(u, o, other, m2, m)
        if v1 < v2:
            a = m1
        else:
            z = m2
    return 0.5 * (a + z)


@nb.njit(cache=True, nogil=True)
def _profile(u: F64, o: ObsArrays, m: Model, full: bool) -> tuple[float, float, float]:
    """Best (log-likelihood, c, B) for the losses ``u`` of one candidate source: B and c from
    least squares of the loss on the degraded levels, then golden-section searches."""
    lo, hi, top, n0, w = o[0], o[1], o[2], o[3], o[5]
    sw = sx = sy = sxx = sxy = 0.0
    umin, umax = 1e300, -1e300
    for i in range(u.shape[0]):
        if u[i] >= FAR:
            continue
        umin = min(umin, u[i])
        umax = max(umax, u[i])
        if lo[i] > -BIG and top[i] == 0.0 and hi[i] <= n0[i]:  # a graded level or boundary
            q = 0.5 * (lo[i] + hi[i]) / n0[i]
            wi = w[i] * (4.0 if hi[i] - lo[i] < 1e-9 else 1.0)
            sw += wi
            sx += wi * q
            sy += wi * u[i]
            sxx += wi * q * q
            sxy += wi * q * u[i]
    if umax < umin:
        return -1e300, 0.0, m[2]
    b = m[2]
    fitted = False
    if sw > 0.0:
        var = sxx / sw - (sx / sw) ** 2
        if var > 1e-3:
            slope = (sxy / sw - sx * sy / sw / sw) / var
            if 2.0 <= slope <= 40.0:
                b = slope
                fitted = True
        c0 = sy / sw - b * sx / sw
        c = _golden(u, o, c0 - 4.0, c0 + 4.0, b, True, 9 if full else 6, m)
    else:
        c = _golden(u, o, umin - 2.0 * b, umax + 2.0, b, True, 14, m)
    if fitted and full:
        b = _golden(u, o, 0.7 * b, 1.4 * b, c, False, 10, m)
        c = _golden(u, o, c - 2.0, c + 2.0, b, True, 10, m)
        b = _golden(u, o, 0.9 * b, 1.1 * b, c, False, 8, m)
        c = _golden(u, o, c - 0.5, c + 0.5, b, True, 8, m)
    return _llo(u, o, c, b, m), c, b


@nb.njit(cache=True, nogil=True, parallel=True)
def _grid(
    x: F64, y: F64, alt: F64, o: ObsArrays, gx: F64, gy: F64, heights: F64,
    fx: F64, fy: F64, fh: F64, m: Model, full: bool, out: F64,
) -> None:  # fmt: skip
    """Profile log-likelihood of a new source at every grid site and height, with the fixed
    sources ``fx``, ``fy``, ``fh`` (same power) beside it: columns ll, c, B, height."""
    nf = fx.shape[0]
    for k in nb.prange(gx.shape[0]):
        u = np.empty(x.shape[0])
        sx = np.empty(nf + 1)
        sy = np.empty(nf + 1)
        sh = np.empty(nf + 1)
        sx[:nf] = fx
        sy[:nf] = fy
        sh[:nf] = fh
        out[k, 0] = -1e300
        sx[nf] = gx[k]
        sy[nf] = gy[k]
        for h in heights:
            sh[nf] = h
            _losses(x, y, alt, sx, sy, sh, u)
            v, c, b = _profile(u, o, m, full)
            if v > out[k, 0]:
                out[k, 0], out[k, 1], out[k, 2], out[k, 3] = v, c, b, h


# ---------------------------------------------------------------- observations


@nb.njit(cache=True, nogil=True)
def _transitions(
    code: I64, t: I64, x: F64, y: F64, alt: F64, lo: F64, hi: F64, max_gap_ns: int,
    max_width: F64,
) -> tuple[I64, F64, F64, F64, F64, F64]:  # fmt: skip
    """Where consecutive level reports of one aircraft (within ``max_gap_ns``) state
    disjoint intervals, the source's loss crossed the boundary between them: an observation
    midway, whose interval is the gap between the two (at most ``max_width`` wide, so a
    transmitter switching on under an aircraft is not read as a boundary)."""
    n = code.shape[0]
    rows = np.empty(n, np.int64)
    ox = np.empty(n)
    oy = np.empty(n)
    oa = np.empty(n)
    olo = np.empty(n)
    ohi = np.empty(n)
    m = 0
    for i in range(1, n):
        j = i - 1
        if code[i] != code[j] or t[i] - t[j] > max_gap_ns:
            continue
        if hi[i] <= lo[j]:
            a, b = hi[i], lo[j]
        elif hi[j] <= lo[i]:
            a, b = hi[j], lo[i]
        else:
            continue
        if b - a > max_width[i]:
            continue
        rows[m] = i
        ox[m] = 0.5 * (x[i] + x[j])
        oy[m] = 0.5 * (y[i] + y[j])
        oa[m] = 0.5 * (alt[i] + alt[j])
        olo[m] = a
        ohi[m] = b
        m += 1
    return rows[:m], ox[:m], oy[:m], oa[:m], olo[:m], ohi[:m]


def _spatial(
    t: I64, code: I64, start_ns: int, end_ns: int, c: LocalizeConfig
) -> npt.NDArray[np.bool_]:
    """Transitions that an aircraft's motion made, not a transmitter switching on or off:
    away from the event's start and end, and not shared (within ``switch_s``) with another
    aircraft."""
    guard = int(c.switch_s * NS)
    keep = (t > start_ns + guard) & (t < end_ns - guard)
    order = np.argsort(t, kind="stable")
    ts, cs = t[order], code[order]
    lo = np.searchsorted(ts, ts - guard, side="left")
    hi = np.searchsorted(ts, ts + guard, side="right")
    shared = np.zeros(ts.shape[0], np.bool_)
    for i in np.flatnonzero(hi - lo > 1):  # the few crowded moments only
        shared[i] = bool(np.any(cs[lo[i] : hi[i]] != cs[i]))
    out = np.zeros(t.shape[0], np.bool_)
    out[order] = ~shared
    return np.asarray(keep & out)


def _switches(t: I64, code: I64, start_ns: int, end_ns: int, c: LocalizeConfig) -> I64:
    """Moments inside the event when at least ``switch_aircraft`` aircraft changed their
    level within ``switch_s`` of each other: a transmitter switching on or off."""
    if t.shape[0] == 0:
        return np.zeros(0, np.int64)
    order = np.argsort(t, kind="stable")
    ts, cs = t[order], code[order]
    guard = int(c.switch_s * NS)
    lo = np.searchsorted(ts, ts - guard, side="left")
    hi = np.searchsorted(ts, ts + guard, side="right")
    crowded = [
        int(ts[i]) for i in np.flatnonzero(hi - lo >= c.switch_aircraft)
        if np.unique(cs[lo[i] : hi[i]]).shape[0] >= c.switch_aircraft
    ]  # fmt: skip
    edge = int(c.min_piece_s * NS)
    out: list[int] = []
    for moment in crowded:  # the few crowded moments, in time order
        if moment <= start_ns + guard or moment >= end_ns - guard:
            continue
        if not out or moment - out[-1] > edge:
            out.append(moment)
    return np.array(out, np.int64)


def observations(
    table: pa.Table | Tracks, start_ns: int, end_ns: int, lat0: float, lon0: float,
    config: LocalizeConfig | None = None,
) -> Observations:  # fmt: skip
    """The observations of the module documentation around (lat0, lon0) in [start, end]:
    one per aircraft and ``bin_s`` (weight ``1 / sqrt`` of the aircraft's count) and one at
    every change of level (weight 1)."""
    c = config or LocalizeConfig()
    tr = table if isinstance(table, Tracks) else prepare(table)
    t = tr.time
    has = tr.has_position
    nic = tr.nic
    # nominal NIC of each aircraft: its largest
    nic0_ac = np.full(len(tr.icaos), -1, np.int64)
    pos_nic = has & (nic >= 0)
    np.maximum.at(nic0_ac, tr.code[pos_nic], nic[pos_nic])
    nic0 = np.maximum(nic0_ac[tr.code], 1).astype(np.float64)
    usable = nic0_ac[tr.code] >= 7  # aircraft with faulty avionics (always NIC 0) say nothing
    age = (t - tr.last_time) / NS
    lost = ~has & ((tr.tc == 19) | ((tr.tc >= 1) & (tr.tc <= 4)))
    lost &= (tr.last_time >= 0) & (age > c.lost_after_s) & (age <= c.dead_reckon_s)
    lost &= ~np.isnan(tr.groundspeed_kt)
    graded = has & (nic >= 0)
    lo = np.full(tr.size, np.nan)
    hi = np.full(tr.size, np.nan)
    k = nic.astype(np.float64)
    lo[graded] = np.where(k[graded] > 0, k[graded], -BIG)
    hi[graded] = k[graded] + 1.0
    # DO-260B: with NIC supplement A = 1 (the aircraft reports NIC 9 or 3) NIC 8 and 2 cannot
    # be sent and are reported as 7 and 1; with A = 0 (NIC 8 or 2 seen) NIC 3 is sent as 2
    a1 = np.zeros(len(tr.icaos), np.bool_)
    a0 = np.zeros(len(tr.icaos), np.bool_)
    a1[tr.code[graded & ((nic == 9) | (nic == 3))]] = True
    a0[tr.code[graded & ((nic == 8) | (nic == 2))]] = True
    # (NIC 9 or 3 can only be decoded with A = 1 known; before the aircraft's first TC31 its
    # NIC 9 reads as 8: such rows say nothing and are left out)
    sup1 = a1[tr.code]
    sup0 = a0[tr.code] & ~sup1
    hi[graded & sup1 & ((nic == 7) | (nic == 1))] += 1.0
    hi[graded & sup0 & (nic == 2)] += 1.0
    unsure = graded & sup1 & ((nic == 8) | (nic == 2))
    lo[unsure] = np.nan
    hi[unsure] = np.nan
    lo[lost] = -BIG
    hi[lost] = 0.0
    top = (graded & (k >= nic0)).astype(np.float64)
    lat = np.where(has, tr.latitude, tr.last_latitude)
    lon = np.where(has, tr.longitude, tr.last_longitude)
    # dead reckoning on the sphere, then the stereographic plane (distances right at any
    # latitude: a 1 % scale error is 0.09 dB of loss, about the width of a NIC boundary)
    dr = np.where(lost, age, 0.0) * np.nan_to_num(tr.groundspeed_kt) * KT / EARTH_RADIUS_M
    trk = np.radians(np.nan_to_num(tr.track_deg))
    lat = lat + np.degrees(dr * np.cos(trk))
    lon = lon + np.degrees(dr * np.sin(trk) / np.cos(np.radians(lat)))
    x, y = stereo_xy(lat, lon, lat0, lon0)
    alt = tr.altitude_ft * FT
    ok = (t >= start_ns) & (t <= end_ns) & usable & ~np.isnan(lo) & ~np.isnan(alt)
    ok &= np.hypot(x, y) <= c.search_km * 1000.0
    idx = np.flatnonzero(ok)
    # one observation per aircraft and bin (rows are sorted by aircraft, then time)
    key = tr.code[idx] * (1 << 40) + t[idx] // int(c.bin_s * NS)
    first = np.ones(idx.shape[0], np.bool_)
    first[1:] = key[1:] != key[:-1]
    binned = idx[first]
    if binned.shape[0] > c.max_observations:
        pick = np.linspace(0, binned.shape[0] - 1, c.max_observations).astype(np.int64)
        binned = binned[pick]
    _, inv, counts = np.unique(tr.code[binned], return_inverse=True, return_counts=True)
    w = 1.0 / np.sqrt(counts[inv])
    # a report at the top level is "k >= nic0" for the transitions
    hi_t = np.where(top == 1.0, BIG, hi)
    rows, tx, ty, ta, tlo, thi = _transitions(
        tr.code[idx], t[idx], x[idx], y[idx], np.maximum(alt[idx], 0.0), lo[idx], hi_t[idx],
        int(c.transition_gap_s * NS), np.full(idx.shape[0], 2.01),
    )  # fmt: skip
    every = _transitions(
        tr.code[idx], t[idx], x[idx], y[idx], np.maximum(alt[idx], 0.0), lo[idx], hi_t[idx],
        int(c.transition_gap_s * NS), np.full(idx.shape[0], 2.0 * BIG),
    )[0]  # fmt: skip
    switches = _switches(t[idx][every], tr.code[idx][every], start_ns, end_ns, c)
    keep = _spatial(t[idx][rows], tr.code[idx][rows], start_ns, end_ns, c)
    at = np.flatnonzero(keep)
    if at.shape[0] > c.max_observations:
        at = at[np.linspace(0, at.shape[0] - 1, c.max_observations).astype(np.int64)]
    rows = rows[at]
    tx, ty, ta, tlo, thi = tx[at], ty[at], ta[at], tlo[at], thi[at]
    code = np.concatenate([tr.code[binned], tr.code[idx][rows]])
    order = np.argsort(code, kind="stable")
    return Observations(
        np.concatenate([x[binned], tx])[order],
        np.concatenate([y[binned], ty])[order],
        np.concatenate([np.maximum(alt[binned], 0.0), ta])[order],
        np.concatenate([lo[binned], tlo])[order],
        np.concatenate([hi[binned], thi])[order],
        np.concatenate([top[binned], np.zeros(rows.shape[0])])[order],
        np.concatenate([nic0[binned], nic0[idx][rows]])[order],
        code[order],
        np.concatenate([t[binned], t[idx][rows]])[order],
        np.concatenate([w, np.full(rows.shape[0], c.transition_weight)])[order],
        lat0,
        lon0,
        switches,
    )


# ---------------------------------------------------------------- search


@dataclass(frozen=True, slots=True)
class Fit:
    """One fitted source: local position (m), height, c, B, log-likelihood, 95 % radius (m)."""

    x: float
    y: float
    h: float
    c: float
    b: float
    ll: float
    radius_m: float


def _run_grid(
    ob: Observations, gx: F64, gy: F64, heights: F64, fixed: tuple[Fit, ...],
    c: LocalizeConfig, full: bool = True, sigma: float = 0.0,
) -> F64:  # fmt: skip
    out = np.empty((gx.shape[0], 4))
    fx = np.array([f.x for f in fixed], np.float64)
    fy = np.array([f.y for f in fixed], np.float64)
    fh = np.array([f.h for f in fixed], np.float64)
    o = (ob.lo, ob.hi, ob.top, ob.nic0, ob.code, ob.weight)
    _grid(
        ob.x, ob.y, ob.alt_m, o, gx, gy, heights, fx, fy, fh,
        (sigma or c.sigma_db, c.outlier, c.band_db, c.band_sd_db), full, out,
    )  # fmt: skip
    return out


def _square(cx: float, cy: float, half: float, step: float) -> tuple[F64, F64]:
    ax = np.arange(-half, half + 1.0, step)
    mx, my = np.meshgrid(cx + ax, cy + ax)
    return np.asarray(mx.ravel()), np.asarray(my.ravel())


def _thin(ob: Observations, n: int) -> Observations:
    """At most ``n`` observations, evenly picked, weights scaled to keep the total."""
    if ob.x.shape[0] <= n:
        return ob
    sel = np.linspace(0, ob.x.shape[0] - 1, n).astype(np.int64)
    sub = ob.take(sel)
    total = float(ob.weight.sum()) / max(float(sub.weight.sum()), 1e-12)
    return Observations(
        sub.x, sub.y, sub.alt_m, sub.lo, sub.hi, sub.top, sub.nic0, sub.code, sub.time,
        sub.weight * total, sub.lat0, sub.lon0,
    )  # fmt: skip


def _distinct(gx: F64, gy: F64, ll: F64, n: int, apart: float) -> list[int]:
    """Indices of the ``n`` best sites at least ``apart`` from each other."""
    starts: list[int] = []
    for j in np.argsort(-ll)[: 50 * n]:
        if all(math.hypot(gx[j] - gx[i], gy[j] - gy[i]) > apart for i in starts):
            starts.append(int(j))
        if len(starts) == n:
            break
    return starts


def fit_source(
    ob: Observations, center: tuple[float, float], config: LocalizeConfig | None = None,
    fixed: tuple[Fit, ...] = (),
) -> Fit:  # fmt: skip
    """The best source (with ``fixed`` sources beside it) by a tempered coarse-to-fine grid
    search: the coarse grid with the noise widened to ``coarse_sigma_db`` (a smooth surface
    whose maxima lie near the sharp one's), finer grids around the best candidates with
    ``mid_sigma_db``, then the heights and the finest grid with ``sigma_db``."""
    c = config or LocalizeConfig()
    heights = np.asarray(c.heights_m, np.float64)
    coarse = _thin(ob, c.coarse_observations)
    step = c.coarse_km * 1000.0
    gx, gy = _square(center[0], center[1], c.search_km * 1000.0 * 0.6, step)
    h_coarse = np.array([float(np.median(heights))])
    out = _run_grid(coarse, gx, gy, h_coarse, fixed, c, full=False, sigma=c.coarse_sigma_db)
    fine = step / 4.0
    mids: list[tuple[float, float, float]] = []
    for j in _distinct(gx, gy, out[:, 0], c.candidates, 2.5 * step):
        fx, fy = _square(float(gx[j]), float(gy[j]), step, fine)
        o1 = _run_grid(ob, fx, fy, h_coarse, fixed, c, full=False, sigma=c.mid_sigma_db)
        for k in _distinct(fx, fy, o1[:, 0], 2, 2.0 * fine):
            mids.append((float(o1[k, 0]), float(fx[k]), float(fy[k])))
    mids.sort(reverse=True)
    best: tuple[float, float, float, float, F64, F64, F64] | None = None
    for _, bx, by in mids[: c.finals]:
        oh = _run_grid(ob, np.array([bx]), np.array([by]), heights, fixed, c, full=True)
        h_best = np.array([oh[0, 3]])
        f2x, f2y = _square(bx, by, fine, fine / 4.0)
        o2 = _run_grid(ob, f2x, f2y, h_best, fixed, c, full=True)
        k = int(np.argmax(o2[:, 0]))
        if best is None or o2[k, 0] > best[0]:
            best = (float(o2[k, 0]), float(f2x[k]), float(f2y[k]), float(oh[0, 3]), f2x, f2y, o2)
    assert best is not None
    _, x, y, h, f2x, f2y, o2 = best
    top = o2[int(np.argmax(o2[:, 0]))]
    near = o2[:, 0] >= top[0] - c.delta_ll
    radius = float(np.hypot(f2x[near] - x, f2y[near] - y).max()) + fine / 8.0
    return Fit(x, y, h, float(top[1]), float(top[2]), float(top[0]), radius)


def _explained(ob: Observations, f: Fit) -> npt.NDArray[np.bool_]:
    """Observations that source ``f`` puts inside its degraded zone (with 1 dB to spare)."""
    u = np.empty(ob.x.shape[0])
    _losses(ob.x, ob.y, ob.alt_m, np.array([f.x]), np.array([f.y]), np.array([f.h]), u)
    return np.asarray(u < f.c + f.b + 1.0)


def localize(ob: Observations, config: LocalizeConfig | None = None) -> list[Fit]:
    """The source fitted to one set of observations (none when too few were affected)."""
    c = config or LocalizeConfig()
    aff = ob.affected
    if aff.sum() < c.min_affected or (~aff).sum() < c.min_affected:
        return []
    center = (float(np.mean(ob.x[aff])), float(np.mean(ob.y[aff])))
    return [fit_source(ob, center, c)]


def locate_event(
    tracks: Tracks, start_ns: int, end_ns: int, lat0: float, lon0: float,
    config: LocalizeConfig | None = None,
) -> list[dict[str, float]]:  # fmt: skip
    """Sources (latitude, longitude, radius_95_km, height_m, observations) of one event: the
    event is cut where transmitters switched, a source is fitted in every piece, and sources
    closer than their 95 % radii (or ``merge_km``) are merged, the best observed kept."""
    c = config or LocalizeConfig()
    whole = observations(tracks, start_ns, end_ns, lat0, lon0, c)
    cuts = [start_ns, *whole.switches.tolist(), end_ns]
    spans = [(a, b) for a, b in itertools.pairwise(cuts) if b - a >= c.min_piece_s * NS]
    if not spans:
        spans = [max(itertools.pairwise(cuts), key=lambda ab: ab[1] - ab[0])]
    pieces = [
        whole if len(cuts) == 2 else observations(tracks, a, b, lat0, lon0, c) for a, b in spans
    ]
    first = [localize(ob, c) for ob in pieces]
    # the best explained pieces first; each later piece is fitted on what the sources
    # accepted so far leave unexplained
    quality = [fs[0].ll / max(float(ob.weight.sum()), 1e-9) if fs else -math.inf
               for fs, ob in zip(first, pieces, strict=True)]  # fmt: skip
    fits: list[tuple[Fit, int]] = []
    for i in np.argsort(quality)[::-1]:
        ob = pieces[i]
        rest = ob
        for f, _ in fits:
            rest = rest.take(~_explained(rest, f))
        if rest.x.shape[0] == ob.x.shape[0]:
            found = first[i]
        else:
            n_ac = np.unique(rest.code[rest.affected]).shape[0]
            found = localize(rest, c) if n_ac >= c.min_aircraft else []
        fits += [(f, int(rest.x.shape[0])) for f in found]
    fits.sort(key=lambda fn: -fn[1])
    kept: list[tuple[Fit, int]] = []
    for f, n in fits:
        near = [
            k for k in kept
            if math.hypot(f.x - k[0].x, f.y - k[0].y)
            <= max(f.radius_m, k[0].radius_m, c.merge_km * 1000.0)
        ]  # fmt: skip
        if not near:
            kept.append((f, n))
    result = []
    for f, n in kept:
        lat, lon = from_stereo(np.array([f.x]), np.array([f.y]), lat0, lon0)
        result.append(
            {
                "latitude": float(lat[0]),
                "longitude": float(lon[0]),
                "radius_95_km": round(f.radius_m / 1000.0, 3),
                "height_m": f.h,
                "observations": n,
            }
        )
    return result


class LikelihoodLocalizer:
    """The maximum-likelihood localizer (``name = "likelihood"``)."""

    name = "likelihood"

    def __init__(self, config: LocalizeConfig | None = None) -> None:
        self.config = config or LocalizeConfig()

    def locate(self, table: pa.Table, events: pa.Table) -> pa.Table:
        """Sources (:data:`SOURCES`) of every event of ``events`` from the reports in ``table``."""
        return locate_sources(table, events, self.config)


def locate_sources(
    table: pa.Table, events: pa.Table, config: LocalizeConfig | None = None
) -> pa.Table:
    """The sources of every jamming event (:data:`SOURCES`; none when unobservable)."""
    rows = []
    if events.num_rows == 0:
        return SOURCES.empty_table()
    tracks = prepare(table)
    starts = events.column("start").cast(pa.int64()).to_pylist()
    ends = events.column("end").cast(pa.int64()).to_pylist()
    lats = events.column("latitude").to_pylist()
    lons = events.column("longitude").to_pylist()
    for k in range(events.num_rows):  # per event
        for src in locate_event(tracks, starts[k], ends[k], lats[k], lons[k], config):
            rows.append({"event": k, **src})
    return pa.Table.from_pylist(rows, schema=SOURCES)


__all__ = [
    "SOURCES",
    "Fit",
    "LikelihoodLocalizer",
    "LocalizeConfig",
    "Observations",
    "fit_source",
    "localize",
    "locate_event",
    "locate_sources",
    "observations",
]
