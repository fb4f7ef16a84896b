"""The compiled DF17 frame writer: one frame per call, fields and CRC-24 in 64-bit registers.

:func:`encode_row` writes one frame with the codings of
:func:`jamwatch.simulate.encode.field_values` (the NumPy reference, used by the scalar
reference path in tests) at the positions of the shared table
:data:`jamwatch.decoder.fields.FIELDS`, read at each call (:func:`encoder_tables`), then the
CRC-24 as the XOR of each byte's share of it (the CRC is linear; shares from the decoder's
table). :func:`jamwatch.simulate.columns.encode_messages` runs it over columns; the
simulation calls it from its own compiled pass.
"""

from __future__ import annotations

import numba as nb
import numpy as np
import numpy.typing as npt

from jamwatch.decoder.crc import TABLE
from jamwatch.decoder.fields import FIELDS

KIND_IDENT, KIND_POSITION, KIND_VELOCITY, KIND_TARGET, KIND_STATUS = range(5)
KIND_NAMES = ("identification", "position", "velocity", "target_state", "operational_status")

NZ = 15
CPR_BITS = 17
CPR_SCALE = float(1 << CPR_BITS)
CA_AIRBORNE = 5  # capability: level 2+ transponder, airborne
FT_PER_M = 3.28084

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]

#: (type code, NIC supplement B, NIC supplement A needed) for each NIC of an airborne
#: position with barometric altitude (DO-260B Table 2-14); NIC 9 and 3 need supplement A = 1
#: from TC31, NIC 8 and 2 need A = 0.
NIC_TO_TC: dict[int, tuple[int, int, int | None]] = {
    11: (9, 0, None),
    10: (10, 0, None),
    9: (11, 1, 1),
    8: (11, 0, 0),
    7: (12, 0, None),
    6: (13, 0, None),
    5: (14, 0, None),
    4: (15, 0, None),
    3: (16, 1, 1),
    2: (16, 0, 0),
    1: (17, 0, None),
    0: (18, 0, None),
}


#: the fields the compiled encoder writes; their positions are read from FIELDS at call time
_KERNEL_FIELDS = (
    "df",
    "ca",
    "icao",
    "tc",
    "id_category",
    "id_chars",
    "pos_nicb",
    "pos_alt",
    "pos_odd",
    "pos_lat",
    "pos_lon",
    "vel_st",
    "vel_nacv",
    "vel_ew_sign",
    "vel_ew",
    "vel_ns_sign",
    "vel_ns",
    "vel_vr_src",
    "vel_vr_sign",
    "vel_vr",
    "vel_dalt_sign",
    "vel_dalt",
    "tss_subtype",
    "tss_alt",
    "tss_nacp",
    "tss_nic_baro",
    "tss_sil",
    "ops_subtype",
    "ops_version",
    "ops_nica",
    "ops_nacp",
    "ops_gva",
    "ops_sil",
    "ops_nic_baro",
)
(
    _DF,
    _CA,
    _ICAO,
    _TC,
    _ID_CATEGORY,
    _ID_CHARS,
    _POS_NICB,
    _POS_ALT,
    _POS_ODD,
    _POS_LAT,
    _POS_LON,
    _VEL_ST,
    _VEL_NACV,
    _VEL_EW_SIGN,
    _VEL_EW,
    _VEL_NS_SIGN,
    _VEL_NS,
    _VEL_VR_SRC,
    _VEL_VR_SIGN,
    _VEL_VR,
    _VEL_DALT_SIGN,
    _VEL_DALT,
    _TSS_SUBTYPE,
    _TSS_ALT,
    _TSS_NACP,
    _TSS_NIC_BARO,
    _TSS_SIL,
    _OPS_SUBTYPE,
    _OPS_VERSION,
    _OPS_NICA,
    _OPS_NACP,
    _OPS_GVA,
    _OPS_SIL,
    _OPS_NIC_BARO,
) = range(len(_KERNEL_FIELDS))
#: columns of the field table of :func:`encoder_tables` (one row per ``_KERNEL_FIELDS``)
_BIT_START = 0  # first bit of the field, counted from 1 as in FIELDS
_BIT_LENGTH = 1  # its length in bits
_N_BIT = 2

#: first of the three parity (CRC-24) bytes of a 14-byte frame, after the 11 data bytes
_PARITY_BYTE = 11

_NIC_TC = np.array([NIC_TO_TC[k][0] for k in range(12)], dtype=np.int64)
_NIC_B = np.array([NIC_TO_TC[k][1] for k in range(12)], dtype=np.int64)


