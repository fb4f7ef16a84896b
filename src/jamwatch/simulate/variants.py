"""Scenario variants: a family of transmitters, traffic and avionics wider than reality.

A detector tuned on one member of the simulator's family (one avionics response, the shipped
sites and powers) can fail on data from any other generator; :func:`variant` draws randomized
copies of a scenario from the ranges of a :class:`VariantConfig`, and :data:`VARIANTS` names
the configurations that ``jamwatch eval --variant`` measures one by one.

Every variant first makes the baseline's draws (``VariantConfig()``, the first evaluation's
variants: each site moved by up to ``move_km``, jammer power scaled by up to ``power_db``, a
spoofer's only raised, schedules shifted by up to ``shift_s``, route densities scaled by a
factor in ``density``) from ``rng``, in the same order; what a variant changes beyond that is
drawn from a stream *beside* ``rng`` (a jump ahead of its state, which leaves ``rng``
untouched). So ``VariantConfig()`` gives the variants of before, and run k of every named
variant shares the baseline's sites, powers and schedules except what the variant redraws.

Transmitter sites relative to the traffic (``site``): ``inside`` at a random position of the
heard traffic, moved by up to ``move_km`` (kept within the traffic's convex hull); ``edge`` a
random point of that hull's boundary; ``beyond`` outside it, ``beyond_km`` out along the
boundary's normal. The hull is that of the base scenario's aircraft positions inside the
receivers' 1090 MHz line of sight (all positions without receivers), in an equirectangular
plane around their centre (a placement, not a measurement: a few % of distortion over
1,000 km does not matter). Power (``power_w``, log-uniform, jammers only), mast height
(``height_m``, log-uniform, per site) and the site modes replace the baseline's draws; a
duration (``duration_s``) keeps one jammer per site (the strongest) with one on-interval
of that length, starting ``LEAD_S`` or more after the start, and lengthens the scenario to
hold it. ``fleet`` and ``model`` draw fields of :class:`jamwatch.simulate.avionics.Fleet`
and :class:`jamwatch.simulate.radio.ReceiverModel` uniformly in their ranges.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from jamwatch.geo import EARTH_RADIUS_M, destination
from jamwatch.simulate.radio import Transmitter, radio_horizon_km
from jamwatch.simulate.radio import ground_distance_m as _ground_m
from jamwatch.simulate.scenario import NS, Scenario, build_traffic

F64 = npt.NDArray[np.float64]
Range = tuple[float, float]

#: a transmitter of a duration variant switches on at least this long after the start, and
#: the scenario runs at least this long after it switches off (the detector sees both sides)
LEAD_S = 600.0
SITE_MODES = ("inside", "edge", "beyond")


@dataclass(frozen=True, slots=True)
class VariantConfig:
    """Ranges of the random changes to a scenario (see the module documentation).

    ``None`` and empty tuples keep the baseline's draws. ``fleet`` and ``model``:
    (field name, low, high) of :class:`Fleet` and :class:`ReceiverModel`, drawn uniformly;
    ``response``: the fleet's response; ``region_only``: the transmitter is placed beyond the
    traffic, where only the coverage of the 95 % region is scored, not a distance.
    """

    move_km: float = 15.0
    power_db: float = 3.0
    shift_s: float = 120.0
    density: Range = (0.7, 1.3)
    power_w: Range | None = None
    height_m: Range | None = None
    site: tuple[str, ...] = ()
    beyond_km: Range = (30.0, 150.0)
    duration_s: Range | None = None
    response: str | None = None
    fleet: tuple[tuple[str, float, float], ...] = ()
    model: tuple[tuple[str, float, float], ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        unknown = set(self.site) - set(SITE_MODES)
        if unknown:
            raise ValueError(f"site modes are {', '.join(SITE_MODES)}, not {sorted(unknown)}")

    @property
    def region_only(self) -> bool:
        """Whether the transmitter may lie beyond the traffic (no distance target there)."""
        return "beyond" in self.site


_WIDE_FLEET = (
    ("tolerance_sd_db", 0.0, 6.0),
    ("hysteresis_db", 0.0, 6.0),
    ("recovery_s", 0.0, 90.0),
    ("shield_fraction", 0.0, 1.0),
    ("shield_db", 0.0, 20.0),
    ("stop_fraction", 0.0, 1.0),
)

#: the named variants of ``jamwatch eval --variant`` (docs/simulator.md, "Variants")
VARIANTS: dict[str, VariantConfig] = {
    "baseline": VariantConfig(
        description="shipped sites moved up to 15 km, power +-3 dB, schedule +-120 s, "
        "density x0.7-1.3; graded avionics"
    ),
    "one-step": VariantConfig(response="one_step", description="NIC nominal -> 0 in one step"),
    "two-level": VariantConfig(
        response="two_level", description="one degraded level (NIC 0-2, NACp 1-4) in the band"
    ),
    "mixed-fleet": VariantConfig(
        response="mixed",
        fleet=(("stop_fraction", 0.0, 1.0),),
        description="response drawn per aircraft; share stopping positions 0-1",
    ),
    "real-fleet": VariantConfig(
        response="mixed",
        fleet=(
            ("graded_weight", 0.19, 0.19),
            ("one_step_weight", 0.42, 0.42),
            ("two_level_weight", 0.39, 0.39),
        ),
        description="responses in the real Helsinki day's shares: 19 % graded, 42 % one step, "
        "39 % one level",
    ),
    "tolerance-spread": VariantConfig(
        fleet=(("tolerance_sd_db", 2.0, 6.0),), description="lock threshold +N(0, 2-6 dB)"
    ),
    "recovery-lag": VariantConfig(
        fleet=(("recovery_s", 90.0, 90.0), ("hysteresis_db", 0.0, 6.0)),
        description="recovery 0-90 s per aircraft after J/S < threshold - 0-6 dB",
    ),
    "shielded": VariantConfig(
        fleet=(("shield_fraction", 0.3, 1.0), ("shield_db", 20.0, 20.0)),
        description="30-100 % of antennas shielded, 0-20 dB each, for a transmitter below",
    ),
    "positions-kept": VariantConfig(
        fleet=(("stop_fraction", 0.0, 0.0),), description="every aircraft sends NIC 0 positions"
    ),
    "positions-stopped": VariantConfig(
        fleet=(("stop_fraction", 1.0, 1.0),), description="no position under loss of lock"
    ),
    "band": VariantConfig(
        model=(("degrade_band_db", 4.0, 20.0),), description="degraded band 4-20 dB wide"
    ),
    "strong": VariantConfig(
        power_w=(100.0, 1000.0), height_m=(50.0, 500.0), description="100 W-1 kW, 50-500 m mast"
    ),
    "weak": VariantConfig(
        power_w=(0.1, 2.0), site=("inside",), description="0.1-2 W, inside the traffic"
    ),
    "inside": VariantConfig(site=("inside",), description="sites inside the traffic"),
    "edge": VariantConfig(site=("edge",), description="sites on the traffic's edge"),
    "beyond": VariantConfig(
        site=("beyond",), description="sites 30-150 km beyond the traffic (region only)"
    ),
    "short": VariantConfig(duration_s=(600.0, 1800.0), description="on 10-30 min"),
    "long": VariantConfig(duration_s=(3600.0, 10800.0), description="on 1-3 h"),
    "dense": VariantConfig(density=(2.0, 3.0), description="traffic x2-3"),
    "sparse": VariantConfig(density=(0.2, 0.4), description="traffic x0.2-0.4"),
    "wide": VariantConfig(
        density=(0.3, 3.0),
        power_w=(0.1, 1000.0),
        height_m=(5.0, 500.0),
        site=("inside", "edge"),
        duration_s=(600.0, 10800.0),
        response="mixed",
        fleet=_WIDE_FLEET,
        model=(("degrade_band_db", 4.0, 20.0),),
        description="everything at once, from the widest ranges (sites inside or on the edge)",
    ),
}


def named(name: str) -> VariantConfig:
    """The variant called ``name`` (ValueError naming the known ones)."""
    if name not in VARIANTS:
        raise ValueError(f"unknown variant {name!r}: known ones are {', '.join(VARIANTS)}")
    return VARIANTS[name]


def variant(
    sc: Scenario, rng: np.random.Generator, config: VariantConfig | None = None
) -> Scenario:
    """A randomized copy of ``sc`` (one move per site, so co-sited transmitters stay together)."""
    c = config or VariantConfig()
    out = _baseline(sc, rng, c)
    side = _beside(rng)
    out = _transmitters(sc, out, side, c)
    fleet = replace(out.fleet, **_uniform(c.fleet, side))
    if c.response is not None:
        fleet = replace(fleet, response=c.response)
    return replace(out, fleet=fleet, model=replace(out.model, **_uniform(c.model, side)))


def _beside(rng: np.random.Generator) -> np.random.Generator:
    """A generator whose stream lies far ahead of ``rng``'s, made without advancing ``rng``."""
    jumped = getattr(rng.bit_generator, "jumped", None)
    if jumped is None:
        raise TypeError("variants need a bit generator that can jump (PCG64, NumPy's default)")
    return np.random.Generator(jumped())


