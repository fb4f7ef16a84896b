"""ReportBatch: one conversion of a decoded table to NumPy, equal to Arrow's own conversion."""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pytest

from jamwatch.reports import ReportBatch, column, valid
from jamwatch.schema import TIME_TYPE


def _table(rng: np.random.Generator, n: int) -> pa.Table:
    """Decoded columns with nulls at random, cut into chunks of uneven size, some sliced."""

    def nulls(values: np.ndarray, share: float) -> pa.Array:
        return pa.array(values, mask=rng.random(n) < share)

    full = pa.table(
        {
            "time": nulls(1_700_000_000_000_000_000 + np.arange(n) * 10**8, 0.02).cast(TIME_TYPE),
            "icao": nulls(np.array([f"{k:06x}" for k in rng.integers(0, 50, n)]), 0.01),
            "df": nulls(rng.choice([17, 18, 11], n).astype(np.uint8), 0.1),
            "tc": nulls(rng.integers(0, 23, n).astype(np.uint8), 0.5),
            "latitude": nulls(rng.uniform(-90, 90, n), 0.55),
            "longitude": nulls(rng.uniform(-180, 180, n), 0.55),
            "altitude_baro_ft": nulls(rng.uniform(0, 40_000, n), 0.3),
            "nic": nulls(rng.integers(0, 12, n).astype(np.uint8), 0.6),
            "nacp": nulls(rng.integers(0, 12, n).astype(np.uint8), 0.6),
            "groundspeed_kt": nulls(rng.uniform(0, 500, n), 0.5),
            "on_ground": nulls(rng.random(n) < 0.1, 0.7),
        }
    )
    cuts = np.sort(rng.choice(np.arange(1, n), 6, replace=False))
    pieces = [full.slice(a, b - a) for a, b in zip([0, *cuts], [*cuts, n], strict=True)]
    return pa.concat_tables(pieces)  # chunks that are slices of one buffer: offsets


def _expected(table: pa.Table, name: str, fill: float) -> np.ndarray:
    col = table.column(name)
    if pa.types.is_timestamp(col.type):
        col = col.cast(pa.int64())
    if pa.types.is_boolean(col.type):
        col = col.cast(pa.int8())
    values = np.array([fill if v is None else v for v in col.to_pylist()], np.float64)
    return values


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_columns_equal_arrow_with_nulls_filled(seed: int) -> None:
    rng = np.random.default_rng(seed)
    table = _table(rng, 5_000)
    assert table.column("nic").num_chunks == 7
    for name, dtype, fill in [
        ("time", np.int64, 0),
        ("df", np.int16, 17),
        ("tc", np.int16, -1),
        ("nic", np.int16, -1),
        ("latitude", np.float64, np.nan),
        ("groundspeed_kt", np.float64, np.nan),
        ("on_ground", np.int8, -1),
        ("missing", np.int16, -1),
    ]:
        got = column(table, name, dtype, fill)
        assert got.dtype == dtype
        want = np.full(table.num_rows, fill) if name == "missing" else _expected(table, name, fill)
        if name == "time":  # beyond float64's integers: compare as integers
            col = table.column("time").cast(pa.int64()).to_pylist()
            assert got.tolist() == [0 if v is None else v for v in col]
        else:
            assert np.array_equal(got.astype(np.float64), want, equal_nan=True), name
    for name in ("time", "latitude", "on_ground"):
        assert valid(table, name).tolist() == table.column(name).is_valid().to_pylist()
    assert not valid(table, "missing").any()


def test_selected_rows_equal_a_take_of_all_rows() -> None:
    rng = np.random.default_rng(7)
    table = _table(rng, 4_000)
    whole = ReportBatch.from_table(table)
    keep = np.array([int(name[-1], 16) % 2 == 0 for name in whole.names.to_pylist()] + [True])
    part = ReportBatch.from_table(table, lambda names: keep)
    rows = np.flatnonzero(keep[whole.code])
    assert 1_000 < len(rows) < 3_000 and len(part) == len(rows)
    taken = whole.take(rows)
    for name in ReportBatch.__slots__:
        if name in ("names", "motion"):
            continue
        assert np.array_equal(getattr(part, name), getattr(taken, name), equal_nan=True), name
    assert np.array_equal(whole.take(keep[whole.code]).lat, taken.lat, equal_nan=True)
    # the detectors' columns likewise (the Motion of the selected rows)
    with_motion = ReportBatch.from_table(table, lambda names: keep, motion=True)
    assert with_motion.motion is not None and part.motion is None
    full = ReportBatch.from_table(table, motion=True).take(rows).motion
    assert full is not None and not np.isnan(full.alt_baro).all()
    for name in ("alt_baro", "alt_gnss", "gnss_baro_diff", "track", "ca"):
        got, want = getattr(with_motion.motion, name), getattr(full, name)
        assert np.array_equal(got, want, equal_nan=True), name


