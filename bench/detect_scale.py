"""The detect job on a store, embedded and on Dask (``jamwatch detect --engine dask``).

    python bench/detect_scale.py                       # 5 M reports, one day
    python bench/detect_scale.py --reports 20000000
    python bench/detect_scale.py --simulated 16        # 16 simulated jamming days
    python bench/detect_scale.py --simulated 16 --numba-threads 1

The data: bench/aggregate.py's synthetic traffic (real airports, three jamming areas),
``--reports`` over ``--days``, ingested once into a store (as ``bench/scale.py`` does, and
shared with it). Timed in the same run, each twice (best kept), the whole job from the
store's hours to the events, as ``jamwatch detect --store`` runs it: embedded (the anchor:
one process) and on a local Dask cluster of 1 and of 2 single-threaded workers (started
and warmed before the clock starts, as a running cluster would be). The client reads the
store and decides the cuts; the workers detect the segments. Every run's events must equal
the embedded run's (the benchmark fails otherwise).

``--simulated K`` takes instead a store of K simulated runs (korea-west-sea and andoya-2024
in turn, seeds 1001 on, each moved to a day of its own): jamming without the synthetic
traffic's spoofing-like jumps, whose episodes reach nearly every cut (each such cut is
detected again later, and a cluster must take back the segments it sent after it).

The localizer's likelihood kernels run on every core (Numba threads), so on a small machine
the embedded run already uses all of it. ``--numba-threads 1`` gives every process one
(the client and each worker): how the engine divides the work between workers, as it would
between machines.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from aggregate import default_root
from scale import RUNS, speed_table, store_files


def simulated_store(root: Path, runs: int) -> Path:
    """A store of ``runs`` simulated runs on days of their own, built once."""
    import pyarrow.compute as pc

    from jamwatch.api import decode
    from jamwatch.io.store import Store
    from jamwatch.simulate.scenario import load, run_scenario

    folder = root / f"simulated-{runs}"
    if not (folder / "DONE").exists():
        with Store.open(folder) as store:
            for k in range(runs):
                name = ("korea-west-sea", "andoya-2024")[k % 2]
                table = decode(run_scenario(load(name), 1001 + k).frames).sort_by("time")
                day = pa.scalar(k * 86_400_000_000_000, pa.duration("ns"))
                time = pc.add(table.column("time"), day)
                store.append(table.set_column(table.schema.get_field_index("time"), "time", time))
        (folder / "DONE").write_text("ok\n")
    return folder


def detect_store(folder: Path, make: Callable[[], Any]) -> tuple[pa.Table, int, int]:
    """The events of the store at ``folder`` through the stream ``make()`` gives, as
    ``jamwatch detect --store`` reads it; the reports read and the segments."""
    from jamwatch.cli.detect import _store_batches
    from jamwatch.io.inputs import ReadSummary
    from jamwatch.io.store import Store

    stream = make()
    summary = ReadSummary()
    hours = _store_batches(Store.open(folder, writable=False), None, None, summary)
    found = [stream.push(t) for t in hours]
    found.append(stream.flush())
    REPLANS.append(getattr(stream, "replans", 0))
    return pa.concat_tables(found), summary.reports, stream.segments


Result = tuple[pa.Table, int, int]
#: the cuts each cluster run took back
REPLANS: list[int] = []


def timed(run: Callable[[], Result]) -> tuple[float, Result]:
    best, result = float("inf"), None
    for _ in range(RUNS):
        t0 = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - t0)
    assert result is not None
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=5_000_000)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None, help="cache folder for the data")
    parser.add_argument("--simulated", type=int, default=0, help="a store of K simulated days")
    parser.add_argument("--numba-threads", type=int, default=0, help="per process (0: all)")
    args = parser.parse_args()
    if args.numba_threads:  # (before Numba is loaded; the workers inherit it)
        os.environ["NUMBA_NUM_THREADS"] = str(args.numba_threads)
    root = args.workdir or default_root()
    root.mkdir(parents=True, exist_ok=True)

    from distributed import Client, LocalCluster

    from jamwatch.detect.remote import ClusterStream
    from jamwatch.detect.stream import DetectStream

    if args.simulated:
        folder = simulated_store(root, args.simulated)
    else:
        folder = store_files(root, args.reports, args.days)[0].parents[2]
    print(f"store: {folder}")
    seconds, (reference, reports, segments) = timed(lambda: detect_store(folder, DetectStream))
    rows = [("embedded", 1, seconds)]
    for workers in (1, 2):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None)
        try:
            with Client(cluster.scheduler_address) as client:
                client.run(lambda: __import__("jamwatch.detect.stream"))  # (warm the workers)
                seconds, (events, _, _) = timed(
                    lambda c=client: detect_store(folder, lambda: ClusterStream(c))
                )
        finally:
            cluster.close()
        assert events.equals(reference), f"dask {workers}: other events"
        rows.append(("dask", workers, seconds))
        print(f"dask {workers}: cuts taken back per run: {REPLANS[-RUNS:]}")
    jam = reference.column("kind").to_pylist().count("jamming")
    print(f"reports: {reports:,}; segments: {segments}; events: {reference.num_rows} "
          f"({jam} jamming)")  # fmt: skip
    speed_table(rows, reports, "x embedded")
    print("every run gave the same events")


if __name__ == "__main__":
    main()
