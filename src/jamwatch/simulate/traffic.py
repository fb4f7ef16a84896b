"""Traffic sources of the simulator: real trajectories and generated flights, as Arrow tables.

A trajectory table has one row per (aircraft, time) sample with the columns of
:data:`TRAJECTORY` (times are UTC int64 nanoseconds inside a ``timestamp[ns, UTC]`` column).
:func:`jamwatch.simulate.schedule.message_schedule` (re-exported here) turns trajectories into
transmission instants at the rates of a real transponder; :func:`receive` decides which
ground receivers hear each one.
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from jamwatch.geo import EARTH_RADIUS_M, bearing_deg, destination
from jamwatch.schema import TIME_TYPE
from jamwatch.simulate.radio import ground_distance_m, haversine_m
from jamwatch.simulate.schedule import Rates, Schedule, message_schedule

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
    """Climb, cruise and descent of a generated flight.

    The climb starts at ``climb_kt`` and speeds up to ``cruise_kt`` at cruise level; the
    descent slows down from cruise speed to ``approach_kt`` at the destination. A route too
    short for the whole profile tops out lower (and slower).
    """

    cruise_ft: float = 36_000.0
    cruise_kt: float = 450.0
    climb_fpm: float = 2_000.0
    descent_fpm: float = 1_800.0
    climb_kt: float = 290.0
    approach_kt: float = 150.0
    sample_s: float = 10.0


KT = 0.514444  # m/s per knot


def _phases(
    top_ft: float, profile: Profile, climb: bool, descend: bool
) -> tuple[float, float, float, float, float]:
    """Speed at the top (kt), climb and descent durations (s) and distances (m)."""
    p = profile
    v_top = p.climb_kt + (p.cruise_kt - p.climb_kt) * top_ft / p.cruise_ft if climb else p.cruise_kt
    t_up = top_ft / p.climb_fpm * 60.0 if climb else 0.0
    t_dn = top_ft / p.descent_fpm * 60.0 if descend else 0.0
    d_up = t_up * (p.climb_kt + v_top) / 2.0 * KT
    d_dn = t_dn * (v_top + p.approach_kt) / 2.0 * KT
    return v_top, t_up, t_dn, d_up, d_dn


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
    the region at cruise level). Speeds change linearly in time during the climb and the
    descent, so the distance flown has a closed form in each phase.
    """
    lat0, lon0 = origin
    lat1, lon1 = destination_
    dist = float(ground_distance_m(np.array([lat0]), np.array([lon0]), lat1, lon1)[0])
    top = profile.cruise_ft
    v_top, t_up, t_dn, d_up, d_dn = _phases(top, profile, climb, descend)
    if d_up + d_dn > dist:  # too short to reach cruise level: the highest top that fits
        low, high = 0.0, top
        for _ in range(60):
            top = (low + high) / 2.0
            v_top, t_up, t_dn, d_up, d_dn = _phases(top, profile, climb, descend)
            low, high = (top, high) if d_up + d_dn <= dist else (low, top)
        top = low
        v_top, t_up, t_dn, d_up, d_dn = _phases(top, profile, climb, descend)
    t_cr = max(dist - d_up - d_dn, 0.0) / (v_top * KT)
    t_end = t_up + t_cr + t_dn
    t = np.arange(0.0, t_end, profile.sample_s)
    t = np.append(t, t_end) if t.size == 0 or t[-1] < t_end else t
    up = t < t_up
    down = t > t_up + t_cr
    tau = np.where(down, t - t_up - t_cr, 0.0)  # time into the descent
    v0 = profile.climb_kt
    gs = np.where(up, v0 + (v_top - v0) * t / max(t_up, 1e-9), v_top)
    gs = np.where(down, v_top + (profile.approach_kt - v_top) * tau / max(t_dn, 1e-9), gs)
    along = np.where(
        up,
        KT * (v0 * t + (v_top - v0) * t * t / (2.0 * max(t_up, 1e-9))),
        d_up + KT * v_top * (t - t_up),
    )
    along = np.where(
        down,
        d_up
        + KT * v_top * t_cr
        + KT * (v_top * tau + (profile.approach_kt - v_top) * tau * tau / (2.0 * max(t_dn, 1e-9))),
        along,
    )
    alt = np.where(up, top * t / max(t_up, 1e-9), top)
    alt = np.where(down, top * (1.0 - tau / max(t_dn, 1e-9)), alt)
    vr = np.where(up, profile.climb_fpm, np.where(down, -profile.descent_fpm, 0.0))
    bearing = float(bearing_deg(lat0, lon0, lat1, lon1))
    lat, lon = destination(np.full(t.shape, lat0), np.full(t.shape, lon0), bearing, along)
    return trajectories_from_columns(
        time_ns=start_ns + (t * NS).astype(np.int64),
        icao=np.full(t.shape, icao),
        callsign=[callsign] * t.shape[0],
        latitude=lat,
        longitude=lon,
        altitude_ft=np.maximum(alt, 100.0),
        groundspeed_kt=gs,
        track_deg=bearing_deg(lat, lon, lat1, lon1),
        vertical_rate_fpm=vr,
    )


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


