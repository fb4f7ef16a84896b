"""``jamwatch demo``: the main job, end to end, on a scenario bundled with the package.

It runs the same commands a user would: ``simulate`` the Korean West Sea scenario (jammers
near Kaesong and Haeju under generated Incheon traffic) into ISO-time hex lines and a truth
table, then ``map`` those raw frames (decoded on the way) into the interference map.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jamwatch.cli.app import app, console
from jamwatch.cli.map import map_command
from jamwatch.cli.simulate import OutFormat, simulate

DEMO_SCENARIO = "korea-west-sea"
DEMO_SEED = 1


@app.command()
def demo(
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the results.")] = Path(
        "jamwatch-demo"
    ),
) -> None:
    """Simulate jamming over the Korean West Sea, then map it; says what to open."""
    output.mkdir(parents=True, exist_ok=True)
    frames = output / f"{DEMO_SCENARIO}.txt"
    truth = output / f"{DEMO_SCENARIO}.truth.parquet"
    console.rule(f"1/2 jamwatch simulate {DEMO_SCENARIO}")
    simulate(DEMO_SCENARIO, frames, truth, seed=DEMO_SEED, fmt=OutFormat.hex)
    console.rule("2/2 jamwatch map")
    map_dir = output / "map"
    map_command([frames], out=map_dir, window="hour")
    console.rule("done")
    # paths are printed whole (no wrapping) so that they can be copied
    console.print(f"raw frames: {frames.resolve()}", soft_wrap=True)
    console.print(f"truth: {truth.resolve()}", soft_wrap=True)
    index = (map_dir / "index.html").resolve()
    console.print(f"open the map in a browser (works offline): {index}", soft_wrap=True)
    console.print(f"static map for reports: {(map_dir / 'map.png').resolve()}", soft_wrap=True)
