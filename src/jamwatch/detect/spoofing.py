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
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from jamwatch.decoder.integrity import RC_M
from jamwatch.detect.tracks import NS, prepare
from jamwatch.geo import EARTH_RADIUS_M, distance_m, haversine_m
from jamwatch.schema import TIME_TYPE

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

#: bits of the ``spoof_evidence`` column
JUMP = 1  # the report's segment begins with an impossible jump
MISMATCH = 2  # sustained speed mismatch between positions and reported velocity
FROZEN = 4  # position frozen while the reported velocity says the aircraft flew on
LOW_SPEED = 8  # implausibly low ground speed at airliner levels
GNSS_BARO = 16  # GNSS height off the barometric altitude beyond the weather
#: working bit, never in the output: a frozen run under a frozen velocity, which
#: ``_resolve_stale`` turns into FROZEN when evidence follows it and clears otherwise
FROZEN_STALE = 32
EVIDENCE_NAMES = {
    JUMP: "jump",
    MISMATCH: "speed_mismatch",
    FROZEN: "frozen",
    LOW_SPEED: "implausible_speed",
    GNSS_BARO: "gnss_baro",
}

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
    """Per-report flags (the input rows, columns added) and the episodes (:data:`EPISODES`)."""

    reports: pa.Table
    episodes: pa.Table


# slots of the float parameter vector of ``_mismatch`` and ``_runs``, packed from a
# SpoofingConfig by ``_params``
_P_WINDOW_S = 0  # window_s, s
_P_WINDOW_MIN_S = 1  # window_min_s, s
_P_MAX_STEP_S = 2  # max_step_s, s
_P_MISMATCH_MPS = 3  # mismatch_mps, m/s
_P_FROZEN_M = 4  # frozen_m, m
_P_FROZEN_KM = 5  # frozen_km, km
_P_FROZEN_S = 6  # frozen_s, s
_P_FROZEN_MIN_ALT_FT = 7  # frozen_min_alt_ft, ft
_P_LOW_SPEED_KT = 8  # low_speed_kt, kt
_P_LOW_SPEED_ALT_FT = 9  # low_speed_alt_ft, ft
_P_LOW_SPEED_S = 10  # low_speed_s, s
_P_GNSS_BARO_FT = 11  # gnss_baro_ft, ft
_P_GNSS_BARO_S = 12  # gnss_baro_s, s
_P_MISMATCH_SHARE = 13  # mismatch_share, fraction of the speed
_P_MISMATCH_RUN_S = 14  # mismatch_run_s, s
_P_FROZEN_GRACE_S = 15  # frozen_grace_s, s
_N_PARAMS = 16


def _params(c: SpoofingConfig) -> F64:
    """The parameter vector of the compiled checks (slots ``_P_*``)."""
    p = np.empty(_N_PARAMS, np.float64)
    p[_P_WINDOW_S] = c.window_s
    p[_P_WINDOW_MIN_S] = c.window_min_s
    p[_P_MAX_STEP_S] = c.max_step_s
    p[_P_MISMATCH_MPS] = c.mismatch_mps
    p[_P_FROZEN_M] = c.frozen_m
    p[_P_FROZEN_KM] = c.frozen_km
    p[_P_FROZEN_S] = c.frozen_s
    p[_P_FROZEN_MIN_ALT_FT] = c.frozen_min_alt_ft
    p[_P_LOW_SPEED_KT] = c.low_speed_kt
    p[_P_LOW_SPEED_ALT_FT] = c.low_speed_alt_ft
    p[_P_LOW_SPEED_S] = c.low_speed_s
    p[_P_GNSS_BARO_FT] = c.gnss_baro_ft
    p[_P_GNSS_BARO_S] = c.gnss_baro_s
    p[_P_MISMATCH_SHARE] = c.mismatch_share
    p[_P_MISMATCH_RUN_S] = c.mismatch_run_s
    p[_P_FROZEN_GRACE_S] = c.frozen_grace_s
    return p


