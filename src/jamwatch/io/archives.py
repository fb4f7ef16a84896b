"""Open ADS-B archives as decoded reports, streaming: adsb.lol's daily ``globe_history`` tars,
readsb ``globe_history`` folders, loose ``trace_full`` files and ``readsb-hist`` snapshots.

Sources (:func:`archive_sources` groups the paths given):

- an adsb.lol daily release: one tar (``v2024.09.09-planes-readsb-prod-0.tar``) or its parts
  (``....tar.aa``, ``....tar.ab``, ...; given as the parts or as their folder), read as one
  stream in the parts' order, never unpacked to disk. Its ``trace_full_<icao>.json`` members
  (``./traces/XX/``; gzip-compressed whatever the name says) are taken; every other member
  (``acas/``, ``heatmap/``, ...) is counted and skipped;
- a readsb ``globe_history`` folder, or any folder holding ``trace_full_*.json`` files (a
  ``traces/`` tree unpacked); a single trace file;
- a ``readsb-hist`` folder: ``aircraft.json`` snapshots (gzip or not) every few seconds, as
  ADS-B Exchange's historical samples are laid out, read in the order of their names
  (:mod:`jamwatch.io.aircraft_json`).

Traces are parsed in parallel (:func:`jamwatch.io.traces.trace_points` and
:func:`~jamwatch.io.traces.reports_of` in ``workers`` worker processes, which also put each
chunk's reports in hour order for the store), chunk by chunk, so memory holds a few chunks,
not the day. A member
that is not a trace (broken gzip, not JSON) is counted by reason and skipped.
"""

from __future__ import annotations

import io
import os
import re
import tarfile
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pyarrow as pa

from jamwatch.io.store import by_hour
from jamwatch.io.streams import PART_NAME, JoinedFiles
from jamwatch.io.traces import GZIP_MAGIC, TraceError, reports_of, trace_points

TRACE_NAME = re.compile(r"trace_full_~?[0-9a-fA-F]{6}\.json$")
#: traces handed to a worker at a time, and chunks in flight per worker
CHUNK = 256
IN_FLIGHT = 3


@dataclass(slots=True)
class ArchiveSummary:
    """What was read: traces and points, snapshots, members skipped and failures by reason."""

    traces: int = 0
    snapshots: int = 0
    reports: int = 0
    skipped: int = 0
    failures: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class Source:
    """One archive source: its kind (``tar``, ``traces``, ``hist``), its files in reading
    order, and a key that names its content (the files with their sizes and times)."""

    kind: str
    files: tuple[Path, ...]
    #: the path the user gave (a folder, a file, the first part)
    name: str = ""

    def key(self) -> str:
        """The files and their sizes and modification times: the same source ingested twice
        has the same key."""
        parts = []
        for f in self.files:
            st = f.stat()
            parts.append(f"{f.resolve()}:{st.st_size}:{st.st_mtime_ns}")
        return f"{self.kind}|" + "|".join(parts)


class ArchiveError(ValueError):
    """A path that is no archive source jamwatch reads (the message says why)."""


def _is_hist(folder: Path) -> bool:
    return any(folder.glob("*.json*")) and not any(folder.rglob("trace_full_*.json"))


def archive_sources(paths: Sequence[Path]) -> list[Source]:
    """The sources the paths make (see the module documentation), in the order given;
    split tar parts given together (or found in one folder) form one source."""
    out: list[Source] = []
    parts: dict[str, list[Path]] = {}
    for path in paths:
        if not path.exists():
            raise ArchiveError(f"{path}: no such file or folder")
        if path.is_dir():
            split = sorted(p for p in path.iterdir() if PART_NAME.match(p.name))
            tars = sorted(p for p in path.iterdir() if p.name.endswith(".tar"))
            if split or tars:
                for p in split:
                    parts.setdefault(PART_NAME.match(p.name)["stem"], []).append(p)  # type: ignore[index]
                out += [Source("tar", (t,), str(t)) for t in tars]
            elif any(path.rglob("trace_full_*.json")):
                files = sorted(p for p in path.rglob("*") if TRACE_NAME.search(p.name))
                out.append(Source("traces", tuple(files), str(path)))
            elif _is_hist(path):
                out.append(Source("hist", tuple(sorted(path.glob("*.json*"))), str(path)))
            else:
                raise ArchiveError(
                    f"{path}: no trace_full files, tar parts or aircraft.json snapshots in it"
                )
        elif m := PART_NAME.match(path.name):
            parts.setdefault(str(path.parent / m["stem"]), []).append(path)
        elif tarfile.is_tarfile(path):
            out.append(Source("tar", (path,), str(path)))
        elif TRACE_NAME.search(path.name):
            out.append(Source("traces", (path,), str(path)))
        else:
            raise ArchiveError(
                f"{path}: not an archive jamwatch reads (a tar or its .tar.aa parts, a "
                "trace_full file, or a folder of them)"
            )
    for stem in sorted(parts):
        ordered = tuple(sorted(parts[stem], key=lambda p: p.name))
        out.append(Source("tar", ordered, f"{stem} ({len(ordered)} parts)"))
    return out


