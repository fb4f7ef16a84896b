"""The variant generator of ``jamwatch eval`` stays in its ranges, keeps the baseline's draws,
and the evaluation's new measures (split intervals, time per event, region-only runs)."""

from __future__ import annotations

import json
import math
from dataclasses import fields
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from jamwatch.api import decode
from jamwatch.cli import app
from jamwatch.detect.evaluate import (
    Interval,
    locate_timed,
    match,
    owners,
    summarize,
    variant,
    wilson,
)
from jamwatch.detect.events import detect_jamming
from jamwatch.detect.sources import locate_sources
from jamwatch.simulate.avionics import Fleet
from jamwatch.simulate.radio import ReceiverModel, Transmitter
from jamwatch.simulate.scenario import Scenario, load, parse, run_scenario
from jamwatch.simulate.variants import LEAD_S, VARIANTS, VariantConfig, traffic_area

NS = 1_000_000_000
RUNS = 6


@pytest.fixture(scope="module")
def korea() -> Scenario:
    return load("korea-west-sea")


def _draws(sc: Scenario, name: str, runs: int = RUNS) -> list[Scenario]:
    rng = np.random.default_rng(3)
    return [variant(sc, rng, VARIANTS[name]) for _ in range(runs)]


def test_baseline_keeps_the_first_evaluations_draws(korea: Scenario) -> None:
    """VariantConfig() gives the variants of before the family: rng 7's first korea-west-sea
    variant, as recorded with the evaluation of commit d1f01af (docs/detect.md's CI test
    draws its variants this way)."""
    v = variant(korea, np.random.default_rng(7))
    kaesong, haeju = v.transmitters
    assert (kaesong.latitude, kaesong.longitude) == (37.87964646749494, 126.43546041701711)
    assert (kaesong.eirp_w, haeju.eirp_w) == (73.17814873504473, 50.484630588231084)
    assert v.routes[0].per_hour == 7.069449943507367
    assert variant(korea, np.random.default_rng(7), VARIANTS["baseline"]) == v


@pytest.mark.parametrize("name", [n for n in VARIANTS if n != "baseline"])
def test_every_variant_shares_the_baselines_draws(korea: Scenario, name: str) -> None:
    """The generator is left where the baseline leaves it, and what a variant does not
    redraw is the baseline's, run after run."""
    c = VARIANTS[name]
    rng, rng_base = np.random.default_rng(5), np.random.default_rng(5)
    for _ in range(3):
        got, base = variant(korea, rng, c), variant(korea, rng_base, VARIANTS["baseline"])
        assert got.routes == base.routes or c.density != VariantConfig().density
        if not (c.site or c.power_w or c.height_m or c.duration_s):
            assert got.transmitters == base.transmitters
    assert rng.random() == rng_base.random()


@pytest.mark.parametrize("name", ["strong", "weak", "wide"])
def test_power_and_mast_in_their_ranges(korea: Scenario, name: str) -> None:
    c = VARIANTS[name]
    assert c.power_w is not None
    for sc in _draws(korea, name):
        for tx in sc.transmitters:
            assert c.power_w[0] <= tx.eirp_w <= c.power_w[1]
            if c.height_m is not None:
                assert c.height_m[0] <= tx.height_m <= c.height_m[1]


@pytest.mark.parametrize("name", ["short", "long", "wide"])
def test_one_interval_of_the_asked_duration(korea: Scenario, name: str) -> None:
    """One on-interval per site, of a length in range, LEAD_S from the (lengthened) ends."""
    c = VARIANTS[name]
    assert c.duration_s is not None
    for sc in _draws(korea, name):
        assert len(sc.transmitters) == 2  # korea-west-sea's two sites
        for tx in sc.transmitters:
            ((on, off),) = tx.schedule
            assert c.duration_s[0] <= (off - on) / NS <= c.duration_s[1]
            # integers (float64 steps are 256 ns at 2024's times); the end is rounded to the
            # nanosecond from float seconds in two ways: within 1 us
            lead = int(LEAD_S) * NS
            assert on >= sc.start_ns + lead and off <= sc.end_ns - lead + 1000
        assert sc.duration_s >= korea.duration_s


