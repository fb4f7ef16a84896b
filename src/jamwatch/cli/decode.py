"""``jamwatch decode``: raw Mode S recordings to a Parquet table of decoded columns."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import pyarrow.parquet as pq
import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from jamwatch.cli.app import app, console, fail
from jamwatch.cli.app import error as print_error
from jamwatch.decoder import Decoder, DecodeReport
from jamwatch.io import FORMATS, FormatError, ReadReport, read_frames
from jamwatch.schema import DECODED


def parse_start(value: str | None) -> datetime | None:
    """``--start`` as an aware UTC datetime (ISO 8601; a naive time is taken as UTC)."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise fail(
            f"--start {value!r} is not an ISO 8601 time such as 2024-09-12T10:00:00Z"
        ) from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def decode_sources(
    inputs: Sequence[Path],
    decoder: Decoder,
    *,
    fmt: str | None,
    start: datetime | None,
    reports: list[ReadReport],
    errors: list[str],
) -> Iterator[pa.Table]:
    """Decode every input in turn with one progress bar; bad inputs are reported, not fatal."""
    total = sum(p.stat().st_size for p in inputs if p.is_file())
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("decoding", total=total or None)
        done = 0
        for path in inputs:
            report = ReadReport(str(path))
            reports.append(report)
            progress.update(task, description=f"decoding {path.name}")
            try:
                for batch in read_frames(path, fmt=fmt, start=start, report=report):
                    yield decoder.decode(batch)
                    progress.update(task, completed=done + report.bytes_read)
            except (FormatError, OSError) as exc:
                errors.append(f"{path}: {exc}")
            done += path.stat().st_size if path.is_file() else 0
            progress.update(task, completed=done)


def summary_table(reports: Sequence[ReadReport], rep: DecodeReport) -> Table:
    """The summary printed after a decode: what was read, decoded and rejected."""
    table = Table(title="jamwatch decode", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("count", justify="right")
    for r in reports:
        table.add_row(
            f"frames read from {Path(r.source).name} ({r.format or '?'})", f"{r.frames:,}"
        )
    table.add_row("frames decoded", f"{rep.frames:,}")
    for df, n in sorted(rep.by_df.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(f"  {df}", f"{n:,}")
    for tc, n in sorted(rep.by_tc.items()):
        table.add_row(f"  ADS-B TC{tc}", f"{n:,}")
    table.add_row("aircraft (ADS-B)", f"{rep.aircraft:,}")
    table.add_row("positions decoded", f"{rep.positions:,}")
    rejects: Counter[str] = Counter()
    for r in reports:
        rejects.update(r.rejects)
    rejects.update(rep.rejects)
    for reason, n in sorted(rejects.items(), key=lambda kv: -kv[1]):
        table.add_row(f"rejected or withheld: {reason}", f"{n:,}")
    return table


def print_outcome(rep: DecodeReport, reports: Sequence[ReadReport], errors: Sequence[str]) -> None:
    """Print the summary table and every input that could not be read."""
    console.print(summary_table(reports, rep))
    for error in errors:
        print_error(error)


def run_decode(
    inputs: Sequence[Path], output: Path, *, fmt: str | None, start: datetime | None
) -> tuple[DecodeReport, list[ReadReport], list[str]]:
    """Decode ``inputs`` into ``output`` (Parquet), streaming batch by batch."""
    decoder = Decoder()
    reports: list[ReadReport] = []
    errors: list[str] = []
    output.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(output, DECODED, compression="zstd") as writer:
        for table in decode_sources(
            inputs, decoder, fmt=fmt, start=start, reports=reports, errors=errors
        ):
            writer.write_table(table)
    return decoder.report, reports, errors


@app.command()
def decode(
    inputs: Annotated[
        list[Path], typer.Argument(help="Recordings: Beast, AVR, hex lines, OpenSky raw tables.")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="Parquet file to write.")],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", help=f"Input format, instead of detecting it: {', '.join(FORMATS)}."
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            help="UTC start of a Beast recording's 12 MHz clock (ISO 8601); "
            "default: the file's modification time."
        ),
    ] = None,
) -> None:
    """Decode raw Mode S / ADS-B frames into typed columns (one row per frame)."""
    if fmt is not None and fmt not in FORMATS:
        raise fail(f"unknown --format {fmt!r}; choose one of {', '.join(FORMATS)}")
    rep, reports, errors = run_decode(inputs, output, fmt=fmt, start=parse_start(start))
    print_outcome(rep, reports, errors)
    console.print(f"wrote {rep.frames:,} rows to {output}")
    if errors:
        raise typer.Exit(1)
