"""The contracts of the ``detect`` stage: detectors and localizers, chosen by name.

Each role is a small :class:`typing.Protocol` over the reports converted once
(:class:`jamwatch.reports.ReportBatch`, with its motion) or their tracks
(:class:`jamwatch.detect.tracks.Tracks`); the implementations register under a name in
:data:`SPOOFING`, :data:`JAMMING` and :data:`LOCALIZERS` so the command line can choose them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import pyarrow as pa

from jamwatch.detect.events import ClusterEvents
from jamwatch.detect.sources import LikelihoodLocalizer
from jamwatch.detect.spoofing import KinematicSpoofing, SpoofingResult
from jamwatch.detect.tracks import Tracks, Window
from jamwatch.reports import ReportBatch


class SpoofingDetector(Protocol):
    """Flags spoofed reports and groups them in per-aircraft episodes."""

    name: str

    def detect(self, tracks: Tracks) -> SpoofingResult:
        """The reports' flags, and the episodes."""
        ...


class JammingDetector(Protocol):
    """Groups degraded reports into jamming events
    (:data:`jamwatch.detect.events.JAMMING_EVENTS`)."""

    name: str

    def detect(self, reports: ReportBatch, window: Window | None = None) -> pa.Table:
        """The events of decoded reports (made of those inside ``window``)."""
        ...


class Localizer(Protocol):
    """Estimates the transmitter of each jamming event."""

    name: str

    def locate(self, tracks: Tracks, events: pa.Table) -> pa.Table:
        """Sources (:data:`jamwatch.detect.sources.SOURCES`) of the events. A stream calls
        it again on its growing open segment: it may keep what it worked out for the next
        call, as long as the sources are those a first call would give."""
        ...


SPOOFING: dict[str, Callable[[], Any]] = {"kinematic": KinematicSpoofing}
JAMMING: dict[str, Callable[[], Any]] = {"cluster": ClusterEvents}
LOCALIZERS: dict[str, Callable[[], Any]] = {"likelihood": LikelihoodLocalizer}


def choose(registry: dict[str, Callable[[], Any]], name: str) -> Any:
    """An instance of the implementation registered as ``name`` (ValueError naming the others)."""
    if name not in registry:
        raise ValueError(f"unknown method {name!r}; available: {', '.join(sorted(registry))}")
    return registry[name]()
