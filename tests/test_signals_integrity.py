"""The gpsjam / readsb counter walked through rule by rule, and the other integrity flags.

The message sequences are built by hand so that each expected counter value can be worked out
from the rules in DESIGN.md ("gpsjam.org's method"); times are seconds from an arbitrary epoch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from jamwatch.schema import TIME_TYPE
from jamwatch.signals import IntegrityConfig, IntegrityState, integrity_signals

T0 = 1_700_000_000  # 2023-11-14 22:13:20 UTC


def table(rows: list[dict[str, Any]]) -> pa.Table:
    """A decoded-like table: time in seconds after T0; unspecified fields are null."""
    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "time",
            "icao",
            "df",
            "tc",
            "nacp",
            "nic",
            "groundspeed_kt",
            "latitude",
            "longitude",
            "altitude_baro_ft",
        )
    }
    for row in rows:
        for k in cols:
            v = row.get(k)
            if k == "time":
                v = (T0 + v) * 1_000_000_000
            cols[k].append(v)
    types = {
        "time": TIME_TYPE,
        "icao": pa.string(),
        "df": pa.uint8(),
        "tc": pa.uint8(),
        "nacp": pa.uint8(),
        "nic": pa.uint8(),
        "groundspeed_kt": pa.float64(),
        "latitude": pa.float64(),
        "longitude": pa.float64(),
        "altitude_baro_ft": pa.float64(),
    }
    return pa.table({k: pa.array(v, types[k]) for k, v in cols.items()})


def pos(t: float, nacp: int = 9, icao: str = "abc123", **kw: Any) -> dict[str, Any]:
    """An airborne position report (TC 11) at 46N 7E."""
    return {
        "time": t,
        "icao": icao,
        "df": 17,
        "tc": 11,
        "nacp": nacp,
        "nic": 8,
        "latitude": 46.0,
        "longitude": 7.0,
        "altitude_baro_ft": 35000.0,
    } | kw


def vel(t: float, gs: float = 450.0, nacp: int | None = 9, icao: str = "abc123") -> dict[str, Any]:
    return {"time": t, "icao": icao, "df": 17, "tc": 19, "groundspeed_kt": gs, "nacp": nacp}


def nopos(t: float, icao: str = "abc123", **kw: Any) -> dict[str, Any]:
    """A DF17 TC 0 message (no position information)."""
    return {"time": t, "icao": icao, "df": 17, "tc": 0} | kw


def counters(rows: list[dict[str, Any]], **config: Any) -> list[int]:
    out = integrity_signals(table(rows), IntegrityConfig(**config))
    return out.column("gpsjam_counter").to_pylist()


def jammed(start: float, stop: float, step: float = 1.0) -> list[dict[str, Any]]:
    return [nopos(float(t)) for t in np.arange(start, stop, step)]


def test_rise_starts_only_after_the_10_s_window() -> None:
    rows = [vel(-1), pos(0), *jammed(1, 16)]
    # ages 1..15 s: the counter rises only once the last reliable position is > 10 s old
    assert counters(rows) == [0, 0] + [0] * 10 + [1, 2, 3, 4, 5]


def test_rise_on_low_nacp_as_well_as_tc0() -> None:
    rows = [vel(-1), pos(0), *[vel(t, nacp=2) for t in range(11, 14)], vel(14, nacp=3)]
    # NACp 2 rises; NACp 3 is neither rise (>2) nor fall (<4): unchanged
    assert counters(rows) == [0, 0, 1, 2, 3, 3]


def test_cap_at_20() -> None:
    out = counters([vel(-1), pos(0), *jammed(11, 41)])
    assert out[2:] == [min(k, 20) for k in range(1, 31)]
    assert max(out) == 20


def test_fall_needs_nacp_4_and_a_fresh_reliable_position() -> None:
    rows = [vel(-1), pos(0), *jammed(11, 31)]  # counter 20
    rows += [pos(31), vel(32, nacp=4), vel(35, nacp=9), vel(41, nacp=9), vel(42, nacp=9)]
    out = counters(rows)
    # pos(31) itself is a reliable position with NACp 9: fall to 19; then two falls within
    # 10 s of it (age 1 s, 4 s, 10 s) and none at age 11 s
    assert out[-5:] == [19, 18, 17, 16, 16]


def test_reset_after_15_minutes_without_reliable_position() -> None:
    rows = [vel(-1), pos(0), *jammed(11, 31), nopos(900), nopos(901), nopos(960)]
    out = counters(rows)
    # at 900 s the position is exactly 15 min old: still rising (capped); at 901 s it resets
    assert out[-3:] == [20, 0, 0]


def test_thresholds_17_and_18() -> None:
    rows = [vel(-1), pos(0), *jammed(11, 29)]  # counter reaches 1..18
    t = integrity_signals(table(rows))
    bad17 = t.column("gpsjam_bad").to_pylist()
    bad18 = integrity_signals(table(rows), IntegrityConfig(bad_threshold=18))
    counter = t.column("gpsjam_counter").to_pylist()
    assert [c >= 17 for c in counter] == bad17
    assert bad17.count(True) == 2  # counter 17 and 18
    assert bad18.column("gpsjam_bad").to_pylist().count(True) == 1


@pytest.mark.parametrize(
    ("first", "label"),
    [
        (vel(-1, gs=50.0), "ground speed must be above 50 kt"),
        ({"time": -1, "icao": "abc123", "df": 17, "tc": 6, "groundspeed_kt": 450.0}, "on ground"),
    ],
)
def test_no_rise_when_slow_or_on_ground(first: dict[str, Any], label: str) -> None:
    rows = [pos(0), first, *jammed(11, 20)]
    if first["tc"] == 6:  # a surface position report puts the aircraft on the ground
        rows = [pos(0), {**first, "time": 1, "latitude": 46.0, "longitude": 7.0}, *jammed(11, 20)]
    assert set(counters(rows)) == {0}, label


def test_df18_never_counts() -> None:
    rows = [vel(-1), pos(0), *[nopos(t, df=18) for t in range(11, 30)]]
    assert set(counters(rows)) == {0}


def test_aircraft_are_independent_and_input_order_does_not_matter() -> None:
    a = [vel(-1), pos(0), *jammed(11, 31)]
    b = [vel(t, icao="def456") for t in range(0, 31, 3)] + [pos(5, icao="def456")]
    rows = a + b
    rng = np.random.default_rng(1)
    perm = rng.permutation(len(rows))
    shuffled = [rows[i] for i in perm]
    out = counters(shuffled)
    expected = dict(zip(perm.tolist(), out, strict=True))
    assert [expected[i] for i in range(len(a))] == counters(a)
    assert all(expected[i] == 0 for i in range(len(a), len(rows)))


def test_batches_with_state_equal_one_pass() -> None:
    rows = [vel(-1), pos(0), *jammed(11, 31), pos(31), *[vel(t) for t in range(32, 40)]]
    whole = integrity_signals(table(rows))
    state = IntegrityState()
    parts = [
        integrity_signals(table(rows[:13]), state=state),
        integrity_signals(table(rows[13:]), state=state),
    ]
    joined = pa.concat_tables(parts)
    for name in ("gpsjam_counter", "gpsjam_bad", "latitude_last", "position_lost"):
        assert joined.column(name).to_pylist() == whole.column(name).to_pylist()


def test_nic_degraded_below_7_and_null_when_unknown() -> None:
    rows = [pos(0, nic=6), pos(1, nic=7), vel(2)]
    t = integrity_signals(table(rows))
    assert t.column("nic_degraded").to_pylist() == [True, False, None]


def test_position_lost_while_velocity_continues() -> None:
    # velocity every 2 s after the last position at 0 s: lost once the position is more than
    # 30 s old (32 s on); 901 s is beyond 15 min
    times = list(range(2, 61, 2))
    rows = [pos(0), *[vel(t) for t in times], vel(901)]
    t = integrity_signals(table(rows))
    assert t.column("position_lost").to_pylist() == [False] + [x > 30 for x in times] + [False]
    assert t.column("latitude_last").to_pylist() == [46.0] * (len(times) + 1) + [None]


def test_a_reception_gap_is_not_a_position_loss() -> None:
    # nothing heard from 2 s to 20 s (the receiver's files are 10 s apart, an aircraft fades
    # at range): the loss clock starts again at 20 s and runs 30 s from there
    times = [2, *range(20, 61, 2)]
    t = integrity_signals(table([pos(0), *[vel(x) for x in times]]))
    assert t.column("position_lost").to_pylist() == [False] + [x > 50 for x in times]


def test_avionics_always_nic0_marked_but_a_short_episode_is_not() -> None:
    faulty = [pos(60.0 * k, icao="fa0170", nic=0) for k in range(30)]  # 30 reports, 29 min
    jam = [pos(60.0 * k, icao="0ab0ab", nic=0 if 10 <= k < 15 else 8) for k in range(30)]
    short = [pos(10.0 * k, icao="5b0e70", nic=0) for k in range(30)]  # only 290 s long
    t = integrity_signals(table(faulty + jam + short))
    fault = t.column("avionics_fault").to_pylist()
    assert fault == [True] * 30 + [False] * 60


def test_rows_are_never_dropped_and_null_time_gives_null_counter() -> None:
    tab = table([pos(0), vel(1)])
    tab = tab.set_column(0, "time", pa.array([None, tab.column("time")[1].value], TIME_TYPE))
    out = integrity_signals(tab)
    assert out.num_rows == 2
    assert out.column("gpsjam_counter").to_pylist() == [None, 0]
