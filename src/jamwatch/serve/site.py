"""Write the map's files: an offline web page, Parquet, GeoJSON, gpsjam CSVs and a PNG.

The page (``index.html`` + ``app.js``) computes nothing: it draws the cells written by
:func:`write_map` into ``cells.js`` with deck.gl's H3HexagonLayer over the bundled basemap
(``basemap.js``), and the events of ``jamwatch detect`` (``events.js``: areas, sources with
their 95 % circles as polygons, spoofed positions, the windows each event overlaps), all
from files in the output folder, so it opens from disk or any static server with no network.
deck.gl is not shipped in this package: it is the deck.gl bundle of the installed ``pydeck``
package (``pydeck/nbextension/static/index.js``, the @deck.gl/jupyter-widget build, which
defines ``createDeck``), copied at run time into the output folder as ``pydeck.js``.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
from importlib.resources import files
from pathlib import Path
from typing import Any

import h3
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from jamwatch.aggregate.vessels import ships_only
from jamwatch.io.gpsjam import write_gpsjam_days
from jamwatch.serve.basemap import ATTRIBUTION, STATIC, basemap_geojson, country_rings
from jamwatch.serve.events import circle, events_geojson, page_events

ASSETS = ("THIRD_PARTY.md",)
DECK_BUNDLE = "pydeck.js"
PAGE = files("jamwatch.serve") / "page"
COLORS = {"green": "#2e9e44", "yellow": "#e8c21a", "red": "#d7301f"}
MAX_AIRCRAFT = 20


def _aircraft_lists(partials: pa.Table) -> dict[tuple[int, int], list[str]]:
    """Per (cell, window start ns): its aircraft, bad ones first, at most MAX_AIRCRAFT."""
    if partials.num_rows == 0:
        return {}
    ordered = partials.sort_by([("bad", "descending"), ("icao", "ascending")])
    grouped = ordered.group_by(["cell", "window_start"], use_threads=False).aggregate(
        [("icao", "list"), ("bad", "list")]
    )
    out = {}
    for cell, start, icaos, bads in zip(
        grouped["cell"].to_pylist(),
        grouped["window_start"].cast(pa.int64()).to_pylist(),
        grouped["icao_list"].to_pylist(),
        grouped["bad_list"].to_pylist(),
        strict=True,
    ):
        out[(cell, start)] = [i + ("*" if b else "") for i, b in zip(icaos, bads, strict=True)][
            :MAX_AIRCRAFT
        ]
    return out


def deck_bundle() -> Path:
    """deck.gl as the installed pydeck package ships it (found without importing pydeck)."""
    spec = importlib.util.find_spec("pydeck")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / "nbextension" / "static" / "index.js"
        if path.is_file():
            return path
    raise FileNotFoundError(
        "the map page needs deck.gl from the pydeck package: pip install pydeck "
        "(its nbextension/static/index.js was not found)"
    )


def _pydeck_licence() -> str | None:
    """pydeck's licence text from its installed metadata, if present."""
    try:
        dist = importlib.metadata.distribution("pydeck")
    except importlib.metadata.PackageNotFoundError:
        return None
    for entry in dist.files or []:
        if entry.name.upper().startswith("LICENSE"):
            path = Path(str(entry.locate()))
            if path.is_file():
                return path.read_text(encoding="utf-8")
    return None


def _windows(cells: pa.Table) -> list[tuple[int, int]]:
    """The page's windows: sorted (start ns, seconds)."""
    starts = cells["window_start"].cast(pa.int64()).to_pylist()
    return sorted(set(zip(starts, cells["window_s"].to_pylist(), strict=True)))


def page_data(cells: pa.Table, partials: pa.Table) -> dict[str, Any]:
    """The compact JSON the page reads: windows and one short record per cell and window."""
    starts = cells["window_start"].cast(pa.int64()).to_pylist()
    lengths = cells["window_s"].to_pylist()
    windows = _windows(cells)
    index = {w: k for k, w in enumerate(windows)}
    aircraft = _aircraft_lists(partials)
    records = []
    for row, start, length in zip(cells.to_pylist(), starts, lengths, strict=True):
        lat, lon = h3.cell_to_latlng(row["hex"])
        records.append(
            {
                "h": row["hex"],
                "y": round(lat, 4),
                "x": round(lon, 4),
                "w": index[(start, length)],
                "g": row["count_good_aircraft"],
                "b": row["count_bad_aircraft"],
                "f": row["count_faulty_aircraft"],
                "n": None if row["nic_share_pct"] is None else round(row["nic_share_pct"], 1),
                "s": None if row["score_pct"] is None else round(row["score_pct"], 2),
                "l": row["level"],
                "r": row["reports"],
                "a": aircraft.get((row["cell"], start), []),
            }
        )
        if row.get("count_good_vessels") is not None:
            records[-1]["vg"] = row["count_good_vessels"]
            records[-1]["vb"] = row["count_bad_vessels"]
    labels = []
    for start, length in windows:
        text = np.datetime64(start, "ns").astype("datetime64[s]").item().isoformat()
        labels.append({"start": text + "Z", "seconds": length})
    return {"windows": labels, "cells": records, "attribution": ATTRIBUTION}


