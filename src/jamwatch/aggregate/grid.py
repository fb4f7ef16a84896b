"""Integrity statistics per H3 cell and time window, from mergeable per-aircraft partials.

The aggregation has two steps so that a day can be split into hours, files or receivers and
combined exactly:

1. :func:`cell_partials` reduces reports (a table with the columns of
   :func:`jamwatch.signals.integrity_signals`) to one row per ``(cell, window_start, icao)``
   with ``bad``, ``nic_degraded``, ``nic_known`` and ``avionics_fault`` as "any report" flags
   and ``reports`` as a count. These rows are set-like: :func:`merge_partials` concatenates
   partials, optionally coarsens their windows (an hour into its day), and reduces them again.
   The result does not depend on how the input was split.
2. :func:`cell_stats` turns partials into one row per ``(cell, window_start)``: distinct good
   and bad aircraft (gpsjam's counts), aircraft with faulty avionics (left out of both), the
   gpsjam score ``100 * (bad - 1) / (good + bad)`` and its class (below 2 % green, 2-10 %
   yellow, 10 % and above red), and the NIC-based share of aircraft with NIC < 7.

A report is placed at the aircraft's latest position within 15 min (``latitude_last``,
``longitude_last``), so messages without a position (the ones that raise the counter) count
where the aircraft was. Reports with no such position or no time are counted as unlocated.

H3 cells are computed only for reports whose aircraft moved, and H3 itself only for a few of
those (:mod:`jamwatch.aggregate.cells`); the per-batch reduction runs in
Numba and NumPy on integer columns (ICAO addresses as dictionary codes until the output), the
merge of partials and the per-cell statistics in DuckDB over Arrow tables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TypeAlias

import duckdb
import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from h3ronpy import cells_to_string  # type: ignore[import-untyped]

from jamwatch.aggregate.cells import moved_cells, moved_rows
from jamwatch.reports import column, icao_codes, valid
from jamwatch.schema import GPSJAM_SCHEMA, TIME_TYPE

NS = 1_000_000_000
DAY_S = 86_400
GREEN_BELOW = 2.0
RED_FROM = 10.0

PARTIAL_SCHEMA = pa.schema(
    [
        pa.field("cell", pa.uint64()),
        pa.field("window_start", TIME_TYPE),
        pa.field("icao", pa.string()),
        pa.field("bad", pa.bool_()),
        pa.field("nic_degraded", pa.bool_()),
        pa.field("nic_known", pa.bool_()),
        pa.field("avionics_fault", pa.bool_()),
        pa.field("reports", pa.int64()),
    ]
)

#: gpsjam's columns (:data:`jamwatch.schema.GPSJAM_SCHEMA`), then the rest of the statistics.
CELL_SCHEMA = pa.schema(
    [
        *GPSJAM_SCHEMA,
        pa.field("count_faulty_aircraft", pa.int64()),
        pa.field("count_nic_degraded_aircraft", pa.int64()),
        pa.field("count_nic_known_aircraft", pa.int64()),
        pa.field("reports", pa.int64()),
        pa.field("score_pct", pa.float64()),
        pa.field("level", pa.string()),
        pa.field("nic_share_pct", pa.float64()),
    ]
)


@dataclass(frozen=True, slots=True)
class GridConfig:
    """H3 resolution (gpsjam: 4) and window length in seconds (gpsjam: one UTC day)."""

    resolution: int = 4
    window_s: int = DAY_S
    threads: int = min(2, os.cpu_count() or 1)


def parse_window(text: str) -> int:
    """``day``, ``hour`` or a duration such as ``6h``, ``30m``, ``90s``, ``2d`` -> seconds."""
    named = {"day": DAY_S, "hour": 3600}
    if text in named:
        return named[text]
    units = {"s": 1, "m": 60, "h": 3600, "d": DAY_S}
    if text[-1:] in units and text[:-1].isdigit() and int(text[:-1]) > 0:
        return int(text[:-1]) * units[text[-1]]
    raise ValueError(f"window {text!r}: use day, hour or a duration like 6h, 30m, 2d")


def level(score_pct: npt.NDArray[np.float64]) -> list[str | None]:
    """gpsjam's classes for scores in percent: green (< 2), yellow (2-10), red (>= 10)."""
    out = np.where(
        score_pct < GREEN_BELOW, "green", np.where(score_pct < RED_FROM, "yellow", "red")
    )
    return [None if np.isnan(s) else str(v) for s, v in zip(score_pct, out, strict=True)]


