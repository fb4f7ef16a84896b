"""Jamming events, sources and the evaluation against the simulator's truth.

Fixtures: the real Swiss traffic of 2018-08-01 (xoolive/traffic samples/collections, MIT) and
the simulator's scenarios korea-west-sea, andoya-2024 and spoof-east-med with their truth.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pytest

from conftest import shared_path
from jamwatch.api import decode
from jamwatch.detect.evaluate import evaluate_run, summarize, variant
from jamwatch.detect.events import detect_jamming
from jamwatch.detect.localize import Fit, LocalizeConfig, Observations, fit_source
from jamwatch.detect.physics import Verdict
from jamwatch.detect.sources import Located, few_witnesses, locate_sources, one_range
from jamwatch.geo import distance_m
from jamwatch.io.positions import read_positions
from jamwatch.simulate.scenario import load, run_scenario

NS = 1_000_000_000


@pytest.fixture(scope="module")
def korea() -> tuple[pa.Table, pa.Table]:
    sim = run_scenario(load("korea-west-sea"), 1)
    return decode(sim.frames), sim.transmitters


def test_no_event_on_real_swiss_day() -> None:
    table = read_positions(shared_path("trajectories", "switzerland_2018-08-01.json.gz"))
    assert detect_jamming(table).num_rows == 0


def test_no_event_without_affected_aircraft() -> None:
    sim = run_scenario(load("spoof-east-med"), 1)  # a spoofer only: nobody is jammed
    assert detect_jamming(decode(sim.frames)).num_rows == 0


def test_korea_event_onset_and_area(korea: tuple[pa.Table, pa.Table]) -> None:
    decoded, tx = korea
    events = detect_jamming(decoded)
    assert events.num_rows == 1  # Kaesong and Haeju overlap in time and space
    on = min(tx.column("on").cast(pa.int64()).to_pylist())
    start = events.column("start").cast(pa.int64())[0].as_py()
    assert 0 <= start - on <= 120 * NS
    assert events.column("affected_aircraft")[0].as_py() >= 5
    assert '"Polygon"' in events.column("area")[0].as_py()


def test_duplicated_and_shuffled_frames_do_not_invent_events() -> None:
    sim = run_scenario(load("spoof-east-med"), 2)
    decoded = decode(sim.frames)
    messy = pa.concat_tables([decoded, decoded])
    messy = messy.take(np.random.default_rng(0).permutation(messy.num_rows))
    assert detect_jamming(messy).num_rows == 0


def test_ci_evaluation_onset_and_spoofing() -> None:
    """A CI-sized evaluation: two randomized runs of korea-west-sea, one of andoya-2024, the
    shipped spoof-east-med and one randomized variant of it (which must capture aircraft)."""
    rng = np.random.default_rng(7)
    runs = [evaluate_run(variant(load("korea-west-sea"), rng), k) for k in range(2)]
    runs.append(evaluate_run(variant(load("andoya-2024"), rng), 5))
    runs.append(evaluate_run(load("spoof-east-med"), 1))
    spoof = evaluate_run(variant(load("spoof-east-med"), np.random.default_rng(3)), 3)
    assert spoof["spoof_true"] > 1000  # the randomized spoofer still captures aircraft
    runs.append(spoof)
    s = summarize(runs)
    assert s["onset_latency_median_s"] is not None
    assert s["onset_latency_median_s"] <= 120.0
    assert s["event_recall"] is not None and s["event_recall"] >= 0.5
    assert s["spoofing_precision"] is not None and s["spoofing_precision"] >= 0.98
    assert s["spoofing_recall"] is not None and s["spoofing_recall"] >= 0.95


def test_ci_evaluation_localization_on_fixed_variants() -> None:
    """Localization on five fixed randomized variants (two korea-west-sea, three andoya-2024,
    drawn as in ``jamwatch eval`` from seed 11): median error <= 3 km and 95th percentile
    <= 10 km, the true transmitter inside the estimated 95 % radius in at least 80 % of the
    located intervals, no located interval lost and no extra source. The limits were set
    before the avionics hypotheses of the likelihood and were not changed for them.

    Measured with the avionics hypotheses: 1.41 and 2.79 km, all covered (before them 0.4
    and 3.3 km). This set showed one case the checks had missed: a weak transmitter whose
    best located piece degraded aircraft but silenced none, rejected by the physical check
    until a source without losses in its piece answered for its whole event's losses. On the
    five sets of variants tried before (seeds 7 and 11-14) the medians were 0.42-1.38 km and
    the 95th percentiles 3.1-6.1 km, two sets with one extra source: this test guards what
    the localizer reaches on these variants; the issue's target is measured by the full
    evaluations in docs/detect.md.
    """
    rng = np.random.default_rng(11)
    runs = [evaluate_run(variant(load("korea-west-sea"), rng), k) for k in (0, 1)]
    runs += [evaluate_run(variant(load("andoya-2024"), rng), k) for k in (2, 3, 4)]
    s = summarize(runs)
    assert s["localization_median_km"] is not None and s["localization_median_km"] <= 3.0
    assert s["localization_p95_km"] is not None and s["localization_p95_km"] <= 10.0
    assert s["radius_95_coverage"] is not None and s["radius_95_coverage"] >= 0.8
    assert s["unlocated"] == 0 and s["extra_sources"] == 0


def test_korea_both_sources_located(korea: tuple[pa.Table, pa.Table]) -> None:
    """Kaesong and Haeju form one event; it is cut where Haeju switches on and Kaesong
    off, Kaesong is placed from the first piece, Haeju beside it (each with its own power)
    and from the last piece: measured 0.85 km from Kaesong and 0.38 km from Haeju, each
    inside its 95 % radius (about 4.3 km)."""
    decoded, _ = korea
    events = detect_jamming(decoded)
    sources = locate_sources(decoded, events)
    assert sources.num_rows == 2
    lat = np.asarray(sources.column("latitude").to_numpy())
    lon = np.asarray(sources.column("longitude").to_numpy())
    radius = np.asarray(sources.column("radius_95_km").to_numpy())
    for site in ((37.97, 126.55), (38.04, 125.71)):  # Kaesong, Haeju
        d = distance_m(lat, lon, np.full(2, site[0]), np.full(2, site[1])) / 1000.0
        k = int(np.argmin(d))
        assert d[k] <= 1.5
        assert d[k] <= radius[k]


def _model_observations(sx: float, sy: float, seed: int) -> Observations:
    """Reports of 12 straight tracks through the field of one source at (sx, sy), height
    30 m, lock lost where the loss is below 95 dB and degraded over 10 dB above it, NIC 8
    nominal, read with the DO-260B levels: the localizer's own model, no simulator."""
    rng = np.random.default_rng(seed)
    xs, ys, alts, los, his, tops, codes, ts = [], [], [], [], [], [], [], []
    for a in range(12):  # tracks
        x0, y0 = rng.uniform(-150e3, 150e3, 2)
        ang = rng.uniform(0, 2 * np.pi)
        s = np.arange(0, 300e3, 2000.0)
        x, y = x0 + s * np.cos(ang), y0 + s * np.sin(ang)
        alt = np.full(s.shape, rng.uniform(3000, 11000))
        u = 10 * np.log10((x - sx) ** 2 + (y - sy) ** 2 + (alt - 30.0) ** 2)
        q = (u - 95.0) / 10.0
        k = np.clip(np.floor(8 * q), -1, 8)
        lo = np.where(k <= 0, -1e6, k)
        hi = np.where(k < 0, 0.0, k + 1)
        xs.append(x), ys.append(y), alts.append(alt), los.append(lo), his.append(hi)
        tops.append((k >= 8).astype(float)), codes.append(np.full(s.shape, a))
        ts.append((s / 230.0 * NS).astype(np.int64))
    cat = np.concatenate
    n = sum(len(x) for x in xs)
    return Observations.from_levels(
        cat(xs), cat(ys), cat(alts), cat(los), cat(his), cat(tops), np.full(n, 8.0),
        cat(codes), cat(ts), np.full(n, 0.3), 0.0, 0.0,
    )  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2])
