"""The map job: any inputs jamwatch reads -> integrity signals -> cells per H3 cell and window.

Inputs, told apart by content: gpsjam daily files (``YYYY-MM-DD-h3_R.csv``, taken as they
are), decoded tables in Parquet (the decoded column names: ``time``, ``icao``, ``latitude``,
...), position files (:mod:`jamwatch.io.positions`) and raw Mode S recordings
(:func:`jamwatch.io.read_frames` and the decoder). Reports are processed in batches with one
:class:`jamwatch.signals.IntegrityState`, reduced to mergeable partials per batch, and merged.

Workers split the reports by aircraft, not by time, because the gpsjam counter needs each
aircraft's reports in time order: worker ``k`` of ``n`` keeps the reports whose ICAO address
(lower case) has ``crc32 % n == k`` and returns its partials, its aircraft with faulty avionics
and its counts; the parent concatenates them (the aircraft sets are disjoint). The parent reads
the inputs once and hands every batch to all workers through shared memory
(:class:`jamwatch.aggregate.shards.Workers`). Every batch is split the same way in every
worker, so an aircraft meets the same batches as with one worker and the cells are identical.

The inputs are read by :mod:`jamwatch.io.inputs`, the shards are in
:mod:`jamwatch.aggregate.sources`, the reduction of a shard
and the worker processes in :mod:`jamwatch.aggregate.shards`; :func:`map_cells` runs them.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from jamwatch.aggregate.grid import GridConfig, cell_stats, cells_from_counts, mark_faulty
from jamwatch.aggregate.shards import in_workers, map_partials, warm_up
from jamwatch.aggregate.sources import MapSummary, Shard, shard_ids
from jamwatch.io import Starts
from jamwatch.io.gpsjam import read_gpsjam
from jamwatch.io.inputs import is_gpsjam
from jamwatch.signals import IntegrityConfig

#: with ``workers=None``, inputs smaller than this run in one process (a worker costs ~1 s to start)
PARALLEL_MIN_BYTES = 64 * 2**20


@dataclass(slots=True)
class MapResult:
    """Cells (CELL_SCHEMA), the merged partials behind them, and the summary."""

    cells: pa.Table
    partials: pa.Table
    summary: MapSummary


def _workers(paths: list[Path], workers: int | None) -> int:
    if workers is not None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        return workers
    size = sum(p.stat().st_size for p in paths if not is_gpsjam(p))
    return (os.cpu_count() or 1) if size >= PARALLEL_MIN_BYTES else 1


def map_cells(
    inputs: list[str | os.PathLike[str]],
    grid: GridConfig | None = None,
    integrity: IntegrityConfig | None = None,
    workers: int | None = None,
    processes: bool = True,
    starts: Starts | None = None,
    scheduler: str | None = None,
    engine: str = "embedded",
) -> MapResult:
    """Run the map job over ``inputs``; gpsjam files join the result as daily cells.

    ``workers``: how many shards of aircraft run at once, in worker processes fed by this one
    (or, with ``processes=False``, in threads that each read every input and keep their
    shard); ``None`` takes every core when the inputs total at least
    :data:`PARALLEL_MIN_BYTES`, else 1. The cells do not depend on it.

    ``engine="dask"`` runs the shards as tasks of a Dask distributed cluster: the one at
    ``scheduler`` (``tcp://HOST:PORT``; every worker must read ``inputs`` at the same paths),
    or a local cluster of ``workers`` processes; one shard per worker thread. The cells are
    the embedded run's: the shards and their merge are the same.
    """
    grid = grid or GridConfig()
    integrity = integrity or IntegrityConfig()
    paths = [Path(p) for p in inputs]
    n = _workers(paths, workers)
    summary = MapSummary()
    if engine == "dask":
        parts = _on_dask(paths, grid, integrity, starts, scheduler, workers)
    elif engine != "embedded":
        raise ValueError(f"engine {engine!r}: known engines are embedded and dask")
    elif n == 1:
        parts = [map_partials(paths, grid, integrity, starts=starts)]
    elif processes:
        parts = in_workers(paths, grid, integrity, n, starts)
    else:
        with ThreadPoolExecutor(n) as pool:
            jobs = [
                pool.submit(map_partials, paths, grid, integrity, Shard(k, n), starts)
                for k in range(n)
            ]
            parts = [job.result() for job in jobs]
    faulty: set[str] = set()
    for _, part_faulty, part_summary in parts:
        faulty |= part_faulty
        summary.add(part_summary)
    has_reports = any(p.num_rows for p, _, _ in parts) or summary.reports > 0
    merged = pa.concat_tables([p for p, _, _ in parts]) if len(parts) > 1 else parts[0][0]
    merged, faulty = mark_faulty(merged, faulty)
    summary.faulty_aircraft = len(faulty)
    tables = [cell_stats(merged, grid.window_s, faulty)] if has_reports else []
    for path in paths:
        if is_gpsjam(path):
            summary.inputs["gpsjam"] += 1
            tables.append(cells_from_counts(read_gpsjam(path)))
    cells = pa.concat_tables(tables) if tables else cell_stats(merged, grid.window_s)
    return MapResult(cells, merged, summary)


def _on_dask(
    paths: list[Path], grid: GridConfig, integrity: IntegrityConfig, starts: Starts | None,
    scheduler: str | None, workers: int | None,
) -> list[tuple[pa.Table, set[str], MapSummary]]:  # fmt: skip
    """Every shard's :func:`map_partials` as a task of a Dask cluster (see :func:`map_cells`)."""
    from jamwatch.cluster import dask_client, threads

    with dask_client(scheduler, workers) as client:
        count = threads(client)
        jobs = [
            client.submit(map_partials, paths, grid, integrity, Shard(k, count), starts,
                          pure=False)
            for k in range(count)
        ]  # fmt: skip
        return list(client.gather(jobs))  # type: ignore[no-untyped-call]


__all__ = [
    "PARALLEL_MIN_BYTES",
    "MapResult",
    "MapSummary",
    "Shard",
    "map_cells",
    "map_partials",
    "shard_ids",
    "warm_up",
]
