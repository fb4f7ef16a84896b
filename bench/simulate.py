"""Simulator speed on one core: frames generated per second (goal: at least 1 M/s).

Three figures, all in this process:

- the DF17 encoder alone (``encode_matrix``: columns in, CRC-checked frames out), the anchor;
- the whole ``simulate`` stage (schedule and interpolation of the messages, radio model,
  reception, encoding, truth table) on the real Swiss traffic of 2018-08-01
  (../shared/data/trajectories/switzerland_2018-08-01.json.gz: 842 aircraft, 17 hours) with
  a 5 W jammer near Zurich and receivers at Zurich and Geneva; one run after a warm-up on a
  slice, as the CLI runs it (the first run of a process pays for fresh memory);
- the built-in ``korea-west-sea`` scenario end to end (``run_scenario``: generated traffic
  included).

Wall time and the process's CPU time are both printed: on a shared machine the wall time
also counts the time other processes held the core.
Run: ``taskset -c 0 .venv/bin/python bench/simulate.py``
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np

from jamwatch.simulate.encode import encode_matrix, frames_table
from jamwatch.simulate.radio import Transmitter
from jamwatch.simulate.run import simulate
from jamwatch.simulate.scenario import load, run_scenario
from jamwatch.simulate.traffic import Receiver, read_traffic_json

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "trajectories"
GOAL = 1e6


def timed(fn: Callable[[], int]) -> tuple[int, float, float]:
    """Frames made by ``fn``, wall seconds, CPU seconds of this process."""
    wall, cpu = time.perf_counter(), time.process_time()
    n = fn()
    return n, time.perf_counter() - wall, time.process_time() - cpu


def line(label: str, n: int, wall: float, cpu: float) -> float:
    rate = n / wall
    print(
        f"{label}: {n:,} frames in {wall:.2f} s = {rate / 1e6:.2f} M frames/s "
        f"(CPU {cpu:.2f} s = {n / cpu / 1e6:.2f} M frames/s)"
    )
    return rate


def main() -> None:
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    n = 2_000_000
    rng = np.random.default_rng(0)
    cols = dict(
        latitude=rng.uniform(-80, 80, n),
        longitude=rng.uniform(-180, 180, n),
        odd=rng.integers(0, 2, n),
        altitude_ft=rng.uniform(0, 40_000, n),
        nic=rng.integers(0, 12, n),
        nacp=rng.integers(0, 12, n),
        groundspeed_kt=rng.uniform(0, 600, n),
        track_deg=rng.uniform(0, 360, n),
        vertical_rate_fpm=rng.uniform(-3000, 3000, n),
        gnss_baro_diff_ft=rng.uniform(-500, 500, n),
        callsign="TEST123",
    )
    kind = rng.choice(5, n, p=[0.04, 0.4, 0.4, 0.1, 0.06])
    icao = rng.integers(0, 1 << 24, n)
    t0 = 1_700_000_000 * 10**9 + np.arange(n) * 1000
    runs = [
        timed(lambda: frames_table(encode_matrix(kind, icao, **cols), t0).num_rows)
        for _ in range(3)
    ]
    anchor = line("encoder alone (anchor, best of 3)", *min(runs, key=lambda r: r[1]))

    path = DATA / "switzerland_2018-08-01.json.gz"
    if not path.exists():
        print(f"{path} not found: skipping the whole-stage figure")
        return
    traj = read_traffic_json(path)
    tx = (Transmitter("zurich", 47.40, 8.65, eirp_w=5.0, height_m=20.0, ground_m=450.0),)
    rx = (Receiver("zurich", 47.46, 8.55, 500.0), Receiver("geneva", 46.24, 6.11, 450.0))
    simulate(traj.slice(0, 2000), tx, rx)  # warm-up: compiled code loaded from the cache
    whole = line(
        f"whole simulate stage, Swiss day ({traj.num_rows:,} trajectory points, 842 aircraft, "
        "1 jammer, 2 receivers)",
        *timed(lambda: simulate(traj, tx, rx, seed=1).frames.num_rows),
    )
    sc = load("korea-west-sea")
    run_scenario(sc, seed=0, chunks=1)  # warm-up
    line(
        "korea-west-sea scenario end to end (generated traffic, 2 jammers, 3 receivers)",
        *timed(lambda: run_scenario(sc, seed=1).frames.num_rows),
    )
    print(
        f"whole stage / encoder alone: {whole / anchor:.2f}; "
        f"whole stage / goal (1 M frames/s on one core): {whole / GOAL:.2f}"
    )


if __name__ == "__main__":
    main()
