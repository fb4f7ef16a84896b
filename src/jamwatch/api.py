"""One-call conveniences over the stages."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime

import pyarrow as pa

from jamwatch.decoder import Decoder, DecoderConfig
from jamwatch.io import ReadReport, read_frames
from jamwatch.schema import DECODED

Source = str | os.PathLike[str]


def decode(
    source: Source | Iterable[Source] | pa.Table | pa.RecordBatch,
    *,
    fmt: str | None = None,
    start: datetime | None = None,
    clock: str = "auto",
    config: DecoderConfig | None = None,
) -> pa.Table:
    """Decode raw Mode S frames to a :data:`jamwatch.schema.DECODED` table.

    ``source`` is a raw-frame table (columns ``time``, ``frame``, ``signal``), or one or more
    paths to recordings in any format :func:`jamwatch.io.read_frames` reads (detected from
    the content unless ``fmt`` is given), decoded by one decoder in the order given.
    ``start`` is the UTC time of the first frame of a Beast or AVR recording (only with a single
    path; default: the file's modification time minus its span) and ``clock`` the kind of its
    time stamps ("free", "gps" or "auto"), see :func:`jamwatch.io.read_frames`.
    """
    decoder = Decoder(config)
    if isinstance(source, pa.Table | pa.RecordBatch):
        return decoder.decode(source)
    paths = [source] if isinstance(source, str | os.PathLike) else list(source)
    if start is not None and len(paths) != 1:
        raise ValueError("start is the start of one recording: decode several one by one")
    tables = []
    for path in paths:
        report = ReadReport(str(path))
        for batch in read_frames(path, fmt=fmt, start=start, clock=clock, report=report):
            tables.append(decoder.decode(batch))
    if not tables:
        return DECODED.empty_table()
    return pa.concat_tables(tables)
