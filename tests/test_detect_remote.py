"""Detection on a Dask cluster (``jamwatch detect --engine dask``): the segments detected by a
real ``dask scheduler`` and two ``dask worker`` processes on loopback
(``conftest.dask_scheduler``) give the embedded stream's events exactly, also where a spoofing
episode moves a cut after later segments were already sent out. The real Helsinki day's first
four hours (two segments) are checked the same way in test_real_helsinki.py."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from jamwatch.api import decode
from jamwatch.cli import app
from jamwatch.detect.remote import ClusterStream
from jamwatch.detect.stream import DetectStream, StreamConfig
from jamwatch.simulate.scenario import load, run_scenario

NS = 1_000_000_000


def _batches(table: pa.Table, seconds: float = 120.0) -> Iterator[pa.Table]:
    """``table`` (in time order) as consecutive batches of ``seconds``."""
    t = np.asarray(table.column("time").cast(pa.int64()).to_numpy())
    edges = np.arange(t.min(), t.max() + seconds * NS, int(seconds * NS))
    for a, b in itertools.pairwise(edges):
        yield table.filter(pa.array((t >= a) & (t < b)))


def _run(stream: DetectStream, table: pa.Table) -> pa.Table:
    out = [stream.push(b) for b in _batches(table)]
    return pa.concat_tables([*out, stream.flush()])


@pytest.mark.parametrize("ahead", [1, 50])
def test_moved_cuts_are_taken_back_and_the_events_are_the_streams(
    dask_scheduler: str, ahead: int
) -> None:
    # the spoofer's hour cut every 5-15 minutes: its episodes move cuts (as in
    # test_detect_stream.py); ahead=50 sends every segment out before the first comes back
    from distributed import Client

    table = decode(run_scenario(load("spoof-east-med"), 2).frames).sort_by("time")
    config = StreamConfig(context_s=600.0, min_segment_s=300.0, max_segment_s=900.0)
    embedded = _run(DetectStream(config=config), table)
    with Client(dask_scheduler, timeout="30s") as client:
        stream = ClusterStream(client, config=config, ahead=ahead, local_rows=0)
        remote = _run(stream, table)
    assert stream.replans >= 1
    assert embedded.column("kind").to_pylist().count("spoofing") >= 3
    assert remote.equals(embedded)


def test_jamming_in_short_segments_is_the_streams(dask_scheduler: str) -> None:
    from distributed import Client

    table = decode(run_scenario(load("andoya-2024"), 3).frames).sort_by("time")
    config = StreamConfig(context_s=600.0, min_segment_s=900.0, max_segment_s=1800.0)
    embedded = _run(DetectStream(config=config), table)
    with Client(dask_scheduler, timeout="30s") as client:
        stream = ClusterStream(client, config=config, local_rows=0)
        remote = _run(stream, table)
    assert stream.segments >= 3
    assert embedded.column("kind").to_pylist().count("jamming") >= 3
    assert remote.equals(embedded)


def test_detect_on_the_cluster_writes_the_embedded_events_of_two_days(
    two_days: Path, dask_scheduler: str, tmp_path: Path
) -> None:
    runs = {"embedded": [], "cluster": ["--engine", "dask", "--scheduler", dask_scheduler]}
    written = {}
    for name, args in runs.items():
        out = tmp_path / f"{name}.json"
        result = CliRunner().invoke(
            app, ["detect", "--store", str(two_days), "-o", str(out), *args]
        )
        assert result.exit_code == 0, result.output
        written[name] = out.read_bytes()
    assert written["cluster"] == written["embedded"]
    events = json.loads(written["cluster"])
    days = {e["start"][:10] for e in events if e["kind"] == "jamming"}
    assert days == {"2024-05-29", "2024-09-09"}


def test_clear_errors_for_the_engine(two_days: Path, tmp_path: Path) -> None:
    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, ["detect", "--store", str(two_days), *args])
        return result.exit_code, result.output

    code, output = run("--engine", "spark")
    assert code == 2 and "--engine is embedded or dask" in output
    code, output = run("--scheduler", "tcp://127.0.0.1:1")
    assert code == 2 and "--scheduler goes with --engine dask" in output
    code, output = run("--workers", "2")
    assert code == 2 and "goes with --engine dask and no --scheduler" in output
    from conftest import free_port

    gone = f"tcp://127.0.0.1:{free_port()}"
    code, output = run("--engine", "dask", "--scheduler", gone, "-o", str(tmp_path / "x.json"))
    assert code == 2 and "dask scheduler" in output
    assert not (tmp_path / "x.json").exists()
