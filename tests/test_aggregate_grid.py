"""H3 x window aggregation: hours add up exactly to the day; counts checked point by point.

Real traffic: xoolive/traffic switzerland.json.gz (MIT), 842 aircraft over Switzerland on
2018-08-01, read from ../shared/data/trajectories.
"""

from __future__ import annotations

from collections import defaultdict

import h3
import pyarrow as pa
import pytest

from conftest import shared_path
from jamwatch.aggregate import (
    GridConfig,
    cell_partials,
    cell_stats,
    merge_partials,
    parse_window,
    stats_table,
)
from jamwatch.io.positions import read_positions
from jamwatch.signals import integrity_signals


@pytest.fixture(scope="module")
def swiss() -> pa.Table:
    table = read_positions(shared_path("trajectories", "switzerland_2018-08-01.json.gz"))
    return integrity_signals(table)


def test_hours_merge_exactly_into_the_day(swiss: pa.Table) -> None:
    day, _ = cell_partials(swiss, GridConfig(window_s=parse_window("day")))
    hours, _ = cell_partials(swiss, GridConfig(window_s=parse_window("hour")))
    # split the hourly partials in two arbitrary halves too, as two receivers would
    half = hours.num_rows // 2
    merged = merge_partials([hours.slice(0, half), hours.slice(half)], window_s=86_400)
    key = ["cell", "window_start", "icao"]
    assert merged.sort_by([(k, "ascending") for k in key]).equals(
        day.sort_by([(k, "ascending") for k in key])
    )
    assert cell_stats(merged).equals(cell_stats(day))


def test_distinct_aircraft_per_cell_equal_a_point_by_point_count(swiss: pa.Table) -> None:
    partials, unlocated = cell_partials(swiss, GridConfig(resolution=4))
    stats = cell_stats(partials)
    assert unlocated == 0
    expected: dict[str, set[str]] = defaultdict(set)
    for lat, lon, icao in zip(
        swiss["latitude"].to_pylist(),
        swiss["longitude"].to_pylist(),
        swiss["icao"].to_pylist(),
        strict=True,
    ):
        expected[h3.latlng_to_cell(lat, lon, 4)].add(icao)
    got = dict(zip(stats["hex"].to_pylist(), stats["count_good_aircraft"].to_pylist(), strict=True))
    assert got == {k: len(v) for k, v in expected.items()}
    assert set(stats["count_bad_aircraft"].to_pylist()) == {0}  # no integrity fields: none bad
    assert sum(stats["reports"].to_pylist()) == swiss.num_rows


def test_score_classes_and_faulty_aircraft_left_out() -> None:
    cell = h3.str_to_int(h3.latlng_to_cell(46.0, 7.0, 4))
    icao = [f"{i:06x}" for i in range(12)]
    # 10 aircraft: 3 bad (one of them also bad elsewhere), 1 faulty and bad, 6 good
    partial = pa.table(
        {
            "cell": pa.array([cell] * 10, pa.uint64()),
            "window_start": pa.array([0] * 10, pa.timestamp("ns", tz="UTC")),
            "icao": icao[:10],
            "bad": [True, True, True, True] + [False] * 6,
            "nic_degraded": [True] * 5 + [False] * 5,
            "nic_known": [True] * 10,
            "avionics_fault": [False, False, False, True] + [False] * 6,
            "reports": [5] * 10,
        }
    )
    stats = cell_stats(partial, faulty={icao[4]})
    row = stats.to_pylist()[0]
    assert (row["count_good_aircraft"], row["count_bad_aircraft"]) == (5, 3)
    assert row["count_faulty_aircraft"] == 2
    assert row["score_pct"] == pytest.approx(100 * (3 - 1) / 8)
    assert row["level"] == "red"
    assert row["nic_share_pct"] == pytest.approx(100 * 3 / 8)
    import numpy as np

    counts = stats_table(
        np.full(4, cell, np.uint64),
        np.zeros(4, np.int64),
        86_400,
        np.array([100, 49, 10, 0]),
        np.array([1, 2, 1, 0]),
    )
    # (1-1)/101 = 0 % green; (2-1)/51 = 1.96 % green; (1-1)/11 = 0 %; no aircraft: no class
    assert counts["level"].to_pylist() == ["green", "green", "green", None]
    yellow = stats_table(
        np.full(1, cell, np.uint64), np.zeros(1, np.int64), 86_400, np.array([48]), np.array([2])
    )
    assert yellow["level"].to_pylist() == ["yellow"]  # (2-1)/50 = 2 %