def test_avionics_and_model_in_their_ranges(korea: Scenario) -> None:
    for name, c in VARIANTS.items():
        for sc in _draws(korea, name, 3):
            assert sc.fleet.response == (c.response or "graded")
            for field, lo, hi in c.fleet:
                assert lo <= getattr(sc.fleet, field) <= hi, (name, field)
            for field, lo, hi in c.model:
                assert lo <= getattr(sc.model, field) <= hi, (name, field)
            untouched = {f.name for f in fields(Fleet)} - {f for f, _, _ in c.fleet}
            assert all(
                getattr(sc.fleet, f) == getattr(korea.fleet, f) for f in untouched - {"response"}
            )
            assert sc.model.lock_js_db == korea.model.lock_js_db
    # the brief's ranges: tolerance 0-6 dB, recovery 0-90 s, shield 0-20 dB, stop share 0-1
    wide = dict((f, (lo, hi)) for f, lo, hi in VARIANTS["wide"].fleet)
    assert wide["tolerance_sd_db"] == (0.0, 6.0) and wide["recovery_s"] == (0.0, 90.0)
    assert wide["shield_db"] == (0.0, 20.0) and wide["stop_fraction"] == (0.0, 1.0)
    assert {f.name for f in fields(ReceiverModel)} >= {f for f, _, _ in VARIANTS["band"].model}


@pytest.mark.parametrize("scenario", ["korea-west-sea", "andoya-2024"])
def test_sites_inside_on_the_edge_and_beyond_the_traffic(scenario: str) -> None:
    base = load(scenario)
    area = traffic_area(base)
    # the hull holds every heard position (exact quickhull: to rounding)
    assert area.outside_km(area.points[:, 0], area.points[:, 1]).max() < 1e-9
    for name, check in (
        ("inside", lambda d: d <= 1e-9),
        ("weak", lambda d: d <= 1e-9),
        ("edge", lambda d: abs(d) < 1e-6),
        # pushed out along the normal of a hull edge: that far from the convex hull
        ("beyond", lambda d: 30.0 - 1e-6 <= d <= 150.0 + 1e-6),
    ):
        for sc in _draws(base, name):
            jammers = [t for t in sc.transmitters if t.spoof is None]
            d = area.outside_km(
                *area.to_plane([t.latitude for t in jammers], [t.longitude for t in jammers])
            )
            assert all(check(float(x)) for x in d), (name, d)
            # co-sited transmitters stay together
            assert len({(t.latitude, t.longitude) for t in jammers}) == len(
                {(t.latitude, t.longitude) for t in base.transmitters if t.spoof is None}
            )
    assert VARIANTS["beyond"].region_only and not VARIANTS["edge"].region_only


def _events(
    spans_s: list[tuple[float, float]], aircraft: list[list[str]] | None = None
) -> pa.Table:
    return pa.table(
        {
            "start": pa.array([int(a * NS) for a, _ in spans_s], pa.int64()),
            "end": pa.array([int(b * NS) for _, b in spans_s], pa.int64()),
            "aircraft": aircraft or [["a1", "a2"]] * len(spans_s),
        }
    )


def _interval(tx: Transmitter, on_s: float, off_s: float, *aircraft: str) -> Interval:
    return Interval(tx, int(on_s * NS), int(off_s * NS), frozenset(aircraft or ("a1", "a2")))


