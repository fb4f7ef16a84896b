"""Is a located source physically possible? A check every reported source must pass.

The localizer's model can be wrong (avionics, antennas and receivers vary far more than any
model of them); radio physics cannot. A source at (``latitude``, ``longitude``) explains
the aircraft that lost their GNSS during its time span only if

1. **it can see them**: every aircraft that lost lock (a position with NIC 0, NACp 0-2, or
   position messages replaced by ones without a position; not a surface position, type
   code 5-8, whose NIC the type code sets and which the gpsjam method, counting airborne
   aircraft only, leaves out too) lies inside the radio horizon of
   a transmitter at most ``max_height_m`` high, ``4.12 (sqrt(h_tx) + sqrt(h_rx))`` km on a
   4/3 earth (all but ``outside_share`` of them: a few reports are placed where the aircraft
   was last seen; a loss without a position of its own, and so without an altitude, takes
   the aircraft's last position and altitude of at most ``last_seen_s`` before);
2. **it spares the others less than them**: an aircraft that kept nominal integrity (NIC 7
   or more, NACp 8 or more) at the same time (``within_s``) and at the same or a higher
   altitude sees the transmitter at least as well, so it must not be much nearer to it than
   an aircraft that lost lock: nearer by more than ``margin_db`` in free-space loss (a
   receiver tolerates some dB more than another, an antenna on top of the fuselage is
   shielded from a transmitter below) *contradicts* that loss. At most
   ``contradicted_share`` of the losses may be contradicted.

The smallest transmitter height that passes 1 is used for 2 (a higher one sees more nominal
aircraft). Samples: one report per aircraft and ``sample_s``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from jamwatch.detect.tracks import NS, Tracks
from jamwatch.geo import distance_m

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
FT = 0.3048


@dataclass(frozen=True, slots=True)
class PhysicsConfig:
    """Limits of the check (see the module documentation); none was fitted to a data set."""

    max_height_m: float = 500.0
    heights_m: tuple[float, ...] = (10.0, 30.0, 100.0, 300.0, 500.0)
    outside_share: float = 0.05
    within_s: float = 60.0
    same_altitude_ft: float = 1000.0
    margin_db: float = 6.0
    contradicted_share: float = 0.25
    sample_s: float = 30.0
    last_seen_s: float = 300.0


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of :func:`check_source` (shares over the sampled losses)."""

    ok: bool
    reason: str
    losses: int
    outside_share: float
    contradicted_share: float
    height_m: float | None


def horizon_m(h_tx_m: float | F64, h_rx_m: float | F64) -> F64:
    """Radio line of sight on a 4/3 earth, metres."""
    return np.asarray(
        4120.0 * (np.sqrt(np.maximum(h_tx_m, 0.0)) + np.sqrt(np.maximum(h_rx_m, 0.0))),
        np.float64,
    )


def _samples(tr: Tracks, rows: I64, sample_ns: int) -> I64:
    """One row per aircraft and sample window (the first)."""
    key = tr.code[rows] * (1 << 40) + tr.time[rows] // sample_ns
    _, first = np.unique(key, return_index=True)
    return np.asarray(rows[np.sort(first)], np.int64)


def split_reports(
    tr: Tracks, start_ns: int, end_ns: int, c: PhysicsConfig, aircraft: I64 | None = None,
    degraded: bool = False,
) -> tuple[I64, I64]:  # fmt: skip
    """Sampled rows of lost and of nominal reports in [start, end] (placed at a position);
    with ``aircraft`` (codes), the losses of those aircraft only; with ``degraded``, a
    position with NIC 1-6 counts as a loss too."""
    t = tr.time
    span = (t >= start_ns) & (t <= end_ns)
    own = ~np.isnan(tr.latitude)
    recent = ~np.isnan(tr.last_latitude) & (t - tr.last_time <= int(c.last_seen_s * NS))
    airborne = span & ~tr.surface
    lost = airborne & (
        (own & (tr.nic == 0))
        | ((tr.nacp >= 0) & (tr.nacp <= 2) & (own | recent))
        | ((tr.tc == 0) & ~own & recent)
    )
    if degraded:
        lost |= airborne & own & (tr.nic >= 1) & (tr.nic < 7)
    nominal = span & own & (tr.nic >= 7) & (tr.nacp >= 8) & ~lost
    if aircraft is not None:
        lost &= np.isin(tr.code, aircraft)
    sample_ns = int(c.sample_s * NS)
    return _samples(tr, np.flatnonzero(lost), sample_ns), _samples(
        tr, np.flatnonzero(nominal), sample_ns
    )


