"""Decode throughput of jamwatch against pyModeS and rs1090, measured in the same run.

    python bench/decode.py                 # 2 M frames, anchors on 200 k of them
    python bench/decode.py --frames 10000000 --memory   # adds the 10 M-frame peak-memory run

The corpus is every real frame of ../shared/data/adsb with a receive time (the pyModeS sample,
the mixed 2015 recording, the dump1090 Beast sample), repeated with other ICAO addresses (the
parity is corrected, so every copy is as valid as its original) and interleaved in time as if
many more aircraft were in view. It is written as ISO-time hex lines and as Beast binary, and
jamwatch reads and decodes each file end to end (reader + full decode: CPR positions, NIC,
NACp). pyModeS's batch ``decode(list, timestamps=...)`` and rs1090's ``decode(list, timestamps)``
decode the same hex strings (a prefix of the corpus, as they are slower). Everything runs on
one core. Results are frames per second and ratios; the machine is shared, so only the ratios
mean much.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np
import pyarrow as pa

from jamwatch.decoder import Decoder, frames_matrix
from jamwatch.decoder.crc import crc24
from jamwatch.io import read_frames
from jamwatch.io.beast import write_beast
from jamwatch.io.hexlines import write_hexlines
from jamwatch.schema import RAW_FRAMES

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "adsb"
START = datetime(2024, 1, 1, tzinfo=UTC)
SAMPLES = ("pymodes_sample_data_adsb.csv", "pymodes_mixed_2015-03-03.txt", "dump1090_sample.beast")


def one_core() -> None:
    """Pin this process (and so its children) to one core, and Arrow to one thread."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)


