"""Alerts of the live monitor (:mod:`jamwatch.watch.alerts`): a webhook receiver that is down,
then up, gets every alert once, in order, signed; a real MQTT broker (Debian's mosquitto,
started here on loopback) gets them too, also when it starts after the monitor; an event
that only goes on raises no new alert.
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from conftest import apt_binary, free_port
from jamwatch.detect.changes import EventChange
from jamwatch.io.events import from_json
from jamwatch.watch.alerts import Apprise, JsonLines, Mqtt, Webhook, Worth, alert

MOSQUITTO = "/usr/sbin/mosquitto"


def _event(end: str, aircraft: list[str], source: dict[str, Any] | None) -> dict[str, Any]:
    """An events table row (as the event log gives it) of a jamming event."""
    item = {
        "kind": "jamming", "start": "2026-01-06T04:00:00.000Z", "end": end,
        "aircraft": aircraft, "affected_aircraft": len(aircraft), "peak_share": 0.5,
        "area": None, "source": source, "sources": [source] if source else [],
        "rejected_sources": [],
    }  # fmt: skip
    row: dict[str, Any] = from_json([item]).to_pylist()[0]
    return row


SOURCE = {"latitude": 59.5, "longitude": 26.1, "radius_95_km": 12.5}
CHANGES = [
    EventChange("onset", 1, _event("2026-01-06T04:02:00.000Z", ["4ca7b5", "461f4d"], None)),
    EventChange("located", 1, _event("2026-01-06T04:03:00.000Z", ["4ca7b5", "461f4d"], SOURCE)),
    EventChange("updated", 1, _event("2026-01-06T04:04:00.000Z", ["4ca7b5", "461f4d"], SOURCE)),
    EventChange(
        "updated", 1, _event("2026-01-06T04:05:00.000Z", ["4ca7b5", "461f4d", "4b1803"], SOURCE)
    ),
    EventChange(
        "ended", 1, _event("2026-01-06T04:06:00.000Z", ["4ca7b5", "461f4d", "4b1803"], SOURCE)
    ),
]


def test_an_event_that_only_goes_on_raises_no_alert() -> None:
    worth = Worth()
    assert [worth(c) for c in CHANGES] == [True, True, False, True, True]


def test_alerts_as_json_lines(tmp_path: Any) -> None:
    sink = JsonLines(str(tmp_path / "alerts.jsonl"))
    for change in CHANGES:
        sink.send(alert(change, sent_ns=1_767_672_000_000_000_000))
    sink.close()
    lines = [json.loads(x) for x in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    assert [a["alert"] for a in lines] == ["onset", "located", "updated", "updated", "ended"]
    assert lines[0]["sent"] == "2026-01-06T04:00:00.000Z"
    assert lines[1]["source"]["radius_95_km"] == 12.5 and lines[0]["source"] is None
    assert lines[3]["aircraft"] == ["4ca7b5", "461f4d", "4b1803"] and lines[3]["id"] == 1


class _Receiver(http.server.BaseHTTPRequestHandler):
    """A webhook receiver that refuses the first ``refuse`` requests with 503."""

    refuse = 0
    got: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if _Receiver.refuse > 0:
            _Receiver.refuse -= 1
            self.send_response(503)
        else:
            _Receiver.got.append((dict(self.headers), body))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _up_refusing_three(port: int, sink: Webhook | Apprise, changes: list[EventChange]) -> None:
    """The receiver comes up on ``port``, refusing its first three requests; ``changes`` are
    sent, and the sink closed once it delivered what it held."""
    _Receiver.refuse, _Receiver.got = 3, []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for change in changes:
            sink.send(alert(change))
        sink.close()
    finally:
        server.shutdown()
        server.server_close()


def test_a_webhook_down_then_up_gets_every_alert_once_in_order_signed() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    sink = Webhook(url, secret="s3cret", retry=(0.05, 0.2))
    for change in CHANGES[:2]:  # sent while nothing listens: held back
        sink.send(alert(change))
    time.sleep(0.5)
    assert sink.held + 1 >= 2 and sink.failures >= 2 and sink.sent == 0
    _up_refusing_three(port, sink, CHANGES[2:])
    assert sink.sent == len(CHANGES) and sink.held == 0
    bodies = [json.loads(body) for _, body in _Receiver.got]
    assert [b["alert"] for b in bodies] == [c.change for c in CHANGES]
    assert [h["X-Jamwatch-Delivery"] for h, _ in _Receiver.got] == ["1", "2", "3", "4", "5"]
    for headers, body in _Receiver.got:
        digest = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        assert headers["X-Jamwatch-Signature"] == f"sha256={digest}"


@pytest.mark.parametrize("url", ["ftp://host/hook", "not a url"])
def test_a_webhook_that_is_not_http_is_named(url: str) -> None:
    with pytest.raises(ValueError, match="webhook"):
        Webhook(url)


@pytest.fixture
def broker_port() -> Iterator[int]:
    """A port for a mosquitto broker the test starts (Debian's, installed when missing)."""
    apt_binary("mosquitto", MOSQUITTO)
    yield free_port()


def _broker(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [MOSQUITTO, "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )  # (without a configuration file, mosquitto listens on loopback only)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("mosquitto did not start")


def test_alerts_reach_a_real_mqtt_broker_that_starts_late(broker_port: int) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    sink = Mqtt(f"mqtt://127.0.0.1:{broker_port}/test/alerts", retry=(0.1, 1.0))
    sink.send(alert(CHANGES[0]))  # (before the broker is up: held back)
    broker = _broker(broker_port)
    got: list[dict[str, Any]] = []
    listener = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-listener")
    listener.on_message = lambda client, userdata, msg: got.append(json.loads(msg.payload))
    try:
        listener.connect("127.0.0.1", broker_port)
        listener.subscribe("test/alerts", qos=1)
        listener.loop_start()
        time.sleep(0.3)  # (the subscription is in place before the broker sends)
        # the first alert may have gone out before the subscription: what counts is that the
        # sink delivered it, and that the listener gets the ones after it, in order
        for change in CHANGES[1:]:
            sink.send(alert(change))
        deadline = time.monotonic() + 20
        while len([a for a in got if a["alert"] != "onset"]) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        sink.close()
    finally:
        listener.loop_stop()
        listener.disconnect()
        broker.terminate()
        broker.wait(10)
    assert sink.sent == len(CHANGES) and sink.held == 0
    after = [a["alert"] for a in got if a["alert"] != "onset"]
    assert after == ["located", "updated", "updated", "ended"]
    assert got[-1]["source"] == SOURCE and got[-1]["id"] == 1


def test_apprise_notifications_down_then_up_arrive_once_each_in_order() -> None:
    """Apprise's json:// service POSTs each notification to a receiver on loopback; the
    receiver is down for the first alert and refuses the next three requests."""
    port = free_port()
    sink = Apprise([f"json://127.0.0.1:{port}/notify"], retry=(0.05, 0.2))
    sink.send(alert(CHANGES[0]))
    time.sleep(0.3)
    assert sink.sent == 0 and sink.failures >= 1
    _up_refusing_three(port, sink, CHANGES[1:])
    assert sink.sent == len(CHANGES) and sink.held == 0
    notes = [json.loads(body) for _, body in _Receiver.got]
    assert [n["title"] for n in notes] == [
        f"jamwatch: jamming {c.change} (event 1)" for c in CHANGES
    ]
    assert notes[0]["message"].endswith("source not located")
    assert "source near 59.50 N 26.10 E, within 12 km (95 %)" in notes[1]["message"]
    assert "3 aircraft" in notes[3]["message"]
    with pytest.raises(ValueError, match="Apprise URL"):
        Apprise(["nonsense://x"])
