"""Episodes of the kinematic spoofing detector (:mod:`jamwatch.detect.spoofing`, step 5).

:func:`number_episodes` groups each aircraft's flagged reports into episodes and drops the
short ones; :func:`episode_table` gives one row per episode (:data:`EPISODES`): its span,
evidence, false point and the aircraft converging on it.
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from jamwatch.detect.spoofing_evidence import EVIDENCE_NAMES
from jamwatch.geo import distance_m
from jamwatch.schema import TIME_TYPE

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

EPISODES = pa.schema(
    [
        pa.field("icao", pa.string()),
        pa.field("start", TIME_TYPE),
        pa.field("end", TIME_TYPE),
        pa.field("reports", pa.int64()),
        pa.field("evidence", pa.list_(pa.string())),
        pa.field("false_latitude", pa.float64()),
        pa.field("false_longitude", pa.float64()),
        pa.field("converging_aircraft", pa.int64()),
    ]
)


MS = 1_000_000  # nanoseconds: event times are kept to the millisecond, as published


def episode_event(ep: dict[str, Any], converging: str, **who: Any) -> dict[str, Any]:
    """An episode (a row of :func:`episode_table`, times as int nanoseconds) as a row of
    :data:`jamwatch.schema.EVENTS`: ``who`` names the aircraft or ship (``icao`` and
    ``aircraft``, or ``mmsi``, ``vessels`` and an empty ``aircraft``); ``converging`` is the
    episode's column of the count converging on its false point, kept under that name."""
    false = None
    if ep["false_latitude"] is not None:
        false = {
            "latitude": round(ep["false_latitude"], 5),
            "longitude": round(ep["false_longitude"], 5),
            converging: ep[converging],
        }
    return {
        "kind": "spoofing",
        "start": ep["start"] // MS * MS,
        "end": ep["end"] // MS * MS,
        **who,
        "reports": ep["reports"],
        "evidence": ep["evidence"],
        "false_position": false,
    }


@nb.njit(cache=True, nogil=True)
def number_episodes(
    code: I64, t: I64, flag: B, gap_ns: int, min_ns: int, min_reports: int, ep: I64
) -> int:
    """Number flagged reports by episode (ep, -1 elsewhere); drop short episodes."""
    n = code.shape[0]
    count = 0
    i = 0
    while i < n:
        if not flag[i]:
            ep[i] = -1
            i += 1
            continue
        k = i + 1
        last = i
        while k < n and code[k] == code[i] and t[k] - t[last] <= gap_ns:
            if flag[k]:
                last = k
            k += 1
        members = 0
        for m in range(i, last + 1):
            members += flag[m]
        keep = t[last] - t[i] >= min_ns and members >= min_reports
        for m in range(i, last + 1):
            if flag[m] and keep:
                ep[m] = count
            else:
                ep[m] = -1
                flag[m] = False
        if keep:
            count += 1
        i = last + 1
    return count


def episode_table(
    n_ep: int, ep: I64, code: I64, t: I64, lat: F64, lon: F64, ev: I64, icaos: list[str],
    cluster_km: float, evidence_names: dict[int, str] = EVIDENCE_NAMES,
) -> pa.Table:  # fmt: skip
    """One row per episode: its span, evidence, false point and converging aircraft (or
    ships: ``icaos`` names the codes, ``evidence_names`` the evidence bits)."""
    if n_ep == 0:
        return EPISODES.empty_table()
    m = ep >= 0
    e, tt, la, lo, cc, evm = ep[m], t[m], lat[m], lon[m], code[m], ev[m]
    order = np.argsort(e, kind="stable")
    e, tt, la, lo, cc, evm = e[order], tt[order], la[order], lo[order], cc[order], evm[order]
    bounds = np.searchsorted(e, np.arange(n_ep + 1))
    starts = np.minimum.reduceat(tt, bounds[:-1])
    ends = np.maximum.reduceat(tt, bounds[:-1])
    counts = np.diff(bounds)
    bits = np.bitwise_or.reduceat(evm, bounds[:-1])
    flat = np.full(n_ep, np.nan)
    flon = np.full(n_ep, np.nan)
    for k in range(n_ep):  # per episode, not per report
        a, b = int(bounds[k]), int(bounds[k + 1])
        mlat, mlon = float(np.median(la[a:b])), float(np.median(lo[a:b]))
        d = distance_m(la[a:b], lo[a:b], mlat, mlon)
        if float(np.quantile(d, 0.9)) <= cluster_km * 1000.0:
            flat[k], flon[k] = mlat, mlon
    converging = np.zeros(n_ep, np.int64)
    fixed = np.flatnonzero(~np.isnan(flat))
    ep_icao = cc[bounds[:-1]]
    for f in fixed:
        d = distance_m(flat[fixed], flon[fixed], float(flat[f]), float(flon[f]))
        converging[f] = np.unique(ep_icao[fixed[d <= cluster_km * 1000.0]]).shape[0]
    evidence = [[name for bit, name in evidence_names.items() if b & bit] for b in bits]
    return pa.table(
        {
            "icao": pa.array([icaos[i] for i in ep_icao], pa.string()),
            "start": pa.array(starts, pa.int64()).cast(TIME_TYPE),
            "end": pa.array(ends, pa.int64()).cast(TIME_TYPE),
            "reports": pa.array(counts, pa.int64()),
            "evidence": pa.array(evidence, pa.list_(pa.string())),
            "false_latitude": pa.array(flat, mask=np.isnan(flat)),
            "false_longitude": pa.array(flon, mask=np.isnan(flon)),
            "converging_aircraft": pa.array(converging, pa.int64()),
        },
        schema=EPISODES,
    )
