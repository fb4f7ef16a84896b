"""Observations of the localizer: what every report in an event window says about the loss.

See :mod:`jamwatch.detect.localize` for the model. :func:`observations` turns the reports of
an event into NIC intervals (one per aircraft and ``bin_s``, and one at every change of
level), in the stereographic plane around the event; :func:`switches` finds the moments
when a transmitter switched on or off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from jamwatch.detect.likelihood import (
    BIG,
    LOST,
    SHARED,
    TOP,
    ObsArrays,
    coarse_informative,
    intervals,
)
from jamwatch.detect.tracks import FT, KT, NS, Tracks, of_aircraft, prepare
from jamwatch.geo import EARTH_RADIUS_M, distance_m, stereo_xy

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

# Prior shares of graded, two-level and one-step avionics among an event's aircraft. Chosen on
# the development seeds (1, 2, 5) of the avionics variants; estimating them per event from the
# levels each aircraft shows (``fleet=None``) lowered the 95 % coverage there (0.93 against
# 0.97 over 80 runs) with the same median error.
FLEET = (0.6, 0.2, 0.2)


@dataclass(frozen=True, slots=True)
class LocalizeConfig:
    """Parameters of the localizer (see the module documentation)."""

    bin_s: float = 10.0
    search_km: float = 250.0
    #: how far from the affected reports' centre the coarse grid may grow beyond the search
    #: square (each way, km): a 500 m mast reaches an aircraft at 12 km altitude 543 km away
    reach_km: float = 550.0
    dead_reckon_s: float = 300.0
    lost_after_s: float = 10.0
    heard_gap_s: float = 5.0
    max_observations: int = 800
    coarse_observations: int = 400
    sigma_db: float = 0.1
    band_db: float = 10.0
    band_sd_db: float = 2.0
    outlier: float = 1e-3
    heights_m: tuple[float, ...] = (10.0, 30.0, 100.0, 300.0)
    coarse_km: float = 10.0
    coarse_refine: int = 20
    delta_ll: float = 3.0
    min_affected: int = 3
    #: the radius of a fit where fewer than ``min_affected`` observations are unaffected (no
    #: nominal report bounds the power: :func:`jamwatch.detect.localize.localize`) is
    #: multiplied by this; such fits lay 0.01-4.1 times their radius (before widen) from
    #: the transmitter on development seeds 1, 2 and 5 (strong and wide rows, 10 runs);
    #: checked on seed 6 (all rows, 2 runs)
    all_affected_scale: float = 3.0
    transition_gap_s: float = 3.0
    transition_weight: float = 1.0
    candidates: int = 4
    finals: int = 3
    coarse_sigma_db: float = 0.3
    mid_sigma_db: float = 0.1
    switch_s: float = 3.0
    quiet_s: float = 300.0
    radius_scale: float = 1.6
    band_error: float = 0.25
    #: the radius grows by up to ``graded_error`` more when fewer than ``graded_low`` of the
    #: affected aircraft grade (:func:`jamwatch.detect.sources.widen`; chosen on development
    #: seeds 1, 2 and 5, checked on seed 6)
    graded_low: float = 0.3
    graded_error: float = 1.0
    switch_aircraft: int = 3
    switch_chance: float = 1.0
    min_piece_s: float = 120.0
    activity_s: float = 300.0
    merge_km: float = 10.0
    max_sources: int = 3
    new_source_ll: float = 20.0
    bootstrap: int = 200
    bootstrap_seed: int = 0
    min_aircraft: int = 3
    min_witnesses: int = 5
    #: the nominal NIC taken for an event's aircraft that never reported NIC 7 or more (seen
    #: only while jammed, :func:`observations`' ``jammed``): the largest NIC of 183 of the
    #: Helsinki day's 215 aircraft with positions, and of 80 % of the simulator's fleets (the
    #: likelihood also tries one level more, as for every aircraft)
    unseen_nominal_nic: int = 8
    #: a source the nearer half of whose affected observations lie within this many dB of
    #: free-space loss of it (10th percentile to median) gives a direction, not a site
    #: (:func:`jamwatch.detect.sources.one_range`; chosen on development seeds 6, 2 and 5)
    one_range_db: float = 1.0
    aircraft_gain_ll: float = 10.0
    pool_candidates: int = 3
    fleet: tuple[float, float, float] | None = FLEET
    #: receivers that tolerate more or less than others: in a piece that the likelihood
    #: explains better so (at the site fitted with one threshold shared by all, by more
    #: than ``spread_gate_ll``), each aircraft's receiver tolerates one of ``spread_db``
    #: (offsets from the shared threshold, dB) with the shares ``spread_share``
    #: (:func:`jamwatch.detect.sources.with_spread`, :func:`jamwatch.detect.likelihood.loglik`;
    #: the offsets and shares set once before any run, not fitted; the gate 0 compares the
    #: two models' likelihoods)
    spread_db: tuple[float, ...] = (-4.0, 0.0, 4.0)
    spread_share: tuple[float, ...] = (0.25, 0.5, 0.25)
    spread_gate_ll: float = 0.0
    #: search a source the physical check rules out again as two transmitters on at once
    #: (:func:`jamwatch.detect.sources.two_at_once`); off: on the reporting seed it placed
    #: more wrong sources than right ones (docs/detect.md, "Two at once")
    two_at_once: bool = False
    #: a source alone in its piece whose piece two transmitters on together explain better
    #: gets a radius that holds both (:func:`jamwatch.detect.sources.two_together`; the
    #: pairs start ``together_km`` to either side of it and are refined when they gain
    #: ``together_gate``; chosen on development seeds 1 and 6). Only a source whose 95 %
    #: radius is below ``together_below_km`` is searched: a wider one already says it may be
    #: anywhere the pairs start (the widest 35 km to either side); on development seed 6 (84
    #: runs) the median time per event went 1.83 -> 1.64 s, one radius 631 -> 288 km (covered)
    together: bool = True
    together_km: tuple[float, ...] = (10.0, 20.0, 35.0)
    together_below_km: float = 35.0
    together_gate: float = 5.0
    together_rounds: int = 4


@dataclass(frozen=True, slots=True)
class Observations:
    """Observation arrays of one event (local metres around ``lat0``, ``lon0``).

    ``lo``/``hi``: the interval of NIC levels each observation states (``-BIG`` when open
    below; a level k reads ``k, k + 1``; a boundary between levels ``a, b``); ``top``: a
    report at the aircraft's largest NIC ``nic0`` (nominal, or one level below a nominal
    ``nic0 + 1``: the likelihood takes the better of the two per aircraft; an event's
    aircraft never seen at NIC 7 or more has ``nic0`` = ``unseen_nominal_nic`` and no top);
    ``state_a``, ``state_b``: the report's state for the coarse hypotheses (``TOP``,
    ``LOST`` or the degraded NIC; the states before and after a change of level, equal for a
    report);
    ``level_factor``: log of the share of the aircraft's degraded reports at this level (the
    coarse hypotheses read the level as chance: see :func:`level_factor`); ``code``: the
    aircraft (observations sorted by it); ``time``: ns; ``weight``; ``switches``: moments a
    transmitter switched (:func:`_switches`); ``fleet``: log weights of the graded,
    two-level and one-step avionics among the event's aircraft (:func:`fleet_weights`);
    ``quiet``: the middles of the quiet spells (:func:`_quiet`); ``tolerance``: the
    receivers' tolerances the likelihood reads (offsets from the shared threshold, dB, and
    their log weights; one threshold shared by all unless the piece is better explained
    with a spread: :func:`jamwatch.detect.sources.with_spread`).
    """

    x: F64
    y: F64
    alt_m: F64
    lo: F64
    hi: F64
    top: F64
    nic0: F64
    state_a: I64
    state_b: I64
    level_factor: F64
    code: I64
    time: I64
    weight: F64
    lat0: float
    lon0: float
    switches: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    fleet: F64 = field(default_factory=lambda: np.log(np.asarray(FLEET)))
    quiet: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    tolerance: F64 = field(default_factory=lambda: SHARED.copy())

    @property
    def affected(self) -> npt.NDArray[np.bool_]:
        """Observations that say the aircraft was degraded or lost lock."""
        return np.asarray((self.top == 0.0) & (self.hi <= self.nic0))

    @property
    def boundary(self) -> npt.NDArray[np.bool_]:
        """Observations of a change of level (between two reports), not of one report."""
        return np.asarray(self.state_a != self.state_b)

    def arrays(self) -> ObsArrays:
        """The arrays the compiled likelihood reads."""
        q, edges = intervals(self.lo, self.hi, self.top, self.nic0, self.state_a, self.state_b)
        return (
            self.lo, self.hi, self.top, self.nic0, self.state_a, self.state_b,
            self.level_factor, self.code, self.weight, q, edges,
        )  # fmt: skip

    def take(self, idx: npt.NDArray[np.int64] | npt.NDArray[np.bool_]) -> Observations:
        """A subset (in the same order)."""
        return Observations(
            self.x[idx], self.y[idx], self.alt_m[idx], self.lo[idx], self.hi[idx],
            self.top[idx], self.nic0[idx], self.state_a[idx], self.state_b[idx],
            self.level_factor[idx], self.code[idx], self.time[idx], self.weight[idx],
            self.lat0, self.lon0, fleet=self.fleet, tolerance=self.tolerance,
        )  # fmt: skip

    @classmethod
    def from_levels(
        cls, x: F64, y: F64, alt_m: F64, lo: F64, hi: F64, top: F64, nic0: F64, code: I64,
        time: I64, weight: F64, lat0: float = 0.0, lon0: float = 0.0,
    ) -> Observations:  # fmt: skip
        """Observations given by their graded intervals alone (reports, and boundaries
        between adjacent levels), the coarse states derived from them."""
        sa, sb = states_from_levels(lo, hi, top, nic0)
        lf = level_factor(code, sa, sb, weight)
        return cls(
            x, y, alt_m, lo, hi, top, nic0, sa, sb, lf, code, time, weight, lat0, lon0,
            fleet=fleet_weights(code, sa, sb, FLEET),
        )  # fmt: skip


def states_from_levels(lo: F64, hi: F64, top: F64, nic0: F64) -> tuple[I64, I64]:
    """Coarse states of observations given by graded intervals: a report's own state; for a
    zero-width boundary ``[a, a]`` the levels on either side (``a - 1`` and ``a``; ``LOST``
    below 0, ``TOP`` from ``nic0``)."""
    k = np.where(lo <= -BIG, 0.0, lo).astype(np.int64)
    own = np.where(top == 1.0, TOP, np.where((lo <= -BIG) & (hi <= 0.0), LOST, k))
    edge = (hi - lo < 1e-9) & (top == 0.0)
    above = np.where(k >= nic0, TOP, k)
    below = np.where(k <= 0, LOST, k - 1)
    return (
        np.asarray(np.where(edge, below, own), np.int64),
        np.asarray(np.where(edge, above, own), np.int64),
    )


#: an aircraft's avionics as its degraded reports show them (:func:`avionics`)
GRADED, TWO_LEVEL, ONE_STEP = 0, 1, 2


def avionics(code: I64, state_a: I64, state_b: I64) -> tuple[I64, I64]:
    """The aircraft with degraded reports (not ``TOP``, not a change of level) and the
    avionics each shows: ``GRADED`` (two degraded levels above NIC 0 or more),
    ``TWO_LEVEL`` (one) or ``ONE_STEP`` (only NIC 0 or lost positions)."""
    own = (state_a == state_b) & (state_a != TOP)
    codes = np.unique(code[own])
    level = own & (state_a > 0)
    pairs = np.unique(np.stack([code[level], state_a[level]]), axis=1)
    ac, per = np.unique(pairs[0], return_counts=True)
    above = np.zeros(codes.shape[0], np.int64)
    above[np.searchsorted(codes, ac)] = per
    kind = np.where(above >= 2, GRADED, np.where(above == 1, TWO_LEVEL, ONE_STEP))
    return codes, np.asarray(kind, np.int64)


def fleet_weights(
    code: I64, state_a: I64, state_b: I64, fixed: tuple[float, float, float] | None = None
) -> F64:  # fmt: skip
    """Log weights of the graded, two-level and one-step avionics: ``fixed``, or the shares
    of the aircraft that show each (:func:`avionics`), each count plus one."""
    if fixed is not None:
        return np.log(np.maximum(np.asarray(fixed, np.float64), 1e-300))
    counts = 1.0 + np.bincount(avionics(code, state_a, state_b)[1], minlength=3)
    return np.asarray(np.log(counts / counts.sum()), np.float64)


def level_factor(code: I64, state_a: I64, state_b: I64, weight: F64) -> F64:
    """Per observation, log of the weighted share of its aircraft's degraded reports (not
    ``TOP``, not a change of level) that are at its level: 0 for the others. The coarse
    hypotheses say nothing of which degraded level an aircraft reports, so they pay the
    chance of its levels, drawn from its own mix: a graded receiver that passes through
    many levels pays much, a receiver with one degraded level nothing."""
    out = np.zeros(code.shape[0])
    deg = (state_a == state_b) & (state_a != TOP)
    if not np.any(deg):
        return out
    key = code[deg] * 256 + (state_a[deg] + 1)
    uk, inv = np.unique(key, return_inverse=True)
    per_level = np.bincount(inv, weights=weight[deg])
    _, ac_inv = np.unique(uk // 256, return_inverse=True)
    per_ac = np.bincount(ac_inv, weights=per_level)
    out[deg] = np.log(per_level[inv] / per_ac[ac_inv][inv])
    return out


@nb.njit(cache=True, nogil=True)
def _transitions(
    code: I64, t: I64, x: F64, y: F64, alt: F64, lo: F64, hi: F64, max_gap_ns: int
) -> tuple[I64, F64, F64, F64, F64, F64]:  # fmt: skip
    """Where consecutive level reports of one aircraft (within ``max_gap_ns``) state
    disjoint intervals, the source's loss crossed the boundary between them: an observation
    midway (row ``i`` of the later report), whose interval is the gap between the two."""
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
    """Moments inside the event when enough aircraft (:func:`switch_crowd`) changed their
    level within ``switch_s`` of each other: a transmitter switching on or off."""
    if t.shape[0] == 0:
        return np.zeros(0, np.int64)
    order = np.argsort(t, kind="stable")
    ts, cs = t[order], code[order]
    guard = int(c.switch_s * NS)
    lo = np.searchsorted(ts, ts - guard, side="left")
    hi = np.searchsorted(ts, ts + guard, side="right")
    need = switch_crowd(t.shape[0], end_ns - start_ns, c)
    crowded = [
        int(ts[i]) for i in np.flatnonzero(hi - lo >= need)
        if np.unique(cs[lo[i] : hi[i]]).shape[0] >= need
    ]  # fmt: skip
    edge = int(c.min_piece_s * NS)
    out: list[int] = []
    for moment in crowded:  # the few crowded moments, in time order
        if moment <= start_ns + guard or moment >= end_ns - guard:
            continue
        if not out or moment - out[-1] > edge:
            out.append(moment)
    return np.array(out, np.int64)


def switch_crowd(changes: int, span_ns: int, c: LocalizeConfig) -> int:
    """The number of aircraft whose changes of level at one moment make a switch: at least
    ``switch_aircraft``, and so many that the event's ``changes`` over ``span_ns``, were they
    independent (a Poisson process at their mean rate), would reach it in a fixed window of
    ``2 switch_s`` at most ``switch_chance`` times in the event (the windows laid end to
    end). Dense traffic crosses the contours of a steady transmitter often, and three
    aircraft then change level within seconds of each other by chance many times an hour.
    :func:`_switches` looks around every change, a window that slides, and finds a few
    times more chance crowdings than fixed windows would: they are fewer, not none."""
    window = 2.0 * c.switch_s
    span = max(span_ns / NS, window)
    mu = changes / span * window  # changes expected in one window
    k = c.switch_aircraft
    while k < changes and span / window * _poisson_tail(mu, k) > c.switch_chance:
        k += 1
    return k


def _poisson_tail(mu: float, k: int) -> float:
    """P(N >= k) for N Poisson with mean ``mu`` (summed from k up: exact for small tails)."""
    term = math.exp(-mu - math.lgamma(k + 1.0) + k * math.log(mu)) if mu > 0.0 else 0.0
    total, j = 0.0, k
    while term > 1e-18 * max(total, 1e-300) and j < k + 400:
        total += term
        j += 1
        term *= mu / j
    return total


def _quiet(affected_ns: I64, c: LocalizeConfig) -> I64:
    """The middle of every spell of at least ``quiet_s`` between the times ``affected_ns``
    (sorted) of degraded reports: an event lasts as long as its region is jammed, with quiet
    spells between the aircraft, and a transmitter may have been off (or another on) across
    one. Taken from every report, not from the observations thinned to
    ``max_observations``: what a spell is then does not depend on how long the event is."""
    gap = np.flatnonzero(np.diff(affected_ns) > int(c.quiet_s * NS))
    return (affected_ns[gap] + affected_ns[gap + 1]) // 2


def heard_since(tr: Tracks, gap_s: float) -> I64:
    """Per row, when the aircraft's current unbroken run of messages began (a silence longer
    than ``gap_s``, its own or the receiver's, ends a run): positions missing while the
    aircraft was not heard are a reception gap, not a loss."""
    t = tr.time
    new_run = np.ones(t.shape[0], np.bool_)
    new_run[1:] = (tr.code[1:] != tr.code[:-1]) | (np.diff(t) > int(gap_s * NS))
    first = np.maximum.accumulate(np.where(new_run, np.arange(t.shape[0]), 0))
    return np.asarray(t[first], np.int64)


def _placed(
    tr: Tracks, rows: I64, lost: npt.NDArray[np.bool_], age: F64, lat0: float, lon0: float
) -> tuple[F64, F64]:  # fmt: skip
    """East and north (m) of ``rows`` (NaN elsewhere): the position, or the last one moved on
    by dead reckoning on the sphere where the position is ``lost``, in the stereographic
    plane (distances right at any latitude: a 1 % scale error is 0.09 dB of loss, about the
    width of a NIC boundary)."""
    has = tr.has_position[rows]
    lat = np.where(has, tr.latitude[rows], tr.last_latitude[rows])
    lon = np.where(has, tr.longitude[rows], tr.last_longitude[rows])
    dr = np.where(lost[rows], age[rows], 0.0) * np.nan_to_num(tr.groundspeed_kt[rows])
    dr *= KT / EARTH_RADIUS_M
    trk = np.radians(np.nan_to_num(tr.track_deg[rows]))
    lat = lat + np.degrees(dr * np.cos(trk))
    lon = lon + np.degrees(dr * np.sin(trk) / np.cos(np.radians(lat)))
    x = np.full(tr.size, np.nan)
    y = np.full(tr.size, np.nan)
    x[rows], y[rows] = stereo_xy(lat, lon, lat0, lon0)
    return x, y


def _levels(
    tr: Tracks, c: LocalizeConfig, jammed: I64 | None = None
) -> tuple[F64, F64, F64, F64, B, B, F64]:  # fmt: skip
    """Per report: the interval (lo, hi) of graded levels its NIC (or its lost position)
    says, whether it is at its aircraft's top level, the aircraft's nominal NIC, whether the
    aircraft says anything (it reported nominal integrity at some time, or is one of
    ``jammed``), whether the position is lost, and its age (s)."""
    t = tr.time
    has = tr.has_position
    nic = tr.nic
    # nominal NIC of each aircraft: its largest. An aircraft never nominal (below NIC 7) says
    # nothing (faulty avionics look the same) unless it is one of ``jammed``: seen only
    # while jammed, its every report is affected and its nominal level is not seen
    nic0_ac = np.full(len(tr.icaos), -1, np.int64)
    pos_nic = has & (nic >= 0) & ~tr.surface
    np.maximum.at(nic0_ac, tr.code[pos_nic], nic[pos_nic])
    never = nic0_ac < 7
    unseen = np.zeros(len(tr.icaos), np.bool_)
    if jammed is not None:
        unseen[jammed] = True
        unseen &= never
        nic0_ac[unseen] = c.unseen_nominal_nic
    usable = (~never | unseen)[tr.code]
    nic0 = np.maximum(nic0_ac[tr.code], 1).astype(np.float64)
    age = (t - tr.last_time) / NS
    heard = (t - np.maximum(tr.last_time, heard_since(tr, c.heard_gap_s))) / NS
    lost = ~has & ((tr.tc == 19) | ((tr.tc >= 1) & (tr.tc <= 4)))
    lost &= (tr.last_time >= 0) & (heard > c.lost_after_s) & (age <= c.dead_reckon_s)
    lost &= ~np.isnan(tr.groundspeed_kt)
    graded = has & (nic >= 0) & ~tr.surface  # (a surface position's NIC is its type code's)
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
    return lo, hi, top, nic0, usable, lost, age


def _around(
    tr: Tracks, start_ns: int, end_ns: int, lat0: float, lon0: float, c: LocalizeConfig
) -> Tracks:  # fmt: skip
    """The tracks of the aircraft that may give an observation: a report in [start, end]
    whose position (its own, or the last one) lies within ``search_km`` of (lat0, lon0) and
    the distance it can be dead-reckoned (``dead_reckon_s`` at its speed, with a margin).
    Every row of those aircraft is kept, so that what :func:`_levels` works out per
    aircraft is the same as on all the tracks, for less memory and time; all the tracks
    when those aircraft have more than half of the rows."""
    span = np.flatnonzero((tr.time >= start_ns) & (tr.time <= end_ns))
    has = tr.has_position[span]
    lat = np.where(has, tr.latitude[span], tr.last_latitude[span])
    lon = np.where(has, tr.longitude[span], tr.last_longitude[span])
    reckon = c.dead_reckon_s * np.nan_to_num(tr.groundspeed_kt[span]) * KT
    near = distance_m(lat, lon, lat0, lon0) <= c.search_km * 1000.0 + 1.2 * reckon + 20e3
    aircraft = np.unique(tr.code[span[near]])
    if (tr.start[aircraft + 1] - tr.start[aircraft]).sum() > tr.size // 2:
        return tr  # (a copy of most of the tracks would cost more than it saves)
    return of_aircraft(tr, aircraft)


def _binned(tr: Tracks, idx: I64, c: LocalizeConfig) -> tuple[I64, F64]:
    """One report of ``idx`` per aircraft and ``bin_s`` (at most ``max_observations``, evenly
    spread), and its weight ``1 / sqrt`` of the aircraft's count."""
    key = tr.code[idx] * (1 << 40) + tr.time[idx] // int(c.bin_s * NS)
    first = np.ones(idx.shape[0], np.bool_)
    first[1:] = key[1:] != key[:-1]  # (rows are sorted by aircraft, then time)
    binned = idx[first]
    if binned.shape[0] > c.max_observations:
        pick = np.linspace(0, binned.shape[0] - 1, c.max_observations).astype(np.int64)
        binned = binned[pick]
    _, inv, counts = np.unique(tr.code[binned], return_inverse=True, return_counts=True)
    return binned, 1.0 / np.sqrt(counts[inv])


