"""Measure the detectors against the simulator's truth on randomized scenario variants.

:func:`variant` moves each transmitter site by up to ``move_km``, scales its power by up to
``power_db`` (a spoofer's only up, by 0 to ``2 power_db``: its reach in the shipped scenario is
marginal), shifts its schedule by up to ``shift_s`` and scales the traffic density of every
route by a factor in ``density``. :func:`evaluate_run` simulates, decodes and detects, then
compares with the truth:

- a *true interval* is an on-interval of a jammer during which it degraded or jammed at least
  two aircraft; it is found when a jamming event overlaps it. Onset latency: the start of the
  first overlapping event minus the switch-on time (left out when that event began more
  than a minute earlier, for another transmitter). Localization error: the distance from the
  transmitter to the nearest source estimated for an overlapping event; that source's
  ``radius_95_km`` *covers* the transmitter when the error is within it (coverage: the share
  of located intervals covered). A found interval whose events have no source at all is
  *unlocated*; a source that is the nearest to no true interval is an *extra* source;
- event precision: events overlapping some true interval over all events; recall: found
  true intervals over all;
- spoofing, report level: flagged position reports that the truth marks spoofed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pyarrow as pa

from jamwatch.api import decode
from jamwatch.detect.events import detect_jamming
from jamwatch.detect.localize import locate_sources
from jamwatch.detect.spoofing import detect_spoofing
from jamwatch.detect.tracks import NS, distance_m
from jamwatch.simulate.radio import destination
from jamwatch.simulate.scenario import Scenario, run_scenario


@dataclass(frozen=True, slots=True)
class VariantConfig:
    """Ranges of the random changes to a scenario."""

    move_km: float = 15.0
    power_db: float = 3.0
    shift_s: float = 120.0
    density: tuple[float, float] = (0.7, 1.3)


def variant(
    sc: Scenario, rng: np.random.Generator, config: VariantConfig | None = None
) -> Scenario:
    """A randomized copy of ``sc`` (one move per site, so co-sited transmitters stay together)."""
    c = config or VariantConfig()
    moves: dict[tuple[float, float], tuple[float, float]] = {}
    txs = []
    for tx in sc.transmitters:
        key = (tx.latitude, tx.longitude)
        if key not in moves:
            lat, lon = destination(
                tx.latitude,
                tx.longitude,
                float(rng.uniform(0, 360)),
                c.move_km * 1000.0 * float(np.sqrt(rng.uniform())),
            )
            moves[key] = (float(lat), float(lon))
        # a spoofer's reach is marginal in the shipped scenario (it captures aircraft at the
        # edge of its range): its power is only raised, so every variant still captures some
        low, high = (0.0, 2 * c.power_db) if tx.spoof is not None else (-c.power_db, c.power_db)
        gain = 10 ** (float(rng.uniform(low, high)) / 10.0)
        shift = int(rng.uniform(-c.shift_s, c.shift_s) * NS)
        lo, hi = sc.start_ns, sc.end_ns
        sched = tuple(
            (min(max(a + shift, lo), hi - NS), min(max(b + shift, lo + NS), hi))
            for a, b in tx.schedule
        )
        txs.append(
            replace(
                tx,
                latitude=moves[key][0],
                longitude=moves[key][1],
                eirp_w=tx.eirp_w * gain,
                schedule=sched,
            )
        )
    routes = tuple(
        replace(r, per_hour=r.per_hour * float(rng.uniform(*c.density))) for r in sc.routes
    )
    return replace(sc, transmitters=tuple(txs), routes=routes)


def evaluate_run(sc: Scenario, seed: int) -> dict[str, Any]:
    """Simulate, decode and detect one scenario; the measures of the module documentation."""
    sim = run_scenario(sc, seed)
    out = score(sc, decode(sim.frames), sim.truth)
    out["seed"] = seed
    return out


def score(sc: Scenario, decoded: pa.Table, truth: pa.Table) -> dict[str, Any]:
    """Detect on ``decoded`` and compare with the simulator's ``truth`` (one row per frame)."""
    events = detect_jamming(decoded)
    sources = locate_sources(decoded, events)
    spoof = detect_spoofing(decoded).reports
    ev_start = np.asarray(events.column("start").cast(pa.int64()).to_numpy(), np.int64)
    ev_end = np.asarray(events.column("end").cast(pa.int64()).to_numpy(), np.int64)
    t = np.asarray(truth.column("time").cast(pa.int64()).to_numpy(), np.int64)
    effect = np.asarray(truth.column("effect").cast(pa.string()).to_numpy(zero_copy_only=False))
    who = np.asarray(truth.column("transmitter").to_numpy(zero_copy_only=False))
    icao = np.asarray(truth.column("icao").to_numpy(zero_copy_only=False))
    hit = (effect == "degraded") | (effect == "jammed")
    intervals = []
    for tx in sc.transmitters:
        if tx.spoof is not None:
            continue
        for on, off in tx.schedule or ((sc.start_ns, sc.end_ns),):
            m = hit & (who == tx.name) & (t >= on) & (t < off)
            if np.unique(icao[m]).shape[0] >= 2:
                intervals.append((tx, on, off))
    latencies, errors = [], []
    found = 0
    used = np.zeros(ev_start.shape[0], np.bool_)
    src_event = np.asarray(sources.column("event").to_numpy(), np.int64)
    src_lat = np.asarray(sources.column("latitude").to_numpy(), np.float64)
    src_lon = np.asarray(sources.column("longitude").to_numpy(), np.float64)
    src_r = np.asarray(sources.column("radius_95_km").to_numpy(), np.float64)
    covered, unlocated = [], 0
    nearest = np.zeros(src_event.shape[0], np.bool_)
    for tx, on, off in intervals:
        over = (ev_start < off) & (ev_end >= on)
        used |= over
        if not over.any():
            continue
        found += 1
        onset = int(ev_start[over].min())
        if onset >= on - 60 * NS:  # not an event already running for another source
            latencies.append((onset - on) / NS)
        near = np.isin(src_event, np.flatnonzero(over))
        if near.any():
            d = distance_m(
                src_lat[near],
                src_lon[near],
                np.full(near.sum(), tx.latitude),
                np.full(near.sum(), tx.longitude),
            )
            j = int(np.argmin(d))
            errors.append(float(d[j]) / 1000.0)
            covered.append(bool(d[j] / 1000.0 <= src_r[near][j]))
            nearest[np.flatnonzero(near)[j]] = True
        else:
            unlocated += 1
    flag = np.asarray(
        spoof.column("spoofed").fill_null(False).to_numpy(zero_copy_only=False), np.bool_
    )
    spoofed = effect == "spoofed"
    spoofed &= np.asarray(spoof.column("spoofed").is_valid().to_numpy(zero_copy_only=False))
    return {
        "scenario": sc.name,
        "intervals": len(intervals),
        "found": found,
        "events": int(ev_start.shape[0]),
        "true_events": int(used.sum()),
        "latency_s": latencies,
        "error_km": errors,
        "covered": covered,
        "unlocated": unlocated,
        "extra_sources": int((~nearest & np.isin(src_event, np.flatnonzero(used))).sum()),
        "spoof_tp": int((flag & spoofed).sum()),
        "spoof_flagged": int(flag.sum()),
        "spoof_true": int(spoofed.sum()),
    }


