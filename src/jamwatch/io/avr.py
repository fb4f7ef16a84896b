"""AVR text: the raw output of dump1090 and readsb (port 30002), one frame per line.

Line layouts (``HEX`` is 4, 14 or 28 hex digits; the trailing ``;`` may be missing)::

    *8D4840D6202CC371C32CE0576098;              no time (``:`` is accepted for ``*``)
    @0000156A7E3C8D4840D6202CC371C32CE0576098;  12 hex digits of the 12 MHz counter
    %0000156A7E3C8D4840D6202CC371C32CE0576098;  the same (dump1090 variants)
    <0000156A7E3C5A8D4840D6202CC371C32CE0576098;  counter, then a 2-digit signal byte (MLAT)

A line with a counter gets its time from a :class:`jamwatch.io.clock.BeastClock` as a Beast
frame does; a ``*`` line gets a null time. Any other first character is counted as
``bad_line``; a counter or signal that is not hex as ``bad_timestamp``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from jamwatch.io.base import ReadReport
from jamwatch.io.clock import BeastClock
from jamwatch.io.lines import (
    KEEP,
    NO_TIME,
    REJECT_BAD_LINE,
    REJECT_BAD_TIMESTAMP,
    TICKS,
    ByteStream,
    LineFields,
    TextOutputs,
    parse_hex,
    read_text,
    scan_lines,
)


@nb.njit(cache=True, nogil=True, inline="always")
def avr_line(buf: npt.NDArray[np.uint8], a: int, b: int) -> LineFields:  # pragma: no cover
    """One AVR line at ``buf[a:b]`` (see :func:`jamwatch.io.lines.scan_lines`)."""
    c = buf[a]
    sig = -1
    tick = 0
    k = NO_TIME
    if c == 42 or c == 58:  # '*' ':'
        h = a + 1
    elif c == 64 or c == 37 or c == 60:  # '@' '%' '<'
        h = a + 13 if c != 60 else a + 15
        if h > b:
            return REJECT_BAD_TIMESTAMP, 0, 0, 0, 0, -1
        tick = parse_hex(buf, a + 1, 12)
        if c == 60:
            sig = parse_hex(buf, a + 13, 2)
        if tick < 0 or (c == 60 and sig < 0):
            return REJECT_BAD_TIMESTAMP, 0, 0, 0, 0, -1
        k = TICKS
    else:
        return REJECT_BAD_LINE, 0, 0, 0, 0, -1
    e = b - 1 if buf[b - 1] == 59 else b
    if e < h:
        e = h
    return KEEP, h, e, tick, k, sig


@nb.njit(cache=True, nogil=True)
def avr_kernel(buf: npt.NDArray[np.uint8], out: TextOutputs) -> int:  # pragma: no cover
    """AVR lines: :func:`avr_line` over a chunk."""
    return scan_lines(buf, out, avr_line)


def read_avr(
    stream: ByteStream,
    *,
    clock: BeastClock,
    report: ReadReport,
    batch_rows: int,
    chunk_bytes: int = 16 << 20,
) -> Iterator[pa.RecordBatch]:
    """Stream AVR lines as RAW_FRAMES batches."""
    return read_text(
        stream, avr_kernel, clock=clock, report=report, batch_rows=batch_rows,
        chunk_bytes=chunk_bytes,
    )
