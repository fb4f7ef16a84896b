"""Headless Chromium for the page tests: Debian's chromium (installed with apt-get when
missing), started on loopback with the flags the project allows, and driven over its
DevTools protocol by a small websocket client written here."""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from conftest import apt_binary

CHROMIUM = "/usr/bin/chromium"


class Cdp:
    """A minimal DevTools client: one websocket, JSON commands, events collected."""

    def __init__(self, url: str) -> None:
        host, rest = url.removeprefix("ws://").split("/", 1)
        h, p = host.split(":")
        self.sock = socket.create_connection((h, int(p)), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /{rest} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        response = b""
        while b"\r\n\r\n" not in response:
            response += self.sock.recv(4096)
        assert b" 101 " in response.split(b"\r\n")[0]
        self.buffer = response.split(b"\r\n\r\n", 1)[1]
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def _recv_exact(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("DevTools socket closed")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def _recv(self) -> dict[str, Any]:
        message = b""
        while True:
            b0, b1 = self._recv_exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._recv_exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._recv_exact(8))[0]
            message += self._recv_exact(n)
            if b0 & 0x80:
                return json.loads(message)  # type: ignore[no-any-return]

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        payload = json.dumps({"id": self.next_id, "method": method, "params": params}).encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        n = len(payload)
        header += (
            bytes([0x80 | 126]) + struct.pack(">H", n)
            if n >= 126 and n < 65536
            else (bytes([0x80 | 127]) + struct.pack(">Q", n) if n >= 65536 else bytes([0x80 | n]))
        )
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)
        while True:
            msg = self._recv()
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(msg["error"])
                return msg.get("result", {})  # type: ignore[no-any-return]
            self.events.append(msg)

    def js(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        return result["result"].get("value")


def open_page(devport: str, url: str) -> Cdp:
    """The browser's page, with network and page events on, navigated to ``url``."""
    with urllib.request.urlopen(f"http://127.0.0.1:{devport}/json/list") as r:
        page = next(t for t in json.load(r) if t["type"] == "page")
    cdp = Cdp(page["webSocketDebuggerUrl"])
    cdp.call("Network.enable")
    cdp.call("Page.enable")
    cdp.call("Page.navigate", url=url)
    return cdp


def ensure_chromium() -> str:
    """Debian's chromium (see :func:`conftest.apt_binary`)."""
    return apt_binary("chromium", CHROMIUM)


CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--remote-debugging-port=0",
    "--window-size=1280,800",
)  # fmt: skip


def start_chromium(chromium: str) -> tuple[subprocess.Popen[bytes], str, str]:
    """(process, profile folder, DevTools port) of a headless chromium on loopback.

    On a loaded machine a cold start can take long, or the browser can exit before it opens
    its DevTools port: it is waited for up to 60 s and started once more if it did not come
    up; a second failure ends the test with the browser's own log."""
    log = ""
    for _ in range(2):
        profile = tempfile.mkdtemp(prefix="jamwatch-chromium-")
        log_path = Path(profile).parent / (Path(profile).name + ".log")
        with log_path.open("wb") as err:
            proc = subprocess.Popen(
                [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        port_file = Path(profile) / "DevToolsActivePort"
        for _ in range(600):
            if port_file.exists() and port_file.read_text().strip():
                log_path.unlink(missing_ok=True)
                return proc, profile, port_file.read_text().split()[0]
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        proc.kill()
        proc.wait(timeout=10)
        log = log_path.read_text(errors="replace")[-2000:]
        log_path.unlink(missing_ok=True)
        shutil.rmtree(profile, ignore_errors=True)
    pytest.fail(f"chromium did not open its DevTools port (exit {proc.returncode}):\n{log}")


def wait_for(cdp: Cdp, expression: str, tries: int = 100) -> Any:
    value = None
    for _ in range(tries):
        value = cdp.js(expression)
        if value:
            return value
        time.sleep(0.05)
    return value
