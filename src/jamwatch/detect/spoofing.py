"""Spoofing episodes per aircraft from kinematic evidence.

Every position report is checked against what an aircraft can physically do, per aircraft and
in time order (Numba loops over columns, one pass each):

1. **Outliers are not spoofing.** A position that jumps impossibly far from the previous one
   (more than ``max(jump_min_m, max_speed_mps * dt)``, where ``jump_min_m`` grows to twice
   the containment radius the reports themselves claim: a position that says it may be
   kilometres off (NIC 1-4), or does not know (NIC 0, ``degraded_jump_m``: navigation
   degraded under jamming), is not shown false by a jump within that) and is followed, within
   ``outlier_s``, by a report consistent with the position before the jump is an outlier
   (a wrong CPR even/odd pairing gives 180 or 360 NM jumps that come straight back; a
   corrupted frame the same). Outliers are marked (``position_outlier``) and skipped.
2. **Segments.** Any other impossible jump splits the track into segments. A segment that
   begins by jumping away from a trusted track is false; after a false segment, the next one
   is trusted again unless it carries evidence of its own or is out of reach of the last
   trusted position (``max_speed_mps`` since then). "False" also means: the report just
   before the jump was flagged by evidence (a jump back out of a frozen or false track).
3. **Evidence on every report**, computed within a segment:
   - *speed mismatch*: over a window of ``window_s`` the displacement of the reported
     positions differs from the integral of the reported velocity (ground speed and track)
     by more than ``mismatch_mps`` and ``mismatch_share`` of the speed on average, for
     ``mismatch_run_s`` or longer (a frozen position under a moving velocity, a fast
     drifting false track under the true velocity);
   - *frozen*: the position stays within ``frozen_m`` while the reported ground speed says
     the aircraft flew ``frozen_km`` or more (without velocity: for ``frozen_s`` above
     ``frozen_min_alt_ft``); the frozen run is flagged from ``frozen_grace_s`` after its
     first report (a source may fill a short reception gap with the last position).
     Repeats of the previous position are left out of the speed windows: resampled
     sources repeat the last position through reception gaps (up to 161 s in the real
     THY9BP recording before its episode, 300 s in the Swiss sample), so a frozen position
     alone needs a long run; so are interior points of exactly linear runs in equal time
     steps (interpolation through a gap). A frozen run whose velocity is frozen too (a
     source repeating its whole last state) counts only when the report right after it
     carries evidence;
   Velocity evidence needs a steady velocity: within ``window_s`` of a ground-speed change
   of more than ``velocity_step_kt + velocity_rate_kt_s * dt`` (a GNSS receiver reacquiring
   after jamming reports speeds near zero between true ones, on the real Helsinki day)
   the reported velocity is not used.
   - *implausible speed*: ground speed below ``low_speed_kt`` at or above
     ``low_speed_alt_ft`` for ``low_speed_s`` (no aeroplane flies that slowly at airliner
     levels: a spoofed receiver that makes its velocity consistent with a false point);
   - *GNSS height*: GNSS height differs from barometric altitude by more than
     ``gnss_baro_ft`` for ``gnss_baro_s``, beyond what the weather explains. Barometric
     altitude assumes a standard atmosphere: in cold air every aircraft's GNSS height lies
     below it by several per cent of the altitude (about 6.5 % on the real Helsinki day of
     2026-01-06, 2,000 ft at FL330). The expected difference is the consensus of the other
     aircraft: per ``gnss_baro_bin_s`` window, the median over aircraft of each one's median
     ratio of difference to altitude (at least ``gnss_baro_min_aircraft`` aircraft above
     ``gnss_baro_min_alt_ft``); without a consensus, the threshold grows by
     ``gnss_baro_share`` of the altitude (a 30 K departure from the standard atmosphere).
4. **Declared degradation is not spoofing.** A report whose NIC is 0 says its own position
   may be anywhere (avionics under jamming, some falling back to inertial or coarse fixes):
   it counts as degraded integrity, for the jamming detector, and is never flagged spoofed,
   whatever its kinematics. A spoofed receiver keeps its integrity high.
5. **Episodes.** Flagged reports of an aircraft less than ``episode_gap_s`` apart form an
   episode; episodes shorter than ``min_episode_s`` or with fewer than ``min_reports``
   reports are dropped (their reports unflagged). The false position of an episode is the
   median of its reports when they lie within ``cluster_km`` of it (a fixed false point,
   null for a drifting one); episodes whose false points lie within ``cluster_km`` of each
   other count the aircraft converging there.

A short receiver gap is not a jump: the reachable distance grows with the gap.

The compiled checks of steps 1-4 are in :mod:`jamwatch.detect.spoofing_evidence`, the
episodes of step 5 in :mod:`jamwatch.detect.spoofing_episodes`; :func:`detect_spoofing`
runs them in turn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from jamwatch.detect.spoofing_episodes import EPISODES, episode_table, number_episodes
from jamwatch.detect.spoofing_evidence import (
    EVIDENCE_NAMES,
    FROZEN,
    GNSS_BARO,
    JUMP,
    LOW_SPEED,
    MISMATCH,
    check_params,
    classify,
    fresh_reports,
    gnss_baro_excess,
    jump_tolerance,
    resolve_stale,
    runs,
    segments,
    speed_mismatch,
    unsteady_velocity,
)
from jamwatch.detect.tracks import NS, Tracks, prepare
from jamwatch.reports import ReportBatch

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class SpoofingConfig:
    """Thresholds of the kinematic spoofing checks (see the module documentation)."""

    max_speed_mps: float = 600.0
    jump_min_m: float = 2000.0
    degraded_jump_m: float = 20_000.0
    outlier_s: float = 30.0
    outlier_max_reports: int = 20
    window_s: float = 60.0
    window_min_s: float = 20.0
    max_step_s: float = 30.0
    mismatch_mps: float = 40.0
    mismatch_share: float = 0.5
    mismatch_run_s: float = 60.0
    interpolated_deg: float = 2e-6
    frozen_m: float = 50.0
    frozen_km: float = 50.0
    frozen_s: float = 360.0
    frozen_grace_s: float = 90.0
    frozen_min_alt_ft: float = 10_000.0
    low_speed_kt: float = 100.0
    low_speed_alt_ft: float = 25_000.0
    low_speed_s: float = 30.0
    gnss_baro_ft: float = 2_000.0
    gnss_baro_s: float = 30.0
    velocity_step_kt: float = 30.0
    velocity_rate_kt_s: float = 5.0
    gnss_baro_bin_s: float = 1800.0
    gnss_baro_min_aircraft: int = 3
    gnss_baro_min_alt_ft: float = 10_000.0
    gnss_baro_share: float = 0.1
    evidence_share: float = 0.5
    episode_gap_s: float = 300.0
    min_episode_s: float = 30.0
    min_reports: int = 4
    cluster_km: float = 5.0


@dataclass(frozen=True, slots=True)
class SpoofingResult:
    """Per-report flags (the input rows: a table's with the columns added, otherwise those
    columns alone) and the episodes (:data:`EPISODES`)."""

    reports: pa.Table
    episodes: pa.Table


class KinematicSpoofing:
    """The kinematic spoofing detector (``name = "kinematic"``)."""

    name = "kinematic"

    def __init__(self, config: SpoofingConfig | None = None) -> None:
        self.config = config or SpoofingConfig()

    def detect(self, tracks: Tracks) -> SpoofingResult:
        """Flag spoofed reports of the reports' ``tracks`` and group them in episodes."""
        return detect_spoofing(tracks, self.config)


