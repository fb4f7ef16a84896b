"""``jamwatch decode`` of AIS input: NMEA sentences to a Parquet table of the AIS columns."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from rich.table import Table

from jamwatch.cli.app import add_rejects, console, iso_span
from jamwatch.cli.app import error as print_error
from jamwatch.decoder.ais import AisDecodeReport
from jamwatch.decoder.ais_files import ais_tables, read_ais
from jamwatch.io.base import FormatError, ReadReport
from jamwatch.io.streams import DECOMPRESS_ERRORS
from jamwatch.schema import AIS_DECODED


def run_decode_ais(
    inputs: Sequence[Path], output: Path, fmt: str | None = None
) -> tuple[AisDecodeReport, list[ReadReport], list[str]]:
    """Decode the AIS files ``inputs`` into ``output`` (Parquet), chunk by chunk; a file
    that cannot be read is reported, the others are still decoded."""
    report = AisDecodeReport()
    reads: list[ReadReport] = []
    errors: list[str] = []
    output.parent.mkdir(parents=True, exist_ok=True)
    with (
        pq.ParquetWriter(output, AIS_DECODED, compression="zstd") as writer,
        console.status("decoding AIS") as status,
    ):
        for path in inputs:
            read = ReadReport(str(path))
            reads.append(read)
            status.update(f"decoding {path.name}")
            try:
                for table in ais_tables(path, fmt, read, report):
                    span = pc.min_max(table.column("time").cast(pa.int64()))
                    if span["min"].is_valid:
                        read.saw_times(span["min"].as_py(), span["max"].as_py())
                    writer.write_table(table)
            except (FormatError, *DECOMPRESS_ERRORS) as exc:
                errors.append(f"{path}: {exc}")
    return report, reads, errors


def ais_summary(report: AisDecodeReport, reads: Sequence[ReadReport]) -> Table:
    """The summary printed after an AIS decode: sentences, messages by type, rejects."""
    table = Table(title="jamwatch decode (AIS)", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("count", justify="right")
    for r in reads:
        table.add_row(f"messages read from {Path(r.source).name} ({r.format})", f"{r.frames:,}")
        if r.first_ns is not None and r.last_ns is not None:
            table.add_row("  time span", iso_span(r.first_ns, r.last_ns))
    table.add_row("messages decoded", f"{report.messages:,}")
    for msg_type, n in sorted(report.by_type.items()):
        table.add_row(f"  type {msg_type}", f"{n:,}")
    table.add_row("vessels and stations (MMSI)", f"{len(report.vessels):,}")
    table.add_row("positions", f"{report.positions:,}")
    add_rejects(table, [*(r.rejects for r in reads), report.rejects], "skipped or ignored")
    return table


def print_ais_outcome(
    report: AisDecodeReport, reads: Sequence[ReadReport], errors: Sequence[str]
) -> None:
    console.print(ais_summary(report, reads))
    for message in errors:
        print_error(message)


__all__ = ["ais_summary", "print_ais_outcome", "read_ais", "run_decode_ais"]
