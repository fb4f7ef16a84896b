"""Reading an adsb.lol-layout day into the store, against a plain gzip + json + pandas reader.

    python bench/archive.py                      # 6,000 traces (about a tenth of a day)
    python bench/archive.py --traces 60000       # a realistic day: 60,000 traces
    python bench/archive.py --workdir /data/jw   # keep the archive between runs

The archive: ``--traces`` readsb ``trace_full`` files in adsb.lol's published layout (one tar
of ``./traces/XX/trace_full_<icao>.json`` members, gzip-compressed, split into 1 GB
``.tar.aa``, ``.tar.ab``, ... parts), written once into ``--workdir`` and reused. Each trace
is one aircraft's day: 100 to 4,000 points (log-uniform, about 1,300 on average: a real day
of adsb.lol holds some 60,000 traces and tens of millions of points), a flight of points
every 2-16 s along a random great circle at 420-480 kt and FL300-390, with a state object
(``nic``, ``nac_p``, ``sil``, ``version``, ``flight`` and the other aircraft.json fields
readsb writes) on every fourth point, as in the real trace of ``../shared/data/traces``.

Timed, in the same run:

- ``jamwatch ingest`` of the parts into a new store (the whole command in-process: read the
  split tar as one stream, parse the traces in ``--workers`` processes, write Parquet by
  day and hour, merge the hours, the manifest), and the same with one worker;
- the baseline: Python's ``tarfile`` over the same parts (concatenated through a pipe-like
  reader, as jamwatch reads them), ``gzip.decompress`` + ``json.loads`` per member, a pandas
  DataFrame per trace with the same columns (time, position, altitude or ground, speeds,
  source type) and the state fields carried forward (``Series.ffill``), concatenated and
  written to one Parquet file. Run on the first ``--baseline-share`` of the members (5 % by
  default) and scaled to the whole archive.

Reported: points per second of each, the ratio (goal: jamwatch at least 10 times the
baseline) and the time a full real day would take at jamwatch's rate (goal: under 10
minutes on this project's 2-core machine).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import math
import os
import resource
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

PART_BYTES = 1 << 30
STATE = {"type": "adsb_icao", "alt_geom": 33825, "ias": 279, "tas": 460, "mach": 0.772,
         "squawk": "4637", "emergency": "none", "nav_qnh": 1013.6, "nic": 8, "rc": 186,
         "version": 2, "nic_baro": 1, "nac_p": 10, "nac_v": 2, "sil": 3, "sil_type": "perhour",
         "gva": 2, "sda": 2, "alert": 0, "spi": 0}  # fmt: skip
DAY = 1_767_657_600.0  # 2026-01-06T00:00:00Z


def _trace(rng: np.random.Generator, icao: int) -> bytes:
    n = int(math.exp(rng.uniform(math.log(100), math.log(4000))))
    dt = np.cumsum(rng.uniform(2.0, 16.0, n))
    lat0, lon0 = rng.uniform(-60, 70), rng.uniform(-180, 180)
    heading = math.radians(rng.uniform(0, 360))
    speed = rng.uniform(420, 480) / 3600 / 60  # degrees of latitude per second
    lat = np.clip(lat0 + speed * dt * math.cos(heading), -89.0, 89.0)
    east = speed * dt * math.sin(heading) / max(math.cos(math.radians(lat0)), 0.2)
    lon = (lon0 + east + 180) % 360 - 180
    alt = int(rng.integers(30, 40)) * 1000
    flight = f"BEN{icao % 10000:04d}"
    points = []
    for k in range(n):
        state = {**STATE, "flight": flight, "nac_p": 10 if k % 97 else 8} if k % 4 == 0 else None
        where = [round(float(dt[k]), 2), round(float(lat[k]), 6), round(float(lon[k]), 6)]
        points.append([*where, alt, 455.2, 87.3, 0, 0, state, "adsb_icao", alt + 1825, 0, 280, 0.0])
    doc = {"icao": f"{icao:06x}", "timestamp": DAY + float(rng.uniform(0, 20000)), "trace": points}
    return gzip.compress(orjson.dumps(doc), 6, mtime=0)


def build(folder: Path, traces: int, seed: int = 1) -> list[Path]:
    """The archive's parts in ``folder`` (written once)."""
    stem = folder / f"v2026.01.06-planes-readsb-bench-{traces}.tar"
    parts = sorted(folder.glob(stem.name + ".a?"))
    if parts:
        return parts
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    whole = folder / (stem.name + ".whole")
    with tarfile.open(whole, "w") as tar:
        for k in range(traces):
            icao = 0x100000 + k * 7
            raw = _trace(rng, icao)
            info = tarfile.TarInfo(f"./traces/{icao % 256:02x}/trace_full_{icao:06x}.json")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
            if k % 1000 == 0:
                print(f"  building: {k:,} of {traces:,} traces", file=sys.stderr)
    with open(whole, "rb") as f:
        k = 0
        while chunk := f.read(PART_BYTES):
            (folder / f"{stem.name}.a{chr(97 + k)}").write_bytes(chunk)
            k += 1
    whole.unlink()
    return sorted(folder.glob(stem.name + ".a?"))


