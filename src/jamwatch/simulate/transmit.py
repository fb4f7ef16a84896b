"""The simulation's compiled pass: every message of the schedule, in time order, to frames.

:func:`transmit` takes the next message of the schedule's merge, interpolates its aircraft's
state and applies the transmitters (:func:`_expose`), draws the receiver that hears it and
the arrival, holds it until no later transmission can arrive before it (:func:`_insert`,
:func:`_compact`), then encodes the frame and writes its truth (:func:`_write`), in order of
arrival. :func:`jamwatch.simulate.run.simulate` prepares its inputs and reads its outputs.

The steps are inlined into the loop (Numba's ``inline="always"``, or LLVM's ``forceinline``
for :func:`_insert`), and take the message as tuples of scalars rather than in a row array:
an array handed to an inlined step costs reference counting in the loop that Numba cannot
always remove.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
import numpy.typing as npt

from jamwatch.simulate.avionics import new_lock_state
from jamwatch.simulate.frame import KIND_POSITION, KIND_VELOCITY, encode_row
from jamwatch.simulate.radio import FSPL_CONST_DB, JAMMED, expose_row
from jamwatch.simulate.schedule import next_slot, odd_of, state_at, track_deg
from jamwatch.simulate.traffic import receive_row

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I8 = npt.NDArray[np.int8]
U8 = npt.NDArray[np.uint8]

C = 299_792_458.0
TRANSPONDER_DBM = 54.0  # 250 W, a typical 1090 MHz transponder peak power

#: slots of the 1090 MHz link vector of :func:`transmit`
LINK_TX_DBM = 0  # transponder peak power, dBm
LINK_FREQ_DB = 1  # frequency term of the path loss, 20 log10(1090 MHz), dB
LINK_FSPL_CONST_DB = 2  # constant term of the path loss, dB
LINK_C = 3  # speed of light, m/s
N_LINK = 4

# rows of the per-frame outputs of ``transmit`` (one column per frame written)
F_TRUE_LAT = 0  # out_f: true latitude, degrees
F_TRUE_LON = 1  # out_f: true longitude, degrees
F_TRUE_ALT_FT = 2  # out_f: true altitude, ft
F_LAT = 3  # out_f: reported latitude, degrees
F_LON = 4  # out_f: reported longitude, degrees
F_JS_DB = 5  # out_f: total J/S, dB
N_F = 6
B_KIND = 0  # out_b: message kind (KIND_*)
B_EFFECT = 1  # out_b: effect (NOMINAL, DEGRADED, JAMMED, SPOOFED)
B_NIC = 2  # out_b: reported NIC
B_NACP = 3  # out_b: reported NACp
B_SIGNAL = 4  # out_b: signal byte at the receiver
N_B = 5
I_AIRCRAFT = 0  # out_i: aircraft index
I_TRANSMITTER = 1  # out_i: transmitter causing the effect (-1 none)
I_RECEIVER = 2  # out_i: receiver that heard the frame (-1 none)
N_I = 3

# columns of the frames ``transmit`` holds until no earlier arrival can come
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


def link_vector() -> F64:
    """The 1090 MHz link vector of :func:`transmit` (slots ``LINK_*``)."""
    link = np.empty(N_LINK)
    link[LINK_TX_DBM] = TRANSPONDER_DBM
    link[LINK_FREQ_DB] = 20.0 * math.log10(1090e6)
    link[LINK_FSPL_CONST_DB] = FSPL_CONST_DB
    link[LINK_C] = C
    return link


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _write(
    h: int,
    held_i: I64,
    held_f: F64,
    out: int,
    tables: tuple[I64, I64, I64, I64],
    icao: I64,
    chars: I64,
    nic_a: I64,
    dalt_ac: F64,
    frames: U8,
    time_ns: I64,
    out_f: F64,
    out_b: U8,
    out_i: I32,
) -> int:
    """Encode held frame ``h`` at row ``out`` of ``frames`` and write its arrival and truth.

    Returns the encoder's flag: nonzero when a value did not fit its field.
    """
    a = held_i[h, _HI_AIRCRAFT]
    effect = held_i[h, _HI_EFFECT]
    alt = held_f[h, _HF_ALT_FT]
    dalt = dalt_ac[a]
    time_ns[out] = held_i[h, _HI_ARRIVAL]
    out_f[F_TRUE_LAT, out] = held_f[h, _HF_TRUE_LAT]
    out_f[F_TRUE_LON, out] = held_f[h, _HF_TRUE_LON]
    out_f[F_TRUE_ALT_FT, out] = alt
    out_f[F_LAT, out] = held_f[h, _HF_LAT]
    out_f[F_LON, out] = held_f[h, _HF_LON]
    out_f[F_JS_DB, out] = held_f[h, _HF_JS_DB]
    out_b[B_KIND, out] = held_i[h, _HI_KIND]
    out_b[B_EFFECT, out] = effect
    out_b[B_NIC, out] = held_i[h, _HI_NIC]
    out_b[B_NACP, out] = held_i[h, _HI_NACP]
    out_b[B_SIGNAL, out] = held_i[h, _HI_SIGNAL]
    out_i[I_AIRCRAFT, out] = a
    out_i[I_TRANSMITTER, out] = held_i[h, _HI_TRANSMITTER]
    out_i[I_RECEIVER, out] = held_i[h, _HI_RECEIVER]
    return encode_row(
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
        np.nan if effect == JAMMED else dalt,
        np.rint(alt / 1000.0) * 1000.0,
    )


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _carried_nic(nic: int, nic_a: int) -> int:
    """The NIC the position type code can carry with the aircraft's supplement A ``nic_a``."""
    if (nic_a == 0 and (nic == 9 or nic == 3)) or (nic_a == 1 and (nic == 8 or nic == 2)):
        return nic - 1
    return nic


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _expose(
    s: int,
    now: int,
    kind: int,
    a: int,
    nominal: tuple[int, int, int],
    source: tuple[I64, F64, I64, I64, I64, I64],
    positions: I64,
    tx: tuple[F64, I64, I64, F64, I64, F64],
    traits: F64,
    lock: I64,
) -> tuple[int, tuple[int, int, int, int, int], tuple[float, ...], tuple[float, ...]]:
    """A message of aircraft ``a`` (segment ``s``) at ``now``: its state under the transmitters.

    ``nominal``: the aircraft's NIC supplement A, nominal NIC and nominal NACp. Returns the
    effect, the message as :func:`_insert` takes it ((effect, transmitter, NIC, NACp, CPR
    format) and (J/S, reported latitude, longitude, ground speed and track, true latitude,
    longitude and altitude, vertical rate)), and where the aircraft is for
    :func:`jamwatch.simulate.traffic.receive_row` (latitude in radians, its cosine,
    longitude, altitude).
    """
    nic_a, nic_nom, nacp_nom = nominal
    lat, lon, alt, gs, vr, sin_t, cos_t = state_at(source, s, now)
    # the track matters only where it is sent: velocity messages
    trk = track_deg(sin_t, cos_t) if kind == KIND_VELOCITY else np.nan
    odd = odd_of(positions, a, kind)
    lat_rad = np.radians(lat)
    cos_lat = np.cos(lat_rad)
    effect, src, js, nic, nacp, rlat, rlon, rgs, rtrk = expose_row(
        tx, now, lat, lon, cos_lat, alt, nic_nom, nacp_nom, gs, trk, traits, lock, a
    )
    ints = (effect, src, _carried_nic(nic, nic_a), nacp, odd)
    floats = (js, rlat, rlon, rgs, rtrk, lat, lon, alt, vr)
    return effect, ints, floats, (lat_rad, cos_lat, lon, alt)


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _signal_byte(dist: float, link: F64) -> int:
    """The signal byte of a frame heard ``dist`` metres away (1 to 255, 4 per dB)."""
    d = 1.0 if dist < 1.0 else dist
    power = link[LINK_TX_DBM] - (20.0 * np.log10(d) + link[LINK_FREQ_DB] + link[LINK_FSPL_CONST_DB])
    return int(min(max(np.rint((power + 100.0) * 4.0), 1.0), 255.0))


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _compact(held_i: I64, held_f: F64, first: int, end: int) -> tuple[I64, F64]:
    """The held rows ``first`` to ``end``, moved to the start of new arrays.

    The new arrays are twice the size when more than half of the old ones is held.
    """
    cap = held_i.shape[0]
    live = end - first
    if live * 2 > cap:
        cap *= 2
    grown_i = np.empty((cap, _N_HI), dtype=np.int64)
    grown_f = np.empty((cap, _N_HF), dtype=np.float64)
    grown_i[:live] = held_i[first:end]
    grown_f[:live] = held_f[first:end]
    return grown_i, grown_f


