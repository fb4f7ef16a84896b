"""``jamwatch detect INPUT... -o events.json``: jamming events, their sources, spoofing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jamwatch.cli.app import app, console, fail, warn
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

    The reports are read in batches and detected in segments of one to twelve hours, cut at
    lulls in the interference (shorter in dense traffic: a segment holds at most 4 million
    reports with its context): give the inputs in time order (a folder of one receiver's
    recordings is). Tar archives are read member by member.
    """
    import pyarrow as pa

    from jamwatch.detect.stream import READ_ROWS, DetectStream
    from jamwatch.io.events import write_events
    from jamwatch.io.inputs import DETECT_COLUMNS, ReadSummary, read_reports

    inputs = expand_inputs(inputs, is_reports)
    given = recording_starts(inputs, start, starts)
    summary = ReadSummary()
    found = []
    try:
        stream = DetectStream(spoofing=spoofing, jamming=jamming, localizer=localizer)
        with console.status("reading") as status:
            for batch in read_reports(
                inputs, summary, starts=given, columns=DETECT_COLUMNS, batch_rows=READ_ROWS,
                parquet_rows=READ_ROWS,
            ):  # fmt: skip
                found.append(stream.push(batch))
                status.update(
                    f"reports read: {summary.reports:,}; segments detected: {stream.segments}"
                )
            status.update(f"reports read: {summary.reports:,}; detecting the last segment")
            found.append(stream.flush())
    except ValueError as exc:
        raise fail(str(exc)) from exc
    events = pa.concat_tables(found)
    warn_derived_starts(summary.recordings)
    print_rejects(summary)
    if stream.late:
        warn(f"{stream.late:,} reports came after their time's segment was detected and were "
             "left out: give the inputs in time order")  # fmt: skip
    write_events(events, output)
    jam = events.column("kind").to_pylist().count("jamming")
    console.print(
        f"reports: {summary.reports:,}; "
        f"jamming events: {jam}; spoofing episodes: {events.num_rows - jam} -> {output}"
    )
