"""Ship jamming: ships that lost their position, grouped into events, joined with the
aircraft's jamming events.

A ship's *lost span* is a run of its lost-position messages (``position_missing``,
``position_frozen``, ``position_silent`` of :mod:`jamwatch.signals.ships`) less than
``span_gap_s`` apart, placed at the ship's last position known when it begins (at most
``place_s`` old; a frozen fix is that position itself). A ship that never sent a position
cannot be placed and is left out (a unit without a GNSS receiver, or one that is never
fixed, always reports "not available"). Spans link when they overlap in time, or come
within ``gap_s`` of each other, and lie within ``link_km``: the linked spans of at least
``min_vessels`` ships make a ship jamming event (``kind`` "jamming", ``vessels``, an empty
``aircraft``, ``area`` the box around the ships' places, no source). A ship event, or a
single ship's span, that overlaps an aircraft jamming event in time (within ``gap_s``)
and lies within ``link_km`` of the places of that event's area joins it: its ships are
added to the aircraft event's ``vessels`` (one event for air and sea).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from jamwatch.geo import distance_m
from jamwatch.schema import EVENTS, int_times
from jamwatch.signals.ships import LOST_SIGNALS, by_ship, flags, last_fix

NS = 1_000_000_000
MS = 1_000_000


@dataclass(frozen=True, slots=True)
class ShipJammingConfig:
    """How lost ships make events (see the module documentation)."""

    span_gap_s: float = 900.0
    place_s: float = 1800.0
    gap_s: float = 1800.0
    link_km: float = 100.0
    min_vessels: int = 2


def lost_spans(signals: pa.Table, config: ShipJammingConfig | None = None) -> list[dict[str, Any]]:
    """The ships' lost spans: ``mmsi``, ``start``, ``end`` (ns), ``latitude``, ``longitude``
    (where the ship was last known), ``messages``."""
    c = config or ShipJammingConfig()
    table = by_ship(signals)
    mmsi = np.asarray(table.column("mmsi").to_numpy(zero_copy_only=False), np.int64)
    t = np.asarray(table.column("time").cast(pa.int64()).to_numpy(), np.int64)
    lat = np.asarray(table.column("latitude").cast(pa.float64()).to_numpy(zero_copy_only=False))
    lon = np.asarray(table.column("longitude").cast(pa.float64()).to_numpy(zero_copy_only=False))
    lost = flags(table, LOST_SIGNALS)
    # the ship's last known position at each row (its own when it has one)
    last, ok = last_fix(mmsi, t, np.isfinite(lat) & np.isfinite(lon), c.place_s)
    rows = np.flatnonzero(lost)
    if not rows.shape[0]:
        return []
    new = np.ones(rows.shape[0], np.bool_)
    gap = t[rows[1:]] - t[rows[:-1]] > c.span_gap_s * NS
    new[1:] = (mmsi[rows[1:]] != mmsi[rows[:-1]]) | gap
    first = np.flatnonzero(new)
    ends = np.append(first[1:], rows.shape[0]) - 1
    placed = ok[rows[first]]  # (a span is placed where it begins)
    first, ends = first[placed], ends[placed]
    place = last[rows[first]]
    return [
        {
            "mmsi": int(mmsi[rows[a]]),
            "start": int(t[rows[a]]),
            "end": int(t[rows[b]]),
            "latitude": float(lat[p]),
            "longitude": float(lon[p]),
            "messages": int(b - a + 1),
        }
        for a, b, p in zip(first.tolist(), ends.tolist(), place.tolist(), strict=True)
    ]


def _linked(a: dict[str, Any], b: dict[str, Any], c: ShipJammingConfig) -> bool:
    near = distance_m(a["latitude"], a["longitude"], b["latitude"], b["longitude"])
    apart = max(a["start"], b["start"]) - min(a["end"], b["end"])
    return bool(near <= c.link_km * 1000.0) and apart <= c.gap_s * NS


def ship_jamming_groups(
    spans: list[dict[str, Any]], config: ShipJammingConfig | None = None
) -> list[list[dict[str, Any]]]:  # fmt: skip
    """The spans linked into groups (single linkage; see the module documentation)."""
    c = config or ShipJammingConfig()
    parent = list(range(len(spans)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    ordered = sorted(range(len(spans)), key=lambda i: spans[i]["start"])
    for k, i in enumerate(ordered):  # (spans in start order: stop at the first too late)
        for j in ordered[k + 1 :]:
            if spans[j]["start"] - spans[i]["end"] > c.gap_s * NS:
                break
            if _linked(spans[i], spans[j], c):
                parent[root(j)] = root(i)
    groups: dict[int, list[dict[str, Any]]] = {}
    for i in ordered:
        groups.setdefault(root(i), []).append(spans[i])
    return list(groups.values())


def _area_points(area: str | None) -> np.ndarray:
    """The vertices (lat, lon) of an event's GeoJSON area."""
    if area is None:
        return np.zeros((0, 2))
    geo = json.loads(area)
    polys = [geo["coordinates"]] if geo["type"] == "Polygon" else geo["coordinates"]
    pts = [pt for poly in polys for ring in poly for pt in ring]
    return np.array([[p[1], p[0]] for p in pts], np.float64).reshape(-1, 2)


