"""The live monitor (``jamwatch watch``) fed by ``jamwatch replay`` on loopback: how soon an
onset alert comes after a transmitter switches on, and whether a busy feed is kept up with.

    python bench/watch.py                         # both parts
    python bench/watch.py --part latency          # onset alerts, replays at speed 10
    python bench/watch.py --part load --rate 50000 --seconds 120

**Latency.** Each simulated recording (``--cases``: scenario and seed; by default
andoya-2024 seed 3 and korea-west-sea seeds 1 and 2) is cut to the 20 minutes before its
first transmitter switches on and the 10 minutes after, written as Beast, and replayed at
``--speed`` (10) by ``jamwatch replay``; ``jamwatch watch`` reads it with its defaults
scaled to the speed (a look at the open events 10 s of recording time after the previous
one ended: ``--look 1`` at speed 10) and writes its alerts as JSON lines. The switch-on
time is the truth's (:func:`jamwatch.detect.evaluate.true_intervals`: the first
on-interval that degraded at least two aircraft); the wall time it was replayed is the
connection's clock start (``/api/status``, the wall time of the first frame) plus the
recording time from the first frame divided by the speed. The latency is the first onset
alert's ``sent`` minus that wall time: printed in wall seconds and in recording seconds
(wall times the speed: what the same delay is worth on the recording's own clock). The
goal: an onset alert within two minutes of recording time; the research monitor jamwatch
compares itself with (Stanford's) reports within five. No anchor runs here: no other open
monitor raises such alerts.

**Load.** A dense recording (korea-west-sea with its routes flown ``--density`` times as
often; its last ``--rate`` times ``--seconds`` frames) is replayed at the speed that gives
``--rate`` frames a second (the recording is simulated once and kept in the temporary
folder); the monitor keeps every decoded report in a store (``--store``), and
``--max-reports`` sets its detection's limit. Sampled every second: the monitor's resident
memory (``/proc``), its lag (``/api/status``: the age of the oldest frame of the last step
when that step ended) and its step time. At the end: the frames the feed received, the
rows the store holds, the frames the replay sent, the largest lag, and the peak memory in
the first and in the last third of the run (flat if they are alike). Anchor in the same
run: ``jamwatch detect`` on the same recording (every frame decoded and detected once, as a
batch), whose CPU time is set against the monitor's.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from jamwatch.detect.evaluate import true_intervals
from jamwatch.io.beast import write_beast
from jamwatch.io.events import parse_iso
from jamwatch.simulate.scenario import load, run_scenario

NS = 1_000_000_000
CASES = ("andoya-2024:3", "korea-west-sea:1", "korea-west-sea:2")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def jamwatch(*args: str, **kw: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "jamwatch", *args], stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL, text=True, **kw,
    )  # fmt: skip


def get(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.loads(r.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def write(frames: pa.Table, path: Path) -> None:
    """A Beast file whose first frame has a time (a counter of 0 means none)."""
    start = frames.column("time")[0].as_py() - timedelta(seconds=1)
    write_beast(frames, path, start=start)


def wait_for(api: str, timeout_s: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = get(f"{api}/api/status")
        if status and status["feeds"][0]["clock_start"]:
            return dict(status)
        time.sleep(0.2)
    raise RuntimeError("the monitor did not connect to the replay")


def _ts(text: str) -> float:
    """An ISO time of the API as Unix seconds."""
    return parse_iso(text) / NS


def latency(case: str, speed: float, folder: Path) -> dict[str, Any]:
    """One recording's onset alert latency (see the module documentation)."""
    name, seed = case.split(":")
    sc = load(name)
    run = run_scenario(sc, int(seed))
    on = min(iv.on for iv in true_intervals(sc, run.truth))
    t = run.frames.column("time").cast(pa.int64())
    keep = pc.and_(pc.greater_equal(t, on - 1200 * NS), pc.less(t, on + 600 * NS))
    frames = run.frames.filter(keep).sort_by("time")
    first = frames.column("time")[0].cast(pa.int64()).as_py()
    path = folder / f"{name}-{seed}.beast"
    write(frames, path)
    feed, http = free_port(), free_port()
    alerts = folder / f"{name}-{seed}.alerts.jsonl"
    replay = jamwatch("replay", str(path), "--port", str(feed), "--speed", str(speed))
    watch = jamwatch(
        "watch", "--beast", f"127.0.0.1:{feed}", "--http", f"127.0.0.1:{http}", "--alerts",
        str(alerts), "--look", f"{10 / speed:g}", "--step", f"{min(1.0, 10 / speed):g}",
    )  # fmt: skip
    try:
        status = wait_for(f"http://127.0.0.1:{http}")
        replay.wait(timeout=3600)
        time.sleep(15)  # (a last look)
    finally:
        stop(watch)
        replay.kill()
    clock = _ts(status["feeds"][0]["clock_start"])
    switched = clock + (on - first) / NS / speed
    sent = [json.loads(x) for x in alerts.read_text().splitlines()] if alerts.exists() else []
    onsets = [_ts(a["sent"]) for a in sent if a["alert"] == "onset" and a["kind"] == "jamming"]
    after = [s for s in onsets if s >= switched - 60 / speed]
    wall = min(after) - switched if after else None
    return {
        "case": case, "frames": frames.num_rows, "alerts": len(sent), "onset_wall_s": wall,
        "onset_recording_s": None if wall is None else wall * speed,
    }  # fmt: skip


