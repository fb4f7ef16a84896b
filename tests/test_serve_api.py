"""The live monitor's API (:mod:`jamwatch.serve.app`) under a property-based run of its own
OpenAPI document (schemathesis): no request the document allows, and no malformed one it
generates, gets a server error or a response outside the document. The monitor behind it
holds the events and cells of a short simulated recording, so that the responses are not
empty."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import schemathesis
from hypothesis import settings

from jamwatch.serve.app import create_app
from jamwatch.simulate.scenario import load, run_scenario
from jamwatch.watch.monitor import Monitor
from jamwatch.watch.run import Feed, Watch


def _watch() -> Watch:
    """A watch whose monitor has read the first 20 minutes of andoya-2024 (seed 3)."""
    frames = run_scenario(load("andoya-2024"), 3).frames.sort_by("time")
    t = frames.column("time").cast(pa.int64())
    first = t[0].as_py()
    part = frames.filter(pa.compute.less(t, first + 20 * 60 * 10**9))
    monitor = Monitor()
    monitor.step(part.to_batches())
    return Watch([Feed("beast", "127.0.0.1", 30005)], monitor)


WATCH = _watch()
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(WATCH))


@schema.parametrize()
@settings(max_examples=40)
def test_the_api_answers_every_request_its_document_allows(case: Any) -> None:
    case.call_and_validate()


def test_the_monitor_behind_the_api_has_something_to_show() -> None:
    assert WATCH.monitor.counts.frames > 0
    assert WATCH.monitor.events() and WATCH.monitor.cells(3600).num_rows > 0
