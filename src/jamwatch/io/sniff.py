"""What an input file is, from a bounded head of its content: one check for everything
jamwatch reads.

:func:`sniff` reads at most ``HEAD_BYTES`` of the decompressed content (gzip, xz, bzip2 or
zstd; a Parquet file's footer for its column names) and tells, in this order:

- ``archive``: a tar archive (its members are judged one by one as they are read);
- ``events``: a ``jamwatch detect`` events list (:mod:`jamwatch.io.events`);
- ``gpsjam``: a gpsjam.org daily CSV (its name gives the day, its header the columns);
- ``decoded``: Parquet with the decoded columns (``jamwatch decode`` output);
- ``positions``: OpenSky state vectors, traffic tables or readsb traces;
- ``ais``: AIS sentences in NMEA 0183 (``!AIVDM``, with tag blocks or Gatehouse lines), or
  the DMA or MarineCadastre CSV exports;
- ``frames``: raw Mode S frames in one of :data:`jamwatch.io.FORMATS`.

When nothing fits, :class:`jamwatch.io.FormatError` names the file and everything tried.
The commands judge the files of a folder with it, and the readers are chosen by it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from jamwatch.io.ais_csv import ais_csv_format_of_head
from jamwatch.io.base import FormatError
from jamwatch.io.events import is_events_head
from jamwatch.io.gpsjam import is_gpsjam_head
from jamwatch.io.nmea import is_nmea_head
from jamwatch.io.opensky import parquet_columns_ok
from jamwatch.io.positions import (
    POSITION_FORMATS,
    PositionFormatError,
    position_format_of_head,
)
from jamwatch.io.readers import FORMATS, frame_format_of_head
from jamwatch.io.streams import HEAD_BYTES, PARQUET_MAGIC, read_head

KINDS = ("archive", "events", "gpsjam", "decoded", "positions", "ais", "frames")
#: where a tar header (POSIX or GNU) says what it is
TAR_MAGIC_AT = 257
#: the columns that make a Parquet file decoded reports
DECODED_NEEDS = frozenset({"time", "icao", "latitude"})


@dataclass(frozen=True, slots=True)
class Sniffed:
    """What a file is: its ``kind`` (one of :data:`KINDS`) and ``format`` within the kind
    (a frame format, a position format, or the kind again)."""

    kind: str
    format: str


def _tried(path: Path, why: str) -> FormatError:
    return FormatError(
        f"{path}: not an input jamwatch reads ({why}); tried a tar archive, an events list, "
        f"a gpsjam CSV, decoded Parquet, positions ({', '.join(POSITION_FORMATS)}), AIS (NMEA, DMA "
        f"or MarineCadastre CSV) and raw frames "
        f"({', '.join(FORMATS)})"
    )


def _parquet(path: Path) -> Sniffed:
    try:
        names = set(pq.read_schema(path).names)
    except (pa.ArrowException, OSError) as exc:
        raise FormatError(f"{path}: unreadable Parquet file ({exc})") from exc
    if names >= DECODED_NEEDS:
        return Sniffed("decoded", "decoded")
    try:
        return Sniffed("positions", position_format_of_head(PARQUET_MAGIC, path))
    except PositionFormatError:
        pass
    if parquet_columns_ok(str(path))[0]:
        return Sniffed("frames", "opensky-parquet")
    raise _tried(path, f"Parquet with the columns {', '.join(sorted(names))}")


def sniff(source: str | os.PathLike[str]) -> Sniffed:
    """What ``source`` is (see the module documentation). A missing path raises
    FileNotFoundError, a folder IsADirectoryError, a damaged compressed stream or content
    that nothing fits FormatError."""
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory, not a file")
    head = read_head(path)
    if not head:
        raise _tried(path, "empty file")
    if head[:4] == PARQUET_MAGIC:
        return _parquet(path)
    if head[TAR_MAGIC_AT : TAR_MAGIC_AT + 5] == b"ustar":
        return Sniffed("archive", "tar")
    if is_events_head(head):
        return Sniffed("events", "events")
    if is_gpsjam_head(path, head):
        return Sniffed("gpsjam", "gpsjam")
    try:
        return Sniffed("positions", position_format_of_head(head, path))
    except PositionFormatError:
        pass
    if is_nmea_head(head):
        return Sniffed("ais", "nmea")
    ais_csv = ais_csv_format_of_head(head)
    if ais_csv is not None:
        return Sniffed("ais", ais_csv)
    try:
        fmt = frame_format_of_head(head, str(path), complete=len(head) < HEAD_BYTES)
    except FormatError as exc:
        raise _tried(path, exc.why or str(exc)) from None
    return Sniffed("frames", fmt)


__all__ = ["DECODED_NEEDS", "KINDS", "Sniffed", "sniff"]
