"""AIS files to decoded tables: NMEA decoded, the CSV exports read, the format told from the
content (:func:`jamwatch.io.sniff.sniff`); what ``jamwatch decode``, ``detect`` and ``map`` read
for ships, and the ship evaluation."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa

from jamwatch.decoder.ais import AisDecodeReport, decode_nmea
from jamwatch.io.ais_csv import read_ais_csv
from jamwatch.io.base import FormatError, ReadReport
from jamwatch.io.sniff import sniff
from jamwatch.io.streams import DECOMPRESS_ERRORS
from jamwatch.schema import AIS_DECODED


def ais_tables(
    path: Path, fmt: str | None, read: ReadReport, report: AisDecodeReport
) -> Iterator[pa.Table]:
    """Decoded AIS of one file: NMEA decoded, the CSV exports read (``fmt`` None: from the
    content)."""
    fmt = fmt or sniff(path).format
    read.format = fmt
    if fmt == "nmea":
        yield from decode_nmea(path, read, report)
        return
    for table in read_ais_csv(path, fmt, read):
        report.saw(table)
        yield table


def read_ais(
    inputs: Sequence[Path],
) -> tuple[pa.Table, AisDecodeReport, list[ReadReport], list[str]]:
    """The decoded AIS of ``inputs`` as one table (formats from the content); a file that
    cannot be read is reported, the others are still decoded."""
    report = AisDecodeReport()
    reads: list[ReadReport] = []
    errors: list[str] = []
    tables = [AIS_DECODED.empty_table()]
    for path in inputs:
        read = ReadReport(str(path))
        reads.append(read)
        try:
            tables.extend(ais_tables(path, None, read, report))
        except (FormatError, *DECOMPRESS_ERRORS) as exc:
            errors.append(f"{path}: {exc}")
    return pa.concat_tables(tables), report, reads, errors


__all__ = ["ais_tables", "read_ais"]
