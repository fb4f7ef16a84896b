"""Transmission schedule: trajectories -> one row per message sent, in time order.

Nominal DO-260B transmission rates (per aircraft, airborne) used here:
position 2/s (even/odd alternating), velocity 2/s, identification every 5 s, operational
status (TC31) every 2.5 s, target state (TC29) every 1.25 s; each message is sent at a
random instant within +/-0.1 s of its slot, as the standard's randomised intervals do.

How it runs (compiled, two passes over the messages, no per-message Python):

1. NumPy splits the trajectories into segments (runs of one aircraft's samples without a gap
   longer than ``max_gap_s``) and draws, kind after kind, a random phase per segment and a
   jitter per slot.
2. :func:`_segment_slots` lists each segment's slots of the five kinds in time order.
3. :func:`next_slot` merges the segments' slots with a small heap (the segments in flight)
   into one time order; :func:`state_at` interpolates the state at each slot between the
   samples around it, with a cursor per segment that only moves forward; :func:`odd_of`
   alternates even and odd over each aircraft's position messages. Ties in time keep the
   order (kind, segment, slot). :func:`message_schedule` writes the result as columns; the
   simulation (:mod:`jamwatch.simulate.run`) consumes it in its own compiled loop instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from jamwatch.simulate.encode import (
    KIND_IDENT,
    KIND_POSITION,
    KIND_STATUS,
    KIND_TARGET,
    KIND_VELOCITY,
)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I8 = npt.NDArray[np.int8]
NS = 1_000_000_000

#: columns of the trajectory sample rows the state is interpolated from (``Slots.source``)
SAMPLE_LAT = 0  # latitude, degrees
SAMPLE_LON = 1  # longitude, degrees
SAMPLE_ALT_FT = 2  # altitude, ft
SAMPLE_GS_KT = 3  # ground speed, kt
SAMPLE_VRATE_FPM = 4  # vertical rate, ft/min
SAMPLE_SIN_TRK = 5  # sine of the track
SAMPLE_COS_TRK = 6  # cosine of the track
N_SAMPLE = 7

#: trajectory columns copied into the sample rows, with their column there
_STATE_COLUMNS = (
    (SAMPLE_LAT, "latitude"),
    (SAMPLE_LON, "longitude"),
    (SAMPLE_ALT_FT, "altitude_ft"),
    (SAMPLE_GS_KT, "groundspeed_kt"),
    (SAMPLE_VRATE_FPM, "vertical_rate_fpm"),
)

#: slots of the control vector of the heap merge (the last array of ``Slots.merge``)
CTL_SIZE = 0  # number of segments in the heap
CTL_NEXT = 1  # next segment of ``pending`` to admit
N_CTL = 2

# rows of the per-message float output of ``_schedule_kernel``
_OUT_LAT = 0  # latitude, degrees
_OUT_LON = 1  # longitude, degrees
_OUT_ALT_FT = 2  # altitude, ft
_OUT_GS_KT = 3  # ground speed, kt
_OUT_VRATE_FPM = 4  # vertical rate, ft/min
_OUT_TRK_DEG = 5  # track, degrees
_N_OUT = 6


@dataclass(frozen=True, slots=True)
class Rates:
    """Transmission interval (s) of each message kind, and the random jitter (s)."""

    position_s: float = 0.5
    velocity_s: float = 0.5
    identification_s: float = 5.0
    status_s: float = 2.5
    target_s: float = 1.25
    jitter_s: float = 0.1
    max_gap_s: float = 60.0

    def intervals(self) -> tuple[tuple[int, float], ...]:
        """(kind, interval) pairs."""
        return (
            (KIND_POSITION, self.position_s),
            (KIND_VELOCITY, self.velocity_s),
            (KIND_IDENT, self.identification_s),
            (KIND_STATUS, self.status_s),
            (KIND_TARGET, self.target_s),
        )


@dataclass(frozen=True, slots=True)
class Schedule:
    """Transmission instants with the interpolated true aircraft state (one row each)."""

    time_ns: I64
    kind: I8
    aircraft: I32  # index into the per-aircraft arrays (unique icao order)
    odd: I8
    latitude: F64
    longitude: F64
    altitude_ft: F64
    groundspeed_kt: F64
    track_deg: F64
    vertical_rate_fpm: F64


@dataclass(frozen=True, slots=True)
class Slots:
    """Everything the compiled passes need to produce a schedule, in the kernels' form.

    ``merge``: the heap merge of the segments' slots (:func:`next_slot`); ``source``: the
    samples the state is interpolated from (:func:`state_at`); ``total``: number of messages;
    ``kind_of``: kind of each kind index (``Rates.intervals`` order).
    """

    merge: tuple[I64, I64, I64, I8, I64, I64, I64, I64, I64, I64]
    source: tuple[I64, F64, I64, I64, I64, I64]
    kind_of: I8
    total: int
    icao: I64
    callsigns: list[str]


def prepare_slots(traj: pa.Table, rates: Rates, rng: np.random.Generator) -> Slots:
    """Segments, random draws and the time-ordered slots of each segment.

    Draws, in this order: per kind, a phase per segment then a jitter per slot.
    """
    icao = np.asarray(traj.column("icao").to_numpy(zero_copy_only=False), np.int64)
    t = np.asarray(traj.column("time").cast(pa.int64()).to_numpy(zero_copy_only=False), np.int64)
    uniq, first, counts = np.unique(icao, return_index=True, return_counts=True)
    ac_row = np.repeat(np.arange(uniq.shape[0]), counts)
    # segments: runs of samples of one aircraft without a gap longer than max_gap_s
    brk = np.ones(t.shape[0], dtype=bool)
    brk[1:] = (ac_row[1:] != ac_row[:-1]) | (np.diff(t) > rates.max_gap_s * NS)
    seg_first = np.flatnonzero(brk)
    seg_counts = np.diff(np.concatenate([seg_first, [t.shape[0]]]))
    seg_of = np.repeat(np.arange(seg_first.shape[0]), seg_counts)  # segment of each sample
    seg_ac = ac_row[seg_first]
    t0 = t[seg_first]
    t1 = t[seg_first + seg_counts - 1]
    span = int((t1 - t0).max()) + 1 if seg_first.size else 1
    nseg = seg_first.shape[0]
    if nseg * (span + 1) >= 2**62:
        raise ValueError("trajectories span too long for one schedule: split them by day")
    kinds = rates.intervals()
    steps = np.array([int(interval * NS) for _, interval in kinds], dtype=np.int64)
    n_each = (t1 - t0)[None, :] // steps[:, None] + 1  # slots per kind and segment
    phases = np.empty((len(kinds), nseg), dtype=np.int64)
    jitters = []
    for k, step in enumerate(steps.tolist()):  # the draws of one NumPy column per kind
        phases[k] = rng.integers(0, step, nseg)
        half = int(rates.jitter_s * NS)
        jitters.append(rng.integers(-half, half + 1, int(n_each[k].sum())))
    jitter = np.concatenate(jitters) if jitters else np.zeros(0, np.int64)
    jitter_at = np.cumsum(n_each.reshape(-1)) - n_each.reshape(-1)  # kind-major
    bound = n_each.sum(axis=0)  # at most this many messages per segment
    base = np.cumsum(bound) - bound
    trk = np.radians(np.asarray(traj.column("track_deg").to_numpy(zero_copy_only=False), float))
    samples = np.empty((t.shape[0], N_SAMPLE), dtype=np.float64)  # one row per sample
    for c, name in _STATE_COLUMNS:
        samples[:, c] = np.asarray(traj.column(name).to_numpy(zero_copy_only=False), np.float64)
    samples[:, SAMPLE_SIN_TRK] = np.sin(trk)
    samples[:, SAMPLE_COS_TRK] = np.cos(trk)
    slot_t = np.empty(int(bound.sum()), dtype=np.int64)
    slot_k = np.empty(int(bound.sum()), dtype=np.int8)  # index of the kind in ``kinds``
    count = _segment_slots(
        t0, t1, steps, phases, jitter, jitter_at.reshape(len(kinds), nseg), base, slot_t, slot_k
    )
    if t.shape[0] >= 2 and nseg and seg_counts[-1] == 1:
        # a last segment of a single sample has nothing to interpolate towards: no messages
        count[-1] = 0
    live = np.flatnonzero(count > 0)
    pending = live[np.lexsort((live, slot_k[base[live]], slot_t[base[live]]))]
    heap_t, heap_k, heap_s = np.empty((3, nseg), dtype=np.int64)  # time, kind, segment
    return Slots(
        merge=(
            pending,
            base,
            slot_t,
            slot_k,
            base.copy(),  # next slot of each segment
            base + count,  # end of each segment's slots
            heap_t,
            heap_k,
            heap_s,
            np.zeros(N_CTL, dtype=np.int64),  # CTL_SIZE, CTL_NEXT
        ),
        source=(t, samples, seg_of, seg_first.copy(), seg_first + seg_counts, seg_ac),
        kind_of=np.array([k for k, _ in kinds], dtype=np.int8),
        total=int(count.sum()),
        icao=uniq,
        callsigns=_first_callsigns(traj, first, counts),
    )


def message_schedule(
    traj: pa.Table, rates: Rates, rng: np.random.Generator
) -> tuple[Schedule, I64, list[str]]:
    """Transmission instants of every message of every aircraft, with interpolated states.

    Returns the schedule sorted by time, the ICAO address of each aircraft index and its
    callsign (first non-empty one). No message is sent inside a gap longer than
    ``rates.max_gap_s`` between trajectory samples. ``traj`` is sorted by aircraft, then time.
    """
    sl = prepare_slots(traj, rates, rng)
    n = sl.total
    out_t = np.empty(n, dtype=np.int64)
    out_kind = np.empty(n, dtype=np.int8)
    out_ac = np.empty(n, dtype=np.int32)
    out_odd = np.empty(n, dtype=np.int8)
    out_f = np.empty((_N_OUT, n), dtype=np.float64)
    positions = np.zeros(sl.icao.shape[0], dtype=np.int64)
    _schedule_kernel(
        sl.merge, sl.source, sl.kind_of, positions, out_t, out_kind, out_ac, out_odd, out_f
    )
    sched = Schedule(
        time_ns=out_t,
        kind=out_kind,
        aircraft=out_ac,
        odd=out_odd,
        latitude=out_f[_OUT_LAT],
        longitude=out_f[_OUT_LON],
        altitude_ft=out_f[_OUT_ALT_FT],
        groundspeed_kt=out_f[_OUT_GS_KT],
        track_deg=out_f[_OUT_TRK_DEG],
        vertical_rate_fpm=out_f[_OUT_VRATE_FPM],
    )
    return sched, sl.icao, sl.callsigns


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _schedule_kernel(
    merge: tuple[I64, I64, I64, I8, I64, I64, I64, I64, I64, I64],
    source: tuple[I64, F64, I64, I64, I64, I64],
    kind_of: I8,
    positions: I64,
    out_t: I64,
    out_kind: I8,
    out_ac: I32,
    out_odd: I8,
    out_f: F64,
) -> None:
    _, _, _, _, _, seg_ac = source
    for r in range(out_t.shape[0]):
        s, tt, k = next_slot(merge)
        lat, lon, alt, gs, vr, sin_t, cos_t = state_at(source, s, tt)
        kind = kind_of[k]
        ac = seg_ac[s]
        out_t[r] = tt
        out_kind[r] = kind
        out_ac[r] = ac
        out_odd[r] = odd_of(positions, ac, kind)
        out_f[_OUT_LAT, r] = lat
        out_f[_OUT_LON, r] = lon
        out_f[_OUT_ALT_FT, r] = alt
        out_f[_OUT_GS_KT, r] = gs
        out_f[_OUT_VRATE_FPM, r] = vr
        out_f[_OUT_TRK_DEG, r] = track_deg(sin_t, cos_t)


@nb.njit(cache=True, nogil=True)
def _segment_slots(
    t0: I64,
    t1: I64,
    steps: I64,
    phases: I64,
    jitter: I64,
    jitter_at: I64,
    base: I64,
    slot_t: I64,
    slot_k: I8,
) -> I64:
    """Each segment's slots of all kinds in time order, from ``base[s]``; count per segment.

    A slot falls inside its segment or is dropped. On equal times the kind listed first in
    ``Rates.intervals`` goes first.
    """
    nseg = t0.shape[0]
    nk = steps.shape[0]
    count = np.zeros(nseg, dtype=np.int64)
    longest = 0
    for s in range(nseg):
        m = 0
        for k in range(nk):
            m += (t1[s] - t0[s]) // steps[k] + 1
        longest = max(longest, m)
    run_t = np.empty(longest, dtype=np.int64)
    run = np.empty(nk + 1, dtype=np.int64)
    head = np.empty(nk, dtype=np.int64)
    for s in range(nseg):
        m = 0
        for k in range(nk):
            run[k] = m
            p = jitter_at[k, s]
            for idx in range((t1[s] - t0[s]) // steps[k] + 1):
                tt = t0[s] + phases[k, s] + idx * steps[k] + jitter[p + idx]
                if t0[s] <= tt <= t1[s]:
                    run_t[m] = tt
                    m += 1
            for i in range(run[k] + 1, m):
                if run_t[i] < run_t[i - 1]:  # jitter wider than half the interval
                    run_t[run[k] : m] = np.sort(run_t[run[k] : m])
                    break
        run[nk] = m
        for k in range(nk):
            head[k] = run[k]
        out = base[s]
        for _ in range(m):  # merge the kinds' runs: earliest head, first-listed kind on a tie
            best = -1
            for k in range(nk):
                if head[k] < run[k + 1] and (best < 0 or run_t[head[k]] < run_t[head[best]]):
                    best = k
            slot_t[out] = run_t[head[best]]
            slot_k[out] = best
            head[best] += 1
            out += 1
        count[s] = m
    return count


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _lerp(samples: F64, c: int, lo: int, hi: int, w: float) -> float:
    """Column ``c`` of ``samples`` between rows ``lo`` and ``hi``; the nearer one if NaN."""
    x0 = samples[lo, c]
    x1 = samples[hi, c]
    v = x0 + (x1 - x0) * w
    if np.isnan(v):
        return float(x0 if w < 0.5 else x1)
    return float(v)


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _before(t1: int, k1: int, s1: int, t2: int, k2: int, s2: int) -> bool:
    """Order of two heads: time, then kind (in ``Rates.intervals`` order), then segment."""
    if t1 != t2:
        return t1 < t2
    if k1 != k2:
        return k1 < k2
    return s1 < s2


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def next_slot(
    merge: tuple[I64, I64, I64, I8, I64, I64, I64, I64, I64, I64],
) -> tuple[int, int, int]:
    """The next slot in time order: (segment, time, kind index); updates ``merge``.

    A binary heap keyed (time, kind, segment) holds the segments in flight: one enters when
    its first slot is due (``pending``: segments with slots, by first slot), so ties in time
    keep the order (kind, segment, slot) of one NumPy column per kind.
    """
    pending, base, slot_t, slot_k, pos, end, heap_t, heap_k, heap_s, ctl = merge
    size = ctl[CTL_SIZE]
    nxt = ctl[CTL_NEXT]
    # admit the segments whose first slot comes before the heap's top
    while nxt < pending.shape[0]:
        s = pending[nxt]
        ts = slot_t[base[s]]
        ks = slot_k[base[s]]
        if size > 0 and not _before(ts, ks, s, heap_t[0], heap_k[0], heap_s[0]):
            break
        i = size
        size += 1
        while i > 0:
            up = (i - 1) // 2
            if not _before(ts, ks, s, heap_t[up], heap_k[up], heap_s[up]):
                break
            heap_t[i], heap_k[i], heap_s[i] = heap_t[up], heap_k[up], heap_s[up]
            i = up
        heap_t[i], heap_k[i], heap_s[i] = ts, ks, s
        nxt += 1
    s = heap_s[0]
    tt = heap_t[0]
    k = heap_k[0]
    pos[s] += 1
    # replace the top by the segment's next slot, or by the heap's last entry
    if pos[s] < end[s]:
        ts, ks, ss = slot_t[pos[s]], slot_k[pos[s]], s
    else:
        size -= 1
        ts, ks, ss = heap_t[size], heap_k[size], heap_s[size]
    i = 0
    while size > 0:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and _before(
            heap_t[c + 1], heap_k[c + 1], heap_s[c + 1], heap_t[c], heap_k[c], heap_s[c]
        ):
            c += 1
        if not _before(heap_t[c], heap_k[c], heap_s[c], ts, ks, ss):
            break
        heap_t[i], heap_k[i], heap_s[i] = heap_t[c], heap_k[c], heap_s[c]
        i = c
    if size > 0:
        heap_t[i], heap_k[i], heap_s[i] = ts, ks, ss
    ctl[CTL_SIZE] = size
    ctl[CTL_NEXT] = nxt
    return s, tt, k


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def state_at(
    source: tuple[I64, F64, I64, I64, I64, I64], s: int, tt: int
) -> tuple[float, float, float, float, float, float, float]:
    """State of segment ``s`` at ``tt`` (not earlier than at the previous call for ``s``):
    latitude, longitude, altitude, ground speed, vertical rate, sine and cosine of the
    track (:func:`track_deg` makes the track of them).

    Linear between the samples around ``tt`` (columns ``SAMPLE_*``); a cursor per segment
    (``cursor``) that only moves forward finds them.
    """
    t, samples, seg_of, cursor, seg_end, _ = source
    n_samples = t.shape[0]
    a = cursor[s]
    while a < seg_end[s] and t[a] <= tt:
        a += 1
    cursor[s] = a
    # the first sample after tt (as a global searchsorted, right side) and the one before
    hi = min(max(a, 1), n_samples - 1)
    lo = hi - 1
    if seg_of[hi] != s:
        hi = lo
    dt = float(t[hi] - t[lo])
    w = float(tt - t[lo]) / dt if dt > 0 else 0.0
    w = min(max(w, 0.0), 1.0)
    return (
        _lerp(samples, SAMPLE_LAT, lo, hi, w),
        _lerp(samples, SAMPLE_LON, lo, hi, w),
        _lerp(samples, SAMPLE_ALT_FT, lo, hi, w),
        _lerp(samples, SAMPLE_GS_KT, lo, hi, w),
        _lerp(samples, SAMPLE_VRATE_FPM, lo, hi, w),
        _lerp(samples, SAMPLE_SIN_TRK, lo, hi, w),
        _lerp(samples, SAMPLE_COS_TRK, lo, hi, w),
    )


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def track_deg(sin_t: float, cos_t: float) -> float:
    """Track (deg, 0-360) from its interpolated sine and cosine."""
    return float(np.degrees(np.arctan2(sin_t, cos_t)) % 360.0)


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def odd_of(positions: I64, ac: int, kind: int) -> int:
    """CPR format of a message: even and odd alternate over each aircraft's positions."""
    if kind != KIND_POSITION:
        return 0
    odd = (positions[ac] + ac) % 2
    positions[ac] += 1
    return int(odd)


def _first_callsigns(traj: pa.Table, first: I64, counts: I64) -> list[str]:
    """First non-empty callsign of each aircraft (rows ``first`` to ``first + counts``)."""
    cs = traj.column("callsign").combine_chunks()
    present = np.flatnonzero(
        np.asarray(pc.fill_null(pc.greater(pc.utf8_length(cs), 0), False), dtype=bool)
    )
    if present.shape[0] == 0:
        return [""] * first.shape[0]
    at = np.searchsorted(present, first)
    pick = present[np.minimum(at, present.shape[0] - 1)]
    found = (at < present.shape[0]) & (pick >= first) & (pick < first + counts)
    names = pc.utf8_slice_codeunits(
        pc.utf8_trim_whitespace(cs.take(pa.array(np.where(found, pick, 0)))), 0, 8
    )
    return [x if ok else "" for x, ok in zip(names.to_pylist(), found.tolist(), strict=True)]


__all__ = [
    "Rates",
    "Schedule",
    "Slots",
    "message_schedule",
    "next_slot",
    "odd_of",
    "prepare_slots",
    "state_at",
    "track_deg",
]
