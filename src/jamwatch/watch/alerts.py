"""Alerts: every change of an event, delivered once.

An alert is the event's ``events.json`` object with its ``id``, plus ``alert`` (``onset``,
``located``, ``updated`` or ``ended``: :data:`jamwatch.detect.changes.CHANGES`) and ``sent``
(the wall-clock time it was sent, ISO 8601 UTC). The event's ``start`` is its onset on the
feed's clock. An event that goes on changes its end at every step: :class:`Worth` lets an
``updated`` alert through only when its aircraft or its source changed since the event's
last alert (the API shows every change).

The sinks:

- :class:`JsonLines` writes one alert per line to a file (appended) or to stdout (``-``),
  flushed at once;
- :class:`Webhook` POSTs each alert's JSON to a URL, with ``X-Jamwatch-Delivery`` (a number
  the receiver can use to drop a repeat) and, given a shared secret,
  ``X-Jamwatch-Signature: sha256=HEX`` (HMAC-SHA256 of the body);
- :class:`Mqtt` publishes each alert's JSON on a topic of an MQTT broker (QoS 1);
- :class:`Apprise` sends each alert as a short notification (a title and a line or two)
  to chat and push services through Apprise URLs (Slack, Telegram, Matrix, Discord, ntfy,
  e-mail, ...: the ``apprise`` package, ``pip install 'jamwatch[apprise]'``).

A webhook or broker that is down, slow or refusing holds the alerts back, in order, and
they are sent again after a pause that doubles from ``RETRY_S[0]`` to ``RETRY_S[1]`` until
they are taken: each is delivered once it is taken, none is dropped while the monitor runs.
Delivery runs in a thread of its own, so a slow receiver never holds up the detection.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import IO, Any, Protocol

from jamwatch.detect.changes import EventChange
from jamwatch.io.events import iso
from jamwatch.watch.monitor import event_json


def alert(change: EventChange, sent_ns: int | None = None) -> dict[str, Any]:
    """The alert of one change (see the module documentation)."""
    item = event_json(change)
    item["alert"] = change.change
    item["sent"] = iso(time.time_ns() if sent_ns is None else sent_ns)
    return item


class Worth:
    """Whether a change is worth an alert (see the module documentation)."""

    def __init__(self) -> None:
        self.last: dict[int, tuple[Any, ...]] = {}

    def __call__(self, change: EventChange) -> bool:
        e = change.event
        src = e.get("source") or {}
        state = (
            frozenset(e.get("aircraft") or ()),
            src.get("latitude"), src.get("longitude"), src.get("radius_95_km"),
        )  # fmt: skip
        before = self.last.get(change.id)
        if change.change == "ended":
            self.last.pop(change.id, None)
            return True
        self.last[change.id] = state
        return change.change != "updated" or state != before


class Sink(Protocol):
    """Where alerts go."""

    def send(self, alert: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


class JsonLines:
    """Alerts as JSON lines in a file (appended; ``-``: stdout)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.out: IO[str] = sys.stdout if target == "-" else Path(target).open("a")  # noqa: SIM115
        self.sent = 0

    def send(self, alert: dict[str, Any]) -> None:
        self.out.write(json.dumps(alert, separators=(",", ":")) + "\n")
        self.out.flush()
        self.sent += 1

    def close(self) -> None:
        if self.out is not sys.stdout:
            self.out.close()


#: the pause before sending an alert again: doubling from the first to the last
RETRY_S = (0.5, 60.0)

#: how long closing a sink waits for the alerts still held back
CLOSE_WAIT_S = 10.0


class _Retrying:
    """Alerts in a queue, delivered in order by a thread of their own, each sent again
    until :meth:`deliver` takes it (see the module documentation)."""

    def __init__(self, name: str, retry: tuple[float, float] = RETRY_S) -> None:
        self.name, self.retry = name, retry
        self.queue: queue.Queue[tuple[int, bytes] | None] = queue.Queue()
        self.sent = self.failures = 0
        self.last_error = ""
        self.count = 0
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def send(self, alert: dict[str, Any]) -> None:
        self.count += 1
        self.queue.put((self.count, json.dumps(alert, separators=(",", ":")).encode()))

    def deliver(self, number: int, body: bytes) -> None:
        """Send one alert; raise OSError (or ValueError) when it was not taken."""
        raise NotImplementedError

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            pause = self.retry[0]
            while True:
                try:
                    self.deliver(*item)
                except (OSError, ValueError) as exc:
                    self.failures += 1
                    self.last_error = str(exc)
                    time.sleep(pause)
                    pause = min(2 * pause, self.retry[1])
                else:
                    self.sent += 1
                    break

    @property
    def held(self) -> int:
        """Alerts not delivered yet."""
        return self.queue.qsize()

    def close(self) -> None:
        """Wait up to ``CLOSE_WAIT_S`` for the alerts held back, then stop."""
        self.queue.put(None)
        self.thread.join(CLOSE_WAIT_S)


