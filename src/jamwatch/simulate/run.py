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

#: slots of the 1090 MHz link vector of :func:`_transmit`
LINK_TX_DBM = 0  # transponder peak power, dBm
LINK_FREQ_DB = 1  # frequency term of the path loss, 20 log10(1090 MHz), dB
LINK_FSPL_CONST_DB = 2  # constant term of the path loss, dB
LINK_C = 3  # speed of light, m/s
N_LINK = 4

# rows of the per-frame outputs of ``_transmit`` (one column per frame written)
_F_TRUE_LAT = 0  # out_f: true latitude, degrees
_F_TRUE_LON = 1  # out_f: true longitude, degrees
_F_TRUE_ALT_FT = 2  # out_f: true altitude, ft
_F_LAT = 3  # out_f: reported latitude, degrees
_F_LON = 4  # out_f: reported longitude, degrees
_F_JS_DB = 5  # out_f: total J/S, dB
_N_F = 6
_B_KIND = 0  # out_b: message kind (KIND_*)
_B_EFFECT = 1  # out_b: effect (NOMINAL, DEGRADED, JAMMED, SPOOFED)
_B_NIC = 2  # out_b: reported NIC
_B_NACP = 3  # out_b: reported NACp
_B_SIGNAL = 4  # out_b: signal byte at the receiver
_N_B = 5
_I_AIRCRAFT = 0  # out_i: aircraft index
_I_TRANSMITTER = 1  # out_i: transmitter causing the effect (-1 none)
_I_RECEIVER = 2  # out_i: receiver that heard the frame (-1 none)
_N_I = 3

