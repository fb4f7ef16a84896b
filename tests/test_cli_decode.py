"""The ``jamwatch decode`` and ``jamwatch demo`` commands, and help text for every command."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from typer.testing import CliRunner

import jamwatch
from conftest import shared_path
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
    assert pc.count(table["latitude"]).as_py() == 932  # 937 position frames, see docs/decoder.md
    assert "positions decoded" in result.output and "932" in result.output
    assert "TC19" in result.output and "965" in result.output


def test_beast_sample_keeps_every_frame() -> None:
    """xoolive/traffic sample_dump1090.bin: 239 frames, each kept (fields: test_decoder_golden)."""
    table = jamwatch.decode(
        shared_path("adsb", "dump1090_sample.beast"), start=datetime(2020, 1, 1, tzinfo=UTC)
    )
    assert table.num_rows == 239
    # the first frame (1a 32 | 00 00 15 a8 87 7e | ...) is at the start given; the last one
    # (counter 00 00 26 c3 e4 22) 23.917155 s later (the 12 MHz counter is relative)
    start_ns = 1_577_836_800 * 10**9
    assert table["time"][0].value == start_ns
    assert table["time"][238].value == start_ns + round((0x26C3E422 - 0x15A8877E) * 1e9 / 12e6)
    # the sample holds 23 CRC-valid extended squitters among mostly DF11/DF20/DF21 replies
    valid = pc.and_(pc.is_in(table["df"], pa.array([17, 18], pa.uint8())), table["crc_ok"])
    assert pc.sum(valid).as_py() == 23


def test_bad_inputs_are_reported_and_good_ones_kept(tmp_path: Path) -> None:
    good = tmp_path / "good.txt.gz"
    with gzip.open(good, "wb") as fh:
        fh.write(shared_path("adsb", "pymodes_mixed_2015-03-03.txt").read_bytes())
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 40)
    missing = tmp_path / "missing.beast"
    out = tmp_path / "out.parquet"
    result = runner.invoke(app, ["decode", str(junk), str(good), str(missing), "-o", str(out)])
    assert result.exit_code == 1
    assert "junk.bin" in result.output and "missing.beast" in result.output
    table = pq.read_table(out)
    assert table.num_rows == 4516  # every frame of the good file is kept


def test_unknown_format_option_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["decode", "x", "-o", str(tmp_path / "o.parquet"), "--format", "zz"]
    )
    assert result.exit_code == 2
    assert "unknown --format" in result.output


def test_demo_simulates_and_maps_the_korean_west_sea(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "-o", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    out = tmp_path / "demo"
    truth = pq.read_table(out / "korea-west-sea.truth.parquet", columns=["effect"])
    lines = (out / "korea-west-sea.txt").read_text().count("\n")
    assert lines == truth.num_rows  # one frame per truth row
    for name in ("index.html", "cells.parquet", "cells.geojson", "map.png"):
        assert (out / "map" / name).stat().st_size > 0, name
    cells = pq.read_table(out / "map" / "cells.parquet")
    levels = cells["level"].to_pylist()
    # the scenario jams aircraft (its truth says so), and the map shows it in red cells
    assert pc.sum(pc.equal(truth["effect"].cast(pa.string()), "jammed")).as_py() > 0
    assert levels.count("red") >= 1
    assert "index.html" in result.output
    # detect ran between simulate and map: at least one jamming event with a located source,
    # and the map drew what events.json holds
    events = json.loads((out / "events.json").read_text())
    jamming = [e for e in events if e["kind"] == "jamming"]
    assert any(e["source"] is not None for e in jamming)
    for e in jamming:
        if e["source"] is not None:
            assert -90 <= e["source"]["latitude"] <= 90 and e["source"]["radius_95_km"] > 0
    assert f"events found: {len(events)} ({len(jamming)} jamming" in result.output
    page = (out / "map" / "events.js").read_text()
    assert page.startswith("window.JAMWATCH_EVENTS = ")
    drawn = json.loads(page.removeprefix("window.JAMWATCH_EVENTS = ").rstrip().rstrip(";"))
    assert len(drawn) == len(events)
    assert [d["k"] for d in drawn] == [e["kind"] for e in events]
    # the ships: those the spoofer near Yeonpyeong captured have episodes, none other; the
    # jamming event holds ships as well as aircraft, each one its truth says was jammed
    ships = pq.read_table(out / "korea-west-sea.ships-truth.parquet").to_pylist()
    spoofed = {r["mmsi"] for r in ships if r["effect"] == "spoofed"}
    jammed = {r["mmsi"] for r in ships if r["effect"] == "jammed"}
    episodes = {e["mmsi"] for e in events if "mmsi" in e}
    assert episodes and episodes <= spoofed
    vessels = {m for e in jamming for m in e.get("vessels") or []}
    assert vessels and vessels <= jammed | spoofed
    assert any(e["aircraft"] and e.get("vessels") for e in jamming)
    # and the map counts the ships per cell: bad ones where the jammer and spoofer act
    assert pc.sum(cells["count_bad_vessels"]).as_py() > 0
    assert pc.sum(cells["count_good_vessels"]).as_py() > 0
    assert '"vb": ' in (out / "map" / "cells.js").read_text()
    tracks = (out / "map" / "ships.js").read_text()  # the ships' tracks, spoofed runs apart
    assert '"s": 0' in tracks and '"s": 1' in tracks


def _tar(path: Path, members: list[tuple[str, bytes]]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_767_657_600
            tar.addfile(info, io.BytesIO(data))


def test_decode_reads_a_tar_archive_member_by_member(tmp_path: Path) -> None:
    """Two real Helsinki recordings in a gzip tar (with a notes file beside them) decode to
    the same table as the two files given directly, each with its start from files.csv
    (matched by its file name in the archive)."""
    names = ["raw_adsb_20260106_025741.bin.xz", "raw_adsb_20260106_031251.bin.xz"]
    files = [shared_path("helsinki", n) for n in names]
    starts = shared_path("helsinki", "files.csv")
    day = tmp_path / "day.tar.gz"
    _tar(day, [(f"day/{p.name}", p.read_bytes()) for p in files] + [("day/notes.txt", b"hi\n")])
    direct, archived = tmp_path / "direct.parquet", tmp_path / "archived.parquet"
    res = runner.invoke(
        app, ["decode", *map(str, files), "--starts", str(starts), "-o", str(direct)]
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["decode", str(day), "--starts", str(starts), "-o", str(archived)])
    assert res.exit_code == 1  # the notes file is named as not raw frames
    assert "day/notes.txt: not raw frames; skipped" in res.output
    one, two = pq.read_table(direct), pq.read_table(archived)
    assert one.num_rows > 60_000 and one.equals(two)
    # the first frame is at the first file's start (2026-01-06T00:57:41Z in files.csv)
    assert one["time"][0].value == 1_767_661_061 * 10**9


def test_decode_keeps_the_members_before_an_archive_is_cut(tmp_path: Path) -> None:
    src = shared_path("adsb", "pymodes_mixed_2015-03-03.txt")
    whole = tmp_path / "whole.tar.gz"
    _tar(whole, [("a.txt", src.read_bytes()), ("b.txt", src.read_bytes())])
    cut = tmp_path / "cut.tar.gz"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) * 3 // 4])
    out = tmp_path / "out.parquet"
    res = runner.invoke(app, ["decode", str(cut), "-o", str(out)])
    assert res.exit_code == 1
    assert "damaged archive" in res.output
    assert pq.read_table(out).num_rows >= 4516  # a.txt whole (4,516 frames), b.txt in part
