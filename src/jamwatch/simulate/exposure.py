"""The radio model compiled: one aircraft state under all the transmitters.

:func:`expose_row` is the model of :mod:`jamwatch.simulate.radio` for one state of one
aircraft, callable from compiled passes (the simulation's, and :func:`expose_rows` behind
:func:`jamwatch.simulate.radio.expose`): the power of each transmitter on at that time
(:func:`_powers`, :func:`_power_dbm`), the receiver's lock, capture by a spoofer
(:func:`_spoofed`) or degraded integrity. It reads the transmitters and the receiver model
as the arrays of :class:`jamwatch.simulate.radio.Transmitters`, laid out as below.
"""

from __future__ import annotations

import numba as nb
import numpy as np
import numpy.typing as npt

from jamwatch.geo import EARTH_RADIUS_M, destination_point
from jamwatch.simulate.avionics import (
    DEGRADED,
    JAMMED,
    LOCK_CAUSE,
    NOMINAL,
    SPOOFED,
    TRAIT_JAMMED_NACP,
    TRAIT_LOCK_OFFSET_DB,
    TRAIT_SHIELD_DB,
    TRAIT_SHIELD_FULL_RAD,
    degraded_levels,
    lock_step,
    new_lock_state,
    shield_loss_db,
)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

FT = 0.3048

#: columns of the transmitter sites (``Transmitters.site``, one row per transmitter)
SITE_LAT_RAD = 0  # latitude, radians
SITE_COS_LAT = 1  # cosine of the latitude
SITE_LON_DEG = 2  # longitude, degrees
SITE_HEIGHT_M = 3  # antenna height above mean sea level, m
SITE_EIRP_DBM = 4  # EIRP plus the aircraft antenna's gain, dBm
SITE_SQRT_HEIGHT = 5  # square root of the antenna height above sea level (0 if below), sqrt(m)
SITE_SPOOFER = 6  # 1 for a spoofer, 0 for a jammer
N_SITE = 7

#: last axis of the on-intervals (``Transmitters.spans``)
SPAN_START = 0  # first instant on, UTC ns
SPAN_END = 1  # end of the interval (excluded), UTC ns

#: columns of the spoofer parameters (``Transmitters.spoof``, one row per transmitter)
SPOOF_DRIFT = 0  # 1 for the drift mode, 0 for a fixed false point
SPOOF_LAT = 1  # false latitude (fixed mode), degrees
SPOOF_LON = 2  # false longitude (fixed mode), degrees
SPOOF_DRIFT_MPS = 3  # drift speed, m/s
SPOOF_BEARING_DEG = 4  # drift bearing, degrees
SPOOF_CONSISTENT = 5  # 1 when the reported velocity follows the false track
N_SPOOF = 6

#: slots of the receiver-model vector (``Transmitters.model``, :func:`_model_vector`)
MODEL_FREQ_DB = 0  # frequency term of the path loss, 20 log10(f_Hz), dB
MODEL_FSPL_CONST_DB = 1  # constant term of the path loss (FSPL_CONST_DB), dB
MODEL_HORIZON_KM = 2  # radio horizon per end, km per sqrt(m) of antenna height
MODEL_SIGNAL_DBM = 3  # GNSS signal power at the antenna, dBm
MODEL_LOCK_JS_DB = 4  # J/S of loss of lock, dB
MODEL_BAND_START_DB = 5  # J/S where the degraded band starts, dB
MODEL_BAND_DB = 6  # width of the degraded band (at least 1e-9), dB
MODEL_CAPTURE_DB = 7  # spoofer power above the signal that captures the receiver, dB
MODEL_EARTH_M = 8  # effective earth radius (k factor times the radius), m
N_MODEL = 9

