"""The whole ``detect`` stage: spoofing episodes, jamming events and their sources.

:func:`detect` returns the events as a list of plain dicts (the ``events.json`` objects);
:func:`events_table` gives the same as an Arrow table for the web map and other stages.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from jamwatch.detect.base import JAMMING, LOCALIZERS, SPOOFING, choose


def iso(ns: int) -> str:
    """UTC ISO 8601 with millisecond precision and a Z."""
    dt = datetime.fromtimestamp(ns // 1_000_000 / 1000.0, tz=UTC)
    return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def detect(
    table: pa.Table,
    *,
    spoofing: str = "kinematic",
    jamming: str = "cluster",
    localizer: str = "likelihood",
) -> list[dict[str, Any]]:
    """Events of a decoded table: one dict per jamming event or spoofing episode.

    Jamming: ``kind``, ``start``, ``end`` (ISO 8601 UTC), ``aircraft``, ``affected_aircraft``,
    ``peak_share``, ``area`` (GeoJSON polygon), ``source`` (``latitude``, ``longitude``,
    ``radius_95_km``, and the ``start`` and ``end`` of the reports it explains; null when not
    observable), ``sources`` (all sources found) and ``rejected_sources`` (sources the fit
    proposed that radio physics rules out, with the ``reason``: never drawn as located).
    Spoofing: ``kind``, ``start``, ``end``, ``icao``, ``aircraft`` ([icao]), ``reports``,
    ``evidence`` and ``false_position`` (``latitude``, ``longitude``) when there is one.
    """
    out: list[dict[str, Any]] = []
    events = choose(JAMMING, jamming).detect(table)
    sources = choose(LOCALIZERS, localizer).locate(table, events) if events.num_rows else None
    by_event: dict[int, list[dict[str, Any]]] = {}
    rejected: dict[int, list[dict[str, Any]]] = {}
    if sources is not None:
        for name in ("start", "end"):  # int ns: to_pylist cannot give datetimes to the ns
            if name in sources.column_names:
                i = sources.schema.get_field_index(name)
                sources = sources.set_column(i, name, sources.column(name).cast(pa.int64()))
        for src in sources.to_pylist():
            into = by_event if src.get("physical", True) else rejected
            into.setdefault(int(src.pop("event")), []).append(src)
    starts = events.column("start").cast(pa.int64()).to_pylist()
    ends = events.column("end").cast(pa.int64()).to_pylist()
    for k, ev in enumerate(events.drop_columns(["start", "end"]).to_pylist()):
        found = by_event.get(k, [])
        out.append(
            {
                "kind": "jamming",
                "start": iso(starts[k]),
                "end": iso(ends[k]),
                "aircraft": ev["aircraft"],
                "affected_aircraft": ev["affected_aircraft"],
                "peak_share": round(ev["peak_share"], 4),
                "area": json.loads(ev["area"]),
                "source": _source(found[0]) if found else None,
                "sources": [_source(s) for s in found],
                "rejected_sources": [
                    {**_source(s), "reason": s["reason"]} for s in rejected.get(k, [])
                ],
            }
        )
    episodes = choose(SPOOFING, spoofing).detect(table).episodes
    starts = episodes.column("start").cast(pa.int64()).to_pylist()
    ends = episodes.column("end").cast(pa.int64()).to_pylist()
    for k, ep in enumerate(episodes.drop_columns(["start", "end"]).to_pylist()):
        item: dict[str, Any] = {
            "kind": "spoofing",
            "start": iso(starts[k]),
            "end": iso(ends[k]),
            "icao": ep["icao"],
            "aircraft": [ep["icao"]],
            "reports": ep["reports"],
            "evidence": ep["evidence"],
        }
        if ep["false_latitude"] is not None:
            item["false_position"] = {
                "latitude": round(ep["false_latitude"], 5),
                "longitude": round(ep["false_longitude"], 5),
                "converging_aircraft": ep["converging_aircraft"],
            }
        out.append(item)
    return sorted(out, key=lambda e: (e["start"], e["kind"]))


def _source(src: dict[str, Any]) -> dict[str, Any]:
    out = {
        "latitude": round(src["latitude"], 5),
        "longitude": round(src["longitude"], 5),
        "radius_95_km": src["radius_95_km"],
    }
    if src.get("start") is not None:  # the span of the reports it explains (int ns)
        out["start"] = iso(int(src["start"]))
        out["end"] = iso(int(src["end"]))
    return out


def events_table(events: list[dict[str, Any]]) -> pa.Table:
    """The events of :func:`detect` as an Arrow table (nested fields as JSON text)."""
    rows = [
        {
            "kind": e["kind"],
            "start": e["start"],
            "end": e["end"],
            "aircraft": e["aircraft"],
            "latitude": (e.get("source") or e.get("false_position") or {}).get("latitude"),
            "longitude": (e.get("source") or e.get("false_position") or {}).get("longitude"),
            "radius_95_km": (e.get("source") or {}).get("radius_95_km"),
            "detail": json.dumps(e),
        }
        for e in events
    ]
    schema = pa.schema(
        [
            ("kind", pa.string()),
            ("start", pa.string()),
            ("end", pa.string()),
            ("aircraft", pa.list_(pa.string())),
            ("latitude", pa.float64()),
            ("longitude", pa.float64()),
            ("radius_95_km", pa.float64()),
            ("detail", pa.string()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)
