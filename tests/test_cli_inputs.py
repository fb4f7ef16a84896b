"""Folders as inputs: ``jamwatch decode/detect/map DIR`` read the files jamwatch reads under it."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from conftest import shared_path
from jamwatch.cli import app
from jamwatch.cli.app import reflow

runner = CliRunner()
FILES = ("raw_adsb_20260106_015701.bin.xz", "raw_adsb_20260106_021211.bin.xz")


def _folder(tmp_path: Path) -> Path:
    """Two real Helsinki recordings one folder down, beside files.csv, a README and a hidden
    file: what a copied data set looks like."""
    helsinki = shared_path("helsinki")
    root = tmp_path / "day"
    (root / "raw").mkdir(parents=True)
    for name in FILES:
        shutil.copy(helsinki / name, root / "raw" / name)
    shutil.copy(helsinki / "files.csv", root / "files.csv")
    (root / "README.md").write_text("recordings of one receiver\n")
    (root / ".notes").write_text("not an input\n")
    return root


def test_decode_of_a_folder_equals_decode_of_its_recordings(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    starts = str(root / "files.csv")
    whole = tmp_path / "folder.parquet"
    result = runner.invoke(app, ["decode", str(root), "-o", str(whole), "--starts", starts])
    assert result.exit_code == 0, result.output
    assert "skipped 2 files that are not inputs: day/README.md, day/files.csv" in result.output
    assert ".notes" not in result.output
    one_by_one = tmp_path / "files.parquet"
    named = [str(root / "raw" / n) for n in FILES]
    result = runner.invoke(app, ["decode", *named, "-o", str(one_by_one), "--starts", starts])
    assert result.exit_code == 0, result.output
    a, b = pq.read_table(whole), pq.read_table(one_by_one)
    assert a.num_rows == b.num_rows == 97_357  # 60,106 + 37,251 frames (the files' own counts)
    assert a.equals(b)


def test_detect_and_map_take_a_folder(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    starts = str(root / "files.csv")
    events = tmp_path / "events.json"
    result = runner.invoke(app, ["detect", str(root), "-o", str(events), "--starts", starts])
    assert result.exit_code == 0, result.output
    assert "reports: 97,357" in result.output
    shutil.copy(events, root / "events.json")  # an events file in the folder is drawn too
    result = runner.invoke(app, ["map", str(root), "-o", str(tmp_path / "m"), "--starts", starts])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "m" / "index.html").is_file()
    assert "skipped 2 files" in result.output


def test_detect_reads_an_archive_of_the_folder_as_the_folder(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    starts = str(root / "files.csv")
    archive = tmp_path / "day.tar.bz2"
    with tarfile.open(archive, "w:bz2") as tar:
        tar.add(root, arcname="day")
    out = {}
    for name, source in (("folder", root), ("archive", archive)):
        events = tmp_path / f"{name}.json"
        result = runner.invoke(app, ["detect", str(source), "-o", str(events), "--starts", starts])
        assert result.exit_code == 0, result.output
        assert "reports: 97,357" in result.output
        assert "no --start" not in result.output  # the members found their starts by name
        out[name] = events.read_text()
    assert out["archive"] == out["folder"]


def test_a_glob_pattern_stands_for_the_files_it_matches(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    starts = str(root / "files.csv")
    out = tmp_path / "globbed.parquet"
    pattern = str(root / "**" / "*_0157*.bin.xz")  # the first recording only
    result = runner.invoke(app, ["decode", pattern, "-o", str(out), "--starts", starts])
    assert result.exit_code == 0, result.output
    assert pq.read_table(out).num_rows == 60_106  # that file's own frame count
    result = runner.invoke(app, ["decode", str(root / "*.nothing"), "-o", str(out)])
    assert result.exit_code != 0
    assert "no file matches" in result.output


def test_a_folder_without_inputs_and_a_missing_path_are_clear_errors(tmp_path: Path) -> None:
    empty = tmp_path / "notes"
    empty.mkdir()
    (empty / "a.txt").write_text("nothing to read\n")
    result = runner.invoke(app, ["detect", str(empty), "-o", str(tmp_path / "e.json")])
    assert result.exit_code != 0
    assert "no input in this folder (1 files looked at" in result.output
    result = runner.invoke(app, ["map", str(tmp_path / "absent"), "-o", str(tmp_path / "m")])
    assert result.exit_code != 0
    assert "not a file or folder:" in result.output


def test_decode_keeps_the_good_recordings_beside_a_missing_one(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    out = tmp_path / "o.parquet"
    result = runner.invoke(app, ["decode", str(root), str(tmp_path / "gone.beast"), "-o", str(out)])
    assert result.exit_code == 1
    assert "gone.beast" in result.output
    assert pq.read_table(out).num_rows == 97_357


def test_help_paragraphs_are_left_to_the_terminal_to_wrap() -> None:
    """The help renderer keeps single line breaks, which then break again at any width
    narrower than the source's: every command's help has none inside a paragraph (list items
    keep their own lines); ``reflow`` joins them."""
    assert reflow("One\n  two\n\n- a\n  b\n- c\n") == "One two\n\n- a b\n- c"
    for info in app.registered_commands:
        assert info.help, info.name
        for par in info.help.split("\n\n"):
            for line in par.split("\n")[1:]:
                assert line.startswith("- "), (info.name, line)
    result = CliRunner().invoke(app, ["detect", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "give each its start with --start (once per input, in order)" in result.output
