"""Every input a user names, as batches of decoded reports: the one reading layer.

:func:`input_files` turns what was named (files, folders walked recursively, quoted glob
patterns) into the files to read, judged by content (:func:`jamwatch.io.sniff.sniff`).
:func:`read_reports` reads them one after the other as batches of clean decoded reports:

- decoded Parquet in whole row groups (a damaged row group is counted and skipped);
- position files (OpenSky state vectors, traffic tables, readsb traces) whole;
- raw frames decoded batch by batch by one decoder, so that each aircraft's state (CPR
  frames, NIC supplements, version) carries from one batch and one file to the next: the
  reports do not depend on the batch size;
- tar archives (plain or compressed as a whole, members compressed or not, archives within
  archives) member by member, in member order: each member is copied to a temporary folder
  while it is read, then removed; its name in counts and errors is ``archive:member``.

gpsjam daily files are not reports and are left to the map job. Gzip, xz, bzip2 and zstd are
read transparently everywhere. :class:`ReadSummary` counts the inputs by kind, the reports,
and every reject by source and reason.
"""

from __future__ import annotations

import glob
import os
import shutil
import tarfile
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from jamwatch.io.base import FormatError, ReadReport
from jamwatch.io.positions import PositionReport, clean_positions, read_positions
from jamwatch.io.readers import Starts, read_frames
from jamwatch.io.sniff import sniff
from jamwatch.io.streams import (
    DECOMPRESS_ERRORS,
    PARQUET_MAGIC,
    PART_NAME,
    first_part,
    open_stream,
    read_head,
)

if TYPE_CHECKING:
    from datetime import datetime

    from jamwatch.decoder import Decoder

#: rows per batch of decoded Parquet (whole row groups up to this many)
BATCH_ROWS = 2_000_000

#: frames per batch of a raw recording (the reports do not depend on it)
FRAME_BATCH_ROWS = 1_000_000

#: decoded columns the stages read (others, such as track or callsign, stay on disk)
REPORT_COLUMNS = (
    "time", "icao", "df", "tc", "latitude", "longitude", "altitude_baro_ft", "altitude_gnss_ft",
    "nic", "nacp", "groundspeed_kt", "on_ground",
)  # fmt: skip

#: decoded columns the detectors read besides those (spoofing: track, GNSS-baro difference;
#: the events: the DF18 control field)
DETECT_COLUMNS = (*REPORT_COLUMNS, "ca", "track_deg", "gnss_baro_diff_ft")

#: the kinds of file :func:`read_reports` reads
REPORT_KINDS = ("frames", "decoded", "positions", "archive")


@dataclass(slots=True)
class ReadSummary:
    """What was read: inputs by kind, reports, rejects by reason (all sources) and by source."""

    inputs: Counter[str] = field(default_factory=Counter)
    reports: int = 0
    rejects: Counter[str] = field(default_factory=Counter)
    #: rejects of each source (file, or ``archive:member``) by reason
    source_rejects: dict[str, Counter[str]] = field(default_factory=dict)
    #: what was read from each raw recording (format, frames, time span, clock, start)
    recordings: list[ReadReport] = field(default_factory=list)

    def reject(self, source: str, reason: str, count: int = 1) -> None:
        """Count ``count`` rejects of ``source`` for ``reason``."""
        if count:
            self.rejects[reason] += count
            self.source_rejects.setdefault(source, Counter())[reason] += count

    def add(self, other: ReadSummary) -> None:
        """Add the counts of ``other`` to these."""
        self.inputs.update(other.inputs)
        self.reports += other.reports
        self.rejects.update(other.rejects)
        for source, counts in other.source_rejects.items():
            self.source_rejects.setdefault(source, Counter()).update(counts)
        self.recordings += other.recordings


def is_gpsjam(path: Path) -> bool:
    """Whether ``path`` is a gpsjam.org daily CSV (:func:`jamwatch.io.sniff.sniff`)."""
    try:
        return sniff(path).kind == "gpsjam"
    except (FormatError, OSError):
        return False


def _globbed(paths: Sequence[Path]) -> list[Path]:
    """``paths`` with every glob pattern that names no file (``*``, ``?``, ``[...]``, ``**``
    for any depth) replaced by the paths it matches, in path order."""
    out: list[Path] = []
    for path in paths:
        text = str(path)
        if path.exists() or not any(ch in text for ch in "*?["):
            out.append(path)
            continue
        found = sorted(Path(p) for p in glob.glob(text, recursive=True))
        if not found:
            raise FileNotFoundError(f"no file matches {text}")
        out += found
    return out


