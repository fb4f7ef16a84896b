"""The physical check of located sources: radio horizon and nominal aircraft nearer than lost.

Synthetic tracks: aircraft at FL300 fly east-west lines 20 km apart through a jammer at
(60 N, 25 E) that breaks lock within 80 km (NIC 0, NACp 0) and leaves them nominal (NIC 8,
NACp 9) beyond; the last tests put two such jammers 280 km apart over the same lines, or add
an aircraft seen only inside the first one's zone. The limits of the check (500 m mast, 6 dB,
25 %) are its defaults, chosen from radio physics and the simulator's receiver spread, never
fitted to these tracks.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa

from jamwatch.detect.events import detect_jamming
from jamwatch.detect.likelihood import losses
from jamwatch.detect.localize import Fit, active
from jamwatch.detect.observe import LocalizeConfig, _levels, observations
from jamwatch.detect.physics import PhysicsConfig, check_source, horizon_m
from jamwatch.detect.sources import (
    Located,
    beside_reported,
    locate_event,
    locate_sources,
    physics_verdicts,
)
from jamwatch.detect.tracks import Tracks, prepare
from jamwatch.geo import distance_m, stereo_xy
from jamwatch.schema import TIME_TYPE

LAT0, LON0 = 60.0, 25.0
T0 = 1_767_600_000 * 10**9
JAM_M = 80_000.0


def tracks(
    jam_m: float = JAM_M, stopped: bool = False,
    jammers: tuple[tuple[float, float], ...] = ((LAT0, LON0),),
) -> pa.Table:  # fmt: skip
    """The lines; with ``stopped``, a jammed receiver sends messages without a position
    (type code 0: no position, no altitude) instead of NIC 0 positions; ``jammers``: the
    sites (each breaks lock within ``jam_m``)."""
    rows: dict[str, list[object]] = {k: [] for k in (
        "icao", "time", "latitude", "longitude", "altitude_baro_ft", "nic", "nacp", "tc", "df"
    )}  # fmt: skip
    for k, dy_km in enumerate(range(-200, 201, 20)):
        lat = LAT0 + dy_km / 111.2
        for s in range(0, 1800, 10):  # 30 minutes at 220 m/s, west to east
            lon = LON0 - 3.0 + s * 220.0 / (111_320.0 * np.cos(np.radians(lat)))
            d = min(
                float(distance_m(np.array([lat]), np.array([lon]), np.array([jlat]),
                                 np.array([jlon]))[0])
                for jlat, jlon in jammers
            )  # fmt: skip
            jammed = d < jam_m
            gone = jammed and stopped
            for key, value in (
                ("icao", f"4{k:05x}"), ("time", T0 + s * 10**9),
                ("latitude", None if gone else lat), ("longitude", None if gone else lon),
                ("altitude_baro_ft", None if gone else 30_000.0),
                ("nic", None if gone else 0 if jammed else 8), ("nacp", 0 if jammed else 9),
                ("tc", 0 if gone else 11), ("df", 17),
            ):  # fmt: skip
                rows[key].append(value)
    table = pa.table(rows)
    return table.set_column(1, "time", table["time"].cast(pa.int64()).cast(TIME_TYPE))


TABLE = tracks()  # (tables do not change: the tests add rows to copies)
TRACKS = prepare(TABLE)
END = T0 + 1800 * 10**9


def test_the_true_site_passes() -> None:
    v = check_source(TRACKS, LAT0, LON0, T0, END)
    assert v.ok, v
    assert v.losses > 50 and v.outside_share == 0.0 and v.contradicted_share == 0.0
    assert v.height_m == 10.0  # aircraft at FL300 within 80 km: any mast sees them


def test_a_site_beyond_the_horizon_fails() -> None:
    # 700 km north: farther than a 500 m mast sees an aircraft at FL300 (92 + 413 km)
    assert horizon_m(500.0, 9144.0) < 700_000.0
    v = check_source(TRACKS, LAT0 + 700 / 111.2, LON0, T0, END)
    assert not v.ok and "horizon" in v.reason and v.outside_share == 1.0


def test_a_site_with_nominal_aircraft_much_nearer_fails() -> None:
    # 170 km south of the jammer: the lines at -200..-100 km pass within 30-100 km of it and
    # stay nominal, while the jammed ones lie 90-250 km away: contradicted
    v = check_source(TRACKS, LAT0 - 170 / 111.2, LON0, T0, END)
    assert not v.ok and "nominal" in v.reason, v
    assert v.contradicted_share > 0.25


def test_a_source_answers_only_for_the_losses_nearest_it() -> None:
    # beside a second source at the true site, a far one explains no loss at all
    far = check_source(TRACKS, LAT0, LON0 + 5.0, T0, END, others=((LAT0, LON0),))
    assert not far.ok and far.losses == 0
    # and the margin decides: with 40 dB of receiver spread allowed (the slant ranges differ
    # by a factor of up to 30 there), the southern site passes
    loose = PhysicsConfig(margin_db=40.0)
    assert check_source(TRACKS, LAT0 - 170 / 111.2, LON0, T0, END, loose).ok


def test_losses_without_a_position_are_seen_at_the_aircraft_last_altitude() -> None:
    # a strong jammer (lock lost within 200 km) over receivers that stop sending positions:
    # their messages carry neither position nor altitude, and each loss is placed where the
    # aircraft was last seen, at its last altitude, FL300, which a 10 m mast sees 407 km away;
    # taken at sea level they would lie beyond the 92 km that even a 500 m mast sees
    assert horizon_m(10.0, 9144.0) > 400_000.0 and horizon_m(500.0, 0.0) < 100_000.0
    v = check_source(prepare(tracks(jam_m=200_000.0, stopped=True)), LAT0, LON0, T0, END)
    assert v.ok, v
    assert v.losses > 50 and v.outside_share == 0.0 and v.height_m == 10.0


def test_surface_positions_are_no_losses() -> None:
    """A surface position's NIC comes from its type code (type code 8: NIC 0, whatever the
    receiver's accuracy): an aircraft taxiing 600 km away with such reports is not a loss
    the source must see (on the real Helsinki day, an aircraft on the ground at Helsinki-
    Vantaa sent them with NACp 8 inside an event's span)."""
    table = TABLE
    n = 40
    ground = pa.table({
        "icao": ["4fffff"] * n, "time": [T0 + s * 10**9 for s in range(0, 40 * n, 40)],
        "latitude": [LAT0 + 600 / 111.2] * n, "longitude": [LON0] * n,
        "altitude_baro_ft": [None] * n, "nic": [0] * n, "nacp": [8] * n, "tc": [8] * n,
        "df": [17] * n,
    })  # fmt: skip
    ground = ground.set_column(1, "time", ground["time"].cast(TIME_TYPE))
    both = prepare(pa.concat_tables([table, ground.cast(table.schema)]))
    v = check_source(both, LAT0, LON0, T0, END)
    assert v.ok and v.outside_share == 0.0, v
    # the same reports airborne (type code 18: NIC 0, barometric altitude) are losses, 600
    # km out at sea level: beyond any mast's horizon
    air = ground.set_column(7, "tc", pa.array([18] * n, pa.int64()))
    v = check_source(prepare(pa.concat_tables([table, air.cast(table.schema)])), LAT0, LON0,
                     T0, END)  # fmt: skip
    assert v.outside_share > 0.0


def test_surface_positions_are_no_levels_for_the_localizer() -> None:
    """The same rule in the localizer's levels: an aircraft taxiing (type code 7, NIC 9 by
    the type code; type code 8, NIC 0) then flying with NIC 8 (type code 11) has its
    nominal NIC from the airborne reports, 8: its airborne reports are at the top level,
    and its surface ones state no level (on the real Helsinki day 6 aircraft had their
    nominal NIC read as 9 from surface positions)."""
    n = 30
    tc = [7] * 10 + [8] * 10 + [11] * n
    table = pa.table({
        "icao": ["4aaaaa"] * len(tc), "time": [T0 + s * 10**9 for s in range(len(tc))],
        "latitude": [LAT0] * len(tc), "longitude": [LON0 + s * 0.001 for s in range(len(tc))],
        "altitude_baro_ft": [None] * 20 + [3000.0 + 500 * s for s in range(n)],
        "nic": [9] * 10 + [0] * 10 + [8] * n, "nacp": [9] * len(tc), "tc": tc,
        "df": [17] * len(tc),
    })  # fmt: skip
    table = table.set_column(1, "time", table["time"].cast(pa.int64()).cast(TIME_TYPE))
    tr = prepare(table)
    lo, hi, top, nic0, usable, lost, _ = _levels(tr, LocalizeConfig())
    air = np.asarray(tr.tc) == 11
    assert np.all(nic0 == 8.0) and np.all(usable) and not np.any(lost)
    assert np.all(top[air] == 1.0) and np.all(lo[air] == 8.0)
    assert np.all(np.isnan(lo[~air])) and np.all(np.isnan(hi[~air]))


# two jammers 280 km apart, north and south of the first, both on for the whole half hour
# (midway, 140 km from each, their summed power stays below what breaks lock at 80 km)
PAIR = ((LAT0 - 140 / 111.2, LON0), (LAT0 + 140 / 111.2, LON0))


def test_with_the_option_a_source_physics_rules_out_is_searched_again_as_two() -> None:
    table = tracks(jammers=PAIR)
    both = prepare(table)
    # one event (the losses lie 120 km apart, within the events' 150 km link distance) ...
    events = detect_jamming(table)
    assert events.num_rows == 1
    # ... that one source cannot explain: at either true site, the other site's losses
    # have nominal aircraft much nearer to it
    for lat, lon in PAIR:
        alone = check_source(both, lat, lon, T0, END)
        assert not alone.ok and "nominal" in alone.reason, alone
    # the single source found first fails the check (so it does with the option off) ...
    alone = locate_sources(table, events, keep_rejected=True).to_pylist()
    assert [s["physical"] for s in alone] == [False], alone
    # ... and a second one is searched beside it
    config = LocalizeConfig(two_at_once=True)
    sources = locate_sources(table, events, config, keep_rejected=True).to_pylist()
    assert [s["physical"] for s in sources] == [True, True], sources

    # each true site lies in the 95 % region of the source nearest it, and the other site
    # outside it (a circle that holds both is no answer; this fleet's avionics go from NIC 8
    # straight to 0, so the radii are twice the bootstrap's widened ones: see
    # test_a_fleet_that_does_not_grade_widens_the_radius)
    def dist(s: dict[str, float], lat: float, lon: float) -> float:
        one = np.array([s["latitude"]]), np.array([s["longitude"]])
        return float(distance_m(*one, np.array([lat]), np.array([lon]))[0])

    for (lat, lon), (olat, olon) in zip(PAIR, PAIR[::-1], strict=True):
        d = [dist(s, lat, lon) for s in sources]
        k = int(np.argmin(d))
        radius = sources[k]["radius_95_km"] * 1000.0
        assert d[k] < radius < dist(sources[k], olat, olon), (d, sources)


def the_pair() -> tuple[Tracks, list[Located], LocalizeConfig]:
    """The tracks of the two jammers on for the whole half hour and a source at each site
    fitted in a piece of its own (the first 13 minutes, the last 13), each with the
    threshold of the jammers' 80 km zone at FL300."""
    table = prepare(tracks(jammers=PAIR))
    c = LocalizeConfig()
    mid = T0 + 900 * 10**9
    early = observations(table, T0, mid - 100 * 10**9, LAT0, LON0, c)
    late = observations(table, mid + 100 * 10**9, END, LAT0, LON0, c)
    zone = np.empty(1)  # the loss at 80 km from a 30 m mast, at FL300
    losses(
        np.array([JAM_M]), np.zeros(1), np.array([30_000 * 0.3048]), np.zeros(1), np.zeros(1),
        np.array([30.0]), np.zeros(1), zone,
    )  # fmt: skip
    fits = []
    for lat, lon in PAIR:
        x, y = stereo_xy(np.array([lat]), np.array([lon]), LAT0, LON0)
        fits.append(Fit(float(x[0]), float(y[0]), 30.0, float(zone[0]), 10.0, 0.0, 5000.0))
    found = [
        Located(0, fits[0], early, (fits[1],), *PAIR[0]),
        Located(0, fits[1], late, (fits[0],), *PAIR[1]),
    ]
    return table, found, c


def test_a_source_answers_beside_the_sources_on_in_its_piece() -> None:
    """Two jammers 280 km apart on for the whole half hour, each source fitted in a piece of
    its own (the first 13 minutes, the last 13): neither piece overlaps the other, but both
    transmitters were on in each (:func:`active`), so each source answers only for the
    losses nearer to it and passes; answering for the other's losses too, each failed (its
    nominal aircraft much nearer). The sources are placed at the true sites, each with the
    threshold of the jammers' 80 km zone at FL300. A source off every site, left no loss by
    the sources on, answers beside the overlapping ones only."""
    table, found, c = the_pair()
    fits = [f.fit for f in found]
    early = found[0].piece
    assert all(len(active(f.piece, fits, c)[1]) == 2 for f in found)
    verdicts = physics_verdicts(table, found, {0: (T0, END)}, c)
    assert [v.ok for v in verdicts] == [True, True], verdicts
    assert all(v.losses > 0 for v in verdicts)
    for f in found:  # alone over its piece's span: the other's losses contradict it
        lo, hi = int(f.piece.time.min()), int(f.piece.time.max())
        alone = check_source(table, f.latitude, f.longitude, lo, hi)
        assert not alone.ok and "nominal" in alone.reason, alone
    # a source placed 150 km north of the northern jammer, beside sources on at both true
    # sites: every loss lies nearer to one of them; it answers beside the overlapping
    # sources only (the southern one, fitted in the same piece), and is checked against the
    # northern jammer's losses, not left with none
    lat, lon = PAIR[1][0] + 150 / 111.2, PAIR[1][1]
    x, y = stereo_xy(np.array([lat]), np.array([lon]), LAT0, LON0)
    off = dataclasses.replace(fits[1], x=float(x[0]), y=float(y[0]))
    third = Located(0, off, early, (), lat, lon)
    v = physics_verdicts(table, [*found, third], {0: (T0, END)}, c)[2]
    lo, hi = int(early.time.min()), int(early.time.max())
    beside = check_source(table, lat, lon, lo, hi, others=PAIR)
    assert beside.losses == 0
    assert v.losses > 0 and v == check_source(table, lat, lon, lo, hi, others=PAIR[:1]), v


def test_a_source_answers_beside_the_reported_sources_only() -> None:
    """The pair above passes the check, each source beside the other. When one of them is
    withheld for another reason (here by hand, as for too few witnesses), the other is
    checked again beside the reported sources only: it answers for the withheld one's losses
    too, whose nominal aircraft lie much nearer to it, and is withheld as well. A source
    that passes only because a withheld one took the losses nearer to it is not reported."""
    table, found, c = the_pair()
    events = {0: (T0, END)}
    verdicts = physics_verdicts(table, found, events, c)
    assert [v.ok for v in verdicts] == [True, True]
    assert beside_reported(table, found, verdicts, events, c) == verdicts
    withheld = dataclasses.replace(verdicts[0], ok=False, reason="withheld by hand")
    out = beside_reported(table, found, [withheld, verdicts[1]], events, c)
    assert out[0] is withheld
    assert not out[1].ok and "nominal aircraft much nearer" in out[1].reason, out[1]
    lo, hi = int(found[1].piece.time.min()), int(found[1].piece.time.max())
    assert out[1] == check_source(table, found[1].latitude, found[1].longitude, lo, hi)


def jammed_only(table: pa.Table, icao: str = "4fffff") -> pa.Table:
    """``table`` and one more aircraft, seen only while jammed: 40 km east of the jammer it
    flies north through its zone (30 km either side, at FL300, 200 m/s) in the first 5
    minutes, its positions NIC 5 (NACp 0) at either end and NIC 0 within 20 km of the
    jammer's latitude, while every nominal aircraft is more than 80 km from it (the lines
    are still 75 km or more west of the jammer 5 minutes later)."""
    n = 31
    y_km = np.linspace(-30.0, 30.0, n)
    lon = LON0 + 40.0 / (111.32 * np.cos(np.radians(LAT0)))
    extra = {
        "icao": [icao] * n, "time": [T0 + s * 10**9 for s in range(0, 310, 10)],
        "latitude": (LAT0 + y_km / 111.2).tolist(), "longitude": [lon] * n,
        "altitude_baro_ft": [30_000.0] * n, "nic": np.where(abs(y_km) > 20.0, 5, 0).tolist(),
        "nacp": [0] * n, "tc": [11] * n, "df": [17] * n,
    }  # fmt: skip
    more = pa.table(extra).cast(table.schema)
    return pa.concat_tables([table, more])


def test_an_aircraft_seen_only_while_jammed_is_a_witness() -> None:
    """An aircraft that never reported nominal integrity gives the localizer observations
    when it is one of its event's aircraft (the events leave out always-zero aircraft with
    nominal aircraft near them: faulty avionics), and none otherwise: inside a jammed
    region every aircraft looks always NIC 0. Its largest NIC (5) is not its nominal level:
    every report of it is affected, its nominal level taken as ``unseen_nominal_nic``."""
    table = jammed_only(TABLE)
    events = detect_jamming(table)
    assert events.num_rows == 1
    tr = prepare(table)
    (code,) = tr.codes_of(["4fffff"])
    own = tr.codes_of(events["aircraft"][0].as_py())
    assert code in own  # (no nominal aircraft near it: jammed, not faulty)
    c = LocalizeConfig()
    first = T0 + 310 * 10**9  # (its minutes: fewer observations than max_observations)
    alone = observations(tr, T0, first, LAT0, LON0, c)
    assert code not in alone.code
    ob = observations(tr, T0, first, LAT0, LON0, c, jammed=own)
    mine = ob.code == code
    assert mine.sum() == 31 and ob.affected[mine].all()  # (one per report: bin_s = 10 s)
    assert np.all(ob.nic0[mine] == c.unseen_nominal_nic) and np.all(ob.top[mine] == 0.0)
    # the other aircraft's observations are the same either way
    assert np.array_equal(ob.x[~mine], alone.x) and np.array_equal(ob.lo[~mine], alone.lo)


def test_an_event_located_on_its_own_takes_its_aircraft_too() -> None:
    """:func:`locate_event` with the event's aircraft fits the aircraft seen only while
    jammed too (its 31 observations more), and without them does not; both place the
    jammer inside their radius."""
    table = jammed_only(TABLE)
    events = detect_jamming(table)
    assert events.num_rows == 1
    tr = prepare(table)
    start, end = (int(events[k].cast(pa.int64())[0].as_py()) for k in ("start", "end"))
    (event,) = events.to_pylist()
    lat, lon = event["latitude"], event["longitude"]
    c = LocalizeConfig(max_observations=10_000)  # (every observation, so the counts differ)
    alone = locate_event(tr, start, end, lat, lon, c)
    witnessed = locate_event(tr, start, end, lat, lon, c, aircraft=event["aircraft"])
    assert len(alone) == len(witnessed) == 1
    assert witnessed[0]["observations"] == alone[0]["observations"] + 31
    for found in (alone[0], witnessed[0]):
        off = distance_m(*(np.array([found[k]]) for k in ("latitude", "longitude")),
                         np.array([LAT0]), np.array([LON0]))  # fmt: skip
        assert off[0] < found["radius_95_km"] * 1000.0, found
