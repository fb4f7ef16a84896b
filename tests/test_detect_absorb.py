"""Small events that a located source of another event explains join that event.

Synthetic tracks: the lines of tests/test_detect_physics.py (aircraft at FL300, 20 km apart,
through a jammer at 60 N, 25 E that breaks lock within 80 km), plus two aircraft that lose
lock far from it during the same half hour. Those two make an event of their own (they lie
beyond the events' 150 km link distance); whether it joins the jammer's event is the
physical check's answer, whose limits are its defaults (a 500 m mast, 6 dB), never fitted
to these tracks.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from jamwatch.detect.absorb import absorb
from jamwatch.detect.events import detect_jamming
from jamwatch.detect.physics import check_source
from jamwatch.detect.sources import SOURCES, locate_sources
from jamwatch.detect.tracks import prepare
from jamwatch.geo import distance_m
from jamwatch.schema import TIME_TYPE
from test_detect_physics import END, LAT0, LON0, T0, tracks


def with_pair(
    north_km: float, altitude_ft: float, delay_s: int = 0, nic: int = 0, nacp: int = 0
) -> pa.Table:  # fmt: skip
    """The lines, and two aircraft flying east at ``altitude_ft`` ``north_km`` north of the
    jammer (2 and 12 km further), with ``nic`` and ``nacp`` (lock lost: 0) all along,
    ``delay_s`` after them."""
    lines = tracks()
    rows: dict[str, list[object]] = {name: [] for name in lines.column_names}
    for k in range(2):
        lat = LAT0 + (north_km + 10 * k) / 111.2
        for s in range(0, 1800, 10):
            lon = LON0 - 1.0 + s * 220.0 / (111_320.0 * np.cos(np.radians(lat)))
            for key, value in (
                ("icao", f"5{k:05x}"), ("time", T0 + (delay_s + s) * 10**9), ("latitude", lat),
                ("longitude", lon), ("altitude_baro_ft", altitude_ft), ("nic", nic),
                ("nacp", nacp), ("tc", 11), ("df", 17),
            ):  # fmt: skip
                rows[key].append(value)
    pair = pa.table(rows)
    pair = pair.set_column(1, "time", pair["time"].cast(pa.int64()).cast(TIME_TYPE))
    return pa.concat_tables([lines, pair.cast(lines.schema)]).sort_by("time")


def located(events: pa.Table) -> pa.Table:
    """A source at the jammer's true site for the largest event, over the whole half hour."""
    big = int(np.argmax(events["affected_aircraft"].to_numpy()))
    row = {
        "event": big, "latitude": LAT0, "longitude": LON0, "radius_95_km": 5.0,
        "height_m": 30.0, "observations": 100, "physical": True, "reason": "",
        "start": T0, "end": END,
    }  # fmt: skip
    return pa.Table.from_pylist([row], schema=SOURCES)


def run(
    north_km: float, altitude_ft: float, nic: int = 0, nacp: int = 0
) -> tuple[pa.Table, pa.Table, pa.Table]:  # fmt: skip
    table = with_pair(north_km, altitude_ft, nic=nic, nacp=nacp)
    events = detect_jamming(table)
    assert events.num_rows == 2  # the pair is an event of its own
    assert sorted(events["affected_aircraft"].to_pylist())[0] == 2
    sources = located(events)
    return events, *absorb(prepare(table), events, sources)


def test_a_far_pair_the_source_sees_joins_its_event() -> None:
    # FL400 360 km north: inside a 10 m mast's horizon (466 km), and no aircraft that stayed
    # nominal flies at its altitude or higher
    before, events, sources = run(360.0, 40_000.0)
    assert events.num_rows == 1
    (event,) = events.to_pylist()
    assert event["affected_aircraft"] == sum(before["affected_aircraft"].to_pylist())
    assert {"500000", "500001"} <= set(event["aircraft"])
    assert event["start"] == min(before["start"].to_pylist())
    assert event["end"] == max(before["end"].to_pylist())
    assert sources["event"].to_pylist() == [0]
    # the area now reaches the pair: its northernmost vertex beyond 360 km north
    ring = json.loads(event["area"])["coordinates"][0]
    assert max(lat for _, lat in ring) > LAT0 + 360 / 111.2


def test_a_far_pair_degraded_but_never_lost_joins_too() -> None:
    # NIC 4, NACp 6 all along: no loss of lock to check, so the degraded positions are
    # checked instead (a transmitter that degrades an aircraft reaches it)
    before, events, _ = run(360.0, 40_000.0, nic=4, nacp=6)
    assert events.num_rows == 1
    assert events["affected_aircraft"].to_pylist() == [sum(before["affected_aircraft"].to_pylist())]


