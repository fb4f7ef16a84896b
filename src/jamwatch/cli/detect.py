"""``jamwatch detect INPUT... -o events.json``: jamming events, their sources, spoofing."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import pyarrow as pa

    from jamwatch.detect.stream import DetectStream
    from jamwatch.io.inputs import ReadSummary
    from jamwatch.io.store import Store

from jamwatch.cli.app import app, console, fail, warn
from jamwatch.cli.inputs import expand_inputs, is_ais, is_reports, print_rejects
from jamwatch.cli.options import (
    EngineOption,
    FromOption,
    SchedulerOption,
    StartOption,
    StartsOption,
    StoreOption,
    ToOption,
    check_engine,
    open_store,
    recording_starts,
    store_range,
    warn_derived_starts,
)


@app.command("detect")
def detect_command(
    inputs: Annotated[
        list[Path] | None,
        typer.Argument(
            help="raw recordings, decoded Parquet or position files, AIS (NMEA, DMA or "
            "MarineCadastre CSV), folders of them, or quoted glob patterns"
        ),
    ] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="events JSON to write")] = Path(
        "events.json"
    ),
    spoofing: Annotated[str, typer.Option(help="spoofing detector")] = "kinematic",
    jamming: Annotated[str, typer.Option(help="jamming event detector")] = "cluster",
    localizer: Annotated[str, typer.Option(help="source localizer")] = "likelihood",
    start: StartOption = None,
    starts: StartsOption = None,
    store: StoreOption = None,
    since: FromOption = None,
    until: ToOption = None,
    engine: EngineOption = "embedded",
    scheduler: SchedulerOption = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1, help="with --engine dask and no --scheduler: the local cluster's "
            "processes (default: one per core)",
        ),
    ] = None,
) -> None:
    """Find jamming events (with the transmitter's position) and spoofing episodes.

    Beast and AVR recordings hold a receiver counter, not a time: give each its start with
    --start (once per input, in order) or --starts FILE (for a folder of recordings, a CSV of
    file,start rows); otherwise each starts at its file's modification time minus its span.

    The reports are read in batches and detected in segments of one to twelve hours, cut at
    lulls in the interference (shorter in dense traffic: a segment holds at most 4 million
    reports with its context): give the inputs in time order (a folder of one receiver's
    recordings is). Tar archives are read member by member. With --store, the store's reports
    (from --from to --to) are read hour by hour, after the inputs.

    AIS inputs (ships) are decoded whole and give the ships' spoofing episodes (jumps,
    circles, moved base stations; see docs/ais.md); --start and --starts are for the
    aircraft recordings only.

    With --engine dask the segments are detected on a Dask cluster while this process reads
    the inputs and decides the cuts; the events are the same as without it. The workers
    receive the reports: they need jamwatch installed, not the inputs.
    """
    check_engine(engine, scheduler)
    if workers is not None and (engine != "dask" or scheduler is not None):
        raise fail("--workers of detect is the size of a local Dask cluster: it goes with "
                   "--engine dask and no --scheduler")  # fmt: skip
    lo, hi = store_range(store, since, until)
    if not inputs and store is None:
        raise fail("no input: give recordings, decoded or position files, or --store DIR")
    inputs = expand_inputs(inputs or [], _detect_input) if inputs else []
    ships = [p for p in inputs if is_ais(p)]
    inputs = [p for p in inputs if p not in ships]
    given = recording_starts(inputs, start, starts)
    job = Detection(spoofing, jamming, localizer, engine, scheduler, workers)
    events, summary, late = job.run(inputs, ships, given, store, lo, hi)
    _finish(events, output, summary, late)


@dataclass(frozen=True, slots=True)
class Detection:
    """The detectors chosen by name and where the segments are detected (``engine``
    embedded or dask, the Dask ``scheduler`` or a local cluster of ``workers``)."""

    spoofing: str = "kinematic"
    jamming: str = "cluster"
    localizer: str = "likelihood"
    engine: str = "embedded"
    scheduler: str | None = None
    workers: int | None = None

    def run(
        self, inputs: list[Path], ships: list[Path], given: dict[str, datetime],
        store: Path | None = None, lo: int | None = None, hi: int | None = None,
    ) -> tuple[pa.Table, ReadSummary, int]:  # fmt: skip
        """The events of the report inputs ``inputs`` (with their ``given`` starts), the
        store's hours from ``lo`` to ``hi``, and the AIS files ``ships``; what was read, and
        the reports left out as late."""
        import pyarrow as pa

        from jamwatch.detect.stream import READ_ROWS, DetectStream
        from jamwatch.io.inputs import DETECT_COLUMNS, ReadSummary, read_reports

        summary = ReadSummary()
        batches = read_reports(
            inputs, summary, starts=given, columns=DETECT_COLUMNS, batch_rows=READ_ROWS,
            parquet_rows=READ_ROWS,
        )  # fmt: skip
        if store is not None:
            batches = itertools.chain(batches, _store_batches(open_store(store), lo, hi, summary))
        try:
            with ExitStack() as cluster:
                if self.engine == "dask":
                    from jamwatch.cluster import dask_client
                    from jamwatch.detect.remote import ClusterStream

                    client = cluster.enter_context(dask_client(self.scheduler, self.workers))
                    stream: DetectStream = ClusterStream(
                        client, spoofing=self.spoofing, jamming=self.jamming,
                        localizer=self.localizer,
                    )  # fmt: skip
                else:
                    stream = DetectStream(
                        spoofing=self.spoofing, jamming=self.jamming, localizer=self.localizer
                    )
                found = _run(stream, batches, summary)
        except ValueError as exc:
            raise fail(str(exc)) from exc
        events = pa.concat_tables(found)
        if ships:
            events = _with_ships(events, ships)
        return events, summary, stream.late


def _run(stream: DetectStream, batches: Iterator[pa.Table], summary: ReadSummary) -> list[pa.Table]:
    """The events of ``batches`` pushed through ``stream``, with the progress shown."""
    found = []
    with console.status("reading") as status:
        for batch in batches:
            found.append(stream.push(batch))
            status.update(
                f"reports read: {summary.reports:,}; segments: {stream.segments}"
            )
        status.update(f"reports read: {summary.reports:,}; detecting the last segment")
        found.append(stream.flush())
    return found


def _finish(events: pa.Table, output: Path, summary: ReadSummary, late: int) -> None:
    """Warn about what was derived or left out, write the events, say what was found."""
    from jamwatch.io.events import write_events

    warn_derived_starts(summary.recordings)
    print_rejects(summary)
    warn_late(late)
    write_events(events, output)
    jam = events.column("kind").to_pylist().count("jamming")
    console.print(
        f"reports: {summary.reports:,}; "
        f"jamming events: {jam}; spoofing episodes: {events.num_rows - jam} -> {output}"
    )


def warn_late(late: int) -> None:
    """Warn about the ``late`` reports a stream left out (none: nothing)."""
    if late:
        warn(f"{late:,} reports came after their time's segment was detected and were "
             "left out of the events: give the inputs in time order")  # fmt: skip


def _detect_input(path: Path) -> bool:
    return is_reports(path) or is_ais(path)


def _with_ships(events: pa.Table, paths: list[Path]) -> pa.Table:
    """``events`` with the ships of the AIS files ``paths``: their spoofing episodes, their
    jamming joined with the aircraft's events or as events of their own, in start order;
    the ships' summary printed."""
    import pyarrow as pa

    from jamwatch.cli.ais import print_ais_outcome, read_ais
    from jamwatch.detect.ship_jamming import join_ship_jamming
    from jamwatch.detect.ships import ship_events
    from jamwatch.signals.ships import summary

    with console.status("decoding AIS"):
        decoded, report, reads, errors = read_ais(paths)
    print_ais_outcome(report, reads, errors)
    with console.status(f"ship signals of {decoded.num_rows:,} AIS messages"):
        found, signals = ship_events(decoded)
    signs = summary(signals)
    console.print(
        "ships: " + ", ".join(f"{name.replace('_', ' ')} {n:,}" for name, n in signs.items()),
        highlight=False,
    )
    return join_ship_jamming(pa.concat_tables([events, found]), signals)


def _store_batches(
    store: Store, lo: int | None, hi: int | None, summary: ReadSummary
) -> Iterator[pa.Table]:
    """The store's reports of [lo, hi), hour by hour, with the columns detection reads,
    cleaned as decoded Parquet is (:func:`jamwatch.io.positions.clean_positions`)."""
    from jamwatch.io.inputs import DETECT_COLUMNS
    from jamwatch.io.positions import PositionReport, clean_positions

    summary.inputs["store"] += 1
    name = str(store.root)
    for table in store.hours(lo, hi):
        report = PositionReport(name, format="decoded")
        columns = [c for c in DETECT_COLUMNS if c in table.column_names]
        table = clean_positions(table.select(columns), report)
        for reason, n in report.rejects.items():
            summary.reject(name, reason, n)
        summary.reports += table.num_rows
        yield table
