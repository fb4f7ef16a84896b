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
from jamwatch.signals.ships import EVIDENCE_NAMES, ShipConfig, ship_signals

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
    timed = signals.column("time").is_valid()
    table = signals.filter(timed)
    mmsi = np.asarray(table.column("mmsi").to_numpy(zero_copy_only=False), np.int64)
    t = np.asarray(table.column("time").cast(pa.int64()).to_numpy(), np.int64)
    order = np.lexsort((t, mmsi))
    names, code = np.unique(mmsi[order], return_inverse=True)
    flag = np.asarray(table.column("spoofed").to_numpy(zero_copy_only=False), np.bool_)[order]

    def point(name: str, centre: str) -> np.ndarray:
        own = table.column(name).cast(pa.float64()).to_numpy(zero_copy_only=False)
        ring = table.column(centre).cast(pa.float64()).to_numpy(zero_copy_only=False)
        return np.asarray(np.where(np.isnan(ring), own, ring), np.float64)[order]

    lat, lon = point("latitude", "circle_latitude"), point("longitude", "circle_longitude")
    ev = np.asarray(table.column("evidence").to_numpy(), np.int64)[order]
    ep = np.full(order.shape[0], -1, np.int64)
    n_ep = number_episodes(
        code.astype(np.int64), t[order], flag, int(c.episode_gap_s * NS),
        int(c.min_episode_s * NS), c.min_reports, ep,
    )  # fmt: skip
    labels = [str(int(m)) for m in names]
    episodes = episode_table(
        n_ep, ep, code.astype(np.int64), t[order], lat, lon, ev, labels, c.cluster_km,
        EVIDENCE_NAMES,
    )  # fmt: skip
    return episodes.rename_columns(
        ["mmsi" if n == "icao" else "converging_vessels" if n == "converging_aircraft" else n
         for n in episodes.column_names]
    ).set_column(0, "mmsi", pa.array([int(m) for m in episodes.column("icao").to_pylist()],
                                     pa.int64()))  # fmt: skip


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