def test_split_intervals_and_matches() -> None:
    """Two true intervals: the first seen as two events (split), the second as one."""
    tx = Transmitter("j", 60.0, 20.0, eirp_w=1.0)
    intervals = [_interval(tx, 0, 600), _interval(tx, 1200, 1800)]
    events = _events([(10, 200), (300, 590), (1210, 1700)])
    sources = pa.table(
        {
            "event": [0, 1, 2],
            "latitude": [60.0, 60.01, 60.5],
            "longitude": [20.0, 20.0, 20.0],
            "radius_95_km": [2.0, 2.0, 10.0],
        }
    )
    got = match(intervals, events, sources)
    assert (got["found"], got["split_intervals"], got["unlocated"]) == (2, 1, 0)
    assert got["error_km"] == pytest.approx([0.0, 55.6], abs=0.1)  # 0.5 degree of latitude
    assert got["covered"] == [True, False]
    assert got["extra_sources"] == 1  # event 1's source is the nearest to no interval
    assert got["latency_s"] == [10.0, 10.0]


def test_two_transmitters_at_once_in_two_events_split_nothing() -> None:
    """Kaesong and Haeju on together, each seen as its own event: no split. Kaesong's
    aircraft in two events at once (its area cut in two) is a split of Kaesong alone."""
    kaesong = Transmitter("kaesong", 37.97, 126.55, eirp_w=1.0)
    haeju = Transmitter("haeju", 38.04, 125.71, eirp_w=1.0)
    intervals = [_interval(kaesong, 0, 900, "k1", "k2", "k3"), _interval(haeju, 0, 900, "h1", "h2")]
    none = pa.table({"event": pa.array([], pa.int64()), "latitude": pa.array([], pa.float64()),
                     "longitude": pa.array([], pa.float64()),
                     "radius_95_km": pa.array([], pa.float64())})  # fmt: skip
    apart = _events([(10, 800), (20, 850)], [["K1", "k2", "k3", "h1"], ["h1", "h2"]])
    assert owners(intervals, apart) == ["kaesong", "haeju"]
    assert match(intervals, apart, none)["split_intervals"] == 0
    cut = _events([(10, 800), (20, 850), (30, 700)], [["k1", "k2"], ["h1", "h2"], ["k3"]])
    assert owners(intervals, cut) == ["kaesong", "haeju", "kaesong"]
    assert match(intervals, cut, none)["split_intervals"] == 1
    # an event that shares no aircraft with any interval is no transmitter's
    assert owners(intervals, _events([(10, 800)], [["x9"]])) == [None]


def test_a_source_stands_for_one_transmitter_site() -> None:
    """Kaesong and Haeju (74 km apart) in one event with one source, 0.4 km from Haeju: Haeju
    is located, Kaesong missed (not scored 74 km off inside a 4 km circle); Haeju's two
    on-intervals share the source, and a co-sited transmitter may share it too."""
    kaesong = Transmitter("kaesong", 37.97, 126.55, eirp_w=1.0)
    haeju = Transmitter("haeju", 38.04, 125.71, eirp_w=1.0)
    twin = Transmitter("haeju-2", 38.04, 125.71, eirp_w=1.0)
    intervals = [
        _interval(kaesong, 0, 900), _interval(haeju, 0, 900), _interval(haeju, 1000, 1500),
        _interval(twin, 0, 900),
    ]  # fmt: skip
    events = _events([(5, 1400)])
    sources = pa.table(
        {"event": [0], "latitude": [38.0436], "longitude": [125.71], "radius_95_km": [4.0]}
    )
    got = match(intervals, events, sources)
    assert (got["found"], got["unlocated"], got["missed"], got["extra_sources"]) == (4, 0, 1, 0)
    assert got["error_km"] == pytest.approx([0.4, 0.4, 0.4], abs=0.01)
    assert got["covered"] == [True, True, True]
    assert got["source_covered"] == [True]  # three intervals, one source: one outcome
    # with a second source near Kaesong both are located, neither source is extra
    two = pa.table(
        {
            "event": [0, 0], "latitude": [38.0436, 37.99], "longitude": [125.71, 126.55],
            "radius_95_km": [4.0, 1.0],
        }
    )  # fmt: skip
    got = match(intervals, events, two)
    assert (got["missed"], got["extra_sources"]) == (0, 0)
    assert got["error_km"] == pytest.approx([2.2, 0.4, 0.4, 0.4], abs=0.05)
    assert got["covered"] == [False, True, True, True]
    assert got["source_covered"] == [True, False]  # by source: Haeju's, then Kaesong's
    s = summarize([{**_run(), **got, "region_only": False}])
    assert (s["radius_95_coverage"], s["source_coverage"]) == (0.75, 0.5)
    assert s["sources_located"] == 2.0


