"""A store of decoded reports: Parquet files partitioned by UTC day and hour, with a manifest.

Layout (hive-style folders, readable by pyarrow.dataset, DuckDB, Polars and Dask as they are)::

    DIR/_manifest.json
    DIR/day=2026-01-06/hour=04/part-1767672000000000000-000017.parquet
    ...

Every file holds rows of :data:`jamwatch.schema.DECODED` whose times fall in its folder's
hour, in the order written (the monitor's in time order; an archive's aircraft after
aircraft); a reader sorts an hour by time (:meth:`Store.hours` does). ``_manifest.json``
lists the files (path, rows, first and last time) and the sources already ingested; a file
not in it is not part of the store.

Writing is crash-safe: a file is written under a temporary name, flushed to disk and
renamed, then the manifest is replaced the same way. A process killed at any moment leaves
the store as its last manifest says: at most the rows of the write under way are lost, and
a leftover file is removed when the store is opened again. Only one process writes a store
at a time (a lock file, ``DIR/.lock``, held while it is open).

Small files are merged: :meth:`Store.compact` rewrites the parts of each hour that is over
into one file (the live monitor writes a part per flush, 360 an hour at 10 s).
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from jamwatch.schema import DECODED

MANIFEST = "_manifest.json"
LOCK = ".lock"
HOUR_NS = 3600 * 1_000_000_000
FORMAT = "jamwatch.store/1"


class StoreError(ValueError):
    """A store that cannot be opened or read (the message names the folder and why)."""


@dataclass(frozen=True, slots=True)
class Part:
    """One file of the store: its path under the root, rows and first and last time (ns)."""

    path: str
    rows: int
    start_ns: int
    end_ns: int
    #: the source ingested (its key) that the rows came from, if any
    source: str | None = None

    @property
    def hour_ns(self) -> int:
        return self.start_ns // HOUR_NS * HOUR_NS


#: how the store writes Parquet: zstd, dictionaries for the text columns only (the numbers'
#: dictionaries cost 40 % of the writing time and made the files 4 % larger)
PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "use_dictionary": ["icao", "callsign"]}


def hour_folder(hour_ns: int) -> str:
    """The folder of the hour starting at ``hour_ns`` (``day=YYYY-MM-DD/hour=HH``)."""
    t = datetime.fromtimestamp(hour_ns // 1_000_000_000, UTC)
    return f"day={t:%Y-%m-%d}/hour={t:%H}"


def _write_atomic(path: Path, data: bytes | pa.Table) -> None:
    tmp = path.with_name(path.name + ".tmp")
    if isinstance(data, pa.Table):
        pq.write_table(data, tmp, **PARQUET_OPTIONS)
    else:
        tmp.write_bytes(data)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def by_hour(table: pa.Table) -> pa.Table:
    """``table`` with the store's columns, rows without a time left out, in the order of
    their UTC hour (a stable order: the rows of an hour keep theirs, so a table in time
    order stays in it)."""
    table = table.select(DECODED.names).cast(DECODED)
    table = table.filter(pc.is_valid(table.column("time")))
    hours = _times(table) // HOUR_NS
    if hours.shape[0] < 2 or bool(np.all(hours[1:] >= hours[:-1])):
        return table
    return table.take(pa.array(np.argsort(hours, kind="stable")))


def _times(table: pa.Table) -> np.ndarray:
    return np.asarray(pc.cast(table.column("time"), pa.int64()).to_numpy(zero_copy_only=False))


@dataclass
class Store:
    """A store opened for reading (``writable=False``) or for reading and writing."""

    root: Path
    writable: bool = True
    parts: list[Part] = field(default_factory=list)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: what a writer keeps beside its reports (``jamwatch watch``: its events' ids), saved
    #: with the manifest (see :meth:`note`)
    meta: dict[str, Any] = field(default_factory=dict)
    _meta_changed: bool = False
    _seq: int = 0
    _lock_file: Any = None
    _pending: list[pa.Table] = field(default_factory=list)
    _mutex: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, root: str | os.PathLike[str], writable: bool = True) -> Store:
        """Open the store at ``root`` (created when writable and missing)."""
        path = Path(root)
        if not writable and not (path / MANIFEST).is_file():
            raise StoreError(f"{path}: not a jamwatch store (no {MANIFEST})")
        store = cls(path, writable)
        if writable:
            try:
                path.mkdir(parents=True, exist_ok=True)
                store._lock_file = open(path / LOCK, "a+")  # noqa: SIM115 (held while open)
            except OSError as exc:
                raise StoreError(f"{path}: cannot write the store: {exc.strerror}") from exc
            try:
                fcntl.flock(store._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                store._lock_file.close()
                raise StoreError(f"{path}: another process is writing this store") from exc
        try:
            store._load()
            if writable:
                store._remove_leftovers()
        except BaseException:
            store._release()
            raise
        return store

    def _load(self) -> None:
        path = self.root / MANIFEST
        if not path.is_file():
            return
        try:
            doc = json.loads(path.read_bytes())
            if doc.get("format") != FORMAT:
                raise ValueError(f"format {doc.get('format')!r}, not {FORMAT!r}")
            self.parts = [Part(**p) for p in doc["files"]]
            self.sources = dict(doc.get("sources", {}))
            self.meta = dict(doc.get("meta", {}))
            self._seq = int(doc.get("next", len(self.parts)))
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"{path}: not a readable manifest: {exc}") from exc

    def _remove_leftovers(self) -> None:
        """Files under the hour folders that the manifest does not list (a write that was
        under way when a process stopped, or parts a compaction replaced)."""
        listed = {p.path for p in self.parts}
        for f in self.root.glob("day=*/hour=*/*"):
            if f.relative_to(self.root).as_posix() not in listed:
                f.unlink(missing_ok=True)

    def _save(self) -> None:
        # (a note taken while the manifest is written is written by the next flush)
        changed, self._meta_changed = self._meta_changed, False
        doc = {
            "format": FORMAT,
            "schema": "jamwatch.schema.DECODED",
            "next": self._seq,
            "files": [_part_dict(p) for p in self.parts],
            "sources": self.sources,
            "meta": dict(self.meta),
        }
        try:
            _write_atomic(self.root / MANIFEST, json.dumps(doc, indent=1).encode())
        except BaseException:
            self._meta_changed = self._meta_changed or changed
            raise

    def close(self) -> None:
        """Write what is pending and release the lock."""
        try:
            if self.writable:
                self.flush()
        finally:
            self._release()

    def _release(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing

    def add(self, table: pa.Table) -> None:
        """Keep decoded reports for the next :meth:`flush` (cheap: no disk)."""
        if table.num_rows:
            with self._mutex:
                self._pending.append(table)

    def note(self, key: str, value: Any) -> None:
        """Set ``meta[key]`` (JSON); written with the manifest at the next flush."""
        with self._mutex:
            self.meta = {**self.meta, key: value}
            self._meta_changed = True

    def flush(self) -> int:
        """Write the reports kept since the last flush (and the notes); the rows written."""
        with self._mutex:
            tables, self._pending = self._pending, []
        if not tables:
            if self._meta_changed and self.writable:
                self._save()
            return 0
        try:
            return self.append(pa.concat_tables(tables, promote_options="permissive"))
        except BaseException:
            with self._mutex:  # (kept for the next flush)
                self._pending[:0] = tables
            raise

    def append(self, table: pa.Table | list[pa.Table], source: str | None = None) -> int:
        """Write ``table`` (decoded reports; or several tables, each in hour order, as
        :func:`by_hour` leaves them) as one part per hour it covers, then the manifest; the
        rows written. ``source``: the key of the source ingested they come from (see
        :meth:`finish`). Rows without a time are not stored."""
        if not self.writable:
            raise StoreError(f"{self.root}: opened for reading")
        tables = [by_hour(table)] if isinstance(table, pa.Table) else table
        slices: dict[int, list[pa.Table]] = {}
        for piece in tables:  # (an hour's rows of every table, without a copy)
            t = _times(piece)
            hours = t // HOUR_NS
            cuts = np.flatnonzero(np.diff(hours)) + 1
            for a, b in zip(np.r_[0, cuts], np.r_[cuts, t.shape[0]], strict=True):
                if b > a:
                    slices.setdefault(int(hours[a]), []).append(piece.slice(int(a), int(b - a)))
        new: list[Part] = []
        for hour in sorted(slices):
            rows = pa.concat_tables(slices[hour])
            t = _times(rows)
            folder = self.root / hour_folder(hour * HOUR_NS)
            folder.mkdir(parents=True, exist_ok=True)
            name = f"part-{int(t.min())}-{self._seq:06d}.parquet"
            self._seq += 1
            _write_atomic(folder / name, rows)
            rel = f"{hour_folder(hour * HOUR_NS)}/{name}"
            new.append(Part(rel, rows.num_rows, int(t.min()), int(t.max()), source))
        if not new:
            return 0
        parts = self.parts
        self.parts = parts + new
        try:
            self._save()
        except BaseException:  # (the files written are leftovers, removed at the next open)
            self.parts = parts
            raise
        return sum(p.rows for p in new)

    def finish(self, source: str, about: Any = None) -> None:
        """Record ``source`` (a key) as ingested whole, with ``about``."""
        self.sources = {**self.sources, source: about if about is not None else {}}
        self._save()

    def forget(self, source: str) -> int:
        """Remove the parts of ``source`` (an ingestion that did not finish); the rows."""
        gone = [p for p in self.parts if p.source == source]
        if not gone:
            return 0
        self.parts = [p for p in self.parts if p.source != source]
        self._save()
        for p in gone:
            (self.root / p.path).unlink(missing_ok=True)
        return sum(p.rows for p in gone)

    def compact(self, before_ns: int, source: str | None = None) -> int:
        """Merge the parts of ``source`` (None: those written live, by no ingestion) of
        every hour that ends at or before ``before_ns`` into one file per hour (crash-safe:
        the manifest changes in one step); the hours merged."""
        groups: dict[tuple[int, str], list[Part]] = {}
        for p in self.parts:
            if p.source == source:
                groups.setdefault((p.hour_ns, p.source or ""), []).append(p)
        merged = 0
        for (hour, source), parts in sorted(groups.items()):
            if len(parts) < 2 or hour + HOUR_NS > before_ns:
                continue
            name = f"part-{hour}-{self._seq:06d}.parquet"
            self._seq += 1
            rows = self._merge(parts, self.root / hour_folder(hour) / name)
            done = {p.path for p in parts}
            self.parts = [p for p in self.parts if p.path not in done]
            first, last = min(p.start_ns for p in parts), max(p.end_ns for p in parts)
            self.parts.append(
                Part(f"{hour_folder(hour)}/{name}", rows, first, last, source or None)
            )
            self._save()
            for p in parts:
                (self.root / p.path).unlink(missing_ok=True)
            merged += 1
        return merged

    def _merge(self, parts: list[Part], path: Path) -> int:
        """Write ``parts`` into one file at ``path`` in time order (crash-safe, as every
        write), holding about two parts at a time, not the hour: the parts are taken in the
        order of their first report, and the rows of each that a later part may still
        precede (those after the next part's first report) wait to be merged with it. The
        rows written."""
        order = sorted(parts, key=lambda p: (p.start_ns, p.path))
        tmp = path.with_name(path.name + ".tmp")
        written = 0
        waiting: pa.Table | None = None
        with pq.ParquetWriter(tmp, DECODED, **PARQUET_OPTIONS) as writer:
            for k, part in enumerate(order):
                table = self._read(part)
                if waiting is not None:
                    table = pa.concat_tables([waiting, table])
                table = table.sort_by("time")
                if k + 1 < len(order):
                    cut = int(np.searchsorted(_times(table), order[k + 1].start_ns, "left"))
                    ready, waiting = table.slice(0, cut), table.slice(cut)
                else:
                    ready, waiting = table, None
                if ready.num_rows:
                    writer.write_table(ready)
                    written += ready.num_rows
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return written

    # -- reading

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.parts)

    def span(self) -> tuple[int, int] | None:
        """The first and last time (ns) stored, or None when empty."""
        if not self.parts:
            return None
        return min(p.start_ns for p in self.parts), max(p.end_ns for p in self.parts)

    def _read(self, part: Part) -> pa.Table:
        try:
            return pq.read_table(self.root / part.path, schema=DECODED)
        except (OSError, pa.ArrowInvalid) as exc:
            raise StoreError(f"{self.root / part.path}: cannot read: {exc}") from exc

    def hours(self, start_ns: int | None = None, end_ns: int | None = None) -> Iterator[pa.Table]:
        """The reports of ``[start_ns, end_ns)`` one hour at a time, in time order."""
        lo = start_ns if start_ns is not None else -(2**62)
        hi = end_ns if end_ns is not None else 2**62
        groups: dict[int, list[Part]] = {}
        for p in self.parts:
            if p.end_ns >= lo and p.start_ns < hi:
                groups.setdefault(p.hour_ns, []).append(p)
        for hour in sorted(groups):
            table = pa.concat_tables([self._read(p) for p in groups[hour]]).sort_by("time")
            t = pc.cast(table.column("time"), pa.int64())
            keep = pc.and_(pc.greater_equal(t, lo), pc.less(t, hi))
            table = table.filter(keep)
            if table.num_rows:
                yield table

    def files(self, start_ns: int | None = None, end_ns: int | None = None) -> list[Path]:
        """The files of the hours that ``[start_ns, end_ns)`` touches, in time order."""
        lo = -(2**62) if start_ns is None else start_ns // HOUR_NS * HOUR_NS
        hi = 2**62 if end_ns is None else end_ns
        hours = sorted(
            (p.hour_ns, p.start_ns, p.path) for p in self.parts if lo <= p.hour_ns < hi
        )  # fmt: skip
        return [self.root / path for _, _, path in hours]

    def read(self, start_ns: int | None = None, end_ns: int | None = None) -> pa.Table:
        """The reports of ``[start_ns, end_ns)`` in time order (the whole store by default)."""
        tables = list(self.hours(start_ns, end_ns))
        return pa.concat_tables(tables) if tables else DECODED.empty_table()


def _part_dict(p: Part) -> dict[str, Any]:
    out = {"path": p.path, "rows": p.rows, "start_ns": p.start_ns, "end_ns": p.end_ns}
    return out if p.source is None else {**out, "source": p.source}


__all__ = ["HOUR_NS", "MANIFEST", "Part", "Store", "StoreError", "by_hour", "hour_folder"]
