"""Measure the detectors against the simulator's truth on randomized scenario variants.

The variants come from :mod:`jamwatch.simulate.variants` (re-exported here): :func:`variant`
draws a randomized copy of a scenario from the ranges of a :class:`VariantConfig`; the
baseline (``VariantConfig()``) moves each transmitter site by up to ``move_km``, scales its
power by up to ``power_db`` (a spoofer's only up, by 0 to ``2 power_db``: its reach in the
shipped scenario is marginal), shifts its schedule by up to ``shift_s`` and scales the
traffic density of every route by a factor in ``density``; :data:`VARIANTS` names the wider
members of the family (avionics responses, powers, masts, sites relative to the traffic,
durations, densities). :func:`evaluate_run` simulates, decodes and detects, then compares
with the truth:

- a *true interval* is an on-interval of a jammer during which it degraded or jammed at
  least two aircraft; it is found when a jamming event overlaps it. Onset latency: the
  start of the first overlapping event minus the switch-on time (left out when that event
  began more than a minute earlier, for another transmitter). Localization error: the
  distance from the transmitter to its source among those estimated for the overlapping
  events, matched nearest pairs first, each source standing for one transmitter site (the
  intervals of one site may share it; a source at one transmitter is not also another's
  estimate, nor are the sources of other events pooled to its place); that source's
  ``radius_95_km`` *covers* the transmitter when the error is within it (coverage: the
  share of located intervals covered; the same over the matched
  sources, each counted once, with its 95 % interval: the intervals of one site share
  their source, so a row's interval coverage moves in steps of several intervals). A found
  interval whose events have no source at all is *unlocated*; one whose events' sources
  all stand for other transmitters is *missed* (a second transmitter not told apart from
  the first); a source matched to no interval is an *extra* source; a true interval is
  *split* when two or more of the events overlapping it are its transmitter's (one
  transmitter, several events): an event is the transmitter's whose intervals overlapping
  it hit the most of its aircraft (two transmitters on at once, each seen as its own
  event, split nothing);
- a run with ``region_only`` (a transmitter beyond the traffic) scores the coverage of the
  95 % region only: its distances are kept but left out of the localization figures;
- localization time: the wall time of :func:`locate_sources` per event (each event's own
  fit, plus an equal share of what the events share: preparing the tracks, pooling sites),
  with the localizer's kernels compiled before (see :func:`locate_timed`);
- event precision: events overlapping some true interval over all events; recall: found
  true intervals over all;
- spoofing, report level: flagged position reports that the truth marks spoofed.
"""

from __future__ import annotations

import math
import time
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa

from jamwatch.api import decode
from jamwatch.detect.absorb import absorb
from jamwatch.detect.events import detect_jamming
from jamwatch.detect.sources import locate_sources
from jamwatch.detect.spoofing import detect_spoofing
from jamwatch.detect.tracks import NS, Tracks, prepare
from jamwatch.geo import distance_m
from jamwatch.simulate.radio import Transmitter
from jamwatch.simulate.scenario import Scenario, run_scenario
from jamwatch.simulate.variants import VARIANTS, VariantConfig, named, variant


class Interval(NamedTuple):
    """A true interval: a jammer on from ``on`` to ``off`` (ns), the aircraft (lower-case
    addresses) it degraded or jammed then, and how many of them lost lock."""

    tx: Transmitter
    on: int
    off: int
    aircraft: frozenset[str]
    lost: int = 0


#: the localization targets (median 3 km, 95th percentile 10 km) hold where at least this
#: many aircraft lost lock and the transmitter is inside the traffic or at its edge (beyond
#: it only the region's coverage counts)
TARGET_LOST = 5


def evaluate_run(sc: Scenario, seed: int, *, region_only: bool = False) -> dict[str, Any]:
    """Simulate, decode and detect one scenario; the measures of the module documentation.

    ``region_only``: the transmitters may lie beyond the traffic (see the module doc)."""
    sim = run_scenario(sc, seed)
    out = score(sc, decode(sim.frames), sim.truth)
    out["seed"] = seed
    out["region_only"] = region_only
    return out


