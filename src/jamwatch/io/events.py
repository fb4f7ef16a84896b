"""``events.json``: the serialization of the events table (:data:`jamwatch.schema.EVENTS`).

One JSON object per row, in row order, with the table's columns as keys; a jamming event
leaves out the spoofing columns and a spoofing episode the jamming ones; times are ISO 8601
UTC strings to the millisecond with a ``Z``; ``area`` is the GeoJSON object itself, not its
text; a source's ``start`` and ``end`` appear only when known, and ``false_position`` only when
there is one. ``docs/events.schema.json`` states the same as a JSON Schema. :func:`to_json`
and :func:`from_json` are exact inverses on tables whose times are whole milliseconds (as
``detect`` writes them).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from jamwatch.schema import EVENTS

MS = 1_000_000  # nanoseconds
_KIND_KEY = re.compile(r'"kind"\s*:')
JAMMING_KEYS = ("affected_aircraft", "peak_share", "area", "source", "sources", "rejected_sources")
SPOOFING_KEYS = ("icao", "mmsi", "reports", "evidence", "false_position")


def iso(ns: int) -> str:
    """UTC ISO 8601 with millisecond precision and a Z (the time floored to the ms)."""
    dt = datetime.fromtimestamp(ns // MS / 1000.0, tz=UTC)
    return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> int:
    """Nanoseconds since the epoch of an ISO 8601 UTC time (``Z`` or ``+00:00``), exactly."""
    if text.endswith("Z"):
        text = text[:-1]
    elif text.endswith("+00:00"):
        text = text[:-6]
    return int(np.datetime64(text, "ns").astype(np.int64))


def _source_json(src: dict[str, Any]) -> dict[str, Any]:
    out = {k: src[k] for k in ("latitude", "longitude", "radius_95_km")}
    if src.get("start") is not None:
        out["start"] = iso(src["start"])
        out["end"] = iso(src["end"])
    if "reason" in src:
        out["reason"] = src["reason"]
    return out


def _ns_columns(table: pa.Table) -> list[dict[str, Any]]:
    """Rows as dicts with every time as int nanoseconds (to_pylist gives datetimes to the µs)."""
    ints = pa.int64()

    def cast(t: pa.DataType) -> pa.DataType:
        if pa.types.is_timestamp(t):
            return ints
        if pa.types.is_struct(t):
            return pa.struct([f.with_type(cast(f.type)) for f in t])
        if pa.types.is_list(t):
            return pa.list_(cast(t.value_type))
        return t

    rows: list[dict[str, Any]] = table.cast(
        pa.schema([f.with_type(cast(f.type)) for f in table.schema])
    ).to_pylist()
    return rows


def to_json(table: pa.Table) -> list[dict[str, Any]]:
    """The ``events.json`` objects of an :data:`EVENTS` table."""
    out = []
    for row in _ns_columns(table.select(EVENTS.names)):
        item: dict[str, Any] = {
            "kind": row["kind"],
            "start": iso(row["start"]),
            "end": iso(row["end"]),
        }
        if row["kind"] == "jamming":
            item["aircraft"] = row["aircraft"]
            item["affected_aircraft"] = row["affected_aircraft"]
            item["peak_share"] = row["peak_share"]
            item["area"] = json.loads(row["area"]) if row["area"] is not None else None
            item["source"] = _source_json(row["source"]) if row["source"] else None
            item["sources"] = [_source_json(s) for s in row["sources"] or []]
            item["rejected_sources"] = [_source_json(s) for s in row["rejected_sources"] or []]
            if row["vessels"] is not None:
                item["vessels"] = row["vessels"]
        else:
            if row["mmsi"] is not None:  # a ship's episode
                item["mmsi"] = row["mmsi"]
                item["vessels"] = row["vessels"]
            else:
                item["icao"] = row["icao"]
            item["aircraft"] = row["aircraft"]
            item["reports"] = row["reports"]
            item["evidence"] = row["evidence"]
            if row["false_position"] is not None:
                false = row["false_position"]  # (the other kind's count left out)
                item["false_position"] = {
                    k: v for k, v in false.items() if v is not None or not k.startswith("conv")
                }
        out.append(item)
    return out


def _source_row(src: dict[str, Any], rejected: bool = False) -> dict[str, Any]:
    out = {k: src[k] for k in ("latitude", "longitude", "radius_95_km")}
    out["start"] = parse_iso(src["start"]) if src.get("start") else None
    out["end"] = parse_iso(src["end"]) if src.get("end") else None
    if rejected:
        out["reason"] = src.get("reason")
    return out


def from_json(items: list[dict[str, Any]]) -> pa.Table:
    """The :data:`EVENTS` table of ``events.json`` objects (as :func:`to_json` writes them)."""
    rows = []
    for e in items:
        row: dict[str, Any] = {k: None for k in EVENTS.names}
        row.update(kind=e["kind"], aircraft=e["aircraft"])
        row.update(start=parse_iso(e["start"]), end=parse_iso(e["end"]))
        for k in (*JAMMING_KEYS, *SPOOFING_KEYS, "vessels"):
            if k in e:
                row[k] = e[k]
        if row["area"] is not None:
            row["area"] = json.dumps(row["area"])
        if row["source"] is not None:
            row["source"] = _source_row(row["source"])
        if row["sources"] is not None:
            row["sources"] = [_source_row(s) for s in row["sources"]]
        if row["rejected_sources"] is not None:
            row["rejected_sources"] = [_source_row(s, True) for s in row["rejected_sources"]]
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=EVENTS)


def is_events_head(head: bytes) -> bool:
    """Whether a file's first (decompressed) bytes start a ``jamwatch detect`` events list:
    a JSON text starting with ``[`` that is the empty list or has a ``"kind"`` key near its
    start (position files (OpenSky, traffic, readsb) have no ``kind`` field)."""
    text = head.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    if not text.startswith("["):
        return False
    rest = text[1:].lstrip()
    return rest.startswith("]") or (rest.startswith("{") and bool(_KIND_KEY.search(text)))


def write_events(table: pa.Table, path: Path) -> None:
    """Write ``table`` as ``events.json`` at ``path``."""
    path.write_text(json.dumps(to_json(table), indent=1))


__all__ = ["from_json", "is_events_head", "iso", "parse_iso", "to_json", "write_events"]