@pytest.mark.parametrize(
    ("north_km", "altitude_ft", "why"),
    [
        (700.0, 40_000.0, "beyond the radio horizon of a 500 m mast (92 + 466 km)"),
        (360.0, 30_000.0, "nominal aircraft at FL300 fly 100-180 km north, half as far"),
    ],
)
def test_a_pair_the_source_cannot_explain_stays_apart(
    north_km: float, altitude_ft: float, why: str
) -> None:
    before, events, sources = run(north_km, altitude_ft)
    assert events.equals(before), why
    assert sources["event"].to_pylist() == [int(np.argmax(before["affected_aircraft"]))]


def test_an_event_large_enough_to_locate_stays_apart() -> None:
    # with min_witnesses at 2 the pair could be located on its own: it is left alone
    table = with_pair(360.0, 40_000.0)
    events = detect_jamming(table)
    sources = located(events)
    out, _ = absorb(prepare(table), events, sources, min_witnesses=2)
    assert out.equals(events)


def test_a_source_answers_for_its_event_beyond_its_own_piece() -> None:
    # the source was fitted to a piece before the pair's losses: a transmitter stays on
    # beyond the piece its source was fitted to, and the check takes the event's span
    table = with_pair(360.0, 40_000.0)
    events = detect_jamming(table)
    early = located(events).to_pylist()
    early[0]["start"], early[0]["end"] = T0 - 1200 * 10**9, T0 - 10**9
    out, _ = absorb(prepare(table), events, pa.Table.from_pylist(early, schema=SOURCES))
    assert out.num_rows == 1


def test_an_event_of_another_time_stays_apart() -> None:
    # the pair loses lock in the half hour after the jammer's event ended
    table = with_pair(360.0, 40_000.0, delay_s=1900)
    events = detect_jamming(table)
    assert events.num_rows == 2
    out, _ = absorb(prepare(table), events, located(events))
    assert out.equals(events)


def with_own_source(events: pa.Table, north_km: float, radius_km: float) -> pa.Table:
    """The jammer's source of :func:`located`, and one fitted to the pair's small event
    ``north_km`` north of the jammer with a 95 % radius of ``radius_km``."""
    rows = located(events).to_pylist()
    small = int(np.argmin(events["affected_aircraft"].to_numpy()))
    rows.append({
        **rows[0], "event": small, "latitude": LAT0 + north_km / 111.2,
        "radius_95_km": radius_km,
    })  # fmt: skip
    return pa.Table.from_pylist(rows, schema=SOURCES)


def test_a_small_event_whose_own_source_shares_the_site_joins() -> None:
    # a second, poorer fit of the same transmitter: 40 km off with a 60 km radius
    table = with_pair(360.0, 40_000.0)
    events = detect_jamming(table)
    out, sources = absorb(prepare(table), events, with_own_source(events, 40.0, 60.0))
    assert out.num_rows == 1
    assert sources["event"].to_pylist() == [0, 0]
    assert sources["physical"].to_pylist() == [True, False]
    assert sources["reason"].to_pylist()[1] == "the transmitter of the event it joined"


def test_a_small_event_whose_own_source_lies_elsewhere_stays_apart() -> None:
    # its source 300 km north, farther than either radius (5 and 60 km): another transmitter
    table = with_pair(360.0, 40_000.0)
    events = detect_jamming(table)
    out, sources = absorb(prepare(table), events, with_own_source(events, 300.0, 60.0))
    assert out.equals(events)
    assert sources["physical"].to_pylist() == [True, True]


def test_a_source_answers_only_for_the_losses_of_its_own_event() -> None:
    # the pair lose lock 700 km north, beyond any 500 m mast's horizon from the jammer, and
    # make an event of their own: counted against the jammer's source they would put 25 %
    # of its losses beyond its horizon; they are the other event's to explain
    table = with_pair(700.0, 40_000.0)
    events = detect_jamming(table)
    assert events.num_rows == 2
    assert not check_source(prepare(table), LAT0, LON0, T0, END).ok
    sources = locate_sources(table, events, keep_rejected=True).to_pylist()
    big = int(np.argmax(events["affected_aircraft"].to_numpy()))
    (mine,) = [s for s in sources if s["event"] == big]
    assert mine["physical"], mine
    d = distance_m(np.array([mine["latitude"]]), np.array([mine["longitude"]]),
                   np.array([LAT0]), np.array([LON0]))  # fmt: skip
    assert d[0] < mine["radius_95_km"] * 1000.0