def test_fit_recovers_source_of_its_own_model(seed: int) -> None:
    ob = _model_observations(12_000.0, -7_000.0, seed)
    fit = fit_source(ob, (0.0, 0.0))
    err = float(np.hypot(fit.x - 12_000.0, fit.y + 7_000.0))
    assert err <= 1500.0
    assert err <= fit.radius_m
    assert abs(fit.c - 95.0) <= 1.0 and abs(fit.b - 10.0) <= 1.5


def _flights(
    n: int, nic: int, nacp: int, lat0: float, first: int = 0, span_s: int = 2400,
    alt_ft: float = 35_000.0,
) -> dict[str, list[object]]:  # fmt: skip
    """``n`` aircraft flying east side by side for ``span_s``, one report every 10 s."""
    cols: dict[str, list[object]] = {k: [] for k in (
        "icao", "time", "latitude", "longitude", "altitude_baro_ft", "nic", "nacp", "tc", "df"
    )}  # fmt: skip
    for k in range(n):
        for s in range(0, span_s, 10):
            row = (f"7{first + k:05x}", 1_767_600_000 * NS + s * NS, lat0 + 0.1 * k,
                   20.0 + s * 0.004, alt_ft, nic, nacp, 11, 17)  # fmt: skip
            for key, value in zip(cols, row, strict=True):
                cols[key].append(value)
    return cols


