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
from typing import Any

import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

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
        "position_loss_s and at most 15 min old",
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
    #: avionics-fault rule: at least this many reports with the field known ...
    fault_min_reports: int = 20
    #: ... spread over at least this long, every one of them 0
    fault_min_span_s: float = 20 * 60.0


# state columns: integers, then floats
_COUNTER, _REL_T, _POS_T, _AIR, _N_NIC, _N_NIC0, _N_NACP, _N_NACP0, _T_FIRST, _T_LAST = range(10)
_GS, _LAT, _LON = range(3)


def _new_ints(n: int) -> npt.NDArray[np.int64]:
    ints = np.zeros((n, 10), np.int64)
    ints[:, [_REL_T, _POS_T]] = _NEVER
    ints[:, _AIR] = -1
    ints[:, _T_FIRST] = np.iinfo(np.int64).max
    ints[:, _T_LAST] = _NEVER
    return ints


@dataclass(slots=True)
class IntegrityState:
    """Per-aircraft state carried between batches, indexed by a code per ICAO address."""

    codes: dict[str, int] = field(default_factory=dict)
    ints: npt.NDArray[np.int64] = field(default_factory=lambda: _new_ints(0))
    floats: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 3)))

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
            self.floats = np.concatenate([self.floats, np.full((grow, 3), np.nan)])
        return out

    def fault_mask(self, config: IntegrityConfig) -> npt.NDArray[np.bool_]:
        """Per code: the avionics-fault rule (always NIC 0 or always NACp 0, see the config)."""
        s, m = self.ints, config.fault_min_reports
        nic0 = (s[:, _N_NIC] >= m) & (s[:, _N_NIC0] == s[:, _N_NIC])
        nacp0 = (s[:, _N_NACP] >= m) & (s[:, _N_NACP0] == s[:, _N_NACP])
        span = (s[:, _T_LAST] - s[:, _T_FIRST]) >= int(config.fault_min_span_s * NS)
        return np.asarray((nic0 | nacp0) & span, np.bool_)

    def faulty(self, config: IntegrityConfig) -> set[str]:
        """ICAO addresses whose avionics always reported NIC 0 or NACp 0."""
        mask = self.fault_mask(config)
        return {name for name, code in self.codes.items() if mask[code]}


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
    air: npt.NDArray[np.int8],
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
    fresh, stale, loss, cap, rise_max, fall_min, rel_min = params[:7]
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
        if not np.isnan(gs[i]):
            floats[c, 0] = gs[i]
        if air[i] >= 0:
            ints[c, 3] = air[i]
        has_pos = not (np.isnan(lat[i]) or np.isnan(lon[i]))
        if eligible[i]:
            if nic[i] >= 0 or nacp[i] >= 0:
                ints[c, 8] = min(ints[c, 8], now)
                ints[c, 9] = max(ints[c, 9], now)
            if nic[i] >= 0:
                ints[c, 4] += 1
                ints[c, 5] += nic[i] == 0
            if nacp[i] >= 0:
                ints[c, 6] += 1
                ints[c, 7] += nacp[i] == 0
            if has_pos:
                ints[c, 2] = now
                floats[c, 1] = lat[i]
                floats[c, 2] = lon[i]
                if nacp[i] < 0 or nacp[i] >= rel_min:
                    ints[c, 1] = now
        age = now - ints[c, 1]
        if age > stale:
            ints[c, 0] = 0
        if eligible[i]:
            degraded = tc[i] == 0 or (nacp[i] >= 0 and nacp[i] <= rise_max)
            if degraded and floats[c, 0] > min_gs and ints[c, 3] == 1 and fresh < age <= stale:
                ints[c, 0] = min(ints[c, 0] + 1, cap)
            elif nacp[i] >= fall_min and age <= fresh:
                ints[c, 0] = max(ints[c, 0] - 1, 0)
        counter_out[i] = ints[c, 0]
        pos_age = now - ints[c, 2]
        if pos_age <= stale:
            lat_out[i] = floats[c, 1]
            lon_out[i] = floats[c, 2]
        else:
            lat_out[i] = np.nan
            lon_out[i] = np.nan
        ident_or_velocity = (tc[i] >= 1 and tc[i] <= 4) or tc[i] == 19
        lost_out[i] = eligible[i] and ident_or_velocity and loss < pos_age <= stale


def column(table: pa.Table, name: str, dtype: type, fill: float) -> npt.NDArray[Any]:
    """Column ``name`` as a NumPy array of ``dtype``, nulls (or a missing column) as ``fill``.

    Times and booleans come as integers (nanoseconds, 0/1); a column without nulls is not
    copied more than NumPy's conversion to ``dtype`` needs.
    """
    n = table.num_rows
    if name not in table.column_names:
        return np.full(n, fill, dtype=dtype)
    col = table.column(name)
    if pa.types.is_timestamp(col.type):
        col = col.cast(pa.int64())
    if pa.types.is_boolean(col.type):
        col = col.cast(pa.int8())
    if col.null_count:
        if np.isnan(fill) or pa.types.is_floating(col.type):
            col = pc.fill_null(col.cast(pa.float64()), fill)
        else:
            wide = pa.int64() if pa.types.is_integer(col.type) else col.type
            col = pc.fill_null(col.cast(wide), pa.scalar(int(fill), wide))
    return np.asarray(col.to_numpy(), dtype=dtype)