@nb.njit(cache=True, nogil=True)
def _segments(
    start: I64, t: I64, lat: F64, lon: F64, vmax: float, jmin: F64, out_ns: int, out_max: int,
    seg: I64, outlier: B, jumped: B,
) -> None:  # fmt: skip
    """Split each aircraft's positions at impossible jumps; mark short out-and-back outliers.

    ``jmin`` is each report's shortest distance that counts as a jump (the larger of the two
    reports' applies)."""
    sid = -1
    for a in range(start.shape[0] - 1):
        s, e = start[a], start[a + 1]
        ref = -1
        i = s
        while i < e:
            if ref < 0:
                sid += 1
                seg[i] = sid
                ref = i
                i += 1
                continue
            if lat[i] == lat[ref] and lon[i] == lon[ref]:
                seg[i] = sid  # a repeat: the reference keeps the time it was first seen
                i += 1
                continue
            dt = (t[i] - t[ref]) / 1e9
            reach = max(jmin[ref], jmin[i], vmax * dt)
            if haversine_m(lat[ref], lon[ref], lat[i], lon[i]) <= reach:
                seg[i] = sid
                ref = i
                i += 1
                continue
            found = -1
            k = i + 1
            while k < e and t[k] - t[i] <= out_ns and k - i <= out_max:
                dk = (t[k] - t[ref]) / 1e9
                reach = max(jmin[ref], jmin[k], vmax * dk)
                if haversine_m(lat[ref], lon[ref], lat[k], lon[k]) <= reach:
                    found = k
                    break
                k += 1
            if found >= 0:
                for m in range(i, found):
                    outlier[m] = True
                    seg[m] = -1
                i = found
                continue
            sid += 1
            jumped[i] = True
            seg[i] = sid
            ref = i
            i += 1


@nb.njit(cache=True, nogil=True)
def _unsteady_velocity(
    code: I64, t: I64, gs: F64, step_kt: float, rate_kt_s: float, around_ns: int, out: B
) -> None:  # pragma: no cover
    """Mark reports within ``around_ns`` of a ground-speed change no aircraft can make
    (more than ``step_kt + rate_kt_s * dt``): a GNSS receiver reacquiring reports speeds near
    zero between true ones, so its velocity says nothing there."""
    n = code.shape[0]
    prev = -1
    for i in range(n):
        if i > 0 and code[i] != code[i - 1]:
            prev = -1
        if np.isnan(gs[i]):
            continue
        if prev >= 0 and gs[i] != gs[prev]:
            dt = (t[i] - t[prev]) / 1e9
            if abs(gs[i] - gs[prev]) > step_kt + rate_kt_s * dt:
                j = i
                while j >= 0 and code[j] == code[i] and t[i] - t[j] <= around_ns:
                    out[j] = True
                    j -= 1
                j = i + 1
                while j < n and code[j] == code[i] and t[j] - t[i] <= around_ns:
                    out[j] = True
                    j += 1
        prev = i


