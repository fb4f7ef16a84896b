"""``jamwatch simulate``: a scenario's raw frames (Beast or text) and its ground truth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from jamwatch.cli.app import app, console, fail
from jamwatch.io.beast import write_beast
from jamwatch.io.hexlines import write_hexlines
from jamwatch.simulate.run import truth_with_transmitters
from jamwatch.simulate.scenario import (
    Scenario,
    ScenarioError,
    builtin_names,
    load,
    run_scenario,
)


class OutFormat(StrEnum):
    """Output formats of the simulated frames."""

    beast = "beast"
    avr = "avr"
    hex = "hex"


@app.command()
def simulate(
    scenario: Annotated[
        str, typer.Argument(help="built-in scenario name or path to a scenario .toml file")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="frames file to write")],
    truth: Annotated[
        Path | None, typer.Option("--truth", help="Parquet file for the per-frame ground truth")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="random seed (same seed, same output)")] = 0,
    fmt: Annotated[
        OutFormat,
        typer.Option(
            "--format",
            help="beast (12 MHz counter, zero at the first frame), "
            "avr (@counter lines, the same) or hex (ISO time and hex per line)",
        ),
    ] = OutFormat.beast,
    ships: Annotated[
        Path | None,
        typer.Option(
            "--ships", help="also write the ships' AIS here (NMEA; scenarios with [ships])"
        ),
    ] = None,
    ships_truth: Annotated[
        Path | None,
        typer.Option("--ships-truth", help="Parquet file for the ships' per-message truth"),
    ] = None,
) -> None:
    """Simulate a GNSS-interference scenario: the frames aircraft send, and the truth.

    Built-in scenarios: andoya-2024, korea-west-sea, spoof-east-med, swiss-2018. A Beast or
    AVR counter is zero at the first frame: decode with --start set to the time printed.
    With --ships, a scenario with ships (korea-west-sea) also gives its ships' AIS (NMEA).
    """
    try:
        sc = load(scenario)
    except ScenarioError as exc:
        raise fail(f"{exc} (built-in scenarios: {', '.join(builtin_names())})") from exc
    _check_ships(sc, ships, ships_truth)
    columns = (
        TextColumn("[bold]simulating {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(sc.name, total=None)

        def step(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            sim = run_scenario(sc, seed, progress=step)
        except ScenarioError as exc:
            raise fail(str(exc)) from exc
    first_ns = pc.min(sim.frames.column("time")).cast(pa.int64()).as_py()
    epoch = datetime.fromtimestamp(0, UTC)
    start = epoch + timedelta(microseconds=(first_ns or sc.start_ns) // 1000)
    if fmt is OutFormat.beast:
        written = write_beast(sim.frames, output, start=start)
    else:
        if fmt is OutFormat.avr:
            written = write_hexlines(sim.frames, output, style="avr", start=start)
        else:
            written = write_hexlines(sim.frames, output, style="iso")
    if truth is not None:
        pq.write_table(truth_with_transmitters(sim), truth)
    summary = Table(title=f"{sc.name} (seed {seed})", show_header=False)
    summary.add_row("frames written", f"{written:,} -> {output}")
    summary.add_row("aircraft", f"{pc.count_distinct(sim.truth.column('icao')).as_py():,}")
    if fmt is not OutFormat.hex:
        summary.add_row("first frame (decode with --start)", start.isoformat())
    counts = pc.value_counts(sim.truth.column("effect").cast("string")).to_pylist()
    for item in sorted(counts, key=lambda c: str(c["values"])):
        summary.add_row(f"frames {item['values']}", f"{item['counts']:,}")
    if truth is not None:
        summary.add_row("truth", str(truth))
    if ships is not None:
        _write_ships(sc, seed, ships, ships_truth, summary)
    console.print(summary)


def _check_ships(sc: Scenario, ships: Path | None, truth: Path | None) -> None:
    if (ships is not None or truth is not None) and sc.ships is None:
        raise fail(f"scenario {sc.name} has no ships (no [ships] table)")
    if truth is not None and ships is None:
        raise fail("--ships-truth goes with --ships FILE")


def _write_ships(
    sc: Scenario, seed: int, path: Path, truth: Path | None, summary: Table
) -> None:  # fmt: skip
    """The scenario's ships' AIS to ``path`` (and their truth), counted in ``summary``."""
    from jamwatch.simulate.ships import ShipFamily, simulate_ships

    assert sc.ships is not None
    lines, ship_truth = simulate_ships(
        sc.start_ns, sc.duration_s, sc.transmitters, sc.ships.spoofers,
        ShipFamily(lanes=sc.ships.lanes), sc.model, seed,
    )  # fmt: skip
    try:
        path.write_text("\n".join(lines) + "\n", encoding="ascii")
        if truth is not None:
            pq.write_table(ship_truth, truth)
    except OSError as exc:
        raise fail(f"cannot write {exc.filename}: {exc.strerror}") from exc
    summary.add_row("AIS messages written", f"{len(lines):,} -> {path}")
    summary.add_row("ships", f"{pc.count_distinct(ship_truth.column('mmsi')).as_py():,}")
    counts = pc.value_counts(ship_truth.column("effect")).to_pylist()
    for item in sorted(counts, key=lambda c: str(c["values"])):
        summary.add_row(f"AIS messages {item['values']}", f"{item['counts']:,}")
