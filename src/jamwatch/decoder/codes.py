"""Bit fields of a Mode S frame and the codings of their values, for the decoder's kernels.

``F_*`` are (start bit, length) pairs of :data:`jamwatch.decoder.fields.FIELDS`, read with
:func:`bits`; :func:`altitude_ft` decodes a 12-bit altitude code (25 ft steps or Gillham),
:func:`surface_speed` the surface movement code and ``CHARS`` the identification characters.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
import numpy.typing as npt

from jamwatch.decoder.fields import CHARSET, FIELDS


def _f(name: str) -> tuple[int, int]:
    """(start bit, length) of the field ``name`` of :data:`FIELDS`."""
    field = FIELDS[name]
    return (field.start, field.length)


F_DF, F_CA, F_ICAO, F_TC = _f("df"), _f("ca"), _f("icao"), _f("tc")
F_ID_CHARS = _f("id_chars")
F_NICB, F_ALT, F_ODD, F_LAT, F_LON = (
    _f("pos_nicb"),
    _f("pos_alt"),
    _f("pos_odd"),
    _f("pos_lat"),
    _f("pos_lon"),
)
F_MOV, F_TRK_OK, F_TRK = _f("surf_mov"), _f("surf_trk_ok"), _f("surf_trk")
F_VST = _f("vel_st")
F_EW_S, F_EW, F_NS_S, F_NS = _f("vel_ew_sign"), _f("vel_ew"), _f("vel_ns_sign"), _f("vel_ns")
F_HDG_OK, F_HDG, F_AS = _f("vel_hdg_ok"), _f("vel_hdg"), _f("vel_as")
F_VR_S, F_VR, F_DA_S, F_DA = (
    _f("vel_vr_sign"),
    _f("vel_vr"),
    _f("vel_dalt_sign"),
    _f("vel_dalt"),
)
F_TSS_ST, F_TSS_NACP, F_TSS_SIL = _f("tss_subtype"), _f("tss_nacp"), _f("tss_sil")
F_OPS_ST, F_OPS_NICC, F_OPS_VER = _f("ops_subtype"), _f("ops_nicc"), _f("ops_version")
F_OPS_NICA, F_OPS_NACP, F_OPS_SIL = _f("ops_nica"), _f("ops_nacp"), _f("ops_sil")

CHARS = np.frombuffer(CHARSET.encode("ascii"), dtype=np.uint8).copy()


@nb.njit(cache=True, nogil=True, inline="always")
def bits(mat: npt.NDArray[np.uint8], i: int, f: tuple[int, int]) -> int:  # pragma: no cover
    """The unsigned value of field ``f`` (start bit, length) of frame ``i`` of ``mat``."""
    start, length = f
    first = (start - 1) // 8
    last = (start + length - 2) // 8
    val = np.int64(0)
    for k in range(first, last + 1):
        val = (val << 8) | np.int64(mat[i, k])
    shift = (last + 1) * 8 - (start + length - 1)
    return int((val >> shift) & ((np.int64(1) << length) - 1))


@nb.njit(cache=True, nogil=True)
def gillham_ft(ac12: int) -> float:  # pragma: no cover
    """Altitude in feet of a 12-bit AC field coded in Gillham (Q = 0); NaN if invalid."""
    # 12-bit order: C1 A1 C2 A2 C4 A4 B1 Q B2 D2 B4 D4
    c1 = (ac12 >> 11) & 1
    a1 = (ac12 >> 10) & 1
    c2 = (ac12 >> 9) & 1
    a2 = (ac12 >> 8) & 1
    c4 = (ac12 >> 7) & 1
    a4 = (ac12 >> 6) & 1
    b1 = (ac12 >> 5) & 1
    b2 = (ac12 >> 3) & 1
    d2 = (ac12 >> 2) & 1
    b4 = (ac12 >> 1) & 1
    d4 = ac12 & 1
    if c1 == 0 and c2 == 0 and c4 == 0:
        return math.nan
    hundreds = 0
    if c1:
        hundreds ^= 7
    if c2:
        hundreds ^= 3
    if c4:
        hundreds ^= 1
    if (hundreds & 5) == 5:
        hundreds ^= 2
    if hundreds > 5:
        return math.nan
    fives = 0
    if d2:
        fives ^= 0xFF
    if d4:
        fives ^= 0x7F
    if a1:
        fives ^= 0x3F
    if a2:
        fives ^= 0x1F
    if a4:
        fives ^= 0x0F
    if b1:
        fives ^= 0x07
    if b2:
        fives ^= 0x03
    if b4:
        fives ^= 0x01
    if fives & 1:
        hundreds = 6 - hundreds
    return float((fives * 5 + hundreds - 13) * 100)


@nb.njit(cache=True, nogil=True)
def altitude_ft(ac12: int) -> float:  # pragma: no cover
    """Barometric altitude of a 12-bit AC field (Q bit: 25 ft steps, else Gillham)."""
    if ac12 == 0:
        return math.nan
    if ac12 & 0x10:
        n = ((ac12 & 0xFE0) >> 1) | (ac12 & 0x0F)
        return float(n * 25 - 1000)
    return gillham_ft(ac12)


@nb.njit(cache=True, nogil=True)
def surface_speed(mov: int) -> float:  # pragma: no cover
    """Ground speed in knots of a 7-bit surface movement code; NaN when not available."""
    if mov == 0 or mov > 124:
        return math.nan
    if mov == 1:
        return 0.0
    if mov <= 8:
        return 0.125 + (mov - 2) * 0.125
    if mov <= 12:
        return 1.0 + (mov - 9) * 0.25
    if mov <= 38:
        return 2.0 + (mov - 13) * 0.5
    if mov <= 93:
        return 15.0 + (mov - 39) * 1.0
    if mov <= 108:
        return 70.0 + (mov - 94) * 2.0
    if mov <= 123:
        return 100.0 + (mov - 109) * 5.0
    return 175.0