def _uniform(
    ranges: tuple[tuple[str, float, float], ...], rng: np.random.Generator
) -> dict[str, Any]:
    """One uniform draw per (field name, low, high), in their order."""
    return {name: float(rng.uniform(lo, hi)) for name, lo, hi in ranges}


def _log_uniform(bounds: Range, rng: np.random.Generator) -> float:
    """A draw uniform in the logarithm between ``bounds``."""
    return float(np.exp(rng.uniform(math.log(bounds[0]), math.log(bounds[1]))))


def _baseline(sc: Scenario, rng: np.random.Generator, c: VariantConfig) -> Scenario:
    """The draws of the first evaluation: sites, powers, schedules, route densities."""
    moves: dict[tuple[float, float], tuple[float, float]] = {}
    txs = []
    for tx in sc.transmitters:
        key = (tx.latitude, tx.longitude)
        if key not in moves:
            moved = destination(
                tx.latitude,
                tx.longitude,
                float(rng.uniform(0, 360)),
                c.move_km * 1000.0 * float(np.sqrt(rng.uniform())),
            )
            moves[key] = (float(moved[0]), float(moved[1]))
        # a spoofer's reach is marginal in the shipped scenario (it captures aircraft at the
        # edge of its range): its power is only raised, so every variant still captures some
        low, high = (0.0, 2 * c.power_db) if tx.spoof is not None else (-c.power_db, c.power_db)
        gain = 10 ** (float(rng.uniform(low, high)) / 10.0)
        shift = int(rng.uniform(-c.shift_s, c.shift_s) * NS)
        lo, hi = sc.start_ns, sc.end_ns
        sched = tuple(
            (min(max(a + shift, lo), hi - NS), min(max(b + shift, lo + NS), hi))
            for a, b in tx.schedule
        )
        site = moves[key]
        txs.append(
            replace(
                tx, latitude=site[0], longitude=site[1], eirp_w=tx.eirp_w * gain, schedule=sched
            )
        )
    routes = tuple(
        replace(r, per_hour=r.per_hour * float(rng.uniform(*c.density))) for r in sc.routes
    )
    return replace(sc, transmitters=tuple(txs), routes=routes)


