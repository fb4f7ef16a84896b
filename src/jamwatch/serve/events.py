"""Events written by ``jamwatch detect`` on the map: reading, checking, and drawing geometry.

An events file is a JSON list of objects with a ``kind`` ("jamming" or "spoofing"), ``start``
and ``end`` (ISO 8601 UTC) and ``aircraft`` (ICAO addresses). Jamming events may add ``area``
(a GeoJSON Polygon or MultiPolygon), ``source`` and ``sources`` (``latitude``, ``longitude``,
``radius_95_km``; ``source`` is null when the transmitter was not observable); spoofing episodes
add ``icao`` (an aircraft's) or ``mmsi`` (a ship's) and, when there is one, ``false_position``
(``latitude``, ``longitude``).

:func:`read_events` checks every field the map uses and raises :class:`EventsFormatError` naming
the file and the event. :func:`circle` turns a 95 % radius into a polygon on the sphere, so the
page and the PNG draw the same ring. :func:`page_events` and :func:`events_geojson` are what
``jamwatch map`` writes into ``events.js`` and ``events.geojson``.
"""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from jamwatch.geo import destination
from jamwatch.io.base import FormatError
from jamwatch.io.events import is_events_head
from jamwatch.io.streams import read_all, read_head

KINDS = ("jamming", "spoofing")
#: aircraft listed per event on the page (the count is always the full one)
MAX_AIRCRAFT = 30


class EventsFormatError(ValueError):
    """An events file that cannot be drawn (the message names the file and the event)."""


def _read_text(path: Path) -> str:
    return read_all(path).decode("utf-8", "replace")


