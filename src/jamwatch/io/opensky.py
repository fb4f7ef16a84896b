"""OpenSky Network raw-message tables (the Impala ``*_data4`` tables), Parquet or CSV.

Columns used (any others are ignored)::

    mintime   first receive time, Unix seconds (float; a timestamp column is accepted too)
    rawmsg    the Mode S frame in hex (28 or 14 digits)

CSV example (with header)::

    mintime,maxtime,rawmsg,msgcount,icao24,hour
    1475172000.2345,1475172000.2345,8d4b19f399113c9a00049487cb6c,1,4b19f3,1475172000

Times are kept to the microsecond. Signals are null.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from jamwatch.io.base import FormatError, ReadReport
from jamwatch.io.lines import ByteStream, slice_batches
from jamwatch.io.tables import STREAM_ERRORS, read_csv_columns, seconds_hex_batch

TIME_COLUMN = "mintime"
HEX_COLUMN = "rawmsg"


def read_opensky_csv(
    stream: ByteStream, *, report: ReadReport, batch_rows: int, block_bytes: int = 16 << 20
) -> Iterator[pa.RecordBatch]:
    """Stream an OpenSky CSV export (header with ``mintime`` and ``rawmsg``)."""
    return read_csv_columns(
        stream, time_column=TIME_COLUMN, hex_column=HEX_COLUMN, report=report,
        batch_rows=batch_rows, block_bytes=block_bytes,
    )


def parquet_columns_ok(path: str) -> tuple[bool, str]:
    """Whether a Parquet file has the OpenSky columns; the reason when it has not."""
    try:
        names = pq.read_schema(path).names
    except STREAM_ERRORS as exc:
        return False, f"unreadable Parquet ({exc})"
    missing = [c for c in (TIME_COLUMN, HEX_COLUMN) if c not in names]
    if missing:
        return False, f"Parquet without the OpenSky column(s) {', '.join(missing)}"
    return True, ""


def read_opensky_parquet(
    path: str, *, report: ReadReport, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    """Stream an OpenSky Parquet table as RAW_FRAMES batches."""
    ok, why = parquet_columns_ok(path)
    if not ok:
        raise FormatError(f"{path}: {why}")
    try:
        parquet = pq.ParquetFile(path)
    except STREAM_ERRORS as exc:
        raise FormatError(f"{path}: unreadable Parquet ({exc})") from exc
    batches = parquet.iter_batches(batch_size=batch_rows, columns=[TIME_COLUMN, HEX_COLUMN])
    while True:
        try:
            chunk = next(batches)
        except StopIteration:
            break
        except STREAM_ERRORS:
            report.rejects["unreadable"] += 1
            break
        times = chunk.column(TIME_COLUMN)
        batch = seconds_hex_batch(times, chunk.column(HEX_COLUMN), report)
        yield from slice_batches(batch, batch_rows)
    report.bytes_read = os.path.getsize(path)
