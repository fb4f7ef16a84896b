"""The detect and eval commands. Fixture: the real flight THY9BP (xoolive/traffic
samples/noisy/noisy_spoofing.json.gz @ 8286f88e, MIT)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from conftest import shared_path
from jamwatch.cli import app


def test_detect_writes_spoofing_episode(tmp_path: Path) -> None:
    out = tmp_path / "events.json"
    src = shared_path("trajectories", "thy9bp_2024-09-17_spoofed.json.gz")
    result = CliRunner().invoke(app, ["detect", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    events = json.loads(out.read_text())
    assert [e["kind"] for e in events] == ["spoofing"]
    e = events[0]
    assert e["icao"] == "4baac6" and e["aircraft"] == ["4baac6"]
    assert e["start"].startswith("2024-09-17T09:06") and e["start"].endswith("Z")
    assert e["end"].startswith("2024-09-17T09:58")


def test_detect_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["detect", str(tmp_path / "nope.beast")])
    assert result.exit_code == 2


def test_help_texts() -> None:
    for command in ("detect", "eval"):
        result = CliRunner().invoke(app, [command, "--help"])
        assert result.exit_code == 0
        assert "Usage" in result.output
