"""The compiled checks of the kinematic spoofing detector (:mod:`jamwatch.detect.spoofing`).

Steps 1-4 of its module documentation on the position reports, one pass each over columns
sorted by aircraft then time: :func:`segments` splits each track at impossible jumps and
marks outliers; :func:`unsteady_velocity`, :func:`fresh_reports`, :func:`speed_mismatch`,
:func:`gnss_baro_excess`, :func:`runs` and :func:`resolve_stale` give each report its
evidence bits (``spoof_evidence``); :func:`classify` decides which segments are false.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba as nb
import numpy as np
import numpy.typing as npt

from jamwatch.decoder.integrity import RC_M
from jamwatch.detect.tracks import NS
from jamwatch.geo import EARTH_RADIUS_M, haversine_m

if TYPE_CHECKING:
    from jamwatch.detect.spoofing import SpoofingConfig

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
#: ``resolve_stale`` turns into FROZEN when evidence follows it and clears otherwise
FROZEN_STALE = 32
EVIDENCE_NAMES = {
    JUMP: "jump",
    MISMATCH: "speed_mismatch",
    FROZEN: "frozen",
    LOW_SPEED: "implausible_speed",
    GNSS_BARO: "gnss_baro",
}

# slots of the float parameter vector of ``speed_mismatch`` and ``runs``, packed from a
# SpoofingConfig by ``check_params``
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


def check_params(c: SpoofingConfig) -> F64:
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
def segments(
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
def unsteady_velocity(
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
def speed_mismatch(
    seg: I64, t: I64, lat: F64, lon: F64, gs: F64, trk: F64, p: F64, ev: I64
) -> None:
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
def runs(
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
def resolve_stale(code: I64, ev: I64) -> None:
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
def classify(
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


def jump_tolerance(nic: npt.NDArray[np.integer], c: SpoofingConfig) -> F64:
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


def fresh_reports(seg: I64, t: I64, lat: F64, lon: F64, tol_deg: float) -> B:
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
