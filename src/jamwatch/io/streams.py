"""Files as byte streams: gzip, xz, bzip2 and zstd read transparently, judged by magic bytes.

Every reader opens its input through :func:`open_stream`, and every format check looks at
:func:`read_head`: at most ``HEAD_BYTES`` of the decompressed content, however large the file.
A tar split into parts as adsb.lol publishes its days (``day.tar.aa``, ``day.tar.ab``, ...,
as ``split`` names them) is one input named by its first part: opened, it is all the parts
of its folder one after the other (:func:`split_parts`).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import re
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import pyarrow as pa

from jamwatch.io.base import FormatError

GZIP_MAGIC = b"\x1f\x8b"
XZ_MAGIC = b"\xfd7zXZ\x00"
BZIP2_MAGIC = b"BZh"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
PARQUET_MAGIC = b"PAR1"
#: Errors a damaged compressed stream raises while it is read.
DECOMPRESS_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError, pa.ArrowException)
#: How much of a file's (decompressed) content the format checks look at.
HEAD_BYTES = 64 << 10
#: a part of a split tar: ``stem.tar.aa``, ``stem.tar.ab``, ... (``split``'s suffixes)
PART_NAME = re.compile(r"^(?P<stem>.+\.tar)\.(?P<part>[a-z]{2,3})$")
#: the suffixes of compressed tars that a part's name could also be
COMPRESSED_SUFFIXES = frozenset({"gz", "xz", "bz", "zst", "lz", "lzo", "lzma", "zip"})


def split_parts(path: Path) -> list[Path]:
    """The parts of the split tar whose part ``path`` is, in order, from its folder; ``[]``
    when ``path`` is not named as a part."""
    m = PART_NAME.match(path.name)
    if m is None:
        return []
    stem, width = m["stem"], len(m["part"])
    found = []
    for p in path.parent.iterdir():
        other = PART_NAME.match(p.name)
        if other is not None and other["stem"] == stem and len(other["part"]) == width:
            found.append(p)
    return sorted(found, key=lambda p: p.name)


def first_part(path: Path) -> Path | None:
    """The first part of the split tar whose later part ``path`` is (the input that stands
    for the whole tar); None for any other path. A name such as ``day.tar.gz`` is a
    compressed tar unless a ``day.tar.aa`` lies beside it; a part with another suffix names
    its first part even where that is missing."""
    m = PART_NAME.match(path.name)
    if m is None or set(m["part"]) == {"a"}:
        return None
    first = path.with_name(f"{m['stem']}.{'a' * len(m['part'])}")
    return first if first.exists() or m["part"] not in COMPRESSED_SUFFIXES else None


class JoinedFiles(io.RawIOBase):
    """Files read one after the other as one stream (the parts of a split tar)."""

    def __init__(self, files: Sequence[Path]) -> None:
        self.files = list(files)
        self.current: io.BufferedReader | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while True:
            if self.current is None:
                if not self.files:
                    return 0
                self.current = open(self.files.pop(0), "rb")  # noqa: SIM115 (closed below)
            n = self.current.readinto(buffer)
            if n:
                return n
            self.current.close()
            self.current = None

    def close(self) -> None:
        if self.current is not None:
            self.current.close()
        super().close()


def compression(path: Path) -> str:
    """"gzip", "xz", "bzip2", "zstd" or "" (not compressed), from the file's first bytes."""
    with path.open("rb") as f:
        return compression_of(f.read(6))


def compression_of(magic: bytes) -> str:
    """"gzip", "xz", "bzip2", "zstd" or "" (not compressed), from a content's first bytes."""
    if magic.startswith(GZIP_MAGIC):
        return "gzip"
    if magic.startswith(XZ_MAGIC):
        return "xz"
    if magic.startswith(BZIP2_MAGIC) and len(magic) > 3 and magic[3:4].isdigit():
        return "bzip2"
    if magic.startswith(ZSTD_MAGIC):
        return "zstd"
    return ""


def open_stream(path: Path) -> IO[bytes]:
    """The file as a binary stream, decompressed when it is gzip, xz, bzip2 or zstd."""
    kind = compression(path)
    if kind == "gzip":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if kind == "xz":
        return lzma.open(path, "rb")  # type: ignore[return-value]
    if kind == "bzip2":
        return bz2.open(path, "rb")  # type: ignore[return-value]
    if kind == "zstd":
        stream: IO[bytes] = pa.input_stream(str(path), compression="zstd")
        return stream
    if len(parts := split_parts(path)) > 1 and parts[0] == path:
        return io.BufferedReader(JoinedFiles(parts), 1 << 20)
    return path.open("rb")


class DamagedStreamError(FormatError):
    """A compressed file whose stream cannot be read (the message names the file)."""


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    """At most ``size`` bytes of the file's decompressed content (fewer: the whole content).
    A damaged compressed stream raises :class:`DamagedStreamError`."""
    try:
        with open_stream(path) as f:
            out = b""
            while len(out) < size:  # (a decompressing stream may return less than asked)
                chunk = f.read(size - len(out))
                if not chunk:
                    break
                out += chunk
            return out
    except DECOMPRESS_ERRORS as exc:
        kind = compression(path)
        if not kind:
            raise
        raise DamagedStreamError(f"{path}: damaged {kind} stream ({exc})") from exc


def decompress_head(data: bytes, size: int = HEAD_BYTES) -> bytes:
    """At most ``size`` bytes of the decompressed content of ``data`` (the first bytes of a
    file, compressed or not; a cut stream gives what precedes the cut). A damaged stream
    raises :class:`DamagedStreamError`."""
    kind = compression_of(data[:6])
    try:
        if kind == "gzip":
            return zlib.decompressobj(wbits=31).decompress(data, size)
        if kind == "xz":
            return lzma.LZMADecompressor().decompress(data, size)
        if kind == "bzip2":
            return bz2.BZ2Decompressor().decompress(data, size)
        if kind == "zstd":
            out = b""
            with pa.input_stream(pa.BufferReader(data), compression="zstd") as f:
                while len(out) < size:
                    try:
                        chunk = f.read(min(size - len(out), 1 << 16))
                    except pa.ArrowException:
                        break  # (the stream is cut: what came before it)
                    if not chunk:
                        break
                    out += chunk
            if not out and data[4:]:
                raise DamagedStreamError("<bytes>: damaged zstd stream")
            return out
    except (zlib.error, lzma.LZMAError, OSError, EOFError) as exc:
        raise DamagedStreamError(f"<bytes>: damaged {kind} stream ({exc})") from exc
    return data[:size]


def read_all(path: Path) -> bytes:
    """The file's whole decompressed content."""
    with open_stream(path) as f:
        return f.read()


__all__ = [
    "DECOMPRESS_ERRORS",
    "HEAD_BYTES",
    "PARQUET_MAGIC",
    "DamagedStreamError",
    "compression",
    "compression_of",
    "decompress_head",
    "open_stream",
    "read_all",
    "read_head",
]
