"""AIS decode throughput of jamwatch against pyais 3, measured in the same run.

    python bench/ais.py                      # 2 M sentences for jamwatch, 100 k for pyais
    python bench/ais.py --sentences 5000000 --anchor 200000

The corpus is every sentence of ../shared/data/ais/nmea_data_sample.txt (897 real lines:
types 1, 3, 4, 15, 18, 20, 24, empty payloads and type 5 first halves) and the two-sentence
type 5 messages and tag-block lines of mixed.txt, repeated to the size asked. Both decoders
read the same file end to end: pyais with ``FileReaderStream`` and ``decode()`` per message
(the way its documentation reads a file), jamwatch with ``decode_nmea`` (every column of
:data:`jamwatch.schema.AIS_DECODED`; what ``jamwatch decode`` and ``detect`` run), first on
the machine's cores (every core assembling and decoding chunks of its own), then on one.
pyais reads a prefix of the file, as it is slower, on one core (it is pure Python: a second
core would not help it). Each decoder runs five times (best time kept). The machine is
shared: only the ratios mean much.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import pyarrow as pa

from jamwatch.decoder.ais import decode_nmea
from jamwatch.io.base import ReadReport

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ais"
#: a decoder's best of this many runs counts
RUNS = 5


def corpus_lines() -> list[bytes]:
    lines: list[bytes] = []
    for name in ("nmea_data_sample.txt", "mixed.txt"):
        path = DATA / name
        if not path.exists():
            sys.exit(f"missing {path}: the benchmark needs ../shared/data beside the project")
        lines += [line for line in path.read_bytes().splitlines(keepends=True) if line.strip()]
    return lines


def write_corpus(path: Path, lines: list[bytes], sentences: int) -> None:
    with path.open("wb") as out:
        written = 0
        while written < sentences:
            chunk = lines[: sentences - written]
            out.write(b"".join(chunk))
            written += len(chunk)


def run_jamwatch(path: Path, threads: int | None = None) -> tuple[float, int]:
    start = time.perf_counter()
    tables = decode_nmea(path, ReadReport(str(path)), threads=threads)
    messages = sum(table.num_rows for table in tables)
    return time.perf_counter() - start, messages


def run_jamwatch_one(path: Path) -> tuple[float, int]:
    return run_jamwatch(path, threads=1)


def run_pyais(path: Path) -> tuple[float, int]:
    from pyais.exceptions import MissingPayloadException
    from pyais.stream import FileReaderStream

    start = time.perf_counter()
    messages = 0
    for sentence in FileReaderStream(str(path)):
        try:
            sentence.decode()
        except MissingPayloadException:
            continue
        messages += 1
    return time.perf_counter() - start, messages


def best(run: object, path: Path) -> tuple[float, int]:
    results = [run(path) for _ in range(RUNS)]  # type: ignore[operator]
    return min(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sentences", type=int, default=2_000_000, help="jamwatch's corpus")
    parser.add_argument("--anchor", type=int, default=100_000, help="pyais's prefix of it")
    args = parser.parse_args()
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_setaffinity") else set()
    lines = corpus_lines()
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp) / "big.nmea", Path(tmp) / "small.nmea"
        write_corpus(big, lines, args.sentences)
        write_corpus(small, lines, args.anchor)
        run_jamwatch(small)  # compile the kernels (cached after the first run)
        threads = best(run_jamwatch, big) if len(cores) > 1 else None
        if cores:
            os.sched_setaffinity(0, {min(cores)})
        pa.set_cpu_count(1)
        one = best(run_jamwatch_one, big)
        theirs = best(run_pyais, small)
    rows = [("jamwatch, 1 core", one), ("pyais, 1 core", theirs)]
    if threads is not None:
        rows.insert(1, (f"jamwatch, {len(cores)} cores", threads))
    anchor = theirs[1] / theirs[0]
    print(f"{'decoder':<20} {'messages':>12} {'seconds':>9} {'messages/s':>12} {'x pyais':>8}")
    for name, (seconds, messages) in rows:
        rate = messages / seconds
        print(f"{name:<20} {messages:>12,} {seconds:>9.2f} {rate:>12,.0f} {rate / anchor:>8.1f}")
    print("goal: at least 50 x pyais")


if __name__ == "__main__":
    main()