def _segment(
    tr: Tracks, code: I64, t: I64, lat: F64, lon: F64, jmin: F64, c: SpoofingConfig
) -> tuple[I64, B, B]:
    """Step 1-2: each aircraft's positions split into segments at impossible jumps.

    Returns the segment of each position (-1 for an outlier), the outliers and the
    positions that begin a segment with a jump.
    """
    n = code.shape[0]
    start = np.searchsorted(code, np.arange(len(tr.icaos) + 1)).astype(np.int64)
    seg = np.full(n, -1, np.int64)
    outlier = np.zeros(n, np.bool_)
    jumped = np.zeros(n, np.bool_)
    segments(
        start, t, lat, lon, c.max_speed_mps, jmin, int(c.outlier_s * NS),
        c.outlier_max_reports, seg, outlier, jumped,
    )  # fmt: skip
    return seg, outlier, jumped


def _steady_velocity(tr: Tracks, sel: I64, code: I64, t: I64, c: SpoofingConfig) -> tuple[F64, F64]:
    """Ground speed and track of the rows ``sel``, NaN around a change no aircraft can make."""
    gs, trk = tr.groundspeed_kt[sel].copy(), tr.track_deg[sel].copy()
    unsteady = np.zeros(sel.shape[0], np.bool_)
    unsteady_velocity(code, t, gs, c.velocity_step_kt, c.velocity_rate_kt_s,
                      int(c.window_s * NS), unsteady)  # fmt: skip
    gs[unsteady], trk[unsteady] = np.nan, np.nan
    return gs, trk


def _evidence(
    tr: Tracks, sel: I64, code: I64, seg: I64, t: I64, lat: F64, lon: F64, c: SpoofingConfig
) -> I64:
    """Step 3: the evidence bits of the positions ``sel`` (outliers left out).

    Speed mismatch on the new observations only (:func:`fresh_reports`), then the runs
    (frozen, implausible speed, GNSS height), a frozen run under a frozen velocity kept only
    when evidence follows it.
    """
    params = check_params(c)
    ev = np.zeros(sel.shape[0], np.int64)
    gs, trk = _steady_velocity(tr, sel, code, t, c)
    f = np.flatnonzero(fresh_reports(seg, t, lat, lon, c.interpolated_deg))
    ev_fresh = np.zeros(f.shape[0], np.int64)
    speed_mismatch(seg[f], t[f], lat[f], lon[f], gs[f], trk[f], params, ev_fresh)
    ev[f] |= ev_fresh
    gdiff = gnss_baro_excess(code, t, tr.altitude_ft[sel], tr.gnss_baro_ft[sel], c)
    runs(seg, t, lat, lon, gs, tr.altitude_ft[sel], gdiff, params, ev)
    resolve_stale(code, ev)
    return ev