def _altitude_ft(tr: Tracks, rows: I64, last_seen_ns: int) -> F64:
    """Barometric altitude of ``rows``; where a row has none (position messages stopped, so
    the altitude they carry too), the aircraft's latest one at most ``last_seen_ns`` before
    it, as its position is placed (NaN when none)."""
    known = np.flatnonzero(~np.isnan(tr.altitude_ft))
    k = np.searchsorted(known, rows, "right") - 1
    prev = known[np.maximum(k, 0)] if known.shape[0] else rows
    ok = (k >= 0) & (tr.code[prev] == tr.code[rows])
    ok &= tr.time[rows] - tr.time[prev] <= last_seen_ns
    return np.where(ok, tr.altitude_ft[prev], np.nan)


def _near_losses(
    tr: Tracks, lat: float, lon: float, start_ns: int, end_ns: int, c: PhysicsConfig,
    others: tuple[tuple[float, float], ...], aircraft: I64 | None, degraded: bool,
) -> tuple[I64, F64, F64, F64, F64, I64]:  # fmt: skip
    """The sampled losses of [start, end] nearer to (lat, lon) than to ``others``: rows,
    positions (their own or the last), distances to it (m), altitudes (m); and the sampled
    nominal rows."""
    lost, nominal = split_reports(tr, start_ns, end_ns, c, aircraft, degraded)
    la = np.where(np.isnan(tr.latitude[lost]), tr.last_latitude[lost], tr.latitude[lost])
    lo = np.where(np.isnan(tr.longitude[lost]), tr.last_longitude[lost], tr.longitude[lost])
    d = distance_m(la, lo, np.full(la.shape, lat), np.full(la.shape, lon))
    mine = np.ones(lost.shape[0], np.bool_)
    for olat, olon in others:
        mine &= d <= distance_m(la, lo, np.full(la.shape, olat), np.full(la.shape, olon))
    lost, la, lo, d = lost[mine], la[mine], lo[mine], d[mine]
    alt = np.nan_to_num(_altitude_ft(tr, lost, int(c.last_seen_s * NS)), nan=0.0) * FT
    return lost, la, lo, d, alt, nominal


def _lowest_height(d: F64, alt: F64, c: PhysicsConfig) -> float | None:
    """The lowest mast of ``heights_m`` that sees all but ``outside_share`` of the losses."""
    for h in c.heights_m:
        if h <= c.max_height_m and np.mean(d > horizon_m(h, alt)) <= c.outside_share:
            return h
    return None


