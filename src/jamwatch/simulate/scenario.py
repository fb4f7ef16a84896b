"""Scenario files: a region's traffic, its transmitters and receivers, in one small TOML file.

Schema (times are ISO 8601 UTC, e.g. ``2024-05-29T06:00:00Z``; all keys below the tables are
optional unless marked *required*)::

    name = "korea-west-sea"            # required
    description = "..."
    attribution = "..."                # sources of sites, powers and trajectories
    start = "2024-05-29T06:00:00Z"     # required
    duration_s = 3600                  # required

    [model]        lock_js_db, degrade_band_db, antenna_gain_db, capture_db   (ReceiverModel)
    [fleet]        nic9_fraction, nacp10_fraction, faulty_fraction, stop_fraction,
                   response = "graded" | "one_step" | "two_level" | "mixed",
                   tolerance_sd_db, hysteresis_db, recovery_s,
                   shield_fraction, shield_db, shield_full_deg,
                   graded_weight, one_step_weight, two_level_weight  (avionics.Fleet)
    [traffic]
    trajectories = "data/file.json.gz" # traffic JSON, relative to the scenario file
    time_shift = true                  # move the recording's first sample to `start`
    [[traffic.routes]]                 # generated flights
    from = "RKSI" | [lat, lon]         # required: ICAO airport code (airportsdata) or point
    to = "ZSPD" | [lat, lon]           # required
    per_hour = 4                       # required: departures per hour, evenly spread
    climb = true                       # false: enters the region at cruise level
    descend = true                     # false: leaves the region at cruise level
    cruise_ft = 36000
    cruise_kt = 450

    [[transmitters]]
    name = "Kaesong"                   # required
    latitude = 37.97                   # required
    longitude = 126.55                 # required
    eirp_w = 50                        # required
    height_m = 30
    ground_m = 0
    on = [["2024-05-29T06:10:00Z", "2024-05-29T06:40:00Z"]]   # absolute on-intervals, or
    on_s = [[600, 2400]]               # on-intervals in seconds after `start`; none: always on
    [transmitters.spoof]               # makes it a spoofer
    mode = "fixed" | "drift"
    latitude = 33.0                    # false point (fixed)
    longitude = 35.0
    drift_mps = 0                      # drift speed (drift)
    bearing_deg = 0
    velocity = "kept" | "consistent"

    [ships]                            # ships' AIS (jamwatch simulate --ships)
    lanes = "west-sea"                 # a built-in set of lanes (simulate/ships.py)
    [[ships.spoofers]]                 # a spoofer acting on ships near it
    latitude = 37.9                    # required: its site
    longitude = 125.6
    reach_km = 30                      # required: ships within this are captured
    centre_lat = 37.55                 # required: the false circle's centre, or the point
    centre_lon = 125.45
    mode = "circle" | "point"
    radius_m = 2000
    period_s = 600
    on_s = [[1800, 3600]]              # as a transmitter's

    [[receivers]]                      # none: every frame is heard
    name = "Incheon"                   # required
    latitude = 37.46                   # required
    longitude = 126.44                 # required
    height_m = 30
    range_km = 400
    p_near = 0.9

:func:`load` validates the file and raises :class:`ScenarioError` naming the key at fault.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from jamwatch.simulate.avionics import Fleet
from jamwatch.simulate.radio import ReceiverModel, Spoof, Transmitter
from jamwatch.simulate.run import Simulation, simulate, transmitters_table
from jamwatch.simulate.ships import LANES, ShipPlan, ShipSpoofer
from jamwatch.simulate.traffic import (
    TRAJECTORY,
    Profile,
    Receiver,
    great_circle_flight,
    read_traffic_json,
)

NS = 1_000_000_000


class ScenarioError(ValueError):
    """A scenario file that does not follow the schema (the message names the key)."""


@dataclass(frozen=True, slots=True)
class Route:
    """Generated flights between two points."""

    origin: tuple[float, float]
    destination: tuple[float, float]
    per_hour: float
    climb: bool = True
    descend: bool = True
    cruise_ft: float = 36_000.0
    cruise_kt: float = 450.0


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario."""

    name: str
    description: str
    attribution: str
    start_ns: int
    duration_s: float
    transmitters: tuple[Transmitter, ...]
    receivers: tuple[Receiver, ...]
    routes: tuple[Route, ...]
    trajectories: Path | None
    time_shift: bool
    model: ReceiverModel
    fleet: Fleet
    ships: ShipPlan | None = None

    @property
    def end_ns(self) -> int:
        """End of the scenario (UTC ns)."""
        return self.start_ns + int(self.duration_s * NS)


