"""Ship signals: per-report signs of GNSS jamming and spoofing in decoded AIS.

:func:`ship_signals` takes the decoded AIS table (:data:`jamwatch.schema.AIS_DECODED`) and
adds one column per sign (:data:`SHIP_SIGNALS`); a report without a time takes part only
in the signs that need none (``position_missing``, ``on_land``). Per ship (MMSI), in time
order (compiled loops over the columns):

- **Position lost** (jamming): a position report (types 1-3, 18, 19, 27) whose position is
  "not available" (91/181), ``position_missing``; a message without a position (static
  data) from a ship whose last position is older than ``silent_factor`` times its usual
  interval between positions (a moving average; one message heard by several stations
  counts once) and than ``silent_s``: it still transmits but sends no position,
  ``position_silent`` (a lost message has a chance of a third or less at range, so five
  intervals in a row are lost by chance less than 1 % of the time); so is a message without
  a position between two lost positions of its ship (not available or frozen: the unit had
  no fix then either).
- **Frozen positions** (jamming): a unit that has lost its fix may repeat the last one; a
  position repeated exactly for ``frozen_s`` or more while the reported speed is
  ``frozen_kt`` or more is ``position_frozen``, from its first repeat on (a ship at rest
  reports about 0 kt, and its fixes wander by metres). A position held so that the ship
  reached it by a move its reported speed does not explain (more than ``hold_m``, and more
  than half the distance sailed, off) is a spoofer's fixed point instead, ``held_point``
  (spoofing: a point near the ship, within reach of a jump).
- **Jumps** (spoofing): a position farther from the last trusted one than the ship could
  have sailed, ``jump_min_m`` plus the time since then at a speed of 1.5 times the larger
  of the two reported speeds over ground, at least ``slack_mps`` and at most
  ``max_speed_mps``. A jump followed within ``outlier_s`` by a position the trusted track
  reaches is an outlier (``position_outlier``; a corrupted message, or another ship using
  the same MMSI); otherwise the position opens a *false track* (``false_track``) that lasts
  until a position is again reachable from the last trusted one and leaves the false track
  (is out of its reach: the reach from the last true fix grows with time, and a false track
  is not made true by lasting). A fix repeated exactly
  keeps the time it was first sent (a unit that lost its fix repeats it while the ship
  sails on). A ship whose track opens more than ``max_false_tracks`` false tracks
  alternates between places (two ships under one MMSI, common in real AIS): its jumps and
  held points are not evidence (``shared_mmsi``).
- **Circles** (spoofing, the published pattern): in windows of ``circle_windows_s`` (each
  stepped by half its length) the positions are fitted with a circle (algebraic least
  squares); ``circling`` when its radius is ``circle_min_m`` to ``circle_max_m``, the
  positions lie within ``circle_rms`` of the radius (root mean square, at least
  ``circle_rms_min_m``), they go round it ``circle_turns`` times or more, and at least
  ``circle_steady`` of the steps turn the same way. A fishing vessel's or survey ship's
  loops are neither that round nor repeated: they are left alone.
- **On land** (spoofing): the position lies on land (Natural Earth 1:10m) by
  ``inland_m`` or more (:mod:`jamwatch.signals.land`), ``on_land``. Natural Earth's land
  has no rivers or lakes cut out, so a position on land alone is no spoofing (a barge on
  the Rhine): it is evidence of an episode that a false track or a circle makes.
- **Base stations** (types 4 and 11): fixed, known positions; a report farther than
  ``station_m`` from the station's median position has moved (``station_moved``).

``spoofed`` marks the reports of a false track, a circle, a held point or a moved base
station, and ``evidence`` the kinds seen (:data:`EVIDENCE_NAMES`); :func:`jamwatch.detect.
ships.ship_episodes` groups them into episodes. None of the thresholds was fitted to data:
they are round figures of what ships do (the fastest ordinary ships sail about 40 knots;
AIS positions are good to tens of metres; a steered loop strays from a circle by more than
3 % of its radius), set before any run; the frozen and held-point signs (``frozen_s``,
``frozen_kt``, ``hold_m``) were added, and the silence made relative to the ship's own
interval (it was 10 minutes, which let a unit that sends no position go unseen for up to
two of its 6-minute static messages), when the ship simulator's development seeds showed
those faults, with round values not chosen on its figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from jamwatch.geo import distance_m, haversine_m
from jamwatch.signals.land import INLAND_M, on_land

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

KT = 1852.0 / 3600.0  # metres per second in a knot
NS = 1_000_000_000
#: receptions of a message within this (ns) are one message heard by several stations
NS_SAME = NS

#: AIS message types that carry a ship's position report
POSITION_TYPES = (1, 2, 3, 18, 19, 27)
#: base station (4) and UTC/date response (11): a fixed station's position
STATION_TYPES = (4, 11)

# evidence bits of ``evidence``
JUMP = 1
CIRCLE = 2
LAND = 4
STATION = 8
HELD = 16
EVIDENCE_NAMES = {
    JUMP: "jump",
    CIRCLE: "circle",
    LAND: "on_land",
    STATION: "station_moved",
    HELD: "held_point",
}

#: the columns :func:`ship_signals` adds
SHIP_SIGNALS = (
    "position_missing",
    "position_silent",
    "position_frozen",
    "held_point",
    "position_outlier",
    "false_track",
    "shared_mmsi",
    "circling",
    "on_land",
    "station_moved",
    "spoofed",
    "evidence",
)


@dataclass(frozen=True, slots=True)
class ShipConfig:
    """Thresholds of the ship signals (see the module documentation)."""

    silent_s: float = 60.0
    silent_factor: float = 5.0
    frozen_s: float = 60.0
    frozen_kt: float = 1.0
    hold_m: float = 500.0
    jump_min_m: float = 1_000.0
    slack_mps: float = 5.0
    max_speed_mps: float = 25.0
    outlier_s: float = 120.0
    max_false_tracks: int = 3
    circle_windows_s: tuple[float, ...] = (900.0, 3600.0, 10_800.0)
    circle_min_points: int = 12
    circle_min_m: float = 200.0
    circle_max_m: float = 30_000.0
    circle_rms: float = 0.03
    circle_rms_min_m: float = 10.0
    circle_turns: float = 2.0
    circle_steady: float = 0.9
    inland_m: float = INLAND_M
    station_m: float = 200.0


# slots of the parameter vector of the compiled loops (:func:`_params`)
P_JUMP_MIN = 0  # jump_min_m
P_SLACK = 1  # slack_mps
P_MAX_SPEED = 2  # max_speed_mps
P_OUTLIER_S = 3  # outlier_s
P_CIRCLE_POINTS = 4  # circle_min_points
P_CIRCLE_MIN = 5  # circle_min_m
P_CIRCLE_MAX = 6  # circle_max_m
P_CIRCLE_RMS = 7  # circle_rms (share of the radius)
P_CIRCLE_RMS_MIN = 8  # circle_rms_min_m
P_CIRCLE_TURNS = 9  # circle_turns
P_CIRCLE_STEADY = 10  # circle_steady


@nb.njit(cache=True, nogil=True, inline="always")
def _reach(dt_s: float, sog_a: float, sog_b: float, p: F64) -> float:
    """How far a ship may sail in ``dt_s`` seconds (see the module documentation): 1.5
    times the larger reported speed (knots; NaN: not available), within the bounds."""
    s = sog_b if np.isnan(sog_a) else sog_a if np.isnan(sog_b) else max(sog_a, sog_b)
    v = p[P_MAX_SPEED] if np.isnan(s) else min(max(1.5 * s * KT, p[P_SLACK]), p[P_MAX_SPEED])
    return float(p[P_JUMP_MIN] + v * max(dt_s, 0.0))


@nb.njit(cache=True, nogil=True)
def jumps(
    bounds: I64, t: I64, lat: F64, lon: F64, sog: F64, p: F64, circling: B,
    outlier: B, false: B, n_false: I64,
) -> None:  # fmt: skip
    """Outliers and false tracks of the positions (sorted by ship, then time; a ship's rows
    from ``bounds[s]`` to ``bounds[s + 1]``; ``p``: the :func:`_params` vector; positions
    on a spoofed ``circling`` are never trusted, nor judged); ``n_false[k]``: false tracks
    opened on row ``k``'s ship."""
    for s in range(bounds.shape[0] - 1):
        i, j = bounds[s], bounds[s + 1]
        trusted = i
        while trusted < j - 1 and circling[trusted]:
            trusted += 1
        opened = 0
        in_false = False
        last_false = trusted
        for k in range(trusted + 1, j):
            if circling[k]:
                continue
            dt = (t[k] - t[trusted]) / 1e9
            d = haversine_m(lat[trusted], lon[trusted], lat[k], lon[k])
            if d <= _reach(dt, sog[trusted], sog[k], p):
                # a false track ends where the track leaves it, not where it merely comes
                # within the reach that grows with the time since the last true fix
                dl = haversine_m(lat[last_false], lon[last_false], lat[k], lon[k])
                go_on = (t[k] - t[last_false]) / 1e9
                if in_false and dl <= _reach(go_on, sog[last_false], sog[k], p):
                    false[k] = True
                    last_false = k
                    continue
                if d > 0.0:  # (a repeated fix keeps its first time: the ship sailed on)
                    trusted = k
                in_false = False
                continue
            if not in_false:
                back = False
                m = k + 1
                while m < j and (t[m] - t[k]) / 1e9 <= p[P_OUTLIER_S]:
                    dm = haversine_m(lat[trusted], lon[trusted], lat[m], lon[m])
                    if dm <= _reach((t[m] - t[trusted]) / 1e9, sog[trusted], sog[m], p):
                        back = True
                        break
                    m += 1
                if back:
                    outlier[k] = True
                    continue
                in_false = True
                opened += 1
            false[k] = True
            last_false = k
        for k in range(i, j):
            n_false[k] = opened


