"""``jamwatch eval SCENARIO... [--runs N] [--seed S] [--variant NAME]...``: detectors measured
against the truth, per scenario and named variant of the simulator's family."""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from jamwatch.cli.app import app, console, fail

if TYPE_CHECKING:
    from jamwatch.simulate.variants import VariantConfig

#: summary fields and their column heads, in table order
_COLUMNS = (
    ("runs", "runs"),
    ("intervals", "intervals"),
    ("onset_latency_median_s", "onset s"),
    ("localization_median_km", "loc med km"),
    ("localization_p95_km", "loc p95 km"),
    ("radius_95_coverage", "r95 cov"),
    ("radius_95_median_km", "r95 med km"),
    ("sources_located", "sources"),
    ("source_coverage", "src r95 cov"),
    ("source_coverage_low", "src cov lo"),
    ("source_coverage_high", "src cov hi"),
    ("target_intervals", "5+ lost"),
    ("target_located", "5+ located"),
    ("target_median_km", "5+ med km"),
    ("target_p95_km", "5+ p95 km"),
    ("target_coverage", "5+ r95 cov"),
    ("unlocated", "unloc"),
    ("missed", "missed"),
    ("extra_sources", "extra"),
    ("split_intervals", "split"),
    ("locate_median_s", "loc time med s"),
    ("locate_max_s", "loc time max s"),
    ("event_precision", "ev P"),
    ("event_recall", "ev R"),
    ("spoofing_precision", "spoof P"),
    ("spoofing_recall", "spoof R"),
)
_DISTANCES = (
    "localization_median_km", "localization_p95_km", "target_median_km", "target_p95_km"
)  # fmt: skip

_HELP = """Simulate randomized variants, decode, detect, and print the measures against the truth.

One row per (scenario, variant), and a pooled row. The variants (--variant) are defined in
docs/simulator.md, "Variants". Run k of every variant uses simulation seed 1000 S + k and
shares the baseline's draws for what it does not change, so variants compare run by run.

Columns: intervals (true jammer on-intervals), onset latency, localization error (median,
95th percentile), r95 cov (share of located intervals whose transmitter lies inside the
source's 95 % radius; each source stands for one transmitter site, the sources pooled to
one place for one), r95 med km (the median
of those radii); sources (the located sources, each once: the intervals of one site share
their source) and src r95 cov (the share of them covering their transmitter, with Wilson's
95 % interval, lo-hi: a row's coverage is known no better than that); the same over the
targets' population, the intervals in which 5 or more aircraft lost lock (5+ lost: how
many, 5+ located: how many of them were located, their error's median and 95th percentile,
their coverage); unlocated intervals, missed (a second transmitter whose event's sources
all stand for other ones), extra sources, split (intervals seen as two or more of their
transmitter's events), localization time per event (median, worst), event precision and
recall, spoofing precision and recall. target "region": the transmitter may lie beyond the
traffic; only the 95 % region's coverage is scored there (loc km: n/a), and the pooled row
leaves those distances out.

Seeds: 1, 2, 5 and 6 are development seeds (the localizer was tuned on their variants): their
figures are not measurements. Report figures from a seed chosen before running that has not
been used in development (docs/detect.md lists the seeds used so far), and name it.
"""


def _cell(summary: dict[str, float | None], name: str, region_only: bool) -> str:
    value = summary[name]
    if region_only and name in _DISTANCES:
        return "n/a"
    return "-" if value is None else f"{value:.3g}"


def _plain(value: Any) -> Any:
    """NumPy scalars and arrays in a run's measures as JSON values."""
    return value.tolist() if hasattr(value, "tolist") else str(value)


def _table(runs: int, seed: int) -> Table:
    table = Table(title=f"jamwatch eval ({runs} runs per scenario and variant, seed {seed})")
    for head in ("scenario", "variant", "target"):
        table.add_column(head, no_wrap=True)
    for _, head in _COLUMNS:
        table.add_column(head, justify="right", no_wrap=True)
    return table


def _variants(asked: list[str]) -> list[tuple[str, VariantConfig]]:
    """The named variants asked for, in order, once each ('all': every one)."""
    from jamwatch.simulate.variants import VARIANTS, named

    names = list(VARIANTS) if "all" in asked else list(dict.fromkeys(asked))
    try:
        return [(name, named(name)) for name in names]
    except ValueError as exc:
        raise fail(str(exc)) from exc


def _add_row(table: Table, label: tuple[str, str], results: list[dict[str, Any]]) -> None:
    from jamwatch.detect.evaluate import summarize

    region = [bool(r.get("region_only")) for r in results]
    target = "region" if all(region) else "km+region" if any(region) else "km"
    s = summarize(results)
    table.add_row(*label, target, *(_cell(s, n, all(region)) for n, _ in _COLUMNS))


