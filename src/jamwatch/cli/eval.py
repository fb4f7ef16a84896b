"""``jamwatch eval SCENARIO... [--runs N] [--seed S]``: detectors measured against the truth."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from jamwatch.cli.app import app, console, fail


@app.command("eval")
def eval_command(
    scenarios: Annotated[list[str], typer.Argument(help="built-in scenario names or .toml files")],
    runs: Annotated[int, typer.Option("--runs", help="randomized variants per scenario")] = 3,
    seed: Annotated[int, typer.Option("--seed", help="random seed of the variants")] = 0,
) -> None:
    """Simulate randomized variants, decode, detect, and print the measures against the truth."""
    import numpy as np

    from jamwatch.detect.evaluate import evaluate_run, summarize, variant
    from jamwatch.simulate.scenario import ScenarioError, load

    table = Table(title=f"jamwatch eval ({runs} runs per scenario, seed {seed})")
    names = [
        "runs", "onset_latency_median_s", "localization_median_km", "localization_p95_km",
        "radius_95_coverage", "unlocated", "extra_sources",
        "event_precision", "event_recall", "spoofing_precision", "spoofing_recall",
    ]  # fmt: skip
    heads = [
        "runs", "onset s", "loc med km", "loc p95 km", "r95 cov", "unloc", "extra",
        "ev P", "ev R", "spoof P", "spoof R",
    ]  # fmt: skip
    table.add_column("scenario", no_wrap=True)
    for h in heads:
        table.add_column(h, justify="right", no_wrap=True)
    try:
        bases = [(name, load(name)) for name in scenarios]
    except ScenarioError as exc:
        raise fail(str(exc)) from exc
    everything = []
    columns = (
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    )  # fmt: skip
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("evaluating", total=runs * len(bases))
        for name, base in bases:
            progress.update(task, description=f"evaluating {name}")
            rng = np.random.default_rng(seed)
            results = []
            for k in range(runs):
                results.append(evaluate_run(variant(base, rng), seed * 1000 + k))
                progress.advance(task)
            everything += results
            s = summarize(results)
            table.add_row(name, *("-" if s[n] is None else f"{s[n]:.3g}" for n in names))
    if len(scenarios) > 1:
        s = summarize(everything)
        table.add_row("all", *("-" if s[n] is None else f"{s[n]:.3g}" for n in names))
    console.width = max(console.width, 150)
    console.print(table)
