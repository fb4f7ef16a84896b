"""The ship simulator and the ship detectors measured over its family.

The ship signals' thresholds (:class:`jamwatch.signals.ships.ShipConfig`) were set before
the simulator existed. Seeds 101-107 and 7 of :func:`jamwatch.detect.evaluate_ships.
ship_variant` were used in development: they found faults, since fixed (a spoofer's fixed
point read as a frozen fix; a move between two ships under one MMSI read as a held point; a
repeated fix that refreshed the ship's reach; and, in the simulator's truth, a spoofed fix
repeated by a unit that then lost lock counted as jamming). Seed 7 was first this test's
seed and failed (two fishing vessels flagged, both that truth fault); seed 8 below was not
looked at before the bounds were written: they are the targets of the ships' issue (0.95
for reports, 0.9 for ships). The jamming recall of reports was bound at 0.8 while it missed
its target (0.93-0.96 on the development seeds); it is bound at the target since a frozen
unit's static data and a frozen fix's first repeats count as lost (0.99 on development
seeds 101-103, where that change was made). The bounds on the recall of jammed ships were
added when the silence became relative to the ship's own interval (it was 10 minutes),
again before seed 8 was run with it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from jamwatch.detect.evaluate_ships import evaluate_ship_run, ship_variant, summarize_ships
from jamwatch.simulate.scenario import load
from jamwatch.simulate.ships import ShipFamily, ShipSpoofer, simulate_ships

pyais = pytest.importorskip("pyais")


def test_simulated_nmea_reads_back_as_pyais_reads_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from jamwatch.decoder.ais_files import read_ais

    sc = load("korea-west-sea")
    spoofer = ShipSpoofer(37.62, 125.75, 30.0, 37.5, 125.5, "circle", 2000.0, 600.0)
    lines, truth = simulate_ships(
        sc.start_ns, 1800.0, sc.transmitters, (spoofer,), ShipFamily(), sc.model, seed=3
    )  # fmt: skip
    path = tmp_path / "ships.nmea"
    path.write_text("\n".join(lines) + "\n")
    decoded, _, _, errors = read_ais([path])
    assert errors == [] and decoded.num_rows == truth.num_rows == len(lines) > 1000
    assert decoded.column("mmsi").to_pylist() == truth.column("mmsi").to_pylist()
    ms = 1_000_000  # (the tag block's time is in milliseconds)
    sent = truth.column("time").cast(pa.int64()).to_numpy() // ms * ms
    assert (decoded.column("time").cast(pa.int64()).to_numpy() == sent).all()
    rows = decoded.to_pylist()
    for line, row in zip(lines[::7], rows[::7], strict=True):
        msg = pyais.decode(line.split("\\")[-1]).asdict()
        assert msg["msg_type"] == row["msg_type"] and msg["mmsi"] == row["mmsi"]
        if row["msg_type"] in (1, 18):
            lat = None if msg["lat"] == 91.0 else msg["lat"]
            assert row["latitude"] == pytest.approx(lat, abs=1e-6)
            speed = None if msg["speed"] == 102.3 else msg["speed"]
            assert row["sog_kt"] == pytest.approx(speed, abs=1e-9)


def test_ship_detectors_over_the_family() -> None:
    sc = load("korea-west-sea")
    rng = np.random.default_rng(8)
    runs = [evaluate_ship_run(sc, *ship_variant(sc, rng), 8000 + k) for k in range(8)]
    s = summarize_ships(runs)
    assert s["spoof_reports_precision"] >= 0.95 and s["spoof_reports_recall"] >= 0.95
    assert s["spoof_ships_precision"] >= 0.9 and s["spoof_ships_recall"] >= 0.9
    assert s["jam_reports_precision"] >= 0.95 and s["jam_reports_recall"] >= 0.95
    assert s["jam_ships_precision"] >= 0.9 and s["jam_ships_recall"] >= 0.9
    assert s["jam_event_ships_precision"] >= 0.9 and s["jam_event_ships_recall"] >= 0.9
    assert s["loops_flagged"] == 0  # fishing vessels that really loop are never flagged
    # every kind of response and spoofing was drawn
    assert {r["response"] for r in runs} >= {"silent", "frozen", "not_available"}
    assert {r["mode"] for r in runs} == {"circle", "point"}


def test_a_scenario_names_its_ships_and_bad_tables_are_refused() -> None:
    from jamwatch.simulate.scenario import ScenarioError, parse

    sc = load("korea-west-sea")
    assert sc.ships is not None and len(sc.ships.lanes) == 5
    (spoofer,) = sc.ships.spoofers
    assert spoofer.mode == "circle" and spoofer.schedule == (
        (sc.start_ns + 1800 * 10**9, sc.end_ns),
    )
    base = {"name": "x", "start": "2024-05-29T06:00:00Z", "duration_s": 600}
    for ships, says in (
        ({"lanes": "nowhere"}, "ships.lanes"),
        ({"lanes": "west-sea", "spoofers": [{"latitude": 37.0}]}, "ships.spoofers[0]"),
        ({"lanes": "west-sea", "spoofers": [{"latitude": 37.0, "longitude": 125.0, "reach_km": 9,
          "centre_lat": 37.0, "centre_lon": 125.0, "mode": "square"}]}, "'circle' or 'point'"),
        ({"lanes": "west-sea", "colour": "red"}, "colour"),
    ):  # fmt: skip
        with pytest.raises(ScenarioError, match=says.replace("[", r"\[").replace("]", r"\]")):
            parse({**base, "ships": ships}, Path("."))
