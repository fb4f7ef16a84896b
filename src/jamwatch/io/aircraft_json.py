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

readsb's JSON position stream (``--net-json-port``, 30047 in the ultrafeeder container) sends
the same aircraft objects, one per line and per new position, each with its own ``now``:
:func:`position_lines` takes them the same way.

Only ADS-B aircraft (``type`` ``adsb_icao`` or none) are taken; TIS-B, MLAT and the rest are
left out, and counted. A snapshot that is not JSON, or not readsb's layout, raises
ValueError naming what is wrong.
"""

from __future__ import annotations

import json
import math
from collections import Counter
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


def _take(ac: Any, now_ns: int, state: SnapshotState, rows: list[dict[str, Any]]) -> None:
    """Append to ``rows`` what one aircraft object seen at ``now_ns`` adds."""
    if not isinstance(ac, dict) or not isinstance(ac.get("hex"), str):
        state.left_out += 1
        return
    if str(ac.get("type", "")) not in ADSB_TYPES or ac["hex"].startswith("~"):
        state.left_out += 1
        return
    icao = ac["hex"].lower()
    ac = {**ac, "hex": icao}
    seen, seen_pos = _number(ac.get("seen")), _number(ac.get("seen_pos"))
    if seen_pos is not None and _number(ac.get("lat")) is not None:
        t = now_ns - int(seen_pos * NS)
        if t > state.position_ns.get(icao, -1):
            rows.append(_row(ac, t, True))
            state.position_ns[icao] = state.heard_ns[icao] = t
    if seen is not None:
        t = now_ns - int(seen * NS)
        if t > state.heard_ns.get(icao, -1) and t > state.position_ns.get(icao, -1):
            rows.append(_row(ac, t, False))
            state.heard_ns[icao] = t


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    table = pa.Table.from_pylist(rows, schema=_SCHEMA) if rows else _SCHEMA.empty_table()
    return table.cast(DECODED).sort_by("time")


def reports(snapshot: bytes | str | dict[str, Any], state: SnapshotState) -> pa.Table:
    """The new rows of one snapshot (see the module documentation), in time order."""
    doc = json.loads(snapshot) if isinstance(snapshot, bytes | str) else snapshot
    if not isinstance(doc, dict) or _number(doc.get("now")) is None:
        raise ValueError("not an aircraft.json snapshot: no 'now' time")
    if not isinstance(doc.get("aircraft"), list):
        raise ValueError("not an aircraft.json snapshot: no 'aircraft' list")
    now_ns = int(float(doc["now"]) * NS)
    rows: list[dict[str, Any]] = []
    for ac in doc["aircraft"]:
        _take(ac, now_ns, state, rows)
    return _table(rows)


def position_lines(lines: list[bytes], state: SnapshotState) -> tuple[pa.Table, Counter[str]]:
    """The new rows of lines of readsb's JSON position stream (``--net-json-port``: one
    aircraft object per line, with its own ``now``), in time order, and the lines left out
    by reason (``not JSON``, ``no 'now' time``)."""
    rows: list[dict[str, Any]] = []
    bad: Counter[str] = Counter()
    for line in lines:
        try:
            ac = json.loads(line)
        except ValueError:
            bad["not JSON"] += 1
            continue
        now = _number(ac.get("now")) if isinstance(ac, dict) else None
        if now is None:
            bad["no 'now' time"] += 1
            continue
        _take(ac, int(now * NS), state, rows)
    return _table(rows), bad


#: DECODED with times as int64 nanoseconds (cast to DECODED's timestamps at the end)
_SCHEMA = pa.schema(
    [pa.field("time", pa.int64()) if f.name == "time" else f for f in DECODED]
)


__all__ = ["ADSB_TYPES", "SnapshotState", "position_lines", "reports"]
