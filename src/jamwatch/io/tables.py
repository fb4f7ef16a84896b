"""Tables of (Unix seconds, hex frame) read with pyarrow.csv: the pyModeS sample CSV.

``pymodes-csv`` (pyModeS ``tests/data/sample_data_adsb.csv``), no header::

    1457996400,"8D406B909945DE10000405999BE4","406B90",19

Column 1 is the receive time in Unix seconds (integer or decimal), column 2 the frame in
hex (quotes optional); further columns are ignored. A row whose time is not a number is
counted as ``bad_timestamp``; a row with a different number of columns than the first
one as ``bad_line``. :func:`read_csv_columns` also serves the OpenSky CSV reader.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from jamwatch.io.base import ReadReport
from jamwatch.io.lines import (
    BAD_LINE,
    ByteStream,
    parse_seconds,
    raw_batch,
    seconds_to_ns,
    slice_batches,
)

#: Read errors of a damaged stream, counted and ending the read rather than raised.
STREAM_ERRORS = (OSError, EOFError, pa.ArrowException)


def read_csv_columns(
    stream: ByteStream,
    *,
    time_column: str | int,
    hex_column: str | int,
    report: ReadReport,
    batch_rows: int,
    block_bytes: int = 16 << 20,
) -> Iterator[pa.RecordBatch]:
    """RAW_FRAMES batches from two columns of a CSV stream (by name, or by position without header).

    Quotes are not parsed as CSV quoting (hex fields keep them and
    :func:`jamwatch.io.hex_to_frames` strips them), so a stray quote cannot swallow the rest
    of the file.
    """
    named = isinstance(time_column, str)
    if named:
        time_name, hex_name = str(time_column), str(hex_column)
        read_opts = pacsv.ReadOptions(block_size=block_bytes)
    else:
        time_name, hex_name = f"f{time_column}", f"f{hex_column}"
        read_opts = pacsv.ReadOptions(block_size=block_bytes, autogenerate_column_names=True)

    def on_invalid(row: Any) -> str:
        report.rejects[BAD_LINE] += 1
        return "skip"

    parse_opts = pacsv.ParseOptions(
        quote_char=False, newlines_in_values=False, invalid_row_handler=on_invalid
    )
    convert_opts = pacsv.ConvertOptions(
        column_types={time_name: pa.string(), hex_name: pa.string()},
        include_columns=[time_name, hex_name],
        include_missing_columns=True,
        check_utf8=False,
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    try:
        reader = pacsv.open_csv(stream, read_opts, parse_opts, convert_opts)
    except STREAM_ERRORS as exc:
        if "Empty CSV file" in str(exc):
            return
        report.rejects["unreadable"] += 1
        return
    while True:
        try:
            chunk = reader.read_next_batch()
        except StopIteration:
            break
        except STREAM_ERRORS:
            report.rejects["unreadable"] += 1
            break
        if chunk.num_rows == 0:
            continue
        batch = seconds_hex_batch(chunk.column(time_name), chunk.column(hex_name), report)
        yield from slice_batches(batch, batch_rows)
    _set_bytes_read(stream, report)


def seconds_hex_batch(seconds: pa.Array, hexes: pa.Array, report: ReadReport) -> pa.RecordBatch:
    """A RAW_FRAMES batch from a Unix-seconds column (number, string or timestamp) and hex."""
    if pa.types.is_timestamp(seconds.type):
        times = seconds.cast(pa.timestamp("ns", seconds.type.tz or "UTC")).cast(
            pa.timestamp("ns", "UTC")
        )
        ok = np.asarray(times.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    else:
        if pa.types.is_string(seconds.type) or pa.types.is_large_string(seconds.type):
            seconds = parse_seconds(seconds)
        times, ok = seconds_to_ns(seconds)
    if pa.types.is_binary(hexes.type) or pa.types.is_large_binary(hexes.type):
        large = pa.types.is_large_binary(hexes.type)
        hexes = hexes.view(pa.large_string() if large else pa.string())
    signals = pa.nulls(len(hexes), pa.uint8())
    return raw_batch(times, hexes, signals, report, time_ok=ok)


def read_pymodes_csv(
    stream: ByteStream, *, report: ReadReport, batch_rows: int, block_bytes: int = 16 << 20
) -> Iterator[pa.RecordBatch]:
    """Stream the pyModeS sample CSV layout as RAW_FRAMES batches."""
    return read_csv_columns(
        stream, time_column=0, hex_column=1, report=report, batch_rows=batch_rows,
        block_bytes=block_bytes,
    )


def _set_bytes_read(stream: ByteStream, report: ReadReport) -> None:
    """Bytes consumed, from the stream position when it has one."""
    tell = getattr(stream, "tell", None)
    if tell is None:
        return
    with contextlib.suppress(OSError, ValueError):
        report.bytes_read = int(tell())
