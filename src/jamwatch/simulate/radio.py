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

Several jammers add up in power; the strongest one is reported as the cause. A spoofer
captures a receiver where its power exceeds the true signal by ``capture_db`` (and no
jammer has broken lock): the reported position becomes a fixed false point or the true
position plus an offset drifting at a fixed speed, with integrity left high.

Everything works on NumPy columns (one row per frame or per aircraft sample).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

L1_HZ = 1575.42e6
#: 20 log10(4 pi / c) in dB, with c = 299,792,458 m/s
FSPL_CONST_DB = 20.0 * math.log10(4.0 * math.pi / 299_792_458.0)
#: minimum received GPS L1 C/A power, IS-GPS-200 Table 3-Va (-158.5 dBW = -128.5 dBm)
GPS_L1_DBM = -128.5
EARTH_RADIUS_M = 6_371_008.8
FT = 0.3048

#: receiver states (truth column ``effect``)
NOMINAL, DEGRADED, JAMMED, SPOOFED = 0, 1, 2, 3
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
) -> Exposure:
    """Apply the transmitters to aircraft states (columns, one row per sample)."""
    m = model or ReceiverModel()
    t = np.asarray(time_ns, dtype=np.int64)
    la = np.asarray(lat, dtype=np.float64)
    lo = np.asarray(lon, dtype=np.float64)
    alt_m = np.asarray(alt_ft, dtype=np.float64) * FT
    n = t.shape[0]
    nic0 = np.broadcast_to(np.asarray(nic, dtype=np.int64), (n,))
    nacp0 = np.broadcast_to(np.asarray(nacp, dtype=np.int64), (n,))
    gs = np.broadcast_to(np.asarray(groundspeed_kt, dtype=np.float64), (n,)).copy()
    trk = np.broadcast_to(np.asarray(track_deg, dtype=np.float64), (n,)).copy()

    jam_mw = np.zeros(n)
    best_jam = np.full(n, -np.inf)
    jam_src = np.full(n, -1, dtype=np.int64)
    best_spoof = np.full(n, -np.inf)
    spoof_src = np.full(n, -1, dtype=np.int64)
    for k, tx in enumerate(transmitters):
        p = np.where(is_on(tx, t), received_dbm(tx, la, lo, alt_m, m), -np.inf)
        if tx.spoof is None:
            jam_mw += 10.0 ** (p / 10.0)
            stronger = p > best_jam
            best_jam = np.where(stronger, p, best_jam)
            jam_src = np.where(stronger, k, jam_src)
        else:
            stronger = p > best_spoof
            best_spoof = np.where(stronger, p, best_spoof)
            spoof_src = np.where(stronger, k, spoof_src)
    with np.errstate(divide="ignore"):
        js = 10.0 * np.log10(jam_mw) - m.signal_dbm

    effect = np.full(n, NOMINAL, dtype=np.int64)
    source = np.full(n, -1, dtype=np.int64)
    lost = js >= m.lock_js_db
    degraded = ~lost & (js >= m.lock_js_db - m.degrade_band_db)
    spoofed = ~lost & (best_spoof - m.signal_dbm >= m.capture_db)
    # degradation: integrity falls linearly across the band
    frac = np.clip((js - (m.lock_js_db - m.degrade_band_db)) / max(m.degrade_band_db, 1e-9), 0, 1)
    nic_r = np.where(degraded, np.floor(nic0 * (1.0 - frac)), nic0).astype(np.int64)
    nacp_r = np.where(degraded, np.floor(nacp0 * (1.0 - frac)), nacp0).astype(np.int64)
    effect[degraded] = DEGRADED
    source[degraded] = jam_src[degraded]
    nic_r[lost] = 0
    nacp_r[lost] = 0
    effect[lost] = JAMMED
    source[lost] = jam_src[lost]

    rlat = la.copy()
    rlon = lo.copy()
    if spoofed.any():
        effect[spoofed] = SPOOFED
        source[spoofed] = spoof_src[spoofed]
        nic_r[spoofed] = nic0[spoofed]
        nacp_r[spoofed] = nacp0[spoofed]
        for k, tx in enumerate(transmitters):
            if tx.spoof is None:
                continue
            sel = spoofed & (spoof_src == k)
            if not sel.any():
                continue
            sp = tx.spoof
            if sp.mode == "fixed":
                rlat[sel] = sp.latitude
                rlon[sel] = sp.longitude
                if sp.velocity == "consistent":
                    gs[sel] = 0.0
            else:
                start = min((s for s, _ in tx.schedule), default=int(t.min()))
                dist = sp.drift_mps * np.maximum(t[sel] - start, 0) / 1e9
                rlat[sel], rlon[sel] = destination(la[sel], lo[sel], sp.bearing_deg, dist)
                if sp.velocity == "consistent":
                    vx = gs[sel] * np.sin(np.radians(trk[sel])) + sp.drift_mps / 0.514444 * (
                        math.sin(math.radians(sp.bearing_deg))
                    )
                    vy = gs[sel] * np.cos(np.radians(trk[sel])) + sp.drift_mps / 0.514444 * (
                        math.cos(math.radians(sp.bearing_deg))
                    )
                    gs[sel] = np.hypot(vx, vy)
                    trk[sel] = np.degrees(np.arctan2(vx, vy)) % 360.0
    return Exposure(effect, source, js, nic_r, nacp_r, rlat, rlon, gs, trk)


def destination(
    lat: npt.ArrayLike, lon: npt.ArrayLike, bearing_deg: float, distance_m: npt.ArrayLike
) -> tuple[F64, F64]:
    """Point at ``distance_m`` from (lat, lon) along initial ``bearing_deg`` (sphere)."""
    p1 = np.radians(np.asarray(lat, dtype=np.float64))
    l1 = np.radians(np.asarray(lon, dtype=np.float64))
    d = np.asarray(distance_m, dtype=np.float64) / EARTH_RADIUS_M
    b = math.radians(bearing_deg)
    p2 = np.arcsin(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * math.cos(b))
    l2 = l1 + np.arctan2(math.sin(b) * np.sin(d) * np.cos(p1), np.cos(d) - np.sin(p1) * np.sin(p2))
    return np.degrees(p2), (np.degrees(l2) + 540.0) % 360.0 - 180.0


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
    "destination",
    "expose",
    "fspl_db",
    "ground_distance_m",
    "is_on",
    "radio_horizon_km",
    "reach_km",
    "received_dbm",
]
