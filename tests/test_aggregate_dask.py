"""The map job on a Dask cluster (``jamwatch map --engine dask``): a real ``dask scheduler``
and two ``dask worker`` processes started here on loopback; the cells equal the embedded
run's, cell by cell, on a store of two simulated days (hourly windows and daily ones)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from conftest import free_port
from jamwatch.api import decode
from jamwatch.cli import app
from jamwatch.io.store import Store
from jamwatch.simulate.scenario import load, run_scenario


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """korea-west-sea (seed 6, 2024-05-29) and andoya-2024 (seed 7, 2024-09-09): two days
    of jammed traffic in one store."""
    folder = tmp_path_factory.mktemp("dask") / "store"
    korea = decode(run_scenario(load("korea-west-sea"), 6).frames.sort_by("time"))
    andoya = decode(run_scenario(load("andoya-2024"), 7).frames.sort_by("time"))
    with Store.open(folder) as s:
        s.append(korea)
        s.append(andoya)
    return folder


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A Dask scheduler and two single-threaded workers on loopback."""
    dask = shutil.which("dask") or str(Path(sys.executable).with_name("dask"))
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    common = ["--no-dashboard"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    server = [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), *common]
    worker = [dask, "worker", address, "--nthreads", "1", "--host", "127.0.0.1", *common]
    procs = [subprocess.Popen(server, **quiet)]  # type: ignore[call-overload]
    procs += [subprocess.Popen(worker, **quiet) for _ in range(2)]  # type: ignore[call-overload]
    from distributed import Client

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with Client(address, timeout="5s") as client:
                    if len(client.nthreads()) == 2:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the Dask cluster did not start in 60 s")
            time.sleep(0.5)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            proc.wait(30)


def _cells(out: Path) -> pa.Table:
    keys = [("window_start", "ascending"), ("hex", "ascending")]
    return pq.read_table(out / "cells.parquet").sort_by(keys)


@pytest.mark.parametrize("window", ["hour", "day"])
def test_the_cluster_maps_the_store_as_the_embedded_run(
    store: Path, scheduler: str, window: str, tmp_path: Path
) -> None:
    runs = {
        "embedded": ["--workers", "1"],
        "cluster": ["--engine", "dask", "--scheduler", scheduler],
    }
    cells = {}
    for name, args in runs.items():
        out = tmp_path / name
        argv = ["map", "--store", str(store), "--window", window, "-o", str(out), *args]
        result = CliRunner().invoke(app, argv)
        assert result.exit_code == 0, result.output
        cells[name] = _cells(out)
    assert cells["cluster"].num_rows > 0
    assert cells["cluster"].equals(cells["embedded"])
    days = {str(t)[:10] for t in cells["cluster"].column("window_start").to_pylist()}
    assert len(days) >= 2 and pc.sum(cells["cluster"]["count_bad_aircraft"]).as_py() > 0


def test_a_local_cluster_and_clear_errors(store: Path, tmp_path: Path) -> None:
    hour = ["--from", "2024-09-09T14:00Z", "--to", "2024-09-09T15:00Z"]
    local = CliRunner().invoke(
        app, ["map", "--store", str(store), "--engine", "dask", "--workers", "2", *hour,
              "-o", str(tmp_path / "l")],
    )  # fmt: skip
    embedded = CliRunner().invoke(
        app, ["map", "--store", str(store), *hour, "-o", str(tmp_path / "e")]
    )
    assert local.exit_code == 0 and embedded.exit_code == 0, local.output + embedded.output
    assert _cells(tmp_path / "l").equals(_cells(tmp_path / "e"))
    gone = CliRunner().invoke(
        app, ["map", "--store", str(store), "--engine", "dask", "--scheduler",
              f"tcp://127.0.0.1:{free_port()}", "-o", str(tmp_path / "x")],
    )  # fmt: skip
    assert gone.exit_code == 2 and "dask scheduler" in gone.output
    wrong = CliRunner().invoke(app, ["map", "--store", str(store), "--engine", "spark"])
    assert wrong.exit_code == 2 and "--engine is embedded or dask" in wrong.output