@nb.njit(cache=True, nogil=True)
def _circle(x: F64, y: F64) -> tuple[float, float, float, float, float]:
    """Algebraic circle fit of the points: centre (x, y), radius, root mean square of the
    distances from it minus the radius, and the turns the points make around it."""
    n = x.shape[0]
    mx, my = x.mean(), y.mean()
    u, v = x - mx, y - my
    suu, svv, suv = (u * u).sum(), (v * v).sum(), (u * v).sum()
    r2 = u * u + v * v
    suuu, svvv = (u * r2).sum(), (v * r2).sum()
    det = suu * svv - suv * suv
    if abs(det) < 1e-9:
        return np.nan, np.nan, np.nan, np.nan, 0.0
    uc = 0.5 * (suuu * svv - svvv * suv) / det
    vc = 0.5 * (svvv * suu - suuu * suv) / det
    radius = np.sqrt(uc * uc + vc * vc + (suu + svv) / n)
    d = np.sqrt((u - uc) ** 2 + (v - vc) ** 2) - radius
    rms = np.sqrt((d * d).mean())
    total = 0.0
    a0 = np.arctan2(v[0] - vc, u[0] - uc)
    for k in range(1, n):
        a1 = np.arctan2(v[k] - vc, u[k] - uc)
        total += (a1 - a0 + np.pi) % (2.0 * np.pi) - np.pi
        a0 = a1
    return mx + uc, my + vc, radius, rms, abs(total) / (2.0 * np.pi)