def _evaluate(
    bases: list[tuple[str, Any]], configs: list[tuple[str, VariantConfig]], runs: int,
    seed: int, table: Table, lines: TextIO | None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Every run of every scenario and variant, a table row per (scenario, variant); each
    run's measures also as a JSON line to ``lines``. Returns every run's measures."""
    import numpy as np

    from jamwatch.detect.evaluate import evaluate_run, variant

    everything: list[dict[str, Any]] = []
    columns = (
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    )  # fmt: skip
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("evaluating", total=runs * len(bases) * len(configs))
        for name, base in bases:
            for vname, config in configs:
                progress.update(task, description=f"evaluating {name} {vname}")
                rng = np.random.default_rng(seed)
                results = []
                for k in range(runs):
                    sc = variant(base, rng, config)
                    results.append(
                        evaluate_run(sc, seed * 1000 + k, region_only=config.region_only)
                    )
                    if lines is not None:
                        row = {"scenario": name, "variant": vname, "run": k, **results[-1]}
                        lines.write(json.dumps(row, default=_plain) + "\n")
                        lines.flush()
                    progress.advance(task)
                everything += results
                _add_row(table, (name, vname), results)
                if not console.is_terminal:  # (no progress bar): a line per row done
                    console.print(f"evaluated {name} {vname}: {runs} runs")
    return everything


#: ship summary fields and their column heads, in table order
_SHIP_COLUMNS = (
    ("spoof_reports_precision", "spoof P reports"),
    ("spoof_reports_recall", "spoof R reports"),
    ("spoof_ships_precision", "spoof P ships"),
    ("spoof_ships_recall", "spoof R ships"),
    ("jam_reports_precision", "jam P reports"),
    ("jam_reports_recall", "jam R reports"),
    ("jam_ships_precision", "jam P ships"),
    ("jam_ships_recall", "jam R ships"),
    ("jam_event_ships_precision", "jam P events"),
    ("jam_event_ships_recall", "jam R events"),
    ("loops_flagged", "loops flagged"),
)


def _ship_table(bases: list[tuple[str, Any]], runs: int, seed: int) -> None:
    """The ship detectors over ``runs`` members of the ship family per scenario."""
    import numpy as np

    from jamwatch.detect.evaluate_ships import evaluate_ship_run, ship_variant, summarize_ships

    table = Table(title=f"jamwatch eval --ships ({runs} runs per scenario, seed {seed})")
    for head in ("scenario", "runs", *(h for _, h in _SHIP_COLUMNS)):
        table.add_column(head, justify="left" if head == "scenario" else "right")
    for name, base in bases:
        if base.ships is None:
            raise fail(f"{name}: the scenario has no ships (no [ships] table)")
        rng = np.random.default_rng(seed)
        with console.status(f"ships of {name}") as status:
            found = []
            for k in range(runs):
                found.append(evaluate_ship_run(base, *ship_variant(base, rng), seed * 1000 + k))
                status.update(f"ships of {name}: {k + 1} of {runs} runs")
        s = summarize_ships(found)
        cells = ["-" if s[key] is None else f"{s[key]:.3g}" for key, _ in _SHIP_COLUMNS]
        table.add_row(name, str(runs), *cells)
    console.width = max(console.width, 200)
    console.print(table)


@app.command("eval", help=_HELP)
def eval_command(
    scenarios: Annotated[list[str], typer.Argument(help="built-in scenario names or .toml files")],
    runs: Annotated[int, typer.Option("--runs", help="randomized variants per scenario")] = 3,
    seed: Annotated[
        int,
        typer.Option("--seed", help="seed of the variants (1, 2, 5, 6: development seeds)"),
    ] = 0,
    variants: Annotated[
        list[str] | None,
        typer.Option(
            "--variant",
            help="named variant (repeatable; 'all': every one): baseline, one-step, two-level, "
            "mixed-fleet, real-fleet, tolerance-spread, recovery-lag, shielded, positions-kept, "
            "positions-stopped, band, strong, weak, inside, edge, beyond, short, long, dense, "
            "sparse, wide",
        ),
    ] = None,
    runs_out: Annotated[
        Path | None,
        typer.Option(
            "--runs-out",
            help="also write every run's measures to this file, one JSON object per line, "
            "each as its run ends (an interrupted evaluation keeps the runs it finished)",
        ),
    ] = None,
    ships: Annotated[
        bool,
        typer.Option(
            "--ships",
            help="measure the ship detectors instead, over the ship family (scenarios with "
            "ships: korea-west-sea; seeds 7, 9, 10, 101-107: development)",
        ),
    ] = False,
) -> None:
    from jamwatch.simulate.scenario import ScenarioError, load

    configs = _variants(variants or ["baseline"])
    try:
        bases = [(name, load(name)) for name in scenarios]
    except ScenarioError as exc:
        raise fail(str(exc)) from exc
    if ships:
        _ship_table(bases, runs, seed)
        return
    table = _table(runs, seed)
    try:
        out = nullcontext(None) if runs_out is None else runs_out.open("w", encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {runs_out}: {exc.strerror}") from exc
    with out as lines:
        everything = _evaluate(bases, configs, runs, seed, table, lines)
    if len(bases) * len(configs) > 1:
        _add_row(table, ("all", "all"), everything)
    console.width = max(console.width, 220)
    console.print(table)
