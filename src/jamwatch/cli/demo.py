"""``jamwatch demo``: the main job, end to end, on a scenario bundled with the package.

It runs the same commands a user would: ``simulate`` the Korean West Sea scenario (jammers
near Kaesong and Haeju under generated Incheon traffic, and the ships of the West Sea with a
spoofer near Yeonpyeong) into ISO-time hex lines, AIS sentences and truth tables, ``decode``
the frames once into Parquet, ``detect`` jamming events (aircraft and ships), their
transmitters and the spoofing episodes in the decoded table and the AIS (``events.json``),
then ``map`` aircraft and ships into the interference map, events drawn.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from jamwatch.cli.app import app, console
from jamwatch.cli.decode import decode
from jamwatch.cli.detect import detect_command
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
    """Simulate jamming over the Korean West Sea, detect the events, map both; says what to open."""
    output.mkdir(parents=True, exist_ok=True)
    frames = output / f"{DEMO_SCENARIO}.txt"
    truth = output / f"{DEMO_SCENARIO}.truth.parquet"
    ships = output / f"{DEMO_SCENARIO}.ships.nmea"
    ships_truth = output / f"{DEMO_SCENARIO}.ships-truth.parquet"
    decoded = output / f"{DEMO_SCENARIO}.decoded.parquet"
    events_file = output / "events.json"
    console.rule(f"1/4 jamwatch simulate {DEMO_SCENARIO}")
    simulate(
        DEMO_SCENARIO, frames, truth, seed=DEMO_SEED, fmt=OutFormat.hex, ships=ships,
        ships_truth=ships_truth,
    )  # fmt: skip
    console.rule("2/4 jamwatch decode")
    decode([frames], decoded)
    console.rule("3/4 jamwatch detect")
    detect_command([decoded, ships], output=events_file)
    events = json.loads(events_file.read_text())
    jamming = [e for e in events if e["kind"] == "jamming"]
    located = sum(e.get("source") is not None for e in jamming)
    vessels = len({m for e in jamming for m in e.get("vessels") or []})
    ship_spoofing = sum("mmsi" in e for e in events)
    console.print(
        f"events found: {len(events)} ({len(jamming)} jamming, {located} of them with an "
        f"estimated source, {vessels} ships among them; {len(events) - len(jamming)} "
        f"spoofing, {ship_spoofing} of them ships)"
    )
    console.rule("4/4 jamwatch map")
    map_dir = output / "map"
    map_command([decoded, ships], out=map_dir, window="hour", events=[events_file])
    console.rule("done")
    # paths are printed whole (no wrapping) so that they can be copied
    console.print(f"raw frames: {frames.resolve()}", soft_wrap=True)
    console.print(f"truth: {truth.resolve()}", soft_wrap=True)
    console.print(f"ships' AIS: {ships.resolve()}", soft_wrap=True)
    console.print(f"decoded frames: {decoded.resolve()}", soft_wrap=True)
    console.print(f"events: {events_file.resolve()}", soft_wrap=True)
    index = (map_dir / "index.html").resolve()
    console.print(f"open the map in a browser (works offline): {index}", soft_wrap=True)
    console.print(f"static map for reports: {(map_dir / 'map.png').resolve()}", soft_wrap=True)