def _boundary(hexid: str) -> list[tuple[float, float]] | None:
    """Cell outline as (lon, lat), or None where it crosses the antimeridian."""
    ring = [(lon, lat) for lat, lon in h3.cell_to_boundary(hexid)]
    lons = [pt_lon for pt_lon, _ in ring]
    return None if max(lons) - min(lons) > 180 else ring


def write_geojson(cells: pa.Table, path: Path) -> None:
    """One polygon feature per cell and window, with the counts as properties."""
    features = []
    for row in cells.to_pylist():
        ring = _boundary(row["hex"])
        if ring is None:
            ring = [(lon % 360, lat) for lon, lat in _boundary_raw(row["hex"])]
        props = {k: v for k, v in row.items() if k not in ("cell",)}
        props["window_start"] = row["window_start"].isoformat()
        geometry = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))


def _boundary_raw(hexid: str) -> list[tuple[float, float]]:
    return [(lon, lat) for lat, lon in h3.cell_to_boundary(hexid)]


def _draw_events(ax: Any, events: list[dict[str, Any]]) -> tuple[list[Any], list[float]]:
    """Areas, 95 % circles, sources and false positions; legend handles and the lon/lat drawn."""
    from matplotlib.collections import PolyCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    areas, circles, sources, fakes = [], [], [], []
    for e in events:
        if e["kind"] == "jamming":
            areas += [poly[0] for poly in e["area"] or []]
            for s in e["sources"]:
                circles.append(circle(s["latitude"], s["longitude"], s["radius_95_km"]))
                sources.append((s["longitude"], s["latitude"]))
        elif e["false_position"] is not None:
            fakes.append((e["false_position"]["longitude"], e["false_position"]["latitude"]))
    handles: list[Any] = []
    if areas:
        ax.add_collection(
            PolyCollection(areas, facecolors="#7b3294", alpha=0.12, edgecolors="#7b3294")
        )
        handles.append(Patch(facecolor="#7b329420", edgecolor="#7b3294", label="jamming area"))
    if circles:
        ax.add_collection(PolyCollection(circles, facecolors="none", edgecolors="#111111"))
        handles.append(Patch(facecolor="none", edgecolor="#111111", label="source, 95 % circle"))
        ax.plot(*zip(*sources, strict=True), "k*", markersize=11, markeredgecolor="w", zorder=5)
    if fakes:
        ax.plot(*zip(*fakes, strict=True), "^", color="#e7298a", markersize=9, zorder=5)
        handles.append(Line2D([], [], marker="^", color="#e7298a", ls="", label="spoofed position"))
    drawn = [c for ring in areas + circles for c in ring] + sources + fakes
    return handles, [float(c) for pt in drawn for c in pt]