def test_airborne_and_null_codes() -> None:
    table = pa.table(
        {
            "time": pa.array([1, None, 3], pa.int64()).cast(TIME_TYPE),
            "icao": pa.array(["abc123", None, "ABC123"]),
            "altitude_gnss_ft": pa.array([None, 100.0, None]),
        }
    )
    rows = ReportBatch.from_table(table)
    assert rows.code.tolist()[1] == -1 and rows.code[0] != rows.code[2]  # as written
    assert rows.t_ok.tolist() == [True, False, True]
    assert rows.alt_known.tolist() == [False, True, False]
    assert rows.ground.tolist() == [-1, -1, -1] and rows.df.tolist() == [17, 17, 17]


def test_other_column_types_are_converted_not_misread() -> None:
    """Times in s/ms/us are nanoseconds after conversion; a column of nulls with no type of its
    own, float16 and numbers written as text are converted, not read as raw buffers."""
    seconds = [1_700_000_000, None, 1_700_000_060]
    for unit, scale in (("s", 1), ("ms", 10**3), ("us", 10**6)):
        raw = [None if v is None else v * scale for v in seconds]
        table = pa.table({"time": pa.array(raw, pa.timestamp(unit, tz="UTC"))})
        got = column(table, "time", np.int64, 0).tolist()
        assert got == [1_700_000_000 * 10**9, 0, 1_700_000_060 * 10**9], unit
    table = pa.table(
        {
            "groundspeed_kt": pa.array([None, None], pa.null()),
            "nic": pa.array(["7", None]),
            "latitude": pa.array([1.5, None], pa.float16()),
        }
    )
    assert np.isnan(column(table, "groundspeed_kt", np.float64, np.nan)).all()
    assert column(table, "nic", np.int16, -1).tolist() == [7, -1]
    lat = column(table, "latitude", np.float64, np.nan)
    assert lat[0] == 1.5 and np.isnan(lat[1])


def test_compact_parts_concatenate_to_the_batch_of_the_whole_table() -> None:
    """Parts kept narrow (as the stream keeps them) and put together again give the values,
    dtypes and aircraft of the whole table converted at once, bit for bit."""
    rng = np.random.default_rng(11)
    table = _table(rng, 6_000)
    # altitudes in whole feet (float32 holds them exactly) and one part with a fraction
    alt = np.round(rng.uniform(0, 40_000, table.num_rows))
    alt[4_500] += 0.1
    at = table.schema.get_field_index("altitude_baro_ft")
    table = table.set_column(at, "altitude_baro_ft", pa.array(alt))
    whole = ReportBatch.from_table(table, motion=True)
    cuts = [0, 1_000, 1_001, 4_000, 6_000]
    parts = [
        ReportBatch.from_table(table.slice(a, b - a), motion=True).compact()
        for a, b in itertools.pairwise(cuts)
    ]
    assert parts[0].nic.dtype == np.int8 and parts[0].code.dtype == np.int8
    assert parts[0].motion is not None and parts[0].motion.alt_baro.dtype == np.float32
    assert parts[3].motion is not None and parts[3].motion.alt_baro.dtype == np.float64
    assert parts[0].lat.dtype == np.float64  # (random degrees: not exact in float32)
    assert parts[0].motion.ca.strides == (0,)  # (no column: one value for every row)
    assert not parts[0].lat.flags.writeable and not parts[0].motion.ca.flags.writeable
    joined = ReportBatch.concat(parts)
    assert joined.motion is not None and whole.motion is not None
    for name in ReportBatch.__slots__[2:-1]:
        got, want = getattr(joined, name), getattr(whole, name)
        assert got.dtype == want.dtype and np.array_equal(got, want, equal_nan=True), name
    for name in ("alt_baro", "alt_gnss", "gnss_baro_diff", "track", "ca"):
        got, want = getattr(joined.motion, name), getattr(whole.motion, name)
        assert got.dtype == want.dtype and np.array_equal(got, want, equal_nan=True), name
    # the same aircraft: one address per code, as in the whole table (null stays -1)
    names = np.array([*joined.names.to_pylist(), None], dtype=object)
    wnames = np.array([*whole.names.to_pylist(), None], dtype=object)
    assert (names[joined.code] == wnames[whole.code]).all()
    assert ((joined.code == -1) == (whole.code == -1)).all()
