"""The decoder's stateful pass: ``state_kernel`` and its steps.

``state_kernel`` walks the ADS-B frames in time order with one state slot per aircraft (the
layouts ``SI_*``, ``SF_*`` and ``OUT_*`` of :mod:`jamwatch.decoder.kernels`): the latest
TC31/TC29 integrity values, the NIC of each position message, and the position itself
(:func:`_fix`: a local decoding against the aircraft's recent position, or a global one from
an even/odd CPR pair confirmed by the next pair), kept only when it is within reach of the
last accepted one.

The steps are compiled on their own and inlined into ``state_kernel`` by LLVM
(``forceinline``). Numba's own inlining (``inline="always"``) copies array arguments into
new variables and, with branches, cannot always remove their reference counting from the
kernel's loop, which slows it down; for the same reason :func:`_fix` reads all the state it
needs first and only reads it, and the kernel writes the outcome.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
import numpy.typing as npt

from jamwatch.decoder import cpr
from jamwatch.decoder.integrity import nic
from jamwatch.decoder.kernels import (
    I8_CPR_ODD,
    I8_NACP,
    I8_NICA,
    I8_NICB,
    I8_NICC,
    I8_POS_KIND,
    I8_SIL,
    I8_TC,
    I8_VERSION,
    OUT_NACP,
    OUT_NIC,
    OUT_SIL,
    OUT_VERSION,
    POS_NONE,
    POS_SURFACE,
    R_IMPLAUSIBLE,
    R_NOREF,
    R_PENDING,
    R_UNCONFIRMED,
    R_ZONE,
    SF_LAST_LAT,
    SF_LAST_LON,
    SF_TENT_LAT,
    SF_TENT_LON,
    SI_EVEN_LAT,
    SI_EVEN_LON,
    SI_EVEN_T,
    SI_LAST_T,
    SI_NACP,
    SI_NICA,
    SI_NICC,
    SI_ODD_LAT,
    SI_ODD_LON,
    SI_ODD_T,
    SI_SIL,
    SI_TENT_T,
    SI_VERSION,
)

UNSET = np.iinfo(np.int64).min  # a time of the state not set yet

# outcomes of ``_fix`` besides the reasons ``R_*`` for no position
FIX_LOCAL = -1  # decoded against the aircraft's recent position
FIX_GLOBAL = -2  # decoded from an even/odd pair, confirmed by the previous pair


@nb.njit(cache=True, nogil=True, forceinline=True)
def _integrity(
    i: int,
    s: int,
    i8: npt.NDArray[np.int16],
    s_i: npt.NDArray[np.int64],
    out_i8: npt.NDArray[np.int16],
) -> None:  # pragma: no cover
    """Update slot ``s`` from the integrity fields of frame ``i``, and report its latest ones.

    The version, NIC supplements, NACp and SIL of the frame (when it has them) become the
    slot's; the slot's latest NACp, SIL and version are then written for the frame, so a
    TC31 row reports its own values.
    """
    version = i8[I8_VERSION, i]
    nica = i8[I8_NICA, i]
    nicc = i8[I8_NICC, i]
    nacp = i8[I8_NACP, i]
    sil = i8[I8_SIL, i]
    if version >= 0:
        s_i[s, SI_VERSION] = version
        if nica >= 0:
            s_i[s, SI_NICA] = nica
        if nicc >= 0:
            s_i[s, SI_NICC] = nicc
    if nacp >= 0:
        s_i[s, SI_NACP] = nacp
        s_i[s, SI_SIL] = sil
    out_i8[OUT_NACP, i] = s_i[s, SI_NACP]
    out_i8[OUT_SIL, i] = s_i[s, SI_SIL]
    out_i8[OUT_VERSION, i] = s_i[s, SI_VERSION]


@nb.njit(cache=True, nogil=True, forceinline=True)
def _position_nic(
    i: int, s: int, i8: npt.NDArray[np.int16], s_i: npt.NDArray[np.int64]
) -> int:  # pragma: no cover
    """NIC of position message ``i``: its type code with the slot's latest supplements."""
    tc = i8[I8_TC, i]
    nicb = i8[I8_NICB, i]
    version = max(s_i[s, SI_VERSION], 0)
    nica = max(s_i[s, SI_NICA], 0)
    nicc = max(s_i[s, SI_NICC], 0)
    return nic(tc, version, nica, nicb if version >= 2 else 0, nicc)


