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
    config: DecoderConfig | None = None,
) -> pa.Table:
    """Decode raw Mode S frames to a :data:`jamwatch.schema.DECODED` table.

    ``source`` is a raw-frame table (columns ``time``, ``frame``, ``signal``), or one or more
    paths to recordings in any format :func:`jamwatch.io.read_frames` reads (detected from
    the content unless ``fmt`` is given). ``start`` anchors the 12 MHz counter of Beast
    recordings (default: the file's modification time).
    """
    decoder = Decoder(config)
    if isinstance(source, pa.Table | pa.RecordBatch):
        return decoder.decode(source)
    paths = [source] if isinstance(source, str | os.PathLike) else list(source)
    tables = []
    for path in paths:
        report = ReadReport(str(path))
        for batch in read_frames(path, fmt=fmt, start=start, report=report):
            tables.append(decoder.decode(batch))
    if not tables:
        return DECODED.empty_table()
    return pa.concat_tables(tables)
