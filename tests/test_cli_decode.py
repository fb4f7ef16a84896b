"""The ``jamwatch decode`` and ``jamwatch demo`` commands, and help text for every command."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from conftest import shared_path
from typer.testing import CliRunner

import jamwatch
from jamwatch.cli import app
from jamwatch.schema import DECODED

runner = CliRunner()


def test_every_command_has_help_text() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    import typer.main

    group = typer.main.get_command(app)
    names = sorted(group.commands)  # type: ignore[attr-defined]
    assert {"decode", "demo"} <= set(names)
    for name in names:
        sub = runner.invoke(app, [name, "--help"])
        assert sub.exit_code == 0, name
        assert group.commands[name].help, f"{name} has no help text"  # type: ignore[attr-defined]


def test_decode_writes_parquet_and_a_summary(tmp_path: Path) -> None:
    src = shared_path("adsb", "pymodes_sample_data_adsb.csv")
    out = tmp_path / "decoded.parquet"
    result = runner.invoke(app, ["decode", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.schema == DECODED
    assert table.num_rows == 2000
    assert pc.count(table["latitude"]).as_py() == 933
    assert "positions decoded" in result.output and "933" in result.output
    assert "TC19" in result.output and "965" in result.output


def test_beast_sample_decodes_like_pymodes(tmp_path: Path) -> None:
    """xoolive/traffic sample_dump1090.bin: 239 real frames, decoded and compared to pyModeS."""
    pms = pytest.importorskip("pyModeS")
    start = datetime(2020, 1, 1, tzinfo=UTC)
    table = jamwatch.decode(shared_path("adsb", "dump1090_sample.beast"), start=start)
    assert table.num_rows == 239
    rows = table.drop_columns(["time"]).to_pylist()  # ns times do not fit datetime
    frames = pa.concat_arrays(
        [b.column("frame") for b in jamwatch.io.read_frames(
            shared_path("adsb", "dump1090_sample.beast"), start=start)]
    ).to_pylist()
    checked = 0
    for row, frame in zip(rows, frames, strict=True):
        if len(frame) not in (7, 14):
            continue
        ref = pms.decode(frame.hex())
        assert row["df"] == ref["df"]
        if ref.get("crc_valid") is not None:
            assert row["crc_ok"] == ref["crc_valid"]
        if ref["df"] in (17, 18) and ref.get("crc_valid"):
            assert row["tc"] == ref["typecode"]
            if ref["typecode"] == 31:
                assert row["version"] == ref["version"]
                assert row["nacp"] == ref["nac_p"]
            if 9 <= ref["typecode"] <= 18:
                assert row["altitude_baro_ft"] == ref["altitude"]
            checked += 1
    # the sample holds 23 CRC-valid extended squitters among mostly DF11/DF20/DF21 replies
    assert checked == 23


def test_bad_inputs_are_reported_and_good_ones_kept(tmp_path: Path) -> None:
    good = tmp_path / "good.txt.gz"
    with gzip.open(good, "wb") as fh:
        fh.write(shared_path("adsb", "pymodes_mixed_2015-03-03.txt").read_bytes())
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 40)
    missing = tmp_path / "missing.beast"
    out = tmp_path / "out.parquet"
    result = runner.invoke(
        app, ["decode", str(junk), str(good), str(missing), str(tmp_path), "-o", str(out)]
    )
    assert result.exit_code == 1
    assert "junk.bin" in result.output and "missing.beast" in result.output
    table = pq.read_table(out)
    assert table.num_rows == 4516  # every frame of the good file is kept


def test_unknown_format_option_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["decode", "x", "-o", str(tmp_path / "o.parquet"), "--format", "zz"])
    assert result.exit_code == 2
    assert "unknown --format" in result.output


def test_demo_runs_on_bundled_data(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "-o", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    table = pq.read_table(tmp_path / "demo" / "decoded.parquet")
    assert table.num_rows == 239
