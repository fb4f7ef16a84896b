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

from jamwatch.topojson import polygons

STATIC = files("jamwatch.serve") / "static"
BASEMAP_FILE = "countries-50m.json"
ATTRIBUTION = (
    "Basemap: Natural Earth via world-atlas (ISC). Map: deck.gl (MIT) from pydeck (Apache-2.0)."
)


@cache
def _topology() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((STATIC / BASEMAP_FILE).read_text())
    return data


@cache
def country_rings() -> list[npt.NDArray[np.float64]]:
    """Every polygon ring (outer and holes) of every country, as (n, 2) lon/lat arrays."""
    return [ring for polygon in polygons(_topology(), "countries") for ring in polygon]


def basemap_geojson() -> dict[str, Any]:
    """The country rings as one GeoJSON MultiPolygon feature collection (coordinates rounded)."""
    coords = [[np.round(r, 3).tolist()] for r in country_rings()]
    geometry = {"type": "MultiPolygon", "coordinates": coords}
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {}, "geometry": geometry}],
    }
