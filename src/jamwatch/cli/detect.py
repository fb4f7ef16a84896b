"""``jamwatch detect INPUT... -o events.json``: jamming events, their sources, spoofing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jamwatch.cli.app import app, console, fail
from jamwatch.cli.inputs import expand_inputs, is_reports, print_rejects
from jamwatch.cli.options import StartOption, StartsOption, recording_starts, warn_derived_starts


@app.command("detect")
def detect_command(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            help="raw recordings, decoded Parquet or position files, folders of them, or "
            "quoted glob patterns"
        ),
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="events JSON to write")] = Path(
        "events.json"
    ),
    spoofing: Annotated[str, typer.Option(help="spoofing detector")] = "kinematic",
    jamming: Annotated[str, typer.Option(help="jamming event detector")] = "cluster",
    localizer: Annotated[str, typer.Option(help="source localizer")] = "likelihood",
    start: StartOption = None,
    starts: StartsOption = None,
) -> None:
    """Find jamming events (with the transmitter's position) and spoofing episodes.

    Beast and AVR recordings hold a receiver counter, not a time: give each its start with
    --start (once per input, in order) or --starts FILE (for a folder of recordings, a CSV of
    file,start rows); otherwise each starts at its file's modification time minus its span.
    """
    import pyarrow as pa

    from jamwatch.detect.pipeline import detect
    from jamwatch.io.events import write_events
    from jamwatch.io.inputs import ReadSummary, read_reports
    from jamwatch.schema import EVENTS

    inputs = expand_inputs(inputs, is_reports)
    given = recording_starts(inputs, start, starts)
    summary = ReadSummary()
    try:
        batches = list(read_reports(inputs, summary, starts=given))
    except ValueError as exc:
        raise fail(str(exc)) from exc
    table = pa.concat_tables(batches, promote_options="default") if batches else None
    if table is None or table.num_rows == 0:
        events = EVENTS.empty_table()
    else:
        try:
            events = detect(table, spoofing=spoofing, jamming=jamming, localizer=localizer)
        except ValueError as exc:
            raise fail(str(exc)) from exc
    warn_derived_starts(summary.recordings)
    print_rejects(summary)
    write_events(events, output)
    jam = events.column("kind").to_pylist().count("jamming")
    console.print(
        f"reports: {summary.reports or (table.num_rows if table is not None else 0):,}; "
        f"jamming events: {jam}; spoofing episodes: {events.num_rows - jam} -> {output}"
    )