@nb.njit(cache=True, nogil=True)
def circles(
    bounds: I64, t: I64, lat: F64, lon: F64, windows_ns: I64, p: F64,
    flag: B, clat: F64, clon: F64,
) -> None:  # fmt: skip
    """Positions in a window whose points go round a circle (see the module documentation),
    and the circle's centre (``clat``, ``clon``); rows as for :func:`jumps`."""
    for s in range(bounds.shape[0] - 1):
        i, j = bounds[s], bounds[s + 1]
        lat0 = lat[i:j].mean()
        kx = 111_195.0 * np.cos(np.radians(lat0))
        x = (lon[i:j] - lon[i]) * kx
        y = (lat[i:j] - lat[i]) * 111_195.0
        for w in windows_ns:
            a = i
            while a < j:
                b = a
                while b < j and t[b] - t[a] < w:
                    b += 1
                if b - a >= p[P_CIRCLE_POINTS]:
                    cx, cy, r, rms, turns = _circle(x[a - i : b - i], y[a - i : b - i])
                    steady = _steady(x[a - i : b - i], y[a - i : b - i], cx, cy)
                    round_ = rms <= max(p[P_CIRCLE_RMS] * r, p[P_CIRCLE_RMS_MIN])
                    big = p[P_CIRCLE_MIN] <= r <= p[P_CIRCLE_MAX]
                    if (
                        big
                        and round_
                        and turns >= p[P_CIRCLE_TURNS]
                        and steady >= p[P_CIRCLE_STEADY]
                    ):
                        for k in range(a, b):
                            if not flag[k]:
                                flag[k] = True
                                clat[k] = lat[i] + cy / 111_195.0
                                clon[k] = lon[i] + cx / kx
                # the next window starts half a window later
                nxt = a + 1
                while nxt < j and t[nxt] - t[a] < w // 2:
                    nxt += 1
                a = nxt