_compiled = False  # whether locate_timed has compiled the localizer's kernels


def locate_timed(decoded: pa.Table, events: pa.Table) -> tuple[pa.Table, list[float], Tracks]:
    """:func:`locate_sources` and its wall time per event (s): each event's own fit, plus an
    equal share of the rest of the call (preparing the tracks, pooling sites, the physical
    check); and the tracks it prepared. The process's first call locates the first event
    once before, untimed: it compiles the kernels, which would otherwise add seconds to the
    first events."""
    global _compiled
    if not _compiled and events.num_rows:
        locate_sources(decoded, events.slice(0, 1))  # compiles the kernels: not timed
        _compiled = True
    own: list[float] = []
    t0 = time.perf_counter()
    tracks = prepare(decoded)
    sources = locate_sources(tracks, events, timings=own)
    total = time.perf_counter() - t0
    n = events.num_rows
    shared = (total - sum(own)) / n if n else 0.0
    return sources, [t + shared for t in own], tracks


def true_intervals(sc: Scenario, truth: pa.Table) -> list[Interval]:
    """On-intervals of the jammers that degraded or jammed at least two aircraft."""
    t = np.asarray(truth.column("time").cast(pa.int64()).to_numpy(), np.int64)
    effect = np.asarray(truth.column("effect").cast(pa.string()).to_numpy(zero_copy_only=False))
    who = np.asarray(truth.column("transmitter").to_numpy(zero_copy_only=False))
    icao = np.asarray(truth.column("icao").to_numpy(zero_copy_only=False))
    jammed = effect == "jammed"
    hit = (effect == "degraded") | jammed
    intervals = []
    for tx in sc.transmitters:
        if tx.spoof is not None:
            continue
        for on, off in tx.schedule or ((sc.start_ns, sc.end_ns),):
            m = hit & (who == tx.name) & (t >= on) & (t < off)
            aircraft = frozenset(str(a).lower() for a in np.unique(icao[m]))
            if len(aircraft) >= 2:
                lost = len(np.unique(icao[m & jammed]))
                intervals.append(Interval(tx, on, off, aircraft, lost))
    return intervals


def owners(intervals: list[Interval], events: pa.Table) -> list[str | None]:
    """Each event's transmitter: the one whose intervals overlapping the event hit the most
    of its aircraft (the first named of equals; None when they hit none)."""
    start = events.column("start").cast(pa.int64()).to_pylist()
    end = events.column("end").cast(pa.int64()).to_pylist()
    out: list[str | None] = []
    for a, b, names in zip(start, end, events.column("aircraft").to_pylist(), strict=True):
        mine = {str(n).lower() for n in names}
        hit: dict[str, set[str]] = {}
        for iv in intervals:
            if iv.on <= b and iv.off > a:  # (as match overlaps them)
                hit.setdefault(iv.tx.name, set()).update(iv.aircraft & mine)
        best = max(hit, key=lambda name: len(hit[name]), default=None)
        out.append(best if best is not None and hit[best] else None)
    return out