@nb.njit(cache=True, nogil=True)
def _mismatch(seg: I64, t: I64, lat: F64, lon: F64, gs: F64, trk: F64, p: F64, ev: I64) -> None:
    """Speed-mismatch bit per report (rows sorted by segment then time; new positions only)."""
    win = p[_P_WINDOW_S] * 1e9
    win_min = p[_P_WINDOW_MIN_S] * 1e9
    max_step = p[_P_MAX_STEP_S] * 1e9
    mis = p[_P_MISMATCH_MPS]
    n = seg.shape[0]
    kt = 1852.0 / 3600.0
    # prefix sums within a segment: displacement, velocity integral, bad steps
    dx = np.zeros(n)
    dy = np.zeros(n)
    ix = np.zeros(n)
    iy = np.zeros(n)
    bad = np.zeros(n, np.int64)
    changed = t[0] if n else 0
    for i in range(1, n):
        if seg[i] != seg[i - 1]:
            changed = t[i]
            continue
        if gs[i] != gs[i - 1] or trk[i] != trk[i - 1]:
            changed = t[i]
        step = t[i] - t[i - 1]
        coslat = np.cos(np.radians(0.5 * (lat[i] + lat[i - 1])))
        dlon = (lon[i] - lon[i - 1] + 540.0) % 360.0 - 180.0
        dx[i] = dx[i - 1] + np.radians(dlon) * EARTH_RADIUS_M * coslat
        dy[i] = dy[i - 1] + np.radians(lat[i] - lat[i - 1]) * EARTH_RADIUS_M
        v_ok = not (np.isnan(gs[i]) or np.isnan(gs[i - 1]))
        live = t[i] - changed <= max_step  # a velocity repeated longer is stale
        bad[i] = bad[i - 1] + (0 if (v_ok and live and step <= max_step) else 1)
        ix[i] = ix[i - 1]
        iy[i] = iy[i - 1]
        if v_ok:
            h = 0.5 * step / 1e9 * kt
            a1, a0 = np.radians(trk[i]), np.radians(trk[i - 1])
            ix[i] += h * (gs[i] * np.sin(a1) + gs[i - 1] * np.sin(a0))
            iy[i] += h * (gs[i] * np.cos(a1) + gs[i - 1] * np.cos(a0))
    j = 0
    for i in range(n):
        if i == 0 or seg[i] != seg[i - 1]:
            j = i
        while t[j] < t[i] - win:
            j += 1
        span = t[i] - t[j]
        if span >= win_min and bad[i] == bad[j]:
            ex = (dx[i] - dx[j]) - (ix[i] - ix[j])
            ey = (dy[i] - dy[j]) - (iy[i] - iy[j])
            speed = np.sqrt((ix[i] - ix[j]) ** 2 + (iy[i] - iy[j]) ** 2) / (span / 1e9)
            if np.sqrt(ex * ex + ey * ey) / (span / 1e9) > max(mis, p[_P_MISMATCH_SHARE] * speed):
                ev[i] |= MISMATCH
    # only sustained mismatch counts
    i = 0
    while i < n:
        if not ev[i] & MISMATCH:
            i += 1
            continue
        k = i
        while k + 1 < n and seg[k + 1] == seg[i] and ev[k + 1] & MISMATCH:
            k += 1
        if t[k] - t[i] < p[_P_MISMATCH_RUN_S] * 1e9:
            for m in range(i, k + 1):
                ev[m] &= ~MISMATCH
        i = k + 1


@nb.njit(cache=True, nogil=True)
def _runs(
    seg: I64, t: I64, lat: F64, lon: F64, gs: F64, alt: F64, gdiff: F64, p: F64, ev: I64
) -> None:
    """Frozen, implausible-speed and GNSS-height bits: runs of reports in a segment."""
    frozen_m = p[_P_FROZEN_M]
    frozen_km = p[_P_FROZEN_KM]
    frozen_ns = p[_P_FROZEN_S] * 1e9
    frozen_alt = p[_P_FROZEN_MIN_ALT_FT]
    low_kt = p[_P_LOW_SPEED_KT]
    low_alt = p[_P_LOW_SPEED_ALT_FT]
    low_ns = p[_P_LOW_SPEED_S] * 1e9
    gb_ft = p[_P_GNSS_BARO_FT]
    gb_ns = p[_P_GNSS_BARO_S] * 1e9
    n = seg.shape[0]
    kt = 1852.0 / 3600.0
    i = 0
    while i < n:
        k = i + 1
        expected = 0.0
        known = True
        while (
            k < n and seg[k] == seg[i]
            and haversine_m(lat[i], lon[i], lat[k], lon[k]) <= frozen_m
        ):  # fmt: skip
            if np.isnan(gs[k]):
                known = False
            else:
                expected += gs[k] * kt * (t[k] - t[k - 1]) / 1e9
            k += 1
        a = alt[i]
        if (known and expected >= frozen_km * 1000.0) or (
            not known and t[k - 1] - t[i] >= frozen_ns and a > frozen_alt
        ):
            stale = known
            for m in range(i + 1, k):
                if gs[m] != gs[i]:
                    stale = False
                    break
            for m in range(i, k):
                if t[m] - t[i] >= p[_P_FROZEN_GRACE_S] * 1e9:
                    ev[m] |= FROZEN_STALE if stale else FROZEN
        i = k
    for bit in (LOW_SPEED, GNSS_BARO):
        low = bit == LOW_SPEED
        i = 0
        while i < n:
            k = i
            while k < n and seg[k] == seg[i]:
                hit = (gs[k] < low_kt and alt[k] >= low_alt) if low else abs(gdiff[k]) > gb_ft
                if not hit:
                    break
                k += 1
            if k == i:
                i += 1
                continue
            if t[k - 1] - t[i] >= (low_ns if low else gb_ns):
                for m in range(i, k):
                    ev[m] |= bit
            i = k


