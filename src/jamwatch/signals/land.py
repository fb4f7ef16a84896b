"""The land mask of the ship signals: Natural Earth 1:10m land (world-atlas TopoJSON).

A ship's reported position on land is a sign of spoofing (positions at inland airports,
circles over land). The Natural Earth 1:10m land polygons place coastlines to a few hundred
metres and have no rivers, canals or lakes cut out of them, so a position counts as on land
only when it and the points ``inland_m`` from it in eight directions all lie on land: a ship
at a quay, in a narrow harbour or in an estuary is not on land by this test, and a barge
on a river may be (see :mod:`jamwatch.signals.ships` for how little that alone decides).
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from importlib.resources import files

import numpy as np
import numpy.typing as npt
import shapely

from jamwatch.geo import destination
from jamwatch.topojson import polygons

F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

LAND_FILE = "land-10m.json.gz"
#: the default distance a position must lie inland of the Natural Earth coastline, m
INLAND_M = 2_000.0
#: positions are tested once per cell of this many degrees (about 1 m)
ROUND_DEG = 1e-5


@cache
def land() -> shapely.MultiPolygon:
    """The Natural Earth 1:10m land as one prepared multipolygon (decoded once, 0.5 s)."""
    raw = (files("jamwatch.signals") / "data" / LAND_FILE).read_bytes()
    topo = json.loads(gzip.decompress(raw))
    parts = [shapely.Polygon(rings[0], rings[1:]) for rings in polygons(topo, "land")]
    mask = shapely.MultiPolygon(parts)
    shapely.prepare(mask)
    return mask


def _inside(lat: F64, lon: F64) -> B:
    return np.asarray(shapely.contains_xy(land(), lon, lat), np.bool_)


def on_land(lat: npt.ArrayLike, lon: npt.ArrayLike, inland_m: float = INLAND_M) -> B:
    """Whether each position lies on land, ``inland_m`` or more from the coast (False where
    the position is missing). Repeated positions are tested once."""
    la = np.asarray(lat, np.float64)
    lo = np.asarray(lon, np.float64)
    out = np.zeros(la.shape[0], np.bool_)
    ok = np.isfinite(la) & np.isfinite(lo)
    if not ok.any():
        return out
    # one integer per rounded position: latitude steps times 2^26 (> 360 / ROUND_DEG) plus
    # longitude steps, both made positive
    ilat = np.round((la[ok] + 90.0) / ROUND_DEG).astype(np.int64)
    ilon = np.round((lo[ok] + 180.0) / ROUND_DEG).astype(np.int64)
    uniq, back = np.unique(ilat << 26 | ilon, return_inverse=True)
    ulat = (uniq >> 26) * ROUND_DEG - 90.0
    ulon = (uniq & ((1 << 26) - 1)) * ROUND_DEG - 180.0
    found = _inside(ulat, ulon)
    if inland_m > 0.0 and found.any():
        idx = np.flatnonzero(found)
        for bearing in range(0, 360, 45):
            plat, plon = destination(ulat[idx], ulon[idx], float(bearing), inland_m)
            keep = _inside(plat, plon)
            found[idx[~keep]] = False
            idx = idx[keep]
    out[ok] = found[back.ravel()]
    return out


__all__ = ["INLAND_M", "land", "on_land"]
