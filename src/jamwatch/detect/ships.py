"""Ship spoofing episodes from the ship signals (:mod:`jamwatch.signals.ships`).

A ship's spoofed reports (a false track, a circle, a moved base station) less than
``episode_gap_s`` apart form an episode; episodes shorter than ``min_episode_s`` or with
fewer than ``min_reports`` reports are dropped. An episode's false position is the median
of its positions (of a circle: of its centres) when they lie within ``cluster_km`` of it;
the ships whose false positions lie within ``cluster_km`` of each other converge there.
In ``events.json`` a ship's episode has ``kind`` "spoofing", ``mmsi`` and ``vessels``
([mmsi]) where an aircraft's has ``icao`` and ``aircraft`` (:func:`ship_events`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from jamwatch.detect.spoofing_episodes import episode_event, episode_table, number_episodes
from jamwatch.schema import EVENTS, int_times
from jamwatch.signals.ships import EVIDENCE_NAMES, ShipConfig, by_ship, flags, ship_signals

NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class ShipEpisodeConfig:
    """How a ship's spoofed reports make an episode (see the module documentation)."""

    episode_gap_s: float = 900.0
    min_episode_s: float = 60.0
    min_reports: int = 4
    cluster_km: float = 2.0


def ship_episodes(signals: pa.Table, config: ShipEpisodeConfig | None = None) -> pa.Table:
    """One row per ship spoofing episode of ``signals`` (:func:`ship_signals` output):
    ``mmsi``, ``start``, ``end``, ``reports``, ``evidence``, ``false_latitude``,
    ``false_longitude``, ``converging_vessels``."""
    c = config or ShipEpisodeConfig()
    table = by_ship(signals)
    t = np.asarray(table.column("time").cast(pa.int64()).to_numpy(), np.int64)
    mmsi = table.column("mmsi").to_numpy(zero_copy_only=False)
    names, code = np.unique(mmsi, return_inverse=True)
    code = code.astype(np.int64)
    flag = flags(table, ("spoofed",))

    def point(name: str, centre: str) -> np.ndarray:
        own = table.column(name).cast(pa.float64()).to_numpy(zero_copy_only=False)
        ring = table.column(centre).cast(pa.float64()).to_numpy(zero_copy_only=False)
        return np.asarray(np.where(np.isnan(ring), own, ring), np.float64)

    lat, lon = point("latitude", "circle_latitude"), point("longitude", "circle_longitude")
    ev = np.asarray(table.column("evidence").to_numpy(), np.int64)
    ep = np.full(t.shape[0], -1, np.int64)
    n_ep = number_episodes(
        code, t, flag, int(c.episode_gap_s * NS), int(c.min_episode_s * NS), c.min_reports, ep
    )  # fmt: skip
    labels = [str(int(m)) for m in names]
    episodes = episode_table(
        n_ep, ep, code, t, lat, lon, ev, labels, c.cluster_km, EVIDENCE_NAMES
    )  # fmt: skip
    mmsi = pa.array([int(m) for m in episodes.column("icao").to_pylist()], pa.int64())
    episodes = episodes.set_column(0, "mmsi", mmsi)
    return episodes.rename_columns(
        ["converging_vessels" if n == "converging_aircraft" else n for n in episodes.column_names]
    )


def ship_event_rows(episodes: pa.Table) -> list[dict[str, Any]]:
    """The episodes as rows of :data:`jamwatch.schema.EVENTS`."""
    return [
        episode_event(ep, "converging_vessels", aircraft=[], vessels=[ep["mmsi"]], mmsi=ep["mmsi"])
        for ep in int_times(episodes).to_pylist()
    ]


def ship_events(
    decoded: pa.Table, config: ShipConfig | None = None,
    episodes: ShipEpisodeConfig | None = None,
) -> tuple[pa.Table, pa.Table]:  # fmt: skip
    """The ship events of decoded AIS (:data:`jamwatch.schema.EVENTS` rows, in start order)
    and the signals they were found on."""
    signals = ship_signals(decoded, config)
    rows = ship_event_rows(ship_episodes(signals, episodes))
    rows.sort(key=lambda e: (e["start"], e["kind"]))
    return pa.Table.from_pylist(rows, schema=EVENTS), signals


__all__ = ["ShipEpisodeConfig", "ship_episodes", "ship_event_rows", "ship_events"]
