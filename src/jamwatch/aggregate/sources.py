"""The map job's inputs as batches of reports, and the shards of aircraft that split them.

:func:`sources` reads every input but the gpsjam files (decoded Parquet, position files, raw
recordings, told apart by content) as batches, keeping one :class:`Shard`'s aircraft;
:func:`report_batches` gives them cleaned. :class:`MapSummary` counts what was read.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from jamwatch.io import FormatError, ReadReport, Starts, read_frames
from jamwatch.io.positions import PositionReport, clean_positions, read_positions
from jamwatch.io.sniff import sniff
from jamwatch.io.streams import PARQUET_MAGIC, read_head
from jamwatch.reports import icao_codes

BATCH_ROWS = 2_000_000


@dataclass(slots=True)
class MapSummary:
    """What the job read: rows by input kind, rejects by reason, unlocated reports."""

    inputs: Counter[str] = field(default_factory=Counter)
    reports: int = 0
    rejects: Counter[str] = field(default_factory=Counter)
    unlocated: int = 0
    faulty_aircraft: int = 0
    #: CPU seconds of the job's processes (all their threads)
    cpu_s: float = 0.0
    #: maximum resident size in bytes of each process that read reports (one per worker)
    peak_rss: list[int] = field(default_factory=list)
    #: what was read from each raw recording (format, frames, time span, clock, start)
    recordings: list[ReadReport] = field(default_factory=list)

    def add(self, other: MapSummary) -> None:
        """Add the counts of ``other`` (a worker's) to these."""
        self.inputs.update(other.inputs)
        self.reports += other.reports
        self.rejects.update(other.rejects)
        self.unlocated += other.unlocated
        self.faulty_aircraft += other.faulty_aircraft
        self.cpu_s += other.cpu_s
        self.peak_rss += other.peak_rss
        self.recordings += other.recordings


def _shard_lut(names: pa.Array, count: int) -> npt.NDArray[np.int64]:
    """The shard of each address of ``names`` (``crc32(lower(icao)) % count``), then a 0 for
    the null code -1."""
    lut = np.fromiter(
        (zlib.crc32(str(x).lower().encode()) % count for x in names.to_pylist()),
        np.int64,
        len(names),
    )
    return np.append(lut, 0)


def shard_ids(table: pa.Table, count: int) -> npt.NDArray[np.int64]:
    """Per row, the shard of its aircraft: ``crc32(lower(icao)) % count`` (null: shard 0)."""
    if table.num_rows == 0:
        return np.zeros(0, np.int64)
    code, names = icao_codes(table)
    return np.asarray(_shard_lut(names, count)[code], np.int64)


@dataclass(frozen=True, slots=True)
class Shard:
    """The aircraft of worker ``index`` of ``count``: ``crc32(lower(icao)) % count == index``."""

    index: int = 0
    count: int = 1

    def select(self, table: pa.Table) -> pa.Table:
        """The rows of ``table`` whose aircraft belong to this shard (nulls go to shard 0)."""
        if self.count == 1 or table.num_rows == 0:
            return table
        return table.filter(pa.array(shard_ids(table, self.count) == self.index))

    def aircraft(self, names: pa.Array) -> npt.NDArray[np.bool_]:
        """Which of ``names`` belong to this shard, and (last entry) whether null does."""
        return np.asarray(_shard_lut(names, self.count) == self.index, np.bool_)


def is_gpsjam(path: Path) -> bool:
    """Whether ``path`` is a gpsjam.org daily CSV (``YYYY-MM-DD-h3_N.csv``), by its name."""
    return path.suffix == ".csv" and "-h3_" in path.name


#: decoded columns the map job reads (others, such as track or callsign, stay on disk)
MAP_COLUMNS = (
    "time", "icao", "df", "tc", "latitude", "longitude", "altitude_baro_ft", "altitude_gnss_ft",
    "nic", "nacp", "groundspeed_kt", "on_ground",
)  # fmt: skip


def _decoded_batches(path: Path, rejects: Counter[str]) -> Iterator[pa.Table]:
    """Decoded Parquet (our own columns) in whole row groups up to BATCH_ROWS, not cleaned.

    A row group that cannot be read (a damaged file) is skipped and its rows counted in
    ``rejects``; the others are kept.
    """
    pf = pq.ParquetFile(path, read_dictionary=["icao"])
    columns = [c for c in MAP_COLUMNS if c in pf.schema_arrow.names]
    meta = pf.metadata

    def read(groups: list[int]) -> Iterator[pa.Table]:
        # one thread: Arrow's column threads cost 40-80 % more CPU for the same decoding,
        # and the reading already overlaps the work on the previous batch
        try:
            yield pf.read_row_groups(groups, columns=columns, use_threads=False)
        except (pa.ArrowException, OSError):
            if len(groups) > 1:  # find the damaged group(s), keep the rest
                for g in groups:
                    yield from read([g])
            else:
                rejects["unreadable Parquet row group"] += meta.row_group(groups[0]).num_rows

    groups: list[int] = []
    rows = 0
    for g in range(meta.num_row_groups):
        groups.append(g)
        rows += meta.row_group(g).num_rows
        if rows >= BATCH_ROWS or g == meta.num_row_groups - 1:
            yield from read(groups)
            groups, rows = [], 0


def sources(
    paths: list[Path], summary: MapSummary, shard: Shard, starts: Starts | None = None
) -> Iterator[tuple[pa.Table, bool]]:
    """(batch, whether it still needs :func:`clean_positions`) for every non-gpsjam input.

    Decoded Parquet comes uncleaned, so that the cleaning (which looks at one aircraft at a
    time) runs after the split by aircraft; the other readers clean whole files. Other inputs
    than Parquet are read whole in every shard: their inputs and rejects count in shard 0.
    Raw recordings are decoded by one decoder, so an aircraft's state (CPR frames, NIC
    supplements, version) carries from one file to the next; ``starts`` gives the UTC start of
    Beast and AVR recordings by path (see :func:`jamwatch.io.read_frames`).
    """
    first = shard.index == 0
    decoder = None
    for path in paths:
        if is_gpsjam(path):
            continue
        try:
            found = sniff(path)
        except FormatError:
            if read_head(path, 4) != PARQUET_MAGIC:
                raise
            summary.rejects[f"unreadable Parquet file ({path.name})"] += first
            continue
        if found.kind == "decoded":
            summary.inputs["decoded"] += first
            rejects: Counter[str] = Counter()
            for table in _decoded_batches(path, rejects):
                yield shard.select(table), True
            if first:
                summary.rejects.update(rejects)
        elif found.kind == "positions":
            report = PositionReport(str(path))
            table = read_positions(path, fmt=found.format, report=report)
            summary.inputs[report.format] += first
            if first:
                summary.rejects.update(report.rejects)
            yield shard.select(table), False
        elif found.kind == "frames":
            from jamwatch.decoder import Decoder  # (imported only when needed)

            summary.inputs["raw"] += first
            decoder = decoder or Decoder()
            read = ReadReport(str(path))
            start = (starts or {}).get(str(path))
            for batch in read_frames(path, fmt=found.format, start=start, report=read):
                yield shard.select(decoder.decode(batch)), False
            if first:
                summary.recordings.append(read)
        else:
            raise FormatError(f"{path}: a {found.kind} file, not reports (decoded or raw)")


def report_batches(
    paths: list[Path], summary: MapSummary, shard: Shard | None = None,
    starts: Starts | None = None,
) -> Iterator[pa.Table]:
    """Every non-gpsjam input as batches of clean decoded reports (one source after the other).

    With a ``shard``, only its aircraft's reports (see :func:`sources`).
    """
    report = PositionReport("<decoded Parquet>", format="decoded")
    try:
        for table, raw in sources(paths, summary, shard or Shard(), starts):
            yield clean_positions(table, report) if raw else table
    finally:
        summary.rejects.update(report.rejects)
