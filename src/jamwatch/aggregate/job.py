"""The map job: any inputs jamwatch reads -> integrity signals -> cells per H3 cell and window.

Inputs, told apart by content: gpsjam daily files (``YYYY-MM-DD-h3_R.csv``, taken as they
are), decoded tables in Parquet (the decoded column names: ``time``, ``icao``, ``latitude``,
...), position files (:mod:`jamwatch.io.positions`) and raw Mode S recordings
(:func:`jamwatch.io.read_frames` and the decoder). Reports are processed in batches with one
:class:`jamwatch.signals.IntegrityState`, reduced to mergeable partials per batch, and merged.

Workers split the reports by aircraft, not by time, because the gpsjam counter needs each
aircraft's reports in time order: worker ``k`` of ``n`` keeps the reports whose ICAO address
(lower case) has ``crc32 % n == k``, reads every input for them and returns its partials, its
aircraft with faulty avionics and its counts; the parent concatenates them (the aircraft sets are
disjoint). Every batch is split the same way in every worker, so an aircraft meets the same
batches as with one worker and the cells are identical.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
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
#: with ``workers=None``, inputs smaller than this run in one process (a worker costs ~1 s to start)
PARALLEL_MIN_BYTES = 64 * 2**20


@dataclass(slots=True)
class MapSummary:
    """What the job read: rows by input kind, rejects by reason, unlocated reports."""

    inputs: Counter[str] = field(default_factory=Counter)
    reports: int = 0
    rejects: Counter[str] = field(default_factory=Counter)
    unlocated: int = 0
    faulty_aircraft: int = 0
    #: CPU seconds of the job's processes (all their threads)
    cpu_s: float = 0.0
    #: maximum resident size in bytes of each process that read reports (one per worker)
    peak_rss: list[int] = field(default_factory=list)

    def add(self, other: MapSummary) -> None:
        """Add the counts of ``other`` (a worker's) to these."""
        self.inputs.update(other.inputs)
        self.reports += other.reports
        self.rejects.update(other.rejects)
        self.unlocated += other.unlocated
        self.faulty_aircraft += other.faulty_aircraft
        self.cpu_s += other.cpu_s
        self.peak_rss += other.peak_rss


@dataclass(frozen=True, slots=True)
class Shard:
    """The aircraft of worker ``index`` of ``count``: ``crc32(lower(icao)) % count == index``."""

    index: int = 0
    count: int = 1

    def select(self, table: pa.Table) -> pa.Table:
        """The rows of ``table`` whose aircraft belong to this shard (nulls go to shard 0)."""
        if self.count == 1 or table.num_rows == 0:
            return table
        icao = table.column("icao")
        if not pa.types.is_dictionary(icao.type):
            icao = pc.dictionary_encode(icao)
        masks = []
        for chunk in icao.chunks:
            names = chunk.dictionary.to_pylist()
            lut = np.fromiter(
                (zlib.crc32(str(x).lower().encode()) % self.count for x in names),
                np.int64,
                len(names),
            )
            lut = np.append(lut, 0) == self.index  # index -1 (null) -> shard 0
            idx = pc.fill_null(chunk.indices, -1).to_numpy(zero_copy_only=False)
            masks.append(lut[idx])
        return table.filter(pa.array(np.concatenate(masks)))


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


def _decoded_batches(path: Path, summary: MapSummary, shard: Shard) -> Iterator[pa.Table]:
    """Decoded Parquet (our own columns): whole row groups up to BATCH_ROWS, the shard's rows
    (selected before the cleaning, which only looks at one aircraft at a time), cleaned."""
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
            yield clean_positions(shard.select(table), report)
            groups, rows = [], 0
    summary.rejects.update(report.rejects)


def report_batches(
    paths: list[Path], summary: MapSummary, shard: Shard | None = None
) -> Iterator[pa.Table]:
    """Every non-gpsjam input as batches of decoded reports (one source after the other).

    With a ``shard``, only its aircraft's reports. Decoded Parquet is split before the
    cleaning; other inputs are read whole in every shard, and their inputs and rejects are
    counted by shard 0 only.
    """
    shard = shard or Shard()
    first = shard.index == 0
    for path in paths:
        if _is_gpsjam(path):
            continue
        if path.suffix == ".parquet" and {"icao", "latitude", "time"} <= set(
            pq.read_schema(path).names
        ):
            summary.inputs["decoded"] += first
            yield from _decoded_batches(path, summary, shard)
            continue
        try:
            report = PositionReport(str(path))
            table = read_positions(path, report=report)
            summary.inputs[report.format] += first
            if first:
                summary.rejects.update(report.rejects)
            yield shard.select(table)
            continue
        except PositionFormatError:
            pass
        from jamwatch.api import decode  # raw frames: the decoder (imported only when needed)

        summary.inputs["raw"] += first
        yield shard.select(decode(path))


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


def map_partials(
    paths: list[Path], grid: GridConfig, integrity: IntegrityConfig, shard: Shard | None = None
) -> tuple[pa.Table, set[str], MapSummary]:
    """One worker's part of the job: partials, faulty aircraft and counts of ``shard``.

    ``avionics_fault`` in the partials is the final verdict on the aircraft (all its reports),
    not what was known at the end of each batch.
    """
    cpu0 = time.process_time()
    summary = MapSummary()
    state = IntegrityState()
    partials = []
    # three stages overlap on separate threads (Parquet decoding, H3 and the Numba kernels
    # release the GIL): reading batch k+1, signals of batch k (sequential: per-aircraft state),
    # cells of batch k-1
    with ThreadPoolExecutor(1) as cells_pool:
        pending: Future[tuple[pa.Table, int]] | None = None
        for batch in _prefetch(report_batches(paths, summary, shard)):
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
    fault = pc.is_in(merged.column("icao"), value_set=pa.array(sorted(faulty), pa.string()))
    merged = merged.set_column(
        merged.schema.get_field_index("avionics_fault"), "avionics_fault", fault
    )
    summary.cpu_s = time.process_time() - cpu0
    summary.peak_rss = [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024]  # KiB
    return merged, faulty, summary


def _workers(paths: list[Path], workers: int | None) -> int:
    if workers is not None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        return workers
    size = sum(p.stat().st_size for p in paths if not _is_gpsjam(p))
    return (os.cpu_count() or 1) if size >= PARALLEL_MIN_BYTES else 1


def _pool(n: int, processes: bool) -> Executor:
    if not processes:
        return ThreadPoolExecutor(n)
    # forkserver: workers are forked from a clean single-threaded server (forking this process
    # could copy a lock held by one of pyarrow's threads), with the job's modules preloaded
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["jamwatch.aggregate.job"])
    return ProcessPoolExecutor(n, mp_context=context)


