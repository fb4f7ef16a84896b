"""The live monitor's core: frames from the feeds in, event changes and a picture of now out.

:meth:`Monitor.step` takes the frames the feeds delivered since the last step, puts them in
time order, decodes them with one :class:`jamwatch.decoder.Decoder` (each aircraft's state
carried from step to step), pushes the reports into the detection stream
(:class:`jamwatch.detect.stream.DetectStream`) through an
:class:`jamwatch.detect.changes.EventLog`, and returns what changed. It also keeps what the
server shows: the events (open ones, and the last ``KEEP_ENDED`` that ended), the aircraft
heard in the last ``AIRCRAFT_S`` seconds with their last position and integrity, and counts.
Nothing here touches a socket; :mod:`jamwatch.watch.run` does.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from jamwatch.decoder import Decoder
from jamwatch.detect.changes import EventChange, EventLog
from jamwatch.detect.stream import DetectStream, StreamConfig
from jamwatch.io.events import iso, to_json
from jamwatch.io.inputs import DETECT_COLUMNS
from jamwatch.schema import EVENTS

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
    #: the latest report time (ns, the feeds' clock), 0 before any
    now_ns: int = 0
    late: int = 0
    untimed: int = 0


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

    def __post_init__(self) -> None:
        self.log = EventLog(DetectStream(config=self.config))

    def step(
        self, frames: list[pa.RecordBatch], received_ns: int | None = None
    ) -> list[EventChange]:
        """Decode and detect the frames delivered since the last step (``received_ns``: the
        wall time the oldest of them arrived, for the lag); the event changes."""
        began = time.monotonic()
        frames = [b for b in frames if b.num_rows]
        if not frames:
            return []
        table = pa.Table.from_batches(frames).sort_by("time")
        decoded = self.decoder.decode(table)
        reports = decoded.select([c for c in DETECT_COLUMNS if c in decoded.column_names])
        changes = self.log.push(reports)
        self._keep(changes)
        self._aircraft(reports)
        stream = self.log.stream
        c = self.counts
        c.steps += 1
        c.frames += table.num_rows
        c.reports += reports.num_rows
        c.changes += len(changes)
        c.now_ns = max(c.now_ns, stream.now)
        c.late, c.untimed = stream.late, stream.untimed
        c.step_s = time.monotonic() - began
        if received_ns is not None:
            c.lag_s = (time.time_ns() - received_ns) / 1e9
        return changes

    def _keep(self, changes: list[EventChange]) -> None:
        for change in changes:
            item = event_json(change)
            if change.change == "ended":
                self.open.pop(change.id, None)
                self.ended.append(item)
            else:
                self.open[change.id] = item

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

    def events(self) -> list[dict[str, Any]]:
        """The open events, then the ended ones (newest first), each with ``open``."""
        return [
            *({**e, "open": True} for e in self.open.values()),
            *({**e, "open": False} for e in reversed(self.ended)),
        ]

    def aircraft_list(self) -> list[dict[str, Any]]:
        """The aircraft heard lately, with their last state (times as ISO text)."""
        out = []
        for state in self.aircraft.values():
            item = dict(state)
            item["time"] = iso(_ns(state.get("time")))
            item["degraded"] = _degraded(state)
            out.append(item)
        return sorted(out, key=lambda a: a["icao"])

    def degraded_share(self) -> tuple[int, int]:
        """(aircraft heard in the last ``RECENT_S``, those of them degraded now)."""
        cutoff = self.counts.now_ns - int(RECENT_S * 1e9)
        recent = [a for a in self.aircraft.values() if _ns(a.get("time")) >= cutoff]
        return len(recent), sum(1 for a in recent if _degraded(a))


def _ns(value: Any) -> int:
    """An aircraft state's time (int ns; 0 when unknown)."""
    return 0 if value is None else int(value)


def _degraded(state: dict[str, Any]) -> bool:
    nic, nacp = state.get("nic"), state.get("nacp")
    return (nic is not None and nic < NIC_DEGRADED_BELOW) or (nacp is not None and nacp <= MAX_NACP)


__all__ = ["AIRCRAFT_S", "KEEP_ENDED", "Counts", "Monitor", "event_json"]