@nb.njit(cache=True, nogil=True)
def _resolve_stale(code: I64, ev: I64) -> None:
    """A frozen run under a frozen velocity (``FROZEN_STALE``) is evidence only when followed
    by some."""
    n = code.shape[0]
    i = n - 1
    while i >= 0:
        if ev[i] & FROZEN_STALE:
            k = i
            while k > 0 and ev[k - 1] & FROZEN_STALE and code[k - 1] == code[i]:
                k -= 1
            nxt = i + 1
            confirmed = nxt < n and code[nxt] == code[i] and (ev[nxt] & ~FROZEN_STALE) != 0
            for m in range(k, i + 1):
                ev[m] = (ev[m] & ~FROZEN_STALE) | (FROZEN if confirmed else 0)
            i = k - 1
        else:
            i -= 1


@nb.njit(cache=True, nogil=True)
def _classify(
    seg: I64, t: I64, lat: F64, lon: F64, ev: I64, start_of: I64, share: float, vmax: float,
    jmin: F64, flag: B,
) -> None:  # fmt: skip
    """Decide which segments are false; flag their reports and reports with evidence."""
    n = seg.shape[0]
    i = 0
    anchor = -1
    prev_false = False
    while i < n:
        k = i
        hits = 0
        while k < n and seg[k] == seg[i]:
            hits += ev[k] != 0
            k += 1
        first_of_aircraft = start_of[i] == 1
        if first_of_aircraft:
            anchor = -1
            prev_false = False
        has_ev = hits >= share * (k - i)
        if first_of_aircraft or anchor < 0:
            false = has_ev
        elif not prev_false:
            false = True
        else:
            dt = (t[i] - t[anchor]) / 1e9
            reach = max(jmin[anchor], jmin[i], vmax * dt)
            far = haversine_m(lat[anchor], lon[anchor], lat[i], lon[i]) > reach
            false = has_ev or far
        for m in range(i, k):
            flag[m] = false or ev[m] != 0
        if not false:
            for m in range(k - 1, i - 1, -1):
                if ev[m] == 0:
                    anchor = m
                    break
        prev_false = flag[k - 1]
        i = k


