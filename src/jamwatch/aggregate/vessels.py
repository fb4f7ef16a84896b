"""Ships on the map: good and bad ships per H3 cell and window, beside the aircraft.

:func:`vessel_cells` places every AIS message with a time (the ship signals of
:mod:`jamwatch.signals.ships`) at the ship's own position, or, where the message has none
or a spoofed one, at the ship's last true position of at most ``PLACE_S`` before (as an
aircraft's message without a position counts where the aircraft was); a ship is *bad* in a
cell and window where one of its messages there lost its position (not available, frozen,
silent) or was spoofed, and *good* otherwise. The counts are distinct ships, as gpsjam
counts aircraft. :func:`with_vessels` adds them to the map's cells as
``count_good_vessels`` and ``count_bad_vessels``; a cell that only ships crossed gets no
aircraft counts and takes its class from its ships, by gpsjam's rule
(``100 (bad - 1) / (good + bad)``: below 2 % green, 10 % and above red).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from h3ronpy import cells_to_string  # type: ignore[import-untyped]

from jamwatch.aggregate.cells import latlng_to_cells
from jamwatch.aggregate.grid import level
from jamwatch.schema import TIME_TYPE
from jamwatch.signals.ships import LOST_SIGNALS, by_ship, flags, last_fix

NS = 1_000_000_000
#: a message without a true position of its own counts where the ship was at most this
#: long before (s), as for aircraft
PLACE_S = 900.0

VESSEL_CELLS = pa.schema(
    [
        pa.field("cell", pa.uint64()),
        pa.field("window_start", TIME_TYPE),
        pa.field("count_good_vessels", pa.int64()),
        pa.field("count_bad_vessels", pa.int64()),
    ]
)


def vessel_cells(signals: pa.Table, resolution: int, window_s: int) -> tuple[pa.Table, int]:
    """Good and bad ships per cell and window (:data:`VESSEL_CELLS`), and how many messages
    could not be placed."""
    table = by_ship(signals)
    mmsi = np.asarray(table.column("mmsi").to_numpy(zero_copy_only=False), np.int64)
    t = np.asarray(table.column("time").cast(pa.int64()).to_numpy(), np.int64)
    lat = np.asarray(table.column("latitude").cast(pa.float64()).to_numpy(zero_copy_only=False))
    lon = np.asarray(table.column("longitude").cast(pa.float64()).to_numpy(zero_copy_only=False))
    spoofed = flags(table, ("spoofed",))
    bad = spoofed | flags(table, LOST_SIGNALS)
    true = np.isfinite(lat) & np.isfinite(lon) & ~spoofed
    at, placed = last_fix(mmsi, t, true, PLACE_S)
    rows = np.flatnonzero(placed)
    cell = latlng_to_cells(lat[at[rows]], lon[at[rows]], resolution)
    w = t[rows] // (window_s * NS) * (window_s * NS)
    per = pa.table({"cell": cell, "w": w, "mmsi": mmsi[rows], "bad": bad[rows]})
    per = per.group_by(["cell", "w", "mmsi"], use_threads=False).aggregate([("bad", "any")])
    per = per.group_by(["cell", "w"], use_threads=False).aggregate(
        [("bad_any", "sum"), ("mmsi", "count")]
    )  # fmt: skip
    n_bad = np.asarray(per.column("bad_any_sum").to_numpy(), np.int64)
    total = np.asarray(per.column("mmsi_count").to_numpy(), np.int64)
    out = pa.table(
        [
            per.column("cell").cast(pa.uint64()),
            per.column("w").cast(pa.int64()).cast(TIME_TYPE),
            pa.array(total - n_bad),
            pa.array(n_bad),
        ],
        schema=VESSEL_CELLS,
    )
    out = out.sort_by([("window_start", "ascending"), ("cell", "ascending")])
    return out, int(t.shape[0] - rows.shape[0])


def ships_only(cells: pa.Table) -> np.ndarray:
    """The rows of :func:`with_vessels` that only ships crossed (no aircraft counted)."""
    if "count_good_vessels" not in cells.column_names:
        return np.zeros(cells.num_rows, np.bool_)
    none = pc.and_(
        pc.equal(pc.add(cells["count_good_aircraft"], cells["count_bad_aircraft"]), 0),
        pc.is_null(cells["count_faulty_aircraft"]),
    )
    return np.asarray(none.to_numpy(zero_copy_only=False), np.bool_)


def with_vessels(cells: pa.Table, vessels: pa.Table, window_s: int) -> pa.Table:
    """The map's cells with ``count_good_vessels`` and ``count_bad_vessels`` (0 where no ship
    was), and a row for every cell and window that only ships crossed."""
    joined = cells.join(vessels, ["cell", "window_start"], join_type="full outer")
    only = pc.is_null(joined.column("hex")).to_numpy(zero_copy_only=False)
    n = joined.num_rows
    good = np.asarray(joined.column("count_good_vessels").fill_null(0).to_numpy(), np.int64)
    bad = np.asarray(joined.column("count_bad_vessels").fill_null(0).to_numpy(), np.int64)
    columns: dict[str, pa.Array] = {}
    for field in cells.schema:
        columns[field.name] = joined.column(field.name).combine_chunks()
    if only.any():
        cell = np.asarray(joined.column("cell").to_numpy(), np.uint64)
        names = np.asarray(cells_to_string(pa.array(cell[only], pa.uint64())).to_pylist(), object)
        hexes = np.asarray(columns["hex"].to_pylist(), object)
        hexes[only] = names
        columns["hex"] = pa.array(hexes.tolist(), pa.string())
        columns["window_s"] = pa.array(np.full(n, window_s, np.int64))
        for name in ("count_good_aircraft", "count_bad_aircraft"):  # (the rest stays null)
            columns[name] = columns[name].fill_null(0)
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(good + bad > 0, 100.0 * (bad - 1) / (good + bad), np.nan)
        levels = np.asarray(columns["level"].to_pylist(), object)
        levels[only] = np.asarray(level(score[only]), object)
        columns["level"] = pa.array(levels.tolist(), pa.string())
    columns["count_good_vessels"] = pa.array(good)
    columns["count_bad_vessels"] = pa.array(bad)
    out = pa.table(columns)
    return out.sort_by([("window_start", "ascending"), ("cell", "ascending")])


def vessel_tracks(
    signals: pa.Table, window_s: int, step_s: float = 60.0, max_points: int = 200_000
) -> list[dict[str, Any]]:  # fmt: skip
    """The ships' reported tracks for the page: per ship and window, runs of positions in
    one state (``s``: 0 as reported, 1 spoofed), at most one position per ``step_s`` (and
    the step grown until at most ``max_points`` are kept); ``m`` the MMSI, ``w`` the
    window's start (ns), ``p`` the positions as [longitude, latitude] (5 decimals)."""
    table = by_ship(signals)
    table = table.filter(
        pc.and_(table.column("latitude").is_valid(), table.column("longitude").is_valid())
    )  # fmt: skip
    if not table.num_rows:
        return []
    mmsi = np.asarray(table.column("mmsi").to_numpy(zero_copy_only=False), np.int64)
    t = np.asarray(table.column("time").cast(pa.int64()).to_numpy(), np.int64)
    lat = np.asarray(table.column("latitude").to_numpy(zero_copy_only=False))
    lon = np.asarray(table.column("longitude").to_numpy(zero_copy_only=False))
    state = flags(table, ("spoofed",)).astype(np.int64)
    w = t // (window_s * NS) * (window_s * NS)
    step = step_s
    while True:  # one position per ship and step (the first), fewer when too many
        slot = t // int(step * NS)
        keep = np.ones(t.shape[0], np.bool_)
        keep[1:] = (slot[1:] != slot[:-1]) | (mmsi[1:] != mmsi[:-1]) | (state[1:] != state[:-1])
        if keep.sum() <= max_points:
            break
        step *= 2.0
    idx = np.flatnonzero(keep)
    run = np.ones(idx.shape[0], np.bool_)
    run[1:] = (mmsi[idx[1:]] != mmsi[idx[:-1]]) | (w[idx[1:]] != w[idx[:-1]])
    run[1:] |= state[idx[1:]] != state[idx[:-1]]
    starts = np.flatnonzero(run)
    ends = np.append(starts[1:], idx.shape[0])
    out = []
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        rows = idx[a:b]
        out.append(
            {
                "m": int(mmsi[rows[0]]), "w": int(w[rows[0]]), "s": int(state[rows[0]]),
                "p": np.round(np.column_stack([lon[rows], lat[rows]]), 5).tolist(),
            }
        )  # fmt: skip
    return out


__all__ = [
    "PLACE_S",
    "VESSEL_CELLS",
    "ships_only",
    "vessel_cells",
    "vessel_tracks",
    "with_vessels",
]
