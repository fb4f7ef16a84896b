"""The live monitor's HTTP server: a read-only JSON API, Prometheus metrics and a live page.

Routes (all GET; anything else gets 405):

- ``/``: a page that shows the status and the events, refreshed every few seconds;
- ``/api/status``: the feeds (connected, frames, bytes, rejects by reason, last error), the
  receiver's status (its message rate per aircraft against the usual: a receiver fault is
  not jamming), the frames, reports and alerts so far, the aircraft heard and the share
  degraded, the open events, the feed time and the lag;
- ``/api/events``: the events as ``events.json`` objects with their ``id``, open ones first;
- ``/api/aircraft``: the aircraft heard in the last five minutes with their last state;
- ``/api/cells?window=1h``: the map's H3 cells of the last ``window`` (``30m``, ``1h``,
  ``6h``, ``day``, ...; default ``1h``; the monitor keeps 24 hours, so a longer window gives
  those) up to the latest report, with their gpsjam counts, score and class (the columns of
  ``cells.parquet``);
- ``/map/``: the live map, the page ``jamwatch map`` writes (deck.gl over the bundled
  basemap), drawn from the monitor's last 24 hours in hourly windows and its events; it
  shows the latest hour and reloads itself every ``MAP_RELOAD_S`` seconds, keeping the view;
- ``/metrics``: the same counts for Prometheus;
- ``/openapi.json``: the OpenAPI document.

The server reads the monitor's picture and computes nothing; it binds to 127.0.0.1 unless
told otherwise and serves no file but the map page's own (a fixed list of names).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from importlib import resources
from typing import TYPE_CHECKING, Annotated, Any

import pyarrow as pa
import uvicorn
from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from jamwatch.aggregate.grid import parse_window
from jamwatch.io.events import iso
from jamwatch.watch.monitor import CELLS_S

if TYPE_CHECKING:
    from jamwatch.watch.run import Watch

#: seconds between reloads of the live map
MAP_RELOAD_S = 60.0
_JS = "text/javascript; charset=utf-8"


def status(watch: Watch) -> dict[str, Any]:
    """The ``/api/status`` object."""
    m = watch.monitor
    heard, degraded = m.degraded_share()
    now = time.time_ns()
    return {
        "started": iso(watch.started_ns),
        "feed_time": iso(m.counts.now_ns) if m.counts.now_ns else None,
        "feeds": [
            {
                "kind": f.stats.kind,
                "address": f.stats.address,
                "connected": f.stats.connected,
                "connections": f.stats.connections,
                "failures": f.stats.failures,
                "frames": f.stats.frames,
                "bytes": f.stats.bytes,
                "receiver_restarts": f.stats.restarts,
                "clock_start": iso(f.stats.clock_start_ns) if f.stats.clock_start_ns else None,
                "rejects": dict(f.stats.rejects),
                "last_error": f.stats.last_error or None,
                "last_frame_age_s": (
                    round((now - f.stats.last_frame_ns) / 1e9, 3) if f.stats.last_frame_ns else None
                ),
            }
            for f in watch.feeds
        ],
        "frames": m.counts.frames,
        "duplicates_dropped": watch.dedup.dropped,
        "reports": m.counts.reports,
        "late_reports": m.counts.late,
        "untimed_reports": m.counts.untimed,
        "receiver": m.receiver(),
        "aircraft": heard,
        "degraded_aircraft": degraded,
        "degraded_share": round(degraded / heard, 4) if heard else None,
        "open_events": len(m.open),
        "alerts_sent": watch.alerts_sent,
        "errors": watch.errors,
        "last_error": watch.last_error or None,
        "pending_frames": sum(b.num_rows for b in watch.pending),
        "pending_reports": sum(t.num_rows for t in watch.pending_reports),
        "step_s": round(m.counts.step_s, 3),
        "looks": m.counts.looks,
        "look_s": round(m.counts.look_s, 3),
        "looked_reports": m.counts.looked_reports,
        "detected_reports": m.counts.pushed,
        "queued_reports": m.counts.reports - m.counts.pushed,
        "lag_s": round(m.counts.lag_s, 3),
        "store": None if m.store is None else {
            "folder": str(m.store.root),
            "rows": m.store.rows,
            "written": watch.stored,
            "resumed": m.counts.resumed,
            "last_write": iso(watch.flushed_ns) if watch.flushed_ns else None,
        },
    }


class _Metrics:
    """The monitor's counts as Prometheus metrics, read at each scrape."""

    def __init__(self, watch: Watch) -> None:
        self.watch = watch

    def collect(self) -> Iterator[Metric]:
        w, m = self.watch, self.watch.monitor
        heard, degraded = m.degraded_share()
        frames = CounterMetricFamily("jamwatch_feed_frames", "frames received", labels=["feed"])
        up = GaugeMetricFamily("jamwatch_feed_connected", "1 when connected", labels=["feed"])
        for f in w.feeds:
            name = f"{f.stats.kind}:{f.stats.address}"
            frames.add_metric([name], f.stats.frames)
            up.add_metric([name], 1.0 if f.stats.connected else 0.0)
        yield frames
        yield up
        yield CounterMetricFamily("jamwatch_reports", "reports decoded", value=m.counts.reports)
        yield CounterMetricFamily("jamwatch_alerts", "alerts sent", value=w.alerts_sent)
        yield GaugeMetricFamily("jamwatch_aircraft", "aircraft heard in the last 60 s", heard)
        yield GaugeMetricFamily(
            "jamwatch_degraded_share", "share of those with degraded integrity",
            degraded / heard if heard else 0.0,
        )  # fmt: skip
        yield GaugeMetricFamily("jamwatch_open_events", "open events", len(m.open))
        yield GaugeMetricFamily(
            "jamwatch_lag_seconds", "age of the last step's oldest frame", m.counts.lag_s
        )