@nb.njit(cache=True, nogil=True, forceinline=True)
def _keep_cpr(
    s: int, t: int, odd: bool, la: int, lo: int, s_i: npt.NDArray[np.int64]
) -> None:  # pragma: no cover
    """Keep the CPR coordinates and time of a frame as the slot's latest odd or even ones."""
    if odd:
        s_i[s, SI_ODD_LAT] = la
        s_i[s, SI_ODD_LON] = lo
        s_i[s, SI_ODD_T] = t
    else:
        s_i[s, SI_EVEN_LAT] = la
        s_i[s, SI_EVEN_LON] = lo
        s_i[s, SI_EVEN_T] = t


@nb.njit(cache=True, nogil=True, forceinline=True)
def _global_fix(
    t: int,
    odd: bool,
    pair: tuple[int, int, int, int],
    tentative: tuple[int, float, float],
    pair_window_ns: int,
    max_speed_kmps: float,
) -> tuple[int, float, float]:  # pragma: no cover
    """Global decoding of an even/odd pair: (outcome, latitude, longitude).

    ``pair`` holds the even latitude and longitude, then the odd ones; ``tentative`` the
    time, latitude and longitude of the previous unconfirmed fix (time ``UNSET`` if none).
    A pair mixing frames of two places (one corrupt or spoofed) can decode to a consistent
    but wrong position: a fix is trusted (``FIX_GLOBAL``) only when the tentative one, from
    the previous pair, agrees with it; else the outcome is ``R_UNCONFIRMED`` (the fix is the
    new tentative one), or ``R_ZONE`` when the pair straddles a latitude zone.
    """
    lat, lon = cpr.global_airborne(pair[0], pair[1], pair[2], pair[3], odd)
    if math.isnan(lat):
        return R_ZONE, lat, lon
    tent_t, tent_lat, tent_lon = tentative
    agree = False
    if tent_t != UNSET and 0 <= t - tent_t <= pair_window_ns:
        reach = 2.0 + max_speed_kmps * (t - tent_t) / 1e9
        agree = cpr.distance_km(lat, lon, tent_lat, tent_lon) <= reach
    return (FIX_GLOBAL if agree else R_UNCONFIRMED), lat, lon


@nb.njit(cache=True, nogil=True, forceinline=True)
def _fix(
    kind: int,
    s: int,
    t: int,
    odd: bool,
    la: int,
    lo: int,
    s_i: npt.NDArray[np.int64],
    s_f: npt.NDArray[np.float64],
    pair_window_ns: int,
    local_window_ns: int,
    max_speed_kmps: float,
    surface_window_ns: int,
    receiver: tuple[float, float],
) -> tuple[int, float, float]:  # pragma: no cover
    """The position of a frame from slot ``s``'s state: (outcome, latitude, longitude).

    The outcome is ``FIX_LOCAL``, ``FIX_GLOBAL`` or the reason ``R_*`` there is no position.
    A surface position is decoded locally against the aircraft's own recent position, else
    against the ``receiver``'s (NaN: none; a receiver hears surface traffic well within the
    45 NM a surface decode allows); an airborne one locally against a recent position, else
    globally from a recent pair (:func:`_global_fix`), else it waits for its pair. Only reads
    the state.
    """
    last_t = s_i[s, SI_LAST_T]
    other_t = s_i[s, SI_EVEN_T] if odd else s_i[s, SI_ODD_T]
    pair = (s_i[s, SI_EVEN_LAT], s_i[s, SI_EVEN_LON], s_i[s, SI_ODD_LAT], s_i[s, SI_ODD_LON])
    tentative = (s_i[s, SI_TENT_T], s_f[s, SF_TENT_LAT], s_f[s, SF_TENT_LON])
    ref_lat = s_f[s, SF_LAST_LAT]
    ref_lon = s_f[s, SF_LAST_LON]
    if kind == POS_SURFACE:
        # a surface position is local to a reference within 45 NM: the aircraft's own
        # recent position (an old one may be another airport's)
        if last_t == UNSET or t - last_t > surface_window_ns:
            if math.isnan(receiver[0]):
                return R_NOREF, math.nan, math.nan
            ref_lat, ref_lon = receiver
        lat, lon = cpr.local(la, lo, odd, ref_lat, ref_lon, True)
        return FIX_LOCAL, lat, lon
    if last_t != UNSET and t - last_t <= local_window_ns:
        lat, lon = cpr.local(la, lo, odd, ref_lat, ref_lon, False)
        return FIX_LOCAL, lat, lon
    if other_t != UNSET and abs(t - other_t) <= pair_window_ns:
        return _global_fix(t, odd, pair, tentative, pair_window_ns, max_speed_kmps)
    return R_PENDING, math.nan, math.nan