def map_cells(
    inputs: list[str | os.PathLike[str]],
    grid: GridConfig | None = None,
    integrity: IntegrityConfig | None = None,
    workers: int | None = None,
    processes: bool = True,
) -> MapResult:
    """Run the map job over ``inputs``; gpsjam files join the result as daily cells.

    ``workers``: how many shards of aircraft run at once, in worker processes (or threads with
    ``processes=False``); ``None`` takes every core when the inputs total at least
    :data:`PARALLEL_MIN_BYTES`, else 1. The cells do not depend on it.
    """
    grid = grid or GridConfig()
    integrity = integrity or IntegrityConfig()
    paths = [Path(p) for p in inputs]
    n = _workers(paths, workers)
    summary = MapSummary()
    if n == 1:
        parts = [map_partials(paths, grid, integrity)]
    else:
        with _pool(n, processes) as pool:
            jobs = [
                pool.submit(map_partials, paths, grid, integrity, Shard(k, n)) for k in range(n)
            ]
            parts = [job.result() for job in jobs]
    faulty: set[str] = set()
    for _, part_faulty, part_summary in parts:
        faulty |= part_faulty
        summary.add(part_summary)
    has_reports = any(p.num_rows for p, _, _ in parts) or summary.reports > 0
    merged = pa.concat_tables([p for p, _, _ in parts]) if n > 1 else parts[0][0]
    tables = [cell_stats(merged, grid.window_s, faulty)] if has_reports else []
    for path in paths:
        if _is_gpsjam(path):
            summary.inputs["gpsjam"] += 1
            tables.append(cells_from_counts(read_gpsjam(path)))
    cells = pa.concat_tables(tables) if tables else cell_stats(merged, grid.window_s)
    return MapResult(cells, merged, summary)
