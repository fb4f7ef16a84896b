"""The shards of aircraft that split the map job, and its inputs as one shard's batches.

:func:`sources` reads every input but the gpsjam files (:mod:`jamwatch.io.inputs`), keeping
one :class:`Shard`'s aircraft. :class:`MapSummary` counts what was read and what it cost.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from jamwatch.io import Starts
from jamwatch.io.inputs import ReadSummary, report_sources
from jamwatch.reports import icao_codes


@dataclass(slots=True)
class MapSummary(ReadSummary):
    """What the job read (:class:`jamwatch.io.inputs.ReadSummary`), unlocated reports,
    aircraft with faulty avionics, and what the job cost."""

    unlocated: int = 0
    faulty_aircraft: int = 0
    #: CPU seconds of the job's processes (all their threads)
    cpu_s: float = 0.0
    #: maximum resident size in bytes of each process that read reports (one per worker)
    peak_rss: list[int] = field(default_factory=list)

    def add(self, other: ReadSummary) -> None:
        """Add the counts of ``other`` (a worker's) to these."""
        ReadSummary.add(self, other)
        if isinstance(other, MapSummary):
            self.unlocated += other.unlocated
            self.faulty_aircraft += other.faulty_aircraft
            self.cpu_s += other.cpu_s
            self.peak_rss += other.peak_rss


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


def sources(
    paths: list[Path], summary: MapSummary, shard: Shard, starts: Starts | None = None
) -> Iterator[tuple[pa.Table, bool]]:
    """(batch, whether it still needs cleaning) for every non-gpsjam input, keeping one
    shard's aircraft (:func:`jamwatch.io.inputs.report_sources`). Every shard reads every
    input; shard 0 counts the inputs and their rejects."""
    return report_sources(
        paths, summary, select=shard.select, starts=starts, count=shard.index == 0
    )