def match(intervals: list[Interval], events: pa.Table, sources: pa.Table) -> dict[str, Any]:
    """Intervals against the events that overlap them and the sources of those events, one
    transmitter site per source (see the module documentation)."""
    ev_start = np.asarray(events.column("start").cast(pa.int64()).to_numpy(), np.int64)
    ev_end = np.asarray(events.column("end").cast(pa.int64()).to_numpy(), np.int64)
    src_event = np.asarray(sources.column("event").to_numpy(), np.int64)
    src_lat = np.asarray(sources.column("latitude").to_numpy(), np.float64)
    src_lon = np.asarray(sources.column("longitude").to_numpy(), np.float64)
    src_r = np.asarray(sources.column("radius_95_km").to_numpy(), np.float64)
    owner = np.array(owners(intervals, events), dtype=object)
    used = np.zeros(ev_start.shape[0], np.bool_)
    out: dict[str, Any] = {"latency_s": [], "error_km": [], "covered": [], "radius_km": []}
    found = unlocated = split = 0
    pairs: list[tuple[float, int, int]] = []  # (distance km, interval, source)
    for i, (tx, on, off, _, _) in enumerate(intervals):
        over = (ev_start < off) & (ev_end >= on)
        used |= over
        if not over.any():
            continue
        found += 1
        split += int((over & (owner == tx.name)).sum() >= 2)
        onset = int(ev_start[over].min())
        if onset >= on - 60 * NS:  # not an event already running for another source
            out["latency_s"].append((onset - on) / NS)
        near = np.flatnonzero(np.isin(src_event, np.flatnonzero(over)))
        if not near.size:
            unlocated += 1
            continue
        d = distance_m(
            src_lat[near], src_lon[near], np.full(near.size, tx.latitude),
            np.full(near.size, tx.longitude),
        ) / 1000.0  # fmt: skip
        pairs += [(float(dk), i, int(k)) for dk, k in zip(d, near, strict=True)]
    # nearest pairs first; a source stands for one transmitter site (the intervals of one
    # site, or of co-sited transmitters, may share it), and so do the sources at one place
    # (the events' sources pooled to one site are one estimate of it)
    place = [
        (round(float(a), 6), round(float(b), 6)) for a, b in zip(src_lat, src_lon, strict=True)
    ]
    site: dict[tuple[float, float], tuple[float, float]] = {}
    best: dict[int, tuple[float, int]] = {}
    for dk, i, k in sorted(pairs):
        here = (intervals[i].tx.latitude, intervals[i].tx.longitude)
        if i not in best and site.setdefault(place[k], here) == here:
            best[i] = (dk, k)
    for i in sorted(best):
        dk, k = best[i]
        out["error_km"].append(dk)
        out["covered"].append(bool(dk <= src_r[k]))
        out["radius_km"].append(float(src_r[k]))
    # each matched source once: the intervals of its site share it, so whether it covers the
    # site is one outcome, however many intervals (or pooled sources at its place) stand for it
    one = {place[k]: (dk, k) for dk, k in sorted(best.values(), reverse=True)}
    out["source_covered"] = [
        bool(dk <= src_r[k]) for dk, k in sorted(one.values(), key=lambda v: v[1])
    ]
    # the targets' population: intervals in which TARGET_LOST or more aircraft lost lock,
    # each with its error and coverage, or None where it was not located
    target = [i for i, iv in enumerate(intervals) if iv.lost >= TARGET_LOST]
    out["target_error_km"] = [best[i][0] if i in best else None for i in target]
    out["target_covered"] = [
        bool(best[i][0] <= src_r[best[i][1]]) if i in best else None for i in target
    ]
    missed = len({i for _, i, _ in pairs}) - len(best)
    matched = np.array([p in one for p in place], np.bool_)
    extra = int((~matched & np.isin(src_event, np.flatnonzero(used))).sum())
    out.update(
        found=found, unlocated=unlocated, missed=missed, split_intervals=split,
        extra_sources=extra,
    )  # fmt: skip
    out["true_events"] = int(used.sum())
    return out


def score(sc: Scenario, decoded: pa.Table, truth: pa.Table) -> dict[str, Any]:
    """Detect on ``decoded`` and compare with the simulator's ``truth`` (one row per frame)."""
    events = detect_jamming(decoded)
    sources, locate_s, tracks = locate_timed(decoded, events)
    events, sources = absorb(tracks, events, sources)
    sources = sources.filter(sources.column("physical"))  # (a joined event's own: rejected)
    spoof = detect_spoofing(decoded).reports
    intervals = true_intervals(sc, truth)
    effect = np.asarray(truth.column("effect").cast(pa.string()).to_numpy(zero_copy_only=False))
    flag = np.asarray(
        spoof.column("spoofed").fill_null(False).to_numpy(zero_copy_only=False), np.bool_
    )
    spoofed = effect == "spoofed"
    spoofed &= np.asarray(spoof.column("spoofed").is_valid().to_numpy(zero_copy_only=False))
    return {
        "scenario": sc.name,
        "intervals": len(intervals),
        "events": events.num_rows,
        **match(intervals, events, sources),
        "locate_s": locate_s,
        "spoof_tp": int((flag & spoofed).sum()),
        "spoof_flagged": int(flag.sum()),
        "spoof_true": int(spoofed.sum()),
    }


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float | None, float | None]:
    """Wilson's score interval of a share of ``k`` out of ``n``, 95 % with the default ``z``
    (None, None when n is 0)."""
    if n == 0:
        return None, None
    p, zz = k / n, z * z / n
    mid = (p + zz / 2.0) / (1.0 + zz)
    half = z / (1.0 + zz) * math.sqrt(p * (1.0 - p) / n + zz / (4.0 * n))
    return max(0.0, mid - half), min(1.0, mid + half)


