"""TopoJSON decoding: the quantized, delta-encoded arcs of a topology into polygon rings.

The bundled world-atlas files (Natural Earth countries for the basemap, land for the ships'
land mask) are TopoJSON; :func:`polygons` gives the polygons of one of their objects as
rings of longitude/latitude.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]


def _arcs(topo: dict[str, Any]) -> list[F64]:
    scale = np.asarray(topo["transform"]["scale"], np.float64)
    translate = np.asarray(topo["transform"]["translate"], np.float64)
    return [np.cumsum(np.asarray(a, np.float64), axis=0) * scale + translate for a in topo["arcs"]]


def _ring(indices: list[int], arcs: list[F64]) -> F64:
    parts = []
    for k, i in enumerate(indices):
        arc = arcs[i] if i >= 0 else arcs[~i][::-1]
        parts.append(arc if k == 0 else arc[1:])
    return np.concatenate(parts)


def polygons(topo: dict[str, Any], name: str) -> list[list[F64]]:
    """Every polygon of the object ``name`` of the topology ``topo``, each a list of rings
    (the outer ring first, then its holes) as (n, 2) longitude/latitude arrays; geometries
    other than polygons and multipolygons are left out."""
    arcs = _arcs(topo)
    out: list[list[F64]] = []
    for geom in topo["objects"][name]["geometries"]:
        parts = geom.get("arcs", [])
        if geom.get("type") == "Polygon":
            parts = [parts]
        elif geom.get("type") != "MultiPolygon":
            continue
        out.extend([_ring(ring, arcs) for ring in polygon] for polygon in parts)
    return out


__all__ = ["polygons"]