#: the windows ``/api/cells`` takes (those of :func:`jamwatch.aggregate.grid.parse_window`)
WINDOW = r"^(day|hour|[1-9][0-9]{0,5}[smhd])$"


def create_app(watch: Watch) -> FastAPI:
    """The FastAPI application over ``watch`` (see the module documentation)."""
    app = FastAPI(
        title="jamwatch watch",
        description="Live GNSS-interference monitor: read-only API.",
        docs_url=None,  # (the interactive docs load scripts from the network)
        redoc_url=None,
    )
    registry = CollectorRegistry(auto_describe=True)
    registry.register(_Metrics(watch))  # type: ignore[arg-type]
    page = resources.files("jamwatch.serve").joinpath("page/live.html").read_text()

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return page

    @app.get("/api/status")
    def api_status() -> dict[str, Any]:
        """Feeds, counts, the degraded share, open events and lag."""
        return status(watch)

    @app.get("/api/events")
    def api_events() -> list[dict[str, Any]]:
        """The events (``events.json`` objects with their ``id``), open ones first."""
        return watch.monitor.events()

    @app.get("/api/aircraft")
    def api_aircraft() -> list[dict[str, Any]]:
        """The aircraft heard in the last five minutes, with their last state."""
        return watch.monitor.aircraft_list()

    @app.get("/api/cells")
    def api_cells(
        window: Annotated[str, Query(pattern=WINDOW, description="90s, 30m, 1h, day, ...")] = "1h",
    ) -> list[dict[str, Any]]:
        """The map's cells of the last ``window`` (at most the 24 hours kept) up to the latest
        report."""
        cells = watch.monitor.cells(min(parse_window(window), CELLS_S))
        starts = cells.column("window_start").cast(pa.int64()).to_pylist()
        rows: list[dict[str, Any]] = cells.to_pylist()
        for row, start in zip(rows, starts, strict=True):
            row["window_start"] = iso(start)
        return rows

    _map_routes(app, watch)

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics() -> str:
        """Counts for Prometheus."""
        return generate_latest(registry).decode()

    return app


def _map_routes(app: FastAPI, watch: Watch) -> None:
    """``/map/``: the map page and its scripts, the data ones made at each request."""
    from jamwatch.serve import site
    from jamwatch.serve.events import check_events

    static = {"app.js": _JS, "style.css": "text/css; charset=utf-8"}
    basemap: list[str] = []
    memo: list[tuple[int, tuple[pa.Table, pa.Table]]] = []  # (steps seen, the windows then)

    def windows() -> tuple[pa.Table, pa.Table]:
        """The monitor's hourly windows, merged once per step (a reload asks twice)."""
        steps = watch.monitor.counts.steps
        got = memo[0] if memo else None
        if got is None or got[0] != steps:
            got = (steps, watch.monitor.windows())
            memo[:] = [got]
        return got[1]

    @app.get("/map", include_in_schema=False)
    def map_root() -> RedirectResponse:
        return RedirectResponse("/map/")

    @app.get("/map/", response_class=HTMLResponse, include_in_schema=False)
    def map_index() -> str:
        return site.PAGE.joinpath("index.html").read_text()

    @app.get("/map/{name}", include_in_schema=False)
    def map_file(name: str) -> Response:
        if name in static:
            return Response(site.PAGE.joinpath(name).read_text(), media_type=static[name])
        if name == site.DECK_BUNDLE:
            try:
                return FileResponse(site.deck_bundle(), media_type=_JS)
            except FileNotFoundError as exc:
                raise HTTPException(404, str(exc)) from None
        if name == "basemap.js":
            if not basemap:
                basemap.append(site.basemap_js())
            return Response(basemap[0], media_type=_JS)
        if name == "ships.js":  # (the live monitor reads aircraft only)
            return Response("window.JAMWATCH_SHIPS = [];\n", media_type=_JS)
        if name in ("cells.js", "events.js"):
            cells, partials = windows()
            if name == "cells.js":
                return Response(site.cells_js(cells, partials, MAP_RELOAD_S), media_type=_JS)
            events = check_events(watch.monitor.events())
            return Response(site.events_js(events, cells), media_type=_JS)
        raise HTTPException(404, "no such file")


class _Server(uvicorn.Server):
    """uvicorn's server without its own signal handlers (the watch has its own)."""

    def install_signal_handlers(self) -> None:  # (uvicorn before 0.29)
        pass

    def capture_signals(self) -> Any:
        import contextlib

        return contextlib.nullcontext()


def serve(watch: Watch, host: str, port: int) -> uvicorn.Server:
    """The server of ``watch`` on ``host:port`` (run it with ``await server.serve()``)."""
    config = uvicorn.Config(
        create_app(watch), host=host, port=port, log_level="warning", lifespan="off",
        access_log=False,
    )  # fmt: skip
    return _Server(config)


__all__ = ["create_app", "serve", "status"]
