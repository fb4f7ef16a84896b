"""DF17 extended-squitter encoders: whole NumPy columns in, a RAW_FRAMES Arrow table out.

Every field is written at the position given by the shared table
:data:`jamwatch.decoder.fields.FIELDS`, the same table the decoder reads, so encoder and
decoder cannot drift apart. Frames are built as an (n, 14) byte matrix by one compiled pass
per frame (:func:`encode_messages`: field codings as in :func:`field_values`, then the CRC-24
with the decoder's table); the field positions are handed to the compiled code at each call.
:func:`encode_one` is the single-message reference path used in tests; it goes through
:func:`field_values`, :func:`jamwatch.decoder.fields.put` and :func:`jamwatch.decoder.crc.crc24`.

Message kinds (column ``kind`` of :func:`encode_matrix`)
    ``KIND_IDENT``     TC 1-4 identification: category, 8-character callsign
    ``KIND_POSITION``  TC 9-18 (barometric altitude, 25 ft Q-bit coding) or TC 20-22
                       (GNSS height in metres), CPR even/odd per DO-260B Appendix A (NZ = 15,
                       17-bit), NIC supplement B
    ``KIND_VELOCITY``  TC 19 subtype 1 (subtype 2 above 1021 kt per component): ground
                       speed, track, vertical rate (barometric source), GNSS-baro difference
    ``KIND_TARGET``    TC 29 subtype 1: selected altitude, NACp, NIC-baro, SIL
    ``KIND_STATUS``    TC 31 airborne, version 2: NIC supplement A, NACp, GVA, SIL, NIC-baro
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from jamwatch.decoder.crc import TABLE, crc24
from jamwatch.decoder.fields import CHARSET, FIELDS, put
from jamwatch.schema import RAW_FRAMES, TIME_TYPE

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

#: inverse of the ADS-B character set: ASCII byte -> 6-bit code (unknown characters -> space)
_CHAR_CODE = np.full(256, 32, dtype=np.int64)
for _code, _char in enumerate(CHARSET):
    if _char != "#":
        _CHAR_CODE[ord(_char)] = _code

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


def nic_type_code(nic: npt.ArrayLike, nic_a: npt.ArrayLike) -> tuple[I64, I64]:
    """Type code and NIC supplement B giving ``nic`` for an aircraft with supplement ``nic_a``.

    NIC 9 and 3 need supplement A = 1, NIC 8 and 2 need A = 0; where the aircraft's A does not
    allow the requested NIC, the next lower reachable NIC is used (9 -> 8, 3 -> 2; 8 -> TC 12,
    2 -> TC 17 when A = 1).
    """
    nic_arr = np.clip(np.asarray(nic, dtype=np.int64), 0, 11)
    a = np.broadcast_to(np.asarray(nic_a, dtype=np.int64), nic_arr.shape)
    tc_table = np.array([NIC_TO_TC[k][0] for k in range(12)], dtype=np.int64)
    b_table = np.array([NIC_TO_TC[k][1] for k in range(12)], dtype=np.int64)
    tc = tc_table[nic_arr]
    b = b_table[nic_arr].copy()
    # A = 0: NIC 9 -> TC 11 with B = 0 (NIC 8), NIC 3 -> TC 16 with B = 0 (NIC 2)
    b = np.where(a == 0, 0, b)
    # A = 1: TC 11/16 with B = 0 would be reserved; use the next lower NIC instead
    tc = np.where((a == 1) & (nic_arr == 8), 12, tc)
    tc = np.where((a == 1) & (nic_arr == 2), 17, tc)
    return tc, b


def reachable_nic(nic: npt.ArrayLike, nic_a: npt.ArrayLike) -> I64:
    """The NIC actually reported when asking :func:`nic_type_code` for ``nic``."""
    n = np.asarray(nic, dtype=np.int64)
    a = np.asarray(nic_a, dtype=np.int64)
    lower = ((a == 0) & ((n == 9) | (n == 3))) | ((a == 1) & ((n == 8) | (n == 2)))
    return np.where(lower, n - 1, n)


# --------------------------------------------------------------------------------------------
# field codings


def cpr_nl(lat: F64) -> I64:
    """Number of longitude zones NL(lat) (DO-260B A.1.7.2), vectorized."""
    a = np.abs(np.asarray(lat, dtype=np.float64))
    t = 1.0 - np.cos(np.pi / (2.0 * NZ))
    c = np.cos(np.radians(np.minimum(a, 86.9999)))
    with np.errstate(invalid="ignore"):
        n = np.floor(2.0 * np.pi / np.arccos(1.0 - t / (c * c)))
    n = np.where(a < 1e-8, 59, n)
    n = np.where(a >= 87.0, np.where(np.abs(a - 87.0) < 1e-8, 2, 1), n)
    return n.astype(np.int64)


def cpr_encode(lat: npt.ArrayLike, lon: npt.ArrayLike, odd: npt.ArrayLike) -> tuple[I64, I64]:
    """Airborne CPR encoding (17 bits, DO-260B A.1.7.3) of ``lat``/``lon`` in degrees."""
    la = np.asarray(lat, dtype=np.float64)
    lo = np.asarray(lon, dtype=np.float64)
    i = np.asarray(odd, dtype=np.int64)
    dlat = 360.0 / (4 * NZ - i)
    yz = np.floor(CPR_SCALE * np.mod(la, dlat) / dlat + 0.5)
    rlat = dlat * (yz / CPR_SCALE + np.floor(la / dlat))
    nl = np.maximum(cpr_nl(rlat) - i, 1)
    dlon = 360.0 / nl
    xz = np.floor(CPR_SCALE * np.mod(lo, dlon) / dlon + 0.5)
    mask = (1 << CPR_BITS) - 1
    return yz.astype(np.int64) & mask, xz.astype(np.int64) & mask


def baro_altitude_code(alt_ft: npt.ArrayLike) -> I64:
    """12-bit altitude field with Q = 1 (25 ft steps, -1,000 to 50,175 ft); 0 where NaN."""
    a = np.asarray(alt_ft, dtype=np.float64)
    steps = np.clip(np.round((np.nan_to_num(a, nan=-2000.0) + 1000.0) / 25.0), 0, 2047)
    n = steps.astype(np.int64)
    code = ((n & 0x7F0) << 1) | 0x10 | (n & 0x0F)
    return np.where(np.isnan(a), 0, code)


def gnss_height_code(height_m: npt.ArrayLike) -> I64:
    """12-bit GNSS height in metres (TC 20-22, 1 m steps as the decoder reads it); 0 if NaN."""
    h = np.asarray(height_m, dtype=np.float64)
    code = np.clip(np.round(np.nan_to_num(h, nan=0.0)), 1, 4095).astype(np.int64)
    return np.where(np.isnan(h), 0, code)


def callsign_code(callsigns: npt.ArrayLike) -> I64:
    """48-bit identification field of up to 8 characters (padded with spaces)."""
    raw = np.asarray(callsigns, dtype="S8")
    chars = np.frombuffer(
        np.char.ljust(np.char.upper(raw), 8).astype("S8").tobytes(), dtype=np.uint8
    ).reshape(-1, 8)
    codes = _CHAR_CODE[chars]
    out = np.zeros(chars.shape[0], dtype=np.int64)
    for k in range(8):
        out = (out << 6) | codes[:, k]
    return out


def _signed(v: F64, step: float, bits: int) -> tuple[I64, I64]:
    """Sign bit and magnitude code (value / step + 1, 0 = not available) of ``v``."""
    sign = (v < 0).astype(np.int64)
    mag = np.clip(np.round(np.abs(np.nan_to_num(v)) / step) + 1, 1, (1 << bits) - 1)
    return sign, np.where(np.isnan(v), 0, mag).astype(np.int64)


# --------------------------------------------------------------------------------------------
# column encoder


def _col(values: npt.ArrayLike | None, n: int, default: float) -> F64:
    if values is None:
        return np.full(n, default, dtype=np.float64)
    return np.broadcast_to(np.asarray(values, dtype=np.float64), (n,)).astype(np.float64)


Parts = list[tuple[int | None, str, I64]]


def field_values(
    kind: npt.ArrayLike,
    icao: npt.ArrayLike,
    *,
    latitude: npt.ArrayLike | None = None,
    longitude: npt.ArrayLike | None = None,
    odd: npt.ArrayLike | None = None,
    altitude_ft: npt.ArrayLike | None = None,
    gnss: npt.ArrayLike | None = None,
    nic: npt.ArrayLike | None = None,
    nic_a: npt.ArrayLike | None = None,
    nacp: npt.ArrayLike | None = None,
    sil: npt.ArrayLike | None = None,
    groundspeed_kt: npt.ArrayLike | None = None,
    track_deg: npt.ArrayLike | None = None,
    vertical_rate_fpm: npt.ArrayLike | None = None,
    gnss_baro_diff_ft: npt.ArrayLike | None = None,
    selected_altitude_ft: npt.ArrayLike | None = None,
    callsign: npt.ArrayLike | None = None,
    category: npt.ArrayLike | None = None,
    ident_tc: npt.ArrayLike | None = None,
) -> Parts:
    """The coded value of every field of every row, as ``(kind, field name, column)``.

    ``kind`` is None for the header fields common to all rows; otherwise the column is zero
    outside the rows of that kind. All arguments are columns (or scalars broadcast to the
    length of ``kind``); a column only matters for the rows of the kinds that carry it.
    ``gnss`` (bool) selects TC 20-22 with the GNSS height ``altitude_ft`` for a position row
    (NIC 11, 10 or 0 only). NaN means not available (altitude, vertical rate, GNSS-baro
    difference, selected altitude, ground speed).
    """
    k = np.asarray(kind, dtype=np.int64)
    n = k.shape[0]
    nic_v = np.nan_to_num(_col(nic, n, 8)).astype(np.int64)
    nic_a_v = np.nan_to_num(_col(nic_a, n, 0)).astype(np.int64)
    nacp_v = np.nan_to_num(_col(nacp, n, 9)).astype(np.int64)
    sil_v = np.nan_to_num(_col(sil, n, 3)).astype(np.int64)
    tc = np.zeros(n, dtype=np.int64)
    parts: Parts = [
        (None, "df", np.full(n, 17, dtype=np.int64)),
        (None, "ca", np.full(n, CA_AIRBORNE, dtype=np.int64)),
        (None, "icao", np.broadcast_to(np.asarray(icao, dtype=np.int64), (n,)).copy()),
    ]

    def add(kd: int, sel: npt.NDArray[np.bool_], name: str, values: npt.ArrayLike) -> None:
        full = np.zeros(n, dtype=np.int64)
        full[sel] = np.asarray(values, dtype=np.int64)
        parts.append((kd, name, full))

    sel = k == KIND_IDENT
    if sel.any():
        tc[sel] = np.nan_to_num(_col(ident_tc, n, 4)).astype(np.int64)[sel]
        add(KIND_IDENT, sel, "id_category", np.nan_to_num(_col(category, n, 3))[sel])
        raw = callsign if callsign is not None else ""
        cs = np.broadcast_to(np.asarray(raw, dtype="S8"), (n,))
        add(KIND_IDENT, sel, "id_chars", callsign_code(cs[sel]))

    sel = k == KIND_POSITION
    if sel.any():
        alt = _col(altitude_ft, n, np.nan)[sel]
        flag = gnss if gnss is not None else False
        is_gnss = np.broadcast_to(np.asarray(flag, dtype=bool), (n,))[sel]
        ptc, nicb = nic_type_code(nic_v[sel], nic_a_v[sel])
        gtc = np.where(nic_v[sel] >= 11, 20, np.where(nic_v[sel] == 10, 21, 22))
        tc[sel] = np.where(is_gnss, gtc, ptc)
        add(KIND_POSITION, sel, "pos_nicb", np.where(is_gnss, 0, nicb))
        code = np.where(is_gnss, gnss_height_code(alt / FT_PER_M), baro_altitude_code(alt))
        add(KIND_POSITION, sel, "pos_alt", code)
        f_raw = odd if odd is not None else 0
        f = np.broadcast_to(np.asarray(f_raw, dtype=np.int64), (n,))[sel]
        yz, xz = cpr_encode(_col(latitude, n, 0)[sel], _col(longitude, n, 0)[sel], f)
        add(KIND_POSITION, sel, "pos_odd", f)
        add(KIND_POSITION, sel, "pos_lat", yz)
        add(KIND_POSITION, sel, "pos_lon", xz)

    sel = k == KIND_VELOCITY
    if sel.any():
        tc[sel] = 19
        gs = _col(groundspeed_kt, n, np.nan)[sel]
        trk = np.radians(_col(track_deg, n, 0)[sel])
        vew = gs * np.sin(trk)
        vns = gs * np.cos(trk)
        fast = (np.abs(np.nan_to_num(vew)) > 1021.5) | (np.abs(np.nan_to_num(vns)) > 1021.5)
        step = np.where(fast, 4.0, 1.0)
        add(KIND_VELOCITY, sel, "vel_st", np.where(fast, 2, 1))
        add(KIND_VELOCITY, sel, "vel_nacv", np.ones(gs.shape[0]))
        for comp, f_sign, f_val in ((vew, "vel_ew_sign", "vel_ew"), (vns, "vel_ns_sign", "vel_ns")):
            mag = np.clip(np.round(np.abs(np.nan_to_num(comp)) / step) + 1, 1, 1023)
            add(KIND_VELOCITY, sel, f_sign, (comp < 0) & (mag > 1))
            add(KIND_VELOCITY, sel, f_val, np.where(np.isnan(comp), 0, mag))
        add(KIND_VELOCITY, sel, "vel_vr_src", np.ones(gs.shape[0]))  # 1 = baro (DO-260B)
        s, v = _signed(_col(vertical_rate_fpm, n, np.nan)[sel], 64.0, 9)
        add(KIND_VELOCITY, sel, "vel_vr_sign", s)
        add(KIND_VELOCITY, sel, "vel_vr", v)
        s, v = _signed(_col(gnss_baro_diff_ft, n, np.nan)[sel], 25.0, 7)
        add(KIND_VELOCITY, sel, "vel_dalt_sign", s)
        add(KIND_VELOCITY, sel, "vel_dalt", v)

    sel = k == KIND_TARGET
    if sel.any():
        tc[sel] = 29
        ones = np.ones(int(sel.sum()))
        add(KIND_TARGET, sel, "tss_subtype", ones)
        salt = _col(selected_altitude_ft, n, np.nan)[sel]
        code = np.clip(np.round(np.nan_to_num(salt) / 32.0) + 1, 1, 2047)
        add(KIND_TARGET, sel, "tss_alt", np.where(np.isnan(salt), 0, code))
        add(KIND_TARGET, sel, "tss_nacp", nacp_v[sel])
        add(KIND_TARGET, sel, "tss_nic_baro", ones)
        add(KIND_TARGET, sel, "tss_sil", sil_v[sel])

    sel = k == KIND_STATUS
    if sel.any():
        tc[sel] = 31
        m = int(sel.sum())
        add(KIND_STATUS, sel, "ops_subtype", np.zeros(m))
        add(KIND_STATUS, sel, "ops_version", np.full(m, 2))
        add(KIND_STATUS, sel, "ops_nica", nic_a_v[sel])
        add(KIND_STATUS, sel, "ops_nacp", nacp_v[sel])
        add(KIND_STATUS, sel, "ops_gva", np.full(m, 2))
        add(KIND_STATUS, sel, "ops_sil", sil_v[sel])
        add(KIND_STATUS, sel, "ops_nic_baro", np.ones(m))

    parts.append((None, "tc", tc))
    return parts


# --------------------------------------------------------------------------------------------
# compiled encoder: the same codings as field_values, one pass per frame

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
_NIC_TC = np.array([NIC_TO_TC[k][0] for k in range(12)], dtype=np.int64)
_NIC_B = np.array([NIC_TO_TC[k][1] for k in range(12)], dtype=np.int64)


def _field_bits() -> I64:
    """(start, length) of each field of ``_KERNEL_FIELDS``, from the shared table."""
    return np.array([[FIELDS[n].start, FIELDS[n].length] for n in _KERNEL_FIELDS], np.int64)


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _put(hi: int, lo: int, bad: int, bits: I64, f: int, v: int) -> tuple[int, int, int]:
    """Set field ``f`` to ``v`` in the 88 data bits held as ``hi`` (bits 1-56), ``lo`` (57-88).

    ``bad`` collects the bits of values that do not fit their field (0: all fit).
    """
    start = bits[f, 0]
    length = bits[f, 1]
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
        if gnss:
            tc = 20 if nic >= 11 else (21 if nic == 10 else 22)
            nicb = 0
            h = alt / FT_PER_M
            code = 0 if np.isnan(h) else int(min(max(np.rint(h), 1.0), 4095.0))
        else:
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
        y, x = _cpr(lat, lon, odd)
        hi, lo, bad = _put(hi, lo, bad, bits, _POS_NICB, nicb)
        hi, lo, bad = _put(hi, lo, bad, bits, _POS_ALT, code)
        hi, lo, bad = _put(hi, lo, bad, bits, _POS_ODD, odd)
        hi, lo, bad = _put(hi, lo, bad, bits, _POS_LAT, y)
        hi, lo, bad = _put(hi, lo, bad, bits, _POS_LON, x)
    elif kind == KIND_VELOCITY:
        tc = 19
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
        hi, lo, bad = _put(hi, lo, bad, bits, _VEL_DALT, _magnitude(dalt, 25.0, 127))
    elif kind == KIND_TARGET:
        tc = 29
        code = 0 if np.isnan(salt) else int(min(max(np.rint(salt / 32.0) + 1.0, 1.0), 2047.0))
        hi, lo, bad = _put(hi, lo, bad, bits, _TSS_SUBTYPE, 1)
        hi, lo, bad = _put(hi, lo, bad, bits, _TSS_ALT, code)
        hi, lo, bad = _put(hi, lo, bad, bits, _TSS_NACP, nacp)
        hi, lo, bad = _put(hi, lo, bad, bits, _TSS_NIC_BARO, 1)
        hi, lo, bad = _put(hi, lo, bad, bits, _TSS_SIL, sil)
    elif kind == KIND_STATUS:
        tc = 31
        hi, lo, bad = _put(hi, lo, bad, bits, _OPS_SUBTYPE, 0)
        hi, lo, bad = _put(hi, lo, bad, bits, _OPS_VERSION, 2)
        hi, lo, bad = _put(hi, lo, bad, bits, _OPS_NICA, nic_a)
        hi, lo, bad = _put(hi, lo, bad, bits, _OPS_NACP, nacp)
        hi, lo, bad = _put(hi, lo, bad, bits, _OPS_GVA, 2)
        hi, lo, bad = _put(hi, lo, bad, bits, _OPS_SIL, sil)
        hi, lo, bad = _put(hi, lo, bad, bits, _OPS_NIC_BARO, 1)
    hi, lo, bad = _put(hi, lo, bad, bits, _TC, tc)
    # CRC-24 over the 11 data bytes: the XOR of each byte's share (the CRC is linear)
    c = 0
    for b in range(7):
        byte = (hi >> (48 - 8 * b)) & 0xFF
        out[i, b] = byte
        c ^= crc[b, byte]
    for b in range(4):
        byte = (lo >> (24 - 8 * b)) & 0xFF
        out[i, 7 + b] = byte
        c ^= crc[7 + b, byte]
    out[i, 11] = (c >> 16) & 0xFF
    out[i, 12] = (c >> 8) & 0xFF
    out[i, 13] = c & 0xFF
    return bad


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _encode_kernel(
    out: U8,
    take: I64,
    aircraft: I64,
    kind: I64,
    lat: F64,
    lon: F64,
    odd: I64,
    alt: F64,
    nic: I64,
    nacp: I64,
    gs: F64,
    trk: F64,
    vr: F64,
    dalt: F64,
    salt: F64,
    icao: I64,
    nic_a: I64,
    chars: I64,
    sil: I64,
    category: I64,
    ident_tc: I64,
    gnss: npt.NDArray[np.bool_],
    tables: tuple[I64, I64, I64, I64],
) -> int:
    """Frames of rows ``take``; returns the first row with a value that does not fit, or -1."""
    first_bad = -1
    for i in range(take.shape[0]):
        j = take[i]
        a = aircraft[j]
        bad = encode_row(
            out,
            i,
            tables,
            kind[j],
            icao[a],
            chars[a],
            category[a],
            ident_tc[a],
            nic_a[a],
            sil[a],
            gnss[a],
            lat[j],
            lon[j],
            odd[j],
            alt[j],
            nic[j],
            nacp[j],
            gs[j],
            trk[j],
            vr[j],
            dalt[j],
            salt[j],
        )
        if bad != 0 and first_bad < 0:
            first_bad = i
    return first_bad


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


@dataclass(frozen=True, slots=True)
class Avionics:
    """Per-aircraft inputs of :func:`encode_messages` (one row per aircraft).

    ``chars``: 48-bit identification field (:func:`callsign_code`); ``gnss``: positions with
    GNSS height (TC 20-22) instead of barometric altitude.
    """

    icao: I64
    nic_a: I64
    chars: I64
    sil: I64
    category: I64
    ident_tc: I64
    gnss: npt.NDArray[np.bool_]


def encode_messages(
    take: I64,
    aircraft: I64,
    kind: I64,
    avionics: Avionics,
    *,
    latitude: F64,
    longitude: F64,
    odd: I64,
    altitude_ft: F64,
    nic: I64,
    nacp: I64,
    groundspeed_kt: F64,
    track_deg: F64,
    vertical_rate_fpm: F64,
    gnss_baro_diff_ft: F64,
    selected_altitude_ft: F64,
) -> U8:
    """Frames of messages ``take`` (indices into the per-message columns), in that order.

    Per-message columns have one value per message (NaN: not available, as in
    :func:`field_values`); ``aircraft[j]`` is the row of message ``j`` in ``avionics``.
    Compiled: one pass per frame, CRC included; gives the bytes of :func:`encode_one`.
    """
    out = np.empty((take.shape[0], 14), dtype=np.uint8)
    av = avionics

    def c(x: npt.ArrayLike, dtype: type) -> npt.NDArray[Any]:
        return np.require(x, dtype, ["C", "W"])

    bad = _encode_kernel(
        out,
        c(take, np.int64),
        c(aircraft, np.int64),
        c(kind, np.int64),
        c(latitude, np.float64),
        c(longitude, np.float64),
        c(odd, np.int64),
        c(altitude_ft, np.float64),
        c(nic, np.int64),
        c(nacp, np.int64),
        c(groundspeed_kt, np.float64),
        c(track_deg, np.float64),
        c(vertical_rate_fpm, np.float64),
        c(gnss_baro_diff_ft, np.float64),
        c(selected_altitude_ft, np.float64),
        c(av.icao, np.int64),
        c(av.nic_a, np.int64),
        c(av.chars, np.int64),
        c(av.sil, np.int64),
        c(av.category, np.int64),
        c(av.ident_tc, np.int64),
        c(av.gnss, np.bool_),
        encoder_tables(),
    )
    if bad >= 0:
        raise ValueError(f"a value of message {int(take[bad])} does not fit its DF17 field")
    return out


def _ints(values: npt.ArrayLike | None, n: int, default: int) -> I64:
    """An integer column as :func:`field_values` reads it (floats: NaN -> 0, truncated)."""
    if values is None:
        return np.full(n, default, dtype=np.int64)
    v = np.asarray(values)
    if v.dtype.kind not in "iub":
        v = np.nan_to_num(v.astype(np.float64))
    return np.broadcast_to(v.astype(np.int64, copy=False), (n,))


def _floats(values: npt.ArrayLike | None, n: int, default: float) -> F64:
    if values is None:
        return np.full(n, default, dtype=np.float64)
    return np.broadcast_to(np.asarray(values, dtype=np.float64), (n,))


def encode_matrix(
    kind: npt.ArrayLike,
    icao: npt.ArrayLike,
    *,
    latitude: npt.ArrayLike | None = None,
    longitude: npt.ArrayLike | None = None,
    odd: npt.ArrayLike | None = None,
    altitude_ft: npt.ArrayLike | None = None,
    gnss: npt.ArrayLike | None = None,
    nic: npt.ArrayLike | None = None,
    nic_a: npt.ArrayLike | None = None,
    nacp: npt.ArrayLike | None = None,
    sil: npt.ArrayLike | None = None,
    groundspeed_kt: npt.ArrayLike | None = None,
    track_deg: npt.ArrayLike | None = None,
    vertical_rate_fpm: npt.ArrayLike | None = None,
    gnss_baro_diff_ft: npt.ArrayLike | None = None,
    selected_altitude_ft: npt.ArrayLike | None = None,
    callsign: npt.ArrayLike | None = None,
    category: npt.ArrayLike | None = None,
    ident_tc: npt.ArrayLike | None = None,
) -> U8:
    """Encode one DF17 frame per row (arguments of :func:`field_values`); (n, 14) bytes."""
    k = np.asarray(kind, dtype=np.int64)
    n = k.shape[0]
    rows = np.arange(n, dtype=np.int64)
    chars = np.zeros(n, dtype=np.int64)
    ident = k == KIND_IDENT
    if ident.any():
        raw = np.broadcast_to(np.asarray(callsign if callsign is not None else "", "S8"), (n,))
        chars[ident] = callsign_code(raw[ident])
    avionics = Avionics(
        icao=_ints(icao, n, 0),
        nic_a=_ints(nic_a, n, 0),
        chars=chars,
        sil=_ints(sil, n, 3),
        category=_ints(category, n, 3),
        ident_tc=_ints(ident_tc, n, 4),
        gnss=np.broadcast_to(np.asarray(gnss if gnss is not None else False, bool), (n,)),
    )
    return encode_messages(
        rows,
        rows,
        k,
        avionics,
        latitude=_floats(latitude, n, 0.0),
        longitude=_floats(longitude, n, 0.0),
        odd=_ints(odd, n, 0),
        altitude_ft=_floats(altitude_ft, n, np.nan),
        nic=_ints(nic, n, 8),
        nacp=_ints(nacp, n, 9),
        groundspeed_kt=_floats(groundspeed_kt, n, np.nan),
        track_deg=_floats(track_deg, n, 0.0),
        vertical_rate_fpm=_floats(vertical_rate_fpm, n, np.nan),
        gnss_baro_diff_ft=_floats(gnss_baro_diff_ft, n, np.nan),
        selected_altitude_ft=_floats(selected_altitude_ft, n, np.nan),
    )


def frames_table(
    mat: U8, time_ns: npt.ArrayLike | None = None, signal: npt.ArrayLike | None = None
) -> pa.Table:
    """A RAW_FRAMES table from a (n, 14) frame matrix, int64 UTC ns times and signal bytes."""
    n = mat.shape[0]
    buf = np.ascontiguousarray(mat).reshape(-1)
    frames = pa.Array.from_buffers(
        pa.binary(),
        n,
        [None, pa.py_buffer(np.arange(0, 14 * n + 1, 14, dtype=np.int32)), pa.py_buffer(buf)],
    )
    if time_ns is None:
        times = pa.nulls(n, TIME_TYPE)
    else:
        times = pa.array(np.asarray(time_ns, dtype=np.int64), type=pa.int64()).cast(TIME_TYPE)
    sig = (
        pa.nulls(n, pa.uint8())
        if signal is None
        else pa.array(np.asarray(signal, dtype=np.uint8), type=pa.uint8())
    )
    return pa.table([times, frames, sig], schema=RAW_FRAMES)


# --------------------------------------------------------------------------------------------
# single-message reference path


def encode_one(kind: int, icao: int, **values: float | int | str | bool | None) -> bytes:
    """Encode one frame through the scalar :func:`put` / :func:`crc24` path (for tests).

    Takes the keyword arguments of :func:`field_values` as scalars; must give the same bytes
    as the vectorized :func:`encode_matrix`.
    """
    parts = field_values(np.array([kind]), np.array([icao]), **values)  # type: ignore[arg-type]
    word = 0
    for kd, name, column in parts:
        if kd is None or kd == kind:
            word = put(int(column[0]), FIELDS[name], word)
    data = (word >> 24).to_bytes(11, "big")
    return data + crc24(data).to_bytes(3, "big")


__all__ = [
    "KIND_IDENT",
    "KIND_NAMES",
    "KIND_POSITION",
    "KIND_STATUS",
    "KIND_TARGET",
    "KIND_VELOCITY",
    "NIC_TO_TC",
    "Avionics",
    "baro_altitude_code",
    "callsign_code",
    "cpr_encode",
    "cpr_nl",
    "encode_matrix",
    "encode_messages",
    "encode_one",
    "encode_row",
    "encoder_tables",
    "field_values",
    "frames_table",
    "gnss_height_code",
    "nic_type_code",
    "reachable_nic",
]
