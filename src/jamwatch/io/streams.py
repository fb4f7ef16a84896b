"""Files as byte streams: gzip, xz, bzip2 and zstd read transparently, judged by magic bytes.

Every reader opens its input through :func:`open_stream`, and every format check looks at
:func:`read_head`: at most ``HEAD_BYTES`` of the decompressed content, however large the file.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
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
