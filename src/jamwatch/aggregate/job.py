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
the inputs once and hands every batch to all workers through shared memory (:class:`_Workers`).
Every batch is split the same way in every worker, so an aircraft meets the same batches as with
one worker and the cells are identical.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import resource
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from jamwatch.aggregate.grid import (
    PARTIAL_SCHEMA,
    GridConfig,
    cell_stats,
    cells_from_counts,
    confirm_faulty,
    merge_partials,
    partial_rows,
    report_flags,
)
from jamwatch.io import FormatError, ReadReport, Starts, read_frames
from jamwatch.io.gpsjam import read_gpsjam
from jamwatch.io.positions import (
    PositionReport,
    clean_mask,
    clean_positions,
    read_positions,
)
from jamwatch.io.sniff import sniff
from jamwatch.io.streams import PARQUET_MAGIC, read_head
from jamwatch.reports import ReportArrays, icao_codes
from jamwatch.schema import TIME_TYPE
from jamwatch.signals import IntegrityConfig, IntegrityState
from jamwatch.signals.integrity import signal_arrays

NS = 1_000_000_000
BATCH_ROWS = 2_000_000
#: with ``workers=None``, inputs smaller than this run in one process (a worker costs ~1 s to start)
PARALLEL_MIN_BYTES = 64 * 2**20
T = TypeVar("T")


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
    #: what was read from each raw recording (format, frames, time span, clock, start)
    recordings: list[ReadReport] = field(default_factory=list)

    def add(self, other: MapSummary) -> None:
        """Add the counts of ``other`` (a worker's) to these."""
        self.inputs.update(other.inputs)
        self.reports += other.reports
        self.rejects.update(other.rejects)
        self.unlocated += other.unlocated
        self.faulty_aircraft += other.faulty_aircraft
        self.cpu_s += other.cpu_s
        self.peak_rss += other.peak_rss
        self.recordings += other.recordings


def _shard_lut(names: pa.Array, count: int) -> npt.NDArray[np.int64]:
    """The shard of each address of ``names`` (``crc32(lower(icao)) % count``), then a 0 for
    the null code -1."""
    lut = np.fromiter(
        (zlib.crc32(str(x).lower().encode()) % count for x in names.to_pylist()),
        np.int64,
        len(names),
    )
    return np.append(lut, 0)


def shard_ids(table: pa.Table, count: int) -> npt.NDArray[np.int64]:
    """Per row, the shard of its aircraft: ``crc32(lower(icao)) % count`` (null: shard 0)."""
    if table.num_rows == 0:
        return np.zeros(0, np.int64)
    code, names = icao_codes(table)
    return np.asarray(_shard_lut(names, count)[code], np.int64)


@dataclass(frozen=True, slots=True)
class Shard:
    """The aircraft of worker ``index`` of ``count``: ``crc32(lower(icao)) % count == index``."""

    index: int = 0
    count: int = 1

    def select(self, table: pa.Table) -> pa.Table:
        """The rows of ``table`` whose aircraft belong to this shard (nulls go to shard 0)."""
        if self.count == 1 or table.num_rows == 0:
            return table
        return table.filter(pa.array(shard_ids(table, self.count) == self.index))

    def aircraft(self, names: pa.Array) -> npt.NDArray[np.bool_]:
        """Which of ``names`` belong to this shard, and (last entry) whether null does."""
        return np.asarray(_shard_lut(names, self.count) == self.index, np.bool_)


@dataclass(slots=True)
class MapResult:
    """Cells (CELL_SCHEMA), the merged partials behind them, and the summary."""

    cells: pa.Table
    partials: pa.Table
    summary: MapSummary


def is_gpsjam(path: Path) -> bool:
    """Whether ``path`` is a gpsjam.org daily CSV (``YYYY-MM-DD-h3_N.csv``), by its name."""
    return path.suffix == ".csv" and "-h3_" in path.name


#: decoded columns the map job reads (others, such as track or callsign, stay on disk)
MAP_COLUMNS = (
    "time", "icao", "df", "tc", "latitude", "longitude", "altitude_baro_ft", "altitude_gnss_ft",
    "nic", "nacp", "groundspeed_kt", "on_ground",
)  # fmt: skip