def write_png(
    cells: pa.Table, path: Path, title: str, events: list[dict[str, Any]] | None = None
) -> None:
    """A static map of the busiest window: basemap, cells coloured by class, events, legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    fig, ax = plt.subplots(figsize=(12, 6.5), dpi=100)
    ax.set_facecolor("#dfe9f3")
    land = PolyCollection(country_rings(), facecolors="#f4f2ec", edgecolors="#888888")
    land.set_linewidth(0.4)
    ax.add_collection(land)
    if cells.num_rows:
        counts = pc.value_counts(cells["window_start"])
        busiest = counts.field("values")[int(np.argmax(counts.field("counts")))]
        sel = cells.filter(pc.equal(cells["window_start"], busiest))
        polys, colors = [], []
        for hexid, lv in zip(sel["hex"].to_pylist(), sel["level"].to_pylist(), strict=True):
            ring = _boundary(hexid)
            if ring is not None and lv is not None:
                polys.append(ring)
                colors.append(COLORS[lv])
        ax.add_collection(PolyCollection(polys, facecolors=colors, edgecolors="none", alpha=0.8))
        title = f"{title} - {busiest.as_py():%Y-%m-%d %H:%M} UTC"
    else:
        polys = []
    extra, coords = _draw_events(ax, events or [])
    # coords: the lon/lat pairs drawn for the events, flattened
    lon = np.array([pt_lon for ring in polys for pt_lon, _ in ring] + coords[0::2] or [-180, 180])
    lat = np.array([pt_lat for ring in polys for _, pt_lat in ring] + coords[1::2] or [-80, 80])
    pad = max(2.0, 0.1 * (lon.max() - lon.min())) if polys or coords else 0.0
    ax.set_xlim(max(-180, lon.min() - pad), min(180, lon.max() + pad))
    ax.set_ylim(max(-90, lat.min() - pad), min(90, lat.max() + pad))
    ax.set_aspect("equal")
    ax.set_title(title)
    handles = [
        Patch(color=COLORS["green"], label="< 2 % aircraft with degraded GNSS"),
        Patch(color=COLORS["yellow"], label="2-10 %"),
        Patch(color=COLORS["red"], label=">= 10 %"),
        *extra,
    ]
    ax.legend(handles=handles, loc="lower left", fontsize=8)
    fig.text(0.01, 0.01, ATTRIBUTION, fontsize=7, color="#555555")
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)


def cells_js(cells: pa.Table, partials: pa.Table, live_s: float | None = None) -> str:
    """The page's ``cells.js`` (:func:`page_data`); ``live_s``: the live page, which shows
    the latest window and reloads itself every ``live_s`` seconds."""
    data = page_data(cells, partials)
    if live_s is not None:
        data["live_s"] = live_s
    return "window.JAMWATCH_DATA = " + json.dumps(data) + ";\n"


def events_js(events: list[dict[str, Any]], cells: pa.Table) -> str:
    """The page's ``events.js``: checked events (:func:`jamwatch.serve.events.check_events`)
    with the windows of ``cells`` each overlaps."""
    records = page_events(events, _windows(cells))
    return "window.JAMWATCH_EVENTS = " + json.dumps(records) + ";\n"


def ships_js(tracks: list[dict[str, Any]], cells: pa.Table) -> str:
    """The page's ``ships.js``: the ships' tracks (:func:`jamwatch.aggregate.vessels.
    vessel_tracks`), each with the index of its window among the page's (those of no
    window of the page left out)."""
    index = {start: k for k, (start, _) in enumerate(_windows(cells))}
    records = [{**t, "w": index[t["w"]]} for t in tracks if t["w"] in index]
    return "window.JAMWATCH_SHIPS = " + json.dumps(records) + ";\n"


def basemap_js() -> str:
    """The page's ``basemap.js``: the bundled country outlines."""
    return "window.JAMWATCH_BASEMAP = " + json.dumps(basemap_geojson()) + ";\n"


def write_map(
    cells: pa.Table,
    partials: pa.Table,
    out_dir: str | os.PathLike[str],
    resolution: int,
    events: list[dict[str, Any]] | None = None,
    ships: list[dict[str, Any]] | None = None,
) -> list[Path]:
    """Write every output file into ``out_dir``; returns their paths.

    ``events`` are checked events (:func:`jamwatch.serve.events.read_events`); without them the
    page's event panel is empty and ``events.geojson`` has no features. ``ships``: the ships'
    tracks (:func:`jamwatch.aggregate.vessels.vessel_tracks`), drawn on the page.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in ASSETS:
        (out / name).write_text((STATIC / name).read_text())
    shutil.copyfile(deck_bundle(), out / DECK_BUNDLE)
    written.append(out / DECK_BUNDLE)
    licence = _pydeck_licence()
    if licence is not None:
        (out / "LICENSE.pydeck.txt").write_text(licence)
    for name in ("index.html", "app.js", "style.css"):
        (out / name).write_text((PAGE / name).read_text())
        written.append(out / name)
    (out / "cells.js").write_text(cells_js(cells, partials))
    (out / "basemap.js").write_text(basemap_js())
    (out / "events.js").write_text(events_js(events or [], cells))
    (out / "ships.js").write_text(ships_js(ships or [], cells))
    (out / "events.geojson").write_text(json.dumps(events_geojson(events or [])))
    pq.write_table(cells, out / "cells.parquet")
    write_geojson(cells, out / "cells.geojson")
    aircraft = cells.filter(pa.array(~ships_only(cells)))  # (gpsjam's files count aircraft)
    daily = aircraft.filter(pc.equal(aircraft["window_s"], 86_400))
    written += write_gpsjam_days(daily, out, resolution)
    write_png(cells, out / "map.png", "jamwatch: GNSS interference", events)
    pages = ("cells.js", "basemap.js", "events.js", "ships.js", "events.geojson", "cells.parquet")
    written += [out / n for n in pages]
    written.append(out / "cells.geojson")
    return [*written, out / "map.png"]
