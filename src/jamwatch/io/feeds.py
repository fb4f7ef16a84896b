"""Live feeds: Beast binary and AVR text over TCP, as raw-frame batches.

A feed is a kind (``beast``: readsb and dump1090's port 30005; ``avr``: port 30002;
``json``: readsb's JSON position stream, ``--net-json-port``, 30047 in the ultrafeeder
container) and an address ``HOST:PORT``. :func:`run_feed` connects, parses what arrives
chunk by chunk into RAW_FRAMES batches (:data:`jamwatch.schema.RAW_FRAMES`; a ``json`` feed
into decoded reports, :mod:`jamwatch.io.aircraft_json`), hands each to a callback, and
reconnects with a growing pause when the connection fails or ends, for as long as it runs.
:func:`poll_aircraft_json` reads readsb's ``aircraft.json`` (a file, a folder that holds
one, or an HTTP URL) every second and hands over its new reports
(:mod:`jamwatch.io.aircraft_json`), already decoded.

Times: a frame's time is its receive time, except that within one Beast connection the
12 MHz counter orders the frames and gives the time between them: the connection's
:class:`jamwatch.io.clock.BeastClock` is anchored at the wall clock when its first frame
arrives (to the millisecond, so that the same times can be given to ``jamwatch detect``:
:attr:`FeedStats.clock_start_ns`). A recording replayed at ten times its speed is then
seen with its own timing, so windows, gaps and onsets mean the same at any speed. AVR lines
with a counter (``@``) are timed the same way; lines without one (``*``) take their receive
time. Bytes that are not frames are counted by reason (:class:`FeedStats`) and skipped.
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from jamwatch.io.avr import avr_kernel
from jamwatch.io.base import ReadReport
from jamwatch.io.beast import parse_beast
from jamwatch.io.clock import BeastClock
from jamwatch.io.lines import LINE_TOO_LONG, MAX_LINE, TEXT_REASONS, text_batch
from jamwatch.io.lines import text_kernel_outputs as _outputs
from jamwatch.schema import RAW_FRAMES, TIME_TYPE

#: the feed kinds and the port each usually has on a readsb or dump1090 receiver
KINDS = {"beast": 30005, "avr": 30002, "json": 30047}

#: the pause before a reconnection: doubling from the first to the last after each failure,
#: back to the first once a connection has delivered frames
BACKOFF_S = (0.5, 30.0)

#: bytes read from a socket at a time
READ_BYTES = 1 << 16


def parse_address(text: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT`` or ``PORT`` as (host, port); ValueError names what is wrong.
    An IPv6 host is written in brackets (``[::1]:30005``)."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "", text
    host = host.strip("[]") or default_host
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r} is not HOST:PORT with a port from 1 to 65535")
    return host, int(port)


@dataclass(slots=True)
class FeedStats:
    """What one feed did so far (for ``/api/status`` and ``/metrics``)."""

    kind: str
    address: str
    connected: bool = False
    connections: int = 0
    failures: int = 0
    frames: int = 0
    bytes: int = 0
    restarts: int = 0
    #: rejects by reason (replaced, never changed in place: the server reads it from
    #: another thread)
    rejects: Counter[str] = field(default_factory=Counter)
    last_error: str = ""
    #: the wall time (ns) of the last frame received, 0 before any
    last_frame_ns: int = 0
    #: the time given to the first frame of the last connection (a whole millisecond), 0
    #: before any
    clock_start_ns: int = 0


def _reject(stats: FeedStats, counts: Mapping[str, int]) -> None:
    """Add ``counts`` (by reason) to the feed's rejects."""
    if any(counts.values()):
        stats.rejects = stats.rejects + Counter({k: v for k, v in counts.items() if v})


def _anchor(now_ns: int, stats: FeedStats) -> int:
    """The time of a connection's first frame: ``now_ns`` to the millisecond."""
    stats.clock_start_ns = now_ns - now_ns % 1_000_000
    return stats.clock_start_ns


