"""Read any supported recording: format detection from the content, and one streaming entry point.

:func:`read_frames` opens a file (gzip-compressed or not: detected by its magic bytes),
detects its format from the first bytes unless ``fmt`` is given, and yields
:data:`jamwatch.schema.RAW_FRAMES` record batches, reading in chunks so memory stays
bounded whatever the file size. What was read and rejected goes to a
:class:`jamwatch.io.ReadReport`. The layouts are documented in each format's module and
in ``docs/formats.md``.
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO

import numpy as np
import pyarrow as pa

from jamwatch.io.avr import read_avr
from jamwatch.io.base import FormatError, ReadReport
from jamwatch.io.beast import parse_beast, read_beast, write_beast
from jamwatch.io.hexlines import read_hexlines, read_iso_hex, write_hexlines
from jamwatch.io.lines import datetime_ns
from jamwatch.io.opensky import parquet_columns_ok, read_opensky_csv, read_opensky_parquet
from jamwatch.io.tables import STREAM_ERRORS, read_pymodes_csv

FORMATS: tuple[str, ...] = (
    "beast",
    "avr",
    "pymodes-csv",
    "iso-hex",
    "hexlines",
    "opensky-csv",
    "opensky-parquet",
)

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
HEAD_BYTES = 64 << 10
#: Lines of the head examined by the text detectors, and the share that must match.
SAMPLE_LINES = 200
MIN_MATCH = 0.5

_HEX = r"[0-9A-Fa-f]{4,28}"
_ISO = r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d([.,]\d+)?([Zz]|[+-]\d\d:?\d\d)?"
_LINE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("pymodes-csv", re.compile(r'"?[+-]?\d+(\.\d*)?"?\s*,\s*"?' + _HEX + r'"?\s*(,.*)?')),
    ("iso-hex", re.compile(_ISO + r"\s+" + _HEX)),
    ("avr", re.compile(r"([*:]|[@%][0-9A-Fa-f]{12}|<[0-9A-Fa-f]{14})" + _HEX + ";?")),
    ("hexlines", re.compile(_HEX)),
)


def _check_path(source: str | os.PathLike[str]) -> Path:
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory, not a recording (give a file)")
    return path


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(2) == GZIP_MAGIC


def _open(path: Path) -> IO[bytes]:
    """The file as a binary stream, decompressed when it is gzip."""
    if _is_gzip(path):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _read_head(path: Path) -> bytes:
    try:
        with _open(path) as f:
            return f.read(HEAD_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        if not _is_gzip(path):
            raise
        raise FormatError(f"{path}: damaged gzip stream ({exc})") from exc


def _tried(name: str, why: str) -> FormatError:
    return FormatError(
        f"{name}: not a recording in a format jamwatch reads ({why}); "
        f"tried {', '.join(FORMATS)}"
    )


def _detect_head(head: bytes, name: str, complete: bool) -> str:
    """The format of a head of (decompressed) content; FormatError if none fits."""
    if not head:
        raise _tried(name, "empty file")
    if head.startswith(PARQUET_MAGIC):
        return "opensky-parquet"
    if 0x1A in head:
        arr = np.frombuffer(head, dtype=np.uint8)
        parsed = parse_beast(arr, final=complete)
        if len(parsed.frames) and parsed.good_bytes >= 0.5 * max(parsed.consumed, 1):
            return "beast"
    text = head.decode("latin-1")
    lines = text.splitlines()
    if not complete and lines and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the head may cut the last line
    sample = [s.strip() for s in lines if s.strip()][:SAMPLE_LINES]
    if not sample:
        raise _tried(name, "no frame in the first bytes")
    header = [c.strip().strip('"').lower() for c in sample[0].split(",")]
    if "mintime" in header and "rawmsg" in header:
        return "opensky-csv"
    scores = [(sum(1 for s in sample if p.fullmatch(s)), fmt) for fmt, p in _LINE_PATTERNS]
    best, fmt = max(scores, key=lambda sf: sf[0])  # first of equals wins: pattern order
    if best >= MIN_MATCH * len(sample):
        if fmt == "hexlines" and any(s.startswith("*") for s in sample):
            return "avr"
        return fmt
    raise _tried(name, f"only {best} of the first {len(sample)} lines fit any line format")


def detect_format(path_or_head_bytes: str | os.PathLike[str] | bytes) -> str:
    """The format of a recording, from its content (never its name).

    Accepts a path or the first bytes of a file (gzip is decompressed in both cases).
    Raises FormatError when nothing fits, naming the file and the formats tried.
    """
    if isinstance(path_or_head_bytes, bytes | bytearray | memoryview):
        head = bytes(path_or_head_bytes)
        name = "<bytes>"
        if head.startswith(GZIP_MAGIC):
            try:
                head = zlib.decompressobj(wbits=31).decompress(head, HEAD_BYTES)
            except zlib.error as exc:
                raise FormatError(f"{name}: damaged gzip stream ({exc})") from exc
        return _detect_head(head, name, complete=len(head) < HEAD_BYTES)
    path = _check_path(path_or_head_bytes)
    head = _read_head(path)
    fmt = _detect_head(head, str(path), complete=len(head) < HEAD_BYTES)
    if fmt == "opensky-parquet":
        ok, why = parquet_columns_ok(str(path))
        if not ok:
            raise _tried(str(path), why)
    return fmt


def read_frames(
    source: str | os.PathLike[str],
    *,
    fmt: str | None = None,
    start: datetime | None = None,
    batch_rows: int = 1_000_000,
    report: ReadReport | None = None,
) -> Iterator[pa.RecordBatch]:
    """Stream a recording as RAW_FRAMES record batches of at most ``batch_rows`` rows.

    ``fmt`` is one of :data:`FORMATS`; by default it is detected from the content. ``start``
    anchors the 12 MHz counter of Beast messages and timestamped AVR lines (time =
    ``start + counter / 12 MHz``); it defaults to the file's modification time, and a naive
    datetime is taken as UTC. ``report``, if given, receives the format, frames kept, bytes
    read and rejects by reason. An empty file raises FormatError when the format must be
    detected and yields nothing when ``fmt`` is given. The path is checked, and the format
    detected, when this function is called, before the first batch is requested.
    """
    path = _check_path(source)
    if fmt is None:
        fmt = detect_format(path)
    elif fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    if batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    if report is None:
        report = ReadReport(str(path))
    report.format = fmt
    start_ns = int(path.stat().st_mtime_ns) if start is None else datetime_ns(start)
    if path.stat().st_size == 0:
        return iter(())
    if fmt == "opensky-parquet":
        return read_opensky_parquet(str(path), report=report, batch_rows=batch_rows)
    return _stream(path, fmt, start_ns, batch_rows, report)


def _stream(
    path: Path, fmt: str, start_ns: int, batch_rows: int, report: ReadReport
) -> Iterator[pa.RecordBatch]:
    with _open(path) as stream:
        guarded = _GuardedStream(stream, report)
        if fmt == "beast":
            yield from read_beast(guarded, start_ns=start_ns, report=report, batch_rows=batch_rows)
        elif fmt == "avr":
            yield from read_avr(guarded, start_ns=start_ns, report=report, batch_rows=batch_rows)
        elif fmt == "iso-hex":
            yield from read_iso_hex(guarded, report=report, batch_rows=batch_rows)
        elif fmt == "hexlines":
            yield from read_hexlines(guarded, report=report, batch_rows=batch_rows)
        elif fmt == "pymodes-csv":
            yield from read_pymodes_csv(guarded, report=report, batch_rows=batch_rows)
        else:
            yield from read_opensky_csv(guarded, report=report, batch_rows=batch_rows)


class _GuardedStream:
    """A binary stream whose read errors (a damaged gzip tail) end the input and are counted."""

    def __init__(self, stream: IO[bytes], report: ReadReport) -> None:
        self._stream = stream
        self._report = report
        self._failed = False
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all when negative); what was decompressed before damage is kept."""
        if self._failed:
            return b""
        want = size if size >= 0 else 1 << 62
        parts: list[bytes] = []
        got = 0
        while got < want:
            try:
                piece = self._stream.read1(min(want - got, 1 << 20))  # type: ignore[attr-defined]
            except (*STREAM_ERRORS, zlib.error):
                self._failed = True
                self._report.rejects["damaged_stream"] += 1
                break
            if not piece:
                break
            parts.append(piece)
            got += len(piece)
        return b"".join(parts)

    def tell(self) -> int:
        return int(self._stream.tell())

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True


__all__ = ["FORMATS", "detect_format", "read_frames", "write_beast", "write_hexlines"]
