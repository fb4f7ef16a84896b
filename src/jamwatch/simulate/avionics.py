"""The avionics family: how each aircraft's GNSS receiver and antenna respond to jamming.

The least known part of the simulator (docs/simulator.md), so it is a family of behaviours,
drawn per aircraft from the parameters of a :class:`Fleet` (a scenario's ``[fleet]`` table).
The defaults are the behaviour of the first simulator, so scenarios that ask for nothing else
give the same frames bit for bit:

- *response* below loss of lock: ``graded`` (NIC and NACp fall linearly with J/S across the
  degraded band), ``one_step`` (nominal until loss of lock, then NIC 0 with NACp 0 or 1, or
  no position: the real Helsinki aircraft of 2026-01-06 mostly go from NIC 8 to 0 in one
  step), ``two_level`` (one "degraded, still navigating" level, NIC 0-2 with NACp 1-4, over
  the whole band); ``mixed`` draws one of the three per aircraft (equally likely, or in
  proportion to ``graded_weight``, ``one_step_weight`` and ``two_level_weight``);
- *tolerance*: the aircraft's loss-of-lock threshold is the model's plus N(0, sd);
- *recovery lag*: after loss of lock the receiver recovers only once J/S has stayed below its
  threshold minus ``hysteresis_db`` for the aircraft's recovery time (uniform in 0 to
  ``recovery_s``); meanwhile it stays in loss of lock;
- *antenna shielding*: a share of aircraft have a top-mounted antenna shadowed by the
  fuselage: a transmitter below the aircraft's horizontal plane loses up to the aircraft's
  shield loss (uniform in 0 to ``shield_db``), in proportion to the depression angle, fully
  from ``shield_full_deg`` down;
- under loss of lock a share ``stop_fraction`` stop sending positions (in
  :mod:`jamwatch.simulate.run`), the others send NIC 0 positions.

The traits travel to the compiled kernels as one float row per aircraft (columns ``TRAIT_*``)
and the receiver's lock as one int row per aircraft (columns ``LOCK_*``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
NS = 1_000_000_000

#: receiver states (truth column ``effect``)
NOMINAL, DEGRADED, JAMMED, SPOOFED = 0, 1, 2, 3

#: responses below loss of lock, in the order ``mixed`` draws them
GRADED, ONE_STEP, TWO_LEVEL = 0, 1, 2
RESPONSES = ("graded", "one_step", "two_level")

#: columns of the per-aircraft trait rows
TRAIT_RESPONSE = 0  # GRADED, ONE_STEP or TWO_LEVEL
TRAIT_LOCK_OFFSET_DB = 1  # the aircraft's loss-of-lock threshold minus the model's
TRAIT_SHIELD_DB = 2  # fuselage loss for a transmitter far below (0: not shielded)
TRAIT_SHIELD_FULL_RAD = 3  # depression angle from which the whole shield loss applies
TRAIT_DEGRADED_NIC = 4  # two_level: NIC of the degraded level
TRAIT_DEGRADED_NACP = 5  # two_level: NACp of the degraded level
TRAIT_JAMMED_NACP = 6  # NACp sent with NIC 0 positions under loss of lock
TRAIT_HYSTERESIS_DB = 7  # recovery needs J/S below the threshold minus this
TRAIT_RECOVERY_NS = 8  # ... for this long
N_TRAITS = 9

#: columns of the per-aircraft lock rows (state carried from message to message)
LOCK_LOST = 0  # 1 while the receiver is in loss of lock
LOCK_BELOW_SINCE = 1  # since when J/S has been below the recovery level (NOT_BELOW: not)
LOCK_CAUSE = 2  # the jammer that broke lock last (its index)
N_LOCK = 3
NOT_BELOW = np.iinfo(np.int64).min

#: the random stream of the traits, beside the simulation's own (whose draws stay the same)
AVIONICS_STREAM = 0xA71


@dataclass(frozen=True, slots=True)
class Fleet:
    """Per-aircraft avionics traits, drawn at random for each aircraft.

    ``nic9_fraction``: share of aircraft with NIC supplement A = 1 reporting NIC 9 (others
    NIC 8). ``nacp10_fraction``: share with NACp 10 (others 9). ``faulty_fraction``: aircraft
    that always report NIC 0 / NACp 0 (faulty avionics, not interference).
    ``stop_fraction``: share that stop sending positions under loss of lock (the others send
    them with NIC 0 / NACp 0, from an inertial or hybrid solution). The rest: see the module
    documentation (``response`` one of :data:`RESPONSES` or ``mixed``; ``tolerance_sd_db``,
    ``hysteresis_db``, ``shield_db`` in dB; ``recovery_s`` in s; ``shield_full_deg`` in
    degrees below the horizontal).
    """

    nic9_fraction: float = 0.2
    nacp10_fraction: float = 0.5
    faulty_fraction: float = 0.01
    stop_fraction: float = 0.5
    gnss_baro_sigma_ft: float = 150.0
    response: str = "graded"
    tolerance_sd_db: float = 0.0
    hysteresis_db: float = 0.0
    recovery_s: float = 0.0
    shield_fraction: float = 0.0
    shield_db: float = 0.0
    shield_full_deg: float = 30.0
    graded_weight: float = 1.0
    one_step_weight: float = 1.0
    two_level_weight: float = 1.0

    @property
    def weights(self) -> tuple[float, float, float]:
        """The ``mixed`` draw's weights of the responses, in :data:`RESPONSES` order."""
        return (self.graded_weight, self.one_step_weight, self.two_level_weight)

    def __post_init__(self) -> None:
        if self.response not in (*RESPONSES, "mixed"):
            allowed = ", ".join((*RESPONSES, "mixed"))
            raise ValueError(f"response must be one of {allowed}, not {self.response!r}")
        for name in (
            "nic9_fraction", "nacp10_fraction", "faulty_fraction", "stop_fraction",
            "shield_fraction",
        ):  # fmt: skip
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1]")
        if min(self.weights) < 0.0 or sum(self.weights) <= 0.0:
            raise ValueError("the response weights must not be negative nor all zero")
        for name in ("tolerance_sd_db", "hysteresis_db", "recovery_s", "shield_db"):
            if getattr(self, name) < 0.0:
                raise ValueError(f"{name} must not be negative")
        if not 0.0 < self.shield_full_deg <= 90.0:
            raise ValueError("shield_full_deg must lie in (0, 90]")


