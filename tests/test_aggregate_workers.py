"""The map job split by aircraft over workers gives the same cells as one process.

Real traffic: xoolive/traffic switzerland.json.gz (MIT), 842 aircraft over Switzerland on
2018-08-01, read from ../shared/data/trajectories. It carries no integrity fields, so the test
adds them: NACp 9 / NIC 8 everywhere except within 60 km of Bern from 10:00 to 14:00 UTC, where
NACp and NIC are 0 and every other position is replaced by a message without one (TC 0), as
under jamming. Written as decoded Parquet, it goes through the job's Parquet path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from conftest import shared_path
from jamwatch.aggregate import GridConfig
from jamwatch.aggregate.job import Shard, map_cells
from jamwatch.io.positions import read_positions

KEY = [("cell", "ascending"), ("window_start", "ascending"), ("icao", "ascending")]


def test_shards_partition_the_rows_by_aircraft_whatever_the_case() -> None:
    icao = ["abc123", "ABC123", "3c6444", None, "4b1805", "3C6444", "a0b1c2"] * 3
    table = pa.table({"icao": icao, "row": list(range(len(icao)))})
    parts = [Shard(k, 3).select(table) for k in range(3)]
    rows = sorted(r for p in parts for r in p.column("row").to_pylist())
    assert rows == list(range(len(icao)))  # every row in exactly one shard
    for p in parts:  # an aircraft (any spelling) sits in one shard only
        names = {str(x).lower() for x in p.column("icao").to_pylist()}
        others = [q for q in parts if q is not p]
        for q in others:
            assert not names & {str(x).lower() for x in q.column("icao").to_pylist()}
    assert None in parts[0].column("icao").to_pylist()  # nulls go to shard 0
    # dictionary-encoded input (as Parquet is read) is split the same way
    encoded = table.set_column(0, "icao", table.column("icao").dictionary_encode())
    assert Shard(1, 3).select(encoded).column("row").equals(parts[1].column("row"))


@pytest.fixture(scope="module")
def jammed_swiss(tmp_path_factory: pytest.TempPathFactory) -> Path:
    table = read_positions(shared_path("trajectories", "switzerland_2018-08-01.json.gz"))
    lat = np.asarray(pc.fill_null(table.column("latitude"), np.nan))
    lon = np.asarray(pc.fill_null(table.column("longitude"), np.nan))
    hour = np.asarray(table.column("time").cast(pa.int64())) // 3_600_000_000_000 % 24
    km = 111.2 * np.hypot(lat - 46.95, (lon - 7.45) * np.cos(np.radians(46.95)))
    jammed = (km < 60) & (hour >= 10) & (hour < 14)
    no_pos = jammed & (np.arange(len(lat)) % 2 == 0)
    table = table.drop_columns(["nic", "nacp"])
    table = table.append_column("tc", pa.array(np.where(no_pos, 0, 11).astype(np.uint8)))
    table = table.append_column("nacp", pa.array(np.where(jammed, 0, 9).astype(np.uint8)))
    table = table.append_column("nic", pa.array(np.where(jammed, 0, 8).astype(np.uint8)))
    for name in ("latitude", "longitude"):
        table = table.set_column(
            table.schema.get_field_index(name),
            name,
            pa.array(np.where(no_pos, np.nan, table.column(name)), mask=no_pos),
        )
    path = tmp_path_factory.mktemp("swiss") / "jammed.parquet"
    pq.write_table(table, path, row_group_size=20_000)
    return path


@pytest.mark.parametrize("processes", [True, False], ids=["processes", "threads"])
def test_one_and_two_workers_give_identical_cells(jammed_swiss: Path, processes: bool) -> None:
    grid = GridConfig(resolution=5, window_s=3600)
    one = map_cells([jammed_swiss], grid, workers=1)
    two = map_cells([jammed_swiss], grid, workers=2, processes=processes)
    assert one.cells.num_rows > 1000
    assert pc.sum(one.cells.column("count_bad_aircraft")).as_py() > 500
    assert two.cells.equals(one.cells)
    assert two.partials.sort_by(KEY).equals(one.partials.sort_by(KEY))
    s1, s2 = one.summary, two.summary
    assert (s2.inputs, s2.reports, s2.rejects, s2.unlocated, s2.faulty_aircraft) == (
        s1.inputs,
        s1.reports,
        s1.rejects,
        s1.unlocated,
        s1.faulty_aircraft,
    )
    assert len(s2.peak_rss) == (3 if processes else 2) and s2.cpu_s > 0  # + this process


def test_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        map_cells([], workers=0)


def test_an_error_in_a_worker_reaches_the_caller(jammed_swiss: Path) -> None:
    from jamwatch.signals import IntegrityConfig

    broken = IntegrityConfig(fresh_s=float("nan"))  # int(nan) fails inside the signals
    with pytest.raises(ValueError, match="NaN"):
        map_cells([jammed_swiss], integrity=broken, workers=2)


def test_bad_rows_in_parquet_are_counted_and_change_nothing_else(
    jammed_swiss: Path, tmp_path: Path
) -> None:
    """Rows cleaning drops (duplicates, positions out of range, times before 1990) are counted
    by reason and leave the cells, the report count and the unlocated count as without them."""
    clean = pq.read_table(jammed_swiss)
    n = clean.num_rows
    rng = np.random.default_rng(5)
    dup = np.sort(rng.choice(n, 40, replace=False))
    bad_lat = clean.take(pa.array(rng.choice(n, 7)))
    bad_lat = bad_lat.set_column(
        bad_lat.schema.get_field_index("latitude"), "latitude", pa.array([95.0] * 7)
    )
    old = clean.take(pa.array(rng.choice(n, 3)))
    old = old.set_column(0, "time", pa.array([10**15] * 3, pa.int64()).cast(old.schema[0].type))
    dirty = pa.concat_tables([clean, clean.take(pa.array(dup)), bad_lat, old])
    order = np.argsort(np.asarray(dirty.column("time").cast(pa.int64())), kind="stable")
    path = tmp_path / "dirty.parquet"
    pq.write_table(dirty.take(pa.array(order)), path, row_group_size=20_000)
    grid = GridConfig(resolution=5, window_s=3600)
    want = map_cells([jammed_swiss], grid, workers=1)
    for workers in (1, 2):
        got = map_cells([path], grid, workers=workers)
        assert dict(got.summary.rejects) == {
            "latitude out of range": 7,
            "time before 1990": 3,
            "duplicate": 40,
        }
        assert got.summary.reports == want.summary.reports == n
        assert got.summary.unlocated == want.summary.unlocated  # dropped rows are not unlocated
        assert got.cells.equals(want.cells)


def test_damaged_parquet_is_skipped_and_counted_and_the_rest_kept(
    jammed_swiss: Path, tmp_path: Path
) -> None:
    """A row group whose bytes are damaged is skipped (its rows counted), the other row groups
    and the other inputs are mapped; a file that is not Parquet at all is counted too."""
    table = pq.read_table(jammed_swiss)
    whole = tmp_path / "whole.parquet"
    pq.write_table(table, whole, row_group_size=20_000, compression="zstd")
    meta = pq.ParquetFile(whole).metadata
    assert meta.num_row_groups >= 5
    chunk = meta.row_group(2).column(table.schema.get_field_index("latitude"))
    data = bytearray(whole.read_bytes())
    start = chunk.data_page_offset + 20
    data[start : start + chunk.total_compressed_size - 40] = b"\xff" * (
        chunk.total_compressed_size - 40
    )
    damaged = tmp_path / "damaged.parquet"
    damaged.write_bytes(bytes(data))
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"PAR1" + b"\x00" * 500)
    lost = meta.row_group(2).num_rows
    kept = pa.concat_tables(
        [table.slice(0, 40_000), table.slice(40_000 + lost)]
    )  # row groups 0-1 and 3-
    expected = tmp_path / "expected.parquet"
    pq.write_table(kept, expected, row_group_size=20_000)
    grid = GridConfig(resolution=5, window_s=3600)
    want = map_cells([expected], grid, workers=1)
    for workers in (1, 2):
        got = map_cells([garbage, damaged], grid, workers=workers)
        assert dict(got.summary.rejects) == {
            "unreadable Parquet row group": lost,
            "unreadable Parquet file": 1,
        }
        assert got.summary.source_rejects == {
            str(damaged): {"unreadable Parquet row group": lost},
            str(garbage): {"unreadable Parquet file": 1},
        }
        assert got.summary.reports == want.summary.reports == table.num_rows - lost
        assert got.cells.equals(want.cells)