#: rows of the inputs and outputs of :func:`expose_rows` (one column per state)
IN_LAT = 0  # state_f: latitude, degrees
IN_LON = 1  # state_f: longitude, degrees
IN_ALT_FT = 2  # state_f: altitude, ft
IN_GS_KT = 3  # state_f: ground speed, kt
IN_TRK_DEG = 4  # state_f: track, degrees
N_IN_F = 5
IN_NIC = 0  # state_i: nominal NIC
IN_NACP = 1  # state_i: nominal NACp
IN_AIRCRAFT = 2  # state_i: row of the aircraft in the traits
N_IN_I = 3
OUT_EFFECT = 0  # out_i: NOMINAL, DEGRADED, JAMMED or SPOOFED
OUT_SOURCE = 1  # out_i: transmitter causing the effect (-1 none)
OUT_NIC = 2  # out_i: reported NIC
OUT_NACP = 3  # out_i: reported NACp
N_OUT_I = 4
OUT_JS_DB = 0  # out_f: total J/S, dB
OUT_LAT = 1  # out_f: reported latitude, degrees
OUT_LON = 2  # out_f: reported longitude, degrees
OUT_GS_KT = 3  # out_f: reported ground speed, kt
OUT_TRK_DEG = 4  # out_f: reported track, degrees
N_OUT_F = 5


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def haversine_m(
    p1: float, cos_p1: float, lon1: float, p2: float, cos_p2: float, lon2: float
) -> float:
    """Great-circle distance (m) between latitudes ``p1``, ``p2`` (radians) and longitudes
    (degrees); the arithmetic of :func:`jamwatch.simulate.radio.ground_distance_m`, so the same
    bits."""
    s1 = np.sin((p2 - p1) / 2)
    s2 = np.sin(np.radians(lon1 - lon2) / 2)
    a = s1 * s1 + cos_p1 * cos_p2 * (s2 * s2)
    r = np.sqrt(a)
    if r > 1.0:
        r = 1.0
    return float(2.0 * EARTH_RADIUS_M * np.arcsin(r))


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _power_dbm(
    site: F64,
    k: int,
    p1: float,
    cos_p1: float,
    lon: float,
    alt_m: float,
    model: F64,
    shield_db: float,
    shield_full_rad: float,
) -> float:
    """Power of transmitter ``k`` at an aircraft (dBm), less the antenna's shielding.

    As :func:`jamwatch.simulate.radio.received_dbm` computes it, less the aircraft's antenna
    shielding (``shield_db``, 0: none) for a transmitter below.
    """
    ground = haversine_m(
        p1, cos_p1, lon, site[k, SITE_LAT_RAD], site[k, SITE_COS_LAT], site[k, SITE_LON_DEG]
    )
    h = 0.0 if alt_m < 0.0 else alt_m
    if not ground <= 1000.0 * (model[MODEL_HORIZON_KM] * (site[k, SITE_SQRT_HEIGHT] + np.sqrt(h))):
        return -np.inf
    dh = alt_m - site[k, SITE_HEIGHT_M]
    slant = np.sqrt(ground * ground + dh * dh)
    d = 1.0 if slant < 1.0 else slant
    power = site[k, SITE_EIRP_DBM] - (
        20.0 * np.log10(d) + model[MODEL_FREQ_DB] + model[MODEL_FSPL_CONST_DB]
    )
    if shield_db == 0.0:
        return float(power)
    # below the horizontal: the height difference, and the earth's curvature between
    depression = np.arctan2(dh, ground) + ground / (2.0 * model[MODEL_EARTH_M])
    return float(power - shield_loss_db(shield_db, shield_full_rad, depression))


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _powers(
    tx: tuple[F64, I64, I64, F64, I64, F64],
    t: int,
    p1: float,
    cos_p1: float,
    lon: float,
    alt_m: float,
    shield_db: float,
    shield_full_rad: float,
) -> tuple[float, int, float, int]:
    """Total J/S (dB) of the jammers on at ``t``, the strongest jammer, and the strongest
    spoofer's power (dBm) and index (-1: none), for an aircraft shielded by ``shield_db``."""
    site, spans, n_spans, _, _, model = tx
    jam_mw = 0.0
    best_jam = -np.inf
    jam_src = -1
    best_spoof = -np.inf
    spoof_src = -1
    for k in range(site.shape[0]):
        on = n_spans[k] == 0
        for j in range(n_spans[k]):
            if spans[k, j, SPAN_START] <= t < spans[k, j, SPAN_END]:
                on = True
        p = -np.inf
        if on:
            p = _power_dbm(site, k, p1, cos_p1, lon, alt_m, model, shield_db, shield_full_rad)
        if site[k, SITE_SPOOFER] == 0.0:
            if p > -np.inf:
                jam_mw += 10.0 ** (p / 10.0)
            if p > best_jam:
                best_jam = p
                jam_src = k
        elif p > best_spoof:
            best_spoof = p
            spoof_src = k
    js = 10.0 * np.log10(jam_mw) - model[MODEL_SIGNAL_DBM] if jam_mw > 0.0 else -np.inf
    return js, jam_src, best_spoof, spoof_src


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _spoofed(
    spoof: F64,
    spoof_start: I64,
    k: int,
    t: int,
    lat: float,
    lon: float,
    gs: float,
    trk: float,
) -> tuple[float, float, float, float]:
    """What spoofer ``k`` makes a captured receiver report: latitude, longitude, ground
    speed, track."""
    consistent = spoof[k, SPOOF_CONSISTENT] != 0.0
    if spoof[k, SPOOF_DRIFT] == 0.0:
        return spoof[k, SPOOF_LAT], spoof[k, SPOOF_LON], (0.0 if consistent else gs), trk
    dist = spoof[k, SPOOF_DRIFT_MPS] * max(t - spoof_start[k], 0) / 1e9
    bearing = spoof[k, SPOOF_BEARING_DEG]
    rlat, rlon = destination_point(lat, lon, bearing, dist)
    if consistent:
        drift_kt = spoof[k, SPOOF_DRIFT_MPS] / 0.514444
        vx = gs * np.sin(np.radians(trk)) + drift_kt * np.sin(np.radians(bearing))
        vy = gs * np.cos(np.radians(trk)) + drift_kt * np.cos(np.radians(bearing))
        gs = np.hypot(vx, vy)
        trk = np.degrees(np.arctan2(vx, vy)) % 360.0
    return rlat, rlon, gs, trk


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def expose_row(
    tx: tuple[F64, I64, I64, F64, I64, F64],
    t: int,
    lat: float,
    lon: float,
    cos_lat: float,
    alt_ft: float,
    nic0: int,
    nacp0: int,
    gs: float,
    trk: float,
    traits: F64,
    lock: I64,
    a: int,
) -> tuple[int, int, float, int, int, float, float, float, float]:
    """One state of aircraft ``a`` under all transmitters: effect, source, J/S (dB), NIC,
    NACp, reported latitude, longitude, ground speed and track (see
    :func:`jamwatch.simulate.radio.expose`).

    ``cos_lat``: cosine of the latitude in radians (computed once for the radio paths);
    ``traits``, ``lock``: the aircraft's avionics traits and its receiver's lock state
    (:mod:`jamwatch.simulate.avionics`; the lock row is updated: one aircraft's states must
    come in time order).
    """
    _, _, _, spoof, spoof_start, model = tx
    shield = traits[a, TRAIT_SHIELD_DB]
    full = traits[a, TRAIT_SHIELD_FULL_RAD]
    js, jam_src, best_spoof, spoof_src = _powers(
        tx, t, np.radians(lat), cos_lat, lon, alt_ft * FT, shield, full
    )
    offset = traits[a, TRAIT_LOCK_OFFSET_DB]
    if lock_step(js, model[MODEL_LOCK_JS_DB] + offset, jam_src, lock, a, t, traits):
        nacp = int(traits[a, TRAIT_JAMMED_NACP])
        return JAMMED, lock[a, LOCK_CAUSE], js, 0, nacp, lat, lon, gs, trk
    if best_spoof - model[MODEL_SIGNAL_DBM] >= model[MODEL_CAPTURE_DB]:
        rlat, rlon, rgs, rtrk = _spoofed(spoof, spoof_start, spoof_src, t, lat, lon, gs, trk)
        return SPOOFED, spoof_src, js, nic0, nacp0, rlat, rlon, rgs, rtrk
    band_start = model[MODEL_BAND_START_DB] + offset
    if js >= band_start:
        band = model[MODEL_BAND_DB]
        effect, nic, nacp = degraded_levels(js, band_start, band, nic0, nacp0, traits, a)
        src = jam_src if effect == DEGRADED else -1
        return effect, src, js, nic, nacp, lat, lon, gs, trk
    return NOMINAL, -1, js, nic0, nacp0, lat, lon, gs, trk