class Webhook(_Retrying):
    """Alerts POSTed to ``url`` (see the module documentation)."""

    def __init__(
        self, url: str, secret: str | None = None, retry: tuple[float, float] = RETRY_S
    ) -> None:  # fmt: skip
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"a webhook is an http:// or https:// URL, not {url!r}")
        self.url, self.secret = url, secret
        super().__init__("webhook", retry)

    def deliver(self, number: int, body: bytes) -> None:
        headers = {"Content-Type": "application/json", "X-Jamwatch-Delivery": str(number)}
        if self.secret:
            digest = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
            headers["X-Jamwatch-Signature"] = f"sha256={digest}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()  # (an error status raises HTTPError, an OSError)


class Mqtt(_Retrying):
    """Alerts published on an MQTT broker: ``mqtt://[USER:PASSWORD@]HOST[:PORT][/TOPIC]``
    (port 1883 and topic ``jamwatch/alerts`` by default)."""

    def __init__(self, url: str, retry: tuple[float, float] = RETRY_S) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "mqtt" or not parts.hostname:
            raise ValueError(f"an MQTT broker is mqtt://HOST[:PORT][/TOPIC], not {url!r}")
        self.topic = parts.path.lstrip("/") or "jamwatch/alerts"
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="jamwatch-watch")
        if parts.username:
            self.client.username_pw_set(parts.username, parts.password)
        self.client.reconnect_delay_set(int(retry[0]) or 1, int(retry[1]))
        self.client.connect_async(parts.hostname, parts.port or 1883)
        self.client.loop_start()
        super().__init__("mqtt", retry)

    def deliver(self, number: int, body: bytes) -> None:
        if not self.client.is_connected():
            raise OSError("not connected to the broker")
        info = self.client.publish(self.topic, body, qos=1)
        try:
            info.wait_for_publish(timeout=10)
        except RuntimeError as exc:  # (the publication failed)
            raise OSError(str(exc)) from None
        if not info.is_published():
            raise OSError(f"the broker did not take alert {number}")

    def close(self) -> None:
        super().close()
        self.client.loop_stop()
        self.client.disconnect()


def summary(alert: dict[str, Any]) -> tuple[str, str]:
    """The title and text of a notification of ``alert``."""
    kind, change = alert.get("kind", "event"), alert.get("alert", "change")
    title = f"jamwatch: {kind} {change} (event {alert.get('id')})"
    aircraft = alert.get("aircraft") or []
    lines = [f"{alert.get('start')} to {alert.get('end')} (feed time), {len(aircraft)} aircraft"]
    source = alert.get("source")
    if source:
        lat, lon = source["latitude"], source["longitude"]
        lines.append(
            f"source near {abs(lat):.2f} {'N' if lat >= 0 else 'S'} {abs(lon):.2f} "
            f"{'E' if lon >= 0 else 'W'}, within {source['radius_95_km']:.0f} km (95 %)"
        )
    elif kind == "jamming":
        lines.append("source not located")
    return title, "\n".join(lines)


class Apprise(_Retrying):
    """Alerts as notifications to every Apprise URL of ``urls`` (:func:`summary`); an alert
    that a service does not take is sent again to all of them."""

    def __init__(self, urls: list[str], retry: tuple[float, float] = RETRY_S) -> None:
        try:
            import apprise
        except ImportError:
            raise ValueError(
                "--apprise needs the apprise package: pip install 'jamwatch[apprise]'"
            ) from None
        self.notifier = apprise.Apprise()
        for url in urls:
            if not self.notifier.add(url):
                raise ValueError(f"not an Apprise URL Apprise knows: {url!r}")
        super().__init__("apprise", retry)

    def deliver(self, number: int, body: bytes) -> None:
        title, text = summary(json.loads(body))
        if not self.notifier.notify(title=title, body=text):
            raise OSError(f"a notification service did not take alert {number}")


__all__ = [
    "RETRY_S", "Apprise", "JsonLines", "Mqtt", "Sink", "Webhook", "Worth", "alert", "summary"
]  # fmt: skip