@nb.njit(cache=True, nogil=True)
def _steady(x: F64, y: F64, cx: float, cy: float) -> float:
    """Share of the steps around (cx, cy) that turn the main way (of those that turn)."""
    pos = neg = 0
    a0 = np.arctan2(y[0] - cy, x[0] - cx)
    for k in range(1, x.shape[0]):
        a1 = np.arctan2(y[k] - cy, x[k] - cx)
        da = (a1 - a0 + np.pi) % (2.0 * np.pi) - np.pi
        if da > 0:
            pos += 1
        elif da < 0:
            neg += 1
        a0 = a1
    return float(max(pos, neg) / max(pos + neg, 1))  # (a repeated position turns no way)


@nb.njit(cache=True, nogil=True)
def silences(
    ship: I64, t: I64, has_pos: B, is_pos_type: B, min_ns: int, factor: float, out: B
) -> None:  # fmt: skip
    """Messages without a position from a ship whose last position is older than ``factor``
    times its usual interval between positions (a moving average), and ``min_ns`` at least
    (rows sorted by ship, then time)."""
    last = -1
    usual = 0.0
    for k in range(t.shape[0]):
        if k > 0 and ship[k] != ship[k - 1]:
            last = -1
            usual = 0.0
        if has_pos[k]:
            if last >= 0 and t[k] - last > NS_SAME:  # (one message heard twice is one)
                gap = float(t[k] - last)
                usual = gap if usual == 0.0 else 0.8 * usual + 0.2 * gap
            last = t[k]
        elif not is_pos_type[k] and last >= 0 and usual > 0.0:
            out[k] = t[k] - last > max(float(min_ns), factor * usual)


def _bounds(ship: I64) -> I64:
    """Where each ship's rows begin, and the end (rows sorted by ship)."""
    inner = np.flatnonzero(ship[1:] != ship[:-1]) + 1
    return np.concatenate([[0], inner, [ship.shape[0]]]).astype(np.int64)


def _frozen(
    ship: I64, t: I64, lat: F64, lon: F64, sog: F64, c: ShipConfig
) -> tuple[B, B]:  # fmt: skip
    """Positions repeated exactly for ``frozen_s`` or more at ``frozen_kt`` or more (rows
    sorted by ship, then time): held where the ship sailed to them (a lost fix repeated),
    and where it moved to them in a way its speed does not explain (a spoofer's point)."""
    n = t.shape[0]
    same = np.zeros(n, np.bool_)
    same[1:] = (ship[1:] == ship[:-1]) & (lat[1:] == lat[:-1]) & (lon[1:] == lon[:-1])
    first = np.maximum.accumulate(np.where(same, 0, np.arange(n)))  # where each run starts
    fast = sog >= c.frozen_kt
    held = (t - t[first] >= c.frozen_s * NS) & fast
    before = np.maximum(first - 1, 0)
    known = (first > 0) & (ship[before] == ship)
    moved = distance_m(lat[before], lon[before], lat[first], lon[first])
    sailed = np.nan_to_num(sog[before]) * KT * (t[first] - t[before]) / NS
    odd = known & (np.abs(moved - sailed) > np.maximum(c.hold_m, 0.5 * sailed))
    # a lost fix repeated: once the repeats have lasted, from the first repeat on (the first
    # report of the run is the last fix the unit had)
    lasted = np.zeros(n, np.bool_)
    lasted[first[held]] = True
    repeated = lasted[first] & (np.arange(n) != first) & fast
    return np.asarray((repeated | held) & ~odd, np.bool_), np.asarray(held & odd, np.bool_)


