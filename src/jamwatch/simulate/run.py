"""The simulation itself: trajectories + transmitters + receivers -> raw frames and truth.

:func:`simulate` is a stage function: an Arrow trajectory table in, a RAW_FRAMES table and a
truth table out (one truth row per frame, same order), NumPy inside, deterministic for a seed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from jamwatch.schema import TIME_TYPE
from jamwatch.simulate.encode import (
    KIND_NAMES,
    KIND_POSITION,
    encode_matrix,
    frames_table,
    reachable_nic,
)
from jamwatch.simulate.radio import (
    EFFECT_NAMES,
    JAMMED,
    Exposure,
    ReceiverModel,
    Transmitter,
    expose,
    fspl_db,
)
from jamwatch.simulate.traffic import Rates, Receiver, Schedule, message_schedule, receive

C = 299_792_458.0
TRANSPONDER_DBM = 54.0  # 250 W, a typical 1090 MHz transponder peak power

TRUTH = pa.schema(
    [
        pa.field("time", TIME_TYPE),
        pa.field("icao", pa.string()),
        pa.field("message", pa.dictionary(pa.int8(), pa.string())),
        pa.field("true_latitude", pa.float64()),
        pa.field("true_longitude", pa.float64()),
        pa.field("true_altitude_ft", pa.float64()),
        pa.field("reported_latitude", pa.float64()),
        pa.field("reported_longitude", pa.float64()),
        pa.field("affected", pa.bool_()),
        pa.field("effect", pa.dictionary(pa.int8(), pa.string())),
        pa.field("transmitter", pa.string()),
        pa.field("js_db", pa.float64()),
        pa.field("nic", pa.uint8()),
        pa.field("nacp", pa.uint8()),
        pa.field("receiver", pa.string()),
    ]
)
TRUTH_DOC = {
    "time": "receive time of the frame (UTC), as in the raw-frame output",
    "message": "identification, position, velocity, target_state or operational_status",
    "true_latitude": "the aircraft's true position at transmission (degrees)",
    "reported_latitude": "the position encoded in the frame (position messages; else null)",
    "affected": "whether a transmitter changed what the aircraft reports",
    "effect": "none, degraded (J/S in the band below loss of lock), jammed (loss of lock), "
    "spoofed (captured by a spoofer)",
    "transmitter": "name of the transmitter causing the effect (null when none)",
    "js_db": "total jamming-to-signal ratio at the aircraft, dB (null when no jammer is heard)",
    "nic": "NIC the frame's aircraft reports at that moment",
    "nacp": "NACp the frame's aircraft reports at that moment",
    "receiver": "receiver that heard the frame (nearest of those that did; null: ideal)",
}


@dataclass(frozen=True, slots=True)
class Fleet:
    """Per-aircraft avionics traits, drawn at random for each aircraft.

    ``nic9_fraction``: share of aircraft with NIC supplement A = 1 reporting NIC 9 (others
    NIC 8). ``nacp10_fraction``: share with NACp 10 (others 9). ``faulty_fraction``: aircraft
    that always report NIC 0 / NACp 0 (faulty avionics, not interference).
    ``stop_fraction``: share that stop sending positions under loss of lock (the others send
    them with NIC 0 / NACp 0, from an inertial or hybrid solution).
    """

    nic9_fraction: float = 0.2
    nacp10_fraction: float = 0.5
    faulty_fraction: float = 0.01
    stop_fraction: float = 0.5
    gnss_baro_sigma_ft: float = 150.0


@dataclass(frozen=True, slots=True)
class Simulation:
    """Frames, per-frame truth and the transmitter table of one run."""

    frames: pa.Table
    truth: pa.Table
    transmitters: pa.Table


def transmitters_table(transmitters: tuple[Transmitter, ...]) -> pa.Table:
    """One row per transmitter and on-interval (null times: always on)."""
    rows = []
    for tx in transmitters:
        spans: tuple[tuple[int | None, int | None], ...] = tx.schedule or ((None, None),)
        for on, off in spans:
            rows.append(
                {
                    "name": tx.name,
                    "kind": "jammer" if tx.spoof is None else "spoofer",
                    "latitude": tx.latitude,
                    "longitude": tx.longitude,
                    "height_m": tx.height_m,
                    "ground_m": tx.ground_m,
                    "eirp_w": tx.eirp_w,
                    "on": on,
                    "off": off,
                }
            )
    schema = pa.schema(
        [
            ("name", pa.string()),
            ("kind", pa.string()),
            ("latitude", pa.float64()),
            ("longitude", pa.float64()),
            ("height_m", pa.float64()),
            ("ground_m", pa.float64()),
            ("eirp_w", pa.float64()),
            ("on", pa.int64()),
            ("off", pa.int64()),
        ]
    )
    table = pa.Table.from_pylist(rows, schema=schema)
    return table.set_column(7, "on", table.column("on").cast(TIME_TYPE)).set_column(
        8, "off", table.column("off").cast(TIME_TYPE)
    )


def simulate(
    trajectories: pa.Table,
    transmitters: tuple[Transmitter, ...] = (),
    receivers: tuple[Receiver, ...] = (),
    *,
    seed: int = 0,
    model: ReceiverModel | None = None,
    rates: Rates | None = None,
    fleet: Fleet | None = None,
) -> Simulation:
    """Simulate the frames the aircraft of ``trajectories`` send and the receivers hear."""
    rng = np.random.default_rng(seed)
    m = model or ReceiverModel()
    fl = fleet or Fleet()
    sched, icaos, callsigns = message_schedule(trajectories, rates or Rates(), rng)
    n_ac = icaos.shape[0]
    nic_a = np.less(rng.random(n_ac), fl.nic9_fraction).astype(np.int64)
    nic_nom = np.where(nic_a == 1, 9, 8)
    nacp_nom = np.where(rng.random(n_ac) < fl.nacp10_fraction, 10, 9)
    faulty = np.less(rng.random(n_ac), fl.faulty_fraction)
    nic_nom = np.where(faulty, 0, nic_nom)
    nacp_nom = np.where(faulty, 0, nacp_nom)
    stops = np.less(rng.random(n_ac), fl.stop_fraction)
    dalt_ac = np.round(rng.normal(0.0, fl.gnss_baro_sigma_ft, n_ac) / 25.0) * 25.0
    ac = sched.aircraft
    ex = expose(
        transmitters,
        sched.time_ns,
        sched.latitude,
        sched.longitude,
        sched.altitude_ft,
        nic_nom[ac],
        nacp_nom[ac],
        sched.groundspeed_kt,
        sched.track_deg,
        m,
    )
    ex = replace(ex, nic=reachable_nic(ex.nic, nic_a[ac]))
    sent = ~((ex.effect == JAMMED) & stops[ac] & (sched.kind == KIND_POSITION))
    heard, who, dist = receive(receivers, sched.latitude, sched.longitude, sched.altitude_ft, rng)
    keep = np.flatnonzero(sent & heard)

    kind = sched.kind[keep]
    a = ac[keep]
    dalt = np.where(ex.effect[keep] == JAMMED, np.nan, dalt_ac[a])
    cs = np.asarray(callsigns, dtype="S8") if callsigns else np.zeros(0, "S8")
    mat = encode_matrix(
        kind,
        icaos[a],
        latitude=ex.latitude[keep],
        longitude=ex.longitude[keep],
        odd=sched.odd[keep],
        altitude_ft=sched.altitude_ft[keep],
        nic=ex.nic[keep],
        nic_a=nic_a[a],
        nacp=ex.nacp[keep],
        sil=3,
        groundspeed_kt=ex.groundspeed_kt[keep],
        track_deg=ex.track_deg[keep],
        vertical_rate_fpm=sched.vertical_rate_fpm[keep],
        gnss_baro_diff_ft=dalt,
        selected_altitude_ft=np.round(sched.altitude_ft[keep] / 1000.0) * 1000.0,
        callsign=cs[a] if cs.size else "",
        category=3,
    )
    d = dist[keep]
    time_ns = sched.time_ns[keep] + np.round(np.nan_to_num(d) / C * 1e9).astype(np.int64)
    signal = None
    if receivers:
        power = TRANSPONDER_DBM - fspl_db(np.nan_to_num(d, nan=1.0), 1090e6)
        signal = np.clip(np.round((power + 100.0) * 4.0), 1, 255).astype(np.uint8)
    order = np.argsort(time_ns, kind="stable")
    frames = frames_table(mat[order], time_ns[order], None if signal is None else signal[order])
    truth = _truth(
        sched, ex, keep[order], time_ns[order], who[keep][order], icaos, transmitters, receivers
    )
    return Simulation(frames, truth, transmitters_table(transmitters))


def _truth(
    sched: Schedule,
    ex: Exposure,
    rows: npt.NDArray[np.int64],
    time_ns: npt.NDArray[np.int64],
    who: npt.NDArray[np.int64],
    icaos: npt.NDArray[np.int64],
    transmitters: tuple[Transmitter, ...],
    receivers: tuple[Receiver, ...],
) -> pa.Table:
    kind = sched.kind[rows]
    is_pos = kind == KIND_POSITION
    effect = ex.effect[rows]
    src = ex.source[rows]
    tx_names = pa.array([t.name for t in transmitters] + [None], pa.string())
    rx_names = pa.array([r.name for r in receivers] + [None], pa.string())
    hexes = np.char.mod("%06x", icaos)
    js = ex.js_db[rows]

    def opt(values: npt.NDArray[np.float64], mask: npt.NDArray[np.bool_]) -> pa.Array:
        return pa.array(values, pa.float64(), mask=mask)

    return pa.table(
        [
            pa.array(time_ns, pa.int64()).cast(TIME_TYPE),
            pa.array(hexes[sched.aircraft[rows]].astype(str), pa.string()),
            pa.DictionaryArray.from_arrays(
                pa.array(kind.astype(np.int8)), pa.array(list(KIND_NAMES))
            ),
            pa.array(sched.latitude[rows]),
            pa.array(sched.longitude[rows]),
            pa.array(sched.altitude_ft[rows]),
            opt(ex.latitude[rows], ~is_pos),
            opt(ex.longitude[rows], ~is_pos),
            pa.array(effect != 0),
            pa.DictionaryArray.from_arrays(
                pa.array(effect.astype(np.int8)), pa.array(list(EFFECT_NAMES))
            ),
            tx_names.take(pa.array(np.where(src < 0, len(transmitters), src))),
            opt(js, ~np.isfinite(js)),
            pa.array(ex.nic[rows].astype(np.uint8)),
            pa.array(ex.nacp[rows].astype(np.uint8)),
            rx_names.take(pa.array(np.where(who < 0, len(receivers), who))),
        ],
        schema=TRUTH,
    )


def truth_with_transmitters(sim: Simulation) -> pa.Table:
    """The truth table with the transmitter table stored in its schema metadata (JSON)."""
    tx = sim.transmitters.cast(
        pa.schema(
            [
                f.with_type(pa.int64()) if f.name in ("on", "off") else f
                for f in sim.transmitters.schema
            ]
        )
    ).to_pylist()
    meta = {
        b"jamwatch.transmitters": json.dumps(tx).encode(),
        b"jamwatch.columns": json.dumps(TRUTH_DOC).encode(),
    }
    return sim.truth.replace_schema_metadata(meta)


def read_transmitters(truth: pa.Table) -> pa.Table:
    """The transmitter table stored in a truth table's metadata (times as UTC timestamps)."""
    meta = truth.schema.metadata or {}
    raw = meta.get(b"jamwatch.transmitters")
    if raw is None:
        raise ValueError("this table carries no jamwatch transmitter metadata")
    rows = json.loads(raw)
    table = pa.Table.from_pylist(rows)
    for name in ("on", "off"):
        if name in table.column_names:
            i = table.column_names.index(name)
            table = table.set_column(i, name, table.column(name).cast(pa.int64()).cast(TIME_TYPE))
    return table


__all__ = [
    "TRUTH",
    "TRUTH_DOC",
    "Fleet",
    "Simulation",
    "read_transmitters",
    "simulate",
    "transmitters_table",
    "truth_with_transmitters",
]
