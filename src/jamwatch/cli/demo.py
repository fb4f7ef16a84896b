"""``jamwatch demo``: the main job on the data bundled with the package."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from jamwatch.cli.app import app, console
from jamwatch.cli.decode import print_outcome, run_decode

#: the bundled Beast sample carries only a 12 MHz counter; anchor it at a fixed, documented time
DEMO_START = datetime(2020, 1, 1, tzinfo=UTC)


def demo_file(name: str) -> Path:
    """Path of a file bundled under ``jamwatch/data/demo``."""
    return Path(str(resources.files("jamwatch") / "data" / "demo" / name))


@app.command()
def demo(
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the results.")] = Path(
        "jamwatch-demo"
    ),
) -> None:
    """Run jamwatch on its bundled demo data and say where the results are."""
    output.mkdir(parents=True, exist_ok=True)
    decoded = output / "decoded.parquet"
    rep, reports, errors = run_decode(
        [demo_file("dump1090_sample.beast")], decoded, fmt=None, start=DEMO_START
    )
    print_outcome(rep, reports, errors)
    console.print(f"decoded frames: {decoded.resolve()}")
    if errors:
        raise typer.Exit(1)