def _decoded_batches(path: Path, rejects: Counter[str]) -> Iterator[pa.Table]:
    """Decoded Parquet (our own columns) in whole row groups up to BATCH_ROWS, not cleaned.

    A row group that cannot be read (a damaged file) is skipped and its rows counted in
    ``rejects``; the others are kept.
    """
    pf = pq.ParquetFile(path, read_dictionary=["icao"])
    columns = [c for c in MAP_COLUMNS if c in pf.schema_arrow.names]
    meta = pf.metadata

    def read(groups: list[int]) -> Iterator[pa.Table]:
        # one thread: Arrow's column threads cost 40-80 % more CPU for the same decoding,
        # and the reading already overlaps the work on the previous batch
        try:
            yield pf.read_row_groups(groups, columns=columns, use_threads=False)
        except (pa.ArrowException, OSError):
            if len(groups) > 1:  # find the damaged group(s), keep the rest
                for g in groups:
                    yield from read([g])
            else:
                rejects["unreadable Parquet row group"] += meta.row_group(groups[0]).num_rows

    groups: list[int] = []
    rows = 0
    for g in range(meta.num_row_groups):
        groups.append(g)
        rows += meta.row_group(g).num_rows
        if rows >= BATCH_ROWS or g == meta.num_row_groups - 1:
            yield from read(groups)
            groups, rows = [], 0


def _sources(
    paths: list[Path], summary: MapSummary, shard: Shard, starts: Starts | None = None
) -> Iterator[tuple[pa.Table, bool]]:
    """(batch, whether it still needs :func:`clean_positions`) for every non-gpsjam input.

    Decoded Parquet comes uncleaned, so that the cleaning (which looks at one aircraft at a
    time) runs after the split by aircraft; the other readers clean whole files. Other inputs
    than Parquet are read whole in every shard: their inputs and rejects count in shard 0.
    Raw recordings are decoded by one decoder, so an aircraft's state (CPR frames, NIC
    supplements, version) carries from one file to the next; ``starts`` gives the UTC start of
    Beast and AVR recordings by path (see :func:`jamwatch.io.read_frames`).
    """
    first = shard.index == 0
    decoder = None
    for path in paths:
        if is_gpsjam(path):
            continue
        try:
            found = sniff(path)
        except FormatError:
            if read_head(path, 4) != PARQUET_MAGIC:
                raise
            summary.rejects[f"unreadable Parquet file ({path.name})"] += first
            continue
        if found.kind == "decoded":
            summary.inputs["decoded"] += first
            rejects: Counter[str] = Counter()
            for table in _decoded_batches(path, rejects):
                yield shard.select(table), True
            if first:
                summary.rejects.update(rejects)
        elif found.kind == "positions":
            report = PositionReport(str(path))
            table = read_positions(path, fmt=found.format, report=report)
            summary.inputs[report.format] += first
            if first:
                summary.rejects.update(report.rejects)
            yield shard.select(table), False
        elif found.kind == "frames":
            from jamwatch.decoder import Decoder  # (imported only when needed)

            summary.inputs["raw"] += first
            decoder = decoder or Decoder()
            read = ReadReport(str(path))
            start = (starts or {}).get(str(path))
            for batch in read_frames(path, fmt=found.format, start=start, report=read):
                yield shard.select(decoder.decode(batch)), False
            if first:
                summary.recordings.append(read)
        else:
            raise FormatError(f"{path}: a {found.kind} file, not reports (decoded or raw)")


def report_batches(
    paths: list[Path], summary: MapSummary, shard: Shard | None = None,
    starts: Starts | None = None,
) -> Iterator[pa.Table]:
    """Every non-gpsjam input as batches of clean decoded reports (one source after the other).

    With a ``shard``, only its aircraft's reports (see :func:`_sources`).
    """
    report = PositionReport("<decoded Parquet>", format="decoded")
    try:
        for table, raw in _sources(paths, summary, shard or Shard(), starts):
            yield clean_positions(table, report) if raw else table
    finally:
        summary.rejects.update(report.rejects)


