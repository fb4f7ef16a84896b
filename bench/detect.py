"""Peak memory and time of ``jamwatch detect`` (batches in, a stream of segments) against the
same detection on the whole table held at once, in the same run.

    python bench/detect.py --reports 10000000             # 10 M reports (written once, cached)
    python bench/detect.py --reports 10000000 --max-segment-hours 3
    python bench/detect.py --reports 100000000 --days 1 --stream-only --repeat 1   # the goal
    python bench/detect.py --workdir /data/jw-bench       # keep the Parquet between runs

The data: the synthetic traffic of ``bench/aggregate.py`` (its :func:`build`, same seed, same
cache folder by default, so the two benchmarks share the files): time-ordered decoded reports,
one Parquet file per UTC day (``--days``, 2 by default), with three jamming areas at real hot
spots. How much jamming there is depends on the size: at 2 M reports there are 146 flights in
two days and a jammed aircraft seldom has company (no jamming event is found); at 10 M, 741
flights and three events; at 100 M ten times as many flights, the areas seldom quiet, and the
stream's segments run to the 12-hour limit (``StreamConfig.max_segment_s``). The data's
ground speeds do not follow its positions (each flight moves at its average speed, climb and
descent included, while it reports its cruise speed) and its aircraft codes are shared by two
flights that can overlap in time, so the spoofing detector finds many episodes (speed
mismatches, jumps): they are counted here, not judged.

Measured, each in its own process under GNU ``/usr/bin/time`` (wall time, CPU time and the
maximum resident size of that process alone; the benchmark's own memory, which holds the
data while building it, is not counted), ``--repeat`` times each, interleaved:

- stream: ``jamwatch detect FILES -o events.json``, the product's command: the ``jamwatch``
  entry point (``jamwatch.cli:app``) run in a fresh interpreter with those arguments. It is
  started through this file (``--child-stream``), which only counts the segments the stream
  detected (a subclass of ``DetectStream`` that keeps its instances) and, with
  ``--max-segment-hours``, gives the stream ``StreamConfig(max_segment_s=...)``; the
  benchmark passes that to its children in the environment variable
  ``JAMWATCH_BENCH_MAX_SEGMENT_H``, which only this file reads.
- anchor: the same reports (``jamwatch.io.inputs.read_reports`` with the detectors' columns,
  cleaned alike) concatenated into one table held whole in memory, then detected by one
  ``DetectStream`` given that table in a single push and flushed: exactly what
  ``jamwatch.detect.pipeline.detect(table)`` does, and what a caller who reads everything
  first gets. It cuts the same segments and finds the same events; the run checks that the
  two ``events.json`` are equal and fails otherwise.

So both do the same detection work, segment by segment, and the memory ratio is what reading
batch by batch saves over holding the whole input. The time ratio is the cost of the stream's
bookkeeping (buffering batches, a segment's table concatenated from them, trimming) against
the anchor's (at every segment it filters, and after it copies, what is left of the whole
table). The anchor is not the code before the stream (one detection over the whole input with
no segments at all, which finds other events). The stream holds the reports of at most one
segment with its context (13 h 1 min with the default configuration) and one batch of
``read_reports`` (whole Parquet row groups up to ``jamwatch.detect.stream.READ_ROWS`` rows), the
anchor the whole input: with few reports an hour the batch, not the segment, is the larger
part, and with few days of data the whole input is not much more than a segment.

Before the timed runs the detection runs once, untimed, on a 0.1 % slice of the data, so that
Numba's compiled kernels are in its on-disk cache; both timed runs load them from there
(their wall times include the interpreter's start and the imports). Its peak resident size is
printed as the fixed cost of a run. The Parquet files are read once beforehand so that every
run finds them in the page cache. GB here are 2^30 bytes.

Memory at the full size: a segment's detection holds at most ``StreamConfig.max_reports``
(4 M) reports with its context, and the stream reads batches of 500,000 rows, so the
stream's peak does not grow with the input (docs/detect.md, "As a stream"); the anchor holds
the whole input besides, some 20 GB at 100 M reports: ``--stream-only`` measures the stream
alone against the goal (100 M reports in 24 hours under 2 GB). The 100 M data of
``bench/aggregate.py`` over one day (``--days 1``) is built once (about 3 minutes, 1.8 GB of
Parquet).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aggregate import data_files, data_parser, write_slice

if TYPE_CHECKING:
    from jamwatch.detect.stream import StreamConfig

#: the environment variable through which the benchmark gives its children the segment limit
HOURS_VAR = "JAMWATCH_BENCH_MAX_SEGMENT_H"
#: what jamwatch detect prints at its end (on stderr)
SUMMARY = re.compile(r"reports: ([\d,]+); jamming events: (\d+); spoofing episodes: (\d+)")
SEGMENTS = re.compile(r"^bench segments: (\d+)$", re.M)
WARM_SHARE = 0.001


def _config() -> StreamConfig | None:
    """The stream's configuration: the product's default, or the segment limit the benchmark
    was given (``HOURS_VAR``), with the shortest segment no longer than that."""
    from jamwatch.detect.stream import StreamConfig

    hours = os.environ.get(HOURS_VAR)
    if not hours:
        return None
    limit = float(hours) * 3600
    return StreamConfig(min_segment_s=min(StreamConfig().min_segment_s, limit), max_segment_s=limit)


def child_stream(argv: list[str]) -> None:
    """``jamwatch ARGV`` (the entry point, ``jamwatch.cli:app``), counting the segments."""
    import jamwatch.detect.stream as stream_module
    from jamwatch.cli import app

    made: list[stream_module.DetectStream] = []
    config = _config()

    class Counted(stream_module.DetectStream):
        def __init__(self, **kwargs: Any) -> None:
            if config is not None:
                kwargs["config"] = config
            super().__init__(**kwargs)
            made.append(self)

    stream_module.DetectStream = Counted  # type: ignore[misc]
    try:
        app(argv, prog_name="jamwatch")
    finally:
        print(f"bench segments: {sum(s.segments for s in made)}", file=sys.stderr)


def child_anchor(argv: list[str]) -> None:
    """The anchor: every report read into one table, then detected in one push."""
    import pyarrow as pa

    from jamwatch.detect.stream import DetectStream
    from jamwatch.io.events import write_events
    from jamwatch.io.inputs import DETECT_COLUMNS, read_reports

    *paths, output = (Path(a) for a in argv)
    table = pa.concat_tables(list(read_reports(paths, columns=DETECT_COLUMNS)))
    stream = DetectStream(config=_config())
    events = pa.concat_tables([stream.push(table), stream.flush()])
    write_events(events, output)
    jam = events.column("kind").to_pylist().count("jamming")
    print(
        f"reports: {table.num_rows:,}; jamming events: {jam}; "
        f"spoofing episodes: {events.num_rows - jam} -> {output}\n"
        f"bench segments: {stream.segments}",
        file=sys.stderr,
    )


@dataclass(frozen=True, slots=True)
class Run:
    """What one timed child did and cost."""

    name: str
    reports: int
    jamming: int
    spoofing: int
    segments: int
    wall_s: float
    cpu_s: float
    peak_gb: float


def timed(name: str, args: list[str], env: dict[str, str]) -> Run:
    """Run ``python bench/detect.py ARGS`` under /usr/bin/time; what it printed and cost."""
    gnu_time = shutil.which("time", path="/usr/bin:/bin")
    if gnu_time is None:
        raise SystemExit("this benchmark needs GNU time (/usr/bin/time; apt-get install time)")
    with tempfile.NamedTemporaryFile("r", suffix=".time") as stats:
        command = [
            gnu_time, "-f", "%e %U %S %M", "-o", stats.name,
            sys.executable, str(Path(__file__).resolve()), *args,
        ]  # fmt: skip
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode:
            sys.stderr.write(done.stdout + done.stderr)
            raise SystemExit(f"the {name} run failed (exit status {done.returncode})")
        wall, user, system, kib = stats.read().split()[-4:]
    found = SUMMARY.search(done.stderr)
    segments = SEGMENTS.search(done.stderr)
    if found is None or segments is None:
        raise SystemExit(f"the {name} run printed no summary:\n{done.stderr}")
    reports, jam, spoof = found.groups()
    return Run(
        name, int(reports.replace(",", "")), int(jam), int(spoof), int(segments.group(1)),
        float(wall), float(user) + float(system), int(kib) / 2**20,
    )  # fmt: skip


def same_events(a: Path, b: Path) -> tuple[int, int]:
    """(events of ``a`` not in ``b``, events of ``b`` not in ``a``), order aside."""
    one, two = (Counter(json.dumps(e, sort_keys=True) for e in json.loads(p.read_text()))
                for p in (a, b))  # fmt: skip
    return (one - two).total(), (two - one).total()


def _footer(warm: Run) -> None:
    """The fixed cost of a run and the machine."""
    print(
        f"fixed cost (interpreter, libraries, kernels): the warm-up's peak, {warm.peak_gb:.2f} GB "
        f"on {warm.reports:,} reports"
    )
    print(f"machine: {os.cpu_count()} cores, load average at the end {os.getloadavg()[0]:.1f}")


def _stream_only(runs: list[Run], warm: Run) -> None:
    """Print the stream's runs against the goal (no anchor)."""
    from jamwatch.detect.stream import StreamConfig

    run, peak = runs[0], max(r.peak_gb for r in runs)
    print()
    print(f"stream alone, {len(runs)} runs: median wall and CPU time, largest peak resident size")
    print()
    print("| reports | segments | wall s | CPU s | peak RSS GB | goal |")
    print("|---:|---:|---:|---:|---:|---|")
    print(
        f"| {run.reports:,} | {run.segments} | {statistics.median(r.wall_s for r in runs):.1f} | "
        f"{statistics.median(r.cpu_s for r in runs):.1f} | {peak:.2f} | "
        f"{'met' if peak * 2**30 < 2e9 else 'missed'}: under 2 GB (10^9 bytes: "
        f"{peak * 2**30 / 1e9:.2f}) |"
    )
    print()
    print(
        f"events: {run.jamming} jamming, {run.spoofing} spoofing; a segment with its context "
        f"holds at most {StreamConfig().max_reports:,} reports"
    )
    _footer(warm)


