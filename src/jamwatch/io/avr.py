"""AVR text: the raw output of dump1090 and readsb (port 30002), one frame per line.

Line layouts (``HEX`` is 4, 14 or 28 hex digits; the trailing ``;`` may be missing)::

    *8D4840D6202CC371C32CE0576098;              no time (``:`` is accepted for ``*``)
    @0000156A7E3C8D4840D6202CC371C32CE0576098;  12 hex digits of the 12 MHz counter
    %0000156A7E3C8D4840D6202CC371C32CE0576098;  the same (dump1090 variants)
    <0000156A7E3C5A8D4840D6202CC371C32CE0576098;  counter, then a 2-digit signal byte (MLAT)

A line with a counter gets the time ``start + counter / 12 MHz`` as Beast does; a ``*``
line gets a null time. Any other first character is counted as ``bad_line``; a counter or
signal that is not hex as ``bad_timestamp``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from jamwatch.io.base import ReadReport
from jamwatch.io.lines import (
    NO_TIME,
    TICKS,
    ByteStream,
    emit_hex,
    line_span,
    parse_hex,
    read_text,
)


@nb.njit(cache=True, nogil=True)
def avr_kernel(
    buf: npt.NDArray[np.uint8],
    hex_off: npt.NDArray[np.int64],
    hex_data: npt.NDArray[np.uint8],
    ticks: npt.NDArray[np.int64],
    kind: npt.NDArray[np.uint8],
    signal: npt.NDArray[np.int16],
    counts: npt.NDArray[np.int64],
) -> int:  # pragma: no cover
    """AVR lines. counts: bad_line, bad_timestamp, line_too_long."""
    n = buf.shape[0]
    i = 0
    rows = 0
    pos = 0
    hex_off[0] = 0
    while i < n:
        a, b, i = line_span(buf, i, n)
        if a < 0:
            counts[2] += 1
            continue
        if a == b:
            continue
        c = buf[a]
        sig = -1
        tick = 0
        k = NO_TIME
        if c == 42 or c == 58:  # '*' ':'
            h = a + 1
        elif c == 64 or c == 37 or c == 60:  # '@' '%' '<'
            h = a + 13 if c != 60 else a + 15
            if h > b:
                counts[1] += 1
                continue
            tick = parse_hex(buf, a + 1, 12)
            if c == 60:
                sig = parse_hex(buf, a + 13, 2)
            if tick < 0 or (c == 60 and sig < 0):
                counts[1] += 1
                continue
            k = TICKS
        else:
            counts[0] += 1
            continue
        e = b - 1 if buf[b - 1] == 59 else b
        if e < h:
            e = h
        pos = emit_hex(buf, h, e, hex_data, pos)
        ticks[rows] = tick
        kind[rows] = k
        signal[rows] = sig
        rows += 1
        hex_off[rows] = pos
    return rows


def read_avr(
    stream: ByteStream,
    *,
    start_ns: int,
    report: ReadReport,
    batch_rows: int,
    chunk_bytes: int = 16 << 20,
) -> Iterator[pa.RecordBatch]:
    """Stream AVR lines as RAW_FRAMES batches."""
    return read_text(
        stream, avr_kernel, start_ns=start_ns, report=report, batch_rows=batch_rows,
        chunk_bytes=chunk_bytes,
    )