def _collect(job: Future[tuple[pa.Table, int]], summary: MapSummary) -> pa.Table:
    partial, unlocated = job.result()
    summary.unlocated += unlocated
    return partial


def _prefetch(batches: Iterator[T]) -> Iterator[T]:
    """The items of ``batches``, the next one made in a thread while this one is used."""
    with ThreadPoolExecutor(1) as pool:
        job = pool.submit(next, batches, None)
        while True:
            batch = job.result()
            if batch is None:
                return
            job = pool.submit(next, batches, None)
            yield batch


class _Reducer:
    """One shard's batches (in time order) -> partials, faulty aircraft and counts.

    Each batch is converted to NumPy once (:class:`jamwatch.reports.ReportArrays`) and goes
    through cleaning (when it comes uncleaned), the signals and the cells as arrays. Signals
    run on the calling thread (sequential: per-aircraft state), the cells of a batch on a
    second thread while the signals of the next are computed (H3 and the Numba kernels release
    the GIL).
    """

    def __init__(self, grid: GridConfig, integrity: IntegrityConfig) -> None:
        self.cpu0 = time.process_time()
        self.grid, self.integrity = grid, integrity
        self.summary = MapSummary()
        self.state = IntegrityState()
        self.cleaning = PositionReport("<decoded Parquet>", format="decoded")
        self.partials: list[pa.Table] = []
        self.pool = ThreadPoolExecutor(1)
        self.pending: Future[tuple[pa.Table, int]] | None = None

    def add(self, batch: pa.Table | ReportArrays, raw: bool = False) -> None:
        """Add a batch (a table, or its arrays); ``raw``: it still needs cleaning."""
        rows = batch if isinstance(batch, ReportArrays) else ReportArrays.from_table(batch)
        dropped = 0
        if raw:
            keep = clean_mask(rows, self.cleaning)
            dropped = len(rows) - int(keep.sum())
            if dropped:  # masked out (no aircraft), not removed: a removal copies every column
                rows.code = np.where(keep, rows.code, -1)
        self.summary.reports += len(rows) - dropped
        sig = signal_arrays(rows, self.integrity, self.state)
        flags = report_flags(sig.bad, sig.nic_degraded, sig.nic_known, sig.fault)
        code = np.where(sig.valid, rows.code, -1)
        job = self.pool.submit(
            partial_rows,
            rows.names,
            code,
            rows.t,
            sig.lat_last,
            sig.lon_last,
            flags,
            self.grid,
            dropped,
        )
        if self.pending is not None:
            self.partials.append(_collect(self.pending, self.summary))
        self.pending = job

    def finish(self) -> tuple[pa.Table, set[str], MapSummary]:
        """The merged partials; ``avionics_fault`` there is the final verdict on the aircraft
        (all its reports), not what was known at the end of each batch."""
        if self.pending is not None:
            self.partials.append(_collect(self.pending, self.summary))
            self.pending = None
        self.pool.shutdown()
        self.summary.rejects.update(self.cleaning.rejects)
        merged = merge_partials(self.partials)
        faulty = self.state.faulty(self.integrity)
        self.summary.faulty_aircraft = len(faulty)
        fault = pc.is_in(merged.column("icao"), value_set=pa.array(sorted(faulty), pa.string()))
        merged = merged.set_column(
            merged.schema.get_field_index("avionics_fault"), "avionics_fault", fault
        )
        _measure(self.summary, self.cpu0)
        return merged, faulty, self.summary


def _measure(summary: MapSummary, cpu0: float) -> None:
    summary.cpu_s = time.process_time() - cpu0
    summary.peak_rss = [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024]  # KiB


def map_partials(
    paths: list[Path], grid: GridConfig, integrity: IntegrityConfig, shard: Shard | None = None,
    starts: Starts | None = None,
) -> tuple[pa.Table, set[str], MapSummary]:
    """One shard's part of the job, reading the inputs itself: partials, faulty, counts."""
    reducer = _Reducer(grid, integrity)
    try:
        for batch, raw in _prefetch(_sources(paths, reducer.summary, shard or Shard(), starts)):
            reducer.add(batch, raw)
        return reducer.finish()
    finally:
        reducer.pool.shutdown()


