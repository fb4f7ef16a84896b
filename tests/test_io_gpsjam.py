"""gpsjam.org daily files: exact round trip on the two real files, classes, clear errors.

The real files come from guofengji/gpsjam.org (mirror of wiseman/gpsjam.org) public/data @
6dc3d491; they carry no licence, so they are read from ../shared/data and never copied here.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_path
from jamwatch.aggregate import cells_from_counts
from jamwatch.io.gpsjam import GpsjamFormatError, read_gpsjam, write_gpsjam


@pytest.mark.parametrize("day", ["2022-02-24", "2022-03-05"])
def test_real_file_round_trip_and_classes(day: str, tmp_path: Path) -> None:
    path = shared_path("gpsjam", f"{day}-h3_4.csv")
    table = read_gpsjam(path)
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    assert table.num_rows == len(rows)
    out = tmp_path / path.name
    write_gpsjam(table, out)
    assert out.read_bytes() == path.read_bytes()
    assert read_gpsjam(out).equals(table)
    cells = cells_from_counts(table)
    expected = []
    for row in rows:  # the rule of DESIGN.md, computed here row by row
        good, bad = int(row["count_good_aircraft"]), int(row["count_bad_aircraft"])
        pct = 100 * (bad - 1) / (good + bad)
        expected.append("green" if pct < 2 else "yellow" if pct < 10 else "red")
    assert cells.column("level").to_pylist() == expected
    assert cells.column("hex").to_pylist() == [r["hex"] for r in rows]
    levels = np.array(expected)
    assert (levels == "red").sum() > 0 and (levels == "green").sum() > 0
    assert {str(t.date()) for t in cells.column("window_start").to_pylist()} == {day}


@pytest.mark.parametrize("day", ["2022-02-24", "2022-03-05"])
def test_red_cells_match_the_published_manifest(day: str) -> None:
    # manifest.csv (same source) gives num_bad_aircraft_hexes per day: 143 and 282
    with shared_path("gpsjam", "manifest.csv").open() as fh:
        manifest = {r["date"]: int(r["num_bad_aircraft_hexes"]) for r in csv.DictReader(fh)}
    cells = cells_from_counts(read_gpsjam(shared_path("gpsjam", f"{day}-h3_4.csv")))
    assert cells.column("level").to_pylist().count("red") == manifest[day]


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("hex,count_good_aircraft\n84a9737ffffffff,2\n", 1, "missing column"),
        (
            "hex,count_good_aircraft,count_bad_aircraft\n84a9737ffffffff,2,0\nzz,1,0\n",
            3,
            "bad H3 index 'zz'",
        ),
        ("hex,count_good_aircraft,count_bad_aircraft\n85a9737ffffffff,2,0\n", 2, "bad H3 index"),
        (
            "hex,count_good_aircraft,count_bad_aircraft\n84a9737ffffffff,-2,0\n",
            2,
            "negative count_good_aircraft",
        ),
        (
            "hex,count_good_aircraft,count_bad_aircraft\n84a9737ffffffff,2,0\n"
            "8435265ffffffff,2,x\n",
            3,
            "non-numeric count_bad_aircraft 'x'",
        ),
    ],
)
def test_bad_file_gives_one_clear_error(tmp_path: Path, body: str, line: int, message: str) -> None:
    path = tmp_path / "2022-01-01-h3_4.csv"
    path.write_text(body)
    with pytest.raises(GpsjamFormatError, match=rf"2022-01-01-h3_4\.csv:{line}: {message}"):
        read_gpsjam(path)