def real_frames() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(matrix, lengths, seconds since each sample's first frame) of the real recordings."""
    mats, lens, secs = [], [], []
    for name in SAMPLES:
        path = DATA / name
        if not path.exists():
            sys.exit(f"missing {path}: the benchmark needs ../shared/data beside the project")
        start = START if name.endswith(".beast") else None
        table = pa.Table.from_batches(list(read_frames(path, start=start)), RAW_FRAMES)
        mat, nbytes = frames_matrix(table["frame"])
        ns = table["time"].cast(pa.int64()).to_numpy().astype(np.int64)
        keep = nbytes >= 7
        mats.append(mat[keep])
        lens.append(nbytes[keep])
        secs.append((ns[keep] - ns[keep].min()) / 1e9)
    return np.concatenate(mats), np.concatenate(lens), np.concatenate(secs)


def corpus(n_frames: int, seed: int = 1) -> pa.Table:
    """``n_frames`` frames: copies of the real ones under other addresses, sorted by time."""
    mat, nbytes, secs = real_frames()
    reps = -(-n_frames // mat.shape[0])
    rng = np.random.default_rng(seed)
    df = mat[:, 0] >> 3
    # address in bits 9-32 (DF11/17/18): parity follows by linearity of the CRC
    announced = np.isin(df, [11, 17, 18])
    overlaid = np.isin(df, [0, 4, 5, 16, 20, 21])  # address XORed into the parity
    out_mat = np.tile(mat, (reps, 1))
    out_len = np.tile(nbytes, reps)
    out_sec = np.tile(secs, reps) + rng.uniform(0.0, 1.0, reps * mat.shape[0])
    for k in range(1, reps):
        delta = (k * 0x9E3779) & 0xFFFFFF
        rows = slice(k * mat.shape[0], (k + 1) * mat.shape[0])
        d = np.array([(delta >> 16) & 0xFF, (delta >> 8) & 0xFF, delta & 0xFF], np.uint8)
        block = out_mat[rows]
        for nbytes_, payload in ((14, 11), (7, 4)):
            sel = announced & (nbytes == nbytes_)
            block[sel, 1:4] ^= d
            fix = crc24(bytes([0]) + bytes(d) + bytes(payload - 4))
            pfix = np.array([(fix >> 16) & 0xFF, (fix >> 8) & 0xFF, fix & 0xFF], np.uint8)
            block[sel, nbytes_ - 3 : nbytes_] ^= pfix
            sel = overlaid & (nbytes == nbytes_)
            block[sel, nbytes_ - 3 : nbytes_] ^= d
        out_mat[rows] = block
    order = np.argsort(out_sec, kind="stable")[:n_frames]
    frames = [out_mat[i, : out_len[i]].tobytes() for i in order]
    ns = (out_sec[order] * 1e9).astype(np.int64) + int(START.timestamp()) * 1_000_000_000
    return pa.table(
        {
            "time": pa.array(ns).cast(RAW_FRAMES.field("time").type),
            "frame": pa.array(frames, pa.binary()),
            "signal": pa.array(rng.integers(0, 256, len(frames), dtype=np.uint8)),
        },
        schema=RAW_FRAMES,
    )


def time_jamwatch(path: Path, start: datetime | None) -> tuple[float, int, int]:
    """Seconds to read and fully decode ``path``; frames and positions decoded."""
    decoder = Decoder()
    t0 = time.perf_counter()
    for batch in read_frames(path, start=start):
        decoder.decode(batch)
    return time.perf_counter() - t0, decoder.report.frames, decoder.report.positions


def time_anchor(name: str, hexes: list[str], seconds: list[float]) -> float:
    t0 = time.perf_counter()
    if name == "pyModeS":
        import pyModeS

        pyModeS.decode(hexes, timestamps=seconds)
    else:
        import rs1090

        rs1090.decode(hexes, seconds)
    return time.perf_counter() - t0


def peak_memory(path: Path) -> float:
    """Peak resident memory (MB) of a separate process that decodes ``path`` in batches.

    The child reads its own high-water mark (VmHWM): the parent's rusage would count the
    memory a child inherits when it is forked from this (large) process.
    """
    code = (
        "import sys; from datetime import datetime, UTC; from jamwatch.io import read_frames;"
        "from jamwatch.decoder import Decoder; d = Decoder()\n"
        "for b in read_frames(sys.argv[1], start=datetime(2024,1,1,tzinfo=UTC)): d.decode(b)\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "print(d.report.frames, int(hwm.split()[1]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], check=True, capture_output=True, text=True
    )
    frames, kib = out.stdout.split()
    if int(frames) < 10_000_000:
        raise RuntimeError(f"the memory run decoded only {frames} frames")
    return int(kib) / 1024.0


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=2_000_000)
    parser.add_argument("--anchor-frames", type=int, default=200_000)
    parser.add_argument("--memory", action="store_true", help="also measure a 10 M-frame run")
    args = parser.parse_args(argv)
    one_core()
    table = corpus(args.frames)
    with tempfile.TemporaryDirectory() as tmp:
        hex_path, beast_path = Path(tmp) / "corpus.txt", Path(tmp) / "corpus.beast"
        write_hexlines(table, hex_path, style="iso")
        write_beast(table, beast_path, start=START)
        time_jamwatch(beast_path, START)  # compile / load the Numba kernels first
        t_hex, n_hex, pos = time_jamwatch(hex_path, None)
        t_beast, n_beast, _ = time_jamwatch(beast_path, START)
        k = min(args.anchor_frames, table.num_rows)
        sub = table.slice(0, k)
        hexes = [f.hex() for f in sub["frame"].to_pylist()]
        seconds = (sub["time"].cast(pa.int64()).to_numpy() / 1e9).tolist()
        t_pms = time_anchor("pyModeS", hexes, seconds)
        t_rs = time_anchor("rs1090", hexes, seconds)
        mem = None
        if args.memory:
            big = Path(tmp) / "big.beast"
            write_beast(corpus(10_000_000, seed=2), big, start=START)
            mem = peak_memory(big)
    rates = {
        "jamwatch hex text": n_hex / t_hex,
        "jamwatch Beast": n_beast / t_beast,
        "pyModeS 3.6 batch": k / t_pms,
        "rs1090 batch": k / t_rs,
    }
    print(f"corpus: {table.num_rows:,} real frames (copies), {pos:,} positions decoded; one core")
    print(f"{'decoder':<20}{'frames':>12}{'frames/s':>14}{'x pyModeS':>11}{'x rs1090':>10}")
    counts = {"jamwatch hex text": n_hex, "jamwatch Beast": n_beast}
    for name, rate in rates.items():
        frames = counts.get(name, k)
        print(
            f"{name:<20}{frames:>12,}{rate:>14,.0f}"
            f"{rate / rates['pyModeS 3.6 batch']:>11.1f}{rate / rates['rs1090 batch']:>10.1f}"
        )
    if mem is not None:
        print(f"peak memory decoding 10,000,000 Beast frames in batches: {mem:,.0f} MB")
        rates["peak_mb"] = mem
    return rates


if __name__ == "__main__":
    main()