def warm_up() -> None:
    """Run a worker's whole path once on a small batch of decoded types (nulls included).

    Numba loads a kernel's compiled code from its cache at the first call, which costs about a
    second per process over all the job's kernels; the fork server runs this once (module
    :mod:`jamwatch.aggregate.warm`), so that every worker forked from it starts ready.
    """
    n = 64
    t0 = 1_700_000_000 * NS
    rows = {
        "time": pa.array([t0 + i * NS for i in range(n - 1)] + [None], TIME_TYPE),
        "icao": pa.array([f"{i % 4:06x}" for i in range(n - 1)] + [None]).dictionary_encode(),
        "df": pa.array([17] * (n - 1) + [None], pa.uint8()),
        "tc": pa.array([11, 19] * (n // 2 - 1) + [0, None], pa.uint8()),
        "latitude": pa.array([50.0 + i * 1e-3 if i % 2 == 0 else None for i in range(n)]),
        "longitude": pa.array([8.0 + i * 1e-3 if i % 2 == 0 else None for i in range(n)]),
        "altitude_baro_ft": pa.array([35_000.0] * (n - 1) + [None]),
        "nic": pa.array([8] * (n - 1) + [None], pa.uint8()),
        "nacp": pa.array([9] * (n - 1) + [None], pa.uint8()),
        "groundspeed_kt": pa.array([450.0] * (n - 1) + [None]),
    }
    table = pa.table(rows)
    reducer = _Reducer(GridConfig(), IntegrityConfig())
    try:
        reducer.add(ReportArrays.from_table(table, Shard(0, 2).aircraft), True)
        reducer.add(table, False)
        reducer.finish()
    finally:
        reducer.pool.shutdown()


def _serve_shard(
    shard: Shard, inbox: Any, outbox: Any, grid: GridConfig, integrity: IntegrityConfig
) -> None:
    """A worker process: every batch arrives as an Arrow IPC file (a link of its own to it, in
    shared memory); the worker converts it, keeps its shard's rows and removes its link."""
    try:

        def batches() -> Iterator[tuple[ReportArrays, bool]]:
            while (item := inbox.get()) is not None:
                name, raw = item
                table = pa.ipc.open_stream(pa.memory_map(name)).read_all()
                os.unlink(name)  # the mapping stays valid until the table is dropped
                yield ReportArrays.from_table(table, shard.aircraft), raw

        reducer = _Reducer(grid, integrity)
        for rows, raw in _prefetch(batches()):
            reducer.add(rows, raw)
        outbox.put((shard.index, reducer.finish()))
    except BaseException as exc:  # handed to the parent, which raises it
        outbox.put((shard.index, exc))


Part = tuple[pa.Table, set[str], MapSummary]


class _Workers:
    """``n`` worker processes fed by this one: it reads the inputs once and writes every batch
    once as an Arrow IPC file in shared memory (/dev/shm), with one hard link per worker; each
    worker selects its own shard, so the split costs this process nothing."""

    def __init__(self, n: int, grid: GridConfig, integrity: IntegrityConfig, tmp: str) -> None:
        # forkserver: workers are forked from a clean single-threaded server (forking this
        # process could copy a lock held by one of pyarrow's threads), modules preloaded
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["jamwatch.aggregate.job", "jamwatch.aggregate.warm"])
        self.tmp = tmp
        self.inboxes = [context.Queue(maxsize=2) for _ in range(n)]
        self.outbox = context.Queue()
        self.results: dict[int, Part] = {}
        self.procs = [
            context.Process(
                target=_serve_shard,
                args=(Shard(k, n), q, self.outbox, grid, integrity),
                daemon=True,
            )
            for k, q in enumerate(self.inboxes)
        ]
        try:
            for proc in self.procs:
                proc.start()
        except BaseException:
            self.close(finished=False)
            raise

    def _poll(self, timeout: float) -> None:
        """Take a result or error from the workers; raise if one died or failed."""
        try:
            index, payload = self.outbox.get(timeout=timeout)
        except queue.Empty:
            for k, proc in enumerate(self.procs):
                if not proc.is_alive() and k not in self.results:
                    stopped = f"map worker {k} stopped (exit code {proc.exitcode})"
                    raise RuntimeError(stopped) from None
            return
        if isinstance(payload, BaseException):
            raise payload
        self.results[index] = payload

    def _put(self, k: int, item: tuple[str, bool] | None) -> None:
        while True:
            try:
                self.inboxes[k].put(item, timeout=0.5)
                return
            except queue.Full:
                self._poll(0)

    def send(self, number: int, table: pa.Table, raw: bool) -> None:
        name = os.path.join(self.tmp, f"{number}.arrows")
        with pa.OSFile(name, "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        for k in range(len(self.procs)):
            os.link(name, f"{name}.{k}")
            self._put(k, (f"{name}.{k}", raw))
        os.unlink(name)

    def finish(self) -> list[Part]:
        for k in range(len(self.procs)):
            self._put(k, None)
        while len(self.results) < len(self.procs):
            self._poll(1.0)
        return [self.results[k] for k in range(len(self.procs))]

    def close(self, finished: bool = True) -> None:
        """Wait for the workers to exit (after :meth:`finish`), or stop them (after an error:
        they may still be waiting for batches)."""
        for proc in self.procs:
            if proc.pid is None:  # never started
                continue
            if finished:
                proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
            proc.join()


def _in_workers(
    paths: list[Path], grid: GridConfig, integrity: IntegrityConfig, n: int, starts: Starts | None
) -> list[Part]:
    cpu0 = time.process_time()
    summary = MapSummary()  # this process's: inputs, rejects of the inputs cleaned on reading
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with (
        tempfile.TemporaryDirectory(prefix="jamwatch-map-", dir=shm) as tmp,
        ThreadPoolExecutor(1) as starter,
    ):
        # the workers start (about a second) while the first batch is read
        starting = starter.submit(_Workers, n, grid, integrity, tmp)
        finished = False
        try:
            sources = _sources(paths, summary, Shard(), starts)
            for number, (table, raw) in enumerate(_prefetch(sources)):
                starting.result().send(number, table, raw)
            parts = starting.result().finish()
            finished = True
        finally:
            if starting.exception() is None:
                starting.result().close(finished)
    _measure(summary, cpu0)
    return [*parts, (PARTIAL_SCHEMA.empty_table(), set(), summary)]


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
) -> MapResult:
    """Run the map job over ``inputs``; gpsjam files join the result as daily cells.

    ``workers``: how many shards of aircraft run at once, in worker processes fed by this one
    (or, with ``processes=False``, in threads that each read every input and keep their
    shard); ``None`` takes every core when the inputs total at least
    :data:`PARALLEL_MIN_BYTES`, else 1. The cells do not depend on it.
    """
    grid = grid or GridConfig()
    integrity = integrity or IntegrityConfig()
    paths = [Path(p) for p in inputs]
    n = _workers(paths, workers)
    summary = MapSummary()
    if n == 1:
        parts = [map_partials(paths, grid, integrity, starts=starts)]
    elif processes:
        parts = _in_workers(paths, grid, integrity, n, starts)
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
    faulty = confirm_faulty(merged, faulty)
    fault = pc.is_in(merged.column("icao"), value_set=pa.array(sorted(faulty), pa.string()))
    idx = merged.schema.get_field_index("avionics_fault")
    merged = merged.set_column(idx, "avionics_fault", fault)
    summary.faulty_aircraft = len(faulty)
    tables = [cell_stats(merged, grid.window_s, faulty)] if has_reports else []
    for path in paths:
        if is_gpsjam(path):
            summary.inputs["gpsjam"] += 1
            tables.append(cells_from_counts(read_gpsjam(path)))
    cells = pa.concat_tables(tables) if tables else cell_stats(merged, grid.window_s)
    return MapResult(cells, merged, summary)