def _transmitters(
    base: Scenario, sc: Scenario, rng: np.random.Generator, c: VariantConfig
) -> Scenario:
    """The jammers' power, mast, site and schedule drawn anew where ``c`` asks for it."""
    sites = {(t.latitude, t.longitude) for t in base.transmitters}
    per_site = {key: (rng.random(), rng.random(), rng.random()) for key in sorted(sites)}
    txs = []
    for orig, tx in zip(base.transmitters, sc.transmitters, strict=True):
        if tx.spoof is not None:
            txs.append(tx)
            continue
        u_height, u_mode, u_place = per_site[(orig.latitude, orig.longitude)]
        if c.power_w is not None:
            tx = replace(tx, eirp_w=_log_uniform(c.power_w, rng))
        if c.height_m is not None:
            lo, hi = (math.log(x) for x in c.height_m)
            tx = replace(tx, height_m=float(np.exp(lo + (hi - lo) * u_height)))
        if c.site:
            mode = c.site[min(int(u_mode * len(c.site)), len(c.site) - 1)]
            seeded = np.random.default_rng(int(u_place * 2**62))  # one place per site
            lat, lon = place(traffic_area(base), mode, seeded, c)
            tx = replace(tx, latitude=lat, longitude=lon, ground_m=0.0)
        txs.append(tx)
    out = replace(sc, transmitters=tuple(txs))
    return _one_interval(out, rng, c.duration_s) if c.duration_s is not None else out