@nb.njit(cache=True, nogil=True, forceinline=True)
def _implausible(
    s: int,
    t: int,
    lat: float,
    lon: float,
    s_i: npt.NDArray[np.int64],
    s_f: npt.NDArray[np.float64],
    max_speed_kmps: float,
) -> bool:  # pragma: no cover
    """Whether a position is out of reach of slot ``s``'s last accepted one (if any)."""
    last_t = s_i[s, SI_LAST_T]
    last_lat = s_f[s, SF_LAST_LAT]
    last_lon = s_f[s, SF_LAST_LON]
    if last_t == UNSET:
        return False
    dt_s = max(0.0, (t - last_t) / 1e9)
    reach = 2.0 + max_speed_kmps * dt_s
    return bool(cpr.distance_km(lat, lon, last_lat, last_lon) > reach)


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
    receiver: npt.NDArray[np.float64],
) -> None:  # pragma: no cover
    """Per-aircraft pass in time order (``receiver``: its latitude and longitude, NaN when
    not known).

    State per slot (one row per aircraft), ``s_i`` columns ``SI_*`` (-1 unknown; the times
    ``SI_TIMES`` use INT64_MIN when unset), ``s_f`` columns ``SF_*``. ``out_i8`` has rows
    ``OUT_*``.
    """
    for r in range(order.shape[0]):
        i = order[r]
        s = slot[i]
        if s < 0:
            continue
        t = time_ns[i]
        # integrity state first, so a TC31 row reports its own values
        _integrity(i, s, i8, s_i, out_i8)
        kind = i8[I8_POS_KIND, i]
        if kind <= POS_NONE:
            continue
        out_i8[OUT_NIC, i] = _position_nic(i, s, i8, s_i)
        odd = i8[I8_CPR_ODD, i] == 1
        la = cpr_lat[i]
        lo = cpr_lon[i]
        _keep_cpr(s, t, odd, la, lo, s_i)
        outcome, lat, lon = _fix(
            kind, s, t, odd, la, lo, s_i, s_f,
            pair_window_ns, local_window_ns, max_speed_kmps, surface_window_ns,
            (receiver[0], receiver[1]),
        )  # fmt: skip
        if outcome == R_UNCONFIRMED:  # the fix waits for the next pair to confirm it
            s_i[s, SI_TENT_T] = t
            s_f[s, SF_TENT_LAT] = lat
            s_f[s, SF_TENT_LON] = lon
        elif outcome == FIX_GLOBAL:
            s_i[s, SI_TENT_T] = UNSET
        if outcome >= 0:
            counts[outcome] += 1
            continue
        if _implausible(s, t, lat, lon, s_i, s_f, max_speed_kmps):
            counts[R_IMPLAUSIBLE] += 1
            # the reference is no longer trusted: start again from a fresh pair
            s_i[s, SI_LAST_T] = UNSET
            continue
        out_lat[i] = lat
        out_lon[i] = lon
        s_f[s, SF_LAST_LAT] = lat
        s_f[s, SF_LAST_LON] = lon
        s_i[s, SI_LAST_T] = t