def test_parse_window() -> None:
    assert [parse_window(w) for w in ("day", "hour", "6h", "30m", "2d")] == [
        86_400,
        3600,
        21_600,
        1800,
        172_800,
    ]
    with pytest.raises(ValueError, match="duration"):
        parse_window("fortnight")


def test_partials_do_not_depend_on_row_order_or_batches(swiss: pa.Table) -> None:
    import numpy as np

    key = [("cell", "ascending"), ("window_start", "ascending"), ("icao", "ascending")]
    whole, _ = cell_partials(swiss)
    # shuffled rows: runs break up and the H3 shortcut (cells only where an aircraft moved)
    # sees other neighbours, but the partials are the same
    perm = np.random.default_rng(1).permutation(swiss.num_rows)
    shuffled, _ = cell_partials(swiss.take(pa.array(perm)))
    assert shuffled.sort_by(key).equals(whole.sort_by(key))
    parts = [cell_partials(swiss.slice(i, 30_000))[0] for i in range(0, swiss.num_rows, 30_000)]
    assert merge_partials(parts).sort_by(key).equals(whole.sort_by(key))
    assert sum(whole["reports"].to_pylist()) == swiss.num_rows


@pytest.mark.parametrize("resolution", [0, 2, 3, 4, 6, 7, 8])
def test_cells_decided_without_h3_equal_h3(resolution: int) -> None:
    """moved_cells skips H3 for points well inside a sampled cell: the cells are still H3's.

    Random walks of 300 aircraft, from anywhere on the sphere and from the 12 pentagons (where
    cells are most distorted), with steps of about a tenth of a cell.
    """
    import numpy as np

    from jamwatch.aggregate.cells import latlng_to_cells, moved_cells, moved_rows

    rng = np.random.default_rng(resolution)
    pentagons = np.array([h3.cell_to_latlng(p) for p in h3.get_pentagons(0)])
    step = 0.3 * 2.65 ** (4 - resolution) / 4
    for start in ("sphere", "pentagons"):
        n_air, steps = 300, 200
        if start == "sphere":
            lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n_air)))
            lon = rng.uniform(-180, 180, n_air)
        else:
            at = pentagons[rng.integers(0, 12, n_air)]
            lat, lon = at[:, 0] + rng.normal(0, step, n_air), at[:, 1] + rng.normal(0, step, n_air)
        heading = rng.uniform(0, 2 * np.pi, n_air)
        lats, lons = [], []
        for _ in range(steps):
            heading += rng.normal(0, 0.3, n_air)
            lat = np.clip(lat + step * np.cos(heading), -89.9, 89.9)
            stretch = np.maximum(np.cos(np.radians(lat)), 0.05)
            lon = (lon + step * np.sin(heading) / stretch + 180) % 360 - 180
            lats.append(lat)
            lons.append(lon)
        code = np.tile(np.arange(n_air, dtype=np.int64), steps)
        la, lo = np.concatenate(lats), np.concatenate(lons)
        moved = moved_rows(code, la, lo, n_air)
        got = moved_cells(code, moved, la, lo, n_air, resolution)
        assert np.array_equal(got, latlng_to_cells(la[moved], lo[moved], resolution))


