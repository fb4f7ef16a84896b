"""Compact Position Reporting (CPR), DO-260B Appendix A / ICAO Doc 9871 C.2.6.

Airborne positions use 360 degree zones (dlat 6 and 360/59); surface positions use 90 degree
zones and need a reference within 45 NM to resolve the quadrant. A global decode needs an even
and an odd frame of the same aircraft; when the two lie in different longitude zones
(different NL) the pair is rejected: pairing them anyway is what produces the well-known
180/360 NM jumps. These functions are compiled with Numba and also callable from Python.
"""

from __future__ import annotations

import math

import numba as nb

from jamwatch.geo import haversine_m

NZ = 15
CPR_MAX = 131072.0  # 2**17
MAX_PAIR_DLAT = 0.1  # degrees (11 km): more than any aircraft flies between paired frames


@nb.njit(cache=True, nogil=True)
def nl(lat: float) -> int:  # pragma: no cover
    """Number of longitude zones at latitude ``lat`` (degrees)."""
    a = abs(lat)
    if a < 1e-8:
        return 59
    if abs(a - 87.0) < 1e-8:
        return 2
    if a > 87.0:
        return 1
    t = 1.0 - math.cos(math.pi / (2.0 * NZ))
    c = math.cos(math.pi / 180.0 * a)
    return math.floor(2.0 * math.pi / math.acos(1.0 - t / (c * c)))


@nb.njit(cache=True, nogil=True)
def _mod(a: float, b: float) -> float:  # pragma: no cover
    return a - b * math.floor(a / b)


@nb.njit(cache=True, nogil=True)
def global_airborne(
    lat_even: int, lon_even: int, lat_odd: int, lon_odd: int, latest_odd: bool
) -> tuple[float, float]:  # pragma: no cover
    """Global airborne decode of an even/odd pair; NaNs when the pair spans two zones."""
    return _global(lat_even, lon_even, lat_odd, lon_odd, latest_odd, 360.0)


@nb.njit(cache=True, nogil=True)
def _global(
    lat_even: int, lon_even: int, lat_odd: int, lon_odd: int, latest_odd: bool, span: float
) -> tuple[float, float]:  # pragma: no cover
    yz0 = lat_even / CPR_MAX
    yz1 = lat_odd / CPR_MAX
    dlat0 = span / (4.0 * NZ)
    dlat1 = span / (4.0 * NZ - 1.0)
    j = math.floor(59.0 * yz0 - 60.0 * yz1 + 0.5)
    lat0 = dlat0 * (_mod(j, 60.0) + yz0)
    lat1 = dlat1 * (_mod(j, 59.0) + yz1)
    if lat0 >= 270.0:
        lat0 -= 360.0
    if lat1 >= 270.0:
        lat1 -= 360.0
    if lat0 < -90.0 or lat0 > 90.0 or lat1 < -90.0 or lat1 > 90.0:
        return math.nan, math.nan
    if nl(lat0) != nl(lat1):
        return math.nan, math.nan
    if abs(lat0 - lat1) > MAX_PAIR_DLAT:
        # the two frames cannot come from one aircraft within 10 s (one of them is corrupt
        # or spoofed): a decode would be a position between them, and wrong
        return math.nan, math.nan
    xz0 = lon_even / CPR_MAX
    xz1 = lon_odd / CPR_MAX
    if latest_odd:
        lat = lat1
        n = nl(lat1)
        ni = max(n - 1, 1)
        m = math.floor(xz0 * (n - 1) - xz1 * n + 0.5)
        lon = (span / ni) * (_mod(m, ni) + xz1)
    else:
        lat = lat0
        n = nl(lat0)
        ni = max(n, 1)
        m = math.floor(xz0 * (n - 1) - xz1 * n + 0.5)
        lon = (span / ni) * (_mod(m, ni) + xz0)
    if lon >= 180.0:
        lon -= 360.0
    return lat, lon


@nb.njit(cache=True, nogil=True)
def local(
    lat_cpr: int, lon_cpr: int, odd: bool, ref_lat: float, ref_lon: float, surface: bool
) -> tuple[float, float]:  # pragma: no cover
    """Local decode against a reference within half a zone (airborne) or 45 NM (surface)."""
    span = 90.0 if surface else 360.0
    i = 1 if odd else 0
    dlat = span / (4.0 * NZ - i)
    yz = lat_cpr / CPR_MAX
    j = math.floor(ref_lat / dlat) + math.floor(_mod(ref_lat, dlat) / dlat - yz + 0.5)
    lat = dlat * (j + yz)
    n = nl(lat) - i
    dlon = span / n if n > 0 else span
    xz = lon_cpr / CPR_MAX
    m = math.floor(ref_lon / dlon) + math.floor(_mod(ref_lon, dlon) / dlon - xz + 0.5)
    lon = dlon * (m + xz)
    if lon >= 180.0:
        lon -= 360.0
    elif lon < -180.0:
        lon += 360.0
    return lat, lon


@nb.njit(cache=True, nogil=True)
def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:  # pragma: no cover
    """Great-circle distance in kilometres (:func:`jamwatch.geo.haversine_m`)."""
    return haversine_m(lat1, lon1, lat2, lon2) / 1000.0
