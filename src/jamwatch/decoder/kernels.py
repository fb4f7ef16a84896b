"""Compiled column kernels of the decoder and the layouts of the arrays they write.

``fields_kernel`` reads every stateless field of every frame in one pass over a (n, 14)
byte matrix: the header, then the ME field of an ADS-B message with the reader of its type
code. ``state_kernel`` (:mod:`jamwatch.decoder.state`) walks the ADS-B frames in time order
with one state slot per aircraft: CPR pairing and local decoding, the latest TC31/TC29
integrity values, and the NIC of each position message. Both write into NumPy arrays
prefilled with nulls: NaN for floats and -1 for small integers. The bit fields and their
codings are in :mod:`jamwatch.decoder.codes`.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
import numpy.typing as npt

from jamwatch.decoder.codes import (
    CHARS,
    F_ALT,
    F_AS,
    F_CA,
    F_DA,
    F_DA_S,
    F_DF,
    F_EW,
    F_EW_S,
    F_HDG,
    F_HDG_OK,
    F_ICAO,
    F_ID_CHARS,
    F_LAT,
    F_LON,
    F_MOV,
    F_NICB,
    F_NS,
    F_NS_S,
    F_ODD,
    F_OPS_NACP,
    F_OPS_NICA,
    F_OPS_NICC,
    F_OPS_SIL,
    F_OPS_ST,
    F_OPS_VER,
    F_TC,
    F_TRK,
    F_TRK_OK,
    F_TSS_NACP,
    F_TSS_SIL,
    F_TSS_ST,
    F_VR,
    F_VR_S,
    F_VST,
    altitude_ft,
    bits,
    surface_speed,
)
from jamwatch.decoder.crc import residual_row

# position kinds
POS_NONE, POS_AIRBORNE, POS_SURFACE = 0, 1, 2

# reject / note counters written by the kernels (index into the counts array)
R_CRC, R_LENGTH, R_ZONE, R_IMPLAUSIBLE, R_NOREF, R_PENDING, R_CORRUPT_FIELD, R_UNCONFIRMED = range(
    8
)
REASONS = (
    "crc",
    "length_mismatch",
    "cpr_zone_mismatch",
    "cpr_implausible",
    "surface_no_reference",
    "position_waiting_for_pair",
    "invalid_field",
    "position_unconfirmed",
)

# rows of the per-frame integer matrix ``i8`` written by ``fields_kernel`` (-1 = null)
I8_DF = 0  # downlink format
I8_CA = 1  # capability (DF11/17) or code format (DF18)
I8_CRC_OK = 2  # 1 when the parity checks, else 0
I8_TC = 3  # ADS-B type code
I8_POS_KIND = 4  # POS_NONE, POS_AIRBORNE or POS_SURFACE
I8_CPR_ODD = 5  # CPR format bit: 1 odd, 0 even
I8_NICB = 6  # NIC supplement-B of an airborne position
I8_NACP = 7  # NACp of this message (TC29 or TC31)
I8_SIL = 8  # SIL of this message (TC29 or TC31)
I8_VERSION = 9  # ADS-B version (TC31)
I8_NICA = 10  # NIC supplement-A (TC31)
I8_NICC = 11  # NIC supplement-C (TC31 surface, version 2)
I8_ADSB = 12  # 1 when the ME field is ADS-B and the CRC is good
I8_HAS_CALLSIGN = 13  # 1 when ``chars`` holds an identification
I8_ROWS = 14

# rows of the per-frame float matrix ``f8`` written by ``fields_kernel`` (NaN = null)
F8_ALT_BARO = 0  # barometric altitude, ft
F8_ALT_GNSS = 1  # GNSS height, ft
F8_GROUNDSPEED = 2  # groundspeed, kt
F8_TRACK = 3  # track over ground, degrees
F8_AIRSPEED = 4  # airspeed, kt
F8_HEADING = 5  # heading, degrees
F8_VRATE = 6  # vertical rate, ft/min
F8_GNSS_BARO = 7  # GNSS minus barometric altitude, ft
F8_ROWS = 8

# columns of the per-aircraft integer state ``s_i`` (times in ns, INT64_MIN when unset;
# integrity values -1 when unknown)
SI_EVEN_LAT = 0  # latest even CPR latitude (17-bit count)
SI_EVEN_LON = 1  # latest even CPR longitude (17-bit count)
SI_EVEN_T = 2  # time of the latest even frame, ns
SI_ODD_LAT = 3  # latest odd CPR latitude (17-bit count)
SI_ODD_LON = 4  # latest odd CPR longitude (17-bit count)
SI_ODD_T = 5  # time of the latest odd frame, ns
SI_LAST_T = 6  # time of the last accepted position (the local-decode reference), ns
SI_VERSION = 7  # latest ADS-B version
SI_NICA = 8  # latest NIC supplement-A
SI_NICC = 9  # latest NIC supplement-C
SI_NACP = 10  # latest NACp
SI_SIL = 11  # latest SIL
SI_TENT_T = 12  # time of a tentative global fix awaiting confirmation, ns
SI_COLS = 13
SI_TIMES = (SI_EVEN_T, SI_ODD_T, SI_LAST_T, SI_TENT_T)  # the columns holding times

# columns of the per-aircraft float state ``s_f`` (NaN when unset)
SF_LAST_LAT = 0  # last accepted latitude, degrees
SF_LAST_LON = 1  # last accepted longitude, degrees
SF_TENT_LAT = 2  # tentative global fix latitude, degrees
SF_TENT_LON = 3  # tentative global fix longitude, degrees
SF_COLS = 4

# rows of the per-frame output ``out_i8`` written by ``state_kernel`` (-1 = null)
OUT_NIC = 0  # NIC of a position message
OUT_NACP = 1  # aircraft's latest NACp
OUT_SIL = 2  # aircraft's latest SIL
OUT_VERSION = 3  # aircraft's latest ADS-B version
OUT_ROWS = 4


# The readers below are compiled on their own and inlined into ``fields_kernel`` by LLVM
# (``forceinline``). Numba's own inlining (``inline="always"``) copies array arguments into
# new variables and, with branches, cannot always remove their reference counting from the
# kernel's loop, which slows it down; for the same reason the checks that decide whether a
# reader runs (and count a rejection) stay in the kernel.


@nb.njit(cache=True, nogil=True, forceinline=True)
def _identification(
    mat: npt.NDArray[np.uint8], i: int, i8: npt.NDArray[np.int16], chars: npt.NDArray[np.uint8]
) -> None:  # pragma: no cover
    """TC 1-4: the eight callsign characters of frame ``i`` into ``chars``."""
    raw = bits(mat, i, F_ID_CHARS)
    for k in range(8):
        chars[i, k] = CHARS[(raw >> (42 - 6 * k)) & 0x3F]
    i8[I8_HAS_CALLSIGN, i] = 1


@nb.njit(cache=True, nogil=True, forceinline=True)
def _surface_position(
    mat: npt.NDArray[np.uint8],
    i: int,
    i8: npt.NDArray[np.int16],
    cpr_lat: npt.NDArray[np.int32],
    cpr_lon: npt.NDArray[np.int32],
    f8: npt.NDArray[np.float64],
) -> None:  # pragma: no cover
    """TC 5-8: CPR format and coordinates, ground speed and (when valid) track."""
    i8[I8_POS_KIND, i] = POS_SURFACE
    i8[I8_CPR_ODD, i] = bits(mat, i, F_ODD)
    cpr_lat[i] = bits(mat, i, F_LAT)
    cpr_lon[i] = bits(mat, i, F_LON)
    f8[F8_GROUNDSPEED, i] = surface_speed(bits(mat, i, F_MOV))
    if bits(mat, i, F_TRK_OK):
        f8[F8_TRACK, i] = bits(mat, i, F_TRK) * 360.0 / 128.0


@nb.njit(cache=True, nogil=True, forceinline=True)
def _airborne_position(
    mat: npt.NDArray[np.uint8],
    i: int,
    i8: npt.NDArray[np.int16],
    cpr_lat: npt.NDArray[np.int32],
    cpr_lon: npt.NDArray[np.int32],
) -> int:  # pragma: no cover
    """TC 9-18 and 20-22: CPR format and coordinates and NIC-B; returns the altitude code."""
    i8[I8_POS_KIND, i] = POS_AIRBORNE
    i8[I8_CPR_ODD, i] = bits(mat, i, F_ODD)
    i8[I8_NICB, i] = bits(mat, i, F_NICB)
    cpr_lat[i] = bits(mat, i, F_LAT)
    cpr_lon[i] = bits(mat, i, F_LON)
    return bits(mat, i, F_ALT)


@nb.njit(cache=True, nogil=True, forceinline=True)
def _ground_velocity(
    mat: npt.NDArray[np.uint8], i: int, st: int, f8: npt.NDArray[np.float64]
) -> None:  # pragma: no cover
    """TC 19 subtypes 1-2: ground speed and track from the east and north velocities."""
    ew = bits(mat, i, F_EW)
    ns = bits(mat, i, F_NS)
    if ew != 0 and ns != 0:
        scale = 4.0 if st == 2 else 1.0
        vew = (ew - 1) * scale * (-1.0 if bits(mat, i, F_EW_S) else 1.0)
        vns = (ns - 1) * scale * (-1.0 if bits(mat, i, F_NS_S) else 1.0)
        f8[F8_GROUNDSPEED, i] = math.sqrt(vew * vew + vns * vns)
        trk = math.degrees(math.atan2(vew, vns))
        f8[F8_TRACK, i] = trk + 360.0 if trk < 0 else trk


@nb.njit(cache=True, nogil=True, forceinline=True)
def _air_velocity(
    mat: npt.NDArray[np.uint8], i: int, st: int, f8: npt.NDArray[np.float64]
) -> None:  # pragma: no cover
    """TC 19 subtypes 3-4: heading (when valid) and airspeed."""
    if bits(mat, i, F_HDG_OK):
        f8[F8_HEADING, i] = bits(mat, i, F_HDG) * 360.0 / 1024.0
    spd = bits(mat, i, F_AS)
    if spd != 0:
        f8[F8_AIRSPEED, i] = (spd - 1) * (4.0 if st == 4 else 1.0)


@nb.njit(cache=True, nogil=True, forceinline=True)
def _vertical(
    mat: npt.NDArray[np.uint8], i: int, f8: npt.NDArray[np.float64]
) -> None:  # pragma: no cover
    """TC 19: vertical rate and GNSS minus barometric altitude."""
    vr = bits(mat, i, F_VR)
    if vr != 0:
        f8[F8_VRATE, i] = (vr - 1) * 64.0 * (-1.0 if bits(mat, i, F_VR_S) else 1.0)
    da = bits(mat, i, F_DA)
    if da != 0:
        f8[F8_GNSS_BARO, i] = (da - 1) * 25.0 * (-1.0 if bits(mat, i, F_DA_S) else 1.0)


@nb.njit(cache=True, nogil=True, forceinline=True)
def _velocity(
    mat: npt.NDArray[np.uint8], i: int, f8: npt.NDArray[np.float64]
) -> bool:  # pragma: no cover
    """TC 19: the velocity of its subtype, then the vertical fields; False for a subtype
    other than 1-4 (nothing read)."""
    st = bits(mat, i, F_VST)
    if st == 1 or st == 2:
        _ground_velocity(mat, i, st, f8)
    elif st == 3 or st == 4:
        _air_velocity(mat, i, st, f8)
    else:
        return False
    _vertical(mat, i, f8)
    return True


@nb.njit(cache=True, nogil=True, forceinline=True)
def _target_state(
    mat: npt.NDArray[np.uint8], i: int, i8: npt.NDArray[np.int16]
) -> None:  # pragma: no cover
    """TC 29 (subtype 1): NACp and SIL."""
    if bits(mat, i, F_TSS_ST) == 1:
        i8[I8_NACP, i] = bits(mat, i, F_TSS_NACP)
        i8[I8_SIL, i] = bits(mat, i, F_TSS_SIL)


@nb.njit(cache=True, nogil=True, forceinline=True)
def _operational_status(
    mat: npt.NDArray[np.uint8], i: int, st: int, ver: int, i8: npt.NDArray[np.int16]
) -> None:  # pragma: no cover
    """TC 31 of subtype ``st`` and version ``ver`` (not reserved): the version and, from
    version 1, NIC-A, NACp and SIL (and NIC-C of a version 2 surface message)."""
    i8[I8_VERSION, i] = ver
    if ver >= 1:
        i8[I8_NICA, i] = bits(mat, i, F_OPS_NICA)
        i8[I8_NACP, i] = bits(mat, i, F_OPS_NACP)
        i8[I8_SIL, i] = bits(mat, i, F_OPS_SIL)
        if st == 1 and ver == 2:
            i8[I8_NICC, i] = bits(mat, i, F_OPS_NICC)


@nb.njit(cache=True, nogil=True)
def fields_kernel(
    mat: npt.NDArray[np.uint8],
    nbytes: npt.NDArray[np.uint8],
    i8: npt.NDArray[np.int16],
    icao: npt.NDArray[np.int32],
    cpr_lat: npt.NDArray[np.int32],
    cpr_lon: npt.NDArray[np.int32],
    f8: npt.NDArray[np.float64],
    chars: npt.NDArray[np.uint8],
    counts: npt.NDArray[np.int64],
) -> None:  # pragma: no cover
    """Stateless fields of every frame: the header, then the ME field of an ADS-B message.

    ``i8`` has rows ``I8_*`` (``I8_ROWS`` of them), ``f8`` rows ``F8_*`` (``F8_ROWS``).
    """
    n = mat.shape[0]
    for i in range(n):
        # header: downlink format, address and parity
        nb_ = int(nbytes[i])
        if nb_ != 7 and nb_ != 14:
            continue  # Mode A/C or junk: df stays null
        df = bits(mat, i, F_DF)
        if df >= 24:
            df = 24  # DF24 (Comm-D) uses only its first two bits
        long_df = df >= 16
        if long_df != (nb_ == 14):
            counts[R_LENGTH] += 1
            i8[I8_DF, i] = df
            continue
        i8[I8_DF, i] = df
        res = residual_row(mat, i, nb_)
        if df == 17 or df == 18 or df == 11:
            i8[I8_CA, i] = bits(mat, i, F_CA)
            icao[i] = bits(mat, i, F_ICAO)
            if df == 11:
                i8[I8_CRC_OK, i] = 1 if (res & 0xFFFF80) == 0 else 0
            else:
                ok = res == 0
                i8[I8_CRC_OK, i] = 1 if ok else 0
                if not ok:
                    counts[R_CRC] += 1
        elif df in (0, 4, 5, 16, 20, 21):
            icao[i] = res
            continue
        else:
            continue
        if df == 11 or i8[I8_CRC_OK, i] != 1:
            continue
        cf = i8[I8_CA, i]
        if df == 18 and not (cf == 0 or cf == 1 or cf == 2 or cf == 5 or cf == 6):
            continue  # coarse TIS-B and management messages: another layout
        # ME field of an ADS-B message, by type code
        i8[I8_ADSB, i] = 1
        tc = bits(mat, i, F_TC)
        i8[I8_TC, i] = tc
        if 1 <= tc <= 4:
            _identification(mat, i, i8, chars)
        elif 5 <= tc <= 8:
            _surface_position(mat, i, i8, cpr_lat, cpr_lon, f8)
        elif (9 <= tc <= 18) or (20 <= tc <= 22):
            ac = _airborne_position(mat, i, i8, cpr_lat, cpr_lon)
            if tc <= 18:
                f8[F8_ALT_BARO, i] = altitude_ft(ac)
            elif ac != 0:
                f8[F8_ALT_GNSS, i] = ac * 3.28084  # GNSS height: metres (DO-260B 2.2.3.2.3.4.3)
        elif tc == 19:
            if not _velocity(mat, i, f8):
                counts[R_CORRUPT_FIELD] += 1
        elif tc == 29:
            _target_state(mat, i, i8)
        elif tc == 31:
            st = bits(mat, i, F_OPS_ST)
            ver = bits(mat, i, F_OPS_VER)
            if st > 1 or ver > 2:
                counts[R_CORRUPT_FIELD] += 1  # reserved subtype or version
            else:
                _operational_status(mat, i, st, ver, i8)


@nb.njit(cache=True, nogil=True)
def gather_frames(
    offsets: npt.NDArray[np.int64],
    data: npt.NDArray[np.uint8],
    mat: npt.NDArray[np.uint8],
    nbytes: npt.NDArray[np.uint8],
) -> None:  # pragma: no cover
    """Copy variable-length frames into a zero-padded (n, 14) matrix."""
    for i in range(mat.shape[0]):
        a = offsets[i]
        length = offsets[i + 1] - a
        nbytes[i] = min(length, 255)
        m = min(length, 14)
        for k in range(m):
            mat[i, k] = data[a + k]
        for k in range(m, 14):
            mat[i, k] = 0


@nb.njit(cache=True, nogil=True)
def icao_hex(icao: npt.NDArray[np.int32], out: npt.NDArray[np.uint8]) -> None:  # pragma: no cover
    """Write 6 lower-case hex digits per address into ``out`` (6 * n bytes)."""
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    for i in range(icao.shape[0]):
        v = icao[i]
        if v < 0:
            v = 0
        for k in range(6):
            out[6 * i + k] = digits[(v >> (20 - 4 * k)) & 0xF]


@nb.njit(cache=True, nogil=True)
def strip_chars(
    chars: npt.NDArray[np.uint8],
    has: npt.NDArray[np.int16],
    offsets: npt.NDArray[np.int32],
    data: npt.NDArray[np.uint8],
) -> int:  # pragma: no cover
    """Pack callsigns (trailing spaces and '#' padding stripped) into Arrow string buffers."""
    pos = 0
    for i in range(chars.shape[0]):
        offsets[i] = pos
        if has[i] != 1:
            continue
        end = 8
        while end > 0 and (chars[i, end - 1] == 32 or chars[i, end - 1] == 35):
            end -= 1
        for k in range(end):
            data[pos] = chars[i, k]
            pos += 1
    offsets[chars.shape[0]] = pos
    return pos