def _box(group: list[dict[str, Any]]) -> str:
    """A GeoJSON polygon around the group's places (a box, 0.01 degree at least)."""
    la = [s["latitude"] for s in group]
    lo = [s["longitude"] for s in group]
    s0, n0 = round(min(la) - 0.005, 5), round(max(la) + 0.005, 5)
    w0, e0 = round(min(lo) - 0.005, 5), round(max(lo) + 0.005, 5)
    ring = [[w0, s0], [e0, s0], [e0, n0], [w0, n0], [w0, s0]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def join_ship_jamming(
    events: pa.Table, signals: pa.Table, config: ShipJammingConfig | None = None
) -> pa.Table:  # fmt: skip
    """``events`` (:data:`jamwatch.schema.EVENTS`) with the ships' jamming: groups near an
    aircraft jamming event join it (``vessels``), the others of at least ``min_vessels``
    ships are events of their own; in start order."""
    c = config or ShipJammingConfig()
    rows = int_times(events).to_pylist()
    jams = [(i, _area_points(r["area"])) for i, r in enumerate(rows) if r["kind"] == "jamming"]
    for group in ship_jamming_groups(lost_spans(signals, c), c):
        start, end = min(s["start"] for s in group), max(s["end"] for s in group)
        ships = sorted({s["mmsi"] for s in group})
        joined = False
        for i, pts in jams:
            r = rows[i]
            if max(start, r["start"]) - min(end, r["end"]) > c.gap_s * NS or not pts.shape[0]:
                continue
            near = min(
                float(distance_m(pts[:, 0], pts[:, 1], s["latitude"], s["longitude"]).min())
                for s in group
            )  # fmt: skip
            if near <= c.link_km * 1000.0:
                r["vessels"] = sorted(set(r["vessels"] or []) | set(ships))
                joined = True
                break
        if not joined and len(ships) >= c.min_vessels:
            rows.append(
                {
                    "kind": "jamming",
                    "start": start // MS * MS,
                    "end": end // MS * MS,
                    "aircraft": [],
                    "affected_aircraft": 0,
                    "peak_share": None,
                    "area": _box(group),
                    "source": None,
                    "sources": [],
                    "rejected_sources": [],
                    "vessels": ships,
                }
            )
    rows.sort(key=lambda e: (e["start"], e["kind"]))
    return pa.Table.from_pylist(rows, schema=EVENTS)


__all__ = ["ShipJammingConfig", "join_ship_jamming", "lost_spans", "ship_jamming_groups"]