def test_sources_pooled_to_one_place_stand_for_one_site() -> None:
    """Kaesong's event and Haeju's (74 km apart) whose sources were both pooled to Kaesong's
    site: one estimate of one site, so Haeju is missed (a second transmitter not told
    apart), not scored 74 km off inside a 2 km circle; the pooled twin is not an extra
    source, and the site's coverage is one outcome."""
    kaesong = Transmitter("kaesong", 37.97, 126.55, eirp_w=1.0)
    haeju = Transmitter("haeju", 38.04, 125.71, eirp_w=1.0)
    intervals = [_interval(kaesong, 0, 900), _interval(haeju, 1000, 1800, "h1", "h2")]
    events = _events([(5, 880), (1005, 1700)], [["a1", "a2"], ["h1", "h2"]])
    sources = pa.table(
        {
            "event": [0, 1], "latitude": [37.975, 37.975], "longitude": [126.55, 126.55],
            "radius_95_km": [2.0, 2.0],
        }
    )  # fmt: skip
    got = match(intervals, events, sources)
    assert (got["found"], got["unlocated"], got["missed"], got["extra_sources"]) == (2, 0, 1, 0)
    assert got["error_km"] == pytest.approx([0.56], abs=0.01)
    assert got["covered"] == [True]
    assert got["source_covered"] == [True]
    # apart by a few metres they are two estimates: each stands for its own site
    apart = sources.set_column(1, "latitude", pa.array([37.975, 37.9751]))
    got = match(intervals, events, apart)
    assert (got["missed"], got["extra_sources"]) == (0, 0)
    assert got["error_km"] == pytest.approx([0.56, 74.0], abs=1.0)
    assert got["covered"] == [True, False]


def test_a_coverage_comes_with_wilsons_interval() -> None:
    """Wilson's 95 % interval: 14 of 18 (a row of 18 sources, 4 outside their radius) is
    0.548-0.910 (the score interval's closed form, z = 1.96), so such a row misses 0.93
    beyond its sampling error, while 40 of 40 is 0.912-1.0 and is not shown to be too wide;
    0 of 0 has none."""
    lo, hi = wilson(14, 18)
    assert (lo, hi) == (pytest.approx(0.548, abs=0.001), pytest.approx(0.910, abs=0.001))
    assert wilson(0, 0) == (None, None)
    lo, hi = wilson(40, 40)
    assert hi == 1.0 and lo == pytest.approx(0.912, abs=0.001)


def test_the_targets_population_is_the_intervals_where_5_aircraft_lost_lock() -> None:
    """Of Kaesong's (7 lost lock), Haeju's (5, missed) and a weak site's (4) intervals, the
    targets' figures take Kaesong's and Haeju's: one located, one not."""
    kaesong = Transmitter("kaesong", 37.97, 126.55, eirp_w=1.0)
    haeju = Transmitter("haeju", 38.04, 125.71, eirp_w=1.0)
    weak = Transmitter("weak", 37.5, 126.0, eirp_w=0.1)
    intervals = [
        _interval(kaesong, 0, 900)._replace(lost=7),
        _interval(haeju, 0, 900)._replace(lost=5),
        _interval(weak, 0, 900)._replace(lost=4),
    ]
    events = _events([(5, 800)])
    sources = pa.table(
        {
            "event": [0, 0], "latitude": [37.99, 37.5], "longitude": [126.55, 126.0],
            "radius_95_km": [1.0, 3.0],
        }
    )  # fmt: skip
    got = match(intervals, events, sources)
    assert got["target_error_km"] == [pytest.approx(2.2, abs=0.05), None]
    assert got["target_covered"] == [False, None]
    s = summarize([{**_run(), **got, "region_only": False}])
    assert (s["target_intervals"], s["target_located"]) == (2.0, 1.0)
    assert s["target_median_km"] == pytest.approx(2.2, abs=0.05)
    assert s["target_coverage"] == 0.0


