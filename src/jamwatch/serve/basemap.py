"""The bundled world basemap: Natural Earth countries from the world-atlas TopoJSON file.

``static/countries-50m.json`` is world-atlas 2.0.2 (ISC licence; Natural Earth, public domain).
:func:`country_rings` decodes its quantized, delta-encoded arcs into longitude/latitude rings,
used by the static PNG and converted once to GeoJSON for the web page.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

import numpy as np
import numpy.typing as npt

STATIC = files("jamwatch.serve") / "static"
BASEMAP_FILE = "countries-50m.json"
ATTRIBUTION = (
    "Basemap: Natural Earth via world-atlas (ISC). Map: deck.gl (MIT) from pydeck (Apache-2.0)."
)


@cache
def _topology() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((STATIC / BASEMAP_FILE).read_text())
    return data


def _arcs(topo: dict[str, Any]) -> list[npt.NDArray[np.float64]]:
    scale = np.asarray(topo["transform"]["scale"], np.float64)
    translate = np.asarray(topo["transform"]["translate"], np.float64)
    return [np.cumsum(np.asarray(a, np.float64), axis=0) * scale + translate for a in topo["arcs"]]


def _ring(indices: list[int], arcs: list[npt.NDArray[np.float64]]) -> npt.NDArray[np.float64]:
    parts = []
    for k, i in enumerate(indices):
        arc = arcs[i] if i >= 0 else arcs[~i][::-1]
        parts.append(arc if k == 0 else arc[1:])
    return np.concatenate(parts)


@cache
def country_rings() -> list[npt.NDArray[np.float64]]:
    """Every polygon ring (outer and holes) of every country, as (n, 2) lon/lat arrays."""
    topo = _topology()
    arcs = _arcs(topo)
    rings: list[npt.NDArray[np.float64]] = []
    for geom in topo["objects"]["countries"]["geometries"]:
        polygons = geom.get("arcs", [])
        if geom.get("type") == "Polygon":
            polygons = [polygons]
        elif geom.get("type") != "MultiPolygon":
            continue
        for polygon in polygons:
            rings.extend(_ring(ring, arcs) for ring in polygon)
    return rings


def basemap_geojson() -> dict[str, Any]:
    """The country rings as one GeoJSON MultiPolygon feature collection (coordinates rounded)."""
    coords = [[np.round(r, 3).tolist()] for r in country_rings()]
    geometry = {"type": "MultiPolygon", "coordinates": coords}
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {}, "geometry": geometry}],
    }
