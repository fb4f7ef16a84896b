"""The live monitor on loopback: ``jamwatch replay`` serves a recording as a Beast feed,
``jamwatch watch`` reads it, raises alerts and serves its API; the feeds survive garbage,
dropped connections and a feeder that restarts; two feeds of one frame give it once.

The recording is the simulator's andoya-2024 (seed 3: jammers switching every 10 minutes for
two hours), written as Beast; ``jamwatch detect`` on the same file gives the events the
monitor must show once it has read every frame.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from conftest import free_port, shared_path
from jamwatch.aggregate.grid import GridConfig
from jamwatch.aggregate.job import map_cells
from jamwatch.api import decode
from jamwatch.detect.pipeline import detect
from jamwatch.io.beast import encode_beast
from jamwatch.io.events import to_json
from jamwatch.io.feeds import (
    AvrParser,
    BeastParser,
    Deduplicator,
    FeedStats,
    parse_address,
    run_feed,
)
from jamwatch.schema import RAW_FRAMES, TIME_TYPE
from live import andoya_recording, get_json, jamwatch_process, wait_all_read

#: an airborne position (DF17, TC 11) and a velocity (TC 19) message of pyModeS' examples
POSITION = bytes.fromhex("8D40621D58C382D690C8AC2863A7")
VELOCITY = bytes.fromhex("8D485020994409940838175B284F")


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, datetime]:
    """andoya-2024 (seed 3) as a Beast file, its number of frames and its start."""
    return andoya_recording(tmp_path_factory.mktemp("replay"))


def test_replay_and_watch_show_the_events_of_detect(
    recording: tuple[Path, int, datetime], tmp_path: Path
) -> None:
    path, n_frames, _ = recording
    feed, http = free_port(), free_port()
    alerts = tmp_path / "alerts.jsonl"
    replay = jamwatch_process("replay", str(path), "--port", str(feed), "--speed", "0")
    watch = jamwatch_process(
        "watch", "--beast", f"127.0.0.1:{feed}", "--http", f"127.0.0.1:{http}", "--alerts",
        str(alerts), "--step", "1", "--look", "0",
    )  # fmt: skip
    api = f"http://127.0.0.1:{http}"
    try:
        status = wait_all_read(api, n_frames)
        live = get_json(f"{api}/api/events")
        # read-only: nothing but GET; no file outside the API; the OpenAPI document lists it
        request = urllib.request.Request(f"{api}/api/events", data=b"{}", method="POST")
        with pytest.raises(urllib.error.HTTPError) as post:
            urllib.request.urlopen(request, timeout=10)
        assert post.value.code == 405
        with pytest.raises(urllib.error.HTTPError) as outside:
            urllib.request.urlopen(f"{api}/static/../../../../etc/passwd", timeout=10)
        assert outside.value.code == 404
        paths = set(get_json(f"{api}/openapi.json")["paths"])
        assert {"/api/status", "/api/events", "/api/aircraft", "/metrics"} <= paths
        metrics = get_json(f"{api}/metrics")
        name = f"beast:127.0.0.1:{feed}"
        assert f'jamwatch_feed_frames_total{{feed="{name}"}} {n_frames}.0' in metrics
        assert "jamwatch_open_events 1.0" in metrics
        assert "<title>jamwatch watch</title>" in get_json(f"{api}/")
        # a client that sends half a request and stays is no obstacle to others; a request
        # that is not HTTP, and an oversized parameter, get a 4xx
        with socket.create_connection(("127.0.0.1", http)) as idle:
            idle.sendall(b"GET /api/status HTTP/1.1\r\nHost: x\r\n")
            assert get_json(f"{api}/api/status")["frames"] == n_frames
        with socket.create_connection(("127.0.0.1", http)) as bad:
            bad.sendall(b"\x16\x03\x01 not http\r\n\r\n")
            bad.settimeout(10)
            assert bad.recv(64).split(b" ")[1].startswith(b"4")
        with pytest.raises(urllib.error.HTTPError) as long_window:
            urllib.request.urlopen(f"{api}/api/cells?window={'9' * 5000}h", timeout=10)
        assert long_window.value.code == 422
        aircraft = get_json(f"{api}/api/aircraft")
        cells = get_json(f"{api}/api/cells?window=24h")
        with pytest.raises(urllib.error.HTTPError) as bad_window:
            urllib.request.urlopen(f"{api}/api/cells?window=2x", timeout=10)
        assert bad_window.value.code == 422
        assert get_json(f"{api}/api/cells?window=2d") == cells  # (24 hours are kept)
        # the live map: the page of jamwatch map, its data made from the monitor
        page_data = json.loads(_script(f"{api}/map/cells.js", "window.JAMWATCH_DATA = "))
        page_events = json.loads(_script(f"{api}/map/events.js", "window.JAMWATCH_EVENTS = "))
        assert "<title>jamwatch: GNSS interference map</title>" in get_json(f"{api}/map/")
        for name in ("pydeck.js", "basemap.js", "app.js", "style.css"):
            assert get_json(f"{api}/map/{name}")
        for name in ("index.js", "..%2F..%2Fapp.py", "cells.parquet"):
            with pytest.raises(urllib.error.HTTPError) as missing:
                urllib.request.urlopen(f"{api}/map/{name}", timeout=10)
            assert missing.value.code == 404
    finally:
        watch.send_signal(signal.SIGTERM)
        _, err = watch.communicate(timeout=60)
        replay.communicate(timeout=60)
    assert watch.returncode == 0, err
    assert "stopped:" in err
    assert replay.returncode == 0
    assert status["feeds"][0]["frames"] == n_frames and status["feeds"][0]["rejects"] == {}
    assert status["reports"] == n_frames  # (one decoded row per frame)
    assert aircraft and all({"icao", "time", "degraded"} <= set(a) for a in aircraft)

    # detect on the file with the times the monitor gave its frames: the same events
    anchor = datetime.fromisoformat(status["feeds"][0]["clock_start"].replace("Z", "+00:00"))
    batch = to_json(detect(decode(path, start=anchor)))
    assert [{k: v for k, v in e.items() if k not in ("id", "open")} for e in live] == batch
    assert [e["id"] for e in live] == list(range(1, len(batch) + 1))
    assert all(e["open"] for e in live)  # (the replay ended: nothing has told them to end)

    # the live map's cells: those of the map job over the same frames in one window
    whole = GridConfig(window_s=1_000_000_000)  # (about 31 years: one window holds them all)
    expected = map_cells([path], whole, starts={str(path): anchor}).cells
    keys = ("count_good_aircraft", "count_bad_aircraft", "count_faulty_aircraft", "reports")
    assert {c["hex"]: [c[k] for k in keys] for c in cells} == {
        h: [expected.column(k)[i].as_py() for k in keys]
        for i, h in enumerate(expected.column("hex").to_pylist())
    }
    assert sum(c["count_bad_aircraft"] for c in cells) > 0

    # the live map's hourly windows: those of jamwatch map --window 3600 on the same frames
    hourly = map_cells([path], GridConfig(window_s=3600), starts={str(path): anchor}).cells
    hour = [_utc(t) for t in hourly.column("window_start").cast(pa.int64()).to_pylist()]
    labels = [w["start"] for w in page_data["windows"]]
    assert labels == sorted(set(hour)) and page_data["live_s"] > 0
    keys = ("hex", "count_good_aircraft", "count_bad_aircraft", "count_faulty_aircraft")
    job = zip(hour, *(hourly.column(k).to_pylist() for k in keys), strict=True)
    page = [(labels[c["w"]], c["h"], c["g"], c["b"], c["f"]) for c in page_data["cells"]]
    assert sorted(page) == sorted(job)
    assert len(page_events) == len(live)

    sent = [json.loads(line) for line in alerts.read_text().splitlines()]
    assert [a["alert"] for a in sent[:2]] == ["onset", "located"]
    assert {a["id"] for a in sent} == {e["id"] for e in live}
    assert all({"alert", "sent", "start", "end", "kind"} <= set(a) for a in sent)
    last = sent[-1]  # the last alert shows the event as the API does, its end aside
    assert (last["aircraft"], last["source"]) == (live[-1]["aircraft"], live[-1]["source"])


def _utc(ns: int) -> str:
    return datetime.fromtimestamp(ns // 10**9, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _script(url: str, prefix: str) -> str:
    """The JSON a page script assigns (``window.X = {...};``)."""
    text = get_json(url)
    assert text.startswith(prefix)
    return str(text[len(prefix) :].rstrip().rstrip(";"))


def _frames(*frames: bytes, start_ns: int = 0, step_ns: int = 1_000_000) -> pa.RecordBatch:
    times = pa.array(start_ns + step_ns * np.arange(len(frames)), TIME_TYPE)
    signals = pa.array([100] * len(frames), pa.uint8())
    columns = [times, pa.array(frames, pa.binary()), signals]
    return pa.RecordBatch.from_arrays(columns, schema=RAW_FRAMES)


def _ns(batch: pa.RecordBatch) -> list[int]:
    return list(batch.column("time").cast(pa.int64()).to_pylist())


def test_feeds_survive_garbage_dropped_connections_and_restarts() -> None:
    """A feeder that sends garbage around its frames, cuts the connection in the middle of
    a frame, and restarts 100 times, then is down: every whole frame is read, the garbage is
    counted, and the feed reconnects each time."""
    good = encode_beast(_frames(POSITION, VELOCITY, POSITION), start_ns=0, first_tick=1)
    garbage = b"\x00\x17 not a frame \x1a\x33"  # (an escape with an unknown type inside)
    connections = 0

    async def feeder(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        writer.write(garbage + good + garbage + good + good[:9])  # (the last frame cut short)
        await writer.drain()
        writer.close()

    async def run() -> FeedStats:
        server = await asyncio.start_server(feeder, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        stats = FeedStats("beast", f"127.0.0.1:{port}")
        got: list[pa.RecordBatch] = []
        task = asyncio.create_task(
            run_feed("beast", "127.0.0.1", port, got.append, stats, backoff=(0.01, 0.05))
        )
        while connections < 100:
            await asyncio.sleep(0.01)
        server.close()  # the feeder goes down: the feed keeps trying
        await asyncio.sleep(0.2)
        task.cancel()
        assert sum(b.num_rows for b in got) == stats.frames
        return stats

    stats = asyncio.run(run())
    assert stats.connections >= 100
    assert stats.frames == 6 * stats.connections
    assert sum(stats.rejects.values()) > 0
    assert stats.failures >= 1 and "connect" in stats.last_error


def test_a_beast_connection_is_timed_by_its_counter_from_its_first_frame() -> None:
    """The counter gives the time between frames; the first frame is the arrival time, and
    a frame split across two reads is read once."""
    data = encode_beast(
        _frames(POSITION, VELOCITY, step_ns=2_500_000_000), start_ns=0, first_tick=1
    )
    parser = BeastParser(FeedStats("beast", "x"), now_ns=lambda: 10**18)
    a = parser.feed(data[:30])
    b = parser.feed(data[30:])
    assert a is not None and b is not None
    times = [*_ns(a), *_ns(b)]
    assert times == [10**18, 10**18 + 2_500_000_000]
    assert [*a.column("frame").to_pylist(), *b.column("frame").to_pylist()] == [POSITION, VELOCITY]


def test_avr_lines_take_their_counter_or_their_arrival_time() -> None:
    stats = FeedStats("avr", "x")
    parser = AvrParser(stats, now_ns=lambda: 5 * 10**18)
    lines = f"*{POSITION.hex()};\n@000000000001{VELOCITY.hex()};\nnonsense\n@00000BEBC201"
    lines += POSITION.hex()
    first = parser.feed(lines.encode()[:-10])
    second = parser.feed(lines.encode()[-10:] + b";\n")
    assert first is not None and second is not None
    times = [*_ns(first), *_ns(second)]
    # * line: arrival; @ lines: the counter from the first (200,000,000 ticks = 16.67 s)
    assert times == [5 * 10**18, 5 * 10**18, 5 * 10**18 + 16_666_666_667]
    assert stats.rejects["bad_line"] == 1


def test_a_frame_two_feeds_deliver_is_kept_once() -> None:
    dedup = Deduplicator(window_s=2.0)
    batch = _frames(POSITION, VELOCITY)
    assert dedup(batch, 0, now_ns=0).num_rows == 2
    assert dedup(batch, 0, now_ns=10).num_rows == 2  # (its own feed: a transponder repeats)
    assert dedup(batch, 1, now_ns=20).num_rows == 0
    assert dedup(batch, 1, now_ns=3 * 10**9).num_rows == 2  # (too late to be the same one)
    assert dedup.dropped == 2


@pytest.mark.parametrize(
    ("text", "address"),
    [("host:30005", ("host", 30005)), (":30002", ("127.0.0.1", 30002)), ("[::1]:1", ("::1", 1))],
)
def test_feed_addresses(text: str, address: tuple[str, int]) -> None:
    assert parse_address(text) == address


@pytest.mark.parametrize("text", ["host", "host:0", "host:70000", "host:port"])
def test_bad_feed_addresses_are_named(text: str) -> None:
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_address(text)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "no feed"),
        (["--beast", "host:port"], "--beast: 'host:port' is not HOST:PORT"),
        (["--beast", ":30005", "--webhook", "ftp://x/hook"], "http:// or https://"),
        (["--beast", ":30005", "--mqtt", "http://x"], "mqtt://HOST"),
        (["--beast", ":30005", "--step", "0"], "--step must be more than 0"),
    ],
)
def test_watch_names_what_is_wrong_with_its_options(args: list[str], message: str) -> None:
    from typer.testing import CliRunner

    from jamwatch.cli import app

    result = CliRunner().invoke(app, ["watch", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_replay_names_a_file_it_cannot_serve(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from jamwatch.cli import app

    bad = tmp_path / "notes.txt"
    bad.write_text("not frames\n" * 10)
    result = CliRunner().invoke(app, ["replay", str(bad), "--port", str(free_port())])
    assert result.exit_code == 2
    assert "notes.txt" in result.output


def test_a_step_that_fails_is_counted_and_the_monitor_goes_on() -> None:
    from jamwatch.watch.monitor import Monitor
    from jamwatch.watch.run import Feed, Watch

    class Broken(Monitor):
        def step(self, *args: Any, **kwargs: Any) -> list[Any]:
            raise ValueError("no such report")

    watch = Watch([Feed("beast", "127.0.0.1", 1)], Broken())
    watch.pending = [_frames(POSITION)]
    asyncio.run(watch._step())
    assert (watch.errors, watch.last_error) == (1, "step: ValueError: no such report")
    assert watch.pending == []  # (the next step starts afresh)


@pytest.mark.parametrize("fmt", ["beast", "avr"])
def test_a_replay_sends_every_frame_with_its_timing(
    recording: tuple[Path, int, datetime], fmt: str
) -> None:
    """What `jamwatch replay` sends, read back as a feed reads it: every timed frame of the
    recording, in order, with the times between them (to the 12 MHz tick)."""
    from jamwatch.io.readers import read_frames
    from jamwatch.io.replay import replay

    path, n_frames, _ = recording
    port = free_port()
    stats = FeedStats(fmt, "x")
    parser = BeastParser(stats) if fmt == "beast" else AvrParser(stats)
    got: list[pa.RecordBatch] = []

    async def run() -> None:
        listening = asyncio.Event()
        server = asyncio.create_task(replay([path], port, speed=0, fmt=fmt, listening=listening))
        await listening.wait()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while chunk := await reader.read(1 << 16):
            if (batch := parser.feed(chunk)) is not None:
                got.append(batch)
        writer.close()
        await server

    asyncio.run(run())
    sent = pa.Table.from_batches(got)
    original = pa.Table.from_batches(list(read_frames(path)))
    assert sent.num_rows == n_frames == original.num_rows
    assert sent.column("frame").equals(original.column("frame"))
    ticks = np.diff(np.asarray(sent.column("time").cast(pa.int64())))
    assert np.abs(ticks - np.diff(np.asarray(original.column("time").cast(pa.int64())))).max() <= 84
    assert stats.rejects == {}


def test_a_real_recording_replayed_shows_the_events_of_detect() -> None:
    """A real recording (Helsinki, 2026-01-06 04:14-04:30 UTC, Baltic jamming: see
    ../shared/data/PROVENANCE.md) served by ``jamwatch replay`` and read live: the monitor
    shows exactly the events ``jamwatch detect`` finds in the file given the monitor's
    clock start (its zero-counter and MLAT frames included)."""
    from jamwatch.io.readers import read_frames

    path = shared_path("helsinki", "raw_adsb_20260106_061452.bin.xz")
    n_frames = sum(b.num_rows for b in read_frames(path, start=datetime(2026, 1, 6, 4, 14, 52)))
    feed, http = free_port(), free_port()
    replay = jamwatch_process("replay", str(path), "--port", str(feed), "--speed", "0")
    watch = jamwatch_process(
        "watch", "--beast", f"127.0.0.1:{feed}", "--http", f"127.0.0.1:{http}", "--look", "0",
    )  # fmt: skip
    api = f"http://127.0.0.1:{http}"
    try:
        status = wait_all_read(api, n_frames)
        live = get_json(f"{api}/api/events")
    finally:
        watch.send_signal(signal.SIGTERM)
        watch.communicate(timeout=60)
        replay.communicate(timeout=60)
    anchor = datetime.fromisoformat(status["feeds"][0]["clock_start"].replace("Z", "+00:00"))
    batch = to_json(detect(decode(path, start=anchor)))
    assert [{k: v for k, v in e.items() if k not in ("id", "open")} for e in live] == batch
    assert any(e["kind"] == "jamming" for e in batch)  # (the morning's jamming is in it)
    assert status["feeds"][0]["rejects"] == {}
