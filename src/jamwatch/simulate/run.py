"""The simulation itself: trajectories + transmitters + receivers -> raw frames and truth.

:func:`simulate` is a stage function: an Arrow trajectory table in, a RAW_FRAMES table and a
truth table out (one truth row per frame, same order), NumPy inside, deterministic for a seed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from jamwatch.schema import TIME_TYPE
from jamwatch.simulate.avionics import Fleet, draw_traits
from jamwatch.simulate.encode import callsign_code, frames_table
from jamwatch.simulate.frame import KIND_NAMES, KIND_POSITION, encoder_tables
from jamwatch.simulate.radio import EFFECT_NAMES, ReceiverModel, Transmitter, Transmitters
from jamwatch.simulate.schedule import Rates, prepare_slots
from jamwatch.simulate.traffic import Receiver, receiver_array, reception_draws
from jamwatch.simulate.transmit import (
    B_EFFECT,
    B_KIND,
    B_NACP,
    B_NIC,
    B_SIGNAL,
    F_JS_DB,
    F_LAT,
    F_LON,
    F_TRUE_ALT_FT,
    F_TRUE_LAT,
    F_TRUE_LON,
    I_AIRCRAFT,
    I_RECEIVER,
    I_TRANSMITTER,
    N_B,
    N_F,
    N_I,
    link_vector,
    transmit,
)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I8 = npt.NDArray[np.int8]
U8 = npt.NDArray[np.uint8]

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
    "effect": "none, degraded (integrity lowered: J/S in the band below the aircraft's loss "
    "of lock; a one_step receiver reports none there), jammed (loss of lock, or not yet "
    "recovered from it), spoofed (captured by a spoofer)",
    "transmitter": "name of the transmitter causing the effect (null when none)",
    "js_db": "total jamming-to-signal ratio at the aircraft's receiver (after its antenna and "
    "any fuselage shielding), dB (null when no jammer is heard)",
    "nic": "NIC the frame's aircraft reports at that moment",
    "nacp": "NACp the frame's aircraft reports at that moment",
    "receiver": "receiver that heard the frame (nearest of those that did; null: ideal)",
}


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
    for name in ("on", "off"):
        i = schema.get_field_index(name)
        table = table.set_column(i, name, table.column(name).cast(TIME_TYPE))
    return table


def _fleet_draws(fl: Fleet, n_ac: int, rng: np.random.Generator) -> tuple[I64, I64, I64, I64, F64]:
    """The aircraft's integrity and behaviour, drawn from ``rng`` one property after another.

    Returns, per aircraft: NIC supplement A (1: NIC 9 rather than 8), the nominal NIC and
    NACp (10 rather than 9; both 0 for faulty avionics), whether it stops sending positions
    under loss of lock (1) and its GNSS minus barometric altitude (25 ft steps).
    """
    nic_a = np.less(rng.random(n_ac), fl.nic9_fraction).astype(np.int64)
    nic_nom = np.where(nic_a == 1, 9, 8)
    nacp_nom = np.where(rng.random(n_ac) < fl.nacp10_fraction, 10, 9)
    faulty = np.less(rng.random(n_ac), fl.faulty_fraction)
    nic_nom = np.where(faulty, 0, nic_nom)
    nacp_nom = np.where(faulty, 0, nacp_nom)
    stops = np.less(rng.random(n_ac), fl.stop_fraction).astype(np.int64)
    dalt_ac = np.round(rng.normal(0.0, fl.gnss_baro_sigma_ft, n_ac) / 25.0) * 25.0
    return nic_a, nic_nom, nacp_nom, stops, dalt_ac


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
    """Simulate the frames the aircraft of ``trajectories`` send and the receivers hear.

    One compiled pass (:func:`jamwatch.simulate.transmit.transmit`) goes through the messages
    in time order as :func:`message_schedule` lists them, applies the transmitters
    (:func:`expose_row`), decides what is sent and heard (:func:`receive_row`), and writes
    each frame (:func:`encode_row`) and its truth row in order of arrival at the receiver.
    """
    rng = np.random.default_rng(seed)
    m = model or ReceiverModel()
    fl = fleet or Fleet()
    slots = prepare_slots(trajectories, rates or Rates(), rng)
    icaos = slots.icao
    n_ac = icaos.shape[0]
    nic_a, nic_nom, nacp_nom, stops, dalt_ac = _fleet_draws(fl, n_ac, rng)
    traits = draw_traits(fl, n_ac, seed)
    n = slots.total
    draws = reception_draws(len(receivers), n, rng)
    chars = callsign_code(np.asarray(slots.callsigns, dtype="S8")) if n_ac else np.zeros(0, int)
    frames = np.empty((n, 14), dtype=np.uint8)
    time_ns = np.empty(n, dtype=np.int64)
    out_f = np.empty((N_F, n), dtype=np.float64)
    out_b = np.empty((N_B, n), dtype=np.uint8)
    out_i = np.empty((N_I, n), dtype=np.int32)
    pending, base, slot_t = slots.merge[:3]
    t_first = int(slot_t[base[pending[0]]]) if n else 0
    k = transmit(
        slots.merge,
        slots.source,
        slots.kind_of,
        Transmitters.of(transmitters, m, t_first).arrays(),
        receiver_array(receivers),
        draws,
        encoder_tables(),
        (icaos.astype(np.int64), chars, nic_a, nic_nom, nacp_nom, stops),
        traits,
        dalt_ac,
        link_vector(),
        frames,
        time_ns,
        out_f,
        out_b,
        out_i,
    )
    del draws, slots
    if k < 0:
        raise ValueError("a simulated value does not fit its DF17 field")
    signal = out_b[B_SIGNAL, :k] if receivers else None
    table = frames_table(frames[:k], time_ns[:k], signal)
    truth = _truth(
        table.column("time").chunk(0),
        out_f[:, :k],
        out_b[:, :k],
        out_i[:, :k],
        icaos,
        transmitters,
        receivers,
    )
    return Simulation(table, truth, transmitters_table(transmitters))


def _truth(
    time: pa.Array,
    out_f: F64,
    out_b: npt.NDArray[np.uint8],
    out_i: npt.NDArray[np.int32],
    icaos: npt.NDArray[np.int64],
    transmitters: tuple[Transmitter, ...],
    receivers: tuple[Receiver, ...],
) -> pa.Table:
    """The truth table from the arrays of :func:`transmit` (shares their memory)."""
    kind = out_b[B_KIND].view(np.int8)
    effect = out_b[B_EFFECT].view(np.int8)
    tx_names = pa.array([t.name for t in transmitters] + [None], pa.string())
    rx_names = pa.array([r.name for r in receivers] + [None], pa.string())
    hexes = pa.array(np.char.mod("%06x", icaos).astype(str) if icaos.size else [], pa.string())
    js = out_f[F_JS_DB]

    def floats(values: F64, valid: npt.NDArray[np.bool_] | None = None) -> pa.Array:
        bitmap = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
        nulls = -1 if valid is None else int(values.shape[0] - np.count_nonzero(valid))
        return pa.Array.from_buffers(
            pa.float64(), values.shape[0], [bitmap, pa.py_buffer(values)], null_count=nulls
        )

    def names(table: pa.Array, index: npt.NDArray[np.int32]) -> pa.Array:
        return table.take(pa.array(np.where(index < 0, len(table) - 1, index)))

    def small(values: npt.NDArray[Any], dtype: pa.DataType) -> pa.Array:
        return pa.Array.from_buffers(dtype, values.shape[0], [None, pa.py_buffer(values)])

    return pa.table(
        [
            time,
            hexes.take(pa.array(out_i[I_AIRCRAFT])),
            pa.DictionaryArray.from_arrays(small(kind, pa.int8()), pa.array(list(KIND_NAMES))),
            floats(out_f[F_TRUE_LAT]),
            floats(out_f[F_TRUE_LON]),
            floats(out_f[F_TRUE_ALT_FT]),
            floats(out_f[F_LAT], kind == KIND_POSITION),
            floats(out_f[F_LON], kind == KIND_POSITION),
            pa.array(effect != 0),
            pa.DictionaryArray.from_arrays(small(effect, pa.int8()), pa.array(list(EFFECT_NAMES))),
            names(tx_names, out_i[I_TRANSMITTER]),
            floats(js, np.isfinite(js)),
            small(out_b[B_NIC], pa.uint8()),
            small(out_b[B_NACP], pa.uint8()),
            names(rx_names, out_i[I_RECEIVER]),
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
