"""``jamwatch map INPUT... -o DIR``: the interference map from any input jamwatch reads.

Events files of ``jamwatch detect`` are recognised among the inputs by their content (or named
with ``--events``) and drawn over the cells; the other inputs go to the map job.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from jamwatch.cli.app import app, console, fail
from jamwatch.cli.detect import Detection, warn_late
from jamwatch.cli.inputs import expand_inputs, is_ais, is_map_input, is_reports, print_rejects
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
from jamwatch.io.store import HOUR_NS

if TYPE_CHECKING:
    from jamwatch.aggregate.job import MapResult


@app.command("map")
def map_command(
    inputs: Annotated[
        list[Path] | None,
        typer.Argument(
            help="raw recordings, decoded Parquet, position files, AIS (ships), gpsjam CSVs or "
            "events files of jamwatch detect, folders of them, or quoted glob patterns"
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="output folder")] = Path("map"),
    resolution: Annotated[int, typer.Option(help="H3 resolution (gpsjam: 4)")] = 4,
    window: Annotated[
        str, typer.Option(help="window: day, hour or a duration like 6h, 30m")
    ] = "day",
    threshold: Annotated[
        int, typer.Option(help="gpsjam counter for 'bad': 17 (readsb) or 18 (ADS-B Exchange)")
    ] = 17,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="processes, each taking a share of the aircraft (default: every core; "
            "one for inputs under 64 MB)",
        ),
    ] = None,
    events: Annotated[
        list[Path] | None,
        typer.Option("--events", help="events file of jamwatch detect (repeatable)"),
    ] = None,
    start: StartOption = None,
    starts: StartsOption = None,
    store: StoreOption = None,
    since: FromOption = None,
    until: ToOption = None,
    engine: EngineOption = "embedded",
    scheduler: SchedulerOption = None,
    detect: Annotated[
        bool,
        typer.Option(
            "--detect", help="also detect the inputs' events, as jamwatch detect does: "
            "written to OUT/events.json and drawn on the map",
        ),
    ] = False,
) -> None:
    """Map GNSS interference per H3 cell and window: index.html, cells.parquet/.geojson, PNG.

    With --store, the store's reports join the inputs: all of them, or those of the whole
    UTC hours from --from to --to. With --engine dask the job's shards (aircraft split by
    address) run on a Dask cluster; the cells are the same. Every worker must read the
    inputs' paths. With --detect, the events too (one command for a day's map and events;
    with --engine dask their segments are detected on the cluster as well).
    """
    from jamwatch.aggregate import GridConfig, parse_window
    from jamwatch.aggregate.job import map_cells
    from jamwatch.serve.site import write_map
    from jamwatch.signals import IntegrityConfig

    named = list(events or [])
    inputs = list(inputs or [])
    check_engine(engine, scheduler)
    lo, hi = store_range(store, since, until)
    if any(t is not None and t % HOUR_NS for t in (lo, hi)):
        raise fail("--from and --to of map are whole UTC hours (the store's files), e.g. 04:00Z")
    stored = [] if store is None else open_store(store).files(lo, hi)
    if store is not None and not stored:
        raise fail(f"{store}: no reports between --from and --to")
    if not inputs and not named and not stored:
        raise fail("no input: give recordings, position files, gpsjam CSVs or --events FILE")
    missing = [str(p) for p in named if not p.is_file()]
    if missing:
        raise fail(f"not a file: {', '.join(missing)}")
    inputs = expand_inputs(inputs, is_map_input)
    all_inputs = list(inputs)
    event_files, found = _events(named, inputs)
    ships = [p for p in inputs if is_ais(p)]
    inputs = [p for p in inputs if p not in event_files and p not in ships] + stored
    try:
        grid = GridConfig(resolution=resolution, window_s=parse_window(window))
    except ValueError as exc:
        raise fail(str(exc)) from exc
    given = recording_starts(all_inputs, start, starts)  # --start: one per input as given
    try:
        result = map_cells(
            list(inputs),
            grid,
            IntegrityConfig(bad_threshold=threshold),
            workers=workers,
            starts=given,
            scheduler=scheduler,
            engine=engine,
        )
    except ValueError as exc:
        raise fail(str(exc)) from exc
    warn_derived_starts(result.summary.recordings)
    if detect:
        job = Detection(engine=engine, scheduler=scheduler, workers=workers)
        reports = [p for p in all_inputs if is_reports(p)]
        found += _detected(job, out, reports, ships, given, store, lo, hi)
        event_files.append(out / "events.json")
    result.cells, tracks = _with_ships(result.cells, ships, grid) if ships else (result.cells, [])
    written = write_map(result.cells, result.partials, out, resolution, found, tracks)
    _print_summary(result, found if event_files else None)
    console.print(f"wrote {len(written)} files; open {out / 'index.html'}")


def _detected(
    job: Detection, out: Path, inputs: list[Path], ships: list[Path],
    given: dict[str, datetime], store: Path | None, lo: int | None, hi: int | None,
) -> list[dict[str, Any]]:  # fmt: skip
    """The events ``job`` detects in ``inputs``, the AIS files ``ships`` and the store's
    hours from ``lo`` to ``hi``, written to ``out/events.json``; as the page draws them."""
    from jamwatch.io.events import write_events
    from jamwatch.serve.events import read_events

    events, _, late = job.run(inputs, ships, given, store, lo, hi)
    warn_late(late)
    out.mkdir(parents=True, exist_ok=True)
    write_events(events, out / "events.json")
    jam = events.column("kind").to_pylist().count("jamming")
    console.print(f"detected: {jam} jamming events, {events.num_rows - jam} spoofing episodes "
                  f"-> {out / 'events.json'}")  # fmt: skip
    return read_events(out / "events.json")


def _with_ships(cells: Any, paths: list[Path], grid: Any) -> tuple[Any, list[dict[str, Any]]]:
    """``cells`` with the good and bad ships of the AIS files ``paths`` per cell and window
    (:mod:`jamwatch.aggregate.vessels`), and the ships' tracks; what was read printed."""
    from jamwatch.aggregate.vessels import vessel_cells, vessel_tracks, with_vessels
    from jamwatch.cli.ais import print_ais_outcome, read_ais
    from jamwatch.signals.ships import ship_signals

    with console.status("decoding AIS"):
        decoded, report, reads, errors = read_ais(paths)
    print_ais_outcome(report, reads, errors)
    signals = ship_signals(decoded)
    vessels, unplaced = vessel_cells(signals, grid.resolution, grid.window_s)
    bad = sum(vessels.column("count_bad_vessels").to_pylist())
    console.print(
        f"ships: {vessels.num_rows:,} cells and windows, {bad:,} bad ship-cells; "
        f"{unplaced:,} messages not placed (no time, or no position of the ship's own)"
    )
    return with_vessels(cells, vessels, grid.window_s), vessel_tracks(signals, grid.window_s)


