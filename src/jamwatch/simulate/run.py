"""The simulation itself: trajectories + transmitters + receivers -> raw frames and truth.

:func:`simulate` is a stage function: an Arrow trajectory table in, a RAW_FRAMES table and a
truth table out (one truth row per frame, same order), NumPy inside, deterministic for a seed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from jamwatch.schema import TIME_TYPE
from jamwatch.simulate.avionics import Fleet, draw_traits, new_lock_state
from jamwatch.simulate.encode import callsign_code, frames_table
from jamwatch.simulate.frame import (
    KIND_NAMES,
    KIND_POSITION,
    KIND_VELOCITY,
    encode_row,
    encoder_tables,
)
from jamwatch.simulate.radio import (
    EFFECT_NAMES,
    FSPL_CONST_DB,
    JAMMED,
    ReceiverModel,
    Transmitter,
    Transmitters,
    expose_row,
)
from jamwatch.simulate.schedule import (
    Rates,
    next_slot,
    odd_of,
    prepare_slots,
    state_at,
    track_deg,
)
from jamwatch.simulate.traffic import Receiver, receive_row, receiver_array, reception_draws

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I8 = npt.NDArray[np.int8]
U8 = npt.NDArray[np.uint8]

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
    """Simulate the frames the aircraft of ``trajectories`` send and the receivers hear.

    One compiled pass (:func:`_transmit`) goes through the messages in time order as
    :func:`message_schedule` lists them, applies the transmitters (:func:`expose_row`),
    decides what is sent and heard (:func:`receive_row`), and writes each frame
    (:func:`encode_row`) and its truth row in order of arrival at the receiver.
    """
    rng = np.random.default_rng(seed)
    m = model or ReceiverModel()
    fl = fleet or Fleet()
    slots = prepare_slots(trajectories, rates or Rates(), rng)
    icaos = slots.icao
    n_ac = icaos.shape[0]
    nic_a = np.less(rng.random(n_ac), fl.nic9_fraction).astype(np.int64)
    nic_nom = np.where(nic_a == 1, 9, 8)
    nacp_nom = np.where(rng.random(n_ac) < fl.nacp10_fraction, 10, 9)
    faulty = np.less(rng.random(n_ac), fl.faulty_fraction)
    nic_nom = np.where(faulty, 0, nic_nom)
    nacp_nom = np.where(faulty, 0, nacp_nom)
    stops = np.less(rng.random(n_ac), fl.stop_fraction)
    dalt_ac = np.round(rng.normal(0.0, fl.gnss_baro_sigma_ft, n_ac) / 25.0) * 25.0
    traits = draw_traits(fl, n_ac, seed)
    n = slots.total
    draws = reception_draws(len(receivers), n, rng)
    chars = callsign_code(np.asarray(slots.callsigns, dtype="S8")) if n_ac else np.zeros(0, int)
    frames = np.empty((n, 14), dtype=np.uint8)
    time_ns = np.empty(n, dtype=np.int64)
    out_f = np.empty((6, n), dtype=np.float64)
    out_b = np.empty((5, n), dtype=np.uint8)
    out_i = np.empty((3, n), dtype=np.int32)
    pending, base, slot_t = slots.merge[:3]
    t_first = int(slot_t[base[pending[0]]]) if n else 0
    k = _transmit(
        slots.merge,
        slots.source,
        slots.kind_of,
        Transmitters.of(transmitters, m, t_first).arrays(),
        receiver_array(receivers),
        draws,
        encoder_tables(),
        (icaos.astype(np.int64), chars, nic_a, nic_nom, nacp_nom, stops.astype(np.int64)),
        traits,
        dalt_ac,
        np.array([TRANSPONDER_DBM, 20.0 * math.log10(1090e6), FSPL_CONST_DB, C]),
        frames,
        time_ns,
        out_f,
        out_b,
        out_i,
    )
    del draws, slots
    if k < 0:
        raise ValueError("a simulated value does not fit its DF17 field")
    signal = out_b[4, :k] if receivers else None
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


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _transmit(
    merge: tuple[I64, I64, I64, I8, I64, I64, I64, I64, I64, I64],
    source: tuple[I64, F64, I64, I64, I64, I64],
    kind_of: I8,
    tx: tuple[F64, I64, I64, F64, I64, F64],
    rx: F64,
    draws: F64,
    tables: tuple[I64, I64, I64, I64],
    aircraft: tuple[I64, I64, I64, I64, I64, I64],
    traits: F64,
    dalt_ac: F64,
    link: F64,
    frames: U8,
    time_ns: I64,
    out_f: F64,
    out_b: U8,
    out_i: I32,
) -> int:
    """Every message of the schedule through the transmitters, the fleet and the receivers.

    ``merge``, ``source``, ``kind_of``: the schedule (:class:`Slots`); ``aircraft``: ICAO
    address, identification code, NIC supplement A, nominal NIC and NACp, stops positions
    under loss of lock (1); ``traits``: the avionics of each aircraft
    (:func:`jamwatch.simulate.avionics.draw_traits`); ``link``: transponder power (dBm), the
    1090 MHz term of the path loss, its constant, the speed of light. A frame heard is held
    until no later transmission can arrive before it, then written at the next row:
    ``frames``, arrival ``time_ns``, ``out_f`` (true latitude, longitude, altitude, reported
    latitude, longitude, J/S), ``out_b`` (kind, effect, NIC, NACp, signal byte), ``out_i``
    (aircraft, transmitter, receiver; -1 for none). Returns the number written (-1 if a value
    did not fit its field).
    """
    seg_ac = source[5]
    icao, chars, nic_a, nic_nom, nacp_nom, stops = aircraft
    positions = np.zeros(icao.shape[0], dtype=np.int64)
    lock = new_lock_state(icao.shape[0])
    cap = 64
    # arrival, effect, transmitter, NIC, NACp, receiver, signal, kind, aircraft, odd
    held_i = np.empty((cap, 10), dtype=np.int64)
    # J/S, reported lat, lon, speed, track, true lat, lon, altitude, vertical rate
    held_f = np.empty((cap, 9), dtype=np.float64)
    first = 0
    end = 0
    out = 0
    bad = 0
    n = time_ns.shape[0]  # messages in the schedule
    for r in range(n + 1):
        s = 0
        now = np.iinfo(np.int64).max
        ki = 0
        if r < n:
            s, now, ki = next_slot(merge)
        # write the held frames that no later transmission can arrive before
        while first < end and held_i[first, 0] <= now:
            h = first
            a = held_i[h, 8]
            effect = held_i[h, 1]
            alt = held_f[h, 7]
            bad |= encode_row(
                frames,
                out,
                tables,
                held_i[h, 7],
                icao[a],
                chars[a],
                3,
                4,
                nic_a[a],
                3,
                False,
                held_f[h, 1],
                held_f[h, 2],
                held_i[h, 9],
                alt,
                held_i[h, 3],
                held_i[h, 4],
                held_f[h, 3],
                held_f[h, 4],
                held_f[h, 8],
                np.nan if effect == JAMMED else dalt_ac[a],
                np.rint(alt / 1000.0) * 1000.0,
            )
            time_ns[out] = held_i[h, 0]
            out_f[0, out] = held_f[h, 5]
            out_f[1, out] = held_f[h, 6]
            out_f[2, out] = alt
            out_f[3, out] = held_f[h, 1]
            out_f[4, out] = held_f[h, 2]
            out_f[5, out] = held_f[h, 0]
            out_b[0, out] = held_i[h, 7]
            out_b[1, out] = effect
            out_b[2, out] = held_i[h, 3]
            out_b[3, out] = held_i[h, 4]
            out_b[4, out] = held_i[h, 6]
            out_i[0, out] = a
            out_i[1, out] = held_i[h, 2]
            out_i[2, out] = held_i[h, 5]
            out += 1
            first += 1
        if r == n:
            break
        lat, lon, alt, gs, vr, sin_t, cos_t = state_at(source, s, now)
        kind = kind_of[ki]
        # the track matters only where it is sent: velocity messages
        trk = track_deg(sin_t, cos_t) if kind == KIND_VELOCITY else np.nan
        a = seg_ac[s]
        odd = odd_of(positions, a, kind)
        lat_rad = np.radians(lat)
        cos_lat = np.cos(lat_rad)
        effect, src, js, nic, nacp, rlat, rlon, rgs, rtrk = expose_row(
            tx, now, lat, lon, cos_lat, alt, nic_nom[a], nacp_nom[a], gs, trk, traits, lock, a
        )
        # the NIC the type code can carry with the aircraft's supplement A
        if (nic_a[a] == 0 and (nic == 9 or nic == 3)) or (nic_a[a] == 1 and (nic == 8 or nic == 2)):
            nic -= 1
        if effect == JAMMED and stops[a] != 0 and kind == KIND_POSITION:
            continue  # this aircraft stops sending positions under loss of lock
        who = -1
        dist = 0.0
        sig = 0
        if rx.shape[0] > 0:
            who, dist = receive_row(rx, lat_rad, cos_lat, lon, alt, draws, r)
            if who < 0:
                continue
            d = 1.0 if dist < 1.0 else dist
            power = link[0] - (20.0 * np.log10(d) + link[1] + link[2])
            sig = int(min(max(np.rint((power + 100.0) * 4.0), 1.0), 255.0))
        arrival = now + np.int64(np.rint(dist / link[3] * 1e9))
        # hold it, in order of arrival (after those arriving at the same time)
        if end == cap:
            live = end - first
            if live * 2 > cap:
                cap *= 2
            grown_i = np.empty((cap, 10), dtype=np.int64)
            grown_f = np.empty((cap, 9), dtype=np.float64)
            grown_i[:live] = held_i[first:end]
            grown_f[:live] = held_f[first:end]
            held_i, held_f = grown_i, grown_f
            first, end = 0, live
        p = end
        while p > first and held_i[p - 1, 0] > arrival:
            held_i[p] = held_i[p - 1]
            held_f[p] = held_f[p - 1]
            p -= 1
        held_i[p, 0] = arrival
        held_i[p, 1] = effect
        held_i[p, 2] = src
        held_i[p, 3] = nic
        held_i[p, 4] = nacp
        held_i[p, 5] = who
        held_i[p, 6] = sig
        held_i[p, 7] = kind
        held_i[p, 8] = a
        held_i[p, 9] = odd
        held_f[p, 0] = js
        held_f[p, 1] = rlat
        held_f[p, 2] = rlon
        held_f[p, 3] = rgs
        held_f[p, 4] = rtrk
        held_f[p, 5] = lat
        held_f[p, 6] = lon
        held_f[p, 7] = alt
        held_f[p, 8] = vr
        end += 1
    return out if bad == 0 else -1


def _truth(
    time: pa.Array,
    out_f: F64,
    out_b: npt.NDArray[np.uint8],
    out_i: npt.NDArray[np.int32],
    icaos: npt.NDArray[np.int64],
    transmitters: tuple[Transmitter, ...],
    receivers: tuple[Receiver, ...],
) -> pa.Table:
    """The truth table from the arrays of :func:`_transmit` (shares their memory)."""
    kind = out_b[0].view(np.int8)
    effect = out_b[1].view(np.int8)
    tx_names = pa.array([t.name for t in transmitters] + [None], pa.string())
    rx_names = pa.array([r.name for r in receivers] + [None], pa.string())
    hexes = pa.array(np.char.mod("%06x", icaos).astype(str) if icaos.size else [], pa.string())
    js = out_f[5]

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
            hexes.take(pa.array(out_i[0])),
            pa.DictionaryArray.from_arrays(small(kind, pa.int8()), pa.array(list(KIND_NAMES))),
            floats(out_f[0]),
            floats(out_f[1]),
            floats(out_f[2]),
            floats(out_f[3], kind == KIND_POSITION),
            floats(out_f[4], kind == KIND_POSITION),
            pa.array(effect != 0),
            pa.DictionaryArray.from_arrays(small(effect, pa.int8()), pa.array(list(EFFECT_NAMES))),
            names(tx_names, out_i[1]),
            floats(js, np.isfinite(js)),
            small(out_b[2], pa.uint8()),
            small(out_b[3], pa.uint8()),
            names(rx_names, out_i[2]),
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