def draw_traits(fleet: Fleet, n_aircraft: int, seed: int) -> F64:
    """One trait row per aircraft (columns ``TRAIT_*``), from their own random stream.

    Every column is drawn for every fleet, in a fixed order, so one trait of an aircraft
    does not change when another parameter of the fleet does.
    """
    rng = np.random.default_rng([seed, AVIONICS_STREAM])
    n = n_aircraft
    kind = rng.integers(0, len(RESPONSES), n)
    offset = rng.standard_normal(n)
    shielded = rng.random(n) < fleet.shield_fraction
    shield = rng.random(n)
    degraded_nic = rng.integers(0, 3, n)  # NIC 0-2
    degraded_nacp = rng.integers(1, 5, n)  # NACp 1-4
    jammed_nacp = rng.integers(0, 2, n)  # one_step: NACp 0 or 1
    recovery = rng.random(n)
    traits = np.zeros((n, N_TRAITS))
    w = np.asarray(fleet.weights)
    if fleet.response == "mixed" and np.ptp(w) > 0.0:  # unequal weights: a draw of its own
        kind = np.searchsorted(np.cumsum(w) / w.sum(), rng.random(n), side="right")
        kind = np.minimum(kind, len(RESPONSES) - 1)
    if fleet.response != "mixed":
        kind = np.full(n, RESPONSES.index(fleet.response))
    traits[:, TRAIT_RESPONSE] = kind
    traits[:, TRAIT_LOCK_OFFSET_DB] = fleet.tolerance_sd_db * offset
    traits[:, TRAIT_SHIELD_DB] = np.where(shielded, fleet.shield_db * shield, 0.0)
    traits[:, TRAIT_SHIELD_FULL_RAD] = math.radians(fleet.shield_full_deg)
    traits[:, TRAIT_DEGRADED_NIC] = degraded_nic
    traits[:, TRAIT_DEGRADED_NACP] = degraded_nacp
    traits[:, TRAIT_JAMMED_NACP] = np.where(kind == ONE_STEP, jammed_nacp, 0)
    traits[:, TRAIT_HYSTERESIS_DB] = fleet.hysteresis_db
    traits[:, TRAIT_RECOVERY_NS] = np.rint(fleet.recovery_s * recovery * NS)
    return traits


