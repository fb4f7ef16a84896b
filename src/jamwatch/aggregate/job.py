"""The map job: any inputs jamwatch reads -> integrity signals -> cells per H3 cell and window.

Inputs, told apart by content: gpsjam daily files (``YYYY-MM-DD-h3_R.csv``, taken as they
are), decoded tables in Parquet (the decoded column names: ``time``, ``icao``, ``latitude``,
...), position files (:mod:`jamwatch.io.positions`) and raw Mode S recordings
(:func:`jamwatch.io.read_frames` and the decoder). Reports are processed in batches with one
:class:`jamwatch.signals.IntegrityState`, reduced to mergeable partials per batch, and merged.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from jamwatch.aggregate.grid import (
    PARTIAL_SCHEMA,
    GridConfig,
    cell_partials,
    cell_stats,
    cells_from_counts,
    merge_partials,
)
from jamwatch.io.gpsjam import read_gpsjam
from jamwatch.io.positions import (
    PositionFormatError,
    PositionReport,
    clean_positions,
    read_positions,
)
from jamwatch.signals import IntegrityConfig, IntegrityState, integrity_signals

BATCH_ROWS = 2_000_000


@dataclass(slots=True)
class MapSummary:
    """What the job read: rows by input kind, rejects by reason, unlocated reports."""

    inputs: Counter[str] = field(default_factory=Counter)
    reports: int = 0
    rejects: Counter[str] = field(default_factory=Counter)
    unlocated: int = 0
    faulty_aircraft: int = 0


@dataclass(slots=True)
class MapResult:
    """Cells (CELL_SCHEMA), the merged partials behind them, and the summary."""

    cells: pa.Table
    partials: pa.Table
    summary: MapSummary


def _is_gpsjam(path: Path) -> bool:
    return path.suffix == ".csv" and "-h3_" in path.name


#: decoded columns the map job reads (others, such as track or callsign, stay on disk)
MAP_COLUMNS = (
    "time", "icao", "df", "tc", "latitude", "longitude", "altitude_baro_ft", "altitude_gnss_ft",
    "nic", "nacp", "groundspeed_kt", "on_ground",
)  # fmt: skip


def _decoded_batches(path: Path, summary: MapSummary) -> Iterator[pa.Table]:
    """Decoded Parquet (our own columns): whole row groups up to BATCH_ROWS, cleaned."""
    pf = pq.ParquetFile(path, read_dictionary=["icao"])
    columns = [c for c in MAP_COLUMNS if c in pf.schema_arrow.names]
    report = PositionReport(str(path), format="decoded")
    meta = pf.metadata
    groups: list[int] = []
    rows = 0
    for g in range(meta.num_row_groups):
        groups.append(g)
        rows += meta.row_group(g).num_rows
        if rows >= BATCH_ROWS or g == meta.num_row_groups - 1:
            table = pf.read_row_groups(groups, columns=columns, use_threads=True)
            yield clean_positions(table, report)
            groups, rows = [], 0
    summary.rejects.update(report.rejects)


def report_batches(paths: list[Path], summary: MapSummary) -> Iterator[pa.Table]:
    """Every non-gpsjam input as batches of decoded reports (one source after the other)."""
    for path in paths:
        if _is_gpsjam(path):
            continue
        if path.suffix == ".parquet" and {"icao", "latitude", "time"} <= set(
            pq.read_schema(path).names
        ):
            summary.inputs["decoded"] += 1
            yield from _decoded_batches(path, summary)
            continue
        try:
            report = PositionReport(str(path))
            table = read_positions(path, report=report)
            summary.inputs[report.format] += 1
            summary.rejects.update(report.rejects)
            yield table
            continue
        except PositionFormatError:
            pass
        from jamwatch.api import decode  # raw frames: the decoder (imported only when needed)

        summary.inputs["raw"] += 1
        yield decode(path)


def _collect(job: Future[tuple[pa.Table, int]], summary: MapSummary) -> pa.Table:
    partial, unlocated = job.result()
    summary.unlocated += unlocated
    return partial


def _prefetch(batches: Iterator[pa.Table]) -> Iterator[pa.Table]:
    """The batches of ``batches``, the next one read in a thread while this one is used."""
    with ThreadPoolExecutor(1) as pool:
        job = pool.submit(next, batches, None)
        while True:
            batch = job.result()
            if batch is None:
                return
            job = pool.submit(next, batches, None)
            yield batch


def map_cells(
    inputs: list[str | os.PathLike[str]],
    grid: GridConfig | None = None,
    integrity: IntegrityConfig | None = None,
) -> MapResult:
    """Run the map job over ``inputs``; gpsjam files join the result as daily cells."""
    grid = grid or GridConfig()
    integrity = integrity or IntegrityConfig()
    paths = [Path(p) for p in inputs]
    summary = MapSummary()
    state = IntegrityState()
    partials = []
    # three stages overlap on separate threads (Parquet decoding, H3 and the Numba kernels
    # release the GIL): reading batch k+1, signals of batch k (sequential: per-aircraft state),
    # cells of batch k-1
    with ThreadPoolExecutor(1) as cells_pool:
        pending: Future[tuple[pa.Table, int]] | None = None
        for batch in _prefetch(report_batches(paths, summary)):
            summary.reports += batch.num_rows
            signals = integrity_signals(batch, integrity, state)
            job = cells_pool.submit(cell_partials, signals, grid)
            if pending is not None:
                partials.append(_collect(pending, summary))
            pending = job
        if pending is not None:
            partials.append(_collect(pending, summary))
    merged = merge_partials(partials) if partials else PARTIAL_SCHEMA.empty_table()
    faulty = state.faulty(integrity)
    summary.faulty_aircraft = len(faulty)
    tables = [cell_stats(merged, grid.window_s, faulty)] if partials else []
    for path in paths:
        if _is_gpsjam(path):
            summary.inputs["gpsjam"] += 1
            tables.append(cells_from_counts(read_gpsjam(path)))
    cells = pa.concat_tables(tables) if tables else cell_stats(merged, grid.window_s)
    return MapResult(cells, merged, summary)