def _flags(
    tr: Tracks, sel: I64, code: I64, seg: I64, t: I64, lat: F64, lon: F64, ev: I64, jmin: F64,
    c: SpoofingConfig,
) -> B:  # fmt: skip
    """Steps 2 and 4: the spoofed flag of the positions ``sel``.

    A report is flagged when its segment is false or it carries evidence, unless its NIC is
    0 (declared unknown integrity: degraded, for the jamming detector, not spoofing).
    """
    first = np.ones(sel.shape[0], np.int64)
    first[1:] = (code[1:] != code[:-1]).astype(np.int64)
    flag = np.zeros(sel.shape[0], np.bool_)
    classify(seg, t, lat, lon, ev, first, c.evidence_share, c.max_speed_mps, jmin, flag)
    flag &= tr.nic[sel] != 0
    return flag


def _with_columns(
    table: pa.Table | None, tr: Tracks, pos: I64, sel: I64, outlier: B, flag: B, ev: I64, ep: I64
) -> pa.Table:
    """The input rows with the columns of :func:`detect_spoofing` added (or replaced); those
    columns alone without a ``table``.

    ``pos``: the rows' positions (``outlier`` per position), ``sel``: the positions kept,
    with their ``flag``, evidence ``ev`` and episode ``ep``.
    """
    rows = tr.row[sel]
    n_all = tr.size_in
    has = np.zeros(n_all, np.bool_)
    has[tr.row[pos]] = True
    spoofed = np.zeros(n_all, np.bool_)
    spoofed[rows] = flag
    evidence = np.zeros(n_all, np.uint8)
    evidence[rows] = ev.astype(np.uint8)
    out_flag = np.zeros(n_all, np.bool_)
    out_flag[tr.row[pos[outlier]]] = True
    episode = np.full(n_all, -1, np.int64)
    episode[rows] = ep
    columns = {
        "spoofed": pa.array(spoofed, mask=~has),
        "spoof_evidence": pa.array(evidence, mask=~has | out_flag),
        "position_outlier": pa.array(out_flag, mask=~has),
        "spoof_episode": pa.array(episode, mask=episode < 0),
    }
    if table is None:
        return pa.table(columns)
    out = table.drop_columns([name for name in columns if name in table.column_names])
    for name, arr in columns.items():
        out = out.append_column(name, arr)
    return out


def detect_spoofing(
    reports: pa.Table | ReportBatch | Tracks, config: SpoofingConfig | None = None
) -> SpoofingResult:
    """Run the checks of the module documentation on decoded reports (a table, its
    :class:`ReportBatch` with motion, or their tracks).

    Returns the input rows with ``spoofed`` (bool, null for rows without a position),
    ``spoof_evidence`` (bit mask of :data:`EVIDENCE_NAMES`, null likewise),
    ``position_outlier`` (bool) and ``spoof_episode`` (index into the episodes, null when
    not spoofed) added, and the episodes table.
    """
    c = config or SpoofingConfig()
    tr = prepare(reports)
    pos = np.flatnonzero(tr.has_position)
    code, t = tr.code[pos], tr.time[pos]
    lat, lon = tr.latitude[pos], tr.longitude[pos]
    jmin = jump_tolerance(tr.nic[pos], c)
    seg, outlier, jumped = _segment(tr, code, t, lat, lon, jmin, c)
    ok = np.flatnonzero(~outlier)  # from here on, the outliers are left out
    sel = pos[ok]
    code, seg, t, lat, lon, jmin = code[ok], seg[ok], t[ok], lat[ok], lon[ok], jmin[ok]
    ev = _evidence(tr, sel, code, seg, t, lat, lon, c)
    ev |= np.where(jumped[ok], JUMP, 0)
    flag = _flags(tr, sel, code, seg, t, lat, lon, ev, jmin, c)
    ep = np.full(ok.shape[0], -1, np.int64)
    n_ep = number_episodes(
        code, t, flag, int(c.episode_gap_s * NS), int(c.min_episode_s * NS), c.min_reports, ep
    )  # unflags the reports of the episodes it drops
    episodes = episode_table(n_ep, ep, code, t, lat, lon, ev, tr.icaos, c.cluster_km)
    table = reports if isinstance(reports, pa.Table) else None
    return SpoofingResult(_with_columns(table, tr, pos, sel, outlier, flag, ev, ep), episodes)


__all__ = [
    "EPISODES",
    "EVIDENCE_NAMES",
    "FROZEN",
    "GNSS_BARO",
    "JUMP",
    "LOW_SPEED",
    "MISMATCH",
    "KinematicSpoofing",
    "SpoofingConfig",
    "SpoofingResult",
    "detect_spoofing",
]
