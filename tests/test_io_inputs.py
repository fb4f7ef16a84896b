"""The one reading layer (:mod:`jamwatch.io.inputs`): archives, batch sizes, rejects by source.

The recordings are two real Helsinki Beast files (``../shared/data/helsinki``, xz-compressed);
the row counts below are the files' own frame counts, as ``test_cli_inputs`` checks them.
"""

from __future__ import annotations

import gzip
import io
import lzma
import tarfile
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import shared_path
from golden import helsinki_starts
from jamwatch.io import FormatError
from jamwatch.io.inputs import ReadSummary, input_files, read_reports
from jamwatch.io.sniff import sniff

FILES = ("raw_adsb_20260106_015701.bin.xz", "raw_adsb_20260106_021211.bin.xz")


def _recordings() -> list[Path]:
    return [shared_path("helsinki", name) for name in FILES]


def _starts() -> dict[str, datetime]:
    """The data set's files.csv: file name -> UTC start."""
    return helsinki_starts(shared_path("helsinki", "files.csv").parent)


def _table(batches: list[pa.Table]) -> pa.Table:
    return pa.concat_tables(batches, promote_options="default")


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 1_767_657_600
    tar.addfile(info, io.BytesIO(data))


def _archive(path: Path, mode: str, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, mode) as tar:
        for name, data in members.items():
            _add(tar, name, data)
    return path


def _plain() -> pa.Table:
    summary = ReadSummary()
    table = _table(list(read_reports(_recordings(), summary, starts=_starts())))
    assert summary.inputs["raw"] == 2
    return table


def test_reports_do_not_depend_on_the_batch_size() -> None:
    # each aircraft's decoder state (CPR frames, NIC supplements) carries across batches
    whole = _plain()
    small = _table(list(read_reports(_recordings(), starts=_starts(), batch_rows=997)))
    assert whole.num_rows > 90_000  # (positions, velocities, identities of 97,357 frames)
    assert small.equals(whole)
    # a quiet night hour: 428 positions, each needing a CPR pair that may straddle batches
    assert int(pa.compute.count(whole.column("latitude")).as_py()) > 400


def test_a_tar_archive_reads_as_its_members(tmp_path: Path) -> None:
    # a gzip-compressed tar whose members are themselves xz, or gzip, with a README beside
    first, second = (p.read_bytes() for p in _recordings())
    second_gz = gzip.compress(lzma.decompress(second))
    tar = _archive(
        tmp_path / "day.tar.gz", "w:gz",
        {f"raw/{FILES[0]}": first, "raw/second.bin.gz": second_gz, "README.md": b"notes\n"},
    )  # fmt: skip
    assert sniff(tar).kind == "archive"
    starts = {**_starts(), "second.bin.gz": _starts()[FILES[1]]}
    summary = ReadSummary()
    table = _table(list(read_reports([tar], summary, starts=starts)))
    assert table.equals(_plain())
    assert summary.inputs["archive"] == 1 and summary.inputs["raw"] == 2
    assert [r.source for r in summary.recordings] == [
        f"{tar}:raw/{FILES[0]}", f"{tar}:raw/second.bin.gz"
    ]  # fmt: skip
    assert [r.start for r in summary.recordings] == ["given", "given"]
    assert summary.source_rejects[f"{tar}:README.md"] == {"archive member that is not reports": 1}
    assert not list(tmp_path.glob("**/*.bin*"))  # the members' copies are gone


def test_a_zstd_tar_with_hostile_member_names_writes_nothing_outside(tmp_path: Path) -> None:
    # a tar compressed as a whole with zstd, one member named to climb out of the folder
    raw = tmp_path / "day.tar"
    _archive(raw, "w", {f"../../escape/{FILES[0]}": _recordings()[0].read_bytes()})
    zst = tmp_path / "day.tar.zst"
    with pa.output_stream(str(zst), compression="zstd") as out:
        out.write(raw.read_bytes())
    summary = ReadSummary()
    table = _table(list(read_reports([zst], summary, starts=_starts())))
    assert table.num_rows > 50_000
    assert summary.recordings[0].frames == 60_106
    assert not (tmp_path.parent / "escape").exists()
    assert not list(tmp_path.parent.parent.glob("escape"))


