"""Spoofing episodes: the real THY9BP flight, the real Swiss traffic, the simulated spoofer.

Fixtures:
- trajectories/thy9bp_2024-09-17_spoofed.json.gz: xoolive/traffic
  src/traffic/data/samples/noisy/noisy_spoofing.json.gz @ 8286f88e (MIT), the real flight
  THY9BP of 2024-09-17 (position frozen, then false positions near Lviv);
- trajectories/switzerland_2018-08-01.json.gz: xoolive/traffic samples/collections (MIT),
  842 real flights without interference;
- the spoof-east-med scenario of the simulator (its per-frame truth).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pytest

from conftest import shared_path
from jamwatch.api import decode
from jamwatch.detect.spoofing import detect_spoofing
from jamwatch.io.positions import read_positions
from jamwatch.simulate.scenario import load, run_scenario

NS = 1_000_000_000


def _ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * NS


def _flags(table: pa.Table) -> np.ndarray:
    return np.asarray(table.column("spoofed").fill_null(False).to_numpy(zero_copy_only=False))


def test_thy9bp_frozen_and_false_positions_flagged_nothing_before() -> None:
    table = read_positions(shared_path("trajectories", "thy9bp_2024-09-17_spoofed.json.gz"))
    result = detect_spoofing(table)
    t = np.asarray(table.column("time").cast(pa.int64()).to_numpy())
    flag = _flags(result.reports)
    frozen = (t >= _ns("2024-09-17T09:06:18")) & (t < _ns("2024-09-17T09:24:21"))
    false = (t >= _ns("2024-09-17T09:24:21")) & (t <= _ns("2024-09-17T09:58:09"))
    before = t < _ns("2024-09-17T09:06:00")
    assert frozen.sum() > 1000 and false.sum() > 2000
    assert flag[frozen].mean() >= 0.95
    assert flag[false].mean() >= 0.95
    assert flag[before].sum() == 0
    # one episode, from the frozen position to the jump back to the true route
    ep = result.episodes
    assert ep.num_rows == 1
    assert ep.column("icao")[0].as_py() == "4baac6"
    start = ep.column("start").cast(pa.int64())[0].as_py()
    end = ep.column("end").cast(pa.int64())[0].as_py()
    assert _ns("2024-09-17T09:06:00") <= start <= _ns("2024-09-17T09:08:00")
    assert _ns("2024-09-17T09:58:09") <= end <= _ns("2024-09-17T09:58:30")
    assert {"frozen", "implausible_speed"} <= set(ep.column("evidence")[0].as_py())


def test_swiss_day_no_spoofing() -> None:
    table = read_positions(shared_path("trajectories", "switzerland_2018-08-01.json.gz"))
    result = detect_spoofing(table)
    flag = _flags(result.reports)
    assert table.num_rows == 139_098
    assert flag.mean() <= 0.001
    assert result.episodes.num_rows == 0


@pytest.mark.parametrize("seed", [1, 2])
def test_simulated_spoofer_report_precision_recall(seed: int) -> None:
    sim = run_scenario(load("spoof-east-med"), seed)
    decoded = decode(sim.frames)
    assert decoded.num_rows == sim.truth.num_rows  # one decoded row per frame, same order
    result = detect_spoofing(decoded)
    has = result.reports.column("spoofed").is_valid().to_numpy(zero_copy_only=False)
    flag = _flags(result.reports)
    effect = sim.truth.column("effect").cast(pa.string()).to_numpy(zero_copy_only=False)
    truth = (effect == "spoofed") & has
    tp = int((flag & truth).sum())
    assert truth.sum() > 1000
    precision, recall = tp / flag.sum(), tp / truth.sum()
    assert precision >= 0.98, precision
    assert recall >= 0.95, recall
    # the false point is Beirut airport (the scenario's spoof target), shared by several aircraft
    ep = result.episodes
    lat = np.asarray(ep.column("false_latitude").to_numpy(zero_copy_only=False), float)
    lon = np.asarray(ep.column("false_longitude").to_numpy(zero_copy_only=False), float)
    fixed = ~np.isnan(lat)
    assert fixed.sum() >= 2
    assert np.allclose(lat[fixed], 33.8209, atol=0.01)
    assert np.allclose(lon[fixed], 35.4884, atol=0.01)
    assert int(ep.column("converging_aircraft").to_numpy().max()) >= 2


def _track(times_s: np.ndarray, lat: np.ndarray, lon: np.ndarray, gs: float = 450.0) -> pa.Table:
    n = times_s.shape[0]
    return pa.table(
        {
            "time": pa.array((_ns("2024-01-01T10:00:00") + times_s * NS).astype(np.int64)).cast(
                pa.timestamp("ns", tz="UTC")
            ),
            "icao": pa.array(["abc123"] * n),
            "latitude": pa.array(lat),
            "longitude": pa.array(lon),
            "altitude_baro_ft": pa.array(np.full(n, 35000.0)),
            "groundspeed_kt": pa.array(np.full(n, gs)),
            "track_deg": pa.array(np.zeros(n)),
        }
    )


def _north(times_s: np.ndarray, gs: float = 450.0) -> np.ndarray:
    return 45.0 + times_s * gs * 1852 / 3600 / 111_195.0


def test_cpr_pairing_error_and_receiver_gap_are_not_spoofing() -> None:
    t = np.arange(0, 1200, 1.0)
    lat = _north(t)
    lon = np.full_like(t, 7.0)
    lat[300] += 360 * 1852 / 111_195.0  # a wrong even/odd pairing: 360 NM, then straight back
    lat[301:304] -= 180 * 1852 / 111_195.0  # 180 NM for three reports
    keep = (t < 600) | (t >= 840)  # a 4-minute reception gap
    table = _track(t[keep], lat[keep], lon[keep])
    result = detect_spoofing(table)
    assert _flags(result.reports).sum() == 0
    assert result.episodes.num_rows == 0
    outlier = result.reports.column("position_outlier").to_numpy(zero_copy_only=False)
    assert outlier.sum() == 4


def test_duplicated_and_out_of_order_reports() -> None:
    t = np.arange(0, 600, 2.0)
    table = _track(t, _north(t), np.full_like(t, 7.0))
    doubled = pa.concat_tables([table, table]).take(np.random.default_rng(0).permutation(600))
    result = detect_spoofing(doubled)
    assert _flags(result.reports).sum() == 0
    assert result.reports.num_rows == 600


def test_empty_table() -> None:
    result = detect_spoofing(_track(np.zeros(0), np.zeros(0), np.zeros(0)))
    assert result.reports.num_rows == 0
    assert result.episodes.num_rows == 0


def test_gnss_height_is_judged_against_the_other_aircraft() -> None:
    """Cold air (the real Helsinki day of 2026-01-06) puts every aircraft's GNSS height about
    6.5 % below its pressure altitude: -2,275 ft at FL350 is the weather, not spoofing."""
    import numpy as np

    from jamwatch.detect.spoofing import SpoofingConfig, gnss_baro_excess

    c = SpoofingConfig()
    code = np.repeat(np.arange(5), 10)
    t = np.tile(np.arange(10) * 10**9, 5)
    alt = np.full(50, 35_000.0)
    diff = np.repeat([-2275.0, -2250.0, -2300.0, -2275.0, 1500.0], 10)
    excess = gnss_baro_excess(code, t, alt, diff, c)
    assert np.all(np.abs(excess[:40]) <= 25.0)  # within 25 ft of the consensus
    assert np.all(excess[40:] > c.gnss_baro_ft)  # 3,775 ft above it: evidence
    # alone, with no consensus: the threshold grows by 10 % of the altitude (3,500 ft here)
    alone = gnss_baro_excess(code[:10], t[:10], alt[:10], diff[:10], c)
    assert np.all(alone == 0.0)


def test_reports_that_claim_no_integrity_may_jump() -> None:
    import numpy as np

    from jamwatch.detect.spoofing import SpoofingConfig, jump_tolerance

    c = SpoofingConfig()
    got = jump_tolerance(np.array([-1, 0, 1, 4, 8, 11]), c)
    # unknown NIC: 2 km; NIC 0: 20 km; NIC 1: twice 20 NM; NIC 4: twice 2 NM; NIC 8 and 11: 2 km
    assert got.tolist() == [2000.0, 20_000.0, 74_080.0, 7408.0, 2000.0, 2000.0]
