"""One shard of the map job, and the worker processes that run the shards side by side.

A :class:`Reducer` turns one shard's batches (in time order) into partials, its aircraft with
faulty avionics and its counts; :func:`map_partials` runs it over the inputs in this process.
:func:`in_workers` runs one shard per worker process (:class:`Workers`), feeding all of them
every batch through shared memory.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import resource
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jamwatch.aggregate.grid import (
    PARTIAL_SCHEMA,
    GridConfig,
    merge_partials,
    partial_rows,
    report_flags,
)
from jamwatch.aggregate.sources import MapSummary, Shard, sources
from jamwatch.io import Starts
from jamwatch.io.positions import PositionReport, clean_mask
from jamwatch.reports import ReportBatch
from jamwatch.schema import TIME_TYPE
from jamwatch.signals import IntegrityConfig, IntegrityState
from jamwatch.signals.integrity import signal_arrays

NS = 1_000_000_000
T = TypeVar("T")


def _collect(job: Future[tuple[pa.Table, int]], summary: MapSummary) -> pa.Table:
    partial, unlocated = job.result()
    summary.unlocated += unlocated
    return partial


def prefetch(batches: Iterator[T]) -> Iterator[T]:
    """The items of ``batches``, the next one made in a thread while this one is used."""
    with ThreadPoolExecutor(1) as pool:
        job = pool.submit(next, batches, None)
        while True:
            batch = job.result()
            if batch is None:
                return
            job = pool.submit(next, batches, None)
            yield batch


class Reducer:
    """One shard's batches (in time order) -> partials, faulty aircraft and counts.

    Each batch is converted to NumPy once (:class:`jamwatch.reports.ReportBatch`) and goes
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

    def add(self, batch: pa.Table | ReportBatch, raw: bool = False) -> None:
        """Add a batch (a table, or its arrays); ``raw``: it still needs cleaning."""
        rows = batch if isinstance(batch, ReportBatch) else ReportBatch.from_table(batch)
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
        measure(self.summary, self.cpu0)
        return merged, faulty, self.summary


def measure(summary: MapSummary, cpu0: float) -> None:
    summary.cpu_s = time.process_time() - cpu0
    summary.peak_rss = [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024]  # KiB


def map_partials(
    paths: list[Path], grid: GridConfig, integrity: IntegrityConfig, shard: Shard | None = None,
    starts: Starts | None = None,
) -> tuple[pa.Table, set[str], MapSummary]:
    """One shard's part of the job, reading the inputs itself: partials, faulty, counts."""
    reducer = Reducer(grid, integrity)
    try:
        for batch, raw in prefetch(sources(paths, reducer.summary, shard or Shard(), starts)):
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
    reducer = Reducer(GridConfig(), IntegrityConfig())
    try:
        reducer.add(ReportBatch.from_table(table, Shard(0, 2).aircraft), True)
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

        def batches() -> Iterator[tuple[ReportBatch, bool]]:
            while (item := inbox.get()) is not None:
                name, raw = item
                table = pa.ipc.open_stream(pa.memory_map(name)).read_all()
                os.unlink(name)  # the mapping stays valid until the table is dropped
                yield ReportBatch.from_table(table, shard.aircraft), raw

        reducer = Reducer(grid, integrity)
        for rows, raw in prefetch(batches()):
            reducer.add(rows, raw)
        outbox.put((shard.index, reducer.finish()))
    except BaseException as exc:  # handed to the parent, which raises it
        outbox.put((shard.index, exc))


Part = tuple[pa.Table, set[str], MapSummary]


class Workers:
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


def in_workers(
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
        starting = starter.submit(Workers, n, grid, integrity, tmp)
        finished = False
        try:
            batches = sources(paths, summary, Shard(), starts)
            for number, (table, raw) in enumerate(prefetch(batches)):
                starting.result().send(number, table, raw)
            parts = starting.result().finish()
            finished = True
        finally:
            if starting.exception() is None:
                starting.result().close(finished)
    measure(summary, cpu0)
    return [*parts, (PARTIAL_SCHEMA.empty_table(), set(), summary)]
