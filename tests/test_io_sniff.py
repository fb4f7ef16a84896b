"""One content sniffer for every input (``jamwatch.io.sniff``) and transparent decompression
(``jamwatch.io.streams``). Real files from ../shared/data: a Helsinki Beast recording (xz),
dump1090_sample.beast (antirez/dump1090 test data), the pyModeS CSV sample, the traffic
flight THY9BP (gzip JSON, columns orient, MIT), a readsb trace, a gpsjam.org daily CSV."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import jamwatch
from conftest import shared_path
from jamwatch.io import FormatError, read_frames
from jamwatch.io.events import write_events
from jamwatch.io.positions import read_positions
from jamwatch.io.sniff import Sniffed, sniff
from jamwatch.io.streams import HEAD_BYTES, compression, read_head
from jamwatch.schema import EVENTS


@pytest.mark.parametrize(
    ("parts", "kind", "fmt"),
    [
        (("helsinki", "raw_adsb_20260106_015701.bin.xz"), "frames", "beast"),
        (("adsb", "dump1090_sample.beast"), "frames", "beast"),
        (("adsb", "pymodes_sample_data_adsb.csv"), "frames", "pymodes-csv"),
        (("trajectories", "thy9bp_2024-09-17_spoofed.json.gz"), "positions", "traffic"),
        (("traces", "readsb_trace_full_ac671b.json"), "positions", "trace"),
        (("gpsjam", "2022-02-24-h3_4.csv"), "gpsjam", "gpsjam"),
    ],
)
def test_real_files(parts: tuple[str, str], kind: str, fmt: str) -> None:
    assert sniff(shared_path(*parts)) == Sniffed(kind, fmt)


def test_decoded_parquet_and_events(tmp_path: Path) -> None:
    decoded = jamwatch.decode(shared_path("adsb", "dump1090_sample.beast"))
    pq.write_table(decoded, tmp_path / "decoded.parquet")
    assert sniff(tmp_path / "decoded.parquet") == Sniffed("decoded", "decoded")
    write_events(EVENTS.empty_table(), tmp_path / "events.json")
    assert sniff(tmp_path / "events.json") == Sniffed("events", "events")
    pq.write_table(pa.table({"a": [1]}), tmp_path / "other.parquet")
    with pytest.raises(FormatError, match="Parquet with the columns a"):
        sniff(tmp_path / "other.parquet")


@pytest.mark.parametrize("kind", ["gzip", "xz", "bzip2", "zstd"])
def test_every_compression_reads_the_same_frames(tmp_path: Path, kind: str) -> None:
    src = shared_path("adsb", "dump1090_sample.beast")
    data = src.read_bytes()
    path = tmp_path / "sample"
    if kind == "gzip":
        path.write_bytes(gzip.compress(data))
    elif kind == "xz":
        path.write_bytes(lzma.compress(data))
    elif kind == "bzip2":
        path.write_bytes(bz2.compress(data))
    else:
        with pa.output_stream(str(path), compression="zstd") as out:
            out.write(data)
    assert compression(path) == kind
    assert sniff(path) == Sniffed("frames", "beast")
    plain = pa.Table.from_batches(read_frames(src, fmt="beast"))
    packed = pa.Table.from_batches(read_frames(path))
    assert packed.num_rows == plain.num_rows == 239
    assert packed.column("frame").equals(plain.column("frame"))


def test_the_head_is_bounded(tmp_path: Path) -> None:
    """A gzip positions file cut after its first 100 kB: sniffing looks at the head only and
    still knows it; reading the whole file then fails with a clear error."""
    data = shared_path("trajectories", "thy9bp_2024-09-17_spoofed.json.gz").read_bytes()
    assert len(data) > 300_000
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(data[:100_000])
    assert len(read_head(cut)) == HEAD_BYTES
    assert sniff(cut) == Sniffed("positions", "traffic")
    with pytest.raises((EOFError, OSError, ValueError)):
        read_positions(cut)


def test_nothing_fits_names_everything_tried(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("a note about the recordings\nnothing to read here\n")
    with pytest.raises(FormatError) as err:
        sniff(path)
    message = str(err.value)
    assert str(path) in message
    for name in ("events list", "gpsjam CSV", "decoded Parquet", "opensky, traffic, trace",
                 "beast", "avr", "hexlines"):  # fmt: skip
        assert name in message, name
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    with pytest.raises(FormatError, match="empty file"):
        sniff(empty)


def test_damaged_stream_and_missing_paths(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json.gz"
    bad.write_bytes(gzip.compress(json.dumps([{"kind": "jamming"}]).encode())[:12])
    with pytest.raises(FormatError, match="damaged gzip stream"):
        sniff(bad)
    with pytest.raises(FileNotFoundError):
        sniff(tmp_path / "nope.bin")
    with pytest.raises(IsADirectoryError):
        sniff(tmp_path)


def test_the_first_bytes_of_a_file_in_any_compression_tell_its_format() -> None:
    # the first 4 KiB of the same Beast recording, compressed four ways: the head is
    # decompressed as far as it goes (the cut stream gives what precedes the cut)
    from jamwatch.io import detect_format
    from jamwatch.io.streams import DamagedStreamError, decompress_head

    raw = shared_path("adsb", "dump1090_sample.beast").read_bytes()
    zst = pa.compress(raw, codec="zstd", asbytes=True)
    packed = {"gzip": gzip.compress(raw), "xz": lzma.compress(raw), "bzip2": bz2.compress(raw)}
    packed["zstd"] = bytes(zst)
    for kind, data in packed.items():
        head = decompress_head(data[:4096])
        assert raw.startswith(head) and len(head) > 4096, kind
        assert detect_format(data[:4096]) == "beast", kind
    with pytest.raises(DamagedStreamError):
        decompress_head(gzip.compress(raw)[:10] + b"\xff" * 200)
