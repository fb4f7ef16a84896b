"""The map job on a store, embedded and on Dask, and the scaling model its figures give.

    python bench/scale.py                        # 20 M reports, one day
    python bench/scale.py --reports 50000000 --days 2

The data: bench/aggregate.py's synthetic traffic (real airports, three jamming areas),
``--reports`` over ``--days``, ingested once into a store (``jamwatch.io.store``: Parquet by
UTC day and hour, the layout ``jamwatch ingest`` and ``jamwatch watch --store`` write) in
the cache folder, and reused. Timed, in the same run, each twice (best kept), the whole job
from the store's files to cells (:func:`jamwatch.aggregate.job.map_cells`):

- embedded, 1 worker and 2 worker processes (the anchor: one machine, no cluster);
- Dask, a local cluster of 1 and of 2 single-threaded worker processes (started and warmed
  before the clock starts, as a running cluster would be), one shard of aircraft per worker.

The cells of every run must equal the embedded 1-worker run's (the benchmark fails
otherwise). Also timed, alone on one core: shard 0 of 1, 2 and 4 (each shard reads every
file and keeps its aircraft), and the client's merge of two shards' partials.

The model, from these figures: a shard reads every file and keeps its aircraft (the
counter needs each aircraft's reports in order, and the store is cut by time, not by
aircraft), so with N shards a run takes about ``R + C / N + M``: ``R`` the read (every shard
repeats it, on its own core), ``C`` the per-aircraft work that the shards divide, ``M`` the
merge of the partials at the client. Printed: R and C fitted to the shard times, M
measured, and the time this model gives a day of global traffic on N machines.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))

from aggregate import build, default_root

#: a day of global ADS-B, position reports (DESIGN.md: of the order of 10^9)
GLOBAL_DAY = 1_000_000_000
#: each configuration's best of this many runs counts
RUNS = 2


def store_files(root: Path, reports: int, days: int) -> list[Path]:
    """The store of the benchmark's reports, ingested once; its part files."""
    from jamwatch.io.store import Store

    folder = root / f"store-{reports}-{days}d"
    done = folder / "DONE"
    if not done.exists():
        with Store.open(folder) as store:
            for day in build(root, reports, days):
                for batch in pq.ParquetFile(day).iter_batches(batch_size=2_000_000):
                    store.append(decoded(pa.Table.from_batches([batch])))
        done.write_text("ok\n")
    with Store.open(folder, writable=False) as store:
        return store.files()


def decoded(table: pa.Table) -> pa.Table:
    """The benchmark's columns with the decoded columns it lacks, as nulls (the store's
    schema)."""
    from jamwatch.schema import DECODED

    for name in DECODED.names:
        if name not in table.column_names:
            field = DECODED.field(name)
            table = table.append_column(field, pa.nulls(table.num_rows, field.type))
    return table


def timed(run: Any) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(RUNS):
        t0 = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - t0)
    return best, result