# columns of the frames ``_transmit`` holds until no earlier arrival can come
_HI_ARRIVAL = 0  # arrival time at the receiver, UTC ns
_HI_EFFECT = 1  # effect (NOMINAL, DEGRADED, JAMMED, SPOOFED)
_HI_TRANSMITTER = 2  # transmitter causing the effect (-1 none)
_HI_NIC = 3  # reported NIC
_HI_NACP = 4  # reported NACp
_HI_RECEIVER = 5  # receiver that heard the frame (-1 none)
_HI_SIGNAL = 6  # signal byte at the receiver
_HI_KIND = 7  # message kind (KIND_*)
_HI_AIRCRAFT = 8  # aircraft index
_HI_ODD = 9  # CPR format of a position message
_N_HI = 10
_HF_JS_DB = 0  # total J/S, dB
_HF_LAT = 1  # reported latitude, degrees
_HF_LON = 2  # reported longitude, degrees
_HF_GS_KT = 3  # reported ground speed, kt
_HF_TRK_DEG = 4  # reported track, degrees
_HF_TRUE_LAT = 5  # true latitude, degrees
_HF_TRUE_LON = 6  # true longitude, degrees
_HF_ALT_FT = 7  # true altitude (the one sent too), ft
_HF_VRATE_FPM = 8  # vertical rate, ft/min
_N_HF = 9

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
    out_f = np.empty((_N_F, n), dtype=np.float64)
    out_b = np.empty((_N_B, n), dtype=np.uint8)
    out_i = np.empty((_N_I, n), dtype=np.int32)
    link = np.empty(N_LINK)
    link[LINK_TX_DBM] = TRANSPONDER_DBM
    link[LINK_FREQ_DB] = 20.0 * math.log10(1090e6)
    link[LINK_FSPL_CONST_DB] = FSPL_CONST_DB
    link[LINK_C] = C
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
        link,
        frames,
        time_ns,
        out_f,
        out_b,
        out_i,
    )
    del draws, slots
    if k < 0:
        raise ValueError("a simulated value does not fit its DF17 field")
    signal = out_b[_B_SIGNAL, :k] if receivers else None
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
    (:func:`jamwatch.simulate.avionics.draw_traits`); ``link``: slots ``LINK_*``. A frame
    heard is held (columns ``_HI_*``, ``_HF_*``) until no later transmission can arrive before
    it, then written at the next row: ``frames``, arrival ``time_ns``, ``out_f`` (rows
    ``_F_*``), ``out_b`` (rows ``_B_*``), ``out_i`` (rows ``_I_*``; -1 for none). Returns the
    number written (-1 if a value did not fit its field).
    """
    _, _, _, _, _, seg_ac = source
    icao, chars, nic_a, nic_nom, nacp_nom, stops = aircraft
    positions = np.zeros(icao.shape[0], dtype=np.int64)
    lock = new_lock_state(icao.shape[0])
    cap = 64
    held_i = np.empty((cap, _N_HI), dtype=np.int64)
    held_f = np.empty((cap, _N_HF), dtype=np.float64)
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
        while first < end and held_i[first, _HI_ARRIVAL] <= now:
            h = first
            a = held_i[h, _HI_AIRCRAFT]
            effect = held_i[h, _HI_EFFECT]
            alt = held_f[h, _HF_ALT_FT]
            bad |= encode_row(
                frames,
                out,
                tables,
                held_i[h, _HI_KIND],
                icao[a],
                chars[a],
                3,
                4,
                nic_a[a],
                3,
                False,
                held_f[h, _HF_LAT],
                held_f[h, _HF_LON],
                held_i[h, _HI_ODD],
                alt,
                held_i[h, _HI_NIC],
                held_i[h, _HI_NACP],
                held_f[h, _HF_GS_KT],
                held_f[h, _HF_TRK_DEG],
                held_f[h, _HF_VRATE_FPM],
                np.nan if effect == JAMMED else dalt_ac[a],
                np.rint(alt / 1000.0) * 1000.0,
            )
            time_ns[out] = held_i[h, _HI_ARRIVAL]
            out_f[_F_TRUE_LAT, out] = held_f[h, _HF_TRUE_LAT]
            out_f[_F_TRUE_LON, out] = held_f[h, _HF_TRUE_LON]
            out_f[_F_TRUE_ALT_FT, out] = alt
            out_f[_F_LAT, out] = held_f[h, _HF_LAT]
            out_f[_F_LON, out] = held_f[h, _HF_LON]
            out_f[_F_JS_DB, out] = held_f[h, _HF_JS_DB]
            out_b[_B_KIND, out] = held_i[h, _HI_KIND]
            out_b[_B_EFFECT, out] = effect
            out_b[_B_NIC, out] = held_i[h, _HI_NIC]
            out_b[_B_NACP, out] = held_i[h, _HI_NACP]
            out_b[_B_SIGNAL, out] = held_i[h, _HI_SIGNAL]
            out_i[_I_AIRCRAFT, out] = a
            out_i[_I_TRANSMITTER, out] = held_i[h, _HI_TRANSMITTER]
            out_i[_I_RECEIVER, out] = held_i[h, _HI_RECEIVER]
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
            power = link[LINK_TX_DBM] - (
                20.0 * np.log10(d) + link[LINK_FREQ_DB] + link[LINK_FSPL_CONST_DB]
            )
            sig = int(min(max(np.rint((power + 100.0) * 4.0), 1.0), 255.0))
        arrival = now + np.int64(np.rint(dist / link[LINK_C] * 1e9))
        # hold it, in order of arrival (after those arriving at the same time)
        if end == cap:
            live = end - first
            if live * 2 > cap:
                cap *= 2
            grown_i = np.empty((cap, _N_HI), dtype=np.int64)
            grown_f = np.empty((cap, _N_HF), dtype=np.float64)
            grown_i[:live] = held_i[first:end]
            grown_f[:live] = held_f[first:end]
            held_i, held_f = grown_i, grown_f
            first, end = 0, live
        p = end
        while p > first and held_i[p - 1, _HI_ARRIVAL] > arrival:
            held_i[p] = held_i[p - 1]
            held_f[p] = held_f[p - 1]
            p -= 1
        held_i[p, _HI_ARRIVAL] = arrival
        held_i[p, _HI_EFFECT] = effect
        held_i[p, _HI_TRANSMITTER] = src
        held_i[p, _HI_NIC] = nic
        held_i[p, _HI_NACP] = nacp
        held_i[p, _HI_RECEIVER] = who
        held_i[p, _HI_SIGNAL] = sig
        held_i[p, _HI_KIND] = kind
        held_i[p, _HI_AIRCRAFT] = a
        held_i[p, _HI_ODD] = odd
        held_f[p, _HF_JS_DB] = js
        held_f[p, _HF_LAT] = rlat
        held_f[p, _HF_LON] = rlon
        held_f[p, _HF_GS_KT] = rgs
        held_f[p, _HF_TRK_DEG] = rtrk
        held_f[p, _HF_TRUE_LAT] = lat
        held_f[p, _HF_TRUE_LON] = lon
        held_f[p, _HF_ALT_FT] = alt
        held_f[p, _HF_VRATE_FPM] = vr
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
    kind = out_b[_B_KIND].view(np.int8)
    effect = out_b[_B_EFFECT].view(np.int8)
    tx_names = pa.array([t.name for t in transmitters] + [None], pa.string())
    rx_names = pa.array([r.name for r in receivers] + [None], pa.string())
    hexes = pa.array(np.char.mod("%06x", icaos).astype(str) if icaos.size else [], pa.string())
    js = out_f[_F_JS_DB]

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
            hexes.take(pa.array(out_i[_I_AIRCRAFT])),
            pa.DictionaryArray.from_arrays(small(kind, pa.int8()), pa.array(list(KIND_NAMES))),
            floats(out_f[_F_TRUE_LAT]),
            floats(out_f[_F_TRUE_LON]),
            floats(out_f[_F_TRUE_ALT_FT]),
            floats(out_f[_F_LAT], kind == KIND_POSITION),
            floats(out_f[_F_LON], kind == KIND_POSITION),
            pa.array(effect != 0),
            pa.DictionaryArray.from_arrays(small(effect, pa.int8()), pa.array(list(EFFECT_NAMES))),
            names(tx_names, out_i[_I_TRANSMITTER]),
            floats(js, np.isfinite(js)),
            small(out_b[_B_NIC], pa.uint8()),
            small(out_b[_B_NACP], pa.uint8()),
            names(rx_names, out_i[_I_RECEIVER]),
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