def baseline(parts: list[Path], share: float, total: int, out: Path) -> tuple[int, float, int]:
    """(points, seconds, members) of the plain reader over the first ``share`` of members."""
    from jamwatch.io.streams import JoinedFiles

    began = time.perf_counter()
    frames, members, points = [], 0, 0
    limit = max(1, int(total * share))
    columns = ["dt", "lat", "lon", "alt", "gs", "track", "flags", "vrate", "state", "type"]
    with tarfile.open(fileobj=io.BufferedReader(JoinedFiles(parts)), mode="r|") as tar:
        for member in tar:
            if not member.isfile():
                continue
            doc = json.loads(gzip.decompress(tar.extractfile(member).read()))  # type: ignore[union-attr]
            df = pd.DataFrame([p[:10] for p in doc["trace"]], columns=columns)
            df["time"] = pd.to_datetime(doc["timestamp"] + df["dt"], unit="s", utc=True)
            df["icao"] = doc["icao"]
            df["ground"] = df["alt"] == "ground"
            df["alt"] = pd.to_numeric(df["alt"], errors="coerce")
            for key in ("nic", "nac_p", "sil", "version", "flight"):
                field = df["state"].map(lambda s, k=key: s.get(k) if isinstance(s, dict) else None)
                df[key] = field.ffill()
            frames.append(df.drop(columns=["state", "dt"]))
            members += 1
            points += len(df)
            if members >= limit:
                break
    pd.concat(frames).to_parquet(out)
    return points, time.perf_counter() - began, members


def ingest(parts: list[Path], store: Path, workers: int) -> tuple[int, float]:
    from typer.testing import CliRunner

    from jamwatch.cli import app
    from jamwatch.io.store import Store

    began = time.perf_counter()
    result = CliRunner().invoke(app, ["ingest", *map(str, parts), "--store", str(store),
                                      "--workers", str(workers)])  # fmt: skip
    seconds = time.perf_counter() - began
    if result.exit_code != 0:
        raise SystemExit(result.output)
    return Store.open(store, writable=False).rows, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--traces", type=int, default=6000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--baseline-share", type=float, default=0.05)
    work = Path(tempfile.gettempdir()) / "jamwatch-bench-archive"
    parser.add_argument("--workdir", type=Path, default=work)
    args = parser.parse_args()
    parts = build(args.workdir, args.traces)
    size = sum(p.stat().st_size for p in parts)
    print(f"archive: {args.traces:,} traces in {len(parts)} part(s), {size / 1e6:,.0f} MB")
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        rows, seconds = ingest(parts, Path(tmp) / "store", args.workers)
        rows1, seconds1 = ingest(parts, Path(tmp) / "store1", 1)
        out = Path(tmp) / "baseline.parquet"
        points, base_s, members = baseline(parts, args.baseline_share, args.traces, out)
    assert rows == rows1
    rate, rate1 = rows / seconds, rows1 / seconds1
    base_rate = points / base_s
    w = args.workers
    print(f"jamwatch ingest, {w} workers: {rows:,} points, {seconds:.1f} s, {rate:,.0f} points/s")
    print(f"jamwatch ingest, 1 worker: {rows1:,} points, {seconds1:.1f} s, {rate1:,.0f} points/s")
    print(
        f"baseline (gzip + json + pandas, {members:,} traces): {points:,} points, "
        f"{base_s:.1f} s, {base_rate:,.0f} points/s"
    )
    print(
        f"ratio: {rate / base_rate:.1f} x ({w} workers), {rate1 / base_rate:.1f} x (1 worker); "
        "goal 10 x"
    )
    day = 60_000 * rows / args.traces
    print(
        f"a real day (60,000 traces, {day / 1e6:.0f} M points at this mix): "
        f"{day / rate / 60:.1f} min at this rate; goal < 10 min"
    )
    usage = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = sum(u.ru_maxrss for u in usage) / 1024
    print(f"peak resident memory (this process + the largest worker): {peak:,.0f} MB")

if __name__ == "__main__":
    main()