@nb.njit(cache=True, nogil=True, error_model="numpy", forceinline=True)
def _insert(
    held_i: I64,
    held_f: F64,
    first: int,
    end: int,
    arrival: np.int64,
    heard: tuple[int, int, int, int],
    ints: tuple[int, int, int, int, int],
    floats: tuple[float, ...],
) -> None:
    """Hold a message in order of arrival among the held rows ``first`` to ``end``.

    It goes after those arriving at the same time; row ``end`` must be free. ``heard``:
    receiver, signal byte, message kind and aircraft; ``ints`` and ``floats``: the rest of the
    message as :func:`_expose` returns it.
    """
    p = end
    while p > first and held_i[p - 1, _HI_ARRIVAL] > arrival:
        for q in range(_N_HI):
            held_i[p, q] = held_i[p - 1, q]
        for q in range(_N_HF):
            held_f[p, q] = held_f[p - 1, q]
        p -= 1
    who, sig, kind, a = heard
    effect, src, nic, nacp, odd = ints
    js, rlat, rlon, rgs, rtrk, lat, lon, alt, vr = floats
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


@nb.njit(cache=True, nogil=True, error_model="numpy")
def transmit(
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
    ``F_*``), ``out_b`` (rows ``B_*``), ``out_i`` (rows ``I_*``; -1 for none). Returns the
    number written (-1 if a value did not fit its field).
    """
    _, _, _, _, _, seg_ac = source
    icao, chars, nic_a, nic_nom, nacp_nom, stops = aircraft
    positions = np.zeros(icao.shape[0], dtype=np.int64)
    lock = new_lock_state(icao.shape[0])
    held_i = np.empty((64, _N_HI), dtype=np.int64)
    held_f = np.empty((64, _N_HF), dtype=np.float64)
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
            bad |= _write(
                first, held_i, held_f, out, tables, icao, chars, nic_a, dalt_ac,
                frames, time_ns, out_f, out_b, out_i,
            )  # fmt: skip
            out += 1
            first += 1
        if r == n:
            break
        kind = kind_of[ki]
        a = seg_ac[s]
        nominal = (nic_a[a], nic_nom[a], nacp_nom[a])
        effect, ints, floats, where = _expose(
            s, now, kind, a, nominal, source, positions, tx, traits, lock
        )
        if effect == JAMMED and stops[a] != 0 and kind == KIND_POSITION:
            continue  # this aircraft stops sending positions under loss of lock
        who = -1
        dist = 0.0
        sig = 0
        if rx.shape[0] > 0:
            lat_rad, cos_lat, lon, alt = where
            who, dist = receive_row(rx, lat_rad, cos_lat, lon, alt, draws, r)
            if who < 0:
                continue
            sig = _signal_byte(dist, link)
        arrival = now + np.int64(np.rint(dist / link[LINK_C] * 1e9))
        if end == held_i.shape[0]:  # full: compact (and grow)
            held_i, held_f = _compact(held_i, held_f, first, end)
            first, end = 0, end - first
        _insert(held_i, held_f, first, end, arrival, (who, sig, kind, a), ints, floats)
        end += 1
    return out if bad == 0 else -1
