"""Compiled column kernels of the decoder.

``fields_kernel`` reads every stateless field of every frame in one pass over a (n, 14)
byte matrix. ``state_kernel`` walks the ADS-B frames in time order with one state slot per
aircraft: CPR pairing and local decoding, the latest TC31/TC29 integrity values, and the NIC
of each position message. Both write into NumPy arrays prefilled with nulls: NaN for
floats and -1 for small integers.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
import numpy.typing as npt

from jamwatch.decoder import cpr
from jamwatch.decoder.crc import residual_row
from jamwatch.decoder.fields import CHARSET, FIELDS
from jamwatch.decoder.integrity import nic


def _f(name: str) -> tuple[int, int]:
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


@nb.njit(cache=True, nogil=True, inline="always")
def bits(mat: npt.NDArray[np.uint8], i: int, f: tuple[int, int]) -> int:  # pragma: no cover
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
def _surface_speed(mov: int) -> float:  # pragma: no cover
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
    """Stateless fields of every frame.

    ``i8`` has rows ``I8_*`` (``I8_ROWS`` of them), ``f8`` rows ``F8_*`` (``F8_ROWS``).
    """
    n = mat.shape[0]
    for i in range(n):
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
        i8[I8_ADSB, i] = 1
        tc = bits(mat, i, F_TC)
        i8[I8_TC, i] = tc
        if 1 <= tc <= 4:
            raw = bits(mat, i, F_ID_CHARS)
            for k in range(8):
                chars[i, k] = CHARS[(raw >> (42 - 6 * k)) & 0x3F]
            i8[I8_HAS_CALLSIGN, i] = 1
        elif 5 <= tc <= 8:
            i8[I8_POS_KIND, i] = POS_SURFACE
            i8[I8_CPR_ODD, i] = bits(mat, i, F_ODD)
            cpr_lat[i] = bits(mat, i, F_LAT)
            cpr_lon[i] = bits(mat, i, F_LON)
            f8[F8_GROUNDSPEED, i] = _surface_speed(bits(mat, i, F_MOV))
            if bits(mat, i, F_TRK_OK):
                f8[F8_TRACK, i] = bits(mat, i, F_TRK) * 360.0 / 128.0
        elif (9 <= tc <= 18) or (20 <= tc <= 22):
            i8[I8_POS_KIND, i] = POS_AIRBORNE
            i8[I8_CPR_ODD, i] = bits(mat, i, F_ODD)
            i8[I8_NICB, i] = bits(mat, i, F_NICB)
            cpr_lat[i] = bits(mat, i, F_LAT)
            cpr_lon[i] = bits(mat, i, F_LON)
            ac = bits(mat, i, F_ALT)
            if tc <= 18:
                f8[F8_ALT_BARO, i] = altitude_ft(ac)
            elif ac != 0:
                f8[F8_ALT_GNSS, i] = ac * 3.28084  # GNSS height: metres (DO-260B 2.2.3.2.3.4.3)
        elif tc == 19:
            st = bits(mat, i, F_VST)
            if st == 1 or st == 2:
                ew = bits(mat, i, F_EW)
                ns = bits(mat, i, F_NS)
                if ew != 0 and ns != 0:
                    scale = 4.0 if st == 2 else 1.0
                    vew = (ew - 1) * scale * (-1.0 if bits(mat, i, F_EW_S) else 1.0)
                    vns = (ns - 1) * scale * (-1.0 if bits(mat, i, F_NS_S) else 1.0)
                    f8[F8_GROUNDSPEED, i] = math.sqrt(vew * vew + vns * vns)
                    trk = math.degrees(math.atan2(vew, vns))
                    f8[F8_TRACK, i] = trk + 360.0 if trk < 0 else trk
            elif st == 3 or st == 4:
                if bits(mat, i, F_HDG_OK):
                    f8[F8_HEADING, i] = bits(mat, i, F_HDG) * 360.0 / 1024.0
                spd = bits(mat, i, F_AS)
                if spd != 0:
                    f8[F8_AIRSPEED, i] = (spd - 1) * (4.0 if st == 4 else 1.0)
            else:
                counts[R_CORRUPT_FIELD] += 1
                continue
            vr = bits(mat, i, F_VR)
            if vr != 0:
                f8[F8_VRATE, i] = (vr - 1) * 64.0 * (-1.0 if bits(mat, i, F_VR_S) else 1.0)
            da = bits(mat, i, F_DA)
            if da != 0:
                f8[F8_GNSS_BARO, i] = (da - 1) * 25.0 * (-1.0 if bits(mat, i, F_DA_S) else 1.0)
        elif tc == 29:
            if bits(mat, i, F_TSS_ST) == 1:
                i8[I8_NACP, i] = bits(mat, i, F_TSS_NACP)
                i8[I8_SIL, i] = bits(mat, i, F_TSS_SIL)
        elif tc == 31:
            st = bits(mat, i, F_OPS_ST)
            ver = bits(mat, i, F_OPS_VER)
            if st > 1 or ver > 2:
                counts[R_CORRUPT_FIELD] += 1
                continue
            i8[I8_VERSION, i] = ver
            if ver >= 1:
                i8[I8_NICA, i] = bits(mat, i, F_OPS_NICA)
                i8[I8_NACP, i] = bits(mat, i, F_OPS_NACP)
                i8[I8_SIL, i] = bits(mat, i, F_OPS_SIL)
                if st == 1 and ver == 2:
                    i8[I8_NICC, i] = bits(mat, i, F_OPS_NICC)


@nb.njit(cache=True, nogil=True)
def state_kernel(
    order: npt.NDArray[np.int64],
    slot: npt.NDArray[np.int64],
    time_ns: npt.NDArray[np.int64],
    i8: npt.NDArray[np.int16],
    cpr_lat: npt.NDArray[np.int32],
    cpr_lon: npt.NDArray[np.int32],
    s_i: npt.NDArray[np.int64],
    s_f: npt.NDArray[np.float64],
    out_lat: npt.NDArray[np.float64],
    out_lon: npt.NDArray[np.float64],
    out_i8: npt.NDArray[np.int16],
    counts: npt.NDArray[np.int64],
    pair_window_ns: int,
    local_window_ns: int,
    max_speed_kmps: float,
    surface_window_ns: int,
) -> None:  # pragma: no cover
    """Per-aircraft pass in time order.

    State per slot (one row per aircraft), ``s_i`` columns ``SI_*`` (-1 unknown; the times
    ``SI_TIMES`` use INT64_MIN when unset), ``s_f`` columns ``SF_*``. ``out_i8`` has rows
    ``OUT_*``.
    """
    unset = np.iinfo(np.int64).min
    for r in range(order.shape[0]):
        i = order[r]
        s = slot[i]
        if s < 0:
            continue
        t = time_ns[i]
        tc = i8[I8_TC, i]
        # integrity state first, so a TC31 row reports its own values
        if i8[I8_VERSION, i] >= 0:
            s_i[s, SI_VERSION] = i8[I8_VERSION, i]
            if i8[I8_NICA, i] >= 0:
                s_i[s, SI_NICA] = i8[I8_NICA, i]
            if i8[I8_NICC, i] >= 0:
                s_i[s, SI_NICC] = i8[I8_NICC, i]
        if i8[I8_NACP, i] >= 0:
            s_i[s, SI_NACP] = i8[I8_NACP, i]
            s_i[s, SI_SIL] = i8[I8_SIL, i]
        out_i8[OUT_NACP, i] = s_i[s, SI_NACP]
        out_i8[OUT_SIL, i] = s_i[s, SI_SIL]
        out_i8[OUT_VERSION, i] = s_i[s, SI_VERSION]
        kind = i8[I8_POS_KIND, i]
        if kind <= POS_NONE:
            continue
        version = max(s_i[s, SI_VERSION], 0)
        nica = max(s_i[s, SI_NICA], 0)
        nicc = max(s_i[s, SI_NICC], 0)
        nicb = i8[I8_NICB, i] if version >= 2 else 0
        out_i8[OUT_NIC, i] = nic(tc, version, nica, nicb, nicc)
        odd = i8[I8_CPR_ODD, i] == 1
        la = cpr_lat[i]
        lo = cpr_lon[i]
        if odd:
            s_i[s, SI_ODD_LAT] = la
            s_i[s, SI_ODD_LON] = lo
            s_i[s, SI_ODD_T] = t
        else:
            s_i[s, SI_EVEN_LAT] = la
            s_i[s, SI_EVEN_LON] = lo
            s_i[s, SI_EVEN_T] = t
        last_t = s_i[s, SI_LAST_T]
        have_ref = last_t != unset and t - last_t <= local_window_ns
        lat = math.nan
        lon = math.nan
        if kind == POS_SURFACE:
            # a surface position is local to a reference within 45 NM: the aircraft's own
            # recent position (an old one may be another airport's)
            if last_t == unset or t - last_t > surface_window_ns:
                counts[R_NOREF] += 1
                continue
            lat, lon = cpr.local(la, lo, odd, s_f[s, SF_LAST_LAT], s_f[s, SF_LAST_LON], True)
        else:
            other_t = s_i[s, SI_EVEN_T] if odd else s_i[s, SI_ODD_T]
            paired = other_t != unset and abs(t - other_t) <= pair_window_ns
            if have_ref:
                lat, lon = cpr.local(la, lo, odd, s_f[s, SF_LAST_LAT], s_f[s, SF_LAST_LON], False)
            elif paired:
                lat, lon = cpr.global_airborne(
                    s_i[s, SI_EVEN_LAT],
                    s_i[s, SI_EVEN_LON],
                    s_i[s, SI_ODD_LAT],
                    s_i[s, SI_ODD_LON],
                    odd,
                )
                if math.isnan(lat):
                    counts[R_ZONE] += 1
                    continue
                # A pair mixing frames of two places (one corrupt or spoofed) can decode to a
                # consistent but wrong position: trust a global fix only once a second one,
                # from the next pair, agrees with it.
                tent_t = s_i[s, SI_TENT_T]
                agree = False
                if tent_t != unset and 0 <= t - tent_t <= pair_window_ns:
                    reach = 2.0 + max_speed_kmps * (t - tent_t) / 1e9
                    agree = (
                        cpr.distance_km(lat, lon, s_f[s, SF_TENT_LAT], s_f[s, SF_TENT_LON]) <= reach
                    )
                if not agree:
                    s_i[s, SI_TENT_T] = t
                    s_f[s, SF_TENT_LAT] = lat
                    s_f[s, SF_TENT_LON] = lon
                    counts[R_UNCONFIRMED] += 1
                    continue
                s_i[s, SI_TENT_T] = unset
            else:
                counts[R_PENDING] += 1
                continue
        if last_t != unset:
            dt_s = max(0.0, (t - last_t) / 1e9)
            reach = 2.0 + max_speed_kmps * dt_s
            if cpr.distance_km(lat, lon, s_f[s, SF_LAST_LAT], s_f[s, SF_LAST_LON]) > reach:
                counts[R_IMPLAUSIBLE] += 1
                # the reference is no longer trusted: start again from a fresh pair
                s_i[s, SI_LAST_T] = unset
                continue
        out_lat[i] = lat
        out_lon[i] = lon
        s_f[s, SF_LAST_LAT] = lat
        s_f[s, SF_LAST_LON] = lon
        s_i[s, SI_LAST_T] = t


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
