"""Small events that a located source of another event explains join that event.

Events are linked by distance (``link_km``), but a strong transmitter on a mast reaches high
aircraft far beyond it: a few hundred watts degrade aircraft at FL350 some 400 km away. Those
few far aircraft then form an event of their own, a second event for one transmitter, too
small to be located (the localizer needs ``min_witnesses`` aircraft) and so never told apart
from a second transmitter. After the sources are located, an event with fewer affected
aircraft than that and no source of its own joins an event of the same time when one of that
event's sources passes the physical check (:func:`jamwatch.detect.physics.check_source`) for
the small event's losses during the source's span (or, when they lost lock only outside it,
during that event): inside its radio horizon, and no aircraft that stayed nominal much
nearer to it at the same or a higher altitude. When its aircraft were degraded but never
lost lock, their positions with NIC 1-6 are checked as the losses instead. A small event
with a source of its own (its observations hold every aircraft around, so it may get a
second fit of the same transmitter) joins too when each of its sources lies within the
larger of the two 95 % radii of that event's source; its sources are then rejected as "the
transmitter of the event it joined". Of several such events it joins the one with the most
affected aircraft, and always a larger one (so joins make no cycle; one that joins another
takes its joined events along). Nothing is dropped: the joined event takes the aircraft,
the time span and the area of both, and the small event's sources (all rejected) are listed
with it.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from jamwatch.detect.physics import check_source
from jamwatch.detect.tracks import Tracks
from jamwatch.geo import convex_hull, haversine_m, local_xy, to_latlon
from jamwatch.schema import int_times


def absorb(
    tracks: Tracks, events: pa.Table, sources: pa.Table, min_witnesses: int = 5
) -> tuple[pa.Table, pa.Table]:  # fmt: skip
    """``events`` (:data:`jamwatch.detect.events.JAMMING_EVENTS`) and their ``sources``
    (:data:`jamwatch.detect.sources.SOURCES`, with or without the rejected ones) after the
    small events explained by another event's source joined it (module documentation)."""
    if events.num_rows < 2 or sources.num_rows == 0:
        return events, sources
    ev = int_times(events).to_pylist()
    src = int_times(sources).to_pylist()
    into = list(range(len(ev)))
    for k, small in enumerate(ev):
        if small["affected_aircraft"] >= min_witnesses:
            continue
        own = [s for s in src if s["event"] == k and s.get("physical", True)]
        codes = tracks.codes_of(small["aircraft"])
        best = None
        for s in src:
            j = s["event"]
            if not s.get("physical", True) or _rank(ev, j) <= _rank(ev, k):
                continue  # (an event joins a larger one only: no cycles)
            if not all(_same_site(o, s) for o in own):
                continue
            if codes.shape[0] and _explains(tracks, s, ev[j], small, codes):
                size = ev[j]["affected_aircraft"]
                if best is None or size > ev[best]["affected_aircraft"]:
                    best = j
        if best is not None:
            into[k] = best
    if into == list(range(len(ev))):
        return events, sources
    root = list(range(len(ev)))  # (the event each joins in the end: a larger one may join too)
    for k in range(len(ev)):
        while into[root[k]] != root[k]:
            root[k] = into[root[k]]
    joined = list(ev)
    for k, j in enumerate(root):
        if j != k:
            joined[j] = _joined(joined[j], ev[k])
    keep = sorted((ev[j]["start"], j) for j in range(len(ev)) if root[j] == j)
    number = {j: n for n, (_, j) in enumerate(keep)}
    rows = [joined[j] for _, j in keep]
    for s in src:
        if root[s["event"]] != s["event"] and s.get("physical", True):
            s["physical"] = False
            s["reason"] = "the transmitter of the event it joined"
        s["event"] = number[root[s["event"]]]
    out = pa.Table.from_pylist(rows, schema=events.schema)  # (int ns times: timestamps)
    return out, pa.Table.from_pylist(src, schema=sources.schema)


def _rank(events: list[dict[str, Any]], k: int) -> tuple[int, int]:
    """The order in which events may join: by affected aircraft, the earlier of equals
    larger."""
    return events[k]["affected_aircraft"], -k


def _same_site(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two sources lie within the larger of their 95 % radii of each other."""
    d = haversine_m(a["latitude"], a["longitude"], b["latitude"], b["longitude"])
    return bool(d <= 1000.0 * max(a["radius_95_km"], b["radius_95_km"]))


def _explains(
    tracks: Tracks, source: dict[str, Any], event: dict[str, Any], small: dict[str, Any],
    codes: npt.NDArray[np.int64],
) -> bool:  # fmt: skip
    """Whether ``source`` (of ``event``) passes the physical check for the losses of the
    aircraft ``codes`` of the ``small`` event during its own span; when they lost lock only
    outside it, during ``event`` (a transmitter stays on beyond the piece its source was
    fitted to, as :func:`jamwatch.detect.sources.physics_verdicts` takes it)."""
    for degraded in (False, True):  # losses of lock; failing any, degraded positions
        for a, b in ((source["start"], source["end"]), (event["start"], event["end"])):
            lo, hi = max(small["start"], a), min(small["end"], b)
            if lo > hi:
                continue
            verdict = check_source(
                tracks, source["latitude"], source["longitude"], lo, hi, aircraft=codes,
                degraded=degraded,
            )  # fmt: skip
            if verdict.losses > 0:
                return verdict.ok
    return False


def _joined(big: dict[str, Any], small: dict[str, Any]) -> dict[str, Any]:
    """The event ``big`` with the aircraft, span and area of ``small`` added (its centre,
    peak share: the larger)."""
    out = dict(big)
    out["start"] = min(big["start"], small["start"])
    out["end"] = max(big["end"], small["end"])
    out["aircraft"] = sorted(set(big["aircraft"]) | set(small["aircraft"]))
    out["affected_aircraft"] = len(out["aircraft"])
    out["peak_share"] = max(big["peak_share"], small["peak_share"])
    ring = np.array(
        [p for e in (big, small) for p in json.loads(e["area"])["coordinates"][0]], np.float64
    )  # (lon, lat) vertices of both areas
    x, y = local_xy(ring[:, 1], ring[:, 0], big["latitude"], big["longitude"])
    hx, hy = convex_hull(x, y)
    la, lo = to_latlon(hx, hy, big["latitude"], big["longitude"])
    coords = [[round(float(a), 5), round(float(b), 5)] for a, b in zip(lo, la, strict=True)]
    out["area"] = json.dumps({"type": "Polygon", "coordinates": [[*coords, coords[0]]]})
    return out


__all__ = ["absorb"]
