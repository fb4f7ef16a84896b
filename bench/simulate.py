"""Simulator speed on one core: frames generated per second (goal: at least 1 M/s).

Two figures: the DF17 encoder alone (columns in, CRC-checked frames out) and the whole
``simulate`` stage (schedule, interpolation, radio model, reception, encoding, truth) on the
real Swiss traffic of 2018-08-01 (../shared/data/trajectories, 842 aircraft, 17 hours).
Run: ``.venv/bin/python bench/simulate.py``
"""

from __future__ import annotations

import os
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np

from jamwatch.simulate.encode import encode_matrix, frames_table
from jamwatch.simulate.radio import Transmitter
from jamwatch.simulate.run import simulate
from jamwatch.simulate.traffic import Receiver, read_traffic_json

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "trajectories"


def best_of(fn: object, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
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
    sec = best_of(lambda: frames_table(encode_matrix(kind, icao, **cols), t0))
    print(f"encoder alone: {n:,} frames in {sec:.2f} s = {n / sec / 1e6:.2f} M frames/s")

    path = DATA / "switzerland_2018-08-01.json.gz"
    if not path.exists():
        print(f"{path} not found: skipping the whole-stage figure")
        return
    traj = read_traffic_json(path)
    tx = (Transmitter("zurich", 47.40, 8.65, eirp_w=5.0, height_m=20.0, ground_m=450.0),)
    rx = (Receiver("zurich", 47.46, 8.55, 500.0), Receiver("geneva", 46.24, 6.11, 450.0))
    simulate(traj.slice(0, 2000), tx, rx)  # warm-up
    t = time.perf_counter()
    sim = simulate(traj, tx, rx, seed=1)
    sec = time.perf_counter() - t
    m = sim.frames.num_rows
    print(
        f"whole simulate stage (Swiss day, {traj.num_rows:,} trajectory points, 1 jammer, "
        f"2 receivers): {m:,} frames in {sec:.2f} s = {m / sec / 1e6:.2f} M frames/s"
    )
    print("goal: >= 1 M frames/s on one core")


if __name__ == "__main__":
    main()
