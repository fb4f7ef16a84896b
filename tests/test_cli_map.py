"""``jamwatch map`` end to end on real inputs (gpsjam file read from ../shared/data, not copied)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from conftest import shared_path
from jamwatch.cli import app


def test_map_from_a_gpsjam_file_writes_every_output(tmp_path: Path) -> None:
    src = shared_path("gpsjam", "2022-03-05-h3_4.csv")
    out = tmp_path / "map"
    result = CliRunner().invoke(app, ["map", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    for name in (
        "index.html",
        "app.js",
        "cells.js",
        "basemap.js",
        "cells.parquet",
        "cells.geojson",
        "map.png",
        "pydeck.js",
        "THIRD_PARTY.md",
    ):
        assert (out / name).stat().st_size > 0, name
    cells = pq.read_table(out / "cells.parquet")
    assert cells.num_rows == 65_280  # the file's data lines
    assert cells.column("level").to_pylist().count("red") == 282  # as in manifest.csv
    # deck.gl is the installed pydeck's bundle, copied unchanged; nothing vendored in the package
    from jamwatch.serve.site import deck_bundle

    assert (out / "pydeck.js").read_bytes() == deck_bundle().read_bytes()
    assert "createDeck" in (out / "pydeck.js").read_text()
    assert '<script src="pydeck.js">' in (out / "index.html").read_text()
    # the gpsjam file written back is the input, byte for byte
    assert (out / src.name).read_bytes() == src.read_bytes()


def test_map_reports_a_bad_input_clearly(tmp_path: Path) -> None:
    bad = tmp_path / "2022-01-01-h3_4.csv"
    bad.write_text("hex,count_good_aircraft,count_bad_aircraft\n84a9737ffffffff,-1,0\n")
    result = CliRunner().invoke(app, ["map", str(bad), "-o", str(tmp_path / "m")])
    assert result.exit_code == 2
    assert "2022-01-01-h3_4.csv:2: negative count_good_aircraft" in result.output


def test_map_has_help() -> None:
    result = CliRunner().invoke(app, ["map", "--help"])
    assert result.exit_code == 0 and "H3" in result.output
