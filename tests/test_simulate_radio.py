"""Radio model of the simulator: hand-computed powers, horizons and affected areas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from jamwatch.simulate.radio import (
    DEGRADED,
    JAMMED,
    NOMINAL,
    SPOOFED,
    ReceiverModel,
    Spoof,
    Transmitter,
    expose,
    fspl_db,
    radio_horizon_km,
    reach_km,
    received_dbm,
)

NS = 1_000_000_000


def test_free_space_loss_at_l1_by_hand() -> None:
    # FSPL = 20 log10(d) + 20 log10(f) - 147.55; f = 1575.42 MHz -> 20 log10 f = 183.947 dB
    assert float(fspl_db(1_000.0)) == pytest.approx(60.0 + 183.947 - 147.552, abs=0.01)
    assert float(fspl_db(100_000.0)) == pytest.approx(136.395, abs=0.01)
    # every factor 10 in range costs 20 dB
    assert float(fspl_db(250_000.0) - fspl_db(25_000.0)) == pytest.approx(20.0)


def test_radio_horizon_by_hand() -> None:
    # d_km = 4.12 (sqrt(h_tx) + sqrt(h_rx)) on a 4/3 earth
    assert float(radio_horizon_km(10.0, 10_000.0)) == pytest.approx(
        4.12 * (math.sqrt(10) + 100), rel=2e-3
    )
    assert float(radio_horizon_km(0.0, 100.0)) == pytest.approx(41.2, rel=2e-3)
    assert float(radio_horizon_km(30.0, 3_000.0)) == pytest.approx(248.2, rel=2e-3)


def test_received_power_for_three_geometries() -> None:
    # a 50 W jammer (47 dBm EIRP) at sea level, antenna 10 m above ground, 0 dB antenna gain
    tx = Transmitter("j", 60.0, 10.0, eirp_w=50.0, height_m=10.0)
    # directly above, 10,010 m up: slant range 10,000 m: 47 - (80 + 183.947 - 147.552)
    p = received_dbm(tx, [60.0], [10.0], [10_010.0])
    assert float(p[0]) == pytest.approx(47.0 - 116.395, abs=0.02)
    # 1 degree of latitude north (111.2 km) at 10 km: within the horizon (about 425 km)
    p = received_dbm(tx, [61.0], [10.0], [10_000.0])
    slant = math.hypot(111_195.0, 9_990.0)
    assert float(p[0]) == pytest.approx(
        46.99 - (20 * math.log10(slant) + 183.947 - 147.552), abs=0.05
    )
    # 3 degrees north (333.6 km) at 1,000 m altitude: beyond the horizon (143 km): nothing
    p = received_dbm(tx, [63.0], [10.0], [1_000.0])
    assert p[0] == -math.inf


def test_affected_area_grows_with_power_and_altitude() -> None:
    model = ReceiverModel(lock_js_db=35.0)
    alts = (300.0, 3_000.0, 10_000.0)
    radii = [
        [reach_km(Transmitter("j", 0, 0, eirp_w=w), alt, 35.0, model) for alt in alts]
        for w in (0.01, 1.0, 100.0, 1000.0)
    ]
    # more power never shrinks the area, at any altitude
    for col in zip(*radii, strict=True):
        assert col[0] < col[1] < col[2] <= col[3]
    # a strong jammer (1 kW) is horizon-limited up to 10 km: the area grows with altitude
    assert radii[3][0] < radii[3][1] < radii[3][2]
    assert radii[3][2] == pytest.approx(4.12 * (math.sqrt(10) + 100), rel=2e-3)
    # 100 W is horizon-limited low down and free-space limited above (about 226 km)
    assert radii[2][0] < radii[2][1]
    # 100 W at 300 m reaches the horizon, 4.12 (sqrt(10) + sqrt(300)) km
    assert radii[2][0] == pytest.approx(4.12 * (math.sqrt(10) + math.sqrt(300)), rel=2e-3)
    # 0.01 W is free-space limited: slant range where 10 dBm - FSPL = -128.5 + 35 dBm
    slant_km = 10 ** ((10.0 + 93.5 - 183.947 + 147.552) / 20) / 1000
    assert radii[0][0] == pytest.approx(math.sqrt(slant_km**2 - 0.29**2), rel=1e-3)


def test_exposure_states_along_a_radial() -> None:
    tx = Transmitter("j", 0.0, 0.0, eirp_w=10.0, height_m=10.0, schedule=((0, 100 * NS),))
    model = ReceiverModel(lock_js_db=35.0, degrade_band_db=10.0)
    lat = np.array([0.1, 0.5, 1.0, 2.5, 0.1])
    t = np.array([1, 1, 1, 1, 200]) * NS  # the last one after switch-off
    ex = expose((tx,), t, lat, np.zeros(5), 30_000.0, 8, 9, 450.0, 90.0, model)
    js = ex.js_db
    want = np.where(js >= 35, JAMMED, np.where(js >= 25, DEGRADED, NOMINAL))
    assert ex.effect.tolist() == want.tolist()
    assert ex.effect[0] == JAMMED and ex.effect[-1] == NOMINAL and js[-1] == -math.inf
    assert ex.nic[0] == 0 and ex.nacp[0] == 0 and ex.nic[-1] == 8 and ex.nacp[-1] == 9
    assert ex.source.tolist() == [0 if e else -1 for e in ex.effect.tolist()]
    deg = ex.effect == DEGRADED
    assert np.all(ex.nic[deg] < 8) and np.all(ex.nacp[deg] <= 9)


def test_spoofer_fixed_point_keeps_integrity() -> None:
    sp = Spoof(mode="fixed", latitude=34.0, longitude=33.0, velocity="consistent")
    tx = Transmitter("s", 35.0, 35.0, eirp_w=1.0, height_m=20.0, spoof=sp)
    ex = expose(
        (tx,), np.zeros(2, dtype=np.int64), [35.2, 20.0], [35.2, 20.0], 35_000.0, 8, 10, 450.0, 10.0
    )
    assert ex.effect.tolist() == [SPOOFED, NOMINAL]
    assert (ex.latitude[0], ex.longitude[0], ex.nic[0], ex.nacp[0]) == (34.0, 33.0, 8, 10)
    assert ex.groundspeed_kt.tolist() == [0.0, 450.0]
    assert (ex.latitude[1], ex.longitude[1]) == (20.0, 20.0)
