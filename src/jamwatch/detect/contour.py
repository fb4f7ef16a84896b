"""An honest 95 % region from a model that assumes little about the avionics.

The likelihood fit (:mod:`jamwatch.detect.likelihood`) reads graded NIC levels as distances
and is sharp when the avionics behave as it assumes; when they do not (integrity that falls in
one step, receivers that tolerate several dB more than others, antennas shielded by the
fuselage) it can be sharp and wrong. This module asks only what every avionics family shares:
an aircraft is *affected* (degraded or lost, any level below its nominal one) more often the
stronger the jamming, and never beyond the transmitter's radio horizon::

    P(affected | u) = eps + (1 - 2 eps) * sigmoid((c - u) / s)     inside the horizon
    P(affected | u) = eps                                          beyond it

with ``u = 20 log10(slant range)``, the threshold ``c`` (power and receiver together) and the
spread ``s`` (receivers, antennas, attitude: several dB) profiled out on grids. The region is
every site of a wide grid (``region_km`` around the affected reports, so it reaches beyond
the traffic) whose profile log-likelihood lies within ``delta_ll`` of the best, over the
transmitter heights; its radius around a reported source is what the source's 95 % radius
must at least be. A geometry that does not pin the source (one-sided traffic, a transmitter
beyond coverage) gives a large region, and so a large radius.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np
import numpy.typing as npt

from jamwatch.detect.observe import Observations

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ContourConfig:
    """Grids of the binary model (see the module documentation)."""

    region_km: float = 400.0
    step_km: float = 20.0
    heights_m: tuple[float, ...] = (10.0, 100.0, 500.0)
    spreads_db: tuple[float, ...] = (1.5, 4.0)
    c_step_db: float = 2.0
    outlier: float = 0.01
    delta_ll: float = 3.0


@nb.njit(cache=True, nogil=True, parallel=True)
def _grid_ll(
    x: F64, y: F64, alt: F64, hit: npt.NDArray[np.bool_], w: F64, gx: F64, gy: F64,
    heights: F64, spreads: F64, c_grid: F64, eps: float, out: F64,
) -> None:  # fmt: skip  # pragma: no cover
    """Profile log-likelihood of the binary model at every grid site (best over heights,
    spreads and thresholds)."""
    n = x.shape[0]
    log_eps, log_1eps = np.log(eps), np.log(1.0 - eps)
    for k in nb.prange(gx.shape[0]):
        u = np.empty(n)
        e = np.empty(n)
        best = -1e300
        for h in heights:
            for i in range(n):
                g2 = (x[i] - gx[k]) ** 2 + (y[i] - gy[k]) ** 2
                horizon = 4120.0 * (np.sqrt(h) + np.sqrt(max(alt[i], 0.0)))
                u[i] = 1e9 if g2 > horizon * horizon else 10.0 * np.log10(
                    max(g2 + (alt[i] - h) ** 2, 1.0)
                )
            for s in spreads:
                # the logistic of (c - u) / s as e^(c/s) e^(-u/s) / (1 + ...): one exponential
                # per report and spread, not per threshold (u within 0-130 dB, s >= 1 dB:
                # no overflow)
                for i in range(n):
                    e[i] = np.exp(-u[i] / s) if u[i] < 1e9 else 0.0
                for c in c_grid:
                    ec = np.exp(c / s)
                    ll = 0.0
                    for i in range(n):
                        if u[i] >= 1e9:
                            ll += w[i] * (log_eps if hit[i] else log_1eps)
                            continue
                        z = ec * e[i]
                        p = eps + (1.0 - 2.0 * eps) * (z / (1.0 + z))
                        ll += w[i] * np.log(p if hit[i] else 1.0 - p)
                    if ll > best:
                        best = ll
        out[k] = best


def region(ob: Observations, config: ContourConfig | None = None) -> tuple[F64, F64, F64]:
    """Grid sites (local metres) and their profile log-likelihoods under the binary model;
    empty when the piece has no affected observation."""
    c = config or ContourConfig()
    keep = ~ob.boundary  # reports, not the changes of level between them
    hit = np.asarray(ob.affected[keep], np.bool_)
    if not hit.any():
        return np.zeros(0), np.zeros(0), np.zeros(0)
    x, y, alt, w = ob.x[keep], ob.y[keep], ob.alt_m[keep], ob.weight[keep]
    cx, cy = float(np.mean(x[hit])), float(np.mean(y[hit]))
    half = c.region_km * 1000.0
    axis = np.arange(-half, half + 1.0, c.step_km * 1000.0)
    gx = (cx + axis[:, None] + 0.0 * axis[None, :]).ravel()
    gy = (cy + 0.0 * axis[:, None] + axis[None, :]).ravel()
    # thresholds over the span of the losses the sites could see (20 log10 of 1-600 km)
    c_grid = np.arange(60.0, 116.0, c.c_step_db)
    out = np.empty(gx.shape[0])
    _grid_ll(
        x, y, alt, hit, w, gx, gy, np.asarray(c.heights_m, np.float64),
        np.asarray(c.spreads_db, np.float64), c_grid, c.outlier, out,
    )  # fmt: skip
    return gx, gy, out


def honest_radius(
    ob: Observations, sx: float, sy: float, config: ContourConfig | None = None
) -> float | None:
    """The radius (m) around a source at (sx, sy) that holds every site of the binary model's
    region (within ``delta_ll`` of its best), plus half a grid step; None without one."""
    c = config or ContourConfig()
    gx, gy, ll = region(ob, c)
    if ll.shape[0] == 0:
        return None
    inside = ll >= ll.max() - c.delta_ll
    d = np.hypot(gx[inside] - sx, gy[inside] - sy)
    return float(d.max() + 0.5 * c.step_km * 1000.0)


__all__ = ["ContourConfig", "honest_radius", "region"]
