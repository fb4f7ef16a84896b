"""``jamwatch watch``: the live monitor; ``jamwatch replay``: a recording served as a feed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from jamwatch.cli.app import app, console, fail
from jamwatch.cli.options import (
    ReceiverOption,
    StartOption,
    StartsOption,
    parse_receiver,
    recording_starts,
)

if TYPE_CHECKING:
    from jamwatch.io.store import Store
    from jamwatch.watch.alerts import Sink
    from jamwatch.watch.monitor import Monitor


def _address(text: str, what: str) -> tuple[str, int]:
    from jamwatch.io.feeds import parse_address

    try:
        return parse_address(text)
    except ValueError as exc:
        raise fail(f"{what}: {exc}") from None


HttpOption = Annotated[
    str, typer.Option(metavar="HOST:PORT", help="where the page and API listen ('off': nowhere)")
]
AlertsOption = Annotated[
    str | None,
    typer.Option(metavar="FILE", help="append alerts to FILE as JSON lines ('-': stdout)"),
]
WebhookOption = Annotated[
    str | None, typer.Option(metavar="URL", help="POST each alert's JSON to URL")
]
SecretOption = Annotated[
    str | None,
    typer.Option(
        metavar="S", envvar="JAMWATCH_WEBHOOK_SECRET",
        help="sign webhook bodies with HMAC-SHA256 and S (X-Jamwatch-Signature)",
    ),
]  # fmt: skip
MqttOption = Annotated[
    str | None,
    typer.Option(
        metavar="URL",
        help="publish alerts to an MQTT broker, mqtt://HOST:PORT/TOPIC (port, topic optional)",
    ),
]
StepOption = Annotated[
    float, typer.Option(help="seconds between steps (new frames decoded, map updated)")
]
LookOption = Annotated[
    float, typer.Option(help="seconds from a look at the open events to the next (alerts)")
]
MaxReportsOption = Annotated[
    int, typer.Option(help="the most reports a segment's detection holds (bounds the memory)")
]

JsonOption = Annotated[
    list[str] | None,
    typer.Option(
        "--json", metavar="HOST:PORT",
        help="readsb's JSON position stream (--net-json-port; 30047 in ultrafeeder)",
    ),
]  # fmt: skip
AircraftJsonOption = Annotated[
    list[str] | None,
    typer.Option(
        "--aircraft-json", metavar="PATH_OR_URL",
        help="readsb's or tar1090's aircraft.json (a file, its folder, or an http URL), "
        "read every second",
    ),
]  # fmt: skip
AppriseOption = Annotated[
    list[str] | None,
    typer.Option(
        metavar="URL",
        help="send alerts as notifications through an Apprise URL (slack://, tgram://, "
        "ntfy://, mailto://, ...; repeatable; pip install 'jamwatch[apprise]')",
    ),
]
WatchStoreOption = Annotated[
    Path | None,
    typer.Option(
        metavar="DIR",
        help="keep the decoded reports in a Parquet store (by day and hour) and resume "
        "from its last 24 h when started again",
    ),
]
FlushOption = Annotated[
    float, typer.Option(help="seconds between writes to --store (what a kill -9 may lose)")
]


@app.command("watch")
def watch_command(
    beast: Annotated[
        list[str] | None,
        typer.Option(metavar="HOST:PORT", help="a Beast feed (readsb, dump1090: port 30005)"),
    ] = None,
    avr: Annotated[
        list[str] | None,
        typer.Option(metavar="HOST:PORT", help="an AVR text feed (port 30002)"),
    ] = None,
    json_feed: JsonOption = None,
    aircraft_json: AircraftJsonOption = None,
    http: HttpOption = "127.0.0.1:8080",
    alerts: AlertsOption = None,
    webhook: WebhookOption = None,
    webhook_secret: SecretOption = None,
    mqtt: MqttOption = None,
    apprise: AppriseOption = None,
    step: StepOption = 1.0,
    look: LookOption = 10.0,
    max_reports: MaxReportsOption = 1_000_000,
    receiver: ReceiverOption = None,
    store: WatchStoreOption = None,
    flush: FlushOption = 10.0,
) -> None:  # fmt: skip
    """Watch live feeds for GNSS jamming and spoofing: alerts, a live page and an API.

    Connects to every feed given (each option repeatable), reconnecting with a growing pause
    when a feed fails, and drops the frames a second feed repeats (the JSON feeds are
    readsb's decoded reports, not compared with frames: give one kind of feed per receiver).
    Every --step seconds the new frames are decoded and detected as `jamwatch detect` does,
    on the feeds' own clock (a Beast connection is timed by its 12 MHz counter, anchored
    when it connects); the open events are looked at in a thread of their own, --look
    seconds after the previous look ended. Each change of an event (onset, located, updated,
    ended) is one alert: its events.json object with `alert` and `sent`, written to
    --alerts, POSTed to --webhook, published to --mqtt and sent through --apprise (a webhook
    or broker that is down gets the alerts later, in order). The page at http://HOST:PORT/
    and the API (/api/status, /api/events, /api/aircraft, /api/cells, /metrics,
    /openapi.json) are read-only and listen on 127.0.0.1:8080 unless --http says otherwise.
    Stop with Ctrl-C.
    """
    from jamwatch.decoder import Decoder, DecoderConfig
    from jamwatch.detect.stream import StreamConfig
    from jamwatch.watch.monitor import Monitor
    from jamwatch.watch.run import Feed, Watch, map_large_arrays

    map_large_arrays()  # (the memory freed goes back: see its documentation)
    feeds = [
        Feed(kind, *_address(a, f"--{kind}"))
        for kind, given in (("beast", beast), ("avr", avr), ("json", json_feed))
        for a in given or []
    ]
    feeds += [Feed("aircraft.json", source, 0) for source in aircraft_json or []]
    if not feeds:
        raise fail("no feed: give at least one --beast, --avr, --json or --aircraft-json")
    if step <= 0 or look < 0:
        raise fail("--step must be more than 0 seconds and --look 0 or more")
    server = None if http == "off" else _address(http, "--http")
    sinks = _sinks(alerts, webhook, webhook_secret, mqtt, apprise or [])
    if max_reports < 10_000:
        raise fail("--max-reports must be at least 10000")
    config = DecoderConfig(receiver=parse_receiver(receiver))
    monitor = Monitor(StreamConfig(max_reports=max_reports), Decoder(config))
    if store is not None:
        if flush <= 0:
            raise fail("--flush must be more than 0 seconds")
        monitor.store = _resume(monitor, store)
    watch = Watch(feeds, monitor, sinks, step_s=step, look_s=look, http=server, flush_s=flush)
    names = ", ".join(f"{f.kind} {f.stats.address}" for f in feeds)
    where = f"; page and API on http://{server[0]}:{server[1]}/" if server else ""
    console.print(f"watching {names}{where}", soft_wrap=True, markup=False)
    asyncio.run(watch.run())
    console.print(
        f"stopped: {watch.monitor.counts.frames:,} frames, {watch.alerts_sent} alerts",
        markup=False,
    )


def _resume(monitor: Monitor, folder: Path) -> Store:
    """The store at ``folder``, opened for writing, with its last 24 h taken back."""
    from jamwatch.io.store import Store, StoreError

    try:
        store = Store.open(folder)
    except StoreError as exc:
        raise fail(str(exc)) from None
    if store.parts:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        columns = (TextColumn("resuming from the store"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("resume", total=None)

            def update(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            rows = monitor.resume(store, progress=update)
        console.print(f"resumed {rows:,} reports from {folder}", markup=False)
    return store


def _sinks(
    alerts: str | None, webhook: str | None, secret: str | None, mqtt: str | None,
    apprise: list[str],
) -> list[Sink]:  # fmt: skip
    """The alert sinks the options ask for."""
    from jamwatch.watch.alerts import Apprise, JsonLines, Mqtt, Webhook

    sinks: list[Sink] = []
    if alerts is not None:
        try:
            sinks.append(JsonLines(alerts))
        except OSError as exc:
            raise fail(f"--alerts {alerts}: {exc.strerror or exc}") from None
    try:
        if webhook is not None:
            sinks.append(Webhook(webhook, secret))
        if mqtt is not None:
            sinks.append(Mqtt(mqtt))
        if apprise:
            sinks.append(Apprise(apprise))
    except ValueError as exc:
        raise fail(str(exc)) from None
    return sinks


@app.command("replay")
def replay_command(
    inputs: Annotated[list[Path], typer.Argument(help="raw recordings (Beast, AVR, hex, ...)")],
    port: Annotated[int, typer.Option(help="the TCP port to listen on")],
    host: Annotated[str, typer.Option(help="the address to listen on")] = "127.0.0.1",
    speed: Annotated[float, typer.Option(help="times real time (0: as fast as possible)")] = 1.0,
    fmt: Annotated[str, typer.Option("--format", help="beast or avr")] = "beast",
    start: StartOption = None,
    starts: StartsOption = None,
) -> None:
    """Serve recordings as a live Beast (or AVR) feed, for trying `jamwatch watch`.

    Listens on --port, waits for the first client, sends the frames at --speed times their
    own pace to every client connected, and exits when the recordings end.
    """
    from jamwatch.io.base import FormatError
    from jamwatch.io.replay import FORMATS, replay

    if fmt not in FORMATS:
        raise fail(f"--format {fmt}: known formats are {', '.join(FORMATS)}")
    if speed < 0:
        raise fail("--speed must be 0 (as fast as possible) or more")
    given = recording_starts(inputs, start, starts)
    console.print(f"serving {len(inputs)} recording(s) on {host}:{port}", markup=False)
    try:
        stats = asyncio.run(replay(inputs, port, host=host, speed=speed, fmt=fmt, starts=given))
    except (FormatError, FileNotFoundError, ValueError) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"{host}:{port}: {exc.strerror or exc}") from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    console.print(
        f"sent {stats.frames:,} frames to {stats.clients} client(s) in {stats.seconds:.1f} s",
        markup=False,
    )
