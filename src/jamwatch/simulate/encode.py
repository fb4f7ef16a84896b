"""DF17 extended-squitter encoders: whole NumPy columns in, a RAW_FRAMES Arrow table out.

Every field is written at the position given by the shared table
:data:`jamwatch.decoder.fields.FIELDS`, the same table the decoder reads, so encoder and
decoder cannot drift apart. :func:`encode_matrix` builds an (n, 14) byte matrix with the
compiled frame writer of :mod:`jamwatch.simulate.frame` (one pass per frame, CRC included);
:func:`field_values` holds the same codings in NumPy, as the reference.
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

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from jamwatch.decoder.crc import crc24
from jamwatch.decoder.fields import CHARSET, FIELDS, put
from jamwatch.schema import RAW_FRAMES, TIME_TYPE
from jamwatch.simulate.columns import Avionics, encode_messages
from jamwatch.simulate.frame import (
    CA_AIRBORNE,
    CPR_BITS,
    CPR_SCALE,
    FT_PER_M,
    KIND_IDENT,
    KIND_NAMES,
    KIND_POSITION,
    KIND_STATUS,
    KIND_TARGET,
    KIND_VELOCITY,
    NIC_TO_TC,
    NZ,
)

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]

#: inverse of the ADS-B character set: ASCII byte -> 6-bit code (unknown characters -> space)
_CHAR_CODE = np.full(256, 32, dtype=np.int64)
for _code, _char in enumerate(CHARSET):
    if _char != "#":
        _CHAR_CODE[ord(_char)] = _code


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
#: the type code and the fields of the rows of one message kind (values of those rows only)
KindFields = tuple[npt.ArrayLike, list[tuple[str, npt.ArrayLike]]]


def _identification_fields(
    sel: npt.NDArray[np.bool_],
    n: int,
    ident_tc: npt.ArrayLike | None,
    category: npt.ArrayLike | None,
    callsign: npt.ArrayLike | None,
) -> KindFields:
    """Identification (TC 1-4) rows ``sel``: emitter category and the eight characters."""
    tc = np.nan_to_num(_col(ident_tc, n, 4)).astype(np.int64)[sel]
    raw = callsign if callsign is not None else ""
    cs = np.broadcast_to(np.asarray(raw, dtype="S8"), (n,))
    return tc, [
        ("id_category", np.nan_to_num(_col(category, n, 3))[sel]),
        ("id_chars", callsign_code(cs[sel])),
    ]


def _position_fields(
    sel: npt.NDArray[np.bool_],
    n: int,
    nic_v: I64,
    nic_a_v: I64,
    altitude_ft: npt.ArrayLike | None,
    gnss: npt.ArrayLike | None,
    odd: npt.ArrayLike | None,
    latitude: npt.ArrayLike | None,
    longitude: npt.ArrayLike | None,
) -> KindFields:
    """Airborne position rows ``sel``: type code, NIC-B, altitude, CPR format and coordinates.

    The type code carries the NIC (TC 20-22 with ``gnss``, the altitude then a GNSS height).
    """
    alt = _col(altitude_ft, n, np.nan)[sel]
    flag = gnss if gnss is not None else False
    is_gnss = np.broadcast_to(np.asarray(flag, dtype=bool), (n,))[sel]
    ptc, nicb = nic_type_code(nic_v[sel], nic_a_v[sel])
    gtc = np.where(nic_v[sel] >= 11, 20, np.where(nic_v[sel] == 10, 21, 22))
    code = np.where(is_gnss, gnss_height_code(alt / FT_PER_M), baro_altitude_code(alt))
    f_raw = odd if odd is not None else 0
    f = np.broadcast_to(np.asarray(f_raw, dtype=np.int64), (n,))[sel]
    yz, xz = cpr_encode(_col(latitude, n, 0)[sel], _col(longitude, n, 0)[sel], f)
    return np.where(is_gnss, gtc, ptc), [
        ("pos_nicb", np.where(is_gnss, 0, nicb)),
        ("pos_alt", code),
        ("pos_odd", f),
        ("pos_lat", yz),
        ("pos_lon", xz),
    ]


def _velocity_fields(
    sel: npt.NDArray[np.bool_],
    n: int,
    groundspeed_kt: npt.ArrayLike | None,
    track_deg: npt.ArrayLike | None,
    vertical_rate_fpm: npt.ArrayLike | None,
    gnss_baro_diff_ft: npt.ArrayLike | None,
) -> KindFields:
    """Airborne velocity rows ``sel`` (TC 19): subtype and east and north velocities.

    Then the barometric vertical rate and the GNSS minus barometric altitude.
    """
    gs = _col(groundspeed_kt, n, np.nan)[sel]
    trk = np.radians(_col(track_deg, n, 0)[sel])
    vew = gs * np.sin(trk)
    vns = gs * np.cos(trk)
    fast = (np.abs(np.nan_to_num(vew)) > 1021.5) | (np.abs(np.nan_to_num(vns)) > 1021.5)
    step = np.where(fast, 4.0, 1.0)
    fields: list[tuple[str, npt.ArrayLike]] = [
        ("vel_st", np.where(fast, 2, 1)),
        ("vel_nacv", np.ones(gs.shape[0])),
    ]
    for comp, f_sign, f_val in ((vew, "vel_ew_sign", "vel_ew"), (vns, "vel_ns_sign", "vel_ns")):
        mag = np.clip(np.round(np.abs(np.nan_to_num(comp)) / step) + 1, 1, 1023)
        fields.append((f_sign, (comp < 0) & (mag > 1)))
        fields.append((f_val, np.where(np.isnan(comp), 0, mag)))
    fields.append(("vel_vr_src", np.ones(gs.shape[0])))  # 1 = baro (DO-260B)
    s, v = _signed(_col(vertical_rate_fpm, n, np.nan)[sel], 64.0, 9)
    fields += [("vel_vr_sign", s), ("vel_vr", v)]
    s, v = _signed(_col(gnss_baro_diff_ft, n, np.nan)[sel], 25.0, 7)
    fields += [("vel_dalt_sign", s), ("vel_dalt", v)]
    return 19, fields


def _target_fields(
    sel: npt.NDArray[np.bool_],
    n: int,
    nacp_v: I64,
    sil_v: I64,
    selected_altitude_ft: npt.ArrayLike | None,
) -> KindFields:
    """Target state and status rows ``sel`` (TC 29 subtype 1): selected altitude, NACp, SIL."""
    ones = np.ones(int(sel.sum()))
    salt = _col(selected_altitude_ft, n, np.nan)[sel]
    code = np.clip(np.round(np.nan_to_num(salt) / 32.0) + 1, 1, 2047)
    return 29, [
        ("tss_subtype", ones),
        ("tss_alt", np.where(np.isnan(salt), 0, code)),
        ("tss_nacp", nacp_v[sel]),
        ("tss_nic_baro", ones),
        ("tss_sil", sil_v[sel]),
    ]


def _status_fields(sel: npt.NDArray[np.bool_], nic_a_v: I64, nacp_v: I64, sil_v: I64) -> KindFields:
    """Operational status rows ``sel`` (TC 31, airborne, version 2): NIC-A, NACp, GVA, SIL."""
    m = int(sel.sum())
    return 31, [
        ("ops_subtype", np.zeros(m)),
        ("ops_version", np.full(m, 2)),
        ("ops_nica", nic_a_v[sel]),
        ("ops_nacp", nacp_v[sel]),
        ("ops_gva", np.full(m, 2)),
        ("ops_sil", sil_v[sel]),
        ("ops_nic_baro", np.ones(m)),
    ]


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

    def add(kd: int, sel: npt.NDArray[np.bool_], fields: KindFields) -> None:
        tc_sel, columns = fields
        tc[sel] = tc_sel
        for name, values in columns:
            full = np.zeros(n, dtype=np.int64)
            full[sel] = np.asarray(values, dtype=np.int64)
            parts.append((kd, name, full))

    sel = k == KIND_IDENT
    if sel.any():
        add(KIND_IDENT, sel, _identification_fields(sel, n, ident_tc, category, callsign))
    sel = k == KIND_POSITION
    if sel.any():
        fields = _position_fields(
            sel, n, nic_v, nic_a_v, altitude_ft, gnss, odd, latitude, longitude
        )
        add(KIND_POSITION, sel, fields)
    sel = k == KIND_VELOCITY
    if sel.any():
        fields = _velocity_fields(
            sel, n, groundspeed_kt, track_deg, vertical_rate_fpm, gnss_baro_diff_ft
        )
        add(KIND_VELOCITY, sel, fields)
    sel = k == KIND_TARGET
    if sel.any():
        add(KIND_TARGET, sel, _target_fields(sel, n, nacp_v, sil_v, selected_altitude_ft))
    sel = k == KIND_STATUS
    if sel.any():
        add(KIND_STATUS, sel, _status_fields(sel, nic_a_v, nacp_v, sil_v))
    parts.append((None, "tc", tc))
    return parts


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
    "baro_altitude_code",
    "callsign_code",
    "cpr_encode",
    "cpr_nl",
    "encode_matrix",
    "encode_one",
    "field_values",
    "frames_table",
    "gnss_height_code",
    "nic_type_code",
    "reachable_nic",
]
