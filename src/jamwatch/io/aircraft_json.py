"""readsb's and tar1090's ``aircraft.json`` (readsb's README-json.md) as decoded reports.

The file is a snapshot: ``now`` (Unix seconds) and one object per aircraft heard lately,
with ``hex``, its last position (``lat``, ``lon``, ``seen_pos`` seconds ago), ``seen``
(seconds since any message), ``alt_baro`` (feet, or ``"ground"``), ``gs``, ``track``, and the
integrity it last reported (``nic``, ``nac_p``, ``sil``, ``version``). :func:`reports`
turns a snapshot into rows of the decoded schema (:data:`jamwatch.schema.DECODED`) that the
signals and detectors read like decoded frames:

- a position row (DF17, type code 11: an airborne position) at ``now - seen_pos`` with the
  position, altitude and integrity, when the position is newer than the last one taken
  from this feed;
- a velocity row (type code 19, no position) at ``now - seen`` when a message came after
  the position and after the last such row: an aircraft that keeps sending while its
  position stays old is one that lost its position, as the integrity signals count it
  (readsb's ``gpsOkBefore`` says the same).

Only ADS-B aircraft (``type`` ``adsb_icao`` or none) are taken; TIS-B, MLAT and the rest are
left out, and counted. A snapshot that is not JSON, or not readsb's layout, raises
ValueError naming what is wrong.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from jamwatch.schema import DECODED

NS = 1_000_000_000
#: the ``type`` values of aircraft taken (no ``type``: older readsb, dump1090)
ADSB_TYPES = frozenset({"adsb_icao", ""})
_TC_POSITION, _TC_VELOCITY = 11, 19


@dataclass(slots=True)
class SnapshotState:
    """What was taken from earlier snapshots: per aircraft, the time (ns) of the last
    position and of the last row; and counts."""

    position_ns: dict[str, int] = field(default_factory=dict)
    heard_ns: dict[str, int] = field(default_factory=dict)
    left_out: int = 0


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _row(ac: dict[str, Any], t_ns: int, position: bool) -> dict[str, Any]:
    alt = _number(ac.get("alt_baro"))
    row: dict[str, Any] = {
        "time": t_ns, "df": 17, "icao": ac["hex"], "crc_ok": True, "ca": 5,
        "tc": _TC_POSITION if position else _TC_VELOCITY,
        "altitude_baro_ft": alt if position else None,
        "nic": ac.get("nic") if position else None,
        "nacp": ac.get("nac_p"), "sil": ac.get("sil"), "version": ac.get("version"),
        "groundspeed_kt": _number(ac.get("gs")), "track_deg": _number(ac.get("track")),
    }  # fmt: skip
    if position:
        row["latitude"], row["longitude"] = _number(ac.get("lat")), _number(ac.get("lon"))
    for key in ("nic", "nacp", "sil", "version"):
        if not isinstance(row[key], int) or isinstance(row[key], bool) or not 0 <= row[key] < 256:
            row[key] = None
    return row


def reports(snapshot: bytes | str | dict[str, Any], state: SnapshotState) -> pa.Table:
    """The new rows of one snapshot (see the module documentation), in time order."""
    doc = json.loads(snapshot) if isinstance(snapshot, bytes | str) else snapshot
    if not isinstance(doc, dict) or _number(doc.get("now")) is None:
        raise ValueError("not an aircraft.json snapshot: no 'now' time")
    if not isinstance(doc.get("aircraft"), list):
        raise ValueError("not an aircraft.json snapshot: no 'aircraft' list")
    now_ns = int(float(doc["now"]) * NS)
    rows = []
    for ac in doc["aircraft"]:
        if not isinstance(ac, dict) or not isinstance(ac.get("hex"), str):
            state.left_out += 1
            continue
        if str(ac.get("type", "")) not in ADSB_TYPES or ac["hex"].startswith("~"):
            state.left_out += 1
            continue
        icao = ac["hex"].lower()
        ac = {**ac, "hex": icao}
        seen, seen_pos = _number(ac.get("seen")), _number(ac.get("seen_pos"))
        has_pos = seen_pos is not None and _number(ac.get("lat")) is not None
        if has_pos and seen_pos is not None:
            t = now_ns - int(seen_pos * NS)
            if t > state.position_ns.get(icao, -1):
                rows.append(_row(ac, t, True))
                state.position_ns[icao] = state.heard_ns[icao] = t
        if seen is not None:
            t = now_ns - int(seen * NS)
            if t > state.heard_ns.get(icao, -1) and t > state.position_ns.get(icao, -1):
                rows.append(_row(ac, t, False))
                state.heard_ns[icao] = t
    table = pa.Table.from_pylist(rows, schema=_SCHEMA) if rows else _SCHEMA.empty_table()
    return table.cast(DECODED).sort_by("time")


#: DECODED with times as int64 nanoseconds (cast to DECODED's timestamps at the end)
_SCHEMA = pa.schema(
    [pa.field("time", pa.int64()) if f.name == "time" else f for f in DECODED]
)


__all__ = ["ADSB_TYPES", "SnapshotState", "reports"]
