"""``jamwatch eval SCENARIO... [--runs N] [--seed S]``: detectors measured against the truth."""

from __future__ import annotations

from typing import Annotated

import typer
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
        "event_precision", "event_recall", "spoofing_precision", "spoofing_recall",
    ]  # fmt: skip
    heads = ["runs", "onset s", "loc med km", "loc p95 km", "ev P", "ev R", "spoof P", "spoof R"]
    table.add_column("scenario", no_wrap=True)
    for h in heads:
        table.add_column(h, justify="right", no_wrap=True)
    everything = []
    for name in scenarios:
        try:
            base = load(name)
        except ScenarioError as exc:
            raise fail(str(exc)) from exc
        rng = np.random.default_rng(seed)
        results = []
        for k in range(runs):
            results.append(evaluate_run(variant(base, rng), seed * 1000 + k))
        everything += results
        s = summarize(results)
        table.add_row(name, *("-" if s[n] is None else f"{s[n]:.3g}" for n in names))
    if len(scenarios) > 1:
        s = summarize(everything)
        table.add_row("all", *("-" if s[n] is None else f"{s[n]:.3g}" for n in names))
    console.width = max(console.width, 120)
    console.print(table)
