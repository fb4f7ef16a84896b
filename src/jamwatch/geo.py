"""Geodesy on the sphere, one Earth radius for the whole package.

Everything is on the sphere of the mean Earth radius (IUGG, 6,371,008.8 m): within about
0.5 % of the ellipsoid, far below what jamwatch measures (a cell, a containment radius, a
transmitter's position).

- great-circle distance: :func:`haversine_m` (scalar, callable from compiled kernels) and
  :func:`distance_m` (element-wise);
- initial bearing: :func:`bearing_deg`;
- the point at a distance along a bearing: :func:`destination` (element-wise) and
  :func:`destination_point` (scalar, compiled);
- local planes around a centre: :func:`stereo_xy` / :func:`from_stereo` (stereographic:
  distances right to ``(d / 2R)^2``, 0.04 % at 250 km, at any latitude; the localizer's) and
  :func:`local_xy` / :func:`to_latlon` (equirectangular: about 1 % at 500 km, 2 % 50 km
  north or south at 70 degrees; event extents and hulls).

The simulator's kernels keep a distance of their own arithmetic
(:func:`jamwatch.simulate.radio.haversine_m`, with the cosines precomputed) on this radius.
"""

from __future__ import annotations

import math
from typing import Any

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


def bearing_deg(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> F64:
    """Initial great-circle bearing (degrees, 0-360) from point 1 to point 2, element-wise."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.subtract(lon2, lon1))
    y = np.sin(dl) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    return np.asarray(np.degrees(np.arctan2(y, x)) % 360.0)


def destination(
    lat: npt.ArrayLike, lon: npt.ArrayLike, bearing_deg: npt.ArrayLike,
    distance_m: npt.ArrayLike, *, wrap: bool = True,
) -> tuple[F64, F64]:  # fmt: skip
    """The point ``distance_m`` from (lat, lon) along the initial bearing, element-wise;
    longitudes in -180..180, or with ``wrap=False`` continuous from ``lon`` (a ring drawn
    across the antimeridian stays whole)."""
    p1 = np.radians(np.asarray(lat, dtype=np.float64))
    l1 = np.radians(np.asarray(lon, dtype=np.float64))
    d = np.asarray(distance_m, dtype=np.float64) / EARTH_RADIUS_M
    b = np.radians(np.asarray(bearing_deg, dtype=np.float64))
    p2 = np.arcsin(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * np.cos(b))
    l2 = l1 + np.arctan2(np.sin(b) * np.sin(d) * np.cos(p1), np.cos(d) - np.sin(p1) * np.sin(p2))
    lon2 = np.degrees(l2)
    return np.asarray(np.degrees(p2)), np.asarray((lon2 + 540.0) % 360.0 - 180.0 if wrap else lon2)


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def destination_point(
    lat: float, lon: float, bearing_deg: float, distance_m: float
) -> tuple[float, float]:  # fmt: skip
    """As :func:`destination`, one point (compiled; longitude in -180..180)."""
    p1 = np.radians(lat)
    l1 = np.radians(lon)
    d = distance_m / EARTH_RADIUS_M
    b = np.radians(bearing_deg)
    p2 = np.arcsin(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * np.cos(b))
    l2 = l1 + np.arctan2(np.sin(b) * np.sin(d) * np.cos(p1), np.cos(d) - np.sin(p1) * np.sin(p2))
    return float(np.degrees(p2)), float((np.degrees(l2) + 540.0) % 360.0 - 180.0)


def local_xy(lat: F64, lon: F64, lat0: float, lon0: float) -> tuple[F64, F64]:
    """East and north offsets (m) from (lat0, lon0), equirectangular (good to ~1 % at 500 km)."""
    x = (
        np.radians((lon - lon0 + 540.0) % 360.0 - 180.0)
        * EARTH_RADIUS_M
        * math.cos(math.radians(lat0))
    )
    y = np.radians(lat - lat0) * EARTH_RADIUS_M
    return np.asarray(x), np.asarray(y)


def to_latlon(x: F64, y: F64, lat0: float, lon0: float) -> tuple[F64, F64]:
    """Inverse of :func:`local_xy`."""
    lat = lat0 + np.degrees(y / EARTH_RADIUS_M)
    lon = lon0 + np.degrees(x / (EARTH_RADIUS_M * math.cos(math.radians(lat0))))
    return np.asarray(lat), np.asarray((lon + 540.0) % 360.0 - 180.0)


def stereo_xy(lat: F64, lon: F64, lat0: float, lon0: float) -> tuple[F64, F64]:
    """East and north (m) in the stereographic plane tangent at (lat0, lon0): conformal, with
    a scale error of ``(d / 2R)^2`` at ``d`` from the centre (0.04 % at 250 km), so distances
    between points are right to that at every latitude (the equirectangular :func:`local_xy`
    is 2 % off 50 km north or south of the centre at 70 degrees)."""
    p, p0 = np.radians(lat), math.radians(lat0)
    dl = np.radians((lon - lon0 + 540.0) % 360.0 - 180.0)
    cos_c = math.sin(p0) * np.sin(p) + math.cos(p0) * np.cos(p) * np.cos(dl)
    k = 2.0 * EARTH_RADIUS_M / (1.0 + cos_c)
    x = k * np.cos(p) * np.sin(dl)
    y = k * (math.cos(p0) * np.sin(p) - math.sin(p0) * np.cos(p) * np.cos(dl))
    return np.asarray(x), np.asarray(y)


def from_stereo(x: F64, y: F64, lat0: float, lon0: float) -> tuple[F64, F64]:
    """Inverse of :func:`stereo_xy`."""
    p0 = math.radians(lat0)
    rho = np.maximum(np.hypot(x, y), 1e-9)
    c = 2.0 * np.arctan(rho / (2.0 * EARTH_RADIUS_M))
    lat = np.arcsin(np.cos(c) * math.sin(p0) + y * np.sin(c) * math.cos(p0) / rho)
    dl = np.arctan2(x * np.sin(c), rho * math.cos(p0) * np.cos(c) - y * math.sin(p0) * np.sin(c))
    lon = lon0 + np.degrees(dl)
    return np.asarray(np.degrees(lat)), np.asarray((lon + 540.0) % 360.0 - 180.0)


def convex_hull(x: F64, y: F64) -> tuple[F64, F64]:
    """Convex hull (monotone chain), counter-clockwise, of the distinct points (rounded to
    0.1: metres of a local plane)."""
    pts = np.asarray(np.unique(np.round(np.column_stack([x, y]), 1), axis=0), np.float64)
    if pts.shape[0] < 3:
        return np.asarray(pts[:, 0], np.float64), np.asarray(pts[:, 1], np.float64)

    def cross(o: Any, a: Any, b: Any) -> float:
        return float((a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]))

    lower: list[Any] = []
    for p in pts:  # hull vertices of one event, not reports
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[Any] = []
    for p in pts[::-1]:
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    hull = np.array(lower[:-1] + upper[:-1])
    return hull[:, 0], hull[:, 1]


__all__ = [
    "EARTH_RADIUS_M",
    "bearing_deg",
    "convex_hull",
    "destination",
    "destination_point",
    "distance_m",
    "from_stereo",
    "haversine_m",
    "local_xy",
    "stereo_xy",
    "to_latlon",
]
