"""The avionics family of the simulator: each response does what it says on a tiny scenario.

The tiny scenario: 24 aircraft (different ICAO addresses, hence different draws) fly the same
straight track at the same time, due east along the equator at 30,000 ft and 450 kt, from
2.5 W to 2.5 E, straight over a 10 W jammer (10 m mast) at 0 N 0 E; no receivers, so every
frame is kept. By hand (docs/simulator.md, radio model, 0 dB antenna gain): J/S overhead is
40 - (20 log10 9,134 m + 36.395) + 128.5 = 52.9 dB; loss of lock (35 dB) within about 72 km,
the degraded band (25-35 dB) out to about 226 km, nominal beyond; the track is 556 km long.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from jamwatch.simulate.avionics import (
    AVIONICS_STREAM,
    TRAIT_RESPONSE,
    TRAIT_SHIELD_DB,
    Fleet,
    default_traits,
    draw_traits,
)
from jamwatch.simulate.radio import ReceiverModel, Transmitter, expose
from jamwatch.simulate.run import simulate
from jamwatch.simulate.scenario import ScenarioError, parse
from jamwatch.simulate.traffic import trajectories_from_columns

NS = 1_000_000_000
N_AIRCRAFT = 24
SPEED_KT = 450.0
ALT_FT = 30_000.0
LON_FROM, LON_TO = -2.5, 2.5
#: metres per degree of longitude on the equator (spherical earth of jamwatch's radio model)
M_PER_DEG = math.radians(1.0) * 6_371_008.8
T_CLOSEST_S = (0.0 - LON_FROM) * M_PER_DEG / (SPEED_KT * 0.514444)  # over the jammer
JAMMER = Transmitter("j", 0.0, 0.0, eirp_w=10.0, height_m=10.0)
MODEL = ReceiverModel(lock_js_db=35.0, degrade_band_db=10.0)


@pytest.fixture(scope="module")
def track() -> pa.Table:
    """The 24 aircraft on the one track, a sample every 10 s."""
    speed = SPEED_KT * 0.514444
    t = np.arange(0.0, (LON_TO - LON_FROM) * M_PER_DEG / speed, 10.0)
    n = t.shape[0]
    return trajectories_from_columns(
        time_ns=np.tile((t * NS).astype(np.int64), N_AIRCRAFT),
        icao=np.repeat(0x400000 + np.arange(N_AIRCRAFT), n),
        callsign=None,
        latitude=np.zeros(n * N_AIRCRAFT),
        longitude=np.tile(LON_FROM + t * speed / M_PER_DEG, N_AIRCRAFT),
        altitude_ft=np.full(n * N_AIRCRAFT, ALT_FT),
        groundspeed_kt=np.full(n * N_AIRCRAFT, SPEED_KT),
        track_deg=np.full(n * N_AIRCRAFT, 90.0),
        vertical_rate_fpm=np.zeros(n * N_AIRCRAFT),
    )


def _truth(track: pa.Table, fleet: Fleet) -> dict[str, np.ndarray]:  # type: ignore[type-arg]
    # no faulty avionics (NIC 0 always): the traits under test only
    fleet = replace(fleet, faulty_fraction=0.0)
    truth = simulate(track, (JAMMER,), seed=3, model=MODEL, fleet=fleet).truth
    cols = {
        name: truth.column(name).to_numpy(zero_copy_only=False)
        for name in ("icao", "js_db", "nic", "nacp")
    }
    cols["time_s"] = truth.column("time").cast(pa.int64()).to_numpy() / NS
    cols["effect"] = truth.column("effect").cast(pa.string()).to_numpy(zero_copy_only=False)
    cols["message"] = truth.column("message").cast(pa.string()).to_numpy(zero_copy_only=False)
    return cols


def _jammed_spans(cols: dict[str, np.ndarray]) -> dict[str, tuple[float, float, float]]:  # type: ignore[type-arg]
    """Per aircraft: time of its first and last jammed frame (s), J/S at the first."""
    out = {}
    for icao in np.unique(cols["icao"]):
        m = (cols["icao"] == icao) & (cols["effect"] == "jammed")
        times, js = cols["time_s"][m], cols["js_db"][m]
        out[str(icao)] = (float(times.min()), float(times.max()), float(js[np.argmin(times)]))
    return out


def test_graded_default_steps_through_intermediate_levels(track: pa.Table) -> None:
    """The default (the first simulator's response): NIC falls level by level in the band."""
    cols = _truth(track, Fleet())
    pos = cols["message"] == "position"
    nic = cols["nic"][pos]
    assert set(np.unique(nic[cols["effect"][pos] == "degraded"])) >= {2, 4, 6}
    js = cols["js_db"]
    assert (js[cols["effect"] == "jammed"] >= 35.0).all()
    assert ((js >= 25.0) & (js < 35.0))[cols["effect"] == "degraded"].all()


def test_one_step_never_reports_intermediate_levels(track: pa.Table) -> None:
    """one_step: nominal until loss of lock, then NIC 0 with NACp 0 or 1 (or no position)."""
    cols = _truth(track, Fleet(response="one_step"))
    assert not (cols["effect"] == "degraded").any()
    pos = cols["message"] == "position"
    for icao in np.unique(cols["icao"]):
        nic = cols["nic"][pos & (cols["icao"] == icao)]
        assert set(np.unique(nic)) <= {0, int(nic.max())} and nic.max() >= 8
    jammed = cols["effect"] == "jammed"
    assert jammed.any() and set(np.unique(cols["nacp"][jammed])) <= {0, 1}
    assert (cols["nic"][jammed] == 0).all()


def test_two_level_has_one_degraded_level_per_aircraft(track: pa.Table) -> None:
    """two_level: over the whole band one level, NIC 0-2 and NACp 1-4, per aircraft."""
    cols = _truth(track, Fleet(response="two_level"))
    deg = cols["effect"] == "degraded"
    pos = cols["message"] == "position"
    for icao in np.unique(cols["icao"]):
        mine = deg & (cols["icao"] == icao)
        assert np.unique(cols["nic"][mine & pos]).shape[0] == 1
        assert np.unique(cols["nacp"][mine]).shape[0] == 1
    assert cols["nic"][deg].max() <= 2
    assert cols["nacp"][deg].min() >= 1 and cols["nacp"][deg].max() <= 4


def test_mixed_fleet_draws_every_response(track: pa.Table) -> None:
    cols = _truth(track, Fleet(response="mixed"))
    pos = cols["message"] == "position"
    deg_levels = [
        np.unique(cols["nic"][pos & (cols["icao"] == i) & (cols["effect"] == "degraded")]).size
        for i in np.unique(cols["icao"])
    ]
    # one_step (no degraded level), two_level (one), graded (several): all three in 24 aircraft
    # (each missing with probability (2/3)^24 < 1e-4)
    assert {0, 1} <= set(deg_levels) and max(deg_levels) > 1


def test_response_weights_set_the_mixed_draw() -> None:
    """Equal weights draw exactly as before the weights existed (one uniform integer per
    aircraft); unequal ones in proportion (20,000 aircraft: each share within 0.015 of its
    weight, about 5 standard errors)."""
    equal = draw_traits(Fleet(response="mixed"), 500, 7)[:, TRAIT_RESPONSE]
    rng = np.random.default_rng([7, AVIONICS_STREAM])
    assert np.array_equal(equal, rng.integers(0, 3, 500))
    real = Fleet(response="mixed", graded_weight=0.19, one_step_weight=0.42, two_level_weight=0.39)
    kind = draw_traits(real, 20_000, 7)[:, TRAIT_RESPONSE]
    shares = np.bincount(kind.astype(np.int64), minlength=3) / kind.shape[0]
    assert np.allclose(shares, (0.19, 0.42, 0.39), atol=0.015)
    with pytest.raises(ValueError, match="weights"):
        Fleet(response="mixed", graded_weight=-1.0)


def test_tolerance_spread_changes_where_aircraft_lose_lock(track: pa.Table) -> None:
    """Lock thresholds of 35 + N(0, 4) dB: the J/S at loss of lock spreads by about 4 dB."""
    same = [js for _, _, js in _jammed_spans(_truth(track, Fleet())).values()]
    # without a spread every aircraft loses lock at 35 dB; J/S grows by about 0.03 dB/s here
    # (8.7 v / d at 72 km) and each aircraft sends about 6 frames a second: within 0.1 dB
    assert min(same) >= 35.0 and max(same) < 35.1
    spread = [js for _, _, js in _jammed_spans(_truth(track, Fleet(tolerance_sd_db=4.0))).values()]
    # the sample deviation of 24 draws lies within 0.63-1.39 of the true one with 99 %
    # probability (chi-square, 23 degrees of freedom): 2.5-5.6 dB
    assert 2.5 < float(np.std(spread, ddof=1)) < 5.6
    assert min(spread) < 33.0 and max(spread) > 37.0


def test_recovery_lag_makes_recovery_later_than_loss(track: pa.Table) -> None:
    """The track is symmetric about the jammer: without a lag an aircraft recovers as long
    after passing over it as it lost lock before; with a lag (uniform 0-90 s per aircraft)
    it recovers later by its lag."""

    def lags(fleet: Fleet) -> np.ndarray:  # type: ignore[type-arg]
        spans = _jammed_spans(_truth(track, fleet)).values()
        return np.array([(last - T_CLOSEST_S) - (T_CLOSEST_S - first) for first, last, _ in spans])

    # at most the 0.1 s message jitter and one message interval apart (about 0.15 s)
    assert np.abs(lags(Fleet())).max() < 1.0
    lag = lags(Fleet(recovery_s=90.0))
    assert lag.min() > -1.0 and lag.max() < 91.0
    # 24 uniform draws in 0-90 s: some under 30 s and some over 60 s (each missing with
    # probability (2/3)^24)
    assert lag.min() < 30.0 and lag.max() > 60.0
    # hysteresis: recovery needs J/S 3 dB below the threshold: loss of lock at a slant range
    # of 71.6 km (40 dBm + 128.5 - 35 dB of path loss), recovery at 71.6 x 10^(3/20) =
    # 101.1 km, 29.5 km farther out at 231.5 m/s: 128 s later
    hyst = lags(Fleet(hysteresis_db=3.0))
    assert (hyst > 120.0).all() and (hyst < 135.0).all()


def test_shielding_by_hand() -> None:
    """A fully shielded aircraft (20 dB) right above a ground jammer loses the whole 20 dB;
    200 km away, 3.5 degrees below its horizontal plane, it loses 20 x 3.5 / 30 dB; a
    transmitter above its horizontal plane is not shielded at all."""
    traits = default_traits(1)
    traits[0, TRAIT_SHIELD_DB] = 20.0
    alt_m = 10_000.0
    lat = np.array([0.0, math.degrees(200_000.0 / 6_371_008.8)])
    args = (np.zeros(2, np.int64), lat, np.zeros(2), alt_m / 0.3048, 8, 9, 450.0, 90.0, MODEL)
    plain = expose((JAMMER,), *args)
    shielded = expose((JAMMER,), *args, traits=traits)
    ground = 200_000.0 * 1.0  # haversine of the arc
    depression = math.atan2(alt_m - 10.0, ground) + ground / (2 * 4 / 3 * 6_371_008.8)
    assert math.degrees(depression) == pytest.approx(3.53, abs=0.01)
    want = [20.0, 20.0 * depression / math.radians(30.0)]
    assert (plain.js_db - shielded.js_db).tolist() == pytest.approx(want, abs=1e-6)
    # a transmitter on a 12 km high balloon, above the aircraft
    balloon = Transmitter("b", 0.0, 0.0, eirp_w=10.0, height_m=12_000.0)
    above = expose((balloon,), *args, traits=traits).js_db
    assert above[0] == expose((balloon,), *args).js_db[0]


def test_shielding_reduces_degradation_for_a_transmitter_below(track: pa.Table) -> None:
    plain = _truth(track, Fleet())
    shielded = _truth(track, Fleet(shield_fraction=1.0, shield_db=20.0))
    # fewer frames in loss of lock, and fewer affected at all (some jammed ones become
    # degraded: the shield lowers J/S most right below the aircraft)
    for effects in (("jammed",), ("jammed", "degraded")):
        less = np.isin(shielded["effect"], effects).sum()
        assert less < np.isin(plain["effect"], effects).sum()
    # overhead J/S is 52.9 dB: an aircraft shielded by more than 17.9 dB never loses lock
    # (shield loss uniform in 0-20 dB: about 1 in 10 aircraft)
    jammed = {str(i) for i in np.unique(shielded["icao"][shielded["effect"] == "jammed"])}
    assert 0 < N_AIRCRAFT - len(jammed) < N_AIRCRAFT // 2


@pytest.mark.parametrize(("stop", "positions"), [(0.0, True), (1.0, False)])
def test_stop_fraction_under_loss_of_lock(track: pa.Table, stop: float, positions: bool) -> None:
    cols = _truth(track, Fleet(stop_fraction=stop))
    jammed = cols["effect"] == "jammed"
    assert jammed.any()
    assert ((cols["message"] == "position") & jammed).any() == positions


def test_fleet_from_a_scenario_file() -> None:
    raw: dict[str, object] = {"name": "t", "start": "2024-01-01T00:00:00Z", "duration_s": 60}
    sc = parse({**raw, "fleet": {"response": "one_step", "recovery_s": 30}}, Path("."))
    assert sc.fleet == Fleet(response="one_step", recovery_s=30.0)
    with pytest.raises(ScenarioError, match=r"fleet\.response: expected a string"):
        parse({**raw, "fleet": {"response": 1}}, Path("."))
    with pytest.raises(ScenarioError, match="response must be one of"):
        parse({**raw, "fleet": {"response": "stepwise"}}, Path("."))
    with pytest.raises(ScenarioError, match="stop_fraction must lie in"):
        parse({**raw, "fleet": {"stop_fraction": 1.5}}, Path("."))
