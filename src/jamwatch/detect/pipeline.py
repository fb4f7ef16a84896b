"""The whole ``detect`` stage: spoofing episodes, jamming events and their sources.

:func:`detect` returns them as one table (:data:`jamwatch.schema.EVENTS`), in start order;
``events.json`` is its serialization (:mod:`jamwatch.io.events`). It runs the stream of
:mod:`jamwatch.detect.stream` on one batch, so that a whole table and the same reports in
batches give the same events; :func:`jamming_rows` and :func:`spoofing_rows` detect one
:class:`Segment` of that stream, its reports converted from Arrow once and prepared as
tracks once for all the detectors.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from jamwatch.detect.absorb import absorb
from jamwatch.detect.base import JAMMING, LOCALIZERS, SPOOFING, choose
from jamwatch.detect.spoofing_episodes import episode_event
from jamwatch.detect.tracks import Tracks, Window, prepare, report_batch
from jamwatch.reports import ReportBatch
from jamwatch.schema import EVENTS, int_times

#: the jamming detector, the localizer and the spoofing detector of a run
Detectors = tuple[Any, Any, Any]

MS = 1_000_000  # nanoseconds: event times are kept to the millisecond, as published


def detect(
    table: pa.Table,
    *,
    spoofing: str = "kinematic",
    jamming: str = "cluster",
    localizer: str = "likelihood",
) -> pa.Table:
    """Events of a decoded table (:data:`jamwatch.schema.EVENTS`): one row per jamming event
    (with its sources: the best located first; those radio physics rules out apart, with
    the reason) or spoofing episode. The table is cut into segments in time as the stream
    cuts it (:class:`jamwatch.detect.stream.DetectStream`); the reports should be in time
    order (within a minute)."""
    from jamwatch.detect.stream import DetectStream

    stream = DetectStream(spoofing=spoofing, jamming=jamming, localizer=localizer)
    return pa.concat_tables([stream.push(table), stream.flush()])


class Segment:
    """One segment's reports for every detector: converted from Arrow once
    (:class:`ReportBatch` with its motion), grouped into jamming events (the degraded reports
    inside ``window`` make them, the others are context), then prepared once as tracks for
    the localizer and the spoofing detector, emptying the batch column by column as the
    tracks take its rows (a batch given is of no use afterwards)."""

    def __init__(
        self, reports: pa.Table | ReportBatch, window: Window, detectors: Detectors
    ) -> None:
        reports = report_batch(reports)
        #: the jamming events (:data:`jamwatch.detect.events.JAMMING_EVENTS`)
        self.events: pa.Table = detectors[0].detect(reports, window)
        self.tracks: Tracks = prepare(reports, consume=True)  # (the batch is emptied)


def jamming_rows(segment: Segment, detectors: Detectors) -> list[dict[str, Any]]:
    """The segment's jamming events as rows of :data:`jamwatch.schema.EVENTS`, with their
    sources: the best located first; those radio physics rules out apart, with the reason."""
    events = segment.events
    sources = detectors[1].locate(segment.tracks, events) if events.num_rows else None
    if sources is not None:  # the small events a source of another explains join it
        events, sources = absorb(segment.tracks, events, sources)
    by_event: dict[int, list[dict[str, Any]]] = {}
    rejected: dict[int, list[dict[str, Any]]] = {}
    if sources is not None:
        for src in int_times(sources).to_pylist():
            into = by_event if src.get("physical", True) else rejected
            into.setdefault(int(src.pop("event")), []).append(src)
    rows = []
    for k, ev in enumerate(int_times(events).to_pylist()):
        found = by_event.get(k, [])
        rows.append(
            {
                "kind": "jamming",
                "start": ev["start"] // MS * MS,
                "end": ev["end"] // MS * MS,
                "aircraft": ev["aircraft"],
                "affected_aircraft": ev["affected_aircraft"],
                "peak_share": round(ev["peak_share"], 4),
                "area": ev["area"],
                "source": _source(found[0]) if found else None,
                "sources": [_source(s) for s in found],
                "rejected_sources": [
                    {**_source(s), "reason": s["reason"]} for s in rejected.get(k, [])
                ],
            }
        )
    return rows


def spoofing_rows(segment: Segment, window: Window, detectors: Detectors) -> list[dict[str, Any]]:
    """The spoofing episodes (rows of :data:`jamwatch.schema.EVENTS`) found on the whole of
    ``segment`` (an aircraft's track does not stop at a window's edge) that start inside
    ``window``."""
    lo, hi = window
    rows = []
    for ep in int_times(detectors[2].detect(segment.tracks).episodes).to_pylist():
        if (lo is not None and ep["start"] < lo) or (hi is not None and ep["start"] >= hi):
            continue
        who = {"aircraft": [ep["icao"]], "icao": ep["icao"]}
        rows.append(episode_event(ep, "converging_aircraft", **who))
    return rows


def events_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Event rows as :data:`jamwatch.schema.EVENTS`, in start order (jamming first)."""
    rows = sorted(rows, key=lambda e: (e["start"], e["kind"]))
    return pa.Table.from_pylist(rows, schema=EVENTS)


def _source(src: dict[str, Any]) -> dict[str, Any]:
    start = src.get("start")
    return {
        "latitude": round(src["latitude"], 5),
        "longitude": round(src["longitude"], 5),
        "radius_95_km": src["radius_95_km"],
        "start": None if start is None else start // MS * MS,
        "end": None if start is None else src["end"] // MS * MS,
    }


def detectors(spoofing: str, jamming: str, localizer: str) -> Detectors:
    """The detectors registered under these names (ValueError naming the others)."""
    return choose(JAMMING, jamming), choose(LOCALIZERS, localizer), choose(SPOOFING, spoofing)


__all__ = [
    "Detectors",
    "Segment",
    "detect",
    "detectors",
    "events_table",
    "jamming_rows",
    "spoofing_rows",
]
