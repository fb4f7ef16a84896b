"""The ship simulator: AIS traffic of the Korean West Sea under jamming and spoofing, with the
truth beside every message.

Ships sail straight lanes (the Incheon approaches, the coastal route, the Yeonpyeong fishing
grounds; :data:`WEST_SEA`), lie at anchor off Incheon, or fish in loops near Yeonpyeong
(irregular loops that really happen and must not be flagged). They report as AIS class A
(type 1: every 10 s underway, 6 s above 14 kt, 3 min at anchor) or class B (type 18: every
30 s, 3 min below 2 kt), and send static data (type 24) every 6 minutes; every message is
heard by each shore station with a chance (``loss``), so a message may come twice.

Jamming uses the aircraft simulator's radio physics (:func:`jamwatch.simulate.radio.
received_dbm`, with the ship's antenna height): a unit loses lock when the jamming-to-signal
ratio exceeds the model's threshold plus its own offset (``tolerance_sd_db``), and then,
as the :class:`ShipFamily` says, reports "not available" (91/181), keeps sending its last
fix frozen, or sends no position at all (static messages continue). Spoofing: ships within
``reach_km`` of a :class:`ShipSpoofer` while it is on report positions on its circle (centre,
radius, period, each ship at its own phase: the published pattern) or at its fixed point
(many ships on one point).

:func:`simulate_ships` writes NMEA lines (:mod:`jamwatch.simulate.ais_encode`) and the
truth table (:data:`SHIP_TRUTH`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from jamwatch.geo import bearing_deg, destination, distance_m
from jamwatch.simulate.ais_encode import payloads, sentences
from jamwatch.simulate.radio import ReceiverModel, Transmitter, is_on, received_dbm

F64 = npt.NDArray[np.float64]
NS = 1_000_000_000
KT = 1852.0 / 3600.0

#: what a unit sends under loss of lock
RESPONSES = ("not_available", "frozen", "silent")
#: the kinds of :class:`Lane`
KINDS = ("lane", "anchorage", "fishing")


@dataclass(frozen=True, slots=True)
class Lane:
    """A straight lane from (lat0, lon0) to (lat1, lon1) with ``ships`` on it at ``speed_kt``
    (a range); ``kind`` "lane", "anchorage" (ships at rest within ``radius_m``) or "fishing"
    (ships looping around the lane's start, loops of about ``radius_m``)."""

    name: str
    lat0: float
    lon0: float
    lat1: float
    lon1: float
    ships: int
    speed_kt: tuple[float, float] = (10.0, 16.0)
    kind: str = "lane"
    radius_m: float = 1000.0
    class_b_share: float = 0.2


#: the Korean West Sea: the Incheon approaches, the coastal route, an anchorage off Incheon
#: and the fishing grounds around Yeonpyeong (37.67 N 125.70 E)
WEST_SEA = (
    Lane("Incheon approach", 37.00, 124.90, 37.38, 126.30, 12, (11.0, 17.0)),
    Lane("coastal route", 36.50, 125.90, 37.30, 126.15, 8, (9.0, 14.0)),
    Lane("Yeonpyeong passage", 37.45, 125.30, 37.75, 126.00, 5, (8.0, 12.0), class_b_share=0.6),
    Lane("Incheon anchorage", 37.36, 126.42, 37.36, 126.42, 6, (0.0, 0.3), "anchorage", 2500.0),
    Lane("Yeonpyeong fishing", 37.60, 125.55, 37.60, 125.55, 8, (4.0, 8.0), "fishing", 900.0, 1.0),
)


@dataclass(frozen=True, slots=True)
class ShipSpoofer:
    """A spoofer that captures ships within ``reach_km`` of its site while on: they report
    positions on a circle (``mode`` "circle": centre, ``radius_m``, ``period_s``) or at the
    fixed point (``mode`` "point")."""

    latitude: float
    longitude: float
    reach_km: float
    centre_lat: float
    centre_lon: float
    mode: str = "circle"
    radius_m: float = 2000.0
    period_s: float = 600.0
    schedule: tuple[tuple[int, int], ...] = ()

    def __post_init__(self) -> None:
        if self.mode not in ("circle", "point"):
            raise ValueError(f"mode must be 'circle' or 'point', not {self.mode!r}")
        if self.reach_km <= 0 or self.period_s <= 0 or self.radius_m <= 0:
            raise ValueError("reach_km, radius_m and period_s must be positive")


#: the built-in sets of lanes a scenario's ``[ships]`` table names
LANES = {"west-sea": WEST_SEA}


@dataclass(frozen=True, slots=True)
class ShipPlan:
    """A scenario's ships: its lanes and the spoofers that act on ships."""

    lanes: tuple[Lane, ...]
    spoofers: tuple[ShipSpoofer, ...] = ()


@dataclass(frozen=True, slots=True)
class ShipFamily:
    """The assumptions a ship detector must survive: what a unit sends under loss of lock
    (``response``: one of :data:`RESPONSES`, or "mixed"), how much receivers differ, the
    antenna heights and gain, message loss and the shore stations."""

    response: str = "mixed"
    tolerance_sd_db: float = 3.0
    antenna_m: tuple[float, float] = (10.0, 40.0)
    antenna_gain_db: float = -5.0
    loss: float = 0.2
    stations: int = 2
    lanes: tuple[Lane, ...] = field(default=WEST_SEA)


SHIP_TRUTH = pa.schema(
    [
        pa.field("time", pa.timestamp("ns", tz="UTC")),
        pa.field("mmsi", pa.int64()),
        pa.field("msg_type", pa.int64()),
        pa.field("effect", pa.string()),  # "none", "jammed" or "spoofed"
        pa.field("true_latitude", pa.float64()),
        pa.field("true_longitude", pa.float64()),
        pa.field("lane_kind", pa.string()),  # the ship's lane: "lane", "anchorage", "fishing"
    ]
)


def _track(
    lane: Lane, rng: np.random.Generator, t_s: F64, speed: float
) -> tuple[F64, F64, F64, F64]:  # fmt: skip
    """Positions, speed and course of one ship of ``lane`` at times ``t_s`` (s)."""
    if lane.kind == "anchorage":
        lat, lon = destination(
            lane.lat0, lane.lon0, rng.uniform(0, 360), rng.uniform(0, lane.radius_m)
        )
        swing = 5.0 * np.sin(t_s / 600.0 + rng.uniform(0, 6.3))  # swinging at the chain
        la, lo = destination(np.full(t_s.shape, lat), np.full(t_s.shape, lon), 90.0, swing)
        return la, lo, np.full(t_s.shape, speed), np.full(t_s.shape, np.nan)
    if lane.kind == "fishing":
        clat, clon = destination(lane.lat0, lane.lon0, rng.uniform(0, 360), rng.uniform(0, 5000))
        r0 = lane.radius_m * rng.uniform(0.5, 1.5)
        w = speed * KT / r0  # rad/s
        angle = w * t_s + rng.uniform(0, 6.3)
        wobble = 1.0 + rng.uniform(0.1, 0.3) * np.sin(
            rng.integers(2, 5) * angle + rng.uniform(0, 6.3)
        )
        drift = rng.uniform(0, 0.5) * t_s  # the loops drift with the net
        la, lo = destination(
            np.full(t_s.shape, float(clat)),
            np.full(t_s.shape, float(clon)),
            np.degrees(angle) % 360.0,
            r0 * wobble,
        )
        la, lo = destination(la, lo, rng.uniform(0, 360), drift)
        return la, lo, np.full(t_s.shape, speed), np.degrees(angle + np.pi / 2) % 360.0
    course = float(bearing_deg(lane.lat0, lane.lon0, lane.lat1, lane.lon1))
    length = float(distance_m(lane.lat0, lane.lon0, lane.lat1, lane.lon1))
    forward = rng.random() < 0.5
    s0 = rng.uniform(0, length)
    s = s0 + speed * KT * t_s
    s = np.where(forward, s, length - s)
    la, lo = destination(lane.lat0, lane.lon0, course, s)
    return (
        la,
        lo,
        np.full(t_s.shape, speed),
        np.full(t_s.shape, course if forward else (course + 180.0) % 360.0),
    )


def _times(rng: np.random.Generator, duration_s: float, speed: float, class_b: bool) -> F64:
    """Report times of one ship (s from the start)."""
    if class_b:
        step = 30.0 if speed > 2.0 else 180.0
    else:
        step = 180.0 if speed < 1.0 else 6.0 if speed > 14.0 else 10.0
    t = np.arange(rng.uniform(0, step), duration_s, step)
    return np.asarray(np.maximum(t + rng.normal(0.0, 0.3, t.shape).clip(-0.5, 0.5), 0.0))


def _jamming(
    jammers: tuple[Transmitter, ...], lat: F64, lon: F64, h: float, t_ns: npt.NDArray[np.int64],
    model: ReceiverModel,
) -> F64:  # fmt: skip
    """The jamming-to-signal ratio (dB) at each report of a ship (the strongest jammer on)."""
    js = np.full(lat.shape, -np.inf)
    for tx in jammers:
        if tx.spoof is None and tx.eirp_w > 0:
            power = received_dbm(tx, lat, lon, np.full(lat.shape, h), model)
            js = np.maximum(js, np.where(is_on(tx, t_ns), power - model.signal_dbm, -np.inf))
    return js


def _spoofed(
    spoofers: tuple[ShipSpoofer, ...], lat: F64, lon: F64, t_s: F64, t_ns: npt.NDArray[np.int64],
    rng: np.random.Generator,
) -> tuple[npt.NDArray[np.bool_], F64, F64]:  # fmt: skip
    """Which reports a spoofer captures, and the false positions it makes them report."""
    hit = np.zeros(lat.shape, np.bool_)
    flat, flon = lat.copy(), lon.copy()
    for sp in spoofers:
        on = np.ones(lat.shape, np.bool_)
        if sp.schedule:
            on = np.zeros(lat.shape, np.bool_)
            for a, b in sp.schedule:
                on |= (t_ns >= a) & (t_ns < b)
        near = on & (distance_m(lat, lon, sp.latitude, sp.longitude) <= sp.reach_km * 1000.0)
        near &= ~hit
        if not near.any():
            continue
        if sp.mode == "circle":
            angle = 360.0 * t_s[near] / sp.period_s + rng.uniform(0, 360)
            la, lo = destination(sp.centre_lat, sp.centre_lon, angle % 360.0, sp.radius_m)
        else:
            la, lo = np.full(near.sum(), sp.centre_lat), np.full(near.sum(), sp.centre_lon)
        flat[near], flon[near] = la, lo
        hit |= near
    return hit, flat, flon


def _ship(
    lane: Lane, fam: ShipFamily, jammers: tuple[Transmitter, ...],
    spoofers: tuple[ShipSpoofer, ...], m: ReceiverModel, start_ns: int, duration_s: float,
    rng: np.random.Generator,
) -> dict[str, F64]:  # fmt: skip
    """One ship's messages (positions as reported, static data every 6 minutes) with their
    truth: keys ``t`` (s), ``type``, ``effect`` (0 none, 1 jammed, 2 spoofed), ``lat``,
    ``lon`` (true), ``rlat``, ``rlon``, ``sog``, ``cog`` (reported)."""
    class_b = bool(rng.random() < lane.class_b_share)
    speed = float(rng.uniform(*lane.speed_kt))
    t_s = _times(rng, duration_s, speed, class_b)
    lat, lon, sog, cog = _track(lane, rng, t_s, speed)
    t_ns = start_ns + np.rint(t_s * NS).astype(np.int64)
    js = _jamming(jammers, lat, lon, float(rng.uniform(*fam.antenna_m)), t_ns, m)
    jammed = js >= m.lock_js_db + rng.normal(0.0, fam.tolerance_sd_db)
    spoofed, rlat, rlon = _spoofed(spoofers, lat, lon, t_s, t_ns, rng)
    jammed &= ~spoofed
    response = fam.response if fam.response != "mixed" else str(rng.choice(RESPONSES))
    rsog, keep = sog.copy(), np.ones(lat.shape, np.bool_)
    if response == "not_available":
        rlat[jammed] = rlon[jammed] = rsog[jammed] = np.nan
    elif response == "frozen":
        last = np.maximum.accumulate(np.where(~jammed, np.arange(lat.shape[0]), 0))
        rlat, rlon, rsog = rlat[last], rlon[last], rsog[last]
        spoofed = spoofed | (jammed & spoofed[last])  # (a false fix repeated is still false)
        jammed &= ~spoofed
    else:  # silent: no position message at all
        keep = ~jammed
    effect = np.where(spoofed, 2.0, np.where(jammed, 1.0, 0.0))
    ts = np.arange(rng.uniform(0, 360), duration_s, 360.0)
    k = np.clip(np.searchsorted(t_s, ts), 0, t_s.shape[0] - 1)
    none = np.full(ts.shape, np.nan)
    return {
        "t": np.concatenate([t_s[keep], ts]),
        "type": np.concatenate(
            [np.full(int(keep.sum()), 18.0 if class_b else 1.0), np.full(ts.shape, 24.0)]
        ),
        "effect": np.concatenate([effect[keep], effect[k]]),
        "lat": np.concatenate([lat[keep], lat[k]]),
        "lon": np.concatenate([lon[keep], lon[k]]),
        "rlat": np.concatenate([rlat[keep], none]),
        "rlon": np.concatenate([rlon[keep], none]),
        "sog": np.concatenate([rsog[keep], none]),
        "cog": np.concatenate([cog[keep], none]),
    }


def _heard(
    c: dict[str, F64], fam: ShipFamily, start_ns: int, rng: np.random.Generator
) -> tuple[list[str], dict[str, F64]]:  # fmt: skip
    """The lines the shore stations hear (each message by each station with a chance, a
    little later), in time order, and the truth of each line."""
    times: list[F64] = []
    lines: list[str] = []
    rows: list[npt.NDArray[np.int64]] = []
    for j in range(fam.stations):
        heard = np.flatnonzero(rng.random(c["t"].shape) >= fam.loss)
        t = start_ns + np.rint((c["t"][heard] + rng.uniform(0.0, 0.2, heard.shape)) * NS)
        for kind in (1.0, 18.0, 24.0):
            sel = c["type"][heard] == kind
            idx = heard[sel]
            if not idx.shape[0]:
                continue
            fields: dict[str, npt.ArrayLike] = {"mmsi": c["mmsi"][idx].astype(np.int64)}
            texts = None
            if kind == 24.0:
                fields["part"] = np.zeros(idx.shape[0], np.int64)
                texts = {"ship_name": [f"SIM {int(v) % 100000:05d}" for v in c["mmsi"][idx]]}
            else:
                for key, name in (("rlat", "lat"), ("rlon", "lon"), ("sog", "sog"), ("cog", "cog")):
                    fields[name] = c[key][idx]
            text, fill = payloads(int(kind), fields, texts)
            lines += sentences(text, fill, t[sel].astype(np.int64), f"shore-{j + 1}")
            times.append(t[sel])
            rows.append(idx)
    order = np.argsort(np.concatenate(times), kind="stable")
    idx = np.concatenate(rows)[order]
    truth = {k: c[k][idx] for k in ("mmsi", "type", "effect", "lat", "lon", "kind")}
    truth["t"] = np.concatenate(times)[order]
    return [lines[i] for i in order], truth


def simulate_ships(
    start_ns: int, duration_s: float, jammers: tuple[Transmitter, ...],
    spoofers: tuple[ShipSpoofer, ...] = (), family: ShipFamily | None = None,
    model: ReceiverModel | None = None, seed: int = 0,
) -> tuple[list[str], pa.Table]:  # fmt: skip
    """NMEA lines of the ships' AIS in time order, and the truth of each line (same order:
    :data:`SHIP_TRUTH`)."""
    fam = family or ShipFamily()
    m = model or ReceiverModel()
    m = ReceiverModel(m.signal_dbm, m.lock_js_db, m.degrade_band_db, fam.antenna_gain_db)
    rng = np.random.default_rng(seed)
    ships: list[dict[str, F64]] = []
    mmsi = 440_000_000  # (440: the Republic of Korea)
    for lane in fam.lanes:
        for _ in range(lane.ships):
            mmsi += int(rng.integers(1, 997))
            one = _ship(lane, fam, jammers, spoofers, m, start_ns, duration_s, rng)
            one["mmsi"] = np.full(one["t"].shape, float(mmsi))
            one["kind"] = np.full(one["t"].shape, float(KINDS.index(lane.kind)))
            ships.append(one)
    c = {k: np.concatenate([s[k] for s in ships]) for k in ships[0]}
    lines, tr = _heard(c, fam, start_ns, rng)
    names = np.array(["none", "jammed", "spoofed"])
    table = pa.table(
        {
            "time": pa.array(tr["t"].astype(np.int64)).cast(SHIP_TRUTH.field("time").type),
            "mmsi": pa.array(tr["mmsi"].astype(np.int64)),
            "msg_type": pa.array(tr["type"].astype(np.int64)),
            "effect": pa.array(names[tr["effect"].astype(np.int64)]),
            "true_latitude": pa.array(tr["lat"]),
            "true_longitude": pa.array(tr["lon"]),
            "lane_kind": pa.array(np.array(KINDS)[tr["kind"].astype(np.int64)]),
        },
        schema=SHIP_TRUTH,
    )
    return lines, table


__all__ = [
    "LANES",
    "RESPONSES",
    "SHIP_TRUTH",
    "WEST_SEA",
    "Lane",
    "ShipFamily",
    "ShipPlan",
    "ShipSpoofer",
    "simulate_ships",
]
