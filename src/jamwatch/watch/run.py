"""``jamwatch watch``: the feeds, the monitor, the alerts and the HTTP server in one event loop.

Each feed runs as its own task (:func:`jamwatch.io.feeds.run_feed`) and appends its batches
to a list (frames that another feed delivered within two seconds are dropped). Every
``step_s`` the list is handed to :meth:`jamwatch.watch.monitor.Monitor.step` in a worker
thread, so that reading goes on while a step decodes and maps the frames. Their reports
wait in the monitor's queue for another task, which pushes them into the detection stream
(:meth:`Monitor.detect`, in a thread of its own: it detects the segments they close, seconds
of work in dense traffic, during which the steps go on). Another task looks at the open
segment's events (:meth:`Monitor.look`, a detection of the whole segment: seconds in dense
traffic) in a thread of its own, ``look_s`` after the previous look ended, so that steps
go on meanwhile. The changes of both go to every alert sink. The HTTP server
(:mod:`jamwatch.serve.app`), when asked for, runs in the same loop and reads the monitor's
picture. With a store (:mod:`jamwatch.io.store`), every step's decoded reports are kept
and written every ``flush_s`` in a thread (hours over for 10 minutes merged into one file
each): a ``kill -9`` loses at most the reports of the last ``flush_s`` and of the step under
way. SIGINT and SIGTERM stop it all after a last step for the frames received and a last
flush.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import functools
import signal
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from jamwatch.detect.changes import EventChange
from jamwatch.io.feeds import Deduplicator, FeedStats, poll_aircraft_json, run_feed
from jamwatch.watch.alerts import Sink, Worth, alert
from jamwatch.watch.monitor import Monitor

#: glibc's mallopt parameter for the size from which an allocation gets pages of its own,
#: and the size the monitor sets (see :func:`map_large_arrays`)
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1 << 20
#: how long a stop waits for a look under way before the last push into the detection
STOP_WAIT_S = 10.0
#: seconds between steps, and between looks at the open segment's events
STEP_S = 1.0
LOOK_S = 10.0
#: seconds between writes to the store, and how long after an hour's end its parts merge
FLUSH_S = 10.0
COMPACT_AFTER_NS = 600 * 1_000_000_000


@dataclass(slots=True)
class Feed:
    """One feed to read: its kind (``beast``, ``avr``, ``json``: ``host`` and ``port``;
    ``aircraft.json``: ``host`` is the file, folder or URL, ``port`` 0)."""

    kind: str
    host: str
    port: int
    stats: FeedStats = field(init=False)

    def __post_init__(self) -> None:
        address = self.host if self.kind == "aircraft.json" else f"{self.host}:{self.port}"
        self.stats = FeedStats(self.kind, address)

    def task(
        self, frames: Callable[[pa.RecordBatch], None], reports: Callable[[pa.Table], None]
    ) -> Coroutine[Any, Any, None]:
        """The coroutine that reads this feed."""
        if self.kind == "aircraft.json":
            return poll_aircraft_json(self.host, reports, self.stats)
        deliver: Any = reports if self.kind == "json" else frames  # (decoded, or frames)
        return run_feed(self.kind, self.host, self.port, deliver, self.stats)


@dataclass(slots=True)
class Watch:
    """What ``jamwatch watch`` runs (see the module documentation)."""

    feeds: Sequence[Feed]
    monitor: Monitor
    sinks: Sequence[Sink] = ()
    step_s: float = STEP_S
    look_s: float = LOOK_S
    http: tuple[str, int] | None = None
    flush_s: float = FLUSH_S
    #: reports written to the store, and the wall time (ns) of the last write
    stored: int = 0
    flushed_ns: int = 0
    pending: list[pa.RecordBatch] = field(default_factory=list)
    #: the reports of feeds that give them decoded (aircraft.json)
    pending_reports: list[pa.Table] = field(default_factory=list)
    #: the wall time (ns) the oldest pending batch arrived
    pending_since: int | None = None
    dedup: Deduplicator = field(default_factory=Deduplicator)
    started_ns: int = field(default_factory=time.time_ns)
    worth: Worth = field(default_factory=Worth)
    alerts_sent: int = 0
    #: steps and looks that failed (a bug, or input no check caught: the monitor goes on
    #: without their frames' changes), and the last such error
    errors: int = 0
    last_error: str = ""
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    #: set by a step that queued reports for the detection
    queued: asyncio.Event = field(default_factory=asyncio.Event)

    def deliver(self, feed: int, batch: pa.RecordBatch) -> None:
        """A feed's batch, kept for the next step."""
        now = time.time_ns()
        if len(self.feeds) > 1:
            batch = self.dedup(batch, feed, now)
        if batch.num_rows:
            self.pending.append(batch)
            if self.pending_since is None:
                self.pending_since = now

    def deliver_reports(self, table: pa.Table) -> None:
        """A feed's decoded reports, kept for the next step."""
        self.pending_reports.append(table)
        if self.pending_since is None:
            self.pending_since = time.time_ns()

    async def _step(self) -> None:
        frames, reports, since = self.pending, self.pending_reports, self.pending_since
        self.pending, self.pending_reports, self.pending_since = [], [], None
        step = functools.partial(self.monitor.step, frames, since, False, reports, detect=False)
        try:
            self._alert(await asyncio.to_thread(step))
        except Exception as exc:  # (counted and shown: the monitor goes on)
            self._failed("step", exc)
        self.queued.set()

    def _failed(self, what: str, exc: BaseException) -> None:
        self.errors += 1
        self.last_error = f"{what}: {type(exc).__name__}: {exc}"[:500]
        print(f"jamwatch watch: {self.last_error}", file=sys.stderr)

    def _alert(self, changes: list[EventChange]) -> None:
        for change in changes:
            if not self.worth(change):
                continue
            item = alert(change)
            for sink in self.sinks:
                sink.send(item)
            self.alerts_sent += 1

    async def _detections(self) -> None:
        """Push the steps' reports into the detection stream, in a thread of their own, every
        ``step_s`` while some wait: a step that closes a segment detects it (seconds in
        dense traffic) while the steps go on. The last push after a stop is run's."""
        while not self.stop.is_set():
            if self.monitor.queue:
                try:
                    self._alert(await asyncio.to_thread(self.monitor.detect))
                except Exception as exc:  # (counted and shown: the monitor goes on)
                    self._failed("detection", exc)
            if not self.monitor.queue:  # (a step that queues reports wakes this at once)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.queued.wait(), self.step_s)
                self.queued.clear()

    async def _steps(self) -> None:
        """A step every ``step_s`` until stopped, and one more for what is left then."""
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), self.step_s)
            if self.pending or self.pending_reports:
                await self._step()

    def _flush(self) -> None:
        store = self.monitor.store
        if store is None:
            return
        self.stored += store.flush()
        self.flushed_ns = time.time_ns()
        store.compact(self.monitor.counts.now_ns - COMPACT_AFTER_NS)

    async def _flushes(self) -> None:
        """A write to the store every ``flush_s`` until stopped (the last one is run's)."""
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), self.flush_s)
            try:
                await asyncio.to_thread(self._flush)
            except Exception as exc:  # (a full disk: counted, the reports kept for the next)
                self._failed("store", exc)

    async def _looks(self) -> None:
        """A look, then ``look_s`` of rest, until stopped. A look runs in a daemon thread: a
        stop does not wait for one under way (it may take tens of seconds)."""
        loop = asyncio.get_running_loop()
        while not self.stop.is_set():
            if self.monitor.counts.pushed > self.monitor.counts.looked_reports:
                done: asyncio.Future[list[EventChange]] = loop.create_future()

                def look(done: asyncio.Future[list[EventChange]] = done) -> None:
                    try:
                        changes: list[EventChange] | BaseException = self.monitor.look()
                    except Exception as exc:  # (handed to the loop)
                        changes = exc
                    loop.call_soon_threadsafe(_settle, done, changes)

                threading.Thread(target=look, name="look", daemon=True).start()
                waiting = asyncio.ensure_future(self.stop.wait())
                either: set[asyncio.Future[Any]] = {done, waiting}
                await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
                waiting.cancel()
                if not done.done():
                    return  # (stopped during a look)
                if (failure := done.exception()) is not None:
                    self._failed("look", failure)
                    self.monitor.counts.looked_reports = self.monitor.counts.pushed
                else:
                    self._alert(done.result())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), max(self.look_s, 0.05))

    async def run(self) -> None:
        """Run until :attr:`stop` is set (or SIGINT, SIGTERM)."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stop.set)
        tasks = [
            asyncio.create_task(f.task(functools.partial(self.deliver, k), self.deliver_reports))
            for k, f in enumerate(self.feeds)
        ]
        tasks.append(asyncio.create_task(self._looks()))
        tasks.append(asyncio.create_task(self._detections()))
        if self.monitor.store is not None:
            tasks.append(asyncio.create_task(self._flushes()))
        server = None
        if self.http is not None:
            from jamwatch.serve.app import serve

            server = serve(self, *self.http)
            tasks.append(asyncio.create_task(server.serve()))
        try:
            await self._steps()
        finally:
            if server is not None:
                server.should_exit = True
            for task in tasks[: len(self.feeds)]:
                task.cancel()  # (the looks and the server end by themselves)
            await asyncio.gather(*tasks, return_exceptions=True)
            try:  # (the reports of the last steps, unless a long look is under way)
                last = functools.partial(self.monitor.detect, wait_s=STOP_WAIT_S)
                self._alert(await asyncio.to_thread(last))
            except Exception as exc:
                self._failed("detection", exc)
            if self.monitor.store is not None:
                try:
                    self._flush()
                except Exception as exc:
                    self._failed("store", exc)
                self.monitor.store.close()
            for sink in self.sinks:
                sink.close()


def map_large_arrays(threshold: int = MMAP_THRESHOLD) -> bool:
    """Have the C library give every allocation of ``threshold`` bytes or more pages of its
    own, returned to the system when freed; whether it took the request (glibc only).

    glibc raises that threshold by itself up to 32 MB after large frees, and then keeps
    freed arrays in the arenas of the threads that used them: the monitor's steps,
    detections and looks, each in a thread, allocate and free hundreds of megabytes of
    arrays, and its resident memory stayed some 300 MB higher (1.1 GB against 0.8 GB in the
    same in-process replay of ``python bench/watch.py --part load``'s recording)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, threshold))
    except (OSError, AttributeError):
        return False


def _settle(
    future: asyncio.Future[list[EventChange]], changes: list[EventChange] | BaseException
) -> None:  # fmt: skip
    if future.done():
        return
    if isinstance(changes, BaseException):
        future.set_exception(changes)
    else:
        future.set_result(changes)


__all__ = ["LOOK_S", "STEP_S", "Feed", "Watch", "map_large_arrays"]