def _walk(folder: Path) -> list[Path]:
    """The files under ``folder``, recursively, in path order, hidden ones left out (a name
    starting with ``.`` or ``_``, as Hadoop and Spark take them: a store's manifest)."""
    return sorted(
        f for f in folder.rglob("*")
        if f.is_file() and not any(p.startswith((".", "_")) for p in f.relative_to(folder).parts)
    )  # fmt: skip


def input_files(
    paths: Sequence[Path], accept: Callable[[Path], bool], strict: bool = True
) -> tuple[list[Path], list[str]]:
    """(files to read, files skipped) for ``paths``: glob patterns expanded, every folder
    replaced by the files under it that ``accept`` keeps, files named directly kept as they
    are. A pattern that matches nothing, a missing path (unless not ``strict``: then it is
    kept, for the reader to report) and a folder with no input raise FileNotFoundError."""
    out: list[Path] = []
    skipped: list[str] = []
    for path in _globbed(paths):
        if path.is_dir():
            walked = _walk(path)
            # a split tar is read from its first part; a later part without it is skipped
            firsts = [first_part(f) for f in walked]
            orphans = [f for f, h in zip(walked, firsts, strict=True) if h and not h.exists()]
            found = [f for f, h in zip(walked, firsts, strict=True) if h is None]
            keep = [accept(f) for f in found]
            kept = [f for f, k in zip(found, keep, strict=True) if k]
            if not kept:
                raise FileNotFoundError(
                    f"{path}: no input in this folder ({len(found)} files looked at, none of "
                    "them a recording, decoded table or positions file jamwatch reads)"
                )
            skipped += [
                str(f.relative_to(path.parent)) for f, k in zip(found, keep, strict=True) if not k
            ] + [str(f.relative_to(path.parent)) for f in orphans]
            out += kept
        elif (first := first_part(path)) is not None and path.is_file():
            if not first.is_file():
                raise FileNotFoundError(
                    f"{path} is a part of a split tar whose first part, {first.name}, is missing"
                )
            if first not in out:  # (the first part stands for the whole tar)
                out.append(first)
        elif path.is_file() and PART_NAME.match(path.name) and path in out:
            continue  # (a split tar's first part, already standing for its later parts)
        elif path.is_file() or not strict:
            out.append(path)
        else:
            raise FileNotFoundError(f"not a file or folder: {path}")
    return out, skipped