def _members(source: Source, summary: ArchiveSummary) -> Iterator[bytes]:
    """The raw bytes of every trace of ``source``."""
    if source.kind == "traces":
        for path in source.files:
            yield path.read_bytes()
        return
    stream = io.BufferedReader(JoinedFiles(source.files), 1 << 20)
    try:
        with tarfile.open(fileobj=stream, mode="r|*") as tar:
            for member in tar:
                if not member.isfile() or not TRACE_NAME.search(member.name):
                    summary.skipped += member.isfile()
                    continue
                f = tar.extractfile(member)
                if f is not None:
                    yield f.read()
    except (tarfile.TarError, EOFError, OSError) as exc:
        summary.failures[f"archive cut short: {exc}"] += 1
    finally:
        stream.close()


def _parse_chunk(raws: list[bytes]) -> tuple[pa.Table, Counter[str]]:
    """Trace bytes to one table (a worker's job); the failures by reason."""
    traces, failures = [], Counter[str]()
    for raw in raws:
        try:
            traces.append(trace_points(raw))
        except TraceError as exc:
            failures[str(exc).split(":")[0]] += 1
    return by_hour(reports_of(traces)), failures  # (in hour order: the store's way)


def _chunks(items: Iterator[bytes], size: int) -> Iterator[list[bytes]]:
    chunk: list[bytes] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def read_traces(
    source: Source, summary: ArchiveSummary, workers: int | None = None, chunk: int = CHUNK
) -> Iterator[pa.Table]:
    """The reports of every trace of ``source``, a chunk of traces at a time, parsed by
    ``workers`` processes (default: every core; 1: in this process)."""
    n = workers or os.cpu_count() or 1

    def take(result: tuple[pa.Table, Counter[str]], count: int) -> pa.Table:
        table, failures = result
        summary.traces += count - sum(failures.values())
        summary.failures.update(failures)
        summary.reports += table.num_rows
        return table

    if n == 1:
        for raws in _chunks(_members(source, summary), chunk):
            yield take(_parse_chunk(raws), len(raws))
        return
    with ProcessPoolExecutor(n) as pool:
        pending: list[tuple[Future[tuple[pa.Table, Counter[str]]], int]] = []
        for raws in _chunks(_members(source, summary), chunk):
            pending.append((pool.submit(_parse_chunk, raws), len(raws)))
            while len(pending) >= IN_FLIGHT * n:
                job, count = pending.pop(0)
                yield take(job.result(), count)
        for job, count in pending:
            yield take(job.result(), count)


def read_snapshots(source: Source, summary: ArchiveSummary) -> Iterator[pa.Table]:
    """The reports of a readsb-hist folder: its snapshots one at a time in the order of their
    names (readsb-hist names them by time); one out of order by its ``now`` gives only
    what is newer than the snapshots before it."""
    from jamwatch.io.aircraft_json import SnapshotState, reports

    state = SnapshotState()
    for path in source.files:
        raw = path.read_bytes()
        try:
            if raw[:2] == GZIP_MAGIC:
                raw = zlib.decompress(raw, 47)
            table = reports(orjson.loads(raw), state)
        except (zlib.error, orjson.JSONDecodeError, ValueError):
            summary.failures["not an aircraft.json snapshot"] += 1
            continue
        summary.snapshots += 1
        summary.reports += table.num_rows
        yield table


def read_archive(
    source: Source, summary: ArchiveSummary, workers: int | None = None
) -> Iterator[pa.Table]:
    """The decoded reports of one source, batch by batch (not in time order)."""
    if source.kind == "hist":
        yield from read_snapshots(source, summary)
    else:
        yield from read_traces(source, summary, workers)


__all__ = [
    "ArchiveError",
    "ArchiveSummary",
    "Source",
    "archive_sources",
    "read_archive",
    "read_snapshots",
    "read_traces",
]