def _events(named: list[Path], inputs: list[Path]) -> tuple[list[Path], list[dict[str, Any]]]:
    """The events files and the events they hold.

    The files are those named with ``--events``, then those found among the inputs by their
    content.
    """
    from jamwatch.serve.events import EventsFormatError, is_events_file, read_events

    event_files = named + [p for p in inputs if is_events_file(p)]
    found: list[dict[str, Any]] = []
    try:
        for path in event_files:
            found += read_events(path)
    except EventsFormatError as exc:
        raise fail(str(exc)) from exc
    return event_files, found


def _print_summary(result: MapResult, found: list[dict[str, Any]] | None) -> None:
    """Print what the map job read and found, and the events drawn over the map.

    ``found`` is None without events files.
    """
    s = result.summary
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(s.inputs.items())) or "none besides events"
    console.print(f"inputs: {kinds}; reports: {s.reports:,}; unlocated: {s.unlocated:,}")
    print_rejects(s)
    levels = result.cells.column("level").to_pylist()
    console.print(
        f"cells: {result.cells.num_rows:,} (red {levels.count('red'):,}, yellow "
        f"{levels.count('yellow'):,}); faulty-avionics aircraft: {s.faulty_aircraft}"
    )
    if found is not None:
        jam = sum(e["kind"] == "jamming" for e in found)
        located = sum(e["kind"] == "jamming" and e["source"] is not None for e in found)
        console.print(
            f"events: {jam} jamming ({located} with a source), {len(found) - jam} spoofing"
        )
