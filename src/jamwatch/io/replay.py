"""A recording served as a live feed: what ``jamwatch replay`` runs.

:func:`replay` listens on a TCP port, waits for the first client, then sends the frames of
the recordings (any raw-frame file jamwatch reads: Beast, AVR, hex lines, OpenSky raw) in
their time order, paced by their own times divided by ``speed`` (0: as fast as the clients
read), as Beast binary or AVR text. Every client connected at the time gets the same bytes;
one that connects later gets the rest of the recording from there. A client that falls more
than ``SLOW_CLIENT_S`` behind is dropped. When the recordings end, the connections are
closed and the server stops.

The 12 MHz counter of the frames sent is their time since the first frame of the replay (plus
one tick: a counter of 0 means "no time"), so a monitor that times a Beast connection by its
counter sees the recording's own timing at any speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from jamwatch.io.beast import encode_beast
from jamwatch.io.hexlines import encode_lines
from jamwatch.io.lines import to_ns
from jamwatch.io.readers import read_frames
from jamwatch.schema import TIME_TYPE

#: the formats a replay sends
FORMATS = ("beast", "avr")

#: the wall time between two sends (the pacing step: ``STEP_S * speed`` of the recording is
#: sent at once; with speed 0, a whole batch)
STEP_S = 0.02

#: a client that takes longer than this to take one step's bytes is dropped
SLOW_CLIENT_S = 10.0


@dataclass(slots=True)
class ReplayStats:
    """What a replay sent."""

    frames: int = 0
    bytes: int = 0
    clients: int = 0
    dropped_clients: int = 0
    seconds: float = 0.0


def _times(batch: pa.RecordBatch) -> np.ndarray:
    times = to_ns(batch.column("time"))
    if times is None:
        raise ValueError("a frame without a time cannot be paced")
    return times


def _frames(paths: Sequence[Path], starts: dict[str, datetime]) -> Iterator[pa.RecordBatch]:
    """The frames of every recording, one after the other, without the untimed ones."""
    for path in paths:
        for batch in read_frames(path, start=starts.get(str(path)), batch_rows=200_000):
            time_col = batch.column("time")
            if time_col.null_count:
                batch = batch.filter(time_col.is_valid())
            if batch.num_rows:
                yield batch


class _Clients:
    """The connected clients and the bytes they get."""

    def __init__(self, stats: ReplayStats) -> None:
        self.writers: set[asyncio.StreamWriter] = set()
        self.first = asyncio.Event()
        self.stats = stats

    async def connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        self.stats.clients += 1
        self.first.set()
        # a feed's client sends nothing back: this returns when the client goes away
        with contextlib.suppress(OSError):
            while await reader.read(4096):
                pass
        self.writers.discard(writer)

    async def send(self, data: bytes) -> None:
        for writer in list(self.writers):
            try:
                writer.write(data)
                await asyncio.wait_for(writer.drain(), SLOW_CLIENT_S)
            except (OSError, TimeoutError):
                self.writers.discard(writer)
                self.stats.dropped_clients += 1
                writer.close()

    async def close(self) -> None:
        for writer in list(self.writers):
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def replay(
    paths: Sequence[Path], port: int, *, host: str = "127.0.0.1", speed: float = 1.0,
    fmt: str = "beast", starts: dict[str, datetime] | None = None,
    listening: asyncio.Event | None = None,
) -> ReplayStats:  # fmt: skip
    """Serve the recordings ``paths`` on ``host:port`` (see the module documentation);
    ``listening`` is set once the port is open."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown replay format {fmt!r}; known: {', '.join(FORMATS)}")
    if speed < 0:
        raise ValueError("the speed must be 0 (as fast as possible) or more")
    frames = _frames(paths, starts or {})
    first = next(frames, None)  # (reads the first batch: a bad file fails before listening)
    stats = ReplayStats()
    clients = _Clients(stats)
    server = await asyncio.start_server(clients.connected, host, port)
    if listening is not None:
        listening.set()
    try:
        await clients.first.wait()
        began = time.monotonic()
        if first is not None:
            await _send_all(first, frames, clients, speed, fmt, began)
        stats.seconds = time.monotonic() - began
    finally:
        server.close()
        await clients.close()
        await server.wait_closed()
    return stats


async def _send_all(
    first: pa.RecordBatch, rest: Iterator[pa.RecordBatch], clients: _Clients, speed: float,
    fmt: str, began: float,
) -> None:  # fmt: skip
    """Send the frames in steps of ``STEP_S`` of wall time, each when it is due."""
    step_ns = max(int(STEP_S * speed * 1e9), 1)
    t0 = last = int(_times(first)[0])
    for batch in itertools.chain([first], rest):
        # (a recording that starts again, or one that begins before the previous ended,
        # is sent at once: the counter only goes forward)
        times = np.maximum.accumulate(np.maximum(_times(batch), last))
        last = int(times[-1])
        batch = batch.set_column(0, "time", pa.array(times, TIME_TYPE))
        edges: list[int] = []
        if speed > 0:
            edges = (np.flatnonzero(np.diff((times - t0) // step_ns)) + 1).tolist()
        for a, b in itertools.pairwise([0, *edges, batch.num_rows]):
            if speed > 0:
                due = began + (int(times[a]) - t0) / 1e9 / speed
                if (wait := due - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
            part = batch.slice(a, b - a)
            data = (
                encode_beast(part, start_ns=t0, first_tick=1)
                if fmt == "beast"
                else encode_lines(part, "avr", t0, first_tick=1)
            )
            await clients.send(data)
            if speed == 0:
                await asyncio.sleep(0)  # (lets a client connect or leave)
            clients.stats.frames += b - a
            clients.stats.bytes += len(data) * len(clients.writers)


__all__ = ["FORMATS", "ReplayStats", "replay"]