@pytest.mark.parametrize("resolution", [2, 4, 7])
def test_inner_disc_lies_inside_the_cell_edges(resolution: int) -> None:
    """The trigonometry-free disc test never accepts a point the edge test would reject.

    Cells from the equator to 70 degrees (where the disc is used) and near it; points spread
    over each disc and just inside its rim.
    """
    import numpy as np

    from jamwatch.aggregate.cells import EDGE_MARGIN_RAD, _CellShapes, _inside

    rng = np.random.default_rng(resolution)
    lat = rng.uniform(-72, 72, 400)
    lon = rng.uniform(-180, 180, 400)
    cells = np.array(
        [h3.str_to_int(h3.latlng_to_cell(a, o, resolution)) for a, o in zip(lat, lon, strict=True)]
    )
    shapes, normals, edges, discs = _CellShapes().lookup(cells.astype(np.uint64))
    no_discs = np.zeros_like(discs)
    used = discs[:, 3] > 0
    assert used.mean() > 0.9  # the disc is what decides within 70 degrees
    tested = 0
    for k in np.flatnonzero(used[shapes]):
        s = shapes[k]
        c_lat, c_lon, cos_lat, r2 = discs[s]
        angle = rng.uniform(0, 2 * np.pi, 50)
        reach = np.sqrt(r2) * np.concatenate([np.sqrt(rng.uniform(0, 1, 40)), np.full(10, 0.999)])
        p_lat = c_lat + reach * np.sin(angle)
        p_lon = c_lon + reach * np.cos(angle) / cos_lat
        for a, o in zip(p_lat, p_lon, strict=True):
            assert _inside(a, o, s, normals, edges, discs, EDGE_MARGIN_RAD)
            assert _inside(a, o, s, normals, edges, no_discs, EDGE_MARGIN_RAD)
            tested += 1
    assert tested > 15_000


def test_runs_reduce_like_a_dictionary_of_cell_window_aircraft() -> None:
    """_runs + _reduce against a plain dictionary, with real 64-bit H3 indices (they must stay
    exact integers: two res-4 cells can differ only in bits a float64 does not hold)."""
    import numpy as np

    from jamwatch.aggregate.grid import _reduce, _runs

    rng = np.random.default_rng(11)
    base = h3.str_to_int(h3.latlng_to_cell(46.9, 7.4, 4))
    pool = np.array([base, *[h3.str_to_int(c) for c in h3.grid_disk(h3.int_to_str(base), 1)]])
    pool = pool.astype(np.uint64)
    assert len({float(c) for c in pool}) < len(pool)  # neighbours collide as floats
    n, n_codes = 20_000, 300
    code = rng.integers(-1, n_codes, n)
    moved = (rng.random(n) < 0.4) & (code >= 0)
    cells = pool[rng.integers(0, len(pool), int(moved.sum()))]
    w = np.sort(rng.integers(0, 4, n))
    flags = rng.integers(0, 16, n).astype(np.uint8)
    want: dict[tuple[int, int, int], list[int]] = {}
    current: dict[int, int] = {}
    k = 0
    for i in range(n):
        c = int(code[i])
        if c < 0:
            continue
        if moved[i]:
            current[c] = int(cells[k])
            k += 1
        key = (current.get(c, 0), int(w[i]), c)
        f, r = want.get(key, [0, 0])
        want[key] = [f | int(flags[i]), r + 1]
    cell, win, codes, f, reports = _reduce(*_runs(code, moved, cells, w, flags, n_codes))
    got = {
        (int(a), int(b), int(c)): [int(d), int(e)]
        for a, b, c, d, e in zip(cell, win, codes, f, reports, strict=True)
    }
    assert got == want


def test_always_nic0_aircraft_are_faulty_only_beside_nominal_ones() -> None:
    from jamwatch.aggregate.grid import confirm_faulty

    a = h3.str_to_int(h3.latlng_to_cell(46.0, 7.0, 4))
    b = h3.str_to_int(h3.latlng_to_cell(60.0, 25.0, 4))
    # "f1" flies with nominal "n1" in cell a; "f2" only in cell b, where every aircraft is
    # degraded (a jammed region); "f3" half in each
    rows = [
        (a, 0, "f1", True, True), (a, 0, "n1", False, False),
        (b, 0, "f2", True, True), (b, 0, "j1", True, True), (b, 3600, "f2", True, True),
        (a, 3600, "f3", True, True), (a, 3600, "n2", False, False), (b, 3600, "f3", True, True),
    ]  # fmt: skip
    partial = pa.table(
        {
            "cell": pa.array([r[0] for r in rows], pa.uint64()),
            "window_start": pa.array([r[1] * 10**9 for r in rows], pa.timestamp("ns", tz="UTC")),
            "icao": [r[2] for r in rows],
            "bad": [r[3] for r in rows],
            "nic_degraded": [r[4] for r in rows],
            "nic_known": [True] * len(rows),
            "avionics_fault": [False] * len(rows),
            "reports": [5] * len(rows),
        }
    )
    assert confirm_faulty(partial, {"f1", "f2", "f3"}) == {"f1", "f3"}
    assert confirm_faulty(partial, set()) == set()
