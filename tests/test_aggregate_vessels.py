"""Ships on the map: good and bad ships per cell and window, beside the aircraft. Tracks
written here with known answers (the ship signals' thresholds are their defaults)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jamwatch.aggregate.grid import cell_stats
from jamwatch.aggregate.vessels import ships_only, vessel_cells, with_vessels
from jamwatch.schema import AIS_DECODED
from jamwatch.signals.ships import ship_signals

T0 = 1_717_000_000 * 10**9 // (3600 * 10**9) * (3600 * 10**9)  # a whole hour
HOUR = 3600


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    names = AIS_DECODED.names
    return pa.table(
        {n: pa.array([r.get(n) for r in rows], AIS_DECODED.field(n).type) for n in names}
    )


def _ship(
    mmsi: int, lat: float, lon: float, lost_from: int | None = None, jump: bool = False
) -> list[dict[str, Any]]:
    """Ten minutes every 10 s, creeping north; "not available" or a false point 60 km off
    from report ``lost_from`` on."""
    rows = []
    for k in range(60):
        la, lo = lat + k * 1e-5, lon
        if lost_from is not None and k >= lost_from:
            la, lo = (la + 0.54, lo) if jump else (None, None)
        rows.append({"time": T0 + k * 10**10, "mmsi": mmsi, "msg_type": 1, "sog_kt": 6.0,
                     "latitude": la, "longitude": lo})  # fmt: skip
    return rows


def test_ships_are_counted_once_per_cell_and_where_they_truly_were() -> None:
    rows = _ship(1, 37.30, 125.00) + _ship(2, 37.31, 125.01) + _ship(3, 37.32, 125.02, 30)
    rows += _ship(4, 37.33, 125.03, 30, jump=True)  # spoofed 60 km north: counted here
    vessels, unplaced = vessel_cells(ship_signals(_table(rows)), 4, HOUR)
    assert unplaced == 0
    (row,) = vessels.to_pylist()
    assert (row["count_good_vessels"], row["count_bad_vessels"]) == (2, 2)
    assert row["window_start"].timestamp() * 1e9 == T0


def test_a_cell_only_ships_crossed_gets_a_row_and_aircraft_cells_stay_as_they_were() -> None:
    from jamwatch.aggregate.grid import PARTIAL_SCHEMA

    partial = pa.table(
        {
            "cell": pa.array([0x8430E45FFFFFFFF], pa.uint64()),
            "window_start": pa.array([T0]).cast(PARTIAL_SCHEMA.field("window_start").type),
            "icao": ["abc123"], "bad": [True], "nic_degraded": [True], "nic_known": [True],
            "avionics_fault": [False], "reports": [12],
        },
        schema=PARTIAL_SCHEMA,
    )  # fmt: skip
    cells = cell_stats(partial, HOUR)
    rows = _ship(1, 37.30, 125.00, 10) + _ship(2, 37.31, 125.01, 20)
    vessels, _ = vessel_cells(ship_signals(_table(rows)), 4, HOUR)
    both = with_vessels(cells, vessels, HOUR)
    assert both.num_rows == 2
    aircraft = both.filter(pa.array(~ships_only(both)))
    assert aircraft.drop_columns(["count_good_vessels", "count_bad_vessels"]).equals(cells)
    assert aircraft["count_good_vessels"].to_pylist() == [0]
    ships = both.filter(pa.array(ships_only(both))).to_pylist()[0]
    assert ships["count_good_aircraft"] == 0 and ships["count_faulty_aircraft"] is None
    assert (ships["count_good_vessels"], ships["count_bad_vessels"]) == (0, 2)
    assert ships["level"] == "red" and ships["window_s"] == HOUR and len(ships["hex"]) == 15
    assert pc.sum(both["count_bad_vessels"]).as_py() == 2
    assert np.array_equal(ships_only(cells), [False])


def test_ship_tracks_for_the_page_keep_the_spoofed_runs_apart() -> None:
    from jamwatch.aggregate.vessels import vessel_tracks
    from jamwatch.serve.site import ships_js

    rows = _ship(1, 37.30, 125.00) + _ship(4, 37.33, 125.03, 30, jump=True)
    signals = ship_signals(_table(rows))
    tracks = vessel_tracks(signals, HOUR)
    # one position a minute: ship 1 in one run of 10; ship 4 five as reported, then five
    # spoofed (60 km north)
    assert [(t["m"], t["s"], len(t["p"])) for t in tracks] == [(1, 0, 10), (4, 0, 5), (4, 1, 5)]
    assert tracks[2]["p"][0] == [125.03, round(37.33 + 30e-5 + 0.54, 5)]
    assert {t["w"] for t in tracks} == {T0}
    # fewer points when asked: the step doubles until they fit
    assert sum(len(t["p"]) for t in vessel_tracks(signals, HOUR, max_points=12)) <= 12
    # the page's file gives each run its window's index; runs of no window are left out
    vessels, _ = vessel_cells(signals, 4, HOUR)
    cells = with_vessels(cell_stats(_no_aircraft(), HOUR), vessels, HOUR)
    text = ships_js(tracks, cells)
    assert text.startswith("window.JAMWATCH_SHIPS = [") and '"w": 0' in text
    assert ships_js([{**tracks[0], "w": T0 + 7 * HOUR * 10**9}], cells).endswith("= [];\n")


def _no_aircraft() -> pa.Table:
    from jamwatch.aggregate.grid import PARTIAL_SCHEMA

    return PARTIAL_SCHEMA.empty_table()