class BeastParser:
    """Beast bytes of one connection, chunk after chunk, into RAW_FRAMES batches."""

    def __init__(self, stats: FeedStats, now_ns: Callable[[], int] = time.time_ns) -> None:
        self.stats, self.now_ns = stats, now_ns
        self.carry = b""
        self.resync = False
        self.clock: BeastClock | None = None

    def feed(self, chunk: bytes) -> pa.RecordBatch | None:
        buf = self.carry + chunk if self.carry else chunk
        parsed = parse_beast(buf, final=False, resync=self.resync)
        self.resync = parsed.resync
        self.carry = buf[parsed.consumed :]
        if len(self.carry) > MAX_LINE:  # (a message is at most 46 bytes escaped)
            _reject(self.stats, {"skipped_bytes": len(self.carry)})
            self.carry = b""
        _reject(self.stats, parsed.rejects)
        n = len(parsed.frames)
        if n == 0:
            return None
        if self.clock is None:
            self.clock = BeastClock(start_ns=_anchor(self.now_ns(), self.stats))
        times = self.clock.times(parsed.counters)
        self.stats.restarts = self.clock.restarts
        return pa.RecordBatch.from_arrays(
            [
                pa.Array.from_buffers(TIME_TYPE, n, [None, pa.py_buffer(times)]),
                parsed.frames,
                pa.array(parsed.signals, pa.uint8()),
            ],
            schema=RAW_FRAMES,
        )


class AvrParser:
    """AVR lines of one connection, chunk after chunk, into RAW_FRAMES batches (``*`` lines
    timed at their arrival)."""

    def __init__(self, stats: FeedStats, now_ns: Callable[[], int] = time.time_ns) -> None:
        self.stats, self.now_ns = stats, now_ns
        self.carry = b""
        self.clock: BeastClock | None = None

    def feed(self, chunk: bytes) -> pa.RecordBatch | None:
        buf = self.carry + chunk if self.carry else chunk
        last = buf.rfind(b"\n")
        self.carry = buf[last + 1 :]
        if len(self.carry) > MAX_LINE:
            _reject(self.stats, {LINE_TOO_LONG: 1})
            self.carry = b""
        if last < 0:
            return None
        now = self.now_ns()
        if self.clock is None:
            self.clock = BeastClock(start_ns=_anchor(now, self.stats))
        arr, out = _outputs(buf[: last + 1])
        rows = avr_kernel(arr, out)
        _reject(self.stats, dict(zip(TEXT_REASONS, out[5].tolist(), strict=True)))
        if rows == 0:
            return None
        report = ReadReport("feed")
        batch = text_batch(rows, *out[:5], self.clock, report)
        _reject(self.stats, report.rejects)
        times = batch.column(0)
        if times.null_count:
            filled = times.fill_null(pa.scalar(now, TIME_TYPE))
            batch = batch.set_column(0, RAW_FRAMES.field(0), filled)
        return batch


class JsonParser:
    """Lines of readsb's JSON position stream of one connection, chunk after chunk, into
    decoded reports (:func:`jamwatch.io.aircraft_json.position_lines`; each line carries its
    own time). A line of more than 64 KiB is dropped and counted."""

    MAX_BYTES = 1 << 16

    def __init__(self, stats: FeedStats, now_ns: Callable[[], int] = time.time_ns) -> None:
        from jamwatch.io.aircraft_json import SnapshotState

        self.stats = stats
        self.carry = b""
        self.state = SnapshotState()

    def feed(self, chunk: bytes) -> pa.Table | None:
        from jamwatch.io.aircraft_json import position_lines

        lines = (self.carry + chunk).split(b"\n")
        self.carry = lines.pop()
        if len(self.carry) > self.MAX_BYTES:
            _reject(self.stats, {LINE_TOO_LONG: 1})
            self.carry = b""
        before = self.state.left_out
        table, bad = position_lines([x for x in lines if x.strip()], self.state)
        _reject(self.stats, {**bad, "not ADS-B": self.state.left_out - before})
        return table if table.num_rows else None


def _parser(
    kind: str, stats: FeedStats, now_ns: Callable[[], int]
) -> BeastParser | AvrParser | JsonParser:
    if kind == "beast":
        return BeastParser(stats, now_ns)
    if kind == "avr":
        return AvrParser(stats, now_ns)
    if kind == "json":
        return JsonParser(stats, now_ns)
    raise ValueError(f"unknown feed kind {kind!r}; known: {', '.join(KINDS)}")


async def run_feed(
    kind: str, host: str, port: int, deliver: Callable[[pa.RecordBatch | pa.Table], None],
    stats: FeedStats, *, backoff: tuple[float, float] = BACKOFF_S,
    now_ns: Callable[[], int] = time.time_ns,
) -> None:  # fmt: skip
    """Read the feed ``kind`` at ``host:port`` until cancelled: every batch of frames (of
    decoded reports for ``json``) goes to ``deliver``; a refused, dropped or ended
    connection is retried after a pause that doubles from ``backoff[0]`` up to
    ``backoff[1]`` (and starts again from the first once a connection delivered frames).
    Each connection has its own clock."""
    pause = backoff[0]
    while True:
        parser = _parser(kind, stats, now_ns)
        delivered = False
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError as exc:
            stats.failures += 1
            stats.last_error = f"connect: {exc.strerror or exc}"
        else:
            stats.connected = True
            stats.connections += 1
            try:
                while chunk := await reader.read(READ_BYTES):
                    stats.bytes += len(chunk)
                    batch = parser.feed(chunk)
                    if batch is not None and batch.num_rows:
                        stats.frames += batch.num_rows
                        stats.last_frame_ns = now_ns()
                        delivered = True
                        deliver(batch)
                stats.last_error = "connection closed by the feed"
            except OSError as exc:
                stats.failures += 1
                stats.last_error = f"read: {exc.strerror or exc}"
            finally:
                stats.connected = False
                writer.close()
        if delivered:
            pause = backoff[0]
        await asyncio.sleep(pause)
        pause = min(pause * 2.0, backoff[1])