def _between_lost(ship: I64, is_pos_type: B, lost: B) -> B:
    """Messages without a position whose ship's position reports just before and just after
    them are lost (rows sorted by ship, then time): the unit had no fix between them."""
    n = ship.shape[0]
    rows = np.arange(n)
    prev = np.maximum.accumulate(np.where(is_pos_type, rows, -1))
    after = np.minimum.accumulate(np.where(is_pos_type, rows, n)[::-1])[::-1]
    ok = (prev >= 0) & (after < n)
    p, a = np.maximum(prev, 0), np.minimum(after, n - 1)
    same = (ship[p] == ship) & (ship[a] == ship)
    return np.asarray(~is_pos_type & ok & same & lost[p] & lost[a], np.bool_)


def _params(c: ShipConfig) -> F64:
    """The thresholds the compiled loops read, in the slots ``P_*``."""
    return np.array(
        [
            c.jump_min_m, c.slack_mps, c.max_speed_mps, c.outlier_s, c.circle_min_points,
            c.circle_min_m, c.circle_max_m, c.circle_rms, c.circle_rms_min_m, c.circle_turns,
            c.circle_steady,
        ],
        np.float64,
    )  # fmt: skip


def _floats(table: pa.Table, name: str) -> F64:
    return np.asarray(
        table.column(name).cast(pa.float64()).to_numpy(zero_copy_only=False), np.float64
    )


def _station_moved(table: pa.Table, lat: F64, lon: F64, c: ShipConfig) -> B:
    """Base-station reports farther than ``station_m`` from their station's median."""
    kind = np.asarray(table.column("msg_type").fill_null(0).to_numpy(zero_copy_only=False))
    mmsi = np.asarray(table.column("mmsi").fill_null(0).to_numpy(zero_copy_only=False))
    out = np.zeros(table.num_rows, np.bool_)
    rows = np.flatnonzero(np.isin(kind, STATION_TYPES) & np.isfinite(lat) & np.isfinite(lon))
    for station in np.unique(mmsi[rows]):
        own = rows[mmsi[rows] == station]
        mlat, mlon = float(np.median(lat[own])), float(np.median(lon[own]))
        out[own] = distance_m(lat[own], lon[own], mlat, mlon) > c.station_m
    return out


