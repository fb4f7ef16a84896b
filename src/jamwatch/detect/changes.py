"""Event changes: stable ids for the events of a stream, and what changed at each push.

A :class:`jamwatch.detect.stream.DetectStream` returns the events of a segment once it is
closed, and shows the open segment's events so far (:meth:`~DetectStream.open_events`),
recomputed at every look. :class:`EventLog` follows both and says what changed, each change
once:

- ``onset``: an event seen for the first time (given an id: 1, 2, ...);
- ``located``: it has a source for the first time;
- ``updated``: its end, its aircraft or its source changed;
- ``ended``: its segment closed (the event is final), or it is no longer among the open
  segment's events (it merged into another, or more reports showed it was not one).

An event of one look is the same as an event of the previous look when both are of the same
kind, overlap in time (within the events' ``gap_s``), and share an aircraft (jamming) or are
the same aircraft's (spoofing); of several, the one sharing most aircraft is taken. The
changes are what a live monitor publishes (alerts, webhooks, MQTT).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pyarrow as pa

from jamwatch.detect.stream import DetectStream
from jamwatch.schema import EVENTS

#: the kinds of change, in the order they are given for one event and one look
CHANGES = ("onset", "located", "updated", "ended")


@dataclass(frozen=True, slots=True)
class EventChange:
    """One change of one event: ``change`` (one of :data:`CHANGES`), the event's ``id``,
    and the event as it is now (a row of :data:`jamwatch.schema.EVENTS` as a dict)."""

    change: str
    id: int
    event: dict[str, Any]


@dataclass(slots=True)
class _Known:
    id: int
    event: dict[str, Any]


def _aircraft(event: dict[str, Any]) -> set[str]:
    if event["kind"] == "spoofing":
        return {event["icao"]} if event.get("icao") else set()
    return set(event.get("aircraft") or [])


def _source(event: dict[str, Any]) -> tuple[float, float, float] | None:
    src = event.get("source")
    if not src:
        return None
    return (src["latitude"], src["longitude"], src["radius_95_km"])


def _differs(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return (
        old["end"] != new["end"]
        or _aircraft(old) != _aircraft(new)
        or _source(old) != _source(new)
    )


@dataclass(slots=True)
class EventLog:
    """The changes of the events of ``stream`` (see the module documentation)."""

    stream: DetectStream
    live: list[_Known] = field(default_factory=list)
    next_id: int = 1

    def push(self, batch: pa.Table, look: bool = True) -> list[EventChange]:
        """Push ``batch`` into the stream; the changes since the last look. Without ``look``
        the open segment is not looked at (a look costs a detection of it): only the events
        of the segments the batch closed change."""
        closed = self.stream.push(batch)
        return self.changes(closed, self.stream.open_events() if look else None)

    def flush(self) -> list[EventChange]:
        """End the stream; the last changes (every event left ends)."""
        return self.changes(self.stream.flush(), EVENTS.empty_table())

    def _match(self, event: dict[str, Any], taken: set[int]) -> _Known | None:
        gap = timedelta(microseconds=self.stream.gap_ns // 1000)
        mine = _aircraft(event)
        best: tuple[int, _Known] | None = None
        for known in self.live:
            old = known.event
            if known.id in taken or old["kind"] != event["kind"]:
                continue
            if old["start"] > event["end"] + gap or event["start"] > old["end"] + gap:
                continue
            shared = len(mine & _aircraft(old))
            if shared and (best is None or shared > best[0]):
                best = (shared, known)
        return None if best is None else best[1]

    def changes(self, closed: pa.Table, open_: pa.Table | None) -> list[EventChange]:
        """The changes that the events of the segments just closed (``closed``, final) and the
        open segment's events (``open_``, None when it was not looked at) make: what
        :meth:`push` and :meth:`flush` return. A look taken elsewhere
        (:meth:`DetectStream.open_view`) gives its events here, with no closed ones."""
        out: list[EventChange] = []
        taken: set[int] = set()
        final = closed.to_pylist()
        for n, event in enumerate(final + ([] if open_ is None else open_.to_pylist())):
            known = self._match(event, taken)
            if known is None:
                known = _Known(self.next_id, event)
                self.next_id += 1
                self.live.append(known)
                out.append(EventChange("onset", known.id, event))
                if _source(event) is not None:
                    out.append(EventChange("located", known.id, event))
            else:
                old, known.event = known.event, event
                if _source(old) is None and _source(event) is not None:
                    out.append(EventChange("located", known.id, event))
                elif _differs(old, event):
                    out.append(EventChange("updated", known.id, event))
            taken.add(known.id)
            if n < len(final):
                out.append(EventChange("ended", known.id, event))
        ended = {c.id for c in out if c.change == "ended"}
        for known in self.live:
            if open_ is None:  # (the open segment was not looked at)
                break
            if known.id not in taken:  # no longer among the open segment's events
                out.append(EventChange("ended", known.id, known.event))
                ended.add(known.id)
        self.live = [k for k in self.live if k.id not in ended]
        return out


__all__ = ["CHANGES", "EventChange", "EventLog"]