async def poll_aircraft_json(
    source: str, deliver: Callable[[pa.Table], None], stats: FeedStats,
    interval_s: float = 1.0,
) -> None:  # fmt: skip
    """Read ``aircraft.json`` at ``source`` every ``interval_s`` until cancelled; its new
    reports go to ``deliver``. A snapshot that cannot be read or is not readsb's layout is
    counted (``failures``, ``last_error``) and the next is tried."""
    from jamwatch.io.aircraft_json import SnapshotState, reports

    state = SnapshotState()
    url = source.startswith(("http://", "https://"))
    path = Path(source)
    while True:
        try:
            if url:
                data = await asyncio.to_thread(_fetch, source)
            else:
                data = (path / "aircraft.json" if path.is_dir() else path).read_bytes()
            before = state.left_out
            table = reports(data, state)
        except (OSError, ValueError) as exc:
            stats.failures += 1
            stats.connected = False
            stats.last_error = str(exc)[:300]
        else:
            stats.connected = True
            stats.connections += stats.connections == 0
            stats.bytes += len(data)
            _reject(stats, {"not ADS-B": state.left_out - before})
            if table.num_rows:
                stats.frames += table.num_rows
                stats.last_frame_ns = time.time_ns()
                deliver(table)
        await asyncio.sleep(interval_s)


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return bytes(response.read(64 << 20))


class Deduplicator:
    """Drops a frame that another feed delivered within ``window_s`` of wall time (two feeds
    of one receiver, or of two receivers that both heard it). Frames are compared by their
    bytes; a frame repeated on its own feed is kept (a transponder does repeat itself)."""

    def __init__(self, window_s: float = 2.0) -> None:
        self.window_ns = int(window_s * 1e9)
        self.keys = np.zeros(0, np.uint64)
        self.feeds = np.zeros(0, np.int32)
        self.seen = np.zeros(0, np.int64)
        self.dropped = 0

    @staticmethod
    def _keys(frames: pa.Array) -> np.ndarray:
        """A 64-bit key per frame (FNV-1a over its bytes, vectorized over the frames)."""
        bufs = frames.buffers()
        offsets = np.frombuffer(bufs[1], np.int32, len(frames) + 1, frames.offset * 4)
        data = np.frombuffer(bufs[2], np.uint8) if bufs[2] is not None else np.zeros(1, np.uint8)
        lengths = np.diff(offsets)
        key = np.full(len(frames), 0xCBF29CE484222325, np.uint64)
        prime = np.uint64(0x100000001B3)
        with np.errstate(over="ignore"):
            for k in range(int(lengths.max(initial=0))):
                has = lengths > k
                byte = data[np.minimum(offsets[:-1] + k, data.shape[0] - 1)].astype(np.uint64)
                key = np.where(has, (key ^ byte) * prime, key)
            key ^= lengths.astype(np.uint64)
        return key

    def __call__(self, batch: pa.RecordBatch, feed: int, now_ns: int) -> pa.RecordBatch:
        keys = self._keys(batch.column(1))
        recent = self.seen >= now_ns - self.window_ns
        self.keys, self.feeds, self.seen = self.keys[recent], self.feeds[recent], self.seen[recent]
        other = self.keys[self.feeds != feed]
        dup = np.isin(keys, other)
        self.keys = np.concatenate([self.keys, keys[~dup]])
        self.feeds = np.concatenate([self.feeds, np.full(int((~dup).sum()), feed, np.int32)])
        self.seen = np.concatenate([self.seen, np.full(int((~dup).sum()), now_ns, np.int64)])
        if not dup.any():
            return batch
        self.dropped += int(dup.sum())
        return batch.filter(pa.array(~dup))


__all__ = [
    "BACKOFF_S",
    "KINDS",
    "AvrParser",
    "BeastParser",
    "Deduplicator",
    "FeedStats",
    "parse_address",
    "poll_aircraft_json",
    "run_feed",
]
