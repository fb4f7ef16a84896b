"""Map-job throughput (Parquet -> integrity signals -> H3 cells per window) against pandas + h3.

    python bench/aggregate.py                          # 100 M reports (written once, cached)
    python bench/aggregate.py --reports 10000000       # 10 M
    python bench/aggregate.py --workdir /data/jw-bench # keep the Parquet between runs

The data: synthetic ADS-B traffic on great-circle routes between real airports (the
airportsdata package, airports with an IATA code, routes of 300-5,000 km), one aircraft per
flight at a cruise ground speed of 400-500 kt with climb and descent at 2,000 ft/min, as a
network of receivers with partial coverage decodes it: 0.5-1.5 messages per second per
aircraft (about 45 % airborne positions, 45 % velocities, 5 % identifications, 5 % operational
status; the ADS-B spec sends positions and velocities at 2 Hz each, a receiver gets part of
them). Degraded reports: three
jamming areas at real hot spots (Kaliningrad, the eastern Mediterranean, the Black Sea coast),
350 km in radius, where NACp and NIC fall to 0 and 80 % of the position messages carry no
position (TC 0) while the other messages continue; 0.5 % of the aircraft have avionics that
always report NIC 0. Columns: the decoded names and types (``time``, ``icao``, ``df``, ``tc``,
``latitude``, ``longitude``, ``altitude_baro_ft``, ``nic``, ``nacp``, ``groundspeed_kt``,
``track_deg``), time-ordered, one Parquet file per UTC day (``day=YYYY-MM-DD/part.parquet``),
written once into ``--workdir/reports-N`` and reused.

Timed: :func:`jamwatch.aggregate.job.map_cells` over the day files with ``--workers`` worker
processes (default: every core), the whole map job from
Parquet to cells (read, clean, integrity signals with the per-aircraft counter, H3 cells,
per-(cell, window, aircraft) partials, merge, per-cell statistics). Not timed: writing the
page, GeoJSON and PNG (``write_map``).

The baseline, in the same run, on a 1 % slice (the first 1 % of the rows of each day, every
aircraft of that time, written to a temporary folder): plain pandas and h3 computing the same
good and bad aircraft per (H3 cell, UTC day) as the map job. pandas reads the slice (the rows
jamwatch's cleaning drops are dropped first, with jamwatch's ``clean_positions``), sorts by
aircraft and time, and a Python loop over each aircraft's rows runs the gpsjam / readsb counter
(rise, fall, cap 20, reset after 15 min, the 10 s window, bad at 17), carries the position
forward for 15 min, applies the faulty-avionics rule and calls ``h3.latlng_to_cell`` for each
new position; pandas then counts distinct good and bad aircraft per (cell, day). The map job is
run on the same slice and the two sets of counts must be equal (the run fails otherwise). The
baseline's rate (reading included) is scaled to the full size. Peak memory: the maximum
resident sizes (``resource.getrusage``) of each worker and of the process that feeds them,
added up (an upper bound: they need not peak at the same moment, and the batches they share in
/dev/shm count in each).
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

EARTH_KM = 6371.0
DAY_S = 86_400
SLAB_S = 900
START_S = 1_717_200_000 - 1_717_200_000 % DAY_S  # 2024-06-01 00:00 UTC
JAMMERS = ((54.71, 20.51), (34.60, 33.50), (44.60, 33.50))  # Kaliningrad, E. Med, Black Sea
JAM_RADIUS_KM = 350.0
SCHEMA = pa.schema(
    [
        pa.field("time", pa.timestamp("ns", tz="UTC")),
        pa.field("icao", pa.string()),
        pa.field("df", pa.uint8()),
        pa.field("tc", pa.uint8()),
        pa.field("latitude", pa.float64()),
        pa.field("longitude", pa.float64()),
        pa.field("altitude_baro_ft", pa.float64()),
        pa.field("nic", pa.uint8()),
        pa.field("nacp", pa.uint8()),
        pa.field("groundspeed_kt", pa.float64()),
        pa.field("track_deg", pa.float64()),
    ]
)
#: what the baseline reads: every column the counter and the cells need (not the track)
BASE_COLUMNS = SCHEMA.names[:10]


def default_root() -> Path:
    """The cache folder of the data when ``--workdir`` is not given (shared by the benchmarks)."""
    return Path(tempfile.gettempdir()) / "jamwatch-bench-aggregate"


def _unit(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


def _flights(n_reports: int, days: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Flights (route, times, rate, aircraft) until their expected reports reach n_reports."""
    import airportsdata

    airports = [a for a in airportsdata.load("IATA").values() if a["lat"] or a["lon"]]
    lat = np.array([a["lat"] for a in airports])
    lon = np.array([a["lon"] for a in airports])
    chunks: list[dict[str, np.ndarray]] = []
    expected = 0.0
    while expected < n_reports:
        k = 20_000
        a, b = rng.integers(0, len(lat), k), rng.integers(0, len(lat), k)
        ua, ub = _unit(lat[a], lon[a]), _unit(lat[b], lon[b])
        omega = np.arccos(np.clip(np.einsum("ij,ij->i", ua, ub), -1, 1))
        dist = omega * EARTH_KM
        keep = (dist > 300) & (dist < 5000)
        speed_kt = rng.uniform(400, 500, k)
        duration = dist / (speed_kt * 1.852) * 3600 + 20 * 60  # cruise + climb/descent
        rate = rng.uniform(0.5, 1.5, k)
        # (the same draws as uniform(0, span - duration); flights longer than the span,
        # dropped below, start at 0)
        depart = START_S + rng.random(k) * np.maximum(days * DAY_S - duration, 0)
        ok = keep & (depart >= START_S)
        part = {
            "ua": ua[ok], "ub": ub[ok], "omega": omega[ok], "speed_kt": speed_kt[ok],
            "duration": duration[ok], "rate": rate[ok], "depart": depart[ok],
        }  # fmt: skip
        need = n_reports - expected
        cum = np.cumsum(part["duration"] * part["rate"])
        take = int(np.searchsorted(cum, need)) + 1
        part = {key: v[:take] for key, v in part.items()}
        chunks.append(part)
        expected += float(cum[min(take, len(cum)) - 1])
    flights = {key: np.concatenate([c[key] for c in chunks]) for key in chunks[0]}
    n = len(flights["depart"])
    n_aircraft = max(1, n // 2)  # an airframe flies about two legs in the period
    codes = rng.choice(1 << 24, n_aircraft, replace=False)
    flights["aircraft"] = rng.integers(0, n_aircraft, n)
    flights["icao_code"] = codes
    flights["faulty"] = rng.random(n_aircraft) < 0.005
    # a flight's reports: the expected count, scaled so the total is exactly n_reports
    want = flights["duration"] * flights["rate"]
    counts = np.floor(want * n_reports / want.sum()).astype(np.int64)
    counts[: n_reports - counts.sum()] += 1
    flights["count"] = counts
    return flights


def _slab(flights: dict[str, np.ndarray], t0: float, rng: np.random.Generator) -> pa.Table:
    """The reports of every flight in [t0, t0 + SLAB_S), time-ordered."""
    dep, dur, cnt = flights["depart"], flights["duration"], flights["count"]
    lo = np.maximum(dep, t0)
    hi = np.minimum(dep + dur, t0 + SLAB_S)
    active = np.flatnonzero(hi > lo)
    share = (hi[active] - lo[active]) / dur[active] * cnt[active]
    n_rows = np.floor(share + rng.random(len(active))).astype(np.int64)
    f = np.repeat(active, n_rows)
    n = len(f)
    t = lo[f] + rng.random(n) * (hi[f] - lo[f])
    order = np.argsort(t, kind="stable")
    f, t = f[order], t[order]
    elapsed = t - dep[f]
    frac = np.clip(elapsed / dur[f], 0, 1)
    om = flights["omega"][f]
    sin_om = np.maximum(np.sin(om), 1e-12)
    wa = (np.sin((1 - frac) * om) / sin_om)[:, None]
    wb = (np.sin(frac * om) / sin_om)[:, None]
    p = wa * flights["ua"][f] + wb * flights["ub"][f]
    lat = np.degrees(np.arcsin(np.clip(p[:, 2] / np.linalg.norm(p, axis=1), -1, 1)))
    lon = np.degrees(np.arctan2(p[:, 1], p[:, 0]))
    # track: direction to the destination from here
    ahead = flights["ub"][f] - p
    north = np.stack([-np.sin(np.radians(lat)) * np.cos(np.radians(lon)),
                      -np.sin(np.radians(lat)) * np.sin(np.radians(lon)),
                      np.cos(np.radians(lat))], axis=1)  # fmt: skip
    east = np.stack([-np.sin(np.radians(lon)), np.cos(np.radians(lon)), np.zeros(n)], axis=1)
    track = np.degrees(np.arctan2((ahead * east).sum(1), (ahead * north).sum(1))) % 360
    remaining = dur[f] - elapsed
    alt = np.minimum(np.minimum(elapsed, remaining) / 60 * 2000, 35_000.0) + 500
    kind = rng.random(n)  # < .45 position, < .90 velocity, < .95 identification, else status
    is_pos, is_vel = kind < 0.45, (kind >= 0.45) & (kind < 0.90)
    tc = np.where(is_pos, 11, np.where(is_vel, 19, np.where(kind < 0.95, 4, 31))).astype(np.uint8)
    jammed = np.zeros(n, np.bool_)
    u = _unit(lat, lon)
    for jlat, jlon in JAMMERS:
        cosd = u @ _unit(np.array([jlat]), np.array([jlon]))[0]
        jammed |= np.arccos(np.clip(cosd, -1, 1)) * EARTH_KM < JAM_RADIUS_KM
    nacp = np.where(jammed, 0, np.where(rng.random(n) < 0.7, 9, 10)).astype(np.uint8)
    faulty = flights["faulty"][flights["aircraft"][f]]
    nic = np.where(jammed | faulty, 0, np.where(rng.random(n) < 0.8, 8, 7)).astype(np.uint8)
    no_pos = is_pos & jammed & (rng.random(n) < 0.8)
    tc[no_pos] = 0
    has_pos = is_pos & ~no_pos
    icao = np.char.mod("%06x", flights["icao_code"][flights["aircraft"][f]])
    gs = flights["speed_kt"][f] * np.minimum(1.0, 0.4 + np.minimum(elapsed, remaining) / 900)
    return pa.table(
        [
            pa.array((t * 1e9).astype(np.int64)).cast(SCHEMA.field("time").type),
            pa.array(icao.astype(object), pa.string()),
            pa.array(np.full(n, 17, np.uint8)),
            pa.array(tc),
            pa.array(lat, mask=~has_pos),
            pa.array(lon, mask=~has_pos),
            pa.array(alt, mask=~is_pos),
            pa.array(nic, mask=~has_pos),
            pa.array(nacp),
            pa.array(gs, mask=~is_vel),
            pa.array(track, mask=~is_vel),
        ],
        schema=SCHEMA,
    )


def build(root: Path, n_reports: int, days: int, seed: int = 7) -> list[Path]:
    """Write the reports once as one time-ordered Parquet file per UTC day; reuse if present."""
    folder = root / f"reports-{n_reports}-{days}d"
    done = folder / "DONE"
    files = sorted(folder.glob("day=*/part.parquet"))
    if done.exists() and files:
        return files
    shutil.rmtree(folder, ignore_errors=True)
    rng = np.random.default_rng(seed)
    t_build = time.perf_counter()
    flights = _flights(n_reports, days, rng)
    writers: dict[int, pq.ParquetWriter] = {}
    written = 0
    for t0 in range(START_S, START_S + days * DAY_S, SLAB_S):
        slab = _slab(flights, float(t0), rng)
        day = (t0 - START_S) // DAY_S
        if day not in writers:
            stamp = time.strftime("%Y-%m-%d", time.gmtime(START_S + day * DAY_S))
            path = folder / f"day={stamp}" / "part.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            writers[day] = pq.ParquetWriter(path, SCHEMA, compression="zstd")
        writers[day].write_table(slab, row_group_size=1 << 20)
        written += slab.num_rows
    for writer in writers.values():
        writer.close()
    done.write_text(f"{written}\n")
    print(
        f"built {written:,} reports of {len(flights['depart']):,} flights in "
        f"{time.perf_counter() - t_build:.0f} s into {folder}"
    )
    return sorted(folder.glob("day=*/part.parquet"))


def write_slice(files: list[Path], share: float, folder: Path) -> list[Path]:
    """The first ``share`` of each day file's rows (every aircraft of that time), as Parquet."""
    out = []
    for path in files:
        pf = pq.ParquetFile(path)
        want = max(1, int(pf.metadata.num_rows * share))
        part = pa.Table.from_batches([next(pf.iter_batches(batch_size=want))])
        target = folder / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(part, target, compression="zstd", row_group_size=1 << 20)
        out.append(target)
    return out


def _aircraft(rows: Any, cfg: Any) -> tuple[list[tuple[str, int, bool]], bool]:
    """The gpsjam / readsb counter over one aircraft's time-ordered rows, one row at a time.

    Returns the (cell, day, bad) of every located report, and whether the aircraft's avionics
    are faulty (always NIC 0 or always NACp 0). Nulls arrive from pandas as NaN.
    """
    import h3

    fresh, stale = cfg.fresh_s * 1e9, cfg.stale_s * 1e9
    counter, rel_t, pos_t = 0, None, None
    air, gs = -1, math.nan
    lat_last = lon_last = math.nan
    cell = ""
    n_nic = n_nic0 = n_nacp = n_nacp0 = 0
    t_first = t_last = None
    out: list[tuple[str, int, bool]] = []
    for t, df, tc, lat, lon, alt, nic, nacp, speed in rows:
        if not math.isnan(speed):
            gs = speed
        if 5 <= tc <= 8:
            air = 0
        elif 9 <= tc <= 18 or 20 <= tc <= 22 or not math.isnan(alt):
            air = 1
        eligible = df == 17
        nic_known, nacp_known = not math.isnan(nic), not math.isnan(nacp)
        if eligible:
            if nic_known or nacp_known:
                t_first = t if t_first is None else min(t_first, t)
                t_last = t if t_last is None else max(t_last, t)
            if nic_known:
                n_nic += 1
                n_nic0 += nic == 0
            if nacp_known:
                n_nacp += 1
                n_nacp0 += nacp == 0
            if not (math.isnan(lat) or math.isnan(lon)):
                pos_t = t
                if lat != lat_last or lon != lon_last:
                    lat_last, lon_last = lat, lon
                    cell = h3.latlng_to_cell(lat, lon, 4)
                if not nacp_known or nacp >= cfg.reliable_min_nacp:
                    rel_t = t
        age = math.inf if rel_t is None else t - rel_t
        if age > stale:
            counter = 0
        if eligible:
            degraded = tc == 0 or (nacp_known and nacp <= cfg.rise_max_nacp)
            if degraded and gs > cfg.min_groundspeed_kt and air == 1 and fresh < age <= stale:
                counter = min(counter + 1, cfg.counter_cap)
            elif nacp_known and nacp >= cfg.fall_min_nacp and age <= fresh:
                counter = max(counter - 1, 0)
        if pos_t is not None and t - pos_t <= stale:
            out.append((cell, t // (DAY_S * 10**9), counter >= cfg.bad_threshold))
    m, span = cfg.fault_min_reports, cfg.fault_min_span_s * 1e9
    spread = t_first is not None and t_last - t_first >= span
    faulty = spread and ((n_nic >= m and n_nic0 == n_nic) or (n_nacp >= m and n_nacp0 == n_nacp))
    return out, bool(faulty)


def baseline(files: list[Path]) -> tuple[int, float, dict[tuple[str, int], tuple[int, int]]]:
    """Plain pandas + h3, one report at a time: the same good/bad counts as the map job.

    pandas reads the Parquet (the rows jamwatch's cleaning drops are dropped first, with
    :func:`jamwatch.io.positions.clean_positions`), sorts by aircraft and time and groups by
    aircraft; a Python loop over each aircraft's rows runs the gpsjam / readsb counter (rise,
    fall, cap, reset, the 10 s and 15 min windows, the thresholds of
    :class:`jamwatch.signals.IntegrityConfig`), carries the last position forward (15 min) and
    calls ``h3.latlng_to_cell`` for each new position; pandas then counts distinct good and bad
    aircraft per (cell, UTC day), leaving out aircraft with faulty avionics.

    Returns (rows, seconds, {(hex, day): (good, bad)}).
    """
    import pandas as pd  # type: ignore[import-untyped]

    from jamwatch.io.positions import clean_positions
    from jamwatch.signals import IntegrityConfig

    cfg = IntegrityConfig()
    t0 = time.perf_counter()
    frames = [
        clean_positions(pq.read_table(path, columns=BASE_COLUMNS)).to_pandas() for path in files
    ]
    df = pd.concat(frames, ignore_index=True)
    df["t"] = df["time"].astype("int64")
    df = df.sort_values(["icao", "t"], kind="stable")
    names = ["df", "tc", "latitude", "longitude", "altitude_baro_ft", "nic", "nacp"]
    columns = [df["t"].tolist()] + [df[c].astype("float64").tolist() for c in names]
    columns.append(df["groundspeed_kt"].astype("float64").tolist())
    sizes = df.groupby("icao", sort=False).size()
    records: list[tuple[str, int, str, bool]] = []
    start = 0
    for icao, size in sizes.items():
        rows = zip(*(c[start : start + size] for c in columns), strict=True)
        located, faulty = _aircraft(rows, cfg)
        if not faulty:
            records.extend((cell, day, icao, bad) for cell, day, bad in located)
        start += size
    per = pd.DataFrame(records, columns=["cell", "day", "icao", "bad"])
    per = per.groupby(["cell", "day", "icao"])["bad"].any().reset_index()
    counts = per.groupby(["cell", "day"])["bad"].agg(["sum", "count"])
    seconds = time.perf_counter() - t0
    result = {
        (str(cell), int(day)): (int(n - bad), int(bad))
        for (cell, day), bad, n in zip(counts.index, counts["sum"], counts["count"], strict=True)
    }
    return len(df), seconds, result


def peak_gb() -> float:
    """Maximum resident size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def job_counts(cells: pa.Table) -> dict[tuple[str, int], tuple[int, int]]:
    """{(hex, day): (good, bad)} of the map job's cells, keyed as the baseline's."""
    day_ns = DAY_S * 10**9
    starts = cells.column("window_start").cast(pa.int64()).to_pylist()
    return {
        (h, s // day_ns): (g, b)
        for h, s, g, b in zip(
            cells.column("hex").to_pylist(),
            starts,
            cells.column("count_good_aircraft").to_pylist(),
            cells.column("count_bad_aircraft").to_pylist(),
            strict=True,
        )
    }


def data_parser(doc: str) -> argparse.ArgumentParser:
    """The options of the data (size, days, cache folder), shared with bench/detect.py."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=100_000_000)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=None, help="cache folder for the data")
    return parser


def data_files(args: argparse.Namespace) -> tuple[Path, list[Path]]:
    """The cache folder and the day files of ``args`` (:func:`data_parser`), built once and
    cached; says where."""
    root = args.workdir or default_root()
    root.mkdir(parents=True, exist_ok=True)
    files = build(root, args.reports, args.days)
    size_gb = sum(f.stat().st_size for f in files) / 1e9
    print(f"data: {len(files)} day files, {size_gb:.2f} GB Parquet in {files[0].parent.parent}")
    return root, files


def main() -> None:
    parser = data_parser(__doc__)
    parser.add_argument("--baseline-share", type=float, default=0.01)
    parser.add_argument("--workers", type=int, default=None, help="map job workers (all cores)")
    args = parser.parse_args()
    root, files = data_files(args)

    from jamwatch.aggregate.job import map_cells

    workers = args.workers or os.cpu_count() or 1
    t0 = time.perf_counter()
    result = map_cells(list(files), workers=workers)
    seconds = time.perf_counter() - t0
    cpu = result.summary.cpu_s  # the workers' own CPU time (all their threads)
    reports = result.summary.reports
    rate = reports / seconds
    levels = result.cells.column("level").to_pylist()
    peaks = [p / 2**30 for p in result.summary.peak_rss]  # each worker's, then this process's
    peak = sum(peaks)

    with tempfile.TemporaryDirectory(dir=root) as tmp:
        sliced = write_slice(files, args.baseline_share, Path(tmp))
        b_rows, b_seconds, b_counts = baseline(sliced)
        same_slice = job_counts(map_cells(list(sliced), workers=workers).cells)
    b_rate = b_rows / b_seconds
    # a cell that only aircraft with faulty avionics visited is a row (0 good, 0 bad) in the
    # job's output and absent from the baseline's
    none = (0, 0)
    keys = b_counts.keys() | same_slice
    differ = sum(b_counts.get(k, none) != same_slice.get(k, none) for k in keys)
    with_bad = sum(bad > 0 for _, bad in b_counts.values())

    load = os.getloadavg()[0]
    print()
    print("| what | reports | seconds | reports/s | note |")
    print("|---|---:|---:|---:|---|")
    print(
        f"| jamwatch map job, Parquet to cells, {workers} workers | {reports:,} | {seconds:.1f} | "
        f"{rate / 1e6:.2f} M | {result.cells.num_rows:,} cell-days ({levels.count('red'):,} red), "
        f"{result.partials.num_rows:,} partials, CPU {cpu:.0f} s ({cpu / seconds:.2f} cores, "
        f"{cpu / reports * 1e6:.2f} us/report) |"
    )
    print(
        f"| pandas + h3, counter per aircraft in Python ({args.baseline_share:.0%} slice) | "
        f"{b_rows:,} | {b_seconds:.1f} | {b_rate / 1e6:.3f} M | {len(b_counts):,} cell-days; "
        f"full size would take {reports / b_rate / 60:.0f} min |"
    )
    print()
    print(
        f"baseline vs map job on the same slice: {len(b_counts):,} and {len(same_slice):,} "
        f"cell-days ({with_bad:,} with bad aircraft), {differ} with different good/bad counts"
    )
    print(f"ratio jamwatch / baseline: {rate / b_rate:.1f} x")
    print(
        f"peak memory of the map job: {peak:.2f} GB at most (sum of the max RSS of its "
        f"processes: {' + '.join(f'{p:.2f}' for p in peaks)} GB)"
    )
    print(f"machine: {os.cpu_count()} cores, load average at the end {load:.1f}")
    print("not timed: writing index.html, cells.parquet/.geojson, the gpsjam CSVs and map.png")
    goals = [
        ("2 M reports/s", rate >= 2e6),
        ("20 x the baseline", rate / b_rate >= 20),
        ("peak memory < 4 GB", peak < 4),
    ]
    print("goals: " + ", ".join(f"{g} {'met' if ok else 'NOT met'}" for g, ok in goals))
    if differ:
        raise SystemExit(f"the baseline and the map job disagree on {differ} cell-days")


if __name__ == "__main__":
    main()