@nb.njit(cache=True, nogil=True, error_model="numpy")
def expose_rows(
    tx: tuple[F64, I64, I64, F64, I64, F64],
    t: I64,
    state_f: F64,
    state_i: I64,
    traits: F64,
    out_i: I64,
    out_f: F64,
) -> None:
    """:func:`expose_row` over the rows; ``state_f`` rows ``IN_LAT`` to ``IN_TRK_DEG``,
    ``state_i`` rows ``IN_NIC`` to ``IN_AIRCRAFT``; ``out_i``, ``out_f`` rows ``OUT_*``."""
    lock = new_lock_state(traits.shape[0])
    for i in range(t.shape[0]):
        lat = state_f[IN_LAT, i]
        effect, src, js, nic, nacp, rlat, rlon, gs, trk = expose_row(
            tx,
            t[i],
            lat,
            state_f[IN_LON, i],
            np.cos(np.radians(lat)),
            state_f[IN_ALT_FT, i],
            state_i[IN_NIC, i],
            state_i[IN_NACP, i],
            state_f[IN_GS_KT, i],
            state_f[IN_TRK_DEG, i],
            traits,
            lock,
            state_i[IN_AIRCRAFT, i],
        )
        out_i[OUT_EFFECT, i] = effect
        out_i[OUT_SOURCE, i] = src
        out_i[OUT_NIC, i] = nic
        out_i[OUT_NACP, i] = nacp
        out_f[OUT_JS_DB, i] = js
        out_f[OUT_LAT, i] = rlat
        out_f[OUT_LON, i] = rlon
        out_f[OUT_GS_KT, i] = gs
        out_f[OUT_TRK_DEG, i] = trk