def _field_bits() -> I64:
    """(start, length) of each field of ``_KERNEL_FIELDS``, from the shared table."""
    out = np.empty((len(_KERNEL_FIELDS), _N_BIT), np.int64)
    for f, name in enumerate(_KERNEL_FIELDS):
        out[f, _BIT_START] = FIELDS[name].start
        out[f, _BIT_LENGTH] = FIELDS[name].length
    return out


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _put(hi: int, lo: int, bad: int, bits: I64, f: int, v: int) -> tuple[int, int, int]:
    """Set field ``f`` to ``v`` in the 88 data bits held as ``hi`` (bits 1-56), ``lo`` (57-88).

    ``bad`` collects the bits of values that do not fit their field (0: all fit).
    """
    start = bits[f, _BIT_START]
    length = bits[f, _BIT_LENGTH]
    bad |= v >> length
    end = start + length - 1
    if end <= 56:
        return hi | (v << (56 - end)), lo, bad
    if start > 56:
        return hi, lo | (v << (88 - end)), bad
    return hi | (v >> (end - 56)), lo | ((v << (88 - end)) & 0xFFFFFFFF), bad


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _nl(lat: float) -> int:
    a = abs(lat)
    if np.isnan(a):
        return 0
    if a < 1e-8:
        return 59
    if a >= 87.0:
        return 2 if abs(a - 87.0) < 1e-8 else 1
    t = 1.0 - np.cos(np.pi / (2.0 * NZ))
    c = np.cos(np.radians(min(a, 86.9999)))
    n = np.floor(2.0 * np.pi / np.arccos(1.0 - t / (c * c)))
    return int(n) if not np.isnan(n) else 0


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _cpr(lat: float, lon: float, odd: int) -> tuple[int, int]:
    dlat = 360.0 / (4 * NZ - odd)
    yz = np.floor(CPR_SCALE * (lat % dlat) / dlat + 0.5)
    rlat = dlat * (yz / CPR_SCALE + np.floor(lat / dlat))
    dlon = 360.0 / max(_nl(rlat) - odd, 1)
    xz = np.floor(CPR_SCALE * (lon % dlon) / dlon + 0.5)
    mask = (1 << CPR_BITS) - 1
    y = 0 if np.isnan(yz) else int(yz) & mask
    x = 0 if np.isnan(xz) else int(xz) & mask
    return y, x


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _magnitude(v: float, step: float, top: int) -> int:
    """Magnitude code of ``v``: |v| / step + 1 clipped to 1..top, 0 when NaN."""
    if np.isnan(v):
        return 0
    return int(min(max(np.rint(abs(v) / step) + 1.0, 1.0), float(top)))


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _position_codes(
    gnss: bool, nic: int, nic_a: int, alt: float, nic_tc: I64, nic_b: I64
) -> tuple[int, int, int]:
    """Type code, NIC supplement B and altitude code of an airborne position message.

    With ``gnss``: TC 20-22 by NIC and the GNSS height in metres; else the TC 9-18 of the NIC
    (``nic_tc``, ``nic_b``: rows of NIC_TO_TC; TC 12 and 17 when supplement A is set) and
    the barometric altitude in 25 ft steps (Q bit set).
    """
    if gnss:
        tc = 20 if nic >= 11 else (21 if nic == 10 else 22)
        h = alt / FT_PER_M
        return tc, 0, 0 if np.isnan(h) else int(min(max(np.rint(h), 1.0), 4095.0))
    level = min(max(nic, 0), 11)
    tc = nic_tc[level]
    nicb = 0 if nic_a == 0 else nic_b[level]
    if nic_a == 1 and level == 8:
        tc = 12
    if nic_a == 1 and level == 2:
        tc = 17
    code = 0
    if not np.isnan(alt):
        steps = int(min(max(np.rint((alt + 1000.0) / 25.0), 0.0), 2047.0))
        code = ((steps & 0x7F0) << 1) | 0x10 | (steps & 0x0F)
    return tc, nicb, code


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _position(
    hi: int, lo: int, bad: int, bits: I64, nicb: int, code: int, lat: float, lon: float, odd: int
) -> tuple[int, int, int]:
    """Airborne position fields: NIC-B, altitude code, CPR format and coordinates."""
    y, x = _cpr(lat, lon, odd)
    hi, lo, bad = _put(hi, lo, bad, bits, _POS_NICB, nicb)
    hi, lo, bad = _put(hi, lo, bad, bits, _POS_ALT, code)
    hi, lo, bad = _put(hi, lo, bad, bits, _POS_ODD, odd)
    hi, lo, bad = _put(hi, lo, bad, bits, _POS_LAT, y)
    return _put(hi, lo, bad, bits, _POS_LON, x)


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _velocity(
    hi: int, lo: int, bad: int, bits: I64, gs: float, trk: float, vr: float, dalt: float
) -> tuple[int, int, int]:
    """Airborne velocity fields (TC 19): ground speed and track as east and north velocities.

    Subtype 1 (2 above 1,021 kt per component), with the barometric vertical rate and the
    GNSS minus barometric altitude.
    """
    rad = np.radians(trk)
    vew = gs * np.sin(rad)
    vns = gs * np.cos(rad)
    ew0 = 0.0 if np.isnan(vew) else vew
    ns0 = 0.0 if np.isnan(vns) else vns
    fast = abs(ew0) > 1021.5 or abs(ns0) > 1021.5
    step = 4.0 if fast else 1.0
    hi, lo, bad = _put(hi, lo, bad, bits, _VEL_ST, 2 if fast else 1)
    hi, lo, bad = _put(hi, lo, bad, bits, _VEL_NACV, 1)
    m = int(min(max(np.rint(abs(ew0) / step) + 1.0, 1.0), 1023.0))
    hi, lo, bad = _put(hi, lo, bad, bits, _VEL_EW_SIGN, 1 if (vew < 0 and m > 1) else 0)
    hi, lo, bad = _put(hi, lo, bad, bits, _VEL_EW, 0 if np.isnan(vew) else m)
    m = int(min(max(np.rint(abs(ns0) / step) + 1.0, 1.0), 1023.0))
    hi, lo, bad = _put(hi, lo, bad, bits, _VEL_NS_SIGN, 1 if (vns < 0 and m > 1) else 0)
    hi, lo, bad = _put(hi, lo, bad, bits, _VEL_NS, 0 if np.isnan(vns) else m)
    hi, lo, bad = _put(hi, lo, bad, bits, _VEL_VR_SRC, 1)  # 1 = baro (DO-260B)
    hi, lo, bad = _put(hi, lo, bad, bits, _VEL_VR_SIGN, 1 if vr < 0 else 0)
    hi, lo, bad = _put(hi, lo, bad, bits, _VEL_VR, _magnitude(vr, 64.0, 511))
    hi, lo, bad = _put(hi, lo, bad, bits, _VEL_DALT_SIGN, 1 if dalt < 0 else 0)
    return _put(hi, lo, bad, bits, _VEL_DALT, _magnitude(dalt, 25.0, 127))


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _target_state(
    hi: int, lo: int, bad: int, bits: I64, salt: float, nacp: int, sil: int
) -> tuple[int, int, int]:
    """Target state and status fields (TC 29 subtype 1): selected altitude, NACp, SIL."""
    code = 0 if np.isnan(salt) else int(min(max(np.rint(salt / 32.0) + 1.0, 1.0), 2047.0))
    hi, lo, bad = _put(hi, lo, bad, bits, _TSS_SUBTYPE, 1)
    hi, lo, bad = _put(hi, lo, bad, bits, _TSS_ALT, code)
    hi, lo, bad = _put(hi, lo, bad, bits, _TSS_NACP, nacp)
    hi, lo, bad = _put(hi, lo, bad, bits, _TSS_NIC_BARO, 1)
    return _put(hi, lo, bad, bits, _TSS_SIL, sil)


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _status(
    hi: int, lo: int, bad: int, bits: I64, nic_a: int, nacp: int, sil: int
) -> tuple[int, int, int]:
    """Operational status fields (TC 31, airborne, version 2): NIC-A, NACp, GVA, SIL."""
    hi, lo, bad = _put(hi, lo, bad, bits, _OPS_SUBTYPE, 0)
    hi, lo, bad = _put(hi, lo, bad, bits, _OPS_VERSION, 2)
    hi, lo, bad = _put(hi, lo, bad, bits, _OPS_NICA, nic_a)
    hi, lo, bad = _put(hi, lo, bad, bits, _OPS_NACP, nacp)
    hi, lo, bad = _put(hi, lo, bad, bits, _OPS_GVA, 2)
    hi, lo, bad = _put(hi, lo, bad, bits, _OPS_SIL, sil)
    return _put(hi, lo, bad, bits, _OPS_NIC_BARO, 1)


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _write_bytes(out: U8, i: int, hi: int, lo: int, crc: I64) -> None:
    """Write the 11 data bytes (``hi``, ``lo``) and their CRC-24 into row ``i`` of ``out``.

    The CRC is the XOR of each byte's share of it (the CRC is linear).
    """
    c = 0
    for b in range(7):
        byte = (hi >> (48 - 8 * b)) & 0xFF
        out[i, b] = byte
        c ^= crc[b, byte]
    for b in range(4):
        byte = (lo >> (24 - 8 * b)) & 0xFF
        out[i, 7 + b] = byte
        c ^= crc[7 + b, byte]
    out[i, _PARITY_BYTE] = (c >> 16) & 0xFF
    out[i, _PARITY_BYTE + 1] = (c >> 8) & 0xFF
    out[i, _PARITY_BYTE + 2] = c & 0xFF


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def encode_row(
    out: U8,
    i: int,
    tables: tuple[I64, I64, I64, I64],
    kind: int,
    icao: int,
    chars: int,
    category: int,
    ident_tc: int,
    nic_a: int,
    sil: int,
    gnss: bool,
    lat: float,
    lon: float,
    odd: int,
    alt: float,
    nic: int,
    nacp: int,
    gs: float,
    trk: float,
    vr: float,
    dalt: float,
    salt: float,
) -> int:
    """Write one DF17 frame into row ``i`` of ``out`` (the codings of :func:`field_values`).

    ``tables``: :func:`encoder_tables`. Per-aircraft values first (``icao`` to ``gnss``, as
    in :class:`Avionics`), then the message's; NaN: not available. Returns 0, or nonzero
    when a value does not fit its field (the frame is then wrong).
    """
    bits, nic_tc, nic_b, crc = tables
    hi, lo, bad = _put(0, 0, 0, bits, _DF, 17)
    hi, lo, bad = _put(hi, lo, bad, bits, _CA, CA_AIRBORNE)
    hi, lo, bad = _put(hi, lo, bad, bits, _ICAO, icao)
    tc = 0
    if kind == KIND_IDENT:
        tc = ident_tc
        hi, lo, bad = _put(hi, lo, bad, bits, _ID_CATEGORY, category)
        hi, lo, bad = _put(hi, lo, bad, bits, _ID_CHARS, chars)
    elif kind == KIND_POSITION:
        tc, nicb, code = _position_codes(gnss, nic, nic_a, alt, nic_tc, nic_b)
        hi, lo, bad = _position(hi, lo, bad, bits, nicb, code, lat, lon, odd)
    elif kind == KIND_VELOCITY:
        tc = 19
        hi, lo, bad = _velocity(hi, lo, bad, bits, gs, trk, vr, dalt)
    elif kind == KIND_TARGET:
        tc = 29
        hi, lo, bad = _target_state(hi, lo, bad, bits, salt, nacp, sil)
    elif kind == KIND_STATUS:
        tc = 31
        hi, lo, bad = _status(hi, lo, bad, bits, nic_a, nacp, sil)
    hi, lo, bad = _put(hi, lo, bad, bits, _TC, tc)
    _write_bytes(out, i, hi, lo, crc)
    return bad


