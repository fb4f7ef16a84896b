"""Integrity indicators per report and per aircraft: the gpsjam counter, NIC, position loss.

Every function takes a decoded table (:data:`jamwatch.schema.DECODED` column names; positions
read from state vectors, traces or trajectories use the same names) and returns it with columns
added. No row is ever dropped; where an input is missing the output is null.

The gpsjam / readsb counter
    As in readsb's ``track.c`` (commit 0c87e593) and gpsjam.org's daily map. Per aircraft, in time
    order, on every message:

    1. A *reliable position* is a DF17 position report (latitude and longitude present) whose
       NACp is unknown or at least ``reliable_min_nacp`` (3): a position the aircraft itself
       does not call degraded. Its time is remembered.
    2. If the last reliable position is more than 15 min old (or there never was one), the
       counter resets to 0.
    3. *Rise*: a DF17 message with no position information (TC 0) or NACp <= 2, while the
       aircraft's last known ground speed is above 50 kt, it is airborne, and the last reliable
       position is more than 10 s and at most 15 min old: counter + 1, capped at 20.
    4. *Fall* (otherwise): a DF17 message with NACp >= 4 and a reliable position at most 10 s
       old: counter - 1, not below 0.

    ``gpsjam_bad`` is ``counter >= bad_threshold`` (17 as in readsb; 18 for the older ADS-B
    Exchange flag). Tables without a ``df`` column (decoded positions from other sources) are
    taken as DF17. DF18 (TIS-B, ADS-R, non-transponder) is left out: its NACp is not the
    aircraft's own GNSS. Ground speed and the airborne state carry forward per aircraft: the
    airborne state comes from ``on_ground`` when present, else from the position type code
    (5-8 surface, 9-18 and 20-22 airborne), else from a present barometric or GNSS altitude.

Rows are processed in time order with per-aircraft state arrays, so one pass over a table
sorted by time is the same as one loop per aircraft. An :class:`IntegrityState` carries that
state from one batch to the next (a day split into hours, a live feed) with identical results.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from jamwatch.reports import ReportBatch, column

__all__ = [
    "SIGNAL_COLUMNS",
    "IntegrityConfig",
    "IntegrityState",
    "Signals",
    "column",
    "integrity_signals",
    "signal_arrays",
]

NS = 1_000_000_000
_NEVER = np.iinfo(np.int64).min // 2

#: columns added by :func:`integrity_signals`, with their documentation
SIGNAL_COLUMNS: dict[str, tuple[pa.DataType, str]] = {
    "gpsjam_counter": (pa.uint8(), "gpsjam/readsb NACp counter 0-20 after this message"),
    "gpsjam_bad": (pa.bool_(), "gpsjam_counter >= bad_threshold (17 readsb, 18 ADS-B Exchange)"),
    "nic_degraded": (pa.bool_(), "NIC < 7 (Stanford GPS Lab, Flightradar24); null if NIC unknown"),
    "position_lost": (
        pa.bool_(),
        "identification or velocity message while the aircraft's last position is more than "
        "position_loss_s and at most 15 min old, and the aircraft was heard all that time "
        "(no gap over heard_gap_s: a reception gap is not a loss)",
    ),
    "latitude_last": (pa.float64(), "aircraft's latest position within 15 min (carried forward)"),
    "longitude_last": (pa.float64(), "as latitude_last"),
    "avionics_fault": (
        pa.bool_(),
        "the aircraft always reports NIC 0 or always NACp 0 (see IntegrityConfig): faulty "
        "avionics, not interference; left out of bad counts",
    ),
}


@dataclass(frozen=True, slots=True)
class IntegrityConfig:
    """Parameters of the integrity signals. Defaults follow readsb and gpsjam.org."""

    bad_threshold: int = 17
    counter_cap: int = 20
    min_groundspeed_kt: float = 50.0
    fresh_s: float = 10.0
    stale_s: float = 15 * 60.0
    rise_max_nacp: int = 2
    fall_min_nacp: int = 4
    reliable_min_nacp: int = 3
    nic_degraded_below: int = 7
    position_loss_s: float = 30.0
    #: a longer silence of an aircraft (or of the whole receiver: the gaps between the files
    #: of a recording) restarts the position-loss clock when it is heard again
    heard_gap_s: float = 5.0
    #: avionics-fault rule: at least this many reports with the field known ...
    fault_min_reports: int = 20
    #: ... spread over at least this long, every one of them 0
    fault_min_span_s: float = 20 * 60.0


# columns of the per-aircraft integer state (times in ns; _NEVER when there was none)
_COUNTER = 0  # the gpsjam counter, 0 to counter_cap
_REL_T = 1  # time of the last reliable position
_POS_T = 2  # time of the last position
_AIR = 3  # airborne: 1 airborne, 0 on the ground, -1 unknown
_N_NIC = 4  # number of eligible reports with a known NIC
_N_NIC0 = 5  # ... of which NIC 0
_N_NACP = 6  # number of eligible reports with a known NACp
_N_NACP0 = 7  # ... of which NACp 0
_T_FIRST = 8  # time of the first eligible report with a NIC or NACp (int64 max before)
_T_LAST = 9  # time of the last eligible report with a NIC or NACp
_HEARD_T = 10  # time of the last message of the aircraft
_RUN_T = 11  # time of the start of its unbroken run of messages
_N_INTS = 12

# columns of the per-aircraft float state (NaN when unknown)
_GS = 0  # last known ground speed, kt
_LAT = 1  # latitude of the last position, degrees
_LON = 2  # longitude of the last position, degrees
_N_FLOATS = 3

# slots of the kernel's integer parameter vector, packed from an IntegrityConfig
_P_FRESH = 0  # fresh_s, ns
_P_STALE = 1  # stale_s, ns
_P_LOSS = 2  # position_loss_s, ns
_P_CAP = 3  # counter_cap
_P_RISE_MAX = 4  # rise_max_nacp
_P_FALL_MIN = 5  # fall_min_nacp
_P_REL_MIN = 6  # reliable_min_nacp
_P_HEARD_GAP = 7  # heard_gap_s, ns
_N_PARAMS = 8


def _new_ints(n: int) -> npt.NDArray[np.int64]:
    ints = np.zeros((n, _N_INTS), np.int64)
    ints[:, [_REL_T, _POS_T, _HEARD_T, _RUN_T]] = _NEVER
    ints[:, _AIR] = -1
    ints[:, _T_FIRST] = np.iinfo(np.int64).max
    ints[:, _T_LAST] = _NEVER
    return ints


@dataclass(slots=True)
class IntegrityState:
    """Per-aircraft state carried between batches, indexed by a code per ICAO address."""

    codes: dict[str, int] = field(default_factory=dict)
    ints: npt.NDArray[np.int64] = field(default_factory=lambda: _new_ints(0))
    floats: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, _N_FLOATS)))

    def lookup(self, names: list[str]) -> npt.NDArray[np.int64]:
        """Codes of ``names`` (a batch's distinct addresses); new aircraft are added."""
        out = np.empty(len(names), np.int64)
        for i, name in enumerate(names):  # distinct aircraft of a batch, not rows
            code = self.codes.get(name)
            if code is None:
                code = self.codes[name] = len(self.codes)
            out[i] = code
        grow = len(self.codes) - len(self.ints)
        if grow > 0:
            self.ints = np.concatenate([self.ints, _new_ints(grow)])
            self.floats = np.concatenate([self.floats, np.full((grow, _N_FLOATS), np.nan)])
        return out

    def fault_mask(self, config: IntegrityConfig, span: bool = True) -> npt.NDArray[np.bool_]:
        """Per code: the avionics-fault rule (always NIC 0 or always NACp 0, see the config;
        over any span when ``span`` is false)."""
        s, m = self.ints, config.fault_min_reports
        nic0 = (s[:, _N_NIC] >= m) & (s[:, _N_NIC0] == s[:, _N_NIC])
        nacp0 = (s[:, _N_NACP] >= m) & (s[:, _N_NACP0] == s[:, _N_NACP])
        long = (s[:, _T_LAST] - s[:, _T_FIRST]) >= int(config.fault_min_span_s * NS)
        return np.asarray((nic0 | nacp0) & (long | (not span)), np.bool_)

    def faulty(self, config: IntegrityConfig) -> set[str]:
        """ICAO addresses whose avionics always reported NIC 0 or NACp 0."""
        mask = self.fault_mask(config)
        return {name for name, code in self.codes.items() if mask[code]}


@nb.njit(cache=True, nogil=True, inline="always")
def _hear(c: int, now: int, heard_gap: int, ints: npt.NDArray[np.int64]) -> None:
    """Aircraft ``c`` is heard at ``now``: a silence over ``heard_gap`` starts a new run."""
    if now - ints[c, _HEARD_T] > heard_gap:
        ints[c, _RUN_T] = now
    ints[c, _HEARD_T] = now


@nb.njit(cache=True, nogil=True, inline="always")
def _airborne(air: int, ground: int, tc: int, alt_known: bool) -> int:
    """The airborne state after a message, ``air`` before it (1 airborne, 0 on the ground).

    From ``on_ground`` when known, else the position type code, else an altitude; unchanged
    when none of them tells.
    """
    if ground >= 0:
        return 1 - ground
    if tc >= 5 and tc <= 8:
        return 0
    if (tc >= 9 and tc <= 18) or (tc >= 20 and tc <= 22) or alt_known:
        return 1
    return air


@nb.njit(cache=True, nogil=True, inline="always")
def _tally(c: int, now: int, nic: int, nacp: int, ints: npt.NDArray[np.int64]) -> None:
    """Count an eligible (DF17) report of aircraft ``c`` for the avionics-fault rule."""
    if nic >= 0 or nacp >= 0:
        ints[c, _T_FIRST] = min(ints[c, _T_FIRST], now)
        ints[c, _T_LAST] = max(ints[c, _T_LAST], now)
    if nic >= 0:
        ints[c, _N_NIC] += 1
        ints[c, _N_NIC0] += nic == 0
    if nacp >= 0:
        ints[c, _N_NACP] += 1
        ints[c, _N_NACP0] += nacp == 0


@nb.njit(cache=True, nogil=True, inline="always")
def _position(
    c: int,
    now: int,
    lat: float,
    lon: float,
    reliable: bool,
    ints: npt.NDArray[np.int64],
    floats: npt.NDArray[np.float64],
) -> None:
    """Keep the position of an eligible report as aircraft ``c``'s last (and last reliable)."""
    ints[c, _POS_T] = now
    floats[c, _LAT] = lat
    floats[c, _LON] = lon
    if reliable:
        ints[c, _REL_T] = now


@nb.njit(cache=True, nogil=True, inline="always")
def _counter(
    counter: int,
    age: int,
    eligible: bool,
    tc: int,
    nacp: int,
    moving: bool,
    params: npt.NDArray[np.int64],
) -> int:
    """The gpsjam counter after a message, from its value before (steps 2-4 of the module doc).

    ``age`` is the age of the last reliable position, ``moving`` whether the aircraft is
    airborne above the minimum ground speed.
    """
    fresh = params[_P_FRESH]
    stale = params[_P_STALE]
    cap = params[_P_CAP]
    rise_max = params[_P_RISE_MAX]
    fall_min = params[_P_FALL_MIN]
    if age > stale:
        counter = 0
    if eligible:
        degraded = tc == 0 or (nacp >= 0 and nacp <= rise_max)
        if degraded and moving and fresh < age <= stale:
            counter = min(counter + 1, cap)
        elif nacp >= fall_min and age <= fresh:
            counter = max(counter - 1, 0)
    return counter


@nb.njit(cache=True, nogil=True)
def _kernel(
    order: npt.NDArray[np.int64],
    code: npt.NDArray[np.int64],
    t: npt.NDArray[np.int64],
    t_ok: npt.NDArray[np.bool_],
    eligible: npt.NDArray[np.bool_],
    tc: npt.NDArray[np.int16],
    nacp: npt.NDArray[np.int16],
    nic: npt.NDArray[np.int16],
    gs: npt.NDArray[np.float64],
    alt_known: npt.NDArray[np.bool_],
    ground: npt.NDArray[np.int8],
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    ints: npt.NDArray[np.int64],
    floats: npt.NDArray[np.float64],
    params: npt.NDArray[np.int64],
    min_gs: float,
    counter_out: npt.NDArray[np.int16],
    lat_out: npt.NDArray[np.float64],
    lon_out: npt.NDArray[np.float64],
    lost_out: npt.NDArray[np.bool_],
) -> None:
    """The signals of the rows in ``order`` (time order), per aircraft ``code``.

    ``ints`` and ``floats`` are the per-aircraft state (columns ``_*``), ``params`` the
    parameter vector (slots ``_P_*``). A row without an aircraft or a time gets nulls.
    """
    stale = params[_P_STALE]
    loss = params[_P_LOSS]
    for k in range(order.shape[0]):
        i = order[k]
        c = code[i]
        if c < 0 or not t_ok[i]:
            counter_out[i] = -1
            lat_out[i] = np.nan
            lon_out[i] = np.nan
            lost_out[i] = False
            continue
        now = t[i]
        _hear(c, now, params[_P_HEARD_GAP], ints)
        if not np.isnan(gs[i]):
            floats[c, _GS] = gs[i]
        ints[c, _AIR] = _airborne(ints[c, _AIR], ground[i], tc[i], alt_known[i])
        if eligible[i]:
            _tally(c, now, nic[i], nacp[i], ints)
            if not (np.isnan(lat[i]) or np.isnan(lon[i])):
                # reliable: a NACp unknown or at least reliable_min_nacp
                reliable = nacp[i] < 0 or nacp[i] >= params[_P_REL_MIN]
                _position(c, now, lat[i], lon[i], reliable, ints, floats)
        moving = floats[c, _GS] > min_gs and ints[c, _AIR] == 1
        age = now - ints[c, _REL_T]
        ints[c, _COUNTER] = _counter(
            ints[c, _COUNTER], age, eligible[i], tc[i], nacp[i], moving, params
        )
        counter_out[i] = ints[c, _COUNTER]
        # the last position while at most stale_s old, and its loss
        pos_age = now - ints[c, _POS_T]
        if pos_age <= stale:
            lat_out[i] = floats[c, _LAT]
            lon_out[i] = floats[c, _LON]
        else:
            lat_out[i] = np.nan
            lon_out[i] = np.nan
        ident_or_velocity = (tc[i] >= 1 and tc[i] <= 4) or tc[i] == 19
        heard = now - max(ints[c, _POS_T], ints[c, _RUN_T])  # heard without a position this long
        lost_out[i] = eligible[i] and ident_or_velocity and loss < pos_age <= stale and heard > loss


def _state_codes(rows: ReportBatch, state: IntegrityState) -> npt.NDArray[np.int64]:
    """Per row, the state code of its ICAO address (-1 where null)."""
    names = [str(x).lower() for x in rows.names.to_pylist()]
    lut = np.append(state.lookup(names), -1)
    return np.asarray(lut[rows.code], np.int64)  # code -1 takes the appended -1


@dataclass(slots=True)
class Signals:
    """The signals of :data:`SIGNAL_COLUMNS` as NumPy arrays (see :func:`signal_arrays`).

    ``valid``: rows with an aircraft and a time (the others have no signals); ``code``: the
    rows' aircraft as :class:`IntegrityState` codes.
    """

    code: npt.NDArray[np.int64]
    valid: npt.NDArray[np.bool_]
    counter: npt.NDArray[np.int16]
    bad: npt.NDArray[np.bool_]
    lost: npt.NDArray[np.bool_]
    lat_last: npt.NDArray[np.float64]
    lon_last: npt.NDArray[np.float64]
    fault: npt.NDArray[np.bool_]
    #: NIC below ``nic_degraded_below`` (False where the NIC is unknown: see ``nic_known``)
    nic_degraded: npt.NDArray[np.bool_]
    nic_known: npt.NDArray[np.bool_]


def signal_arrays(rows: ReportBatch, config: IntegrityConfig, state: IntegrityState) -> Signals:
    """The signals of every row of ``rows`` (in any order; processed in time order)."""
    n = len(rows)
    code = _state_codes(rows, state)
    params = np.empty(_N_PARAMS, np.int64)
    params[_P_FRESH] = int(config.fresh_s * NS)
    params[_P_STALE] = int(config.stale_s * NS)
    params[_P_LOSS] = int(config.position_loss_s * NS)
    params[_P_CAP] = config.counter_cap
    params[_P_RISE_MAX] = config.rise_max_nacp
    params[_P_FALL_MIN] = config.fall_min_nacp
    params[_P_REL_MIN] = config.reliable_min_nacp
    params[_P_HEARD_GAP] = int(config.heard_gap_s * NS)
    counter = np.empty(n, np.int16)
    lat_last = np.empty(n, np.float64)
    lon_last = np.empty(n, np.float64)
    lost = np.empty(n, np.bool_)
    _kernel(
        rows.time_order(),
        code,
        rows.t,
        rows.t_ok,
        np.asarray(rows.df == 17),
        rows.tc,
        rows.nacp,
        rows.nic,
        rows.gs,
        rows.alt_known,
        rows.ground,
        rows.lat,
        rows.lon,
        state.ints,
        state.floats,
        params,
        float(config.min_groundspeed_kt),
        counter,
        lat_last,
        lon_last,
        lost,
    )
    fault = state.fault_mask(config)
    return Signals(
        code=code,
        valid=counter >= 0,
        counter=counter,
        bad=counter >= config.bad_threshold,
        lost=lost,
        lat_last=lat_last,
        lon_last=lon_last,
        fault=fault[np.maximum(code, 0)] & (code >= 0),
        nic_degraded=(rows.nic >= 0) & (rows.nic < config.nic_degraded_below),
        nic_known=rows.nic >= 0,
    )


def integrity_signals(
    table: pa.Table,
    config: IntegrityConfig | None = None,
    state: IntegrityState | None = None,
) -> pa.Table:
    """Add the columns of :data:`SIGNAL_COLUMNS` to a decoded table (rows kept, order kept).

    Without ``state`` the table is one whole recording; pass the same :class:`IntegrityState`
    to successive batches (in time order) to carry the per-aircraft state across them. The
    ``avionics_fault`` column then reflects what is known up to the end of the batch; use
    :meth:`IntegrityState.faulty` after the last batch for the final set.
    """
    config = config or IntegrityConfig()
    state = state if state is not None else IntegrityState()
    rows = ReportBatch.from_table(table)
    sig = signal_arrays(rows, config, state)
    unknown = ~sig.valid
    columns = {
        "gpsjam_counter": pa.array(sig.counter.astype(np.uint8), mask=unknown),
        "gpsjam_bad": pa.array(sig.bad, mask=unknown),
        "nic_degraded": pa.array(sig.nic_degraded, mask=~sig.nic_known),
        "position_lost": pa.array(sig.lost, mask=unknown),
        "latitude_last": pa.array(sig.lat_last, mask=np.isnan(sig.lat_last)),
        "longitude_last": pa.array(sig.lon_last, mask=np.isnan(sig.lon_last)),
        "avionics_fault": pa.array(sig.fault, mask=sig.code < 0),
    }
    for name, values in columns.items():
        typ = SIGNAL_COLUMNS[name][0]
        if name in table.column_names:
            table = table.drop_columns([name])
        table = table.append_column(pa.field(name, typ), values.cast(typ))
    return table
