"""Jamming events, sources and the evaluation against the simulator's truth.

Fixtures: the real Swiss traffic of 2018-08-01 (xoolive/traffic samples/collections, MIT) and
the simulator's scenarios korea-west-sea, andoya-2024 and spoof-east-med with their truth.
"""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pytest

from conftest import shared_path
from jamwatch.api import decode
from jamwatch.detect.evaluate import evaluate_run, summarize, variant
from jamwatch.detect.events import JammingStream, detect_jamming
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


def test_stream_of_windows_finds_the_same_onset(korea: tuple[pa.Table, pa.Table]) -> None:
    decoded, _ = korea
    whole = detect_jamming(decoded)
    t = np.asarray(decoded.column("time").cast(pa.int64()).to_numpy())
    stream = JammingStream()
    got = []
    edges = np.arange(t.min(), t.max() + 300 * NS, 300 * NS)  # 5-minute windows
    for a, b in itertools.pairwise(edges):
        got.append(stream.push(decoded.filter(pa.array((t >= a) & (t < b)))))
    got.append(stream.flush())
    events = pa.concat_tables(got)
    assert events.num_rows >= 1
    assert events.column("start")[0] == whole.column("start")[0]


def test_duplicated_and_shuffled_frames_do_not_invent_events() -> None:
    sim = run_scenario(load("spoof-east-med"), 2)
    decoded = decode(sim.frames)
    messy = pa.concat_tables([decoded, decoded])
    messy = messy.take(np.random.default_rng(0).permutation(messy.num_rows))
    assert detect_jamming(messy).num_rows == 0


def test_ci_evaluation_onset_and_spoofing() -> None:
    """A CI-sized evaluation: two randomized runs of korea-west-sea, one of andoya-2024."""
    rng = np.random.default_rng(7)
    runs = [evaluate_run(variant(load("korea-west-sea"), rng), k) for k in range(2)]
    runs.append(evaluate_run(variant(load("andoya-2024"), rng), 5))
    runs.append(evaluate_run(load("spoof-east-med"), 1))
    s = summarize(runs)
    assert s["onset_latency_median_s"] is not None
    assert s["onset_latency_median_s"] <= 120.0
    assert s["event_recall"] is not None and s["event_recall"] >= 0.5
    assert s["spoofing_precision"] is not None and s["spoofing_precision"] >= 0.98
    assert s["spoofing_recall"] is not None and s["spoofing_recall"] >= 0.95


@pytest.mark.xfail(strict=True, reason="localization target not reached yet (docs/detect.md)")
def test_ci_evaluation_localization_target() -> None:
    rng = np.random.default_rng(7)
    runs = [evaluate_run(variant(load("korea-west-sea"), rng), k) for k in range(2)]
    s = summarize(runs)
    assert s["localization_median_km"] is not None and s["localization_median_km"] <= 3.0
    assert s["localization_p95_km"] is not None and s["localization_p95_km"] <= 10.0
