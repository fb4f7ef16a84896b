"""The time of a look at a stream's open segment (what a live view asks between batches),
with the localizer's fits of the previous look reused, against the same looks without reuse,
in the same run.

    python bench/look.py                                   # the real Helsinki day
    python bench/look.py --batch-minutes 2 --looks 220:240 --repeat 1

The data: the real Helsinki recordings of ``../shared/data/helsinki`` (decoded once with
their ``files.csv`` starts, as ``jamwatch detect`` reads them), streamed in time order as
batches of ``--batch-minutes`` into a :class:`jamwatch.detect.stream.DetectStream`. After
each batch in ``--looks`` (batch numbers, from 1) the benchmark times
:meth:`DetectStream.open_events`:

- reuse: the stream's own localizer, which keeps the fits of its previous call
  (:class:`jamwatch.detect.localize.FitMemo`);
- anchor: a second stream over the same batches whose localizer's memo is emptied before
  every look, so that each look fits every piece again (what a look cost before the memo).

The two streams run one after the other, ``--repeat`` times each, interleaved, and the run
checks that both show the same events at every look (it fails otherwise). The default looks,
batches 220-240 of 2 minutes (04:24-05:04 UTC), fall inside the day's longest event, whose
open segment holds about 3 million reports then. Printed: the median and the largest look
of each, their ratio, and how many fits a look with reuse took from the memo and searched.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from jamwatch.cli.options import recording_starts
from jamwatch.detect.localize import FitMemo
from jamwatch.detect.stream import DetectStream
from jamwatch.io.inputs import DETECT_COLUMNS, read_reports

HERE = Path(__file__).resolve().parent
HELSINKI = HERE.parent.parent / "shared" / "data" / "helsinki"


def day(folder: Path) -> pa.Table:
    """The recordings of ``folder``, decoded with the starts of its ``files.csv``, in time
    order."""
    files = sorted(folder.glob("*.bin.xz"))
    starts = recording_starts(files, None, folder / "files.csv")
    table = pa.concat_tables(read_reports(files, starts=starts, columns=DETECT_COLUMNS))
    return table.sort_by("time")


def batches(table: pa.Table, minutes: float) -> Iterator[pa.Table]:
    """``table`` as consecutive batches of ``minutes`` (empty ones too, so that the batch
    numbers are times)."""
    t = np.asarray(table.column("time").cast(pa.int64()).to_numpy())
    step = int(minutes * 60e9)
    edges = np.searchsorted(t, np.arange(t[0], t[-1] + step, step))
    for a, b in itertools.pairwise(edges):
        yield table.slice(int(a), int(b - a))


def looks(
    table: pa.Table, minutes: float, first: int, last: int, reuse: bool
) -> list[tuple[float, pa.Table, int, int]]:  # fmt: skip
    """The time (s), the events and the fits taken from the memo and searched of a look
    after each batch ``first``-``last``."""
    stream = DetectStream()
    out = []
    for k, batch in enumerate(batches(table, minutes), start=1):
        stream.push(batch)
        if k < first:
            continue
        if not reuse:
            stream.detectors[1].memo = FitMemo()
        memo = stream.detectors[1].memo
        hits, searched = memo.hits, memo.searched
        t0 = time.perf_counter()
        events = stream.open_events()
        took = time.perf_counter() - t0
        memo = stream.detectors[1].memo
        out.append((took, events, memo.hits - hits, memo.searched - searched))
        if k >= last:
            break
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folder", type=Path, default=HELSINKI, help="the Helsinki recordings")
    ap.add_argument("--batch-minutes", type=float, default=2.0)
    ap.add_argument("--looks", default="220:240", help="FIRST:LAST batch numbers to look after")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    if not (args.folder / "files.csv").exists():
        print(f"no recordings in {args.folder} (with files.csv)", file=sys.stderr)
        return 2
    first, last = (int(v) for v in args.looks.split(":"))
    table = day(args.folder)
    print(f"{table.num_rows:,} reports; batches of {args.batch_minutes} min, looks after "
          f"batches {first}-{last}")  # fmt: skip
    times: dict[bool, list[float]] = {True: [], False: []}
    fits: list[tuple[int, int]] = []  # per look with reuse: fits from the memo, searched
    for _ in range(args.repeat):
        seen = {}
        for reuse in (True, False):
            done = looks(table, args.batch_minutes, first, last, reuse)
            times[reuse] += [s for s, *_ in done]
            seen[reuse] = [e for _, e, *_ in done]
            if reuse:
                fits += [(h, n) for *_, h, n in done]
        if any(not a.equals(b) for a, b in zip(seen[True], seen[False], strict=True)):
            print("the looks with and without reuse show different events", file=sys.stderr)
            return 1
    print("| looks | with reuse: median s, largest | without: median s, largest | ratio |")
    print("|---:|---|---|---:|")
    med = {r: statistics.median(v) for r, v in times.items()}
    print(
        f"| {len(times[True])} | {med[True]:.2f}, {max(times[True]):.2f} | "
        f"{med[False]:.2f}, {max(times[False]):.2f} | {med[True] / med[False]:.2f} |"
    )
    reused = [h for h, _ in fits]
    searched = [n for _, n in fits]
    print(
        f"fits per look with reuse: {statistics.median(reused):g} from the memo (range "
        f"{min(reused)}-{max(reused)}), {statistics.median(searched):g} searched (range "
        f"{min(searched)}-{max(searched)}); looks with none from the memo: "
        f"{sum(1 for h in reused if h == 0)} of {len(reused)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