def _table(*groups: dict[str, list[object]]) -> pa.Table:
    cols = {k: [v for g in groups for v in g[k]] for k in groups[0]}
    table = pa.table(cols)
    return table.set_column(1, "time", table["time"].cast(pa.timestamp("ns", "UTC")))


def test_always_nic0_is_a_fault_only_beside_nominal_aircraft() -> None:
    # two aircraft always at NIC 0 / NACp 0 (more than 20 reports) flying among three
    # nominal ones (5-15 km apart, EventConfig.fault_near_km is 80): faulty
    faulty = _flights(2, 0, 0, 60.0)
    nominal = _flights(3, 8, 9, 60.05, first=10)
    assert detect_jamming(_table(faulty, nominal)).num_rows == 0
    # also when they are seen for 5 minutes only: the span does not matter beside nominal
    # aircraft (the clean swiss-2018 day's false events came from such aircraft)
    short = _flights(2, 0, 0, 60.0, span_s=300)
    assert detect_jamming(_table(short, nominal)).num_rows == 0
    # the same two with no nominal aircraft within 80 km: as over a jammed region, where
    # every aircraft looks always NIC 0, they are jammed, not faulty
    far = _flights(3, 8, 9, 65.0, first=10)
    events = detect_jamming(_table(faulty, far))
    assert events.num_rows == 1
    assert events.column("aircraft")[0].as_py() == ["700000", "700001"]
    # nominal aircraft right below them, but 10,000 ft lower (EventConfig.fault_below_ft is
    # 6,000): a lower aircraft may lie beyond a transmitter's horizon, so no proof
    low = _flights(3, 8, 9, 60.05, first=10, alt_ft=25_000.0)
    assert detect_jamming(_table(faulty, low)).column("aircraft")[0].as_py() == [
        "700000", "700001"
    ]


def test_a_clean_day_with_many_faulty_transponders_has_no_jamming() -> None:
    """swiss-2018 (real trajectories) without its transmitters, 15 % of the fleet with
    avionics that always report NIC 0 / NACp 0 (the default is 1 %: wider than reality on
    purpose), seed 23 (a reporting seed: the neighbourhood of EventConfig.fault_near_km,
    fault_near_s and fault_below_ft was chosen on seeds 1, 2 and 5, on andoya-2024 and
    korea-west-sea and on the Helsinki day). The rule before it (faulty only over 20 minutes
    and more) made a 13-aircraft jamming event of this day."""
    clean = dataclasses.replace(load("swiss-2018"), transmitters=())
    clean = dataclasses.replace(clean, fleet=dataclasses.replace(clean.fleet, faulty_fraction=0.15))
    sim = run_scenario(clean, 23)
    truth = sim.truth.select(["icao", "nacp"]).group_by("icao").aggregate([("nacp", "max")])
    faulty = int(np.count_nonzero(np.asarray(truth.column("nacp_max")) == 0))
    assert faulty >= 10  # (16 on this seed)
    assert detect_jamming(decode(sim.frames)).num_rows == 0


