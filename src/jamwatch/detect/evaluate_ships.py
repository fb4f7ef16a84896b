"""The ship detectors measured against the ship simulator's truth, over a family of ship
models (:mod:`jamwatch.simulate.ships`).

:func:`ship_variant` draws one member of the family: what units send under loss of lock
(each unit its own of "not available", the last fix frozen, no position at all), how much
receivers differ, antenna heights and gains, message loss, one to three shore stations, the
share of class B units, and a spoofer that captures the ships near it with circles of any
size and period or one fixed false point (several ships on one point). :func:`evaluate_ship_run`
simulates the Korean West Sea scenario's ships under its jammers and that spoofer, writes
and reads the NMEA, computes the ship signals and episodes, and compares with the truth:

- *spoofing, reports*: position reports inside a ship's spoofing episode, against those the
  truth says were spoofed (precision, recall);
- *spoofing, ships*: ships with an episode against ships with at least 4 spoofed reports;
- *jamming, reports*: messages showing lost positions (not available, frozen, or silent
  while static data continues) against those sent while the unit had lost its fix;
- *jamming, ships*: ships with such a message against ships with a jammed message (a unit
  that sends no position under jamming leaves only its static data in the truth);
- *jamming, events*: ships in a ship jamming event (:mod:`jamwatch.detect.ship_jamming`)
  against the same;
- *loops flagged*: fishing vessels (which really loop) flagged spoofed where they were not
  (must be 0).
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from jamwatch.decoder.ais_files import read_ais
from jamwatch.detect.ship_jamming import join_ship_jamming
from jamwatch.detect.ships import ship_episodes
from jamwatch.geo import destination
from jamwatch.schema import EVENTS
from jamwatch.signals.ships import LOST_SIGNALS, POSITION_TYPES, flags, ship_signals
from jamwatch.simulate.scenario import Scenario
from jamwatch.simulate.ships import WEST_SEA, ShipFamily, ShipSpoofer, simulate_ships

NS = 1_000_000_000
#: fewest spoofed (jammed) messages that make a ship truly spoofed (jammed)
MIN_SPOOFED = 4
MIN_JAMMED = 1


def ship_variant(sc: Scenario, rng: np.random.Generator) -> tuple[ShipFamily, ShipSpoofer]:
    """One member of the ship family, and a spoofer on for the second half of ``sc``."""
    family = ShipFamily(
        response=str(rng.choice(["mixed", "not_available", "frozen", "silent"])),
        tolerance_sd_db=float(rng.uniform(0.0, 6.0)),
        antenna_m=(float(rng.uniform(5.0, 15.0)), float(rng.uniform(20.0, 50.0))),
        antenna_gain_db=float(rng.uniform(-10.0, 0.0)),
        loss=float(rng.uniform(0.0, 0.4)),
        stations=int(rng.integers(1, 4)),
        lanes=tuple(
            dataclasses.replace(lane, class_b_share=float(rng.uniform(0.0, 1.0)))
            if lane.kind == "lane" else lane
            for lane in (sc.ships.lanes if sc.ships is not None else WEST_SEA)
        ),
    )  # fmt: skip
    site_lat, site_lon = 37.62 + rng.uniform(-0.1, 0.1), 125.75 + rng.uniform(-0.15, 0.15)
    c_lat, c_lon = destination(site_lat, site_lon, rng.uniform(0, 360), rng.uniform(5e3, 40e3))
    half = sc.start_ns + int(sc.duration_s * NS) // 2
    spoofer = ShipSpoofer(
        float(site_lat), float(site_lon), float(rng.uniform(15.0, 40.0)), float(c_lat),
        float(c_lon), str(rng.choice(["circle", "point"])), float(rng.uniform(300.0, 8000.0)),
        float(rng.uniform(120.0, 1800.0)), ((half, sc.start_ns + int(sc.duration_s * NS)),),
    )  # fmt: skip
    return family, spoofer


def _pr(flag: np.ndarray, true: np.ndarray) -> tuple[int, int, int]:
    return int((flag & true).sum()), int(flag.sum()), int(true.sum())


def evaluate_ship_run(
    sc: Scenario, family: ShipFamily, spoofer: ShipSpoofer, seed: int
) -> dict[str, Any]:  # fmt: skip
    """Simulate, write, read and detect the ships of ``sc`` once; the counts behind the
    measures of the module documentation."""
    lines, truth = simulate_ships(
        sc.start_ns, sc.duration_s, sc.transmitters, (spoofer,), family, sc.model, seed
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ships.nmea"
        path.write_text("\n".join(lines) + "\n", encoding="ascii")
        decoded, _, _, errors = read_ais([path])
    if errors or decoded.num_rows != truth.num_rows:
        raise ValueError(f"the simulated NMEA did not read back whole: {errors}")
    signals = ship_signals(decoded)
    episodes = ship_episodes(signals)
    effect = np.asarray(truth.column("effect").to_pylist())
    mmsi = np.asarray(truth.column("mmsi").to_numpy())
    kind = np.asarray(truth.column("msg_type").to_numpy())
    t = np.asarray(signals.column("time").cast(pa.int64()).to_numpy())
    in_episode = np.zeros(t.shape, np.bool_)
    for ep in episodes.to_pylist():
        a, b = int(ep["start"].timestamp() * NS) - 1, int(ep["end"].timestamp() * NS) + 1
        in_episode |= (mmsi == ep["mmsi"]) & (t >= a) & (t <= b)
    position = np.isin(kind, POSITION_TYPES)
    spoofed = effect == "spoofed"
    jammed = effect == "jammed"
    lost = flags(signals, LOST_SIGNALS)
    true_spoofed = {
        m for m in np.unique(mmsi[spoofed]) if (mmsi[spoofed] == m).sum() >= MIN_SPOOFED
    }
    true_jammed = {m for m in np.unique(mmsi[jammed]) if (mmsi[jammed] == m).sum() >= MIN_JAMMED}
    found = set(episodes.column("mmsi").to_pylist())
    jams = join_ship_jamming(EVENTS.empty_table(), signals)
    in_events = {m for ships in jams.column("vessels").to_pylist() for m in ships or []}
    flagged = np.asarray(signals.column("spoofed").to_pylist(), np.bool_)
    loopers = set(mmsi[np.asarray(truth.column("lane_kind").to_pylist()) == "fishing"].tolist())
    return {
        "seed": seed,
        "response": family.response,
        "mode": spoofer.mode,
        "spoof_reports": _pr(in_episode & position, spoofed & position),
        "spoof_ships": (len(found & true_spoofed), len(found), len(true_spoofed)),
        "jam_reports": _pr(lost, jammed),
        "jam_ships": (
            len(true_jammed & set(mmsi[lost].tolist())),
            len(set(mmsi[lost].tolist())),
            len(true_jammed),
        ),
        "jam_event_ships": (len(true_jammed & in_events), len(in_events), len(true_jammed)),
        "loops_flagged": len(loopers & set(mmsi[flagged & ~spoofed].tolist())),
    }


def summarize_ships(runs: list[dict[str, Any]]) -> dict[str, float | None]:
    """Precision and recall pooled over runs (None where nothing was measured)."""
    out: dict[str, float | None] = {}
    for key in ("spoof_reports", "spoof_ships", "jam_reports", "jam_ships", "jam_event_ships"):
        tp = sum(r[key][0] for r in runs)
        flagged = sum(r[key][1] for r in runs)
        true = sum(r[key][2] for r in runs)
        out[f"{key}_precision"] = tp / flagged if flagged else None
        out[f"{key}_recall"] = tp / true if true else None
    out["loops_flagged"] = float(sum(r["loops_flagged"] for r in runs))
    return out


__all__ = ["evaluate_ship_run", "ship_variant", "summarize_ships"]