def _decoded_batches(
    path: Path, name: str, summary: ReadSummary, wanted: Sequence[str] = REPORT_COLUMNS,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[pa.Table]:  # fmt: skip
    """Decoded Parquet (our own columns) in whole row groups up to ``batch_rows``, not
    cleaned.

    A row group that cannot be read (a damaged file) is skipped and its rows counted; the
    others are kept.
    """
    pf = pq.ParquetFile(path, read_dictionary=["icao"])
    columns = [c for c in wanted if c in pf.schema_arrow.names]
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
                rows = meta.row_group(groups[0]).num_rows
                summary.reject(name, "unreadable Parquet row group", rows)

    groups: list[int] = []
    rows = 0
    for g in range(meta.num_row_groups):
        groups.append(g)
        rows += meta.row_group(g).num_rows
        if rows >= batch_rows or g == meta.num_row_groups - 1:
            yield from read(groups)
            groups, rows = [], 0


class _Reading:
    """The state of one :func:`report_sources` run: the summary, the one decoder, what to
    keep of each batch, the starts of recordings, and whether this run counts the inputs."""

    def __init__(
        self, summary: ReadSummary, select: Callable[[pa.Table], pa.Table] | None,
        starts: Starts | None, count: bool, batch_rows: int = FRAME_BATCH_ROWS,
        columns: Sequence[str] = REPORT_COLUMNS, parquet_rows: int = BATCH_ROWS,
    ) -> None:  # fmt: skip
        self.summary = summary
        self.select = select or (lambda t: t)
        self.starts = starts or {}
        self.count = count
        self.batch_rows = batch_rows
        self.parquet_rows = parquet_rows
        self.columns = columns
        self.decoder: Decoder | None = None
        #: the name of the file (or archive member) being read
        self.current = ""
        #: how many archives are open (the file read is a member when not 0)
        self.archives = 0

    def file(self, path: Path, name: str) -> Iterator[tuple[pa.Table, bool]]:
        """The batches of one file (``name`` is how counts and errors call it)."""
        self.current = name
        try:
            found = sniff(path)
        except FormatError as exc:
            if read_head(path, 4) != PARQUET_MAGIC:
                raise FormatError(str(exc).replace(str(path), name, 1), exc.why) from None
            if self.count:
                self.summary.inputs["decoded"] += 1
                self.summary.reject(name, "unreadable Parquet file")
            return
        summary, count = self.summary, self.count
        if found.kind == "gpsjam":  # (cells, not reports: the map job reads them itself)
            return
        if found.kind == "archive":
            yield from self.archive(path, name)
        elif found.kind == "decoded":
            summary.inputs["decoded"] += count
            into = summary if count else ReadSummary()
            for table in _decoded_batches(path, name, into, self.columns, self.parquet_rows):
                yield self.select(table), True
        elif found.kind == "positions":
            report = PositionReport(name)
            table = read_positions(path, fmt=found.format, report=report)
            summary.inputs[report.format] += count
            if count:
                for reason, n in report.rejects.items():
                    summary.reject(name, reason, n)
            yield self.select(table), False
        elif found.kind == "frames":
            yield from self.frames(path, name, found.format)
        elif found.kind == "ais":
            raise FormatError(
                f"{name}: AIS ({found.format}): ships are read by jamwatch decode, detect and "
                "map, not as aircraft reports"
            )
        else:
            raise FormatError(f"{name}: a {found.kind} file, not reports (decoded or raw)")

    def files(self, paths: Sequence[Path]) -> Iterator[tuple[pa.Table, bool]]:
        """The batches of every file of ``paths``, one after the other."""
        for path in paths:
            yield from self.file(path, str(path))

    def frames(self, path: Path, name: str, fmt: str) -> Iterator[tuple[pa.Table, bool]]:
        """A raw recording, decoded batch by batch by the run's one decoder."""
        from jamwatch.decoder import Decoder  # (imported only when needed)

        self.summary.inputs["raw"] += self.count
        self.decoder = self.decoder or Decoder()
        read = ReadReport(name)
        start = start_of(self.starts, name, path, self.archives > 0)
        for batch in read_frames(
            path, fmt=fmt, start=start, report=read, batch_rows=self.batch_rows
        ):
            yield self.select(self.decoder.decode(batch)), False
        if self.count:
            self.summary.recordings.append(read)
            for reason, n in read.rejects.items():
                self.summary.reject(name, reason, n)

    def archive(self, path: Path, name: str) -> Iterator[tuple[pa.Table, bool]]:
        """A tar archive, member by member (:func:`tar_members`). A damaged or truncated
        archive is counted; the members before the damage and the part of the damaged member
        that could be read are kept."""
        self.summary.inputs["archive"] += self.count
        try:
            for copy, member in tar_members(path, name):
                self.archives += 1
                try:
                    yield from self.member(copy, member)
                finally:
                    self.archives -= 1
        except DamagedArchiveError as exc:
            if self.count:
                self.summary.reject(name, exc.reason)

    def member(self, copy: Path, name: str) -> Iterator[tuple[pa.Table, bool]]:
        """One member of an archive; one that is not reports is counted and skipped."""
        try:
            kind = sniff(copy).kind
        except FormatError:
            kind = ""
        if kind in REPORT_KINDS:
            yield from self.file(copy, name)
        elif self.count:
            self.summary.reject(name, "archive member that is not reports")


class DamagedArchiveError(Exception):
    """A tar archive that could not be read to its end (raised after its last good member)."""

    def __init__(self, name: str, cause: BaseException) -> None:
        self.reason = f"damaged archive ({type(cause).__name__})"
        super().__init__(f"{name}: {self.reason}")


def tar_members(path: Path, name: str) -> Iterator[tuple[Path, str]]:
    """(a temporary copy, ``name:member``) of every regular file of the tar archive at
    ``path``, in archive order (hidden files left out). Each copy is removed once the next
    is asked for, so the disk needs room for the largest member only; member names cannot
    climb out of the temporary folder. A damaged or truncated archive gives the members
    before the damage and what could be read of the damaged one, then raises
    :class:`DamagedArchiveError`."""
    damage: BaseException | None = None
    with tempfile.TemporaryDirectory(prefix="jamwatch-tar-") as tmp:
        try:
            with open_stream(path) as raw, tarfile.open(fileobj=raw, mode="r|") as tar:
                for number, member in enumerate(tar):
                    base = Path(member.name).name
                    if not member.isfile() or base.startswith("."):
                        continue
                    copy = Path(tmp) / f"{number:06d}" / base  # (no name climbs out)
                    damage = _copy_member(tar, member, copy)
                    try:
                        yield copy, f"{name}:{member.name}"
                    finally:
                        shutil.rmtree(copy.parent)
                    if damage is not None:
                        break
        except (tarfile.TarError, *DECOMPRESS_ERRORS) as exc:
            damage = exc
    if damage is not None:
        raise DamagedArchiveError(name, damage)


def start_of(starts: Starts, name: str, path: Path, member: bool) -> datetime | None:
    """The start given for the recording ``name`` (read from ``path``): by its name, its
    path, or, for a ``member`` of an archive (``archive:member``), its name in the archive
    or its file name."""
    inner = name.rpartition(":")[2] if member else name
    keys = (name, str(path), inner, Path(inner).name)
    return next((starts[k] for k in keys if k in starts), None)


def _copy_member(tar: tarfile.TarFile, member: tarfile.TarInfo, copy: Path) -> BaseException | None:
    """Copy ``member`` to ``copy`` (with its modification time, from which a recording's
    start may be derived); the error that cut the copy short, if any."""
    copy.parent.mkdir()
    source = tar.extractfile(member)
    assert source is not None  # (a regular file)
    damage: BaseException | None = None
    with source, copy.open("wb") as out:
        try:
            shutil.copyfileobj(source, out, 64 << 10)  # (a cut loses at most one chunk)
        except (tarfile.TarError, *DECOMPRESS_ERRORS) as exc:
            damage = exc
    os.utime(copy, (member.mtime, member.mtime))
    return damage


def report_sources(
    paths: Sequence[Path], summary: ReadSummary, *,
    select: Callable[[pa.Table], pa.Table] | None = None, starts: Starts | None = None,
    count: bool = True,
) -> Iterator[tuple[pa.Table, bool]]:  # fmt: skip
    """(batch, whether it still needs :func:`clean_positions`) for every input but gpsjam files.

    Decoded Parquet comes uncleaned, so that the cleaning (which looks at one aircraft at a
    time) can run after ``select`` (the map job's split by aircraft); the other readers clean
    whole files. ``starts`` gives the UTC start of Beast and AVR recordings by path (or
    ``archive:member``; see :func:`jamwatch.io.read_frames`). Without ``count`` the inputs
    and rejects are not counted (another reader of the same inputs counts them).
    """
    yield from _Reading(summary, select, starts, count).files(paths)


def read_reports(
    paths: Sequence[Path], summary: ReadSummary | None = None, *,
    select: Callable[[pa.Table], pa.Table] | None = None, starts: Starts | None = None,
    batch_rows: int = FRAME_BATCH_ROWS, columns: Sequence[str] | None = None,
    parquet_rows: int = BATCH_ROWS,
) -> Iterator[pa.Table]:  # fmt: skip
    """Every input as batches of clean decoded reports, one input after the other (see the
    module documentation); ``summary`` counts what was read. ``batch_rows`` is the number of
    frames decoded at a time from a raw recording, ``parquet_rows`` the most rows of decoded
    Parquet read at a time (whole row groups). With ``columns``, every batch has only
    those of them it has (decoded Parquet reads only those); by default, decoded Parquet
    gives :data:`REPORT_COLUMNS` and the other inputs every column they have."""
    summary = summary if summary is not None else ReadSummary()
    reading = _Reading(
        summary, select, starts, True, batch_rows, columns or REPORT_COLUMNS, parquet_rows
    )
    for table, raw in reading.files(paths):
        if columns is not None:
            table = table.select([c for c in columns if c in table.column_names])
        if raw:
            report = PositionReport(reading.current, format="decoded")
            table = clean_positions(table, report)
            for reason, n in report.rejects.items():
                summary.reject(reading.current, reason, n)
        summary.reports += table.num_rows
        yield table


__all__ = [
    "BATCH_ROWS",
    "DETECT_COLUMNS",
    "REPORT_COLUMNS",
    "REPORT_KINDS",
    "DamagedArchiveError",
    "ReadSummary",
    "input_files",
    "is_gpsjam",
    "read_reports",
    "report_sources",
    "start_of",
    "tar_members",
]