def test_a_truncated_archive_keeps_the_members_before_the_damage(tmp_path: Path) -> None:
    first = _recordings()[0].read_bytes()
    tar = _archive(tmp_path / "day.tar", "w", {"a.bin.xz": first, "b.bin.xz": first})
    data = tar.read_bytes()
    cut = tmp_path / "cut.tar"
    cut.write_bytes(data[: len(data) - len(first) // 2 - 2048])  # the second member half gone
    summary = ReadSummary()
    starts = {"a.bin.xz": _starts()[FILES[0]], "b.bin.xz": _starts()[FILES[0]]}
    table = _table(list(read_reports([cut], summary, starts=starts)))
    assert [r.source for r in summary.recordings] == [f"{cut}:a.bin.xz", f"{cut}:b.bin.xz"]
    assert summary.recordings[0].frames == 60_106
    assert 0 < summary.recordings[1].frames < 60_106  # what came before the cut is kept
    assert table.num_rows > 60_106
    assert summary.source_rejects[str(cut)] == {"damaged archive (ReadError)": 1}


def test_rejects_are_counted_by_source_and_reason(tmp_path: Path) -> None:
    good = tmp_path / "good.parquet"
    pq.write_table(
        pa.table({
            "time": pa.array([1_767_657_600 * 10**9] * 3, pa.timestamp("ns", "UTC")),
            "icao": ["4ca1b2", "4ca1b2", "4ca1b2"],
            "latitude": [60.1, 95.0, 60.2],  # one latitude out of range
            "longitude": [24.8, 24.8, 24.9],
        }),
        good,
    )  # fmt: skip
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1" + b"\0" * 64)
    summary = ReadSummary()
    table = _table(list(read_reports([good, broken], summary)))
    assert table.num_rows == 2
    assert summary.source_rejects[str(broken)] == {"unreadable Parquet file": 1}
    assert sum(summary.source_rejects[str(good)].values()) == 1
    assert sum(summary.rejects.values()) == 2


def test_input_files_walks_folders_and_patterns(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/x.bin", "a/b/y.bin", "a/.hidden.bin", "a/b/z.txt"):
        (tmp_path / name).write_bytes(b"")
    files, skipped = input_files([tmp_path / "a"], lambda p: p.suffix == ".bin")
    assert [f.relative_to(tmp_path).as_posix() for f in files] == ["a/b/y.bin", "a/x.bin"]
    assert skipped == ["a/b/z.txt"]
    files, _ = input_files([tmp_path / "a" / "**" / "*.bin"], lambda p: True)
    assert [f.name for f in files] == ["y.bin", "x.bin"]
    with pytest.raises(FileNotFoundError, match="no file matches"):
        input_files([tmp_path / "*.nothing"], lambda p: True)
    with pytest.raises(FileNotFoundError, match="no input in this folder"):
        input_files([tmp_path / "a" / "b"], lambda p: p.suffix == ".csv")


def test_a_file_that_is_no_input_names_what_was_tried(tmp_path: Path) -> None:
    odd = tmp_path / "notes.txt"
    odd.write_text("hello\n" * 100)
    with pytest.raises(FormatError, match="tried a tar archive"):
        list(read_reports([odd]))


def test_a_split_tar_is_one_input_named_by_its_first_part(tmp_path: Path) -> None:
    from jamwatch.io.streams import open_stream

    parts = [tmp_path / f"day.tar.a{c}" for c in "abc"]
    for k, part in enumerate(parts):
        part.write_bytes(bytes([k]) * 1000)
    given = [parts[1], parts[0], parts[2]]  # (any order, as a shell glob or by hand)
    assert input_files(given, lambda p: True) == ([parts[0]], [])
    assert input_files([tmp_path], lambda p: True) == ([parts[0]], [])
    with open_stream(parts[0]) as joined:
        assert joined.read() == b"\x00" * 1000 + b"\x01" * 1000 + b"\x02" * 1000
    # a compressed tar is no part, though its suffix could be one
    packed = tmp_path / "other.tar.gz"
    packed.write_bytes(gzip.compress(b"x"))
    assert input_files([packed], lambda p: True)[0] == [packed]
    parts[0].unlink()
    with pytest.raises(FileNotFoundError, match=r"first part, day\.tar\.aa, is missing"):
        input_files([parts[1]], lambda p: True)
    # in a folder, parts without their first are named among the files skipped
    kept, skipped = input_files([tmp_path], lambda p: p.suffix == ".gz")
    assert kept == [packed] and sorted(skipped) == [f"{tmp_path.name}/day.tar.a{c}" for c in "bc"]