def default_traits(n_aircraft: int = 1) -> F64:
    """Trait rows of the default fleet (graded, no spread, lag or shield), no draws."""
    traits = np.zeros((n_aircraft, N_TRAITS))
    traits[:, TRAIT_SHIELD_FULL_RAD] = math.radians(Fleet().shield_full_deg)
    return traits


@nb.njit(cache=True, nogil=True)
def new_lock_state(n_aircraft: int) -> I64:
    """Lock rows (columns ``LOCK_*``) of receivers that all have lock."""
    state = np.zeros((n_aircraft, N_LOCK), dtype=np.int64)
    state[:, LOCK_BELOW_SINCE] = NOT_BELOW
    state[:, LOCK_CAUSE] = -1
    return state


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def shield_loss_db(shield_db: float, full_rad: float, depression_rad: float) -> float:
    """Fuselage loss (dB) for a transmitter ``depression_rad`` below the aircraft's
    horizontal plane: none above it, growing linearly to ``shield_db`` at ``full_rad``."""
    if depression_rad <= 0.0:
        return 0.0
    return float(shield_db * min(depression_rad / full_rad, 1.0))


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def lock_step(
    js: float, threshold: float, jammer: int, lock: I64, a: int, t: int, traits: F64
) -> bool:
    """Whether aircraft ``a``'s receiver is in loss of lock at time ``t``, its lock row
    updated (one aircraft's messages come in time order). ``jammer``: the strongest one."""
    if js >= threshold:
        lock[a, LOCK_LOST] = 1
        lock[a, LOCK_BELOW_SINCE] = NOT_BELOW
        lock[a, LOCK_CAUSE] = jammer
        return True
    if lock[a, LOCK_LOST] == 0:
        return False
    if js >= threshold - traits[a, TRAIT_HYSTERESIS_DB]:
        lock[a, LOCK_BELOW_SINCE] = NOT_BELOW
        return True
    if lock[a, LOCK_BELOW_SINCE] == NOT_BELOW:
        lock[a, LOCK_BELOW_SINCE] = t
    if t - lock[a, LOCK_BELOW_SINCE] >= traits[a, TRAIT_RECOVERY_NS]:
        lock[a, LOCK_LOST] = 0
        return False
    return True


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def degraded_levels(
    js: float, band_start: float, band_db: float, nic0: int, nacp0: int, traits: F64, a: int
) -> tuple[int, int, int]:
    """Effect, NIC and NACp of aircraft ``a`` in the degraded band (J/S >= ``band_start``,
    short of loss of lock), by its response; a one_step receiver reports nominal there."""
    response = traits[a, TRAIT_RESPONSE]
    if response == ONE_STEP:
        return NOMINAL, nic0, nacp0
    if response == TWO_LEVEL:
        nic = min(int(traits[a, TRAIT_DEGRADED_NIC]), nic0)
        return DEGRADED, nic, min(int(traits[a, TRAIT_DEGRADED_NACP]), nacp0)
    frac = min(max((js - band_start) / band_db, 0.0), 1.0)
    return DEGRADED, int(np.floor(nic0 * (1.0 - frac))), int(np.floor(nacp0 * (1.0 - frac)))


__all__ = [
    "DEGRADED",
    "GRADED",
    "JAMMED",
    "NOMINAL",
    "ONE_STEP",
    "RESPONSES",
    "SPOOFED",
    "TWO_LEVEL",
    "Fleet",
    "default_traits",
    "degraded_levels",
    "draw_traits",
    "lock_step",
    "new_lock_state",
    "shield_loss_db",
]