def summarize(runs: list[dict[str, Any]]) -> dict[str, float | None]:
    """Pooled measures over runs (None where nothing was measured); the localization error
    of ``region_only`` runs is left out (their coverage counts)."""
    lat = np.array([x for r in runs for x in r["latency_s"]])
    err = np.array([x for r in runs if not r.get("region_only") for x in r["error_km"]])
    ev = sum(r["events"] for r in runs)
    iv = sum(r["intervals"] for r in runs)
    flagged = sum(r["spoof_flagged"] for r in runs)
    true = sum(r["spoof_true"] for r in runs)
    tp = sum(r["spoof_tp"] for r in runs)
    cov = np.array([x for r in runs for x in r.get("covered", [])], np.float64)
    src_cov = [x for r in runs for x in r.get("source_covered", [])]
    src_lo, src_hi = wilson(sum(src_cov), len(src_cov))
    radius = np.array([x for r in runs for x in r.get("radius_km", [])], np.float64)
    took = np.array([x for r in runs for x in r.get("locate_s", [])], np.float64)
    target = [x for r in runs for x in r.get("target_error_km", [])]
    t_err = np.array(
        [x for r in runs if not r.get("region_only") for x in r.get("target_error_km", [])
         if x is not None], np.float64,
    )  # fmt: skip
    t_cov = np.array(
        [x for r in runs for x in r.get("target_covered", []) if x is not None], np.float64
    )

    def q(a: np.ndarray, p: float) -> float | None:
        return float(np.percentile(a, p)) if a.size else None

    return {
        "runs": float(len(runs)),
        "intervals": float(iv),
        "onset_latency_median_s": q(lat, 50),
        "localization_median_km": q(err, 50),
        "localization_p95_km": q(err, 95),
        "radius_95_coverage": float(cov.mean()) if cov.size else None,
        "radius_95_median_km": q(radius, 50),
        "sources_located": float(len(src_cov)),
        "source_coverage": float(np.mean(src_cov)) if src_cov else None,
        "source_coverage_low": src_lo,
        "source_coverage_high": src_hi,
        "unlocated": float(sum(r.get("unlocated", 0) for r in runs)),
        "missed": float(sum(r.get("missed", 0) for r in runs)),
        "extra_sources": float(sum(r.get("extra_sources", 0) for r in runs)),
        "split_intervals": float(sum(r.get("split_intervals", 0) for r in runs)),
        "target_intervals": float(len(target)),
        "target_located": float(sum(x is not None for x in target)),
        "target_median_km": q(t_err, 50),
        "target_p95_km": q(t_err, 95),
        "target_coverage": float(t_cov.mean()) if t_cov.size else None,
        "locate_median_s": q(took, 50),
        "locate_max_s": float(took.max()) if took.size else None,
        "event_precision": sum(r["true_events"] for r in runs) / ev if ev else None,
        "event_recall": sum(r["found"] for r in runs) / iv if iv else None,
        "spoofing_precision": tp / flagged if flagged else None,
        "spoofing_recall": tp / true if true else None,
    }


__all__ = [
    "TARGET_LOST",
    "VARIANTS",
    "VariantConfig",
    "evaluate_run",
    "locate_timed",
    "match",
    "named",
    "score",
    "summarize",
    "true_intervals",
    "variant",
    "wilson",
]