def _arrow(con: duckdb.DuckDBPyConnection, query: str) -> pa.Table:
    """The result of ``query`` as an Arrow table (DuckDB 1.x and 2.x spell it differently)."""
    rel = con.sql(query)
    fetch = getattr(rel, "to_arrow_table", None) or rel.arrow
    table = fetch()
    return table if isinstance(table, pa.Table) else table.read_all()


_BAD, _NICD, _NICK, _FAULT = 1, 2, 4, 8

#: Runs of one aircraft's reports, one entry per run: cell, window number, aircraft code,
#: flags (OR of _BAD, _NICD, _NICK, _FAULT) and number of reports.
_Runs: TypeAlias = tuple[
    npt.NDArray[np.uint64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.uint8],
    npt.NDArray[np.int64],
]


@nb.njit(cache=True, nogil=True)
def _runs(
    code: npt.NDArray[np.int64],
    moved: npt.NDArray[np.bool_],
    moved_cells: npt.NDArray[np.uint64],
    w: npt.NDArray[np.int64],
    flags: npt.NDArray[np.uint8],
    n_codes: int,
) -> _Runs:
    """Runs of consecutive reports of one aircraft in one (cell, window): flags OR-ed, counted.

    The same (cell, window, aircraft) may give several runs (an aircraft that comes back);
    they are reduced afterwards. An aircraft's cell is the one of its latest moved row. The
    open run of each aircraft is kept in small per-aircraft arrays and written out when it
    ends, so the output is appended to in order.
    """
    cap = max(1024, code.shape[0] // 64)
    r_cell = np.empty(cap, np.uint64)
    r_w = np.empty(cap, np.int64)
    r_code = np.empty(cap, np.int64)
    r_flags = np.empty(cap, np.uint8)
    r_n = np.empty(cap, np.int64)
    cur_cell = np.zeros(n_codes, np.uint64)
    cur_w = np.zeros(n_codes, np.int64)
    cur_flags = np.zeros(n_codes, np.uint8)
    cur_n = np.zeros(n_codes, np.int64)
    k = 0
    m = 0
    for i in range(code.shape[0] + n_codes):
        if i < code.shape[0]:  # a report
            c = code[i]
            if c < 0:
                continue
            cell = cur_cell[c]
            if moved[i]:
                cell = moved_cells[k]
                k += 1
            if cur_n[c] == 0 or (cell == cur_cell[c] and w[i] == cur_w[c]):
                cur_cell[c] = cell
                cur_w[c] = w[i]
                cur_flags[c] |= flags[i]
                cur_n[c] += 1
                continue
        else:  # after the last report: the runs still open
            c = i - code.shape[0]
            if cur_n[c] == 0:
                continue
            cell = cur_cell[c]  # (unused; of the same type, or Numba would make it a float)
        if m == cap:
            cap *= 2
            r_cell = np.concatenate((r_cell, np.empty(cap - m, np.uint64)))
            r_w = np.concatenate((r_w, np.empty(cap - m, np.int64)))
            r_code = np.concatenate((r_code, np.empty(cap - m, np.int64)))
            r_flags = np.concatenate((r_flags, np.empty(cap - m, np.uint8)))
            r_n = np.concatenate((r_n, np.empty(cap - m, np.int64)))
        r_cell[m] = cur_cell[c]
        r_w[m] = cur_w[c]
        r_code[m] = c
        r_flags[m] = cur_flags[c]
        r_n[m] = cur_n[c]
        m += 1
        if i < code.shape[0]:  # this report opens the aircraft's next run
            cur_cell[c] = cell
            cur_w[c] = w[i]
            cur_flags[c] = flags[i]
            cur_n[c] = 1
    return r_cell[:m], r_w[:m], r_code[:m], r_flags[:m], r_n[:m]


def _reduce(
    cell: npt.NDArray[np.uint64],
    w: npt.NDArray[np.int64],
    code: npt.NDArray[np.int64],
    flags: npt.NDArray[np.uint8],
    reports: npt.NDArray[np.int64],
) -> _Runs:
    """One row per distinct (cell, w, code): flags OR-ed, reports summed (sorted by w, cell)."""
    if len(cell) == 0:
        return cell, w, code, flags, reports
    order = np.lexsort((code, cell, w))
    cell, w, code, flags, reports = cell[order], w[order], code[order], flags[order], reports[order]
    first = np.ones(len(cell), np.bool_)
    first[1:] = (cell[1:] != cell[:-1]) | (w[1:] != w[:-1]) | (code[1:] != code[:-1])
    starts = np.flatnonzero(first)
    return (
        cell[starts],
        w[starts],
        code[starts],
        np.bitwise_or.reduceat(flags, starts).astype(np.uint8),
        np.add.reduceat(reports, starts).astype(np.int64),
    )


def report_flags(
    bad: npt.NDArray[np.bool_],
    nic_degraded: npt.NDArray[np.bool_],
    nic_known: npt.NDArray[np.bool_],
    fault: npt.NDArray[np.bool_],
) -> npt.NDArray[np.uint8]:
    """The per-report flags a partial ORs together (unknown as False)."""
    flags = bad.view(np.uint8) * np.uint8(_BAD)
    flags |= nic_degraded.view(np.uint8) * np.uint8(_NICD)
    flags |= nic_known.view(np.uint8) * np.uint8(_NICK)
    flags |= fault.view(np.uint8) * np.uint8(_FAULT)
    return flags


def partial_rows(
    names: pa.Array,
    code: npt.NDArray[np.int64],
    t: npt.NDArray[np.int64],
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    flags: npt.NDArray[np.uint8],
    config: GridConfig,
    dropped: int = 0,
) -> tuple[pa.Table, int]:
    """:func:`cell_partials` on NumPy arrays: ``code`` indexes ``names`` (the ICAO addresses;
    -1 for a row without aircraft or time), ``lat``/``lon`` where the report is placed (NaN:
    unlocated). Returns the partials and the number of unlocated rows, less ``dropped`` (rows
    that cleaning masked out with code -1: not reports at all)."""
    n = len(code)
    ok = (code >= 0) & ~(np.isnan(lat) | np.isnan(lon))
    unlocated = int(n - ok.sum()) - dropped
    if unlocated:
        code = np.where(ok, code, -1)
    n_codes = len(names)
    window_ns = config.window_s * NS
    moved = moved_rows(code, lat, lon, n_codes)
    cells = moved_cells(code, moved, lat, lon, n_codes, config.resolution, config.threads)
    runs = _runs(code, moved, cells, t // window_ns, flags, n_codes)
    cell, w, codes, f, reports = _reduce(*runs)
    partial = pa.table(
        [
            pa.array(cell, pa.uint64()),
            pa.array(w * window_ns, pa.int64()).cast(TIME_TYPE),
            pc.take(names, pa.array(codes, pa.int32())).cast(pa.string()),
            pa.array((f & _BAD) > 0),
            pa.array((f & _NICD) > 0),
            pa.array((f & _NICK) > 0),
            pa.array((f & _FAULT) > 0),
            pa.array(reports, pa.int64()),
        ],
        schema=PARTIAL_SCHEMA,
    )
    return partial, unlocated


def cell_partials(table: pa.Table, config: GridConfig | None = None) -> tuple[pa.Table, int]:
    """Reports to partial rows per (cell, window, aircraft); also the number of unlocated rows.

    Works on NumPy columns in two passes (Numba): rows whose aircraft moved get an H3 cell
    (h3ronpy, vectorized, in threads); then runs of an aircraft's reports in one cell and
    window are OR-ed and counted, and the few runs reduced by a sort. Strings (the ICAO
    addresses) are only looked up for the output rows.
    """
    names = table.column_names
    lat_name = "latitude_last" if "latitude_last" in names else "latitude"
    lon_name = "longitude_last" if "longitude_last" in names else "longitude"
    code, dictionary = icao_codes(table)
    code = np.where(valid(table, "time"), code, -1)
    flags = report_flags(
        column(table, "gpsjam_bad", np.bool_, 0),
        column(table, "nic_degraded", np.bool_, 0),
        valid(table, "nic"),
        column(table, "avionics_fault", np.bool_, 0),
    )
    return partial_rows(
        dictionary,
        code,
        column(table, "time", np.int64, 0),
        column(table, lat_name, np.float64, np.nan),
        column(table, lon_name, np.float64, np.nan),
        flags,
        config or GridConfig(),
    )


def merge_partials(partials: list[pa.Table], window_s: int | None = None) -> pa.Table:
    """Combine partial tables; ``window_s`` (a multiple of theirs) coarsens their windows."""
    if not partials:
        return PARTIAL_SCHEMA.empty_table()
    rows = pa.concat_tables([p.select(PARTIAL_SCHEMA.names).cast(PARTIAL_SCHEMA) for p in partials])
    window_ns = (window_s or 0) * NS
    con = duckdb.connect()
    con.register("rows", rows.set_column(1, "w", rows.column("window_start").cast(pa.int64())))
    w = f"(w // {window_ns}) * {window_ns}" if window_ns else "w"
    out = _arrow(
        con,
        f"SELECT cell, {w} AS w, icao, bool_or(bad) AS bad, bool_or(nic_degraded) AS nicd, "
        "bool_or(nic_known) AS nick, bool_or(avionics_fault) AS fault, sum(reports) AS reports "
        f"FROM rows GROUP BY cell, {w}, icao",
    )
    con.close()
    return pa.table(
        [
            out.column("cell").cast(pa.uint64()),
            out.column("w").cast(pa.int64()).cast(TIME_TYPE),
            *[out.column(k) for k in ("icao", "bad", "nicd", "nick", "fault")],
            out.column("reports").cast(pa.int64()),
        ],
        schema=PARTIAL_SCHEMA,
    )


def _partials_db(
    partials: pa.Table, faulty: set[str] | frozenset[str]
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the partials as ``rows`` (window start as int ns ``w``) and
    the faulty aircraft as ``faulty`` (column ``icao``)."""
    con = duckdb.connect()
    con.register("rows", partials.set_column(1, "w", partials["window_start"].cast(pa.int64())))
    con.register("faulty", pa.table({"icao": pa.array(sorted(faulty), pa.string())}))
    return con


def confirm_faulty(partials: pa.Table, faulty: set[str], share: float = 0.5) -> set[str]:
    """The aircraft of ``faulty`` (always NIC 0 or NACp 0) whose avionics are faulty rather
    than jammed: those that shared at least ``share`` of their (cell, window) rows with
    another aircraft that kept nominal integrity (neither bad nor NIC-degraded). Over a
    jammed region every aircraft looks always NIC 0; one that flew only there was jammed."""
    if not faulty or partials.num_rows == 0:
        return set()
    con = _partials_db(partials, faulty)
    out = _arrow(
        con,
        "WITH f AS (SELECT DISTINCT cell, w, icao FROM rows SEMI JOIN faulty USING (icao)), "
        "nom AS (SELECT DISTINCT cell, w FROM rows ANTI JOIN faulty USING (icao) "
        "WHERE NOT bad AND NOT coalesce(nic_degraded, false)) "
        "SELECT f.icao, avg(CASE WHEN nom.cell IS NULL THEN 0.0 ELSE 1.0 END) AS s "
        "FROM f LEFT JOIN nom ON f.cell = nom.cell AND f.w = nom.w GROUP BY f.icao",
    )
    con.close()
    icao, s = out.column("icao").to_pylist(), out.column("s").to_pylist()
    return {a for a, v in zip(icao, s, strict=True) if v >= share}


def mark_faulty(partials: pa.Table, faulty: set[str]) -> tuple[pa.Table, set[str]]:
    """The partials with ``avionics_fault`` set for the aircraft of ``faulty`` that
    :func:`confirm_faulty` confirms (and for no other), and those aircraft."""
    faulty = confirm_faulty(partials, faulty)
    fault = pc.is_in(partials.column("icao"), value_set=pa.array(sorted(faulty), pa.string()))
    idx = partials.schema.get_field_index("avionics_fault")
    return partials.set_column(idx, "avionics_fault", fault), faulty


def cell_stats(
    partials: pa.Table, window_s: int = DAY_S, faulty: set[str] | frozenset[str] = frozenset()
) -> pa.Table:
    """One row per (cell, window): gpsjam counts, score and class, NIC share (CELL_SCHEMA).

    ``faulty`` adds aircraft known to have faulty avionics (e.g. from an
    :class:`jamwatch.signals.IntegrityState` after the last batch) to those flagged in the
    partials. Faulty aircraft are counted apart and are neither good nor bad.
    """
    con = _partials_db(partials, faulty)
    out = _arrow(
        con,
        "WITH r AS (SELECT rows.*, avionics_fault OR (f.icao IS NOT NULL) AS isfault FROM rows "
        "LEFT JOIN faulty f ON rows.icao = f.icao) "
        "SELECT cell, w, "
        "count(*) FILTER (WHERE NOT isfault AND NOT bad) AS good, "
        "count(*) FILTER (WHERE NOT isfault AND bad) AS bad, "
        "count(*) FILTER (WHERE isfault) AS faulty, "
        "count(*) FILTER (WHERE NOT isfault AND nic_degraded) AS nicd, "
        "count(*) FILTER (WHERE NOT isfault AND nic_known) AS nick, "
        "sum(reports) AS reports FROM r GROUP BY cell, w ORDER BY w, cell",
    )
    con.close()
    good = np.asarray(out.column("good"), np.int64)
    bad = np.asarray(out.column("bad"), np.int64)
    return stats_table(
        np.asarray(out.column("cell"), np.uint64),
        np.asarray(out.column("w"), np.int64),
        window_s,
        good,
        bad,
        faulty_n=np.asarray(out.column("faulty"), np.int64),
        nic_degraded=np.asarray(out.column("nicd"), np.int64),
        nic_known=np.asarray(out.column("nick"), np.int64),
        reports=np.asarray(out.column("reports"), np.int64),
    )


def stats_table(
    cell: npt.NDArray[np.uint64],
    window_start_ns: npt.NDArray[np.int64],
    window_s: int,
    good: npt.NDArray[np.int64],
    bad: npt.NDArray[np.int64],
    *,
    faulty_n: npt.NDArray[np.int64] | None = None,
    nic_degraded: npt.NDArray[np.int64] | None = None,
    nic_known: npt.NDArray[np.int64] | None = None,
    reports: npt.NDArray[np.int64] | None = None,
) -> pa.Table:
    """A CELL_SCHEMA table from counts (scores and classes computed here, in one place)."""
    n = len(cell)
    total = good + bad
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(total > 0, 100.0 * (bad - 1) / total, np.nan)
        nic_share = (
            np.where(nic_known > 0, 100.0 * nic_degraded / nic_known, np.nan)
            if nic_degraded is not None and nic_known is not None
            else np.full(n, np.nan)
        )

    def opt(a: npt.NDArray[np.int64] | None) -> pa.Array:
        return pa.nulls(n, pa.int64()) if a is None else pa.array(a, pa.int64())

    cells = pa.array(cell, pa.uint64())
    return pa.table(
        [
            pa.array(cells_to_string(cells)).cast(pa.string()) if n else pa.array([], pa.string()),
            cells,
            pa.array(window_start_ns, pa.int64()).cast(TIME_TYPE),
            pa.array(np.full(n, window_s, np.int64)),
            pa.array(good, pa.int64()),
            pa.array(bad, pa.int64()),
            opt(faulty_n),
            opt(nic_degraded),
            opt(nic_known),
            opt(reports),
            pa.array(score, mask=np.isnan(score)),
            pa.array(level(score), pa.string()),
            pa.array(nic_share, mask=np.isnan(nic_share)),
        ],
        schema=CELL_SCHEMA,
    )


def cells_from_counts(table: pa.Table) -> pa.Table:
    """CELL_SCHEMA rows from gpsjam counts (as :func:`jamwatch.io.gpsjam.read_gpsjam` returns)."""
    window_s = int(table.column("window_s")[0].as_py()) if table.num_rows else DAY_S
    return stats_table(
        np.asarray(table.column("cell"), np.uint64),
        np.asarray(table.column("window_start").cast(pa.int64()), np.int64),
        window_s,
        np.asarray(table.column("count_good_aircraft"), np.int64),
        np.asarray(table.column("count_bad_aircraft"), np.int64),
    )