def main() -> None:
    if sys.argv[1:2] == ["--child-stream"]:
        return child_stream(sys.argv[2:])
    if sys.argv[1:2] == ["--child-anchor"]:
        return child_anchor(sys.argv[2:])
    parser = data_parser(__doc__)
    parser.add_argument(
        "--max-segment-hours", type=float, default=None,
        help="the stream's longest segment (default: the product's, 12 h)",
    )  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3, help="timed pairs (stream, anchor)")
    parser.add_argument(
        "--stream-only", action="store_true",
        help="time the stream alone (at 100 M reports the anchor's whole table needs some 20 GB)",
    )  # fmt: skip
    args = parser.parse_args()
    from jamwatch.detect.events import EventConfig
    from jamwatch.detect.stream import READ_ROWS, StreamConfig

    root, files = data_files(args)
    env = dict(os.environ)
    env.pop(HOURS_VAR, None)
    if args.max_segment_hours is not None:
        env[HOURS_VAR] = str(args.max_segment_hours)
    default = StreamConfig()
    hours = args.max_segment_hours or default.max_segment_s / 3600

    runs: dict[str, list[Run]] = {"stream": [], "anchor": []}
    differ: list[tuple[int, int]] = []
    with tempfile.TemporaryDirectory(dir=root) as tmp_name:
        tmp = Path(tmp_name)
        for path in files:  # into the page cache, for both runs alike
            with path.open("rb") as f:
                while f.read(1 << 24):
                    pass
        t0 = time.perf_counter()
        warm_files = [str(f) for f in write_slice(files, WARM_SHARE, tmp / "warm")]
        warm = timed("warm-up", ["--child-stream", "detect", *warm_files, "-o",
                                 str(tmp / "warm.json")], env)  # fmt: skip
        print(
            f"warm-up on {warm.reports:,} reports (kernels compiled or loaded, not timed): "
            f"{time.perf_counter() - t0:.0f} s, peak RSS {warm.peak_gb:.2f} GB"
        )
        names = [str(f) for f in files]
        stream_json, anchor_json = tmp / "stream-events.json", tmp / "anchor-events.json"
        commands = {
            "stream": ["--child-stream", "detect", *names, "-o", str(stream_json)],
            "anchor": ["--child-anchor", *names, str(anchor_json)],
        }
        if args.stream_only:
            for _ in range(args.repeat):
                runs["stream"].append(timed("stream", commands["stream"], env))
            _stream_only(runs["stream"], warm)
            return
        for k in range(args.repeat):  # interleaved, in turn first
            for name in ("stream", "anchor") if k % 2 == 0 else ("anchor", "stream"):
                runs[name].append(timed(name, commands[name], env))
            differ.append(same_events(stream_json, anchor_json))

    stream, anchor = runs["stream"][0], runs["anchor"][0]
    wall = {name: statistics.median(r.wall_s for r in rs) for name, rs in runs.items()}
    cpu = {name: statistics.median(r.cpu_s for r in rs) for name, rs in runs.items()}
    peak = {name: max(r.peak_gb for r in rs) for name, rs in runs.items()}
    pairs = list(zip(runs["stream"], runs["anchor"], strict=True))
    wall_ratios = [s.wall_s / a.wall_s for s, a in pairs]
    peak_ratios = [s.peak_gb / a.peak_gb for s, a in pairs]

    print()
    print(
        f"{args.repeat} runs of each, interleaved: median wall and CPU time, largest peak "
        "resident size"
    )
    print()
    print("| run | reports | segments | wall s | CPU s | peak RSS GB | GB per M reports |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, what in (
        ("stream", "stream: jamwatch detect, batches"),
        ("anchor", "anchor: whole table, one push"),
    ):
        run = runs[name][0]
        print(
            f"| {what} | {run.reports:,} | {run.segments} | {wall[name]:.1f} | {cpu[name]:.1f} | "
            f"{peak[name]:.2f} | {peak[name] / (run.reports / 1e6):.3f} |"
        )
    print()
    print(
        f"ratios stream / anchor: wall {wall['stream'] / wall['anchor']:.2f} "
        f"(pairs {min(wall_ratios):.2f}-{max(wall_ratios):.2f}), "
        f"peak memory {peak['stream'] / peak['anchor']:.2f} "
        f"(pairs {min(peak_ratios):.2f}-{max(peak_ratios):.2f})"
    )
    print(
        f"events: {stream.jamming} jamming, {stream.spoofing} spoofing (stream); "
        f"{anchor.jamming} jamming, {anchor.spoofing} spoofing (anchor); "
        f"{sum(d[0] for d in differ)} only in the stream's, "
        f"{sum(d[1] for d in differ)} only in the anchor's ({args.repeat} pairs compared)"
    )
    per_hour = stream.reports / (args.days * 24)
    after_s = max(default.context_s, EventConfig().gap_s) + default.slack_s
    held_h = (default.context_s + after_s) / 3600 + hours
    bound = min(stream.reports, held_h * per_hour + READ_ROWS)
    print(
        f"segment limit {hours:g} h: the stream holds at most {held_h:.2f} h of reports and one "
        f"batch (up to {READ_ROWS:,} reports): about {bound / 1e6:.1f} M reports, "
        f"{bound / stream.reports:.0%} of the input, at its average "
        f"{per_hour / 1e6:.2f} M reports an hour"
    )
    _footer(warm)
    agree = {(r.reports, r.segments, r.jamming, r.spoofing) for rs in runs.values() for r in rs}
    if len(agree) != 1 or any(a or b for a, b in differ):
        raise SystemExit("the stream and the anchor disagree (reports, segments or events)")


if __name__ == "__main__":
    main()
