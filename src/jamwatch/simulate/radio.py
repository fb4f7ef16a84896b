"""Radio model of GNSS interference: jammers and spoofers seen from an aircraft.

Jamming power at the aircraft's GNSS antenna (all powers in dBm)::

    P_j = EIRP_dBm + G_rx - FSPL(d, f),   FSPL = 20 log10(d_m) + 20 log10(f_Hz) - 147.55

with ``d`` the slant range and ``f`` = 1575.42 MHz (GPS L1), and no power at all beyond the
radio line of sight of a 4/3 earth, ``d_km = 4.12 (sqrt(h_tx_m) + sqrt(h_rx_m))``. The GNSS
signal arrives at about -128.5 dBm (IS-GPS-200 minimum received L1 C/A power); the
jamming-to-signal ratio ``J/S = P_j - S`` decides the receiver's state:

    J/S <  lock - band       nominal: NIC/NACp as the aircraft normally reports them
    lock - band <= J/S < lock degraded: NIC and NACp fall linearly with J/S towards 0
    J/S >= lock              loss of lock: positions stop, or come with NIC 0 / NACp 0
                             (a per-aircraft trait); velocity and identification continue

That is the default member of the avionics family (:mod:`jamwatch.simulate.avionics`): per
aircraft, the response in the band, the lock threshold, a recovery lag and the shielding of
the antenna by the fuselage may differ.

Several jammers add up in power; the strongest one is reported as the cause. A spoofer
captures a receiver where its power exceeds the true signal by ``capture_db`` (and no
jammer has broken lock): the reported position becomes a fixed false point or the true
position plus an offset drifting at a fixed speed, with integrity left high.

Everything works on NumPy columns (one row per frame or per aircraft sample); the compiled
model of one state (:func:`expose_row`, which :func:`expose` runs over the rows) is in
:mod:`jamwatch.simulate.exposure`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from jamwatch.geo import EARTH_RADIUS_M
from jamwatch.simulate.avionics import DEGRADED, JAMMED, NOMINAL, SPOOFED, default_traits
from jamwatch.simulate.exposure import (
    IN_AIRCRAFT,
    IN_ALT_FT,
    IN_GS_KT,
    IN_LAT,
    IN_LON,
    IN_NACP,
    IN_NIC,
    IN_TRK_DEG,
    MODEL_BAND_DB,
    MODEL_BAND_START_DB,
    MODEL_CAPTURE_DB,
    MODEL_EARTH_M,
    MODEL_FREQ_DB,
    MODEL_FSPL_CONST_DB,
    MODEL_HORIZON_KM,
    MODEL_LOCK_JS_DB,
    MODEL_SIGNAL_DBM,
    N_IN_F,
    N_IN_I,
    N_MODEL,
    N_OUT_F,
    N_OUT_I,
    N_SITE,
    N_SPOOF,
    OUT_EFFECT,
    OUT_GS_KT,
    OUT_JS_DB,
    OUT_LAT,
    OUT_LON,
    OUT_NACP,
    OUT_NIC,
    OUT_SOURCE,
    OUT_TRK_DEG,
    SITE_COS_LAT,
    SITE_EIRP_DBM,
    SITE_HEIGHT_M,
    SITE_LAT_RAD,
    SITE_LON_DEG,
    SITE_SPOOFER,
    SITE_SQRT_HEIGHT,
    SPAN_END,
    SPAN_START,
    SPOOF_BEARING_DEG,
    SPOOF_CONSISTENT,
    SPOOF_DRIFT,
    SPOOF_DRIFT_MPS,
    SPOOF_LAT,
    SPOOF_LON,
    expose_row,
    expose_rows,
    haversine_m,
)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

L1_HZ = 1575.42e6
#: 20 log10(4 pi / c) in dB, with c = 299,792,458 m/s
FSPL_CONST_DB = 20.0 * math.log10(4.0 * math.pi / 299_792_458.0)
#: minimum received GPS L1 C/A power, IS-GPS-200 Table 3-Va (-158.5 dBW = -128.5 dBm)
GPS_L1_DBM = -128.5

EFFECT_NAMES = ("none", "degraded", "jammed", "spoofed")


@dataclass(frozen=True, slots=True)
class Transmitter:
    """A jammer (``spoof`` is None) or a spoofer at a fixed site.

    ``schedule`` holds the on-intervals ``(start_ns, end_ns)`` in UTC int64 nanoseconds,
    end excluded; an empty schedule means always on. ``ground_m`` is the site elevation
    above mean sea level and ``height_m`` the antenna height above ground.
    """

    name: str
    latitude: float
    longitude: float
    eirp_w: float
    height_m: float = 10.0
    ground_m: float = 0.0
    schedule: tuple[tuple[int, int], ...] = ()
    spoof: Spoof | None = None

    @property
    def eirp_dbm(self) -> float:
        """EIRP in dBm."""
        return 10.0 * math.log10(self.eirp_w * 1000.0) if self.eirp_w > 0 else -math.inf


@dataclass(frozen=True, slots=True)
class Spoof:
    """What a spoofer makes a captured receiver report.

    ``mode`` "fixed": the false point (``latitude``, ``longitude``); "drift": the true
    position plus an offset growing at ``drift_mps`` towards ``bearing_deg`` from the moment
    the transmitter switches on. ``velocity`` "kept" leaves the reported velocity true;
    "consistent" makes it match the false track (0 kt at a fixed point).
    """

    mode: str = "fixed"
    latitude: float = 0.0
    longitude: float = 0.0
    drift_mps: float = 0.0
    bearing_deg: float = 0.0
    velocity: str = "kept"

    def __post_init__(self) -> None:
        if self.mode not in ("fixed", "drift"):
            raise ValueError(f"spoof mode must be 'fixed' or 'drift', not {self.mode!r}")
        if self.velocity not in ("kept", "consistent"):
            raise ValueError(
                f"spoof velocity must be 'kept' or 'consistent', not {self.velocity!r}"
            )


@dataclass(frozen=True, slots=True)
class ReceiverModel:
    """The aircraft's GNSS receiver and antenna.

    ``lock_js_db``: J/S at which the receiver loses lock (literature: 30-40 dB for civil C/A
    receivers). ``degrade_band_db``: width of the band below it where NIC/NACp degrade.
    ``antenna_gain_db``: gain of the aircraft antenna towards the transmitter (0 dB is the
    worst case; a top-mounted antenna sees ground transmitters at about -10 dB or less).
    ``capture_db``: spoofer power above the true signal needed to capture the receiver.
    """

    signal_dbm: float = GPS_L1_DBM
    lock_js_db: float = 35.0
    degrade_band_db: float = 10.0
    antenna_gain_db: float = 0.0
    capture_db: float = 3.0
    frequency_hz: float = L1_HZ
    k_factor: float = field(default=4.0 / 3.0)


def fspl_db(distance_m: npt.ArrayLike, frequency_hz: float = L1_HZ) -> F64:
    """Free-space path loss in dB (Friis): 20 log10(4 pi d f / c)."""
    d = np.maximum(np.asarray(distance_m, dtype=np.float64), 1.0)
    return np.asarray(20.0 * np.log10(d) + 20.0 * math.log10(frequency_hz) + FSPL_CONST_DB)


def radio_horizon_km(h_tx_m: npt.ArrayLike, h_rx_m: npt.ArrayLike, k: float = 4.0 / 3.0) -> F64:
    """Radio line-of-sight range in km over a smooth earth of effective radius ``k`` R.

    ``sqrt(2 k R h)`` per end; for k = 4/3 that is ``4.12 (sqrt(h_tx) + sqrt(h_rx))``.
    """
    h1 = np.maximum(np.asarray(h_tx_m, dtype=np.float64), 0.0)
    h2 = np.maximum(np.asarray(h_rx_m, dtype=np.float64), 0.0)
    c = math.sqrt(2.0 * k * EARTH_RADIUS_M) / 1000.0
    return np.asarray(c * (np.sqrt(h1) + np.sqrt(h2)))


def ground_distance_m(lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: float, lon2: float) -> F64:
    """Great-circle distance in metres (haversine)."""
    p1 = np.radians(np.asarray(lat1, dtype=np.float64))
    p2 = math.radians(lat2)
    dl = np.radians(np.asarray(lon1, dtype=np.float64) - lon2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * math.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2.0 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a))))


def received_dbm(
    tx: Transmitter,
    lat: npt.ArrayLike,
    lon: npt.ArrayLike,
    alt_m: npt.ArrayLike,
    model: ReceiverModel | None = None,
) -> F64:
    """Power of ``tx`` at aircraft positions (dBm); -inf beyond the radio horizon."""
    m = model or ReceiverModel()
    h_rx = np.asarray(alt_m, dtype=np.float64)
    h_tx = tx.ground_m + tx.height_m
    ground = ground_distance_m(lat, lon, tx.latitude, tx.longitude)
    slant = np.sqrt(ground**2 + (h_rx - h_tx) ** 2)
    power = tx.eirp_dbm + m.antenna_gain_db - fspl_db(slant, m.frequency_hz)
    visible = ground <= 1000.0 * radio_horizon_km(h_tx, h_rx, m.k_factor)
    return np.asarray(np.where(visible, power, -np.inf))


def is_on(tx: Transmitter, time_ns: npt.ArrayLike) -> B:
    """Whether ``tx`` transmits at each time."""
    t = np.asarray(time_ns, dtype=np.int64)
    if not tx.schedule:
        return np.ones(t.shape, dtype=bool)
    on = np.zeros(t.shape, dtype=bool)
    for start, end in tx.schedule:
        on |= (t >= start) & (t < end)
    return on


def reach_km(
    tx: Transmitter, alt_m: float, js_db: float, model: ReceiverModel | None = None
) -> float:
    """Ground range (km) within which ``tx`` gives at least ``js_db`` J/S at altitude ``alt_m``.

    The smaller of the free-space range and the radio horizon: the radius of the affected
    area. It grows with EIRP (until the horizon) and with aircraft altitude (the horizon).
    """
    m = model or ReceiverModel()
    max_loss = tx.eirp_dbm + m.antenna_gain_db - (m.signal_dbm + js_db)
    slant = 10.0 ** ((max_loss - 20.0 * math.log10(m.frequency_hz) - FSPL_CONST_DB) / 20.0)
    dh = alt_m - (tx.ground_m + tx.height_m)
    free = math.sqrt(max(slant**2 - dh**2, 0.0)) / 1000.0
    horizon = float(radio_horizon_km(tx.ground_m + tx.height_m, alt_m, m.k_factor))
    return min(free, horizon)


@dataclass(frozen=True, slots=True)
class Exposure:
    """Effect of all transmitters on each row: the truth and what the aircraft reports.

    ``effect`` NOMINAL/DEGRADED/JAMMED/SPOOFED; ``source`` index of the transmitter that
    causes it (-1 none); ``js_db`` total jamming-to-signal ratio (-inf when none);
    ``nic``/``nacp`` the reported integrity; ``latitude``/``longitude`` the reported
    position; ``speed_kt``/``track_deg`` the reported velocity.
    """

    effect: I64
    source: I64
    js_db: F64
    nic: I64
    nacp: I64
    latitude: F64
    longitude: F64
    groundspeed_kt: F64
    track_deg: F64


@dataclass(frozen=True, slots=True)
class Transmitters:
    """Transmitters and receiver model as the arrays the compiled kernels read.

    ``site`` columns ``SITE_*``. ``spans``: on-intervals (last axis ``SPAN_START``,
    ``SPAN_END``), ``n_spans`` per transmitter (0: always on). ``spoof`` columns ``SPOOF_*``;
    ``spoof_start``: when the drift starts (ns). ``model``: slots ``MODEL_*`` (see
    :func:`_model_vector`).
    """

    site: F64
    spans: I64
    n_spans: I64
    spoof: F64
    spoof_start: I64
    model: F64

    def arrays(self) -> tuple[F64, I64, I64, F64, I64, F64]:
        """The arrays as one tuple, the form the kernels take."""
        return (self.site, self.spans, self.n_spans, self.spoof, self.spoof_start, self.model)

    @classmethod
    def of(
        cls, transmitters: tuple[Transmitter, ...], model: ReceiverModel, t_first: int
    ) -> Transmitters:
        """Arrays for ``transmitters``; ``t_first``: drift start of a spoofer without schedule."""
        n = len(transmitters)
        site = np.zeros((n, N_SITE))
        most = max((len(tx.schedule) for tx in transmitters), default=0)
        spans = np.zeros((n, max(most, 1), 2), dtype=np.int64)  # SPAN_START, SPAN_END
        n_spans = np.zeros(n, dtype=np.int64)
        spoof = np.zeros((n, N_SPOOF))
        spoof_start = np.zeros(n, dtype=np.int64)
        for k, tx in enumerate(transmitters):
            h_tx = tx.ground_m + tx.height_m
            lat = math.radians(tx.latitude)
            site[k, SITE_LAT_RAD] = lat
            site[k, SITE_COS_LAT] = math.cos(lat)
            site[k, SITE_LON_DEG] = tx.longitude
            site[k, SITE_HEIGHT_M] = h_tx
            site[k, SITE_EIRP_DBM] = tx.eirp_dbm + model.antenna_gain_db
            site[k, SITE_SQRT_HEIGHT] = math.sqrt(max(h_tx, 0.0))
            site[k, SITE_SPOOFER] = tx.spoof is not None
            n_spans[k] = len(tx.schedule)
            for j, (on, off) in enumerate(tx.schedule):
                spans[k, j, SPAN_START] = on
                spans[k, j, SPAN_END] = off
            if tx.spoof is not None:
                sp = tx.spoof
                spoof[k, SPOOF_DRIFT] = sp.mode == "drift"
                spoof[k, SPOOF_LAT] = sp.latitude
                spoof[k, SPOOF_LON] = sp.longitude
                spoof[k, SPOOF_DRIFT_MPS] = sp.drift_mps
                spoof[k, SPOOF_BEARING_DEG] = sp.bearing_deg
                spoof[k, SPOOF_CONSISTENT] = sp.velocity == "consistent"
                spoof_start[k] = min((on for on, _ in tx.schedule), default=t_first)
        return cls(site, spans, n_spans, spoof, spoof_start, _model_vector(model))


def _model_vector(m: ReceiverModel) -> F64:
    """Receiver-model constants (slots ``MODEL_*``), computed as the NumPy functions above
    compute them."""
    v = np.empty(N_MODEL)
    v[MODEL_FREQ_DB] = 20.0 * math.log10(m.frequency_hz)
    v[MODEL_FSPL_CONST_DB] = FSPL_CONST_DB
    v[MODEL_HORIZON_KM] = math.sqrt(2.0 * m.k_factor * EARTH_RADIUS_M) / 1000.0
    v[MODEL_SIGNAL_DBM] = m.signal_dbm
    v[MODEL_LOCK_JS_DB] = m.lock_js_db
    v[MODEL_BAND_START_DB] = m.lock_js_db - m.degrade_band_db
    v[MODEL_BAND_DB] = max(m.degrade_band_db, 1e-9)
    v[MODEL_CAPTURE_DB] = m.capture_db
    v[MODEL_EARTH_M] = m.k_factor * EARTH_RADIUS_M
    return v


def expose(
    transmitters: tuple[Transmitter, ...],
    time_ns: npt.ArrayLike,
    lat: npt.ArrayLike,
    lon: npt.ArrayLike,
    alt_ft: npt.ArrayLike,
    nic: npt.ArrayLike,
    nacp: npt.ArrayLike,
    groundspeed_kt: npt.ArrayLike,
    track_deg: npt.ArrayLike,
    model: ReceiverModel | None = None,
    *,
    traits: F64 | None = None,
    aircraft: npt.ArrayLike = 0,
) -> Exposure:
    """Apply the transmitters to aircraft states (columns, one row per sample).

    Compiled, one pass over the rows (:func:`expose_row`). A drifting spoofer without a
    schedule starts drifting at the first time of ``time_ns``. ``traits``: one avionics row
    per aircraft (:func:`jamwatch.simulate.avionics.draw_traits`; default: the default fleet),
    ``aircraft``: the row of ``traits`` of each sample. Each aircraft's rows must come in
    time order when its traits give a recovery lag (its receiver's lock carries over).
    """
    m = model or ReceiverModel()
    t = np.ascontiguousarray(time_ns, dtype=np.int64)
    n = t.shape[0]

    def col(x: npt.ArrayLike, dtype: type) -> npt.NDArray[Any]:
        return np.broadcast_to(np.asarray(x, dtype=dtype), (n,))

    tx = Transmitters.of(transmitters, m, int(t.min()) if n else 0)
    state_f = np.empty((N_IN_F, n), dtype=np.float64)
    state_f[IN_LAT] = col(lat, np.float64)
    state_f[IN_LON] = col(lon, np.float64)
    state_f[IN_ALT_FT] = col(alt_ft, np.float64)
    state_f[IN_GS_KT] = col(groundspeed_kt, np.float64)
    state_f[IN_TRK_DEG] = col(track_deg, np.float64)
    state_i = np.empty((N_IN_I, n), dtype=np.int64)
    state_i[IN_NIC] = col(nic, np.int64)
    state_i[IN_NACP] = col(nacp, np.int64)
    state_i[IN_AIRCRAFT] = col(aircraft, np.int64)
    rows = default_traits() if traits is None else np.ascontiguousarray(traits, np.float64)
    which = state_i[IN_AIRCRAFT]
    if n and not 0 <= which.min() <= which.max() < rows.shape[0]:
        raise ValueError(f"aircraft must index the {rows.shape[0]} rows of traits")
    out_i = np.empty((N_OUT_I, n), dtype=np.int64)
    out_f = np.empty((N_OUT_F, n), dtype=np.float64)
    expose_rows(tx.arrays(), t, state_f, state_i, rows, out_i, out_f)
    return Exposure(
        effect=out_i[OUT_EFFECT],
        source=out_i[OUT_SOURCE],
        js_db=out_f[OUT_JS_DB],
        nic=out_i[OUT_NIC],
        nacp=out_i[OUT_NACP],
        latitude=out_f[OUT_LAT],
        longitude=out_f[OUT_LON],
        groundspeed_kt=out_f[OUT_GS_KT],
        track_deg=out_f[OUT_TRK_DEG],
    )


__all__ = [
    "DEGRADED",
    "EFFECT_NAMES",
    "GPS_L1_DBM",
    "JAMMED",
    "L1_HZ",
    "NOMINAL",
    "SPOOFED",
    "Exposure",
    "ReceiverModel",
    "Spoof",
    "Transmitter",
    "Transmitters",
    "expose",
    "expose_row",
    "fspl_db",
    "ground_distance_m",
    "haversine_m",
    "is_on",
    "radio_horizon_km",
    "reach_km",
    "received_dbm",
]
