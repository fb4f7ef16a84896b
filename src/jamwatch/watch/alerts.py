"""Alerts: every change of an event, delivered once.

An alert is the event's ``events.json`` object with its ``id``, plus ``alert`` (``onset``,
``located``, ``updated`` or ``ended``: :data:`jamwatch.detect.changes.CHANGES`) and ``sent``
(the wall-clock time it was sent, ISO 8601 UTC). The event's ``start`` is its onset on the
feed's clock. An event that goes on changes its end at every step: :class:`Worth` lets an
``updated`` alert through only when its aircraft or its source changed since the event's
last alert (the API shows every change). :class:`JsonLines` writes one alert per line to a
file (appended) or to stdout (``-``), flushed at once.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import IO, Any, Protocol

from jamwatch.detect.changes import EventChange
from jamwatch.io.events import iso
from jamwatch.watch.monitor import event_json


def alert(change: EventChange, sent_ns: int | None = None) -> dict[str, Any]:
    """The alert of one change (see the module documentation)."""
    item = event_json(change)
    item["alert"] = change.change
    item["sent"] = iso(time.time_ns() if sent_ns is None else sent_ns)
    return item


class Worth:
    """Whether a change is worth an alert (see the module documentation)."""

    def __init__(self) -> None:
        self.last: dict[int, tuple[Any, ...]] = {}

    def __call__(self, change: EventChange) -> bool:
        e = change.event
        src = e.get("source") or {}
        state = (
            frozenset(e.get("aircraft") or ()),
            src.get("latitude"), src.get("longitude"), src.get("radius_95_km"),
        )  # fmt: skip
        before = self.last.get(change.id)
        if change.change == "ended":
            self.last.pop(change.id, None)
            return True
        self.last[change.id] = state
        return change.change != "updated" or state != before


class Sink(Protocol):
    """Where alerts go."""

    def send(self, alert: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


class JsonLines:
    """Alerts as JSON lines in a file (appended; ``-``: stdout)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.out: IO[str] = sys.stdout if target == "-" else Path(target).open("a")  # noqa: SIM115
        self.sent = 0

    def send(self, alert: dict[str, Any]) -> None:
        self.out.write(json.dumps(alert, separators=(",", ":")) + "\n")
        self.out.flush()
        self.sent += 1

    def close(self) -> None:
        if self.out is not sys.stdout:
            self.out.close()


__all__ = ["JsonLines", "Sink", "Worth", "alert"]