def summarize(runs: list[dict[str, Any]]) -> dict[str, float | None]:
    """Pooled measures over runs (None where nothing was measured)."""
    lat = np.array([x for r in runs for x in r["latency_s"]])
    err = np.array([x for r in runs for x in r["error_km"]])
    ev = sum(r["events"] for r in runs)
    iv = sum(r["intervals"] for r in runs)
    flagged = sum(r["spoof_flagged"] for r in runs)
    true = sum(r["spoof_true"] for r in runs)
    tp = sum(r["spoof_tp"] for r in runs)
    cov = np.array([x for r in runs for x in r.get("covered", [])], np.float64)

    def q(a: np.ndarray, p: float) -> float | None:
        return float(np.percentile(a, p)) if a.size else None

    return {
        "runs": float(len(runs)),
        "onset_latency_median_s": q(lat, 50),
        "localization_median_km": q(err, 50),
        "localization_p95_km": q(err, 95),
        "radius_95_coverage": float(cov.mean()) if cov.size else None,
        "unlocated": float(sum(r.get("unlocated", 0) for r in runs)),
        "extra_sources": float(sum(r.get("extra_sources", 0) for r in runs)),
        "event_precision": sum(r["true_events"] for r in runs) / ev if ev else None,
        "event_recall": sum(r["found"] for r in runs) / iv if iv else None,
        "spoofing_precision": tp / flagged if flagged else None,
        "spoofing_recall": tp / true if true else None,
    }


__all__ = ["VariantConfig", "evaluate_run", "summarize", "variant"]