@nb.njit(cache=True, nogil=True)
def _episodes(
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


def jump_tolerance(nic: I64, c: SpoofingConfig) -> F64:
    """Per report, the shortest displacement that counts as a jump (see the module docs):
    ``jump_min_m``, or twice the containment radius of the report's NIC when larger, or
    ``degraded_jump_m`` for NIC 0; unknown NIC (-1) keeps ``jump_min_m``."""
    radius = np.zeros(12)
    for level, rc in RC_M.items():
        radius[level] = c.degraded_jump_m / 2 if rc is None else rc
    out = np.full(nic.shape[0], c.jump_min_m)
    known = (nic >= 0) & (nic <= 11)
    out[known] = np.maximum(c.jump_min_m, 2.0 * radius[nic[known]])
    return out


def gnss_baro_excess(code: I64, t: I64, alt: F64, gdiff: F64, c: SpoofingConfig) -> F64:
    """GNSS-baro differences less what the weather explains (see the module documentation).

    Returns the difference minus the consensus of the window (``gnss_baro_bin_s``), or,
    in a window without consensus, the difference shrunk towards zero by
    ``gnss_baro_share`` of the altitude; NaN stays NaN.
    """
    out = gdiff.copy()
    if gdiff.shape[0] == 0:
        return out
    window = t // int(c.gnss_baro_bin_s * NS)
    with np.errstate(divide="ignore", invalid="ignore"):  # altitude 0 or unknown: no ratio
        ratio = gdiff / alt
    use = np.isfinite(ratio) & (alt >= c.gnss_baro_min_alt_ft)
    windows, values = np.zeros(0, np.int64), np.zeros(0, np.float64)
    if use.any():
        w, a, r = window[use], code[use], ratio[use]
        order = np.lexsort((r, a, w))
        w, a, r = w[order], a[order], r[order]
        cut = np.flatnonzero((w[1:] != w[:-1]) | (a[1:] != a[:-1])) + 1
        starts = np.concatenate([[0], cut])
        ends = np.concatenate([cut, [w.shape[0]]])
        per_aircraft = np.array([np.median(r[i:j]) for i, j in zip(starts, ends, strict=True)])
        aircraft_window = w[starts]  # sorted
        windows, first = np.unique(aircraft_window, return_index=True)
        last = np.append(first[1:], aircraft_window.shape[0])
        values = np.array(
            [
                np.median(per_aircraft[i:j]) if j - i >= c.gnss_baro_min_aircraft else np.nan
                for i, j in zip(first, last, strict=True)
            ]
        )
    k = np.minimum(np.searchsorted(windows, window), max(windows.shape[0] - 1, 0))
    found = windows.shape[0] > 0 and windows[k] == window
    expected = np.where(found, values[k] if values.shape[0] else np.nan, np.nan) * alt
    known = np.isfinite(expected)
    out[known] = gdiff[known] - expected[known]
    slack = c.gnss_baro_share * np.nan_to_num(alt[~known], nan=0.0)
    unknown = out[~known]
    out[~known] = np.sign(unknown) * np.maximum(np.abs(unknown) - slack, 0.0)
    return out


def _fresh(seg: I64, t: I64, lat: F64, lon: F64, tol_deg: float) -> B:
    """Reports that are new observations: not a repeat of the previous position, and not an
    interior point of a run spaced exactly along a straight line in equal time steps (a
    resampled source interpolating through a reception gap)."""
    n = seg.shape[0]
    fresh = np.ones(n, np.bool_)
    if n < 3:
        return fresh
    same = seg[1:] == seg[:-1]
    fresh[1:] = ~same | (lat[1:] != lat[:-1]) | (lon[1:] != lon[:-1])
    d2lat = lat[2:] - 2 * lat[1:-1] + lat[:-2]
    d2lon = lon[2:] - 2 * lon[1:-1] + lon[:-2]
    equal_steps = (t[2:] - t[1:-1]) == (t[1:-1] - t[:-2])
    linear = same[1:] & same[:-1] & equal_steps & (np.abs(d2lat) < tol_deg)
    linear &= np.abs(d2lon) < tol_deg
    fresh[1:-1] &= ~linear
    return fresh


class KinematicSpoofing:
    """The kinematic spoofing detector (``name = "kinematic"``)."""

    name = "kinematic"

    def __init__(self, config: SpoofingConfig | None = None) -> None:
        self.config = config or SpoofingConfig()

    def detect(self, table: pa.Table) -> SpoofingResult:
        """Flag spoofed reports of ``table`` (decoded columns) and group them in episodes."""
        return detect_spoofing(table, self.config)


def detect_spoofing(table: pa.Table, config: SpoofingConfig | None = None) -> SpoofingResult:
    """Run the checks of the module documentation on a decoded table.

    Returns the input rows with ``spoofed`` (bool, null for rows without a position),
    ``spoof_evidence`` (bit mask of :data:`EVIDENCE_NAMES`, null likewise),
    ``position_outlier`` (bool) and ``spoof_episode`` (index into the episodes, null when
    not spoofed) added, and the episodes table.
    """
    c = config or SpoofingConfig()
    tr = prepare(table)
    pos = np.flatnonzero(tr.has_position)
    code, t = tr.code[pos], tr.time[pos]
    lat, lon = tr.latitude[pos], tr.longitude[pos]
    n = pos.shape[0]
    start = np.searchsorted(code, np.arange(len(tr.icaos) + 1)).astype(np.int64)
    seg = np.full(n, -1, np.int64)
    outlier = np.zeros(n, np.bool_)
    jumped = np.zeros(n, np.bool_)
    jmin = jump_tolerance(tr.nic[pos], c)
    _segments(
        start, t, lat, lon, c.max_speed_mps, jmin, int(c.outlier_s * NS),
        c.outlier_max_reports, seg, outlier, jumped,
    )  # fmt: skip
    ok = np.flatnonzero(~outlier)
    params = _params(c)
    ev = np.zeros(ok.shape[0], np.int64)
    sel = pos[ok]
    gs, trk = tr.groundspeed_kt[sel].copy(), tr.track_deg[sel].copy()
    unsteady = np.zeros(ok.shape[0], np.bool_)
    _unsteady_velocity(code[ok], t[ok], gs, c.velocity_step_kt, c.velocity_rate_kt_s,
                       int(c.window_s * NS), unsteady)  # fmt: skip
    gs[unsteady], trk[unsteady] = np.nan, np.nan
    s_ok, la_ok, lo_ok = seg[ok], lat[ok], lon[ok]
    fresh = _fresh(s_ok, t[ok], la_ok, lo_ok, c.interpolated_deg)
    f = np.flatnonzero(fresh)
    ev_fresh = np.zeros(f.shape[0], np.int64)
    _mismatch(s_ok[f], t[ok][f], la_ok[f], lo_ok[f], gs[f], trk[f], params, ev_fresh)
    ev[f] |= ev_fresh
    gdiff = gnss_baro_excess(code[ok], t[ok], tr.altitude_ft[sel], tr.gnss_baro_ft[sel], c)
    _runs(s_ok, t[ok], la_ok, lo_ok, gs, tr.altitude_ft[sel], gdiff, params, ev)
    _resolve_stale(code[ok], ev)
    ev |= np.where(jumped[ok], JUMP, 0)
    code_ok = code[ok]
    first = np.ones(ok.shape[0], np.int64)
    first[1:] = (code_ok[1:] != code_ok[:-1]).astype(np.int64)
    flag = np.zeros(ok.shape[0], np.bool_)
    _classify(
        seg[ok], t[ok], lat[ok], lon[ok], ev, first, c.evidence_share, c.max_speed_mps,
        jmin[ok], flag,
    )  # fmt: skip
    flag &= tr.nic[sel] != 0  # declared unknown integrity: degraded (jamming), not spoofing
    ep = np.full(ok.shape[0], -1, np.int64)
    n_ep = _episodes(
        code_ok, t[ok], flag, int(c.episode_gap_s * NS), int(c.min_episode_s * NS),
        c.min_reports, ep,
    )  # fmt: skip
    episodes = _episode_table(
        n_ep, ep, code_ok, t[ok], lat[ok], lon[ok], ev, tr.icaos, c.cluster_km
    )
    rows = tr.row[sel]
    n_all = table.num_rows
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
    out = table
    for name, arr in (
        ("spoofed", pa.array(spoofed, mask=~has)),
        ("spoof_evidence", pa.array(evidence, mask=~has | out_flag)),
        ("position_outlier", pa.array(out_flag, mask=~has)),
        ("spoof_episode", pa.array(episode, mask=episode < 0)),
    ):
        if name in out.column_names:
            out = out.drop_columns([name])
        out = out.append_column(name, arr)
    return SpoofingResult(out, episodes)


def _episode_table(
    n_ep: int, ep: I64, code: I64, t: I64, lat: F64, lon: F64, ev: I64, icaos: list[str],
    cluster_km: float,
) -> pa.Table:  # fmt: skip
    """One row per episode: its span, evidence, false point and converging aircraft."""
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
    evidence = [[name for bit, name in EVIDENCE_NAMES.items() if b & bit] for b in bits]
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


__all__ = [
    "EPISODES",
    "EVIDENCE_NAMES",
    "KinematicSpoofing",
    "SpoofingConfig",
    "SpoofingResult",
    "detect_spoofing",
]