def _run() -> dict[str, object]:
    return {
        "latency_s": [], "events": 1, "intervals": 3, "spoof_flagged": 0, "spoof_true": 0,
        "spoof_tp": 0, "true_events": 1, "found": 3,
    }  # fmt: skip


def test_summary_leaves_region_only_distances_out() -> None:
    run = {
        "latency_s": [1.0], "error_km": [2.0], "covered": [True], "events": 1, "intervals": 1,
        "found": 1, "true_events": 1, "spoof_tp": 0, "spoof_flagged": 0, "spoof_true": 0,
        "locate_s": [0.5, 1.5], "split_intervals": 1, "radius_km": [3.0],
    }  # fmt: skip
    far = {**run, "error_km": [80.0], "covered": [False], "region_only": True,
           "radius_km": [40.0, 400.0]}  # fmt: skip
    s = summarize([run, far])
    assert s["localization_median_km"] == 2.0 and s["radius_95_coverage"] == 0.5
    assert s["radius_95_median_km"] == 40.0  # every located interval's radius counts
    assert (s["locate_median_s"], s["locate_max_s"], s["split_intervals"]) == (1.0, 1.5, 2.0)
    assert summarize([far])["localization_median_km"] is None


def test_time_per_event_leaves_the_sources_as_they_are() -> None:
    """A 20-minute scenario: three routes crossing a 20 W jammer on for 10 minutes."""
    cross = {"climb": False, "descend": False, "per_hour": 12}
    raw = {
        "name": "tiny", "start": "2024-01-01T00:00:00Z", "duration_s": 1200,
        "model": {"antenna_gain_db": -10.0},
        "traffic": {"routes": [
            {"from": [60.0, 20.0], "to": [60.0, 26.0], **cross},
            {"from": [62.0, 23.0], "to": [58.0, 23.0], **cross},
        ]},
        "transmitters": [{
            "name": "j", "latitude": 60.1, "longitude": 23.1, "eirp_w": 20, "height_m": 30,
            "on_s": [[300, 900]],
        }],
    }  # fmt: skip
    sim = run_scenario(parse(raw, Path(".")), 1)
    decoded = decode(sim.frames)
    events = detect_jamming(decoded)
    assert events.num_rows >= 1
    sources, took, _ = locate_timed(decoded, events)
    assert sources.equals(locate_sources(decoded, events))
    assert len(took) == events.num_rows and all(t > 0 for t in took)
    assert math.isfinite(sum(took))


def test_cli_names_unknown_variants() -> None:
    res = CliRunner().invoke(app, ["eval", "korea-west-sea", "--variant", "sideways"])
    assert res.exit_code != 0 and "unknown variant 'sideways'" in res.output
    assert "one-step" in res.output and "beyond" in res.output


def test_cli_writes_each_run_as_it_ends(tmp_path: Path) -> None:
    """``--runs-out``: one JSON line per run with the table's measures behind it; without a
    terminal a line per finished row says how far the evaluation is; an unwritable file is
    a clear error before any run."""
    out = tmp_path / "runs.jsonl"
    args = ["eval", "korea-west-sea", "--variant", "short", "--runs", "1", "--seed", "3"]
    res = CliRunner().invoke(app, [*args, "--runs-out", str(out)], env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    assert "evaluated korea-west-sea short: 1 runs" in res.output
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert (row["scenario"], row["variant"], row["run"], row["seed"]) == (
        "korea-west-sea", "short", 0, 3000,
    )  # fmt: skip
    assert row["intervals"] >= 1 and len(row["covered"]) == len(row["error_km"])
    assert summarize([row])["intervals"] == row["intervals"]
    bad = CliRunner().invoke(app, [*args, "--runs-out", str(tmp_path / "no" / "runs.jsonl")])
    assert bad.exit_code == 2 and "cannot write" in bad.output