def builtin_names() -> list[str]:
    """Names of the scenarios shipped with jamwatch."""
    base = resources.files("jamwatch.simulate") / "scenarios"
    return sorted(p.name[:-5] for p in base.iterdir() if p.name.endswith(".toml"))


def resolve(name_or_path: str) -> Path:
    """The file of a built-in scenario name, or a path to a scenario file."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.exists():
            raise ScenarioError(f"scenario file {path} not found")
        return path
    base = resources.files("jamwatch.simulate") / "scenarios" / f"{name_or_path}.toml"
    if not base.is_file():
        names = ", ".join(builtin_names())
        raise ScenarioError(f"unknown scenario {name_or_path!r}: built-in ones are {names}")
    return Path(str(base))


def load(name_or_path: str) -> Scenario:
    """Load and validate a scenario by built-in name or path."""
    path = resolve(name_or_path)
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from exc
    return parse(raw, path.parent, str(path))


def _time(value: Any, where: str) -> int:
    if not isinstance(value, str):
        raise ScenarioError(f"{where}: expected an ISO 8601 UTC time string, got {value!r}")
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ScenarioError(f"{where}: {value!r} is not an ISO 8601 time") from exc
    if dt.tzinfo is None:
        raise ScenarioError(f"{where}: {value!r} has no time zone (add Z for UTC)")
    return int(dt.timestamp()) * NS + dt.microsecond * 1000


def _num(table: dict[str, Any], key: str, where: str, default: float | None = None) -> float:
    if key not in table:
        if default is None:
            raise ScenarioError(f"{where}.{key}: required")
        return default
    v = table[key]
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ScenarioError(f"{where}.{key}: expected a number, got {v!r}")
    return float(v)


def _check_keys(table: Any, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ScenarioError(f"{where}: expected a table")
    extra = sorted(set(table) - allowed)
    if extra:
        raise ScenarioError(
            f"{where}: unknown key(s) {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}"
        )
    return table


def _params(cls: type, table: Any, where: str) -> Any:
    """A parameter dataclass from a table: numbers, and strings where the default is one."""
    texts = {f.name for f in fields(cls) if isinstance(f.default, str)}
    t = _check_keys(table, {f.name for f in fields(cls)}, where)
    values: dict[str, Any] = {}
    for k, v in t.items():
        if k in texts and not isinstance(v, str):
            raise ScenarioError(f"{where}.{k}: expected a string, got {v!r}")
        values[k] = v if k in texts else _num(t, k, where)
    try:
        return cls(**values)
    except ValueError as exc:
        raise ScenarioError(f"{where}: {exc}") from exc


@functools.lru_cache(maxsize=1)
def _airports() -> dict[str, Any]:
    """The airportsdata table by ICAO code (read once: it takes a few tenths of a second)."""
    import airportsdata

    return dict(airportsdata.load())


def _point(value: Any, where: str) -> tuple[float, float]:
    if isinstance(value, str):
        airports = _airports()
        if value not in airports:
            raise ScenarioError(f"{where}: unknown ICAO airport code {value!r}")
        a = airports[value]
        return float(a["lat"]), float(a["lon"])
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(x, int | float) for x in value)
    ):
        return float(value[0]), float(value[1])
    raise ScenarioError(f"{where}: expected an ICAO airport code or [latitude, longitude]")


_TOP_KEYS = {
    "name",
    "description",
    "attribution",
    "start",
    "duration_s",
    "model",
    "fleet",
    "traffic",
    "transmitters",
    "receivers",
    "ships",
}
_TRANSMITTER_KEYS = {
    "name",
    "latitude",
    "longitude",
    "eirp_w",
    "height_m",
    "ground_m",
    "on",
    "on_s",
    "spoof",
}
_ROUTE_KEYS = {"from", "to", "per_hour", "climb", "descend", "cruise_ft", "cruise_kt"}


def _on_intervals(t: dict[str, Any], where: str, start: int) -> tuple[tuple[int, int], ...]:
    """A transmitter's on-intervals (UTC ns), sorted.

    From ``on`` (absolute times) and ``on_s`` (seconds after the scenario's ``start``).
    """
    spans: list[tuple[int, int]] = []
    for j, span in enumerate(t.get("on", [])):
        if not isinstance(span, list) or len(span) != 2:
            raise ScenarioError(f"{where}.on[{j}]: expected [start, end]")
        spans.append((_time(span[0], f"{where}.on[{j}]"), _time(span[1], f"{where}.on[{j}]")))
    for j, span in enumerate(t.get("on_s", [])):
        if not isinstance(span, list) or len(span) != 2:
            raise ScenarioError(f"{where}.on_s[{j}]: expected [start_s, end_s]")
        a, b = (_num({"v": x}, "v", f"{where}.on_s[{j}]") for x in span)
        spans.append((start + int(a * NS), start + int(b * NS)))
    if any(b <= a for a, b in spans):
        raise ScenarioError(f"{where}: an on-interval ends before it starts")
    return tuple(sorted(spans))


def _transmitter(t: Any, where: str, start: int) -> Transmitter:
    """One ``[[transmitters]]`` table (a spoofer when it has a ``spoof`` table)."""
    t = _check_keys(t, _TRANSMITTER_KEYS, where)
    if "name" not in t:
        raise ScenarioError(f"{where}.name: required")
    schedule = _on_intervals(t, where, start)
    spoof = None
    if "spoof" in t:
        s = _check_keys(t["spoof"], {f.name for f in fields(Spoof)}, f"{where}.spoof")
        try:
            spoof = Spoof(**s)
        except (TypeError, ValueError) as exc:
            raise ScenarioError(f"{where}.spoof: {exc}") from exc
    return Transmitter(
        name=str(t["name"]),
        latitude=_num(t, "latitude", where),
        longitude=_num(t, "longitude", where),
        eirp_w=_num(t, "eirp_w", where),
        height_m=_num(t, "height_m", where, 10.0),
        ground_m=_num(t, "ground_m", where, 0.0),
        schedule=schedule,
        spoof=spoof,
    )


def _receiver(r: Any, where: str) -> Receiver:
    """One ``[[receivers]]`` table."""
    r = _check_keys(r, {f.name for f in fields(Receiver)}, where)
    if "name" not in r:
        raise ScenarioError(f"{where}.name: required")
    return Receiver(
        str(r["name"]),
        *(
            _num(r, k, where, d)
            for k, d in (
                ("latitude", None),
                ("longitude", None),
                ("height_m", 30.0),
                ("range_km", 400.0),
                ("p_near", 0.9),
            )
        ),
    )


def _route(r: Any, where: str) -> Route:
    """One ``[[traffic.routes]]`` table."""
    r = _check_keys(r, _ROUTE_KEYS, where)
    for key in ("from", "to"):
        if key not in r:
            raise ScenarioError(f"{where}.{key}: required")
    return Route(
        _point(r["from"], f"{where}.from"),
        _point(r["to"], f"{where}.to"),
        _num(r, "per_hour", where),
        bool(r.get("climb", True)),
        bool(r.get("descend", True)),
        _num(r, "cruise_ft", where, 36_000.0),
        _num(r, "cruise_kt", where, 450.0),
    )


def _ships(t: Any, start: int) -> ShipPlan | None:
    """The ``[ships]`` table: a built-in set of ``lanes`` and ``[[ships.spoofers]]``."""
    if t is None:
        return None
    t = _check_keys(t, {"lanes", "spoofers"}, "ships")
    if t.get("lanes") not in LANES:
        raise ScenarioError(f"ships.lanes: one of {', '.join(LANES)}, not {t.get('lanes')!r}")
    spoofers = []
    keys = {f.name for f in fields(ShipSpoofer)} - {"schedule"} | {"on_s"}
    for i, raw in enumerate(t.get("spoofers", [])):
        where = f"ships.spoofers[{i}]"
        sp = _check_keys(raw, keys, where)
        spans = _on_intervals({"on_s": sp.pop("on_s", [])}, where, start)
        try:
            spoofers.append(ShipSpoofer(**sp, schedule=spans))
        except (TypeError, ValueError) as exc:
            raise ScenarioError(f"{where}: {exc}") from None
    return ShipPlan(LANES[t["lanes"]], tuple(spoofers))


def _trajectories(traffic: dict[str, Any], base: Path) -> Path | None:
    """The ``traffic.trajectories`` file, resolved against ``base`` (None if not given)."""
    if "trajectories" not in traffic:
        return None
    traj = (base / str(traffic["trajectories"])).resolve()
    if not traj.exists():
        raise ScenarioError(f"traffic.trajectories: file {traj} not found")
    return traj


def parse(raw: dict[str, Any], base: Path, source: str = "scenario") -> Scenario:
    """Validate a parsed TOML document; relative paths resolve against ``base``."""
    top = _check_keys(raw, _TOP_KEYS, source)
    for key in ("name", "start", "duration_s"):
        if key not in top:
            raise ScenarioError(f"{source}: {key}: required")
    start = _time(top["start"], "start")
    duration = _num(top, "duration_s", "")
    if duration <= 0:
        raise ScenarioError("duration_s: must be positive")
    model = _params(ReceiverModel, top.get("model", {}), "model")
    fleet = _params(Fleet, top.get("fleet", {}), "fleet")
    txs = [
        _transmitter(t, f"transmitters[{i}]", start)
        for i, t in enumerate(top.get("transmitters", []))
    ]
    rxs = [_receiver(r, f"receivers[{i}]") for i, r in enumerate(top.get("receivers", []))]
    traffic = _check_keys(
        top.get("traffic", {}), {"trajectories", "time_shift", "routes"}, "traffic"
    )
    routes = [_route(r, f"traffic.routes[{i}]") for i, r in enumerate(traffic.get("routes", []))]
    return Scenario(
        name=str(top["name"]),
        description=str(top.get("description", "")),
        attribution=str(top.get("attribution", "")),
        start_ns=start,
        duration_s=duration,
        transmitters=tuple(txs),
        receivers=tuple(rxs),
        routes=tuple(routes),
        trajectories=_trajectories(traffic, base),
        time_shift=bool(traffic.get("time_shift", True)),
        model=model,
        fleet=fleet,
        ships=_ships(top.get("ships"), start),
    )


def build_traffic(sc: Scenario, rng: np.random.Generator) -> pa.Table:
    """All trajectories of a scenario within its time window (TRAJECTORY schema)."""
    tables = []
    if sc.trajectories is not None:
        t = read_traffic_json(sc.trajectories)
        times = np.asarray(t.column("time").cast(pa.int64()).to_numpy(), np.int64)
        if sc.time_shift and times.size:
            times = times - times.min() + sc.start_ns
            t = t.set_column(0, "time", pa.array(times).cast(TRAJECTORY.field("time").type))
        keep = (times >= sc.start_ns) & (times < sc.end_ns)
        tables.append(t.filter(pa.array(keep)))
    next_icao = 0x710000
    for k, route in enumerate(sc.routes):
        count = max(round(route.per_hour * sc.duration_s / 3600.0), 0)
        profile = Profile(cruise_ft=route.cruise_ft, cruise_kt=route.cruise_kt)
        for j in range(count):
            # departures spread over the window and one flight time before it, so the
            # window starts with traffic already en route
            dep = sc.start_ns + int((j / max(count, 1) - 0.5) * sc.duration_s * NS)
            dep += int(rng.integers(0, 120) * NS)
            f = great_circle_flight(
                next_icao,
                f"SIM{k:02d}{j:03d}",
                dep,
                route.origin,
                route.destination,
                profile,
                climb=route.climb,
                descend=route.descend,
            )
            next_icao += 1
            ft = np.asarray(f.column("time").cast(pa.int64()).to_numpy(), np.int64)
            tables.append(f.filter(pa.array((ft >= sc.start_ns) & (ft < sc.end_ns))))
    if not tables:
        raise ScenarioError(f"scenario {sc.name}: no traffic (give trajectories or routes)")
    out = pa.concat_tables(tables)
    return out.sort_by([("icao", "ascending"), ("time", "ascending")])


def run_scenario(
    sc: Scenario,
    seed: int,
    *,
    chunks: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> Simulation:
    """Run a scenario: its traffic in ``chunks`` groups of aircraft, merged in time order.

    Deterministic for ``seed`` (and ``chunks``). ``progress(done, total)`` is called after
    each group.
    """
    rng = np.random.default_rng(seed)
    traffic = build_traffic(sc, rng)
    icao = np.asarray(traffic.column("icao").to_numpy(zero_copy_only=False), np.int64)
    uniq = np.unique(icao)
    groups = [g for g in np.array_split(uniq, max(min(chunks, uniq.shape[0]), 1)) if g.size]
    parts: list[Simulation] = []
    for k, g in enumerate(groups):
        sub = traffic.filter(pa.array(np.isin(icao, g)))
        parts.append(
            simulate(
                sub,
                sc.transmitters,
                sc.receivers,
                seed=seed * 1000 + k,
                model=sc.model,
                fleet=sc.fleet,
            )
        )
        if progress is not None:
            progress(k + 1, len(groups))
    frames = pa.concat_tables([p.frames for p in parts])
    truth = pa.concat_tables([p.truth for p in parts]).unify_dictionaries()
    t = np.asarray(frames.column("time").cast(pa.int64()).to_numpy(), np.int64)
    order = pa.array(np.argsort(t, kind="stable"))
    return Simulation(
        frames.take(order), truth.take(order).combine_chunks(), transmitters_table(sc.transmitters)
    )


__all__ = [
    "Route",
    "Scenario",
    "ScenarioError",
    "build_traffic",
    "builtin_names",
    "load",
    "parse",
    "resolve",
    "run_scenario",
]