def is_events_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` holds a ``jamwatch detect`` events list (:func:`is_events_head` of
    its first 64 KiB, decompressed)."""
    try:
        return is_events_head(read_head(Path(path)))
    except FormatError:  # a damaged compressed stream
        return False


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return None if dt.tzinfo is None else dt.astimezone(UTC)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _point(value: Any, where: str, radius: bool) -> dict[str, float]:
    if not isinstance(value, dict):
        raise EventsFormatError(f"{where} is not an object")
    lat, lon = _number(value.get("latitude")), _number(value.get("longitude"))
    if lat is None or not -90 <= lat <= 90:
        raise EventsFormatError(f"{where}.latitude is not a number in -90..90")
    if lon is None or not -180 <= lon <= 180:
        raise EventsFormatError(f"{where}.longitude is not a number in -180..180")
    out = {"latitude": lat, "longitude": lon}
    if radius:
        r = _number(value.get("radius_95_km"))
        if r is None or r < 0:
            raise EventsFormatError(f"{where}.radius_95_km is not a number >= 0")
        out["radius_95_km"] = r
    return out


def _rings(area: Any, where: str) -> list[list[list[list[float]]]]:
    """A GeoJSON Polygon or MultiPolygon as a list of polygons (each a list of rings)."""
    if not isinstance(area, dict) or area.get("type") not in ("Polygon", "MultiPolygon"):
        raise EventsFormatError(f"{where} is not a GeoJSON Polygon or MultiPolygon")
    coordinates: Any = area.get("coordinates")
    polygons: Any = [coordinates] if area["type"] == "Polygon" else coordinates
    ok = isinstance(polygons, list) and all(
        isinstance(poly, list)
        and all(
            isinstance(ring, list)
            and len(ring) >= 3
            and all(
                isinstance(pt, list)
                and len(pt) >= 2
                and _number(pt[0]) is not None
                and _number(pt[1]) is not None
                for pt in ring
            )
            for ring in poly
        )
        for poly in polygons
    )
    if not ok:
        raise EventsFormatError(f"{where}.coordinates are not rings of [longitude, latitude]")
    return [[[[float(pt[0]), float(pt[1])] for pt in ring] for ring in poly] for poly in polygons]


def _check(event: Any, k: int) -> dict[str, Any]:
    where = f"event {k}"
    if not isinstance(event, dict):
        raise EventsFormatError(f"{where} is not an object")
    kind = event.get("kind")
    if kind not in KINDS:
        raise EventsFormatError(f"{where}: kind {kind!r} is not 'jamming' or 'spoofing'")
    start, end = _time(event.get("start")), _time(event.get("end"))
    if start is None:
        raise EventsFormatError(f"{where}: start is not an ISO 8601 time with a time zone")
    if end is None:
        raise EventsFormatError(f"{where}: end is not an ISO 8601 time with a time zone")
    if end < start:
        raise EventsFormatError(f"{where}: end is before start")
    aircraft = event.get("aircraft")
    if not isinstance(aircraft, list) or not all(isinstance(a, str) for a in aircraft):
        raise EventsFormatError(f"{where}: aircraft is not a list of ICAO addresses")
    out: dict[str, Any] = {"kind": kind, "start": start, "end": end, "aircraft": aircraft}
    if kind == "jamming":
        source = event.get("source")
        out["source"] = None if source is None else _point(source, f"{where}: source", True)
        sources = event.get("sources")
        if sources is None:
            sources = [] if source is None else [source]
        if not isinstance(sources, list):
            raise EventsFormatError(f"{where}: sources is not a list")
        out["sources"] = [_point(s, f"{where}: sources[{i}]", True) for i, s in enumerate(sources)]
        if out["source"] is not None and out["source"] not in out["sources"]:
            out["sources"].insert(0, out["source"])
        area = event.get("area")
        out["area"] = None if area is None else _rings(area, f"{where}: area")
        n = event.get("affected_aircraft")
        out["affected_aircraft"] = n if isinstance(n, int) and not isinstance(n, bool) else None
    else:
        icao, mmsi = event.get("icao"), event.get("mmsi")
        if "mmsi" in event:  # a ship's episode
            if not isinstance(mmsi, int) or isinstance(mmsi, bool):
                raise EventsFormatError(f"{where}: mmsi is not an integer")
            out["mmsi"] = mmsi
        elif not isinstance(icao, str):
            raise EventsFormatError(f"{where}: icao is not a string")
        else:
            out["icao"] = icao
        fp = event.get("false_position")
        where = f"{where}: false_position"
        out["false_position"] = None if fp is None else _point(fp, where, False)
    return out


def read_events(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The checked events of a ``jamwatch detect`` file, times as UTC datetimes.

    Geometry comes back as :func:`_check` makes it: ``area`` as a list of polygons of rings of
    ``[longitude, latitude]``, points as dicts of floats. Raises :class:`EventsFormatError`.
    """
    p = Path(path)
    try:
        doc = json.loads(_read_text(p))
    except json.JSONDecodeError as exc:
        raise EventsFormatError(f"{p}: not valid JSON ({exc})") from exc
    if not isinstance(doc, list):
        raise EventsFormatError(f"{p}: an events file is a JSON list of objects with a kind")
    try:
        return check_events(doc)
    except EventsFormatError as exc:
        raise EventsFormatError(f"{p}: {exc}") from None


def check_events(doc: list[Any]) -> list[dict[str, Any]]:
    """The checked events of ``doc`` (events.json objects), as :func:`read_events` gives
    them. Raises :class:`EventsFormatError`."""
    return [_check(event, k) for k, event in enumerate(doc)]


def circle(
    latitude: float, longitude: float, radius_km: float, points: int = 64
) -> list[tuple[float, float]]:
    """The ring of points ``radius_km`` from a centre on the sphere, as closed (lon, lat).

    Each vertex is the destination point along its bearing (great circle), so every vertex is at
    the radius exactly by the haversine distance. Longitudes stay continuous (they may leave
    -180..180 near the antimeridian) so that the ring is drawn whole; a circle holding a pole is
    not a simple polygon in longitude and latitude.
    """
    bearings = 360.0 * np.arange(points) / points
    lat, lon = destination(latitude, longitude, bearings, radius_km * 1000.0, wrap=False)
    ring = list(zip(lon.tolist(), lat.tolist(), strict=True))
    return [*ring, ring[0]]


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds").replace("+00:00", "Z")


def _r(ring: list[tuple[float, float]] | list[list[float]]) -> list[list[float]]:
    return [[round(x, 5), round(y, 5)] for x, y, *_ in ring]


def page_events(
    events: list[dict[str, Any]], windows: list[tuple[int, int]]
) -> list[dict[str, Any]]:
    """One compact record per event for ``events.js``.

    ``windows`` are the page's (start ns, seconds); ``w`` lists those the event's time overlaps,
    so the page only compares indices. Sources carry their 95 % circle (:func:`circle`).
    """
    out = []
    for k, e in enumerate(events):
        start_ns = int(e["start"].timestamp() * 1e9)
        end_ns = int(e["end"].timestamp() * 1e9)
        overlap = [
            i for i, (w0, ws) in enumerate(windows) if start_ns < w0 + ws * 10**9 and end_ns >= w0
        ]
        rec: dict[str, Any] = {
            "i": k,
            "k": e["kind"],
            "s": _iso(e["start"]),
            "e": _iso(e["end"]),
            "n": len(e["aircraft"]),
            "a": e["aircraft"][:MAX_AIRCRAFT],
            "w": overlap,
        }
        if e["kind"] == "jamming":
            rec["src"] = [
                {
                    "y": s["latitude"],
                    "x": s["longitude"],
                    "r": s["radius_95_km"],
                    "c": _r(circle(s["latitude"], s["longitude"], s["radius_95_km"])),
                }
                for s in e["sources"]
            ]
            rec["p"] = 0 if e["source"] is not None else None
            rec["area"] = [[_r(ring) for ring in poly] for poly in e["area"] or []]
        else:
            if "mmsi" in e:
                rec["mmsi"] = e["mmsi"]
            else:
                rec["icao"] = e["icao"]
            fp = e["false_position"]
            rec["fp"] = None if fp is None else {"y": fp["latitude"], "x": fp["longitude"]}
        out.append(rec)
    return out


def events_geojson(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Areas, sources, 95 % circles and false positions as one GeoJSON FeatureCollection.

    Every feature has ``event`` (its index in the file), ``kind``, ``start``, ``end``,
    ``aircraft`` (the count) and ``role``: ``area``, ``source``, ``circle_95`` or
    ``false_position``.
    """
    features = []

    def add(k: int, e: dict[str, Any], role: str, geometry: dict[str, Any], **extra: Any) -> None:
        props = {
            "event": k,
            "kind": e["kind"],
            "start": _iso(e["start"]),
            "end": _iso(e["end"]),
            "aircraft": len(e["aircraft"]),
            "role": role,
            **extra,
        }
        features.append({"type": "Feature", "properties": props, "geometry": geometry})

    for k, e in enumerate(events):
        if e["kind"] == "jamming":
            for poly in e["area"] or []:
                add(k, e, "area", {"type": "Polygon", "coordinates": poly})
            for j, s in enumerate(e["sources"]):
                extra = {"primary": j == 0 and e["source"] is not None}
                extra["radius_95_km"] = s["radius_95_km"]
                point = [s["longitude"], s["latitude"]]
                add(k, e, "source", {"type": "Point", "coordinates": point}, **extra)
                ring = _r(circle(s["latitude"], s["longitude"], s["radius_95_km"]))
                add(k, e, "circle_95", {"type": "Polygon", "coordinates": [ring]}, **extra)
        elif e["false_position"] is not None:
            fp = e["false_position"]
            point = [fp["longitude"], fp["latitude"]]
            who = {"mmsi": e["mmsi"]} if "mmsi" in e else {"icao": e["icao"]}
            add(k, e, "false_position", {"type": "Point", "coordinates": point}, **who)
    return {"type": "FeatureCollection", "features": features}