def test_too_few_witnesses_reject_a_source() -> None:
    """A source fitted where fewer than ``min_witnesses`` (5) aircraft were affected is
    rejected with the reason; with that many or more, the physical verdict stands. The
    model observations put 12 tracks through one source's field; keeping the affected
    aircraft one by one gives the counts."""
    ob = _model_observations(12_000.0, -7_000.0, 1)
    affected = np.unique(ob.code[ob.affected])
    assert affected.shape[0] >= 6
    fit = Fit(12_000.0, -7_000.0, 30.0, 95.0, 10.0, 0.0, 2_000.0)
    ok = Verdict(True, "", 10, 0.0, 0.0, 30.0)
    c = LocalizeConfig()
    for n, kept in ((4, False), (5, True)):
        keep = ~np.isin(ob.code, affected[n:])  # n affected aircraft and the nominal ones
        piece = ob.take(np.flatnonzero(keep))
        verdict = few_witnesses(Located(0, fit, piece, (), 0.0, 0.0), ok, c)
        assert verdict.ok is kept
        assert kept or verdict.reason.startswith(f"only {n} aircraft affected")
    bad = Verdict(False, "beyond its radio horizon", 10, 0.5, 0.0, None)
    one = ob.take(np.flatnonzero(~np.isin(ob.code, affected[1:])))
    assert few_witnesses(Located(0, fit, one, (), 0.0, 0.0), bad, c) is bad


def test_a_fit_that_puts_the_affected_aircraft_at_one_range_is_a_direction() -> None:
    """Six aircraft degraded within 20 km of a source at (0, 0), at FL330: a fit 300 km west
    of them sees them at about one range (the nearer half of their free-space losses within
    0.4 dB) and is rejected as a direction, with the bearing from them (west, 270 deg, give
    or take their spread); the fit at the source sees the nearer half over 3.5 dB and
    stands, as does a verdict already negative. ``one_range_db`` (1 dB) was chosen on
    development seeds 6, 2 and 5 of ``jamwatch eval``, not on this test."""
    rng = np.random.default_rng(7)
    n = 60
    r, a = 20_000.0 * np.sqrt(rng.random(n)), rng.random(n) * 2 * np.pi
    level = rng.integers(0, 8, n).astype(float)
    ob = Observations.from_levels(
        r * np.cos(a), r * np.sin(a), np.full(n, 10_000.0), level, level + 1, np.zeros(n),
        np.full(n, 8.0), np.repeat(np.arange(6), 10), np.arange(n) * NS, np.ones(n),
    )  # fmt: skip
    ok = Verdict(True, "", 10, 0.0, 0.0, 30.0)
    c = LocalizeConfig()
    near = Fit(0.0, 0.0, 30.0, 95.0, 10.0, 0.0, 2_000.0)
    assert one_range(Located(0, near, ob, (), 0.0, 0.0), ok, c) is ok
    far = Located(0, Fit(-300_000.0, 0.0, 30.0, 95.0, 10.0, 0.0, 2_000.0), ob, (), 0.0, 0.0)
    verdict = one_range(far, ok, c)
    assert not verdict.ok
    assert verdict.reason.startswith("the affected aircraft at about one range")
    bearing = int(verdict.reason.split("bearing ")[1].split(" deg")[0])
    assert 260 <= bearing <= 280
    bad = Verdict(False, "beyond its radio horizon", 10, 0.5, 0.0, None)
    assert one_range(far, bad, c) is bad