def counts(cells: pa.Table) -> dict[tuple[Any, ...], tuple[int, int]]:
    keys = zip(*(cells.column(c).to_pylist() for c in ("cell", "window_start")), strict=True)
    values = zip(
        cells.column("count_good_aircraft").to_pylist(),
        cells.column("count_bad_aircraft").to_pylist(),
        strict=True,
    )
    return dict(zip(keys, values, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=20_000_000)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None, help="cache folder for the data")
    args = parser.parse_args()
    root = args.workdir or default_root()
    root.mkdir(parents=True, exist_ok=True)

    from distributed import Client, LocalCluster

    from jamwatch.aggregate.job import map_cells

    files = store_files(root, args.reports, args.days)
    paths: list[str | os.PathLike[str]] = list(files)
    size_gb = sum(f.stat().st_size for f in files) / 1e9
    print(f"store: {len(files)} part files, {size_gb:.2f} GB, in {files[0].parents[2]}")
    rows: list[tuple[str, int, float]] = []
    reference = None
    for workers in (1, 2):
        seconds, result = timed(lambda w=workers: map_cells(paths, workers=w))
        reference = reference or counts(result.cells)
        assert counts(result.cells) == reference, f"embedded {workers}: other cells"
        rows.append(("embedded", workers, seconds))
        reports = result.summary.reports
    for workers in (1, 2):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None)
        try:
            address = cluster.scheduler_address
            with Client(address):  # warm the workers: import jamwatch, compile nothing twice
                pass
            seconds, result = timed(
                lambda a=address: map_cells(paths, engine="dask", scheduler=a)
            )
        finally:
            cluster.close()
        assert counts(result.cells) == reference, f"dask {workers}: other cells"
        rows.append(("dask", workers, seconds))
    shard_s = {n: shard_seconds(files, n) for n in (1, 2, 4)}
    merge_s = merge_seconds(files, 2)

    speed_table(rows, reports, "x embedded 1")
    base = rows[0][2]
    print()
    print("one shard of N, alone on one core: " + ", ".join(
        f"N={n}: {s:.2f} s" for n, s in shard_s.items()))  # fmt: skip
    # T_shard(N) = R + C / N, least squares over N = 1, 2, 4
    inv = np.array([1 / n for n in shard_s])
    secs = np.array(list(shard_s.values()))
    c, r = np.polyfit(inv, secs, 1)
    dask_over = next(s for e, w, s in rows if e == "dask" and w == 1) - base
    print(f"fit: R = {r:.2f} s (read and shard selection: every shard repeats it), "
          f"C = {c:.2f} s (the per-aircraft work the shards divide)")  # fmt: skip
    print(f"merge of 2 shards' partials at the client: {merge_s:.2f} s; "
          f"Dask's overhead (dask 1 worker - embedded 1): {dask_over:.2f} s")  # fmt: skip
    scale = GLOBAL_DAY / reports
    print(f"model for a day of {GLOBAL_DAY:.0e} reports ({scale:.0f} x this store) on N "
          "machines of one worker each, the store on shared storage:")
    for n in (1, 2, 8, 32):
        t = (r + c / n) * scale + merge_s * scale + dask_over  # (the partials: one per aircraft)
        print(f"  N = {n:>2}: {t / 60:.1f} min (speed-up {((r + c) * scale) / t:.2f})")
    print("every run gave the same cells")


def speed_table(rows: list[tuple[str, int, float]], reports: int, ratio: str) -> None:
    """Print ``rows`` (engine, workers, seconds) as a Markdown table, against the first."""
    print()
    print(f"| engine | workers | seconds | reports/s | {ratio} |")
    print("|---|---:|---:|---:|---:|")
    base = rows[0][2]
    for engine, workers, seconds in rows:
        print(
            f"| {engine} | {workers} | {seconds:.1f} | {reports / seconds / 1e6:.2f} M | "
            f"{base / seconds:.2f} |"
        )


def shard_seconds(files: list[Path], n: int) -> float:
    """Seconds of shard 0 of ``n`` alone, in this process (best of RUNS)."""
    from jamwatch.aggregate.grid import GridConfig
    from jamwatch.aggregate.job import Shard, map_partials
    from jamwatch.signals import IntegrityConfig

    return timed(lambda: map_partials(files, GridConfig(), IntegrityConfig(), Shard(0, n)))[0]


def merge_seconds(files: list[Path], n: int) -> float:
    """Seconds of the client's merge of ``n`` shards' partials into cells."""
    from jamwatch.aggregate.grid import GridConfig, cell_stats, mark_faulty
    from jamwatch.aggregate.job import Shard, map_partials
    from jamwatch.signals import IntegrityConfig

    grid = GridConfig()
    parts = [map_partials(files, grid, IntegrityConfig(), Shard(k, n)) for k in range(n)]
    t0 = time.perf_counter()
    merged = pa.concat_tables([p for p, _, _ in parts])
    merged, faulty = mark_faulty(merged, set().union(*(f for _, f, _ in parts)))
    cell_stats(merged, grid.window_s, faulty)
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
