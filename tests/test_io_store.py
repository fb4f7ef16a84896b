"""The store of decoded reports (:mod:`jamwatch.io.store`): hive folders by day and hour, a
manifest, crash-safe writes, merged hours, one writer at a time. The reports are the
simulator's andoya-2024 (seed 4), decoded."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from jamwatch.api import decode
from jamwatch.io import store as store_module
from jamwatch.io.store import HOUR_NS, MANIFEST, Store, StoreError
from jamwatch.schema import DECODED
from jamwatch.simulate.scenario import load, run_scenario


@pytest.fixture(scope="module")
def reports() -> pa.Table:
    return decode(run_scenario(load("andoya-2024"), 4).frames.sort_by("time"))


def _ns(table: pa.Table) -> list[int]:
    return list(table.column("time").cast(pa.int64()).to_pylist())


def test_reports_written_in_pieces_read_back_whole_by_hour(
    reports: pa.Table, tmp_path: Path
) -> None:
    pieces = 7
    size = -(-reports.num_rows // pieces)
    with Store.open(tmp_path / "s") as store:
        for k in range(pieces):
            store.add(reports.slice(k * size, size))
            if k % 2:
                store.flush()
    again = Store.open(tmp_path / "s", writable=False)
    back = again.read()
    assert back.schema == DECODED
    assert back.num_rows == reports.num_rows == again.rows
    assert _ns(back) == sorted(_ns(reports))
    assert back.equals(reports.sort_by("time"))  # (decoded in time order: the same rows)
    # hive folders: one per hour touched, and any Parquet reader sees day and hour
    hours = {t // HOUR_NS for t in _ns(reports)}
    files = again.root.rglob("*.parquet")
    folders = {p.parent.relative_to(again.root).as_posix() for p in files}
    assert len(folders) == len(hours)
    assert all(f.startswith("day=2024-09-09/hour=") for f in folders)
    dataset = ds.dataset(tmp_path / "s", format="parquet", partitioning="hive")
    assert dataset.count_rows() == reports.num_rows
    assert set(dataset.schema.names) >= {"day", "hour", "time", "icao"}
    # a time range: [from, to)
    t = sorted(_ns(reports))
    lo, hi = t[len(t) // 3], t[2 * len(t) // 3]
    assert _ns(again.read(lo, hi)) == [x for x in t if lo <= x < hi]


def test_a_merge_makes_one_file_per_hour_and_changes_no_row(
    reports: pa.Table, tmp_path: Path
) -> None:
    with Store.open(tmp_path) as store:
        for k in range(0, reports.num_rows, 20_000):
            store.append(reports.slice(k, 20_000))
        files = len(store.parts)
        end = store.span()[1]  # type: ignore[index]
        merged = store.compact(before_ns=end // HOUR_NS * HOUR_NS)  # (the last hour stays)
        assert merged >= 1 and len(store.parts) < files
    again = Store.open(tmp_path, writable=False)
    assert again.read().equals(reports.sort_by("time"))
    assert len(list(tmp_path.rglob("*.parquet"))) == len(again.parts)
    last = max(p.hour_ns for p in again.parts)
    assert sum(p.hour_ns != last for p in again.parts) == len({p.hour_ns for p in again.parts}) - 1


def test_a_merge_of_overlapping_parts_writes_a_file_in_time_order(
    reports: pa.Table, tmp_path: Path
) -> None:
    # live parts overlap when frames come late: here every tenth report of each 20,000
    # comes with the next part, which then starts before the part before it ends. The merge
    # holds about two parts at a time, never the hour, and must still sort the file
    table = reports.sort_by("time")
    late = pa.array(np.arange(table.num_rows) % 10 == 0)
    with Store.open(tmp_path) as store:
        held = table.slice(0, 0)
        for k in range(0, table.num_rows, 20_000):
            chunk, flags = table.slice(k, 20_000), late.slice(k, 20_000)
            store.append(pa.concat_tables([held, chunk.filter(pc.invert(flags))]))
            held = chunk.filter(flags)
        store.append(held)
        starts = sorted((p.start_ns, p.end_ns) for p in store.parts)
        assert any(b[0] < a[1] for a, b in itertools.pairwise(starts))  # (they overlap)
        end = store.span()[1]  # type: ignore[index]
        assert store.compact(before_ns=end + HOUR_NS) >= 1
        assert len(store.parts) == len({p.hour_ns for p in store.parts})
    for path in tmp_path.rglob("*.parquet"):
        t = _ns(pq.read_table(path))
        assert t == sorted(t)
    assert Store.open(tmp_path, writable=False).read().equals(table)


def test_a_write_that_fails_loses_nothing_and_leaves_no_file(
    reports: pa.Table, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.open(tmp_path)
    store.append(reports.slice(0, 1000))
    real = store_module._write_atomic

    def full_disk(path: Path, data: object) -> None:
        if path.name == MANIFEST:
            raise OSError(28, "No space left on device")
        real(path, data)  # type: ignore[arg-type]

    monkeypatch.setattr(store_module, "_write_atomic", full_disk)
    store.add(reports.slice(1000, 1000))
    with pytest.raises(OSError):
        store.flush()
    assert store.rows == 1000  # the manifest was not replaced: the new file is not listed
    monkeypatch.setattr(store_module, "_write_atomic", real)
    assert store.flush() == 1000  # the reports were kept for the next flush
    store.close()
    # a file that a killed writer left (written, not yet in the manifest) and a temporary one
    stray = tmp_path / "day=2024-09-09" / "hour=14" / "part-1-999999.parquet"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"half a file")
    (stray.parent / "x.parquet.tmp").write_bytes(b"")
    again = Store.open(tmp_path)
    assert not stray.exists() and not (stray.parent / "x.parquet.tmp").exists()
    assert again.read().equals(reports.slice(0, 2000).sort_by("time"))
    again.close()


def test_one_writer_at_a_time_and_clear_errors(reports: pa.Table, tmp_path: Path) -> None:
    first = Store.open(tmp_path / "s")
    with pytest.raises(StoreError, match="another process is writing"):
        Store.open(tmp_path / "s")
    first.close()
    Store.open(tmp_path / "s").close()  # (released)
    with pytest.raises(StoreError, match="not a jamwatch store"):
        Store.open(tmp_path / "nothing", writable=False)
    (tmp_path / "s" / MANIFEST).write_text("{broken")
    with pytest.raises(StoreError, match="not a readable manifest"):
        Store.open(tmp_path / "s", writable=False)
    (tmp_path / "s" / MANIFEST).write_text(json.dumps({"format": "other"}))
    with pytest.raises(StoreError, match="format"):
        Store.open(tmp_path / "s")
    with pytest.raises(StoreError, match="opened for reading"):
        Store(tmp_path / "r", writable=False).append(reports.slice(0, 10))


def test_sources_are_recorded_with_their_rows(reports: pa.Table, tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        store.append(reports.slice(0, 500), source="a.bin")
        store.finish("a.bin", {"size": 123})
    again = Store.open(tmp_path, writable=False)
    assert again.sources == {"a.bin": {"size": 123}}
    assert again.rows == 500


def test_detect_takes_a_store_folder_as_its_decoded_input(
    reports: pa.Table, tmp_path: Path
) -> None:
    """The store's files are decoded Parquet, read in path order (time order); the manifest
    is left out as hidden, with no warning."""
    from typer.testing import CliRunner

    from jamwatch.cli import app

    with Store.open(tmp_path / "store") as store:
        for k in range(0, reports.num_rows, 50_000):
            store.append(reports.slice(k, 50_000))
    pq.write_table(reports, tmp_path / "whole.parquet")
    out = {}
    for name, source in (("store", tmp_path / "store"), ("whole", tmp_path / "whole.parquet")):
        target = tmp_path / f"{name}.json"
        result = CliRunner().invoke(app, ["detect", str(source), "-o", str(target)])
        assert result.exit_code == 0, result.output
        out[name] = target.read_text()
    assert "not inputs" not in result.output
    assert out["store"] == out["whole"]
    assert '"kind": "jamming"' in out["store"].replace('":"', '": "')


def test_a_damaged_file_of_the_store_is_named(reports: pa.Table, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from jamwatch.cli import app

    with Store.open(tmp_path / "store") as store:
        store.append(reports.slice(0, 5000))
        victim = store.root / store.parts[0].path
    victim.write_bytes(victim.read_bytes()[:100])  # (cut: not Parquet any more)
    result = CliRunner().invoke(app, ["detect", "--store", str(tmp_path / "store"),
                                      "-o", str(tmp_path / "e.json")])  # fmt: skip
    assert result.exit_code == 2 and "cannot read" in result.output
    assert "Traceback" not in result.output
