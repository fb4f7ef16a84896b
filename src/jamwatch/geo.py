"""Geodesy on the sphere, one Earth radius for the whole package.

Distances are great-circle (haversine) on the sphere of the mean Earth radius (IUGG,
6,371,008.8 m): within about 0.5 % of the ellipsoid, far below what jamwatch measures (a
cell, a containment radius, a transmitter's position). :func:`haversine_m` is the scalar
form, callable from compiled kernels; :func:`distance_m` the element-wise one for arrays.
The local plane of the localizer lives in :mod:`jamwatch.detect.tracks` (``stereo_xy``);
the simulator keeps its own bit-exact forms in :mod:`jamwatch.simulate.radio`, on this
radius.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]

EARTH_RADIUS_M = 6_371_008.8


@nb.njit(cache=True, nogil=True, inline="always")
def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points given in degrees."""
    p1 = math.radians(lat1)
    p2 = math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2.0 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def distance_m(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> F64:
    """Great-circle distance in metres, element-wise (NumPy broadcasting), degrees in."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(np.subtract(lon2, lon1)) / 2) ** 2
    )
    return np.asarray(2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0))))


__all__ = ["EARTH_RADIUS_M", "distance_m", "haversine_m"]