def _crc_shares() -> I64:
    """CRC-24 of a message whose only nonzero byte is ``v`` at position ``p``: [p, v]."""
    table = TABLE.astype(np.int64)
    shares = np.zeros((11, 256), dtype=np.int64)
    for p in range(11):
        reg = np.zeros(256, dtype=np.int64)
        for k in range(11):
            byte = np.arange(256) if k == p else np.zeros(256, dtype=np.int64)
            reg = ((reg << 8) & 0xFFFFFF) ^ table[((reg >> 16) ^ byte) & 0xFF]
        shares[p] = reg
    return shares


_CRC_SHARES = _crc_shares()


def encoder_tables() -> tuple[I64, I64, I64, I64]:
    """Field positions (from FIELDS, read now), NIC type codes and the CRC shares of each
    byte (from the decoder's CRC table) used by :func:`encode_row`."""
    return _field_bits(), _NIC_TC, _NIC_B, _CRC_SHARES


__all__ = [
    "CA_AIRBORNE",
    "CPR_BITS",
    "CPR_SCALE",
    "FT_PER_M",
    "KIND_IDENT",
    "KIND_NAMES",
    "KIND_POSITION",
    "KIND_STATUS",
    "KIND_TARGET",
    "KIND_VELOCITY",
    "NIC_TO_TC",
    "NZ",
    "encode_row",
    "encoder_tables",
]