def _one_interval(sc: Scenario, rng: np.random.Generator, bounds: Range) -> Scenario:
    """The strongest jammer of each site, on for one interval of a length within ``bounds``;
    the scenario lengthened to hold every interval with ``LEAD_S`` on both sides."""
    strongest: dict[tuple[float, float], Transmitter] = {}
    for tx in sc.transmitters:
        key = (tx.latitude, tx.longitude)
        if tx.spoof is None and (key not in strongest or tx.eirp_w > strongest[key].eirp_w):
            strongest[key] = tx
    lengths = [float(rng.uniform(*bounds)) for _ in strongest]
    duration = max([sc.duration_s, *(d + 2 * LEAD_S for d in lengths)])
    txs = [tx for tx in sc.transmitters if tx.spoof is not None]
    for tx, length in zip(strongest.values(), lengths, strict=True):
        latest = max(duration - LEAD_S - length, LEAD_S)  # equal, to rounding, for the longest
        on = sc.start_ns + int(rng.uniform(LEAD_S, latest) * NS)
        txs.append(replace(tx, schedule=((on, on + int(length * NS)),)))
    return replace(sc, duration_s=duration, transmitters=tuple(txs))


# --------------------------------------------------------------------------------------------
# where the traffic is


@dataclass(frozen=True, slots=True)
class TrafficArea:
    """The heard traffic in an equirectangular plane (km) around (``lat0``, ``lon0``):
    ``points`` its positions, ``hull`` its convex hull (counter-clockwise, not closed)."""

    lat0: float
    lon0: float
    points: F64
    hull: F64

    def to_plane(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> tuple[F64, F64]:
        """(x, y) in km of positions."""
        r = EARTH_RADIUS_M / 1000.0
        x = (
            np.radians(np.asarray(lon, np.float64) - self.lon0)
            * r
            * math.cos(math.radians(self.lat0))
        )
        return x, np.radians(np.asarray(lat, np.float64) - self.lat0) * r

    def to_lat_lon(self, x: float, y: float) -> tuple[float, float]:
        """Latitude and longitude of a point of the plane."""
        r = EARTH_RADIUS_M / 1000.0
        lat = self.lat0 + math.degrees(y / r)
        return lat, self.lon0 + math.degrees(x / (r * math.cos(math.radians(self.lat0))))

    def outside_km(self, x: npt.ArrayLike, y: npt.ArrayLike) -> F64:
        """Signed distance (km) of points from the hull's boundary: positive outside."""
        p = np.stack([np.asarray(x, np.float64), np.asarray(y, np.float64)], -1)[..., None, :]
        a, b = self.hull, np.roll(self.hull, -1, axis=0)
        ab = b - a
        u = np.clip(((p - a) * ab).sum(-1) / (ab * ab).sum(-1), 0.0, 1.0)
        dist = np.linalg.norm(p - (a + u[..., None] * ab), axis=-1).min(-1)
        cross = ab[:, 0] * (p[..., 1] - a[:, 1]) - ab[:, 1] * (p[..., 0] - a[:, 0])
        return np.asarray(np.where((cross >= 0).all(-1), -dist, dist))


@functools.lru_cache(maxsize=16)
def traffic_area(sc: Scenario) -> TrafficArea:
    """Where ``sc``'s traffic is heard (its traffic drawn once, with seed 0)."""
    traffic = build_traffic(sc, np.random.default_rng(0))
    lat = np.asarray(traffic.column("latitude").to_numpy(), np.float64)
    lon = np.asarray(traffic.column("longitude").to_numpy(), np.float64)
    alt_m = np.asarray(traffic.column("altitude_ft").to_numpy(), np.float64) * 0.3048
    heard = np.zeros(lat.shape[0], np.bool_) if sc.receivers else np.ones(lat.shape[0], np.bool_)
    for rx in sc.receivers:
        d_km = _ground_m(lat, lon, rx.latitude, rx.longitude) / 1000.0
        heard |= (d_km <= rx.range_km) & (d_km <= radio_horizon_km(rx.height_m, alt_m))
    if not heard.any():
        raise ValueError(f"scenario {sc.name}: no traffic within the receivers' reach")
    lat, lon = lat[heard], lon[heard]
    area = TrafficArea(float(np.mean(lat)), float(np.mean(lon)), np.zeros((0, 2)), np.zeros(0))
    points = np.stack(area.to_plane(lat, lon), -1)
    return replace(area, points=points, hull=_hull(points))


def _hull(points: F64) -> F64:
    """Convex hull vertices, counter-clockwise (quickhull: one NumPy pass per vertex)."""
    a, b = points[np.argmin(points[:, 0])], points[np.argmax(points[:, 0])]
    return np.array([a, *_chain(points, a, b), b, *_chain(points, b, a)])


def _chain(points: F64, a: F64, b: F64) -> list[F64]:
    """The hull's vertices strictly right of the line from ``a`` to ``b``, in order."""
    cross = (b[0] - a[0]) * (points[:, 1] - a[1]) - (b[1] - a[1]) * (points[:, 0] - a[0])
    right = cross < -1e-9
    if not right.any():
        return []
    far = points[right][np.argmin(cross[right])]
    return [*_chain(points[right], a, far), far, *_chain(points[right], far, b)]


def place(
    area: TrafficArea, mode: str, rng: np.random.Generator, c: VariantConfig
) -> tuple[float, float]:
    """A site (latitude, longitude) ``inside``, on the ``edge`` of or ``beyond`` the traffic."""
    if mode == "inside":
        x, y = area.points[rng.integers(area.points.shape[0])]
        r, bearing = c.move_km * math.sqrt(rng.random()), rng.uniform(0.0, 2 * math.pi)
        moved = (x + r * math.sin(bearing), y + r * math.cos(bearing))
        return area.to_lat_lon(*(moved if area.outside_km(*moved) <= 0.0 else (x, y)))
    a, b = area.hull, np.roll(area.hull, -1, axis=0)
    length = np.linalg.norm(b - a, axis=1)
    at = rng.uniform(0.0, length.sum())
    k = min(int(np.searchsorted(np.cumsum(length), at)), length.shape[0] - 1)
    edge = a[k] + (b[k] - a[k]) * (at - (np.cumsum(length)[k] - length[k])) / length[k]
    if mode == "beyond":
        normal = np.array([b[k, 1] - a[k, 1], a[k, 0] - b[k, 0]]) / length[k]
        edge = edge + normal * rng.uniform(*c.beyond_km)
    return area.to_lat_lon(float(edge[0]), float(edge[1]))


__all__ = [
    "LEAD_S",
    "SITE_MODES",
    "VARIANTS",
    "TrafficArea",
    "VariantConfig",
    "named",
    "place",
    "traffic_area",
    "variant",
]
