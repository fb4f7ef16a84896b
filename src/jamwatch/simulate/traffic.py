"""Traffic sources of the simulator: real trajectories and generated flights, as Arrow tables.

A trajectory table has one row per (aircraft, time) sample with the columns of
:data:`TRAJECTORY` (times are UTC int64 nanoseconds inside a ``timestamp[ns, UTC]`` column).
:func:`message_schedule` turns trajectories into transmission instants at the rates of a
real transponder and interpolates the aircraft state at each instant, all in NumPy.

Nominal DO-260B transmission rates (per aircraft, airborne) used here:
position 2/s (even/odd alternating), velocity 2/s, identification every 5 s, operational
status (TC31) every 2.5 s, target state (TC29) every 1.25 s; each message is sent at a
random instant within +/-0.1 s of its slot, as the standard's randomised intervals do.
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from jamwatch.schema import TIME_TYPE
from jamwatch.simulate.encode import (
    KIND_IDENT,
    KIND_POSITION,
    KIND_STATUS,
    KIND_TARGET,
    KIND_VELOCITY,
)
from jamwatch.simulate.radio import EARTH_RADIUS_M, destination, ground_distance_m

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
NS = 1_000_000_000

TRAJECTORY = pa.schema(
    [
        pa.field("time", TIME_TYPE),
        pa.field("icao", pa.int32()),
        pa.field("callsign", pa.string()),
        pa.field("latitude", pa.float64()),
        pa.field("longitude", pa.float64()),
        pa.field("altitude_ft", pa.float64()),
        pa.field("groundspeed_kt", pa.float64()),
        pa.field("track_deg", pa.float64()),
        pa.field("vertical_rate_fpm", pa.float64()),
    ]
)


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


def read_traffic_json(path: str | Path) -> pa.Table:
    """Read a ``traffic`` JSON trajectory file (pandas records, gzip or not) as TRAJECTORY.

    Columns used: timestamp (ms), icao24, callsign, latitude, longitude, altitude (ft),
    groundspeed (kt), track (deg), vertical_rate (ft/min).
    """
    p = Path(path)
    opener = gzip.open if p.suffix == ".gz" else open
    with opener(p, "rt") as f:  # type: ignore[operator]
        records = json.load(f)
    if isinstance(records, dict):  # pandas "columns" orientation
        keys = list(records)
        records = [
            dict(zip(keys, row, strict=True))
            for row in zip(*(records[k].values() for k in keys), strict=True)
        ]
    table = pa.Table.from_pylist(records)
    return trajectories_from_columns(
        time_ns=np.asarray(table.column("timestamp").to_numpy(zero_copy_only=False), np.int64)
        * 1_000_000,
        icao=table.column("icao24").to_pylist(),
        callsign=table.column("callsign").to_pylist() if "callsign" in table.column_names else None,
        latitude=table.column("latitude").to_numpy(zero_copy_only=False),
        longitude=table.column("longitude").to_numpy(zero_copy_only=False),
        altitude_ft=table.column("altitude").to_numpy(zero_copy_only=False),
        groundspeed_kt=table.column("groundspeed").to_numpy(zero_copy_only=False),
        track_deg=table.column("track").to_numpy(zero_copy_only=False),
        vertical_rate_fpm=table.column("vertical_rate").to_numpy(zero_copy_only=False),
    )


def from_state_vectors(table: pa.Table) -> pa.Table:
    """A TRAJECTORY table from a state-vector table with jamwatch's decoded column names.

    Needs ``time``, ``icao`` (hex), ``latitude``, ``longitude``, ``altitude_baro_ft``,
    ``groundspeed_kt``, ``track_deg``; ``vertical_rate_fpm`` and ``callsign`` are optional.
    """

    def col(name: str) -> npt.NDArray[np.float64]:
        if name not in table.column_names:
            return np.full(table.num_rows, np.nan)
        return np.asarray(table.column(name).to_numpy(zero_copy_only=False), np.float64)

    t = table.column("time").cast(TIME_TYPE).cast(pa.int64()).to_numpy(zero_copy_only=False)
    return trajectories_from_columns(
        time_ns=np.asarray(t, np.int64),
        icao=table.column("icao").to_pylist(),
        callsign=table.column("callsign").to_pylist() if "callsign" in table.column_names else None,
        latitude=col("latitude"),
        longitude=col("longitude"),
        altitude_ft=col("altitude_baro_ft"),
        groundspeed_kt=col("groundspeed_kt"),
        track_deg=col("track_deg"),
        vertical_rate_fpm=col("vertical_rate_fpm"),
    )


def trajectories_from_columns(
    *,
    time_ns: npt.ArrayLike,
    icao: list[str] | list[int] | npt.ArrayLike,
    callsign: list[str | None] | None,
    latitude: npt.ArrayLike,
    longitude: npt.ArrayLike,
    altitude_ft: npt.ArrayLike,
    groundspeed_kt: npt.ArrayLike,
    track_deg: npt.ArrayLike,
    vertical_rate_fpm: npt.ArrayLike,
) -> pa.Table:
    """Build a TRAJECTORY table, sorted by aircraft then time; rows without a position dropped."""
    ic = np.asarray(icao)
    if ic.dtype.kind in "US":
        ic = np.array([int(str(x), 16) for x in ic.tolist()], dtype=np.int64)
    n = ic.shape[0]
    cs = pa.array(callsign if callsign is not None else [None] * n, pa.string())
    lat = np.asarray(latitude, np.float64)
    table = pa.table(
        [
            pa.array(np.asarray(time_ns, np.int64)).cast(TIME_TYPE),
            pa.array(ic.astype(np.int32)),
            cs,
            pa.array(lat),
            pa.array(np.asarray(longitude, np.float64)),
            pa.array(np.asarray(altitude_ft, np.float64)),
            pa.array(np.asarray(groundspeed_kt, np.float64)),
            pa.array(np.asarray(track_deg, np.float64)),
            pa.array(np.asarray(vertical_rate_fpm, np.float64)),
        ],
        schema=TRAJECTORY,
    )
    keep = ~np.isnan(lat) & ~np.isnan(np.asarray(longitude, np.float64))
    table = table.filter(pa.array(keep))
    return table.sort_by([("icao", "ascending"), ("time", "ascending")])


# --------------------------------------------------------------------------------------------
# generated flights


@dataclass(frozen=True, slots=True)
class Profile:
    """Climb, cruise and descent of a generated flight."""

    cruise_ft: float = 36_000.0
    cruise_kt: float = 450.0
    climb_fpm: float = 2_000.0
    descent_fpm: float = 1_800.0
    climb_kt: float = 290.0
    sample_s: float = 10.0


def great_circle_flight(
    icao: int,
    callsign: str,
    start_ns: int,
    origin: tuple[float, float],
    destination_: tuple[float, float],
    profile: Profile,
    *,
    climb: bool = True,
    descend: bool = True,
) -> pa.Table:
    """One generated flight along the great circle, sampled every ``profile.sample_s``.

    ``climb``/``descend`` False start or end the flight at cruise (overflights enter and leave
    the region at cruise level).
    """
    lat0, lon0 = origin
    lat1, lon1 = destination_
    dist = float(ground_distance_m(np.array([lat0]), np.array([lon0]), lat1, lon1)[0])
    bearing = _bearing(lat0, lon0, lat1, lon1)
    speed = profile.cruise_kt * 0.514444
    t_climb = profile.cruise_ft / profile.climb_fpm * 60.0 if climb else 0.0
    t_desc = profile.cruise_ft / profile.descent_fpm * 60.0 if descend else 0.0
    t = np.arange(0.0, dist / speed + t_climb + t_desc + 600.0, profile.sample_s)
    # speed: accelerate from climb speed to cruise during the climb, slow down in the descent
    gs = np.full(t.shape, profile.cruise_kt)
    t_total = dist / speed + t_climb / 2 + t_desc / 2
    if descend:
        slow = t > t_total - t_desc
        frac = np.clip((t_total - t) / max(t_desc, 1.0), 0.0, 1.0)
        gs = np.where(slow, 150.0 + (profile.cruise_kt - 150.0) * frac, gs)
    if climb:
        gs = np.where(
            t < t_climb,
            profile.climb_kt + (profile.cruise_kt - profile.climb_kt) * t / max(t_climb, 1.0),
            gs,
        )
    along = np.concatenate([[0.0], np.cumsum(gs[:-1] * 0.514444 * profile.sample_s)])
    inside = along <= dist
    t, gs, along = t[inside], gs[inside], along[inside]
    t_end = t[-1] if t.size else 0.0
    alt = np.full(t.shape, profile.cruise_ft)
    vr = np.zeros(t.shape)
    if climb:
        up = t < t_climb
        alt = np.where(up, t * profile.climb_fpm / 60.0, alt)
        vr = np.where(up, profile.climb_fpm, vr)
    if descend:
        down = t > t_end - t_desc
        alt = np.where(down, np.minimum(alt, (t_end - t) * profile.descent_fpm / 60.0), alt)
        vr = np.where(down & (alt < profile.cruise_ft), -profile.descent_fpm, vr)
    lat, lon = destination(np.full(t.shape, lat0), np.full(t.shape, lon0), bearing, along)
    track = np.array(
        [_bearing(a, b, lat1, lon1) for a, b in zip(lat.tolist(), lon.tolist(), strict=True)]
    )
    return trajectories_from_columns(
        time_ns=start_ns + (t * NS).astype(np.int64),
        icao=np.full(t.shape, icao),
        callsign=[callsign] * t.shape[0],
        latitude=lat,
        longitude=lon,
        altitude_ft=np.maximum(alt, 100.0),
        groundspeed_kt=gs,
        track_deg=track,
        vertical_rate_fpm=vr,
    )


def _bearing(lat0: float, lon0: float, lat1: float, lon1: float) -> float:
    p0, p1 = math.radians(lat0), math.radians(lat1)
    dl = math.radians(lon1 - lon0)
    y = math.sin(dl) * math.cos(p1)
    x = math.cos(p0) * math.sin(p1) - math.sin(p0) * math.cos(p1) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360.0


# --------------------------------------------------------------------------------------------
# transmission schedule


@dataclass(frozen=True, slots=True)
class Schedule:
    """Transmission instants with the interpolated true aircraft state (one row each)."""

    time_ns: I64
    kind: I64
    aircraft: I64  # index into the per-aircraft arrays (unique icao order)
    odd: I64
    latitude: F64
    longitude: F64
    altitude_ft: F64
    groundspeed_kt: F64
    track_deg: F64
    vertical_rate_fpm: F64


def message_schedule(
    traj: pa.Table, rates: Rates, rng: np.random.Generator
) -> tuple[Schedule, I64, list[str]]:
    """Transmission instants of every message of every aircraft, with interpolated states.

    Returns the schedule sorted by time, the ICAO address of each aircraft index and its
    callsign (first non-empty one). No message is sent inside a gap longer than
    ``rates.max_gap_s`` between trajectory samples.
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
    ac = np.repeat(np.arange(seg_first.shape[0]), seg_counts)  # segment of each sample
    seg_ac = ac_row[seg_first]
    t0 = t[seg_first]
    t1 = t[seg_first + seg_counts - 1]
    span = int((t1 - t0).max()) + 1 if seg_first.size else 1
    nseg = seg_first.shape[0]
    if nseg * (span + 1) >= 2**62:
        raise ValueError("trajectories span too long for one schedule: split them by day")
    key = ac * (span + 1) + (t - t0[ac])
    cols = {
        name: np.asarray(traj.column(name).to_numpy(zero_copy_only=False), np.float64)
        for name in ("latitude", "longitude", "altitude_ft", "groundspeed_kt", "vertical_rate_fpm")
    }
    trk = np.radians(np.asarray(traj.column("track_deg").to_numpy(zero_copy_only=False), float))
    cols["track_s"] = np.sin(trk)
    cols["track_c"] = np.cos(trk)
    parts: list[tuple[I64, I64, I64]] = []
    for kind, interval in rates.intervals():
        step = int(interval * NS)
        n_each = ((t1 - t0) // step).astype(np.int64) + 1
        a = np.repeat(np.arange(nseg), n_each)
        starts = np.concatenate([[0], np.cumsum(n_each)[:-1]])
        idx = np.arange(a.shape[0]) - np.repeat(starts, n_each)
        phase = rng.integers(0, step, nseg)
        jitter = rng.integers(-int(rates.jitter_s * NS), int(rates.jitter_s * NS) + 1, a.shape[0])
        tt = t0[a] + phase[a] + idx * step + jitter
        ok = (tt >= t0[a]) & (tt <= t1[a])
        parts.append((tt[ok], np.full(int(ok.sum()), kind), a[ok]))
    times = np.concatenate([p[0] for p in parts])
    kinds = np.concatenate([p[1] for p in parts])
    acs = np.concatenate([p[2] for p in parts])
    # interpolate the state between the bracketing samples of the same aircraft
    q = acs * (span + 1) + (times - t0[acs])
    hi = np.clip(np.searchsorted(key, q, side="right"), 1, key.shape[0] - 1)
    lo = hi - 1
    same = ac[hi] == acs
    hi = np.where(same, hi, lo)
    dt = (t[hi] - t[lo]).astype(np.float64)
    w = np.where(dt > 0, (times - t[lo]) / np.where(dt > 0, dt, 1.0), 0.0)
    w = np.clip(w, 0.0, 1.0)
    keep = ac[lo] == acs

    def lerp(v: F64) -> F64:
        a_, b_ = v[lo], v[hi]
        out = a_ + (b_ - a_) * w
        return np.asarray(np.where(np.isnan(out), np.where(w < 0.5, a_, b_), out))

    state = {name: lerp(v)[keep] for name, v in cols.items()}
    order = np.argsort(times[keep], kind="stable")
    kinds_k = kinds[keep][order]
    acs_k = seg_ac[acs[keep][order]]
    # even/odd alternate per aircraft over its position messages
    pos = kinds_k == KIND_POSITION
    odd = np.zeros(order.shape[0], dtype=np.int64)
    pa_ = acs_k[pos]
    rank = _rank_within(pa_)
    odd[pos] = (rank + pa_) % 2
    callsigns = _first_callsigns(traj, first, counts)
    sched = Schedule(
        time_ns=times[keep][order],
        kind=kinds_k,
        aircraft=acs_k,
        odd=odd,
        latitude=state["latitude"][order],
        longitude=state["longitude"][order],
        altitude_ft=state["altitude_ft"][order],
        groundspeed_kt=state["groundspeed_kt"][order],
        track_deg=np.degrees(np.arctan2(state["track_s"], state["track_c"]))[order] % 360.0,
        vertical_rate_fpm=state["vertical_rate_fpm"][order],
    )
    return sched, uniq, callsigns


def _rank_within(groups: I64) -> I64:
    """Running count of each value in ``groups`` (0 for its first occurrence, 1, ...)."""
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    starts = np.flatnonzero(np.concatenate([[True], g[1:] != g[:-1]]))
    counts = np.diff(np.concatenate([starts, [g.shape[0]]]))
    ranks_sorted = np.arange(g.shape[0]) - np.repeat(starts, counts)
    out = np.empty_like(ranks_sorted)
    out[order] = ranks_sorted
    return out


def _first_callsigns(traj: pa.Table, first: I64, counts: I64) -> list[str]:
    cs = traj.column("callsign").to_pylist()
    out = []
    for f, c in zip(first.tolist(), counts.tolist(), strict=True):
        name = next((x for x in cs[f : f + c] if x), "")
        out.append(str(name).strip()[:8])
    return out


# --------------------------------------------------------------------------------------------
# reception


@dataclass(frozen=True, slots=True)
class Receiver:
    """A ground receiver: site, antenna height above sea level, range and loss."""

    name: str
    latitude: float
    longitude: float
    height_m: float = 30.0
    range_km: float = 400.0
    p_near: float = 0.9


def receive(
    receivers: tuple[Receiver, ...],
    lat: F64,
    lon: F64,
    alt_ft: F64,
    rng: np.random.Generator,
) -> tuple[npt.NDArray[np.bool_], I64, F64]:
    """Which transmissions are received, by which receiver, and the range to it (m).

    A receiver hears a transmission inside its 1090 MHz radio line of sight and range with
    probability ``p_near (1 - (d / range)^2)``; the frame is kept once if any receiver hears
    it, attributed to the nearest such receiver. With no receivers, every frame is kept.
    """
    n = lat.shape[0]
    if not receivers:
        return np.ones(n, dtype=bool), np.full(n, -1, np.int64), np.zeros(n)
    got = np.zeros(n, dtype=bool)
    who = np.full(n, -1, dtype=np.int64)
    best = np.full(n, np.inf)
    alt_m = np.maximum(alt_ft * 0.3048, 0.0)
    k43 = math.sqrt(2.0 * 4.0 / 3.0 * EARTH_RADIUS_M)
    for k, rx in enumerate(receivers):
        d = ground_distance_m(lat, lon, rx.latitude, rx.longitude)
        horizon = k43 * (math.sqrt(max(rx.height_m, 0.0)) + np.sqrt(alt_m))
        p = rx.p_near * np.clip(1.0 - (d / (rx.range_km * 1000.0)) ** 2, 0.0, 1.0)
        heard = (d <= horizon) & (rng.random(n) < p)
        closer = heard & (d < best)
        who = np.where(closer, k, who)
        best = np.where(closer, d, best)
        got |= heard
    return got, who, np.where(got, best, np.nan)


__all__ = [
    "TRAJECTORY",
    "Profile",
    "Rates",
    "Receiver",
    "Schedule",
    "from_state_vectors",
    "great_circle_flight",
    "message_schedule",
    "read_traffic_json",
    "receive",
    "trajectories_from_columns",
]