def check_source(
    tr: Tracks, lat: float, lon: float, start_ns: int, end_ns: int,
    config: PhysicsConfig | None = None, others: tuple[tuple[float, float], ...] = (),
    aircraft: I64 | None = None, degraded: bool = False,
) -> Verdict:  # fmt: skip
    """Whether a source at (lat, lon) can explain the losses of [start, end] (module docs).

    With ``others`` (the other sources of the same time), a source answers for the losses
    nearer to it than to any of them; with ``aircraft`` (codes), for those aircraft's losses
    only (every nominal aircraft still counts against them); with ``degraded``, positions
    with NIC 1-6 count as losses (a transmitter that degrades an aircraft sees it too).
    """
    c = config or PhysicsConfig()
    lost, _, _, d, alt, nominal = _near_losses(
        tr, lat, lon, start_ns, end_ns, c, others, aircraft, degraded
    )
    if lost.shape[0] == 0:
        return Verdict(False, "no aircraft lost lock near it", 0, 0.0, 0.0, None)
    height = _lowest_height(d, alt, c)
    outside = float(np.mean(d > horizon_m(c.max_height_m, alt)))
    if height is None:
        return Verdict(
            False, f"{outside:.0%} of the losses beyond its radio horizon at "
            f"{c.max_height_m:.0f} m", lost.shape[0], outside, 0.0, None,
        )  # fmt: skip
    contradicted = _contradicted(tr, lost, d, alt, nominal, lat, lon, height, c)
    share = float(np.mean(contradicted))
    if share > c.contradicted_share:
        return Verdict(
            False, f"{share:.0%} of the losses have a nominal aircraft much nearer to it",
            lost.shape[0], outside, share, height,
        )  # fmt: skip
    return Verdict(True, "", lost.shape[0], outside, share, height)


def unexplained(
    tr: Tracks, lat: float, lon: float, start_ns: int, end_ns: int,
    config: PhysicsConfig | None = None, others: tuple[tuple[float, float], ...] = (),
    aircraft: I64 | None = None,
) -> tuple[F64, F64]:  # fmt: skip
    """Positions (latitude, longitude) of the sampled losses of [start, end] (of
    ``aircraft`` only, if given) that a source at (lat, lon) cannot explain (as
    :func:`check_source` counts them): beyond the horizon of the highest mast, or, inside it,
    with a nominal aircraft much nearer to it."""
    c = config or PhysicsConfig()
    lost, la, lo, d, alt, nominal = _near_losses(
        tr, lat, lon, start_ns, end_ns, c, others, aircraft, False
    )
    if lost.shape[0] == 0:
        return la, lo
    bad = d > horizon_m(c.max_height_m, alt)
    height = _lowest_height(d, alt, c) or c.max_height_m
    bad |= _contradicted(tr, lost, d, alt, nominal, lat, lon, height, c)
    return la[bad], lo[bad]


def _contradicted(
    tr: Tracks, lost: I64, d_lost: F64, alt_lost: F64, nominal: I64, lat: float, lon: float,
    height: float, c: PhysicsConfig,
) -> npt.NDArray[np.bool_]:  # fmt: skip
    """Per sampled loss: a nominal aircraft within ``within_s``, at the same or a higher
    altitude, inside the horizon and more than ``margin_db`` nearer in free-space loss."""
    out = np.zeros(lost.shape[0], np.bool_)
    if nominal.shape[0] == 0:
        return out
    order = np.argsort(tr.time[nominal], kind="stable")
    nominal = nominal[order]
    tn = tr.time[nominal]
    an = np.nan_to_num(tr.altitude_ft[nominal], nan=-1e9) * FT
    dn = distance_m(
        tr.latitude[nominal], tr.longitude[nominal],
        np.full(nominal.shape, lat), np.full(nominal.shape, lon),
    )  # fmt: skip
    seen = dn <= horizon_m(height, an)
    slant_n = np.hypot(dn, an - height)
    ratio = 10.0 ** (c.margin_db / 20.0)
    w = int(c.within_s * NS)
    lo_i = np.searchsorted(tn, tr.time[lost] - w, "left")
    hi_i = np.searchsorted(tn, tr.time[lost] + w, "right")
    slant_l = np.hypot(d_lost, alt_lost - height)
    same = c.same_altitude_ft * FT
    for k in range(lost.shape[0]):  # per sampled loss, over the nominal ones of its minute
        a, b = lo_i[k], hi_i[k]
        if a == b:
            continue
        near = seen[a:b] & (an[a:b] >= alt_lost[k] - same)
        near &= tr.code[nominal[a:b]] != tr.code[lost[k]]
        out[k] = bool(np.any(near & (slant_n[a:b] * ratio < slant_l[k])))
    return out


__all__ = ["PhysicsConfig", "Verdict", "check_source", "horizon_m", "split_reports"]
