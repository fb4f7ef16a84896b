"""The map job on a Dask cluster (``jamwatch map --engine dask``): a real ``dask scheduler``
and two ``dask worker`` processes started on loopback (``conftest.dask_scheduler``); the
cells equal the embedded run's, cell by cell, on a store of two simulated days (hourly
windows and daily ones)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from conftest import free_port
from jamwatch.cli import app


def _cells(out: Path) -> pa.Table:
    keys = [("window_start", "ascending"), ("hex", "ascending")]
    return pq.read_table(out / "cells.parquet").sort_by(keys)


@pytest.mark.parametrize("window", ["hour", "day"])
def test_the_cluster_maps_the_store_as_the_embedded_run(
    two_days: Path, dask_scheduler: str, window: str, tmp_path: Path
) -> None:
    runs = {
        "embedded": ["--workers", "1"],
        "cluster": ["--engine", "dask", "--scheduler", dask_scheduler],
    }
    cells = {}
    for name, args in runs.items():
        out = tmp_path / name
        argv = ["map", "--store", str(two_days), "--window", window, "-o", str(out), *args]
        result = CliRunner().invoke(app, argv)
        assert result.exit_code == 0, result.output
        cells[name] = _cells(out)
    assert cells["cluster"].num_rows > 0
    assert cells["cluster"].equals(cells["embedded"])
    days = {str(t)[:10] for t in cells["cluster"].column("window_start").to_pylist()}
    assert len(days) >= 2 and pc.sum(cells["cluster"]["count_bad_aircraft"]).as_py() > 0


def test_a_local_cluster_and_clear_errors(two_days: Path, tmp_path: Path) -> None:
    hour = ["--from", "2024-09-09T14:00Z", "--to", "2024-09-09T15:00Z"]
    local = CliRunner().invoke(
        app, ["map", "--store", str(two_days), "--engine", "dask", "--workers", "2", *hour,
              "-o", str(tmp_path / "l")],
    )  # fmt: skip
    embedded = CliRunner().invoke(
        app, ["map", "--store", str(two_days), *hour, "-o", str(tmp_path / "e")]
    )
    assert local.exit_code == 0 and embedded.exit_code == 0, local.output + embedded.output
    assert _cells(tmp_path / "l").equals(_cells(tmp_path / "e"))
    gone = CliRunner().invoke(
        app, ["map", "--store", str(two_days), "--engine", "dask", "--scheduler",
              f"tcp://127.0.0.1:{free_port()}", "-o", str(tmp_path / "x")],
    )  # fmt: skip
    assert gone.exit_code == 2 and "dask scheduler" in gone.output
    wrong = CliRunner().invoke(app, ["map", "--store", str(two_days), "--engine", "spark"])
    assert wrong.exit_code == 2 and "--engine is embedded or dask" in wrong.output