#: columns of the receiver rows of :func:`receiver_array`
RX_LAT_RAD = 0  # latitude, radians
RX_COS_LAT = 1  # cosine of the latitude
RX_LON_DEG = 2  # longitude, degrees
RX_SQRT_HEIGHT = 3  # square root of the antenna height above sea level (0 if below), sqrt(m)
RX_RANGE_M = 4  # range, m
RX_P_NEAR = 5  # probability of hearing a transmission close by
N_RX = 6


def receiver_array(receivers: tuple[Receiver, ...]) -> F64:
    """Receivers as the kernels read them, one row each (columns ``RX_*``)."""
    out = np.zeros((len(receivers), N_RX))
    for k, rx in enumerate(receivers):
        lat = math.radians(rx.latitude)
        out[k, RX_LAT_RAD] = lat
        out[k, RX_COS_LAT] = math.cos(lat)
        out[k, RX_LON_DEG] = rx.longitude
        out[k, RX_SQRT_HEIGHT] = math.sqrt(max(rx.height_m, 0.0))
        out[k, RX_RANGE_M] = rx.range_km * 1000.0
        out[k, RX_P_NEAR] = rx.p_near
    return out


#: 1090 MHz radio line of sight over a 4/3 earth: sqrt(2 k R), m per sqrt(m)
K43 = math.sqrt(2.0 * 4.0 / 3.0 * EARTH_RADIUS_M)


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def receive_row(
    rx: F64, lat_rad: float, cos_lat: float, lon: float, alt_ft: float, draws: F64, i: int
) -> tuple[int, float]:
    """The receiver that hears transmission ``i`` (nearest of those that do) and its range
    (m), or (-1, NaN); ``draws[k, i]`` is receiver ``k``'s uniform draw (see :func:`receive`).
    """
    p1 = lat_rad
    cos_p1 = cos_lat
    alt_m = alt_ft * 0.3048
    if alt_m < 0.0:
        alt_m = 0.0
    root = np.sqrt(alt_m)
    who = -1
    best = np.inf
    for k in range(rx.shape[0]):
        d = haversine_m(p1, cos_p1, lon, rx[k, RX_LAT_RAD], rx[k, RX_COS_LAT], rx[k, RX_LON_DEG])
        x = d / rx[k, RX_RANGE_M]
        p = rx[k, RX_P_NEAR] * min(max(1.0 - x * x, 0.0), 1.0)
        if d <= K43 * (rx[k, RX_SQRT_HEIGHT] + root) and draws[k, i] < p and d < best:
            who = k
            best = d
    return who, (best if who >= 0 else np.nan)


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _receive_kernel(
    rx: F64, lat: F64, lon: F64, alt_ft: F64, draws: F64, who: I64, dist: F64
) -> None:
    for i in range(lat.shape[0]):
        p1 = np.radians(lat[i])
        who[i], dist[i] = receive_row(rx, p1, np.cos(p1), lon[i], alt_ft[i], draws, i)


def reception_draws(n_receivers: int, n: int, rng: np.random.Generator) -> F64:
    """One uniform draw per receiver and transmission, receiver after receiver."""
    draws = np.empty((n_receivers, n))
    for k in range(n_receivers):
        rng.random(out=draws[k])
    return draws


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
    draws = reception_draws(len(receivers), n, rng)
    who = np.empty(n, dtype=np.int64)
    dist = np.empty(n)
    _receive_kernel(
        receiver_array(receivers),
        np.ascontiguousarray(lat, np.float64),
        np.ascontiguousarray(lon, np.float64),
        np.ascontiguousarray(alt_ft, np.float64),
        draws,
        who,
        dist,
    )
    return who >= 0, who, dist


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
    "receive_row",
    "receiver_array",
    "reception_draws",
    "trajectories_from_columns",
]
