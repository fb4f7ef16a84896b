"""Fuzzing the readers with mutated real recordings (byte flips, cuts, 0x1a insertions, splices).

More than 100,000 mutated inputs: 40,000 go straight through the Beast parser core on
in-memory buffers, 60,000 hex-text inputs and 5,000 Beast inputs are batched a thousand to a
file and read with read_frames, and 3,000 mutated heads go through format detection. Every
input must end without an unexpected exception, and frames plus rejects must account for it.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pyarrow as pa

from conftest import shared_path
from jamwatch.io import FormatError, ReadReport, detect_format, read_frames
from jamwatch.io.beast import parse_beast
from jamwatch.io.readers import FORMATS

SHIFTS = np.arange(40, -1, -8, dtype=np.int64)
BLANKS = b" \t\r\x0b\x0c\x00"


def mutate(data: bytes, other: bytes, rng: random.Random) -> bytes:
    """One to three random mutations of ``data``; ``other`` is spliced from."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(6)
        n = len(buf)
        if op == 0 and n:  # byte flips
            for _ in range(rng.randint(1, 5)):
                buf[rng.randrange(n)] = rng.randrange(256)
        elif op == 1:  # insert 0x1a (Beast escape) bytes
            for _ in range(rng.randint(1, 5)):
                p = rng.randint(0, len(buf))
                buf[p:p] = b"\x1a"
        elif op == 2 and n:  # cut the head or the tail
            p = rng.randrange(n)
            buf = buf[p:] if rng.random() < 0.5 else buf[:p]
        elif op == 3:  # splice a piece of another recording
            a = rng.randrange(len(other))
            p = rng.randint(0, n)
            buf[p:p] = other[a : a + rng.randint(1, 80)]
        elif op == 4 and n:  # delete a range
            p = rng.randrange(n)
            del buf[p : p + rng.randint(1, 30)]
        else:  # insert a line break or a character that means something in a format
            p = rng.randint(0, n)
            buf[p:p] = rng.choice([b"\n", b"\r\n", b"\x00", b";", b"*", b"@"])
    return bytes(buf)


def wire_bytes(parsed: object) -> int:
    """Bytes the parsed messages took on the wire, computed from the parser's output."""
    frames: pa.Array = parsed.frames  # type: ignore[attr-defined]
    counters: np.ndarray = parsed.counters  # type: ignore[attr-defined]
    signals: np.ndarray = parsed.signals  # type: ignore[attr-defined]
    if len(frames) == 0:
        return 0
    offs = np.frombuffer(frames.buffers()[1], dtype=np.int32, count=len(frames) + 1)
    data = np.frombuffer(frames.buffers()[2], dtype=np.uint8)[: offs[-1]]
    escapes = (
        int(np.count_nonzero(data == 0x1A))
        + int(np.count_nonzero(((counters[:, None] >> SHIFTS) & 0xFF) == 0x1A))
        + int(np.count_nonzero(signals == 0x1A))
    )
    return 9 * len(frames) + int(offs[-1]) + escapes


def test_fuzz_beast_parser_core() -> None:
    # xoolive/traffic sample_dump1090.bin (real Beast) mutated, plus the pyModeS text spliced in
    beast = shared_path("adsb", "dump1090_sample.beast").read_bytes()
    text = shared_path("adsb", "pymodes_mixed_2015-03-03.txt").read_bytes()[:4000]
    rng = random.Random(20240529)
    total_frames = 0
    for k in range(40_000):
        a = rng.randrange(len(beast) - 40)
        window = beast[a : a + rng.randint(20, 400)]
        data = mutate(window, text if k % 7 == 0 else beast, rng)
        whole = parse_beast(data)
        assert whole.consumed == len(data)
        assert whole.good_bytes + whole.skipped_bytes == len(data)
        assert whole.good_bytes == wire_bytes(whole)
        assert (whole.skipped_bytes > 0) == (sum(whole.rejects.values()) > 0)
        lengths = np.diff(np.frombuffer(whole.frames.buffers()[1], np.int32,
                                        count=len(whole.frames) + 1))
        assert ((lengths == 2) | (lengths == 7) | (lengths == 14)).all()
        total_frames += len(whole.frames)
        if k % 10 == 0:  # the same result when the buffer arrives in two chunks
            p = rng.randint(0, len(data))
            first = parse_beast(data[:p], final=False)
            rest = data[first.consumed :]
            second = parse_beast(rest, final=True, resync=first.resync)
            joined = first.frames.to_pylist() + second.frames.to_pylist()
            assert joined == whole.frames.to_pylist()
            merged = {r: first.rejects.get(r, 0) + second.rejects.get(r, 0)
                      for r in set(first.rejects) | set(second.rejects)}
            assert merged == whole.rejects
    assert total_frames > 40_000  # most mutations leave most messages intact