def ship_signals(table: pa.Table, config: ShipConfig | None = None) -> pa.Table:
    """``table`` (decoded AIS) with the columns :data:`SHIP_SIGNALS` added, and the centre of
    a circle (``circle_latitude``, ``circle_longitude``) on the reports that go round one."""
    c = config or ShipConfig()
    n = table.num_rows
    lat, lon = _floats(table, "latitude"), _floats(table, "longitude")
    sog = _floats(table, "sog_kt")
    kind = np.asarray(table.column("msg_type").fill_null(0).to_numpy(zero_copy_only=False))
    mmsi = np.asarray(table.column("mmsi").fill_null(0).to_numpy(zero_copy_only=False), np.int64)
    timed = np.asarray(table.column("time").is_valid().to_numpy(zero_copy_only=False), np.bool_)
    t = np.asarray(
        table.column("time").cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False),
        np.int64,
    )
    is_pos_type = np.isin(kind, POSITION_TYPES)
    has_pos = is_pos_type & np.isfinite(lat) & np.isfinite(lon)
    missing = is_pos_type & ~(np.isfinite(lat) & np.isfinite(lon))
    silent = np.zeros(n, np.bool_)
    outlier = np.zeros(n, np.bool_)
    false = np.zeros(n, np.bool_)
    shared = np.zeros(n, np.bool_)
    circling = np.zeros(n, np.bool_)
    clat = np.full(n, np.nan)
    clon = np.full(n, np.nan)
    p = _params(c)
    order = np.lexsort((t, mmsi))
    order = order[timed[order]]
    silences(
        mmsi[order], t[order], has_pos[order], is_pos_type[order], int(c.silent_s * NS),
        c.silent_factor, sub := np.zeros(order.shape[0], np.bool_),
    )  # fmt: skip
    silent[order] = sub
    pos = order[has_pos[order]]
    frozen = np.zeros(n, np.bool_)
    held = np.zeros(n, np.bool_)
    if pos.shape[0]:
        frozen[pos], held[pos] = _frozen(mmsi[pos], t[pos], lat[pos], lon[pos], sog[pos], c)
        # circles first: a spoofed circle is no trusted track for the jumps after it
        windows = np.asarray([int(w * NS) for w in c.circle_windows_s], np.int64)
        cf, cy, cx = (np.zeros(pos.shape[0], np.bool_), np.full(pos.shape[0], np.nan),
                      np.full(pos.shape[0], np.nan))  # fmt: skip
        circles(_bounds(mmsi[pos]), t[pos], lat[pos], lon[pos], windows, p, cf, cy, cx)
        circling[pos], clat[pos], clon[pos] = cf, cy, cx
        o, f, nf = (np.zeros(pos.shape[0], np.bool_), np.zeros(pos.shape[0], np.bool_),
                    np.zeros(pos.shape[0], np.int64))  # fmt: skip
        jumps(_bounds(mmsi[pos]), t[pos], lat[pos], lon[pos], sog[pos], p, cf, o, f, nf)
        many = nf > c.max_false_tracks
        outlier[pos], false[pos], shared[pos] = o & ~many, f & ~many, many
        held[pos] &= ~many  # (nor is a move between the two ships' places)
    land = on_land(lat, lon, c.inland_m)
    moved = _station_moved(table, lat, lon, c)
    spoofed = false | circling | moved | held
    frozen &= ~spoofed  # (a false point held is spoofing, not a lost fix)
    silent[order] |= _between_lost(mmsi[order], is_pos_type[order], (missing | frozen)[order])
    evidence = (
        np.where(false, JUMP, 0) | np.where(circling, CIRCLE, 0) | np.where(held, HELD, 0)
        | np.where(land & spoofed, LAND, 0) | np.where(moved, STATION, 0)
    ).astype(np.int64)  # fmt: skip
    columns = {
        "position_missing": missing, "position_silent": silent, "position_frozen": frozen,
        "held_point": held, "position_outlier": outlier, "false_track": false,
        "shared_mmsi": shared, "circling": circling, "on_land": land, "station_moved": moved,
        "spoofed": spoofed, "evidence": evidence,
        "circle_latitude": pa.array(clat, mask=np.isnan(clat)),
        "circle_longitude": pa.array(clon, mask=np.isnan(clon)),
    }  # fmt: skip
    for name, values in columns.items():
        table = table.append_column(name, pa.array(values))
    return table


#: the signs of a lost position (jamming)
LOST_SIGNALS = ("position_missing", "position_frozen", "position_silent")


def by_ship(signals: pa.Table) -> pa.Table:
    """The rows of ``signals`` that have a time, sorted by ship, then time."""
    timed = signals.filter(signals.column("time").is_valid())
    return timed.sort_by([("mmsi", "ascending"), ("time", "ascending")])


def flags(table: pa.Table, names: tuple[str, ...]) -> B:
    """Whether each row shows any of the signs ``names``."""
    out = np.zeros(table.num_rows, np.bool_)
    for name in names:
        out |= np.asarray(table.column(name).to_numpy(zero_copy_only=False), np.bool_)
    return out


def last_fix(ship: I64, t: I64, fix: B, max_age_s: float) -> tuple[I64, B]:
    """For each row (sorted by ship, then time): the row of the ship's last position that
    ``fix`` allows, its own included, and whether there is one of at most ``max_age_s``."""
    last = np.maximum.accumulate(np.where(fix, np.arange(t.shape[0]), -1))
    at = np.maximum(last, 0)
    found = (last >= 0) & (ship[at] == ship) & (t - t[at] <= max_age_s * NS)
    return at, np.asarray(found, np.bool_)


def summary(signals: pa.Table) -> dict[str, int]:
    """How many reports show each sign (for the command's summary)."""
    return {name: int(pc.sum(signals.column(name)).as_py() or 0) for name in SHIP_SIGNALS[:-1]}


__all__ = [
    "EVIDENCE_NAMES",
    "LOST_SIGNALS",
    "POSITION_TYPES",
    "SHIP_SIGNALS",
    "STATION_TYPES",
    "ShipConfig",
    "by_ship",
    "circles",
    "flags",
    "jumps",
    "last_fix",
    "ship_signals",
    "summary",
]
