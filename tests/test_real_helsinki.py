"""The real Helsinki recording: 58 Beast files of one receiver during Baltic GNSS jamming.

../shared/data/helsinki (rwiren/adsb-research-grid, MIT): one RTL-SDR + readsb receiver near
Helsinki (60.3196 N, 24.8308 E), 2026-01-05 23:57 to 2026-01-06 14:24 UTC, about 15 minutes a
file; files.csv gives each file's start in UTC. The 12 MHz counter runs freely from the
receiver's start (and restarts every two hours or so), so every time here comes from files.csv.
"""

from __future__ import annotations

import lzma
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import jamwatch
from conftest import shared_path
from golden import helsinki_starts
from jamwatch.io import ReadReport, read_frames
from jamwatch.io.beast import parse_beast

FILE_SPAN = timedelta(minutes=15)


@pytest.fixture(scope="module")
def folder() -> Path:
    return shared_path("helsinki", "files.csv").parent


def messages_in(raw: bytes) -> int:
    """Beast messages in a well-formed stream, counted without the reader: once the doubled
    escapes are removed, every 0x1a left starts a message of type '1', '2' or '3'."""
    unescaped = raw.replace(b"\x1a\x1a", b"")
    return sum(unescaped.count(b"\x1a" + t) for t in (b"1", b"2", b"3"))


def test_every_file_decodes_inside_its_own_quarter_hour(folder: Path) -> None:
    starts = helsinki_starts(folder)
    assert len(starts) == 58
    frames = 0
    for name, start in sorted(starts.items(), key=lambda kv: kv[1]):
        report = ReadReport(name)
        rows = sum(b.num_rows for b in read_frames(folder / name, start=start, report=report))
        assert report.format == "beast" and report.clock == "free" and not report.rejects
        # every message of the file is read (none of these files holds a damaged one)
        assert rows == report.frames == messages_in(lzma.decompress((folder / name).read_bytes()))
        # the first frame is at the start given; the last within the file's quarter hour
        assert report.first_ns == int(start.timestamp()) * 10**9
        assert report.last_ns is not None
        assert report.last_ns <= int((start + FILE_SPAN).timestamp()) * 10**9
        frames += rows
    assert frames == 6_136_544


def test_every_frame_of_a_file_is_kept(folder: Path) -> None:
    # the 0x1a-delimited messages of the raw file, counted independently of the reader, and
    # each decoded into a row (Mode A/C included; crc_ok is checked against pyModeS in
    # test_decoder_golden.py on this same file)
    name = "raw_adsb_20260106_071532.bin.xz"
    raw = lzma.decompress((folder / name).read_bytes())
    table = jamwatch.decode(folder / name, start=helsinki_starts(folder)[name])
    assert table.num_rows == messages_in(raw) == len(parse_beast(raw).frames) == 131_601
    # every extended squitter that pyModeS finds CRC-valid is a CRC-valid row
    pms = pytest.importorskip("pyModeS")
    frames = parse_beast(raw).frames.to_pylist()
    valid = sum(
        1 for f in frames if len(f) == 14 and f[0] >> 3 == 17 and pms.decode(f.hex())["crc_valid"]
    )
    ours = pc.sum(pc.and_(pc.equal(table["df"], 17), table["crc_ok"])).as_py()
    assert ours == valid > 30_000
    assert table.schema.field("time").type == pa.timestamp("ns", tz="UTC")
