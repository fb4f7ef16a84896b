"""The live monitor's core: frames from the feeds in, event changes and a picture of now out.

:meth:`Monitor.step` takes the frames the feeds delivered since the last step, puts them in
time order, decodes them with one :class:`jamwatch.decoder.Decoder` (each aircraft's state
carried from step to step), and pushes the reports into the detection stream
(:class:`jamwatch.detect.stream.DetectStream`) through an
:class:`jamwatch.detect.changes.EventLog` (:meth:`Monitor.detect`: at once, or from a queue
in another thread, as ``jamwatch watch`` does), and returns what changed. It also keeps what the
server shows: the events (open ones, and the last ``KEEP_ENDED`` that ended), the aircraft
heard in the last ``AIRCRAFT_S`` seconds with their last position and integrity, the map's
cell partials per minute for the last ``CELLS_S`` (:mod:`jamwatch.aggregate.grid`: the
integrity signals with each aircraft's state carried from step to step, then one partial
per cell, minute and aircraft) from which :meth:`Monitor.cells` makes the cells of any
window up to a day, the receiver's message rate per aircraft and minute (to tell a receiver
or 1090 MHz fault from jamming: :meth:`Monitor.receiver`), and counts.
A look at the open segment's events costs a detection of the whole segment (seconds in dense
traffic): :meth:`Monitor.look` takes the segment as it is (:meth:`DetectStream.open_view`)
and detects it outside the monitor's lock, so that steps go on meanwhile in another thread;
it holds the detection's lock instead, so that a look and a segment's detection never run
at once (each holds some 400 bytes a report at its peak). Every other method holds the
monitor's lock. Nothing here touches a socket; :mod:`jamwatch.watch.run` does.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from jamwatch.aggregate.grid import (
    GridConfig,
    cell_partials,
    cell_stats,
    mark_faulty,
    merge_partials,
)
from jamwatch.decoder import Decoder
from jamwatch.detect.changes import EventChange, EventLog
from jamwatch.detect.pipeline import Detectors, detectors
from jamwatch.detect.stream import DetectStream, StreamConfig
from jamwatch.io.events import iso, to_json
from jamwatch.io.inputs import DETECT_COLUMNS
from jamwatch.io.store import Store
from jamwatch.schema import EVENTS
from jamwatch.signals import IntegrityConfig, IntegrityState, integrity_signals

#: the longest window of :meth:`Monitor.cells`, and the step of the partials kept for it
CELLS_S = 24 * 3600
#: how much of a store a restart takes back: the map's longest window
RESUME_NS = CELLS_S * 1_000_000_000
#: the store's note of the events' ids (see :meth:`Monitor._note_ids`)
EVENT_IDS = "watch_event_ids"
CELL_STEP_S = 60

#: the receiver status: the minutes of message rates kept, and the share of their median
#: under which the last minute's rate is low
RATE_MINUTES = 30
LOW_RATE = 0.5
MINUTE_NS = 60_000_000_000

#: ended events kept for ``/api/events``
KEEP_ENDED = 200

#: an aircraft is listed while it was heard in the last this many seconds (feed time)
AIRCRAFT_S = 300.0

#: aircraft counted in the degraded share: heard in the last this many seconds (feed time)
RECENT_S = 60.0

#: the integrity of a degraded aircraft (as the events count it: NIC below 7 or NACp at
#: most 4)
NIC_DEGRADED_BELOW = 7
MAX_NACP = 4

_LAST = ("time", "latitude", "longitude", "altitude_baro_ft", "nic", "nacp")


def event_json(change: EventChange) -> dict[str, Any]:
    """The ``events.json`` object of the event of ``change``, with its ``id``."""
    item = to_json(pa.Table.from_pylist([change.event], schema=EVENTS))[0]
    return {"id": change.id, **item}


@dataclass(slots=True)
class Counts:
    """What the monitor has seen since it started."""

    steps: int = 0
    frames: int = 0
    reports: int = 0
    changes: int = 0
    #: the wall time (s) the last step took, and the age of its oldest frame when it ended
    step_s: float = 0.0
    lag_s: float = 0.0
    #: the looks at the open segment, the wall time (s) the last one took, and the reports
    #: stepped before it was taken
    looks: int = 0
    look_s: float = 0.0
    looked_reports: int = 0
    #: the latest report time (ns, the feeds' clock), 0 before any
    now_ns: int = 0
    #: reports pushed into the detection stream (the others wait in the queue)
    pushed: int = 0
    late: int = 0
    untimed: int = 0
    #: reports taken from the store when the monitor started
    resumed: int = 0


P = ParamSpec("P")
R = TypeVar("R")


def _locked(method: Callable[Concatenate[Monitor, P], R]) -> Callable[Concatenate[Monitor, P], R]:
    """``method`` run under the monitor's lock (the API reads while a step writes)."""

    def locked(self: Monitor, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self.lock:
            return method(self, *args, **kwargs)

    locked.__name__, locked.__doc__ = method.__name__, method.__doc__
    return locked


@dataclass(slots=True)
class Monitor:
    """See the module documentation."""

    config: StreamConfig | None = None
    decoder: Decoder = field(default_factory=Decoder)
    log: EventLog = field(init=False)
    counts: Counts = field(default_factory=Counts)
    #: the events by id: open ones, then the last ``KEEP_ENDED`` ended ones
    open: dict[int, dict[str, Any]] = field(default_factory=dict)
    ended: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=KEEP_ENDED))
    #: the last state of each aircraft heard (see :data:`_LAST`), by address
    aircraft: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the map's partials of each step (per cell, minute and aircraft), and the integrity
    #: signals' state of each aircraft
    partials: deque[pa.Table] = field(default_factory=deque)
    integrity: IntegrityState = field(default_factory=IntegrityState)
    signals: IntegrityConfig = field(default_factory=IntegrityConfig)
    #: frames and aircraft heard per minute (feed time), the last ``RATE_MINUTES`` + 1
    rates: dict[int, tuple[int, set[str]]] = field(default_factory=dict)
    grid: GridConfig = field(default_factory=lambda: GridConfig(window_s=CELL_STEP_S))
    lock: threading.RLock = field(default_factory=threading.RLock)
    #: the detectors of :meth:`look` (their own: a look runs beside a step's detection)
    looking: Detectors | None = None
    #: where each step's decoded reports are kept (written by the store's own flushes)
    store: Store | None = None
    #: the reports of steps not yet pushed into the detection stream (``step(...,
    #: detect=False)``: :meth:`detect` pushes them), and the lock of the stream and the
    #: event log (held through a segment's detection: seconds, so not the monitor's lock)
    queue: deque[pa.Table] = field(default_factory=deque)
    detect_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.log = EventLog(DetectStream(config=self.config))

    def look(self) -> list[EventChange]:
        """Look at the open segment's events (see the module documentation); the changes."""
        # (under the detection's lock: a look and a segment's detection never run at once,
        # which halves the peak memory; the steps go on meanwhile, their reports queued)
        with self.detect_lock:
            view = self.log.stream.open_view()
            stepped = self.counts.pushed
            if self.looking is None:
                self.looking = detectors(*self.log.stream.names)
            began = time.monotonic()
            events = view.events(self.looking)
            with self.lock:
                changes = self.log.changes(EVENTS.empty_table(), events)
                self._keep(changes)
            c = self.counts
            c.looks += 1
            c.look_s = time.monotonic() - began
            c.looked_reports = stepped
            c.changes += len(changes)
        return changes

    def step(
        self, frames: list[pa.RecordBatch], received_ns: int | None = None, look: bool = True,
        decoded: Sequence[pa.Table] = (), detect: bool = True,
    ) -> list[EventChange]:  # fmt: skip
        """Decode and detect the frames delivered since the last step, with the reports of
        the feeds that give them decoded (``decoded``, of :data:`jamwatch.schema.DECODED`;
        ``received_ns``: the wall time the oldest of them arrived, for the lag); the event
        changes. Without ``look`` the open segment's events are not looked at (see
        :meth:`jamwatch.detect.changes.EventLog.push`): a step is then cheap. Without
        ``detect`` the reports wait in :attr:`queue` for :meth:`detect` (in another thread:
        a segment's detection takes seconds in dense traffic, and the step's lag stays that
        of decoding and mapping)."""
        with self.lock:
            self._step(frames, received_ns, list(decoded))
        return self.detect(look) if detect else []

    def detect(self, look: bool = False, wait_s: float = -1) -> list[EventChange]:
        """Push the queued reports into the detection stream, in order; the event changes
        (``look``: and those of a look at the open segment). ``wait_s``: how long to wait
        for a look under way (negative: as long as it takes); after that nothing is pushed
        and no change returned."""
        if not self.detect_lock.acquire(timeout=wait_s):
            return []
        try:
            with self.lock:
                tables = list(self.queue)
                self.queue.clear()
            if not tables:
                return []
            reports = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
            changes = self.log.push(reports, look)
            stream = self.log.stream
            with self.lock:
                self._keep(changes)
                c = self.counts
                c.pushed += reports.num_rows
                c.changes += len(changes)
                c.late, c.untimed = stream.late, stream.untimed
        finally:
            self.detect_lock.release()
        return changes

    def _step(
        self, frames: list[pa.RecordBatch], received_ns: int | None, given: list[pa.Table]
    ) -> None:
        began = time.monotonic()
        frames = [b for b in frames if b.num_rows]
        parts = [t for t in given if t.num_rows]
        if frames:
            table = pa.Table.from_batches(frames).sort_by("time")
            parts.append(self.decoder.decode(table))
            self.counts.frames += table.num_rows
        if not parts:
            return
        decoded = pa.concat_tables(parts).sort_by("time") if len(parts) > 1 else parts[0]
        if self.store is not None:
            self.store.add(decoded)
        reports = decoded.select([c for c in DETECT_COLUMNS if c in decoded.column_names])
        self.queue.append(reports)
        c = self.counts
        latest = pc.max(pc.cast(decoded.column("time"), pa.int64())).as_py()
        c.now_ns = max(c.now_ns, latest if latest is not None else 0)
        self._aircraft(reports)
        self._partials(decoded)
        self._rates(decoded)
        c.steps += 1
        c.reports += reports.num_rows
        c.step_s = time.monotonic() - began
        if received_ns is not None:
            c.lag_s = (time.time_ns() - received_ns) / 1e9

    def resume(
        self, store: Store, span_ns: int = RESUME_NS,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:  # fmt: skip
        """Take the last ``span_ns`` of ``store`` (24 h: the map's longest window) as if
        stepped, an hour at a time, and look at the open segment: the windows, events and
        aircraft are then those before the restart. Raises no alert (the changes of a
        resume are not returned); ``progress(rows, total)`` after each hour. The rows taken."""
        span = store.span()
        if span is None:
            return 0
        start = max(span[0], span[1] - span_ns + 1)
        known = store.meta.get(EVENT_IDS, {})
        onsets = known.get("onsets", [])
        before = [i for i, t in onsets if t < start]
        # the events before the span keep their ids: those taken back count on from them
        if before:
            self.log.next_id = max(before) + 1
        elif onsets:
            self.log.next_id = min(i for i, _ in onsets)
        else:
            self.log.next_id = int(known.get("last_id", 0)) + 1
        total = sum(p.rows for p in store.parts if p.end_ns >= start)
        done = 0
        for table in store.hours(start):
            self.step([], look=False, decoded=[table])
            done += table.num_rows
            if progress is not None:
                progress(done, total)
        self.look()
        self.log.next_id = max(self.log.next_id, int(known.get("last_id", 0)) + 1)
        self.counts.resumed = done
        return done

    def _keep(self, changes: list[EventChange]) -> None:
        onsets = [c for c in changes if c.change == "onset"]
        if onsets and self.store is not None:
            self._note_ids(onsets)
        for change in changes:
            item = event_json(change)
            if change.change == "ended":
                self.open.pop(change.id, None)
                self.ended.append(item)
            else:
                self.open[change.id] = item

    def _note_ids(self, onsets: list[EventChange]) -> None:
        """Keep the ids of new events and their starts in the store's notes, those of the
        last ``2 * RESUME_NS``, so that a restart gives the events it takes back the ids
        they had and never reuses one (:meth:`resume`)."""
        assert self.store is not None
        known = self.store.meta.get(EVENT_IDS, {})
        kept = [tuple(x) for x in known.get("onsets", [])]
        kept += [(c.id, _start_ns(c.event)) for c in onsets]
        horizon = self.counts.now_ns - 2 * RESUME_NS
        last = max([known.get("last_id", 0), *(i for i, _ in kept)])
        self.store.note(EVENT_IDS, {"last_id": last, "onsets": [list(x) for x in kept
                                                               if x[1] >= horizon]})  # fmt: skip

    def _rates(self, decoded: pa.Table) -> None:
        """Count the frames and the aircraft of each minute (feed time) of ``decoded``."""
        t = pc.cast(decoded.column("time"), pa.int64())
        table = pa.table({"m": pc.divide(t, MINUTE_NS), "icao": decoded.column("icao")})
        per_minute = (
            table.filter(pc.is_valid(t))
            .group_by("m")
            .aggregate([([], "count_all"), ("icao", "distinct")])
        )  # (a step's frames are counted by Arrow; only its few aircraft reach Python)
        for row in per_minute.to_pylist():
            frames, known = self.rates.setdefault(row["m"], (0, set()))
            known.update(a for a in row["icao_distinct"] if a is not None)
            self.rates[row["m"]] = (frames + row["count_all"], known)
        for m in sorted(self.rates)[: -RATE_MINUTES - 1]:
            del self.rates[m]

    @_locked
    def receiver(self) -> dict[str, Any]:
        """The receiver's status: ``low message rate`` when the frames per aircraft of the
        last whole minute fell below ``LOW_RATE`` of their median over the ``RATE_MINUTES``
        before (every aircraft heard less: a receiver, antenna or 1090 MHz problem, not GNSS
        jamming, under which messages keep coming), ``ok`` otherwise, ``learning`` before
        ten minutes were seen."""
        minutes = sorted(self.rates)[:-1]  # (the latest minute is not over)
        rate = {m: self.rates[m][0] / max(len(self.rates[m][1]), 1) for m in minutes}
        out: dict[str, Any] = {"status": "learning", "frames_per_aircraft_minute": None}
        if minutes:
            out["frames_per_aircraft_minute"] = round(rate[minutes[-1]], 2)
        if len(minutes) < 10:
            return out
        usual = statistics.median(rate[m] for m in minutes[:-1])
        out["usual_frames_per_aircraft_minute"] = round(usual, 2)
        out["status"] = "low message rate" if rate[minutes[-1]] < LOW_RATE * usual else "ok"
        return out

    def _aircraft(self, reports: pa.Table) -> None:
        """Keep the last state of each aircraft of ``reports``; forget those not heard for
        ``AIRCRAFT_S``."""
        have = [c for c in _LAST if c in reports.column_names]
        if reports.num_rows and "icao" in reports.column_names:
            table = reports.select(["icao", *have])
            if "time" in have:  # (as int ns)
                table = table.set_column(1, "time", pc.cast(table.column("time"), pa.int64()))
            last = table.group_by("icao", use_threads=False).aggregate(
                [(c, "last") for c in have]
            )
            for row in last.to_pylist():
                state = self.aircraft.setdefault(row["icao"], {"icao": row["icao"]})
                for c in have:
                    if row[f"{c}_last"] is not None:
                        state[c] = row[f"{c}_last"]
        cutoff = self.counts.now_ns - int(AIRCRAFT_S * 1e9)
        self.aircraft = {
            k: v for k, v in self.aircraft.items() if _ns(v.get("time")) >= cutoff
        }

    def _partials(self, decoded: pa.Table) -> None:
        """Keep the map's partials of ``decoded``; drop those older than ``CELLS_S``."""
        signals = integrity_signals(decoded, self.signals, self.integrity)
        partials, _ = cell_partials(signals, self.grid)
        if partials.num_rows:
            self.partials.append(partials)
        cutoff = self.counts.now_ns - CELLS_S * 1_000_000_000
        while self.partials and _last_window(self.partials[0]) < cutoff:
            self.partials.popleft()

    @_locked
    def cells(self, window_s: int) -> pa.Table:
        """The map's cells (:data:`jamwatch.aggregate.grid.CELL_SCHEMA`) of the last
        ``window_s`` seconds up to the latest report, as one window that starts then (whole
        minutes: a minute is counted when it ends inside the window)."""
        start = self.counts.now_ns - window_s * 1_000_000_000
        step = CELL_STEP_S * 1_000_000_000
        kept = []
        for part in self.partials:
            w = pc.cast(part.column("window_start"), pa.int64())
            inside = pc.greater_equal(pc.add(w, step), start)
            part = part.filter(inside)
            if part.num_rows:
                start_col = pa.array([start] * part.num_rows, pa.int64()).cast(
                    part.schema.field("window_start").type
                )
                kept.append(part.set_column(1, "window_start", start_col))
        # (aircraft with always-zero integrity as the map job counts them: see mark_faulty)
        merged, faulty = mark_faulty(merge_partials(kept), self.integrity.faulty(self.signals))
        return cell_stats(merged, window_s, faulty)

    @_locked
    def windows(self, window_s: int = 3600) -> tuple[pa.Table, pa.Table]:
        """The map's cells of the last 24 hours in clock-aligned windows of ``window_s`` (as
        ``jamwatch map --window`` makes them), and their partials (for the aircraft lists)."""
        merged = merge_partials(list(self.partials), window_s)
        merged, faulty = mark_faulty(merged, self.integrity.faulty(self.signals))
        return cell_stats(merged, window_s, faulty), merged

    @_locked
    def events(self) -> list[dict[str, Any]]:
        """The open events, then the ended ones (newest first), each with ``open``."""
        return [
            *({**e, "open": True} for e in self.open.values()),
            *({**e, "open": False} for e in reversed(self.ended)),
        ]

    @_locked
    def aircraft_list(self) -> list[dict[str, Any]]:
        """The aircraft heard lately, with their last state (times as ISO text)."""
        out = []
        for state in self.aircraft.values():
            item = dict(state)
            item["time"] = iso(_ns(state.get("time")))
            item["degraded"] = _degraded(state)
            out.append(item)
        return sorted(out, key=lambda a: a["icao"])

    @_locked
    def degraded_share(self) -> tuple[int, int]:
        """(aircraft heard in the last ``RECENT_S``, those of them degraded now)."""
        cutoff = self.counts.now_ns - int(RECENT_S * 1e9)
        recent = [a for a in self.aircraft.values() if _ns(a.get("time")) >= cutoff]
        return len(recent), sum(1 for a in recent if _degraded(a))


def _last_window(partials: pa.Table) -> int:
    """The start of the latest window of ``partials`` (int ns)."""
    return int(pc.max(pc.cast(partials.column("window_start"), pa.int64())).as_py())


def _start_ns(event: dict[str, Any]) -> int:
    start = event["start"]
    return int(start.timestamp() * 1e9) if hasattr(start, "timestamp") else int(start)


def _ns(value: Any) -> int:
    """An aircraft state's time (int ns; 0 when unknown)."""
    return 0 if value is None else int(value)


def _degraded(state: dict[str, Any]) -> bool:
    nic, nacp = state.get("nic"), state.get("nacp")
    return (nic is not None and nic < NIC_DEGRADED_BELOW) or (nacp is not None and nacp <= MAX_NACP)


__all__ = ["AIRCRAFT_S", "CELLS_S", "KEEP_ENDED", "Counts", "Monitor", "event_json"]