def observations(
    table: pa.Table | Tracks, start_ns: int, end_ns: int, lat0: float, lon0: float,
    config: LocalizeConfig | None = None, jammed: I64 | None = None,
) -> Observations:  # fmt: skip
    """The observations of the module documentation around (lat0, lon0) in [start, end]:
    one per aircraft and ``bin_s`` (weight ``1 / sqrt`` of the aircraft's count) and one at
    every change of level (weight 1). An aircraft that never reported nominal integrity
    gives none (faulty avionics look the same) unless it is one of ``jammed`` (codes: the
    aircraft of the event, whose events left the faulty ones out)."""
    c = config or LocalizeConfig()
    tr = _around(table if isinstance(table, Tracks) else prepare(table), start_ns, end_ns,
                 lat0, lon0, c)  # fmt: skip
    t = tr.time
    lo, hi, top, nic0, usable, lost, age = _levels(tr, c, jammed)
    alt = tr.altitude_ft * FT
    ok = (t >= start_ns) & (t <= end_ns) & usable & ~np.isnan(lo) & ~np.isnan(alt)
    x, y = _placed(tr, np.flatnonzero(ok), lost, age, lat0, lon0)
    ok &= np.hypot(x, y) <= c.search_km * 1000.0  # (NaN, so False, where not placed)
    idx = np.flatnonzero(ok)
    binned, w = _binned(tr, idx, c)
    quiet = _quiet(np.sort(t[idx][(top[idx] == 0.0) & (hi[idx] <= nic0[idx])]), c)
    state = np.where(top == 1.0, TOP, np.where(lost, LOST, tr.nic)).astype(np.int64)
    # a report at the top level is "k >= nic0" for the transitions
    hi_t = np.where(top == 1.0, BIG, hi)
    rows, tx, ty, ta, tlo, thi = _transitions(
        tr.code[idx], t[idx], x[idx], y[idx], np.maximum(alt[idx], 0.0), lo[idx], hi_t[idx],
        int(c.transition_gap_s * NS),
    )  # fmt: skip
    switches = _switches(t[idx][rows], tr.code[idx][rows], start_ns, end_ns, c)
    # graded: a boundary between levels at most two apart (a wider gap is a transmitter
    # switching on or off under the aircraft as often as a boundary); coarse: where states
    # touch
    graded = thi - tlo <= 2.01
    tlo, thi = np.where(graded, tlo, -BIG), np.where(graded, thi, BIG)
    sa, sb = state[idx][rows - 1], state[idx][rows]
    keep = _spatial(t[idx][rows], tr.code[idx][rows], start_ns, end_ns, c)
    at = np.flatnonzero(keep & (graded | coarse_informative(sa, sb)))
    if at.shape[0] > c.max_observations:
        at = at[np.linspace(0, at.shape[0] - 1, c.max_observations).astype(np.int64)]
    rows = rows[at]
    tx, ty, ta, tlo, thi, sa, sb = tx[at], ty[at], ta[at], tlo[at], thi[at], sa[at], sb[at]
    code = np.concatenate([tr.code[binned], tr.code[idx][rows]])
    order = np.argsort(code, kind="stable")
    code = code[order]
    state_a = np.concatenate([state[binned], sa])[order]
    state_b = np.concatenate([state[binned], sb])[order]
    weight = np.concatenate([w, np.full(rows.shape[0], c.transition_weight)])[order]
    return Observations(
        np.concatenate([x[binned], tx])[order],
        np.concatenate([y[binned], ty])[order],
        np.concatenate([np.maximum(alt[binned], 0.0), ta])[order],
        np.concatenate([lo[binned], tlo])[order],
        np.concatenate([hi[binned], thi])[order],
        np.concatenate([top[binned], np.zeros(rows.shape[0])])[order],
        np.concatenate([nic0[binned], nic0[idx][rows]])[order],
        state_a,
        state_b,
        level_factor(code, state_a, state_b, weight),
        code,
        np.concatenate([t[binned], t[idx][rows]])[order],
        weight,
        lat0,
        lon0,
        switches,
        fleet_weights(code, state_a, state_b, c.fleet),
        quiet,
    )


__all__ = ["LocalizeConfig", "Observations", "observations"]