def test_fuzz_read_frames_on_batched_mutations(tmp_path: Path) -> None:
    # the pyModeS data.txt frames as ISO+hex, AVR and bare hex lines; each file holds
    # 1,000 mutated snippets of a few lines
    src = shared_path("adsb", "pymodes_mixed_2015-03-03.txt").read_bytes()
    beast = shared_path("adsb", "dump1090_sample.beast").read_bytes()
    iso_lines = [ln for ln in src.split(b"\n") if ln.strip()]
    hexes = [ln.split()[1] for ln in iso_lines]
    samples = {
        "iso-hex": iso_lines,
        "avr": [b"*" + h + b";" for h in hexes],
        "hexlines": hexes,
    }
    rng = random.Random(7)
    mutations = 0
    for fmt, lines in samples.items():
        for f in range(20):
            snippets = []
            for _ in range(1000):
                a = rng.randrange(len(lines) - 4)
                piece = b"\n".join(lines[a : a + rng.randint(1, 3)])
                snippets.append(mutate(piece, beast if rng.random() < 0.2 else src, rng))
                mutations += 1
            data = b"\n".join(snippets)
            path = tmp_path / f"{fmt}-{f}.txt"
            path.write_bytes(data)
            report = ReadReport(str(path))
            table = pa.Table.from_batches(list(read_frames(path, fmt=fmt, report=report)))
            nonblank = sum(1 for ln in data.split(b"\n") if ln.strip(BLANKS))
            assert report.bytes_read == len(data)
            assert report.frames == table.num_rows
            assert table.num_rows + sum(report.rejects.values()) == nonblank
            assert table.column("frame").null_count == 0
            assert set(pa.compute.binary_length(table.column("frame")).to_pylist()) <= {2, 7, 14}
    for f in range(5):
        data = b"".join(mutate(beast[i : i + 200], src, rng)
                        for i in [rng.randrange(len(beast) - 200) for _ in range(1000)])
        mutations += 1000
        path = tmp_path / f"beast-{f}.bin"
        path.write_bytes(data)
        report = ReadReport(str(path))
        n = sum(b.num_rows for b in read_frames(path, fmt="beast", report=report))
        assert n == report.frames > 1000 and report.bytes_read == len(data)
        assert parse_beast(data).rejects == dict(report.rejects)
    assert mutations >= 65_000


def test_fuzz_detection_never_fails_unexpectedly() -> None:
    names = ["dump1090_sample.beast", "pymodes_mixed_2015-03-03.txt",
             "pymodes_sample_data_adsb.csv", "testvectors_adsb.json"]
    recordings = [shared_path("adsb", n).read_bytes() for n in names]
    rng = random.Random(11)
    outcomes: dict[str, int] = {}
    for _ in range(3000):
        i, j = rng.randrange(len(recordings)), rng.randrange(len(recordings))
        head = mutate(recordings[i][: rng.randrange(3000)], recordings[j], rng)
        try:
            fmt = detect_format(head)
            assert fmt in FORMATS
        except FormatError:
            fmt = "error"
        outcomes[fmt] = outcomes.get(fmt, 0) + 1
    assert outcomes.get("beast", 0) > 300 and outcomes.get("error", 0) > 100
