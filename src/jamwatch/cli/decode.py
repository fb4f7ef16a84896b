"""``jamwatch decode``: raw Mode S recordings to a Parquet table of decoded columns."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import pyarrow.parquet as pq
import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from jamwatch.cli.ais import print_ais_outcome, run_decode_ais
from jamwatch.cli.app import add_rejects, app, console, fail, iso_span
from jamwatch.cli.app import error as print_error
from jamwatch.cli.inputs import expand_inputs, is_ais, is_archive, is_raw_input, is_recording
from jamwatch.cli.options import (
    ReceiverOption,
    StartOption,
    StartsOption,
    parse_receiver,
    recording_starts,
    warn_derived_starts,
)
from jamwatch.decoder import Decoder, DecoderConfig, DecodeReport
from jamwatch.io import FORMATS, FormatError, ReadReport, Starts, read_frames
from jamwatch.io.ais_csv import AIS_CSV_FORMATS
from jamwatch.io.clock import CLOCKS
from jamwatch.io.inputs import DamagedArchiveError, start_of, tar_members
from jamwatch.schema import DECODED

#: --format values that are AIS
AIS_FORMATS = ("nmea", *AIS_CSV_FORMATS)


def decode_sources(
    inputs: Sequence[Path],
    decoder: Decoder,
    *,
    fmt: str | None,
    starts: Starts,
    clock: str,
    reports: list[ReadReport],
    errors: list[str],
) -> Iterator[pa.Table]:
    """Decode every input in turn (a tar archive member by member) with one progress bar;
    bad inputs are reported, not fatal."""
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

        def one(path: Path, name: str, member: bool) -> Iterator[pa.Table]:
            report = ReadReport(name)
            reports.append(report)
            progress.update(task, description=f"decoding {Path(name).name}")
            try:
                start = start_of(starts, name, path, member)
                for batch in read_frames(path, fmt=fmt, start=start, clock=clock, report=report):
                    yield decoder.decode(batch)
                    if not member:
                        progress.update(task, completed=done + report.bytes_read)
            except (FormatError, OSError) as exc:
                errors.append(f"{name}: {str(exc).replace(str(path), name)}")

        for path in inputs:
            if fmt is None and is_archive(path):
                try:
                    for copy, name in tar_members(path, str(path)):
                        if is_recording(copy):
                            yield from one(copy, name, True)
                        else:
                            errors.append(f"{name}: not raw frames; skipped")
                except DamagedArchiveError as exc:
                    errors.append(str(exc))
            else:
                yield from one(path, str(path), False)
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
        if r.first_ns is not None and r.last_ns is not None:
            clock = f", {r.clock} clock, start {r.start}" if r.clock else ""
            table.add_row(f"  time span{clock}", f"{iso_span(r.first_ns, r.last_ns)}")
        if r.restarts:
            table.add_row("  receiver restarts (counter went back)", f"{r.restarts:,}")
        if r.untimed:
            table.add_row("  frames without a time stamp (zero or MLAT counter)", f"{r.untimed:,}")
    table.add_row("frames decoded", f"{rep.frames:,}")
    for df, n in sorted(rep.by_df.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(f"  {df}", f"{n:,}")
    for tc, n in sorted(rep.by_tc.items()):
        table.add_row(f"  ADS-B TC{tc}", f"{n:,}")
    table.add_row("aircraft (ADS-B)", f"{rep.aircraft:,}")
    table.add_row("positions decoded", f"{rep.positions:,}")
    add_rejects(table, [*(r.rejects for r in reports), rep.rejects], "rejected or withheld")
    return table


def print_outcome(rep: DecodeReport, reports: Sequence[ReadReport], errors: Sequence[str]) -> None:
    """Print the summary table and every input that could not be read."""
    console.print(summary_table(reports, rep))
    for error in errors:
        print_error(error)


def run_decode(
    inputs: Sequence[Path],
    output: Path,
    *,
    fmt: str | None,
    starts: Starts | None = None,
    clock: str = "auto",
    receiver: tuple[float, float] | None = None,
) -> tuple[DecodeReport, list[ReadReport], list[str]]:
    """Decode ``inputs`` into ``output`` (Parquet), streaming batch by batch."""
    decoder = Decoder(DecoderConfig(receiver=receiver))
    reports: list[ReadReport] = []
    errors: list[str] = []
    output.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(output, DECODED, compression="zstd") as writer:
        for table in decode_sources(
            inputs,
            decoder,
            fmt=fmt,
            starts=starts or {},
            clock=clock,
            reports=reports,
            errors=errors,
        ):
            writer.write_table(table)
    return decoder.report, reports, errors


@app.command()
def decode(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            help="Recordings (Beast, AVR, hex lines, OpenSky raw tables), folders of them, "
            "tar archives of them (read member by member), or quoted glob patterns; or AIS: "
            "NMEA (!AIVDM sentences, with tag blocks or Gatehouse lines), the DMA or "
            "MarineCadastre CSV."
        ),
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="Parquet file to write.")],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help=f"Input format, instead of detecting it: {', '.join((*FORMATS, *AIS_FORMATS))}.",
        ),
    ] = None,
    start: StartOption = None,
    starts: StartsOption = None,
    clock: Annotated[
        str,
        typer.Option(
            help="Beast/AVR time stamps: free (a 12 MHz counter from the receiver's start: "
            "dump1090, readsb), gps (GPS time of day: Radarcape) or auto (decided from the "
            "recording)."
        ),
    ] = "auto",
    receiver: ReceiverOption = None,
) -> None:
    """Decode raw Mode S / ADS-B frames into typed columns (one row per frame), or AIS
    sentences into the AIS columns (one row per message).

    Beast and AVR recordings hold a receiver counter, not a time: give each its start with
    --start (once per recording, in order) or --starts FILE; otherwise each starts at its
    file's modification time minus its span. AIS and Mode S inputs are decoded in separate
    runs (their columns differ).
    """
    if fmt is not None and fmt not in (*FORMATS, *AIS_FORMATS):
        raise fail(f"unknown --format {fmt!r}; choose one of {', '.join((*FORMATS, *AIS_FORMATS))}")
    if clock not in CLOCKS:
        raise fail(f"unknown --clock {clock!r}; choose one of {', '.join(CLOCKS)}")
    inputs = expand_inputs(inputs, is_raw_input, strict=False)  # bad ones: reported below
    ais = [p for p in inputs if fmt in AIS_FORMATS or (fmt is None and is_ais(p))]
    if ais:
        if len(ais) < len(inputs):
            raise fail(
                f"{ais[0]} is AIS and {next(p for p in inputs if p not in ais)} is not: "
                "decode AIS and Mode S inputs in separate runs"
            )
        ais_report, reads, errors = run_decode_ais(ais, output, fmt)
        print_ais_outcome(ais_report, reads, errors)
        console.print(f"wrote {ais_report.messages:,} rows to {output}")
        if errors:
            raise typer.Exit(1)
        return
    given = recording_starts(inputs, start, starts)
    rx = parse_receiver(receiver)
    rep, reports, errors = run_decode(
        inputs, output, fmt=fmt, starts=given, clock=clock, receiver=rx
    )
    print_outcome(rep, reports, errors)
    warn_derived_starts(reports)
    console.print(f"wrote {rep.frames:,} rows to {output}")
    if errors:
        raise typer.Exit(1)