def _codes(table: pa.Table, state: IntegrityState) -> npt.NDArray[np.int64]:
    """Per row, the state code of its ICAO address (-1 where null)."""
    icao = table.column("icao")
    if not pa.types.is_dictionary(icao.type):
        icao = pc.dictionary_encode(icao)
    icao = icao.unify_dictionaries() if icao.num_chunks > 1 else icao
    n = table.num_rows
    if icao.num_chunks == 0:
        return np.zeros(0, np.int64)
    out = np.empty(n, np.int64)
    pos = 0
    for chunk in icao.chunks:
        names = [str(x).lower() for x in chunk.dictionary.to_pylist()]
        lut = np.append(state.lookup(names), -1)
        idx = pc.fill_null(chunk.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        out[pos : pos + len(chunk)] = lut[idx]
        pos += len(chunk)
    return out


def _airborne(table: pa.Table, tc: npt.NDArray[np.int16]) -> npt.NDArray[np.int8]:
    air = np.full(table.num_rows, -1, np.int8)
    names = table.column_names
    for alt in ("altitude_baro_ft", "altitude_gnss_ft"):
        if alt in names:
            air[table.column(alt).is_valid().to_numpy(zero_copy_only=False)] = 1
    air[(tc >= 5) & (tc <= 8)] = 0
    air[((tc >= 9) & (tc <= 18)) | ((tc >= 20) & (tc <= 22))] = 1
    if "on_ground" in names:
        ground = column(table, "on_ground", np.int8, -1)
        air = np.where(ground >= 0, 1 - ground, air).astype(np.int8)
    return air


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
    n = table.num_rows
    code = _codes(table, state)
    t_raw = table.column("time")
    t_ok = t_raw.is_valid().to_numpy(zero_copy_only=False) if n else np.zeros(0, np.bool_)
    t = np.asarray(column(table, "time", np.int64, 0), np.int64)
    if n and not np.all(t[1:] >= t[:-1]):
        order = np.argsort(t, kind="stable").astype(np.int64)
    else:
        order = np.arange(n, dtype=np.int64)
    df = column(table, "df", np.int16, 17)
    tc = np.asarray(column(table, "tc", np.int16, -1), np.int16)
    eligible = np.asarray(df == 17)
    params = np.array(
        [
            int(config.fresh_s * NS),
            int(config.stale_s * NS),
            int(config.position_loss_s * NS),
            config.counter_cap,
            config.rise_max_nacp,
            config.fall_min_nacp,
            config.reliable_min_nacp,
        ],
        np.int64,
    )
    counter = np.empty(n, np.int16)
    lat_last = np.empty(n, np.float64)
    lon_last = np.empty(n, np.float64)
    lost = np.empty(n, np.bool_)
    _kernel(
        order,
        code,
        t,
        t_ok,
        eligible,
        tc,
        np.asarray(column(table, "nacp", np.int16, -1), np.int16),
        np.asarray(column(table, "nic", np.int16, -1), np.int16),
        np.asarray(column(table, "groundspeed_kt", np.float64, np.nan), np.float64),
        _airborne(table, tc),
        np.asarray(column(table, "latitude", np.float64, np.nan), np.float64),
        np.asarray(column(table, "longitude", np.float64, np.nan), np.float64),
        state.ints,
        state.floats,
        params,
        float(config.min_groundspeed_kt),
        counter,
        lat_last,
        lon_last,
        lost,
    )
    valid = counter >= 0
    nic = column(table, "nic", np.int16, -1)
    fault = state.fault_mask(config)
    columns = {
        "gpsjam_counter": pa.array(counter.astype(np.uint8), mask=~valid),
        "gpsjam_bad": pa.array(counter >= config.bad_threshold, mask=~valid),
        "nic_degraded": pa.array(nic < config.nic_degraded_below, mask=nic < 0),
        "position_lost": pa.array(lost, mask=~valid),
        "latitude_last": pa.array(lat_last, mask=np.isnan(lat_last)),
        "longitude_last": pa.array(lon_last, mask=np.isnan(lon_last)),
        "avionics_fault": pa.array(fault[np.maximum(code, 0)] & (code >= 0), mask=code < 0),
    }
    for name, values in columns.items():
        typ = SIGNAL_COLUMNS[name][0]
        if name in table.column_names:
            table = table.drop_columns([name])
        table = table.append_column(pa.field(name, typ), values.cast(typ))
    return table
