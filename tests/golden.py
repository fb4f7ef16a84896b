"""Load the real recordings of ../shared/data/adsb as (hex, time) lists and raw-frame tables.

Deliberately plain Python (csv, json, datetime), independent of jamwatch's readers, so that a
reader bug cannot hide a decoder bug in the golden tests.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from jamwatch.schema import RAW_FRAMES


def pymodes_sample(path: Path) -> tuple[list[str], list[float]]:
    """junzis/pyModeS tests/data/sample_data_adsb.csv: `unix_ts,"hex",icao,typecode`."""
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    return [r[1] for r in rows], [float(r[0]) for r in rows]


def mixed_2015(path: Path) -> tuple[list[str], list[float]]:
    """junzis/pyModeS data.txt: `ISO8601-timestamp  HEX` per line (UTC)."""
    hexes, times = [], []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        stamp, msg = line.split()
        hexes.append(msg)
        times.append(datetime.fromisoformat(stamp).replace(tzinfo=UTC).timestamp())
    return hexes, times


def vectors(path: Path) -> tuple[list[str], list[float]]:
    """153 CRC-valid DF17/18 messages from the test sources of three decoders (no times)."""
    hexes = list(json.loads(path.read_text()))
    return hexes, [float(i) * 1000.0 for i in range(len(hexes))]  # far apart: no CPR pairs


def beast_sample(path: Path) -> tuple[list[str], list[float]]:
    """xoolive/traffic sample_dump1090.bin (Beast), read with jamwatch's Beast reader (itself
    checked against an independent parser in test_io_*); Mode A/C frames left out."""
    return mode_s_frames(path, datetime(2020, 1, 1, tzinfo=UTC))


def helsinki_file(path: Path) -> tuple[list[str], list[float]]:
    """One real Beast file of ../shared/data/helsinki (rwiren/adsb-research-grid, MIT), read
    with its start from files.csv beside it; Mode A/C frames left out."""
    return mode_s_frames(path, helsinki_starts(path.parent)[path.name])


def mode_s_frames(path: Path, start: datetime) -> tuple[list[str], list[float]]:
    """The Mode S frames of a recording as hex strings and unix seconds."""
    from jamwatch.io import read_frames

    hexes, times = [], []
    for batch in read_frames(path, start=start):
        ns = batch.column("time").cast(pa.int64()).to_pylist()
        for frame, t in zip(batch.column("frame").to_pylist(), ns, strict=True):
            if len(frame) in (7, 14):
                hexes.append(frame.hex().upper())
                times.append(t / 1e9)
    return hexes, times


def helsinki_starts(folder: Path) -> dict[str, datetime]:
    """files.csv of the Helsinki recordings: file name -> UTC start (from its local-time name)."""
    with (folder / "files.csv").open(newline="") as fh:
        return {
            r["file"]: datetime.fromisoformat(r["start_utc"].replace("Z", "+00:00"))
            for r in csv.DictReader(fh)
        }


def raw_table(hexes: list[str], times: list[float]) -> pa.Table:
    """A RAW_FRAMES table built by plain Python from hex strings and unix seconds."""
    return pa.table(
        {
            "time": pa.array([round(t * 1e6) * 1000 for t in times], pa.int64()).cast(
                RAW_FRAMES.field("time").type
            ),
            "frame": pa.array([bytes.fromhex(h) for h in hexes], pa.binary()),
            "signal": pa.nulls(len(hexes), pa.uint8()),
        },
        schema=RAW_FRAMES,
    )