def dense_recording(rate: float, seconds: float, density: float, path: Path) -> tuple[int, float]:
    """A korea-west-sea recording with ``density`` times the flights, long enough to give
    ``rate`` frames a second for ``seconds`` at some speed; (frames, that speed)."""
    sc = load("korea-west-sea")
    routes = tuple(dataclasses.replace(r, per_hour=r.per_hour * density) for r in sc.routes)
    run = run_scenario(dataclasses.replace(sc, routes=routes), 1)
    frames = run.frames.sort_by("time")
    want = int(rate * seconds)
    if frames.num_rows < want:
        raise SystemExit(
            f"{frames.num_rows:,} frames give {rate:,.0f} frames/s for only "
            f"{frames.num_rows / rate:.0f} s: raise --density"
        )
    frames = frames.slice(frames.num_rows - want)  # (the last: the flights have all begun)
    t = frames.column("time").cast(pa.int64())
    span = (t[-1].as_py() - t[0].as_py()) / NS
    speed = rate * span / frames.num_rows
    write(frames, path)
    return frames.num_rows, speed


def stop(proc: subprocess.Popen[str], timeout_s: float = 60.0) -> bool:
    """SIGTERM, then SIGKILL after ``timeout_s``; whether it stopped by itself."""
    proc.terminate()
    try:
        proc.wait(timeout_s)
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return False


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_s(pid: int) -> float:
    """User and system CPU seconds of a running process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cached_recording(rate: float, seconds: float, density: float) -> tuple[Path, int, float]:
    """The load's recording, simulated once and kept in the temporary folder (the
    simulation takes longer than the run); (path, frames, speed)."""
    cache = Path(tempfile.gettempdir()) / "jamwatch-bench-watch"
    path = cache / f"dense-{rate:.0f}-{seconds:.0f}-{density:g}.beast"
    about = path.with_suffix(".json")
    if not about.exists():
        cache.mkdir(parents=True, exist_ok=True)
        n, speed = dense_recording(rate, seconds, density, path)
        about.write_text(json.dumps({"frames": n, "speed": speed}))
    known = json.loads(about.read_text())
    return path, int(known["frames"]), float(known["speed"])


def load_run(
    rate: float, seconds: float, density: float, folder: Path, max_reports: int | None
) -> dict[str, Any]:
    """The load part (see the module documentation)."""
    path, n, speed = cached_recording(rate, seconds, density)
    feed, http = free_port(), free_port()
    api = f"http://127.0.0.1:{http}"
    store = folder / "store"
    replay = jamwatch("replay", str(path), "--port", str(feed), "--speed", f"{speed:.3f}")
    options = ["--store", str(store)]
    if max_reports is not None:
        options += ["--max-reports", str(max_reports)]
    watch = jamwatch(
        "watch", "--beast", f"127.0.0.1:{feed}", "--http", f"127.0.0.1:{http}", *options
    )
    samples: list[tuple[float, float, float, float, float]] = []  # time, MB, lag, step, queue
    try:
        wait_for(api)
        began = time.monotonic()
        while replay.poll() is None:
            status = get(f"{api}/api/status") or {}
            samples.append(
                (time.monotonic() - began, rss_mb(watch.pid), status.get("lag_s", 0.0),
                 status.get("step_s", 0.0), status.get("queued_reports", 0))
            )  # fmt: skip
            time.sleep(1.0)
        sent_s = time.monotonic() - began
        deadline = time.monotonic() + 120
        status = {}
        caught_up = None
        while time.monotonic() < deadline:  # until every frame is stepped and detected
            status = get(f"{api}/api/status") or {}
            stepped = status.get("pending_frames") == 0 and status.get("frames") == n
            if stepped and status.get("queued_reports") == 0:
                caught_up = time.monotonic() - began - sent_s
                break
            time.sleep(0.5)
        watch_cpu = cpu_s(watch.pid)
    finally:
        stopped = stop(watch)
        replay.kill()
    from jamwatch.io.store import Store

    with Store.open(store, writable=False) as kept:
        stored = kept.rows
    t0 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-m", "jamwatch", "detect", str(path), "-o", str(folder / "ev.json")],
        check=True, capture_output=True,
    )  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    detect_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    third = max(len(samples) // 3, 1)
    return {
        "frames_sent": n, "frames_received": status.get("frames"), "speed": speed,
        "stored": stored,
        "seconds": sent_s, "rate": n / sent_s, "lag_max_s": max(s[2] for s in samples),
        "lag_median_s": statistics.median(s[2] for s in samples),
        "step_max_s": max(s[3] for s in samples),
        "queued_max": max(s[4] for s in samples), "caught_up_s": caught_up,
        "mb_first_third": max(s[1] for s in samples[:third]),
        "mb_last_third": max(s[1] for s in samples[-third:]),
        "watch_cpu_s": watch_cpu, "detect_cpu_s": detect_cpu,
        "detect_wall_s": time.perf_counter() - t0, "stopped": stopped,
    }  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=("latency", "load", "both"), default="both")
    ap.add_argument("--cases", nargs="+", default=list(CASES), help="SCENARIO:SEED")
    ap.add_argument("--speed", type=float, default=10.0, help="replay speed of the latency part")
    ap.add_argument("--rate", type=float, default=50_000.0, help="frames a second (load)")
    ap.add_argument("--seconds", type=float, default=120.0, help="how long the load lasts")
    ap.add_argument("--density", type=float, default=50.0, help="times korea's flights (load)")
    ap.add_argument("--max-reports", type=int, default=None, help="watch's (default: its own)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="jamwatch-bench-watch-") as tmp:
        folder = Path(tmp)
        if args.part in ("latency", "both"):
            rows = [latency(case, args.speed, folder) for case in args.cases]
            print(f"| recording | frames | alerts | onset alert after switch-on: wall s | "
                  f"recording s (x{args.speed:g}) |")  # fmt: skip
            print("|---|---:|---:|---:|---:|")
            for r in rows:
                wall = "none" if r["onset_wall_s"] is None else f"{r['onset_wall_s']:.1f}"
                rec = "none" if r["onset_recording_s"] is None else f"{r['onset_recording_s']:.0f}"
                print(f"| {r['case']} | {r['frames']:,} | {r['alerts']} | {wall} | {rec} |")
        if args.part in ("load", "both"):
            r = load_run(args.rate, args.seconds, args.density, folder, args.max_reports)
            print(
                f"load: {r['frames_sent']:,} frames sent in {r['seconds']:.0f} s "
                f"({r['rate']:,.0f} frames/s, speed {r['speed']:.1f}); received and stepped "
                f"{r['frames_received']:,}, stored {r['stored']:,}; lag median "
                f"{r['lag_median_s']:.2f} s, largest "
                f"{r['lag_max_s']:.2f} s; largest step {r['step_max_s']:.2f} s; at most "
                f"{r['queued_max']:,.0f} reports waiting for the detection, which caught up "
                + ("never" if r["caught_up_s"] is None else f"{r['caught_up_s']:.0f} s")
                + " after the last frame; peak memory "
                f"{r['mb_first_third']:.0f} MB in the first third, {r['mb_last_third']:.0f} MB "
                f"in the last; CPU {r['watch_cpu_s']:.1f} s against {r['detect_cpu_s']:.1f} s "
                f"for jamwatch detect on the same recording (ratio "
                f"{r['watch_cpu_s'] / r['detect_cpu_s']:.2f}); "
                + ("stopped on SIGTERM" if r["stopped"] else "killed: no stop within 60 s")
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
