"""Compiled likelihood of the localizer (see :mod:`jamwatch.detect.localize` for the model).

``losses`` gives the free-space loss term of every observation for one or more sources
(summed power, each source with its own power offset); ``loglik`` the log-likelihood of the
observations' NIC intervals for a loss threshold ``c`` and band ``B``; ``profile`` profiles
``c`` and ``B`` out for one candidate; ``grid`` and ``joint_grid`` run it over candidate sites
in parallel.
"""

from __future__ import annotations

import math
from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

BIG = 1e6  # an open end of a q interval
FAR = 1e9  # the loss of a report beyond the radio horizon
NONE = 2e9  # the loss of a report when there is no source at all


@nb.njit(cache=True, nogil=True, inline="always")
def sig(z: float) -> float:
    """The logistic function, exactly 0 or 1 beyond |z| = 20: there it differs from them by
    less than 2.1e-9, which moves a report's log-likelihood (outlier probability 1e-3 or
    more) by less than 2.1e-6, and it spares the exponential for the many reports far from
    their interval's ends."""
    if z >= 20.0:
        return 1.0
    if z <= -20.0:
        return 0.0
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@nb.njit(cache=True, nogil=True)
def losses(
    x: F64, y: F64, alt: F64, sx: F64, sy: F64, sh: F64, so: F64, out: F64
) -> None:  # fmt: skip
    """Free-space loss term of every observation, ``u_k - so_k`` for source ``k`` (``so``: a
    per-source offset, its own threshold ``c_k`` when powers differ); with several sources,
    the loss that gives the summed power (``-10 log10 sum 10^(-(u_k - so_k) / 10)``); FAR
    beyond every horizon."""
    gain = np.empty(sx.shape[0])  # 10^(so/10)
    for k in range(sx.shape[0]):
        gain[k] = 10.0 ** (0.1 * so[k])
    for i in range(x.shape[0]):
        a = max(alt[i], 0.0)
        total = 0.0
        for k in range(sx.shape[0]):
            g2 = (x[i] - sx[k]) ** 2 + (y[i] - sy[k]) ** 2
            horizon = 4120.0 * (math.sqrt(max(sh[k], 0.0)) + math.sqrt(a))
            if g2 <= horizon * horizon:
                slant2 = max(g2 + (a - sh[k]) ** 2, 1.0)
                # 10^(-u/10) with u = 10 log10(slant^2), times 10^(so/10)
                total += gain[k] / slant2
        out[i] = -10.0 * math.log10(total) if total > 0.0 else FAR


@nb.njit(cache=True, nogil=True, inline="always")
def interval_p(
    u: float, lo: float, hi: float, c: float, b: float, s: float, nominal: float
) -> float:  # fmt: skip
    """Probability that the loss ``u`` (plus logistic noise) lies in ``[c + b lo, c + b hi]``
    (``lo``, ``hi`` as fractions of the band; a zero-width interval is a boundary; ``lo`` =
    BIG: a report the hypothesis cannot give). Beyond the horizon only a nominal report, or
    a boundary at the nominal level ``nominal`` (the horizon itself), is likely."""
    if lo >= BIG:
        return 0.0
    if u >= FAR:  # beyond the horizon: nominal (a boundary to nominal: the horizon itself,
        # which there is not when there is no source at all)
        edge = u < NONE and hi - lo < 1e-9 and hi >= nominal - 1e-9
        return 1.0 if hi >= BIG or edge else 0.0
    pad = s if b * (hi - lo) < 1e-9 else 0.0
    ph = 1.0 if hi >= BIG else sig((c + b * hi + pad - u) / s)
    pl = 0.0 if lo <= -BIG else sig((c + b * lo - pad - u) / s)
    return ph - pl


#: report states of the coarse hypotheses (``state_a``, ``state_b`` of an observation; a
#: degraded report with a position is its NIC, 0 and up)
TOP = 99  # at the aircraft's top (nominal) level
LOST = -1  # position lost


@nb.njit(cache=True, nogil=True, inline="always")
def _state_interval(s: int, one_step: bool) -> tuple[float, float]:
    """Interval of ``q`` (fraction of the band) that a report in state ``s`` states when the
    level carries no measure of the loss: *two-level* avionics (nominal ``q >= 1``, one
    degraded level over ``0 <= q <= 1``, loss of lock ``q <= 0`` with NIC 0 or no position)
    or *one-step* avionics (nominal until loss of lock at ``q = 0``, then NIC 0 or no
    position: a band of zero width; an intermediate level is impossible)."""
    if one_step:
        if s == TOP:
            return 0.0, BIG
        if s <= 0:
            return -BIG, 0.0
        return BIG, BIG
    if s == TOP:
        return 1.0, BIG
    if s == LOST:
        return -BIG, 0.0
    if s == 0:
        return -BIG, 1.0  # degraded at level 0, or lock lost with NIC 0 positions
    return 0.0, 1.0


@nb.njit(cache=True, nogil=True)
def coarse_interval(sa: int, sb: int, one_step: bool) -> tuple[float, float]:
    """Interval of ``q`` of a report (``sa == sb``) or of the change between two consecutive
    reports in states ``sa``, ``sb``: the boundary where their intervals touch, no
    information (``-BIG, BIG``) where they overlap or leave a gap."""
    lo_a, hi_a = _state_interval(sa, one_step)
    if sa == sb:
        return lo_a, hi_a
    lo_b, hi_b = _state_interval(sb, one_step)
    if lo_a >= BIG or lo_b >= BIG:
        return BIG, BIG
    if hi_a == lo_b:
        return hi_a, hi_a
    if hi_b == lo_a:
        return hi_b, hi_b
    return -BIG, BIG


@nb.njit(cache=True, nogil=True)
def coarse_informative(sa: I64, sb: I64) -> npt.NDArray[np.bool_]:
    """Whether each change of state (``sa`` to ``sb``) says something under a coarse
    hypothesis (a boundary, or a change it cannot make)."""
    out = np.empty(sa.shape[0], np.bool_)
    for i in range(sa.shape[0]):
        l2, h2 = coarse_interval(sa[i], sb[i], False)
        l1, h1 = coarse_interval(sa[i], sb[i], True)
        out[i] = not (l2 <= -BIG and h2 >= BIG and l1 <= -BIG and h1 >= BIG)
    return out


@nb.njit(cache=True, nogil=True, inline="always")
def _mix(ga: float, g2: float, g1: float, lw: F64) -> float:
    """log of the fleet mixture ``w_graded e^ga + w_two e^g2 + w_one e^g1`` (``lw``: the log
    weights)."""
    a, b, d = lw[0] + ga, lw[1] + g2, lw[2] + g1
    top = max(a, b, d)
    return float(top + math.log(math.exp(a - top) + math.exp(b - top) + math.exp(d - top)))


@nb.njit(cache=True, nogil=True, inline="always")
def _log_p(p: float, eps: float, log_eps: float, log_1eps: float) -> float:
    """``log(eps + (1 - 2 eps) p)``: a report's log-likelihood with outlier probability
    ``eps`` (no logarithm for the common certain cases, p = 0 and p = 1)."""
    if p <= 0.0:
        return log_eps
    if p >= 1.0:
        return log_1eps
    return math.log(eps + (1.0 - 2.0 * eps) * p)


#: the observations' arrays: graded interval lo, hi, top, nic0; coarse states a, b; the
#: coarse level factor; aircraft code; weight (see :class:`jamwatch.detect.observe.Observations`);
#: the intervals of ``q`` each hypothesis reads and the table of their distinct edges
#: (:func:`intervals`)
ObsArrays = tuple[F64, F64, F64, F64, I64, I64, F64, I64, F64, F64, F64]

#: the avionics hypotheses, in the order of the columns below
H_GRADED, H_GRADED_UP, H_TWO_LEVEL, H_ONE_STEP = 0, 1, 2, 3
N_H = 4
#: columns of :func:`intervals`: the distinct ends of the intervals of ``q`` that the
#: hypotheses (the graded one with a nominal NIC of ``n0`` and of ``n0 + 1``, the
#: two-level, the one-step) read (*edges*: ``E_N`` of them, each a fraction of the band
#: and the side its boundary's padding goes, given by its row ``E_ID + e`` in the table of
#: the set's distinct edges, :func:`intervals`); per hypothesis its
#: interval's edges ``H_LO + h``, ``H_HI + h`` (``OPEN``: open at that end; ``NEVER`` at
#: ``H_LO``: a report the hypothesis cannot give), its probability beyond the radio horizon
#: ``H_FAR + h``, and ``H_SAME + h`` the first hypothesis with the same edges and the same
#: probability beyond the horizon (itself, or one before it); ``T_MIN``, ``T_MAX`` the
#: smallest and largest of the row's edges (fractions of the band; whether a report is far
#: from every edge of its intervals, see :func:`loglik`)
E_N = 0
E_ID = E_N + 1
H_LO = E_ID + 2 * N_H
H_HI = H_LO + N_H
H_FAR = H_HI + N_H
H_SAME = H_FAR + N_H
T_MIN = H_SAME + N_H
T_MAX = T_MIN + 1
N_Q = T_MAX + 1
OPEN, NEVER = -1.0, -2.0


@nb.njit(cache=True, nogil=True)
def intervals(lo: F64, hi: F64, top: F64, n0: F64, sa: I64, sb: I64) -> tuple[F64, F64]:
    """Per observation, the interval of ``q`` (fraction of the band) it states under each
    avionics hypothesis and the edges of those intervals (columns above): fixed for a set
    of observations, so that the likelihood, evaluated many times over, derives neither
    again and computes the logistic once per distinct edge (the graded ``q >= 1`` of a
    nominal report is also the top of its graded-up interval, a loss of lock is the same
    interval under every hypothesis). Also the table of the distinct edges of the whole set
    (rows: ``q``, padding side), a few dozen: the levels are few."""
    out = np.empty((lo.shape[0], N_Q))
    table = np.empty((max(lo.shape[0] * 2 * N_H, 1), 2))  # the distinct edges (q, padding)
    n = 0
    iv = np.empty(2 * N_H)  # one observation's interval (lo, hi) under each hypothesis
    for i in range(lo.shape[0]):
        r = out[i]
        iv[0] = lo[i] / n0[i] if lo[i] > -BIG else -BIG
        iv[1] = BIG if top[i] != 0.0 or hi[i] >= BIG else hi[i] / n0[i]
        m = n0[i] + 1.0
        iv[2] = lo[i] / m if lo[i] > -BIG else -BIG
        iv[3] = hi[i] / m if hi[i] < BIG else BIG
        iv[4], iv[5] = coarse_interval(sa[i], sb[i], False)
        # the one-step interval's ends are 0 or open (a band of zero width): scaled by B
        # like the others, its edges stay where they are
        iv[6], iv[7] = coarse_interval(sa[i], sb[i], True)
        r[E_N] = 0.0
        for h in range(N_H):
            a, z = iv[2 * h], iv[2 * h + 1]
            boundary = a < BIG and z - a < 1e-9
            r[H_FAR + h] = _beyond_horizon(a, z, 0.0 if h == H_ONE_STEP else 1.0)
            if a >= BIG:
                r[H_LO + h], r[H_HI + h] = NEVER, OPEN
            else:
                r[H_LO + h], n = _edge(r, a, -1.0 if boundary else 0.0, table, n)
                r[H_HI + h], n = _edge(r, z, 1.0 if boundary else 0.0, table, n)
            r[H_SAME + h] = h
            for g in range(h):
                lo_same = r[H_LO + g] == r[H_LO + h]
                if lo_same and r[H_HI + g] == r[H_HI + h] and r[H_FAR + g] == r[H_FAR + h]:
                    r[H_SAME + h] = g
                    break
        r[T_MIN], r[T_MAX] = 0.0, 0.0
        for e in range(int(r[E_N])):
            t = table[int(r[E_ID + e]), 0]
            r[T_MIN] = t if e == 0 else min(r[T_MIN], t)
            r[T_MAX] = t if e == 0 else max(r[T_MAX], t)
    return out, table[:n].copy()


@nb.njit(cache=True, nogil=True, inline="always")
def _edge(r: F64, t: float, pad: float, table: F64, n: int) -> tuple[float, int]:
    """The index of the edge ``t`` (padded to side ``pad``) among the row ``r``'s edges,
    added when new (``OPEN`` for an open end), and the number of distinct edges in
    ``table``, where the edge is added when new."""
    if t >= BIG or t <= -BIG:
        return OPEN, n
    k = 0
    while k < n and not (table[k, 0] == t and table[k, 1] == pad):
        k += 1
    if k == n:
        table[k, 0], table[k, 1] = t, pad
        n += 1
    for e in range(int(r[E_N])):
        if r[E_ID + e] == k:
            return float(e), n
    e = int(r[E_N])
    r[E_ID + e] = k
    r[E_N] = e + 1.0
    return float(e), n


@nb.njit(cache=True, nogil=True, inline="always")
def _beyond_horizon(lo: float, hi: float, nominal: float) -> float:
    """:func:`interval_p` beyond the radio horizon of a source (``FAR <= u < NONE``)."""
    return interval_p(FAR, lo, hi, 0.0, 1.0, 1.0, nominal)


@nb.njit(cache=True, nogil=True)
def loglik(
    u: F64, o: ObsArrays, c: float, b: float, s: float, eps: float, lw: F64, tol: F64
) -> float:  # fmt: skip
    """Log-likelihood; per aircraft a mixture of its avionics (``lw``: log weights of the
    fleet's graded, two-level and one-step receivers), graded with the better of a nominal
    NIC of ``n0`` and ``n0 + 1``, and of its receiver's tolerance (``tol``: row 0 the
    offsets of the aircraft's own threshold from ``c``, dB, row 1 their log weights; one
    offset 0 for receivers that all share ``c``). Each report's probability under a
    hypothesis is :func:`interval_p` of its interval; the logistic is computed once per edge
    of the report's intervals, the logarithm once per distinct probability.

    The logistic of an edge ``t`` (padding ``pad``) is ``x / (1 + x)`` with ``x = e^z``,
    ``z = (c - u) / s + B t / s + pad``: one exponential per report, ``e^((c - u) / s)``,
    times the edge's factor ``e^(B t / s + pad)``, computed once per call for each edge of
    the set's table (a few dozen; :func:`_logistic`). That is :func:`sig` to rounding: on
    the development runs of seed 1 no result of ``jamwatch eval`` moved by 1e-6; the grids
    ran about 10 % faster on one thread, the whole localization no measurably faster on two
    (docs/detect.md).

    A report far from every edge of its intervals takes its probabilities without visiting
    the edges (1 where its interval is open on the side it lies on, else 0, and 0 for a
    report the hypothesis cannot give): when ``z`` is 20 or more at a lower
    bound of all its edges' ``z`` (from ``T_MIN`` and a padding of -1), or -20 or less at an
    upper bound (``T_MAX``, +1). With B and the noise positive the bound is computed by the
    same operations as each edge's own ``z``, and rounding keeps their order, so it gives
    the values visiting every edge gives (on development runs, a third of the reports at
    the fine grids' noise, an eighth at the coarse grid's)."""
    lf, code, w, q, et = o[6], o[7], o[8], o[9], o[10]
    if u.shape[0] == 0:
        return 0.0
    d = np.empty(et.shape[0])  # per edge of the table, B t / s + pad
    factor = np.empty(et.shape[0])  # e^d
    for k in range(et.shape[0]):
        d[k] = b * et[k, 0] / s + et[k, 1]
        factor[k] = math.exp(min(d[k], 700.0))
    nt = tol.shape[1]
    total = 0.0
    g = np.zeros((nt, N_H))  # per tolerance and hypothesis, the aircraft's log-likelihood
    sg = np.empty(2 * N_H)  # the logistic at each edge
    lp = np.empty(N_H)  # the log-probability of the report under each hypothesis
    le, l1e = math.log(eps), math.log(1.0 - eps)
    use = np.array([True, True, lw[1] > -1e299, lw[2] > -1e299])
    bound = b > 0.0 and s > 0.0  # (B t / s then rises with t)
    for i in range(u.shape[0]):
        if i > 0 and code[i] != code[i - 1]:
            total += _mix_tolerance(g, lw, tol)
            g[:] = 0.0
        r = q[i]
        far = u[i] >= FAR
        gone = u[i] >= NONE  # (no source at all)
        for j in range(nt):
            if j == 0 or not far:  # (beyond every horizon the tolerance does not matter)
                side = 0  # far from every edge: the logistic 1 at all of them (1) or 0 (-1)
                if not far:
                    a = (c + tol[0, j] - u[i]) / s
                    if bound and a + (b * r[T_MIN] / s - 1.0) >= 20.0:
                        side = 1
                    elif bound and a + (b * r[T_MAX] / s + 1.0) <= -20.0:
                        side = -1
                    else:
                        _logistic(r, a, d, factor, sg)
                if side > 0:  # below every edge: likely where the interval is open below
                    for h in range(N_H):
                        lp[h] = l1e if r[H_LO + h] == OPEN else le
                elif side < 0:  # above every edge: likely where it is open above
                    for h in range(N_H):
                        lp[h] = l1e if r[H_HI + h] == OPEN and r[H_LO + h] != NEVER else le
                else:
                    for h in range(N_H):
                        if not use[h]:
                            continue
                        same = int(r[H_SAME + h])
                        if same < h and use[same]:
                            lp[h] = lp[same]
                            continue
                        if r[H_LO + h] == NEVER:
                            p = 0.0
                        elif gone:  # only a nominal report is likely
                            p = 1.0 if r[H_HI + h] == OPEN else 0.0
                        elif far:
                            p = r[H_FAR + h]
                        else:
                            k_hi, k_lo = int(r[H_HI + h]), int(r[H_LO + h])
                            p = (1.0 if k_hi < 0 else sg[k_hi]) - (0.0 if k_lo < 0 else sg[k_lo])
                        lp[h] = _log_p(p, eps, le, l1e)
            g[j, H_GRADED] += w[i] * lp[H_GRADED]
            g[j, H_GRADED_UP] += w[i] * lp[H_GRADED_UP]
            if use[H_TWO_LEVEL]:
                g[j, H_TWO_LEVEL] += w[i] * (lp[H_TWO_LEVEL] + lf[i])
            if use[H_ONE_STEP]:
                g[j, H_ONE_STEP] += w[i] * (lp[H_ONE_STEP] + lf[i])
    return total + _mix_tolerance(g, lw, tol)


@nb.njit(cache=True, nogil=True, inline="always")
def _mix_tolerance(g: F64, lw: F64, tol: F64) -> float:
    """log of one aircraft's likelihood (``g``: per tolerance and avionics hypothesis):
    the fleet mixture (:func:`_mix`, the better of the two graded nominal levels) under each
    tolerance, mixed by the tolerances' weights (``tol[1]``)."""
    top, acc = -math.inf, 0.0
    for j in range(tol.shape[1]):
        gj = g[j]
        e = tol[1, j] + _mix(max(gj[H_GRADED], gj[H_GRADED_UP]), gj[H_TWO_LEVEL],
                             gj[H_ONE_STEP], lw)  # fmt: skip
        if e > top:
            acc = acc * math.exp(top - e) + 1.0
            top = e
        else:
            acc += math.exp(e - top)
    return float(top + math.log(acc))


@nb.njit(cache=True, nogil=True, inline="always")
def _logistic(r: F64, a: float, d: F64, factor: F64, sg: F64) -> None:
    """:func:`sig` at each edge of the row ``r`` into ``sg``, ``z = a + d[edge]`` (``a``:
    the report's ``(c - u) / s``, ``d``: the edges' ``B t / s + pad``): exactly 0 or 1
    where it is, else from one exponential of the report, ``e^a``, and each edge's factor
    ``e^d`` (``factor``); :func:`sig` itself where ``a`` is too large for an
    exponential."""
    ea = -1.0  # e^a, computed when first needed
    for e in range(int(r[E_N])):
        k = int(r[E_ID + e])
        z = a + d[k]
        if z >= 20.0:
            sg[e] = 1.0
        elif z <= -20.0:
            sg[e] = 0.0
        else:
            if ea < 0.0:
                ea = math.exp(a) if -300.0 < a < 300.0 else math.inf
            if ea == math.inf:
                sg[e] = sig(z)
                continue
            x = ea * factor[k]
            sg[e] = x / (1.0 + x)


#: noise (dB), outlier, band prior: mean, sd (dB); log weights of the fleet's graded,
#: two-level and one-step avionics; the receivers' tolerances (offsets of their threshold,
#: dB, and log weights: :func:`loglik`)
Model = tuple[float, float, float, float, F64, F64]

#: one threshold shared by every receiver: a ``Model``'s tolerances with the one offset 0
SHARED: Final = np.zeros((2, 1))

#: slots of a ``Model``
M_SIGMA_DB: Final = 0  # scale of the logistic noise on the loss, dB
M_OUTLIER: Final = 1  # probability of an outlier report
M_BAND_DB: Final = 2  # mean of the normal prior of the band width B, dB
M_BAND_SD_DB: Final = 3  # its standard deviation (0: no prior), dB
M_FLEET: Final = 4  # log weights of the avionics hypotheses (graded, two-level, one-step)
M_TOLERANCE: Final = 5  # receivers' threshold offsets (dB, row 0) and log weights (row 1)

#: columns of the output of :func:`grid` (one row per site)
GRID_LL = 0  # profile log-likelihood
GRID_C = 1  # the loss threshold c at the best, dB
GRID_B = 2  # the band width B at the best, dB
GRID_H = 3  # the transmitter height at the best, m
N_GRID = 4


@nb.njit(cache=True, nogil=True)
def loglik_at(u: F64, o: ObsArrays, c: float, b: float, m: Model) -> float:
    """Log-likelihood plus the log prior of the band width (normal, mean ``m[M_BAND_DB]``,
    sd ``m[M_BAND_SD_DB]``)."""
    sd = m[M_BAND_SD_DB]
    prior = -0.5 * ((b - m[M_BAND_DB]) / sd) ** 2 if sd > 0.0 else 0.0
    return loglik(u, o, c, b, m[M_SIGMA_DB], m[M_OUTLIER], m[M_FLEET], m[M_TOLERANCE]) + prior


GOLDEN = 0.6180339887498949  # (sqrt 5 - 1) / 2


# what :func:`line_max` varies
ON_C = 0  # the threshold c of :func:`loglik_at` (``other``: B)
ON_B = 1  # the band B of :func:`loglik_at` (``other``: c)
JOINT_C = 2  # the new source's threshold in :func:`_joint_at` (``other``: B)


@nb.njit(cache=True, nogil=True, inline="always")
def _objective(
    kind: int, x: float, u: F64, o: ObsArrays, other: float, m: Model, fpow: F64, v: F64
) -> float:  # fmt: skip
    if kind == ON_C:
        return loglik_at(u, o, x, other, m)
    if kind == ON_B:
        return loglik_at(u, o, other, x, m)
    return _joint_at(o, fpow, u, v, x, other, m)


@nb.njit(cache=True, nogil=True)
def line_max(
    kind: int, u: F64, o: ObsArrays, other: float, m: Model, a: float, z: float, n: int,
    fpow: F64, v: F64,
) -> float:  # fmt: skip
    """Golden-section search over ``[a, z]`` for the maximum of the log-likelihood as a
    function of what ``kind`` names (``ON_C``, ``ON_B``: of :func:`loglik_at` with losses
    ``u``, ``fpow`` and ``v`` unused; ``JOINT_C``: of :func:`_joint_at` with the new
    source's power terms ``u``, fixed power ``fpow`` and scratch ``v``): ``n`` shrinks of
    the interval by 0.618 for ``n + 1`` evaluations (each step reuses one point of the one
    before); the middle of the last interval. The one line search of the localizer."""
    m1 = z - GOLDEN * (z - a)
    m2 = a + GOLDEN * (z - a)
    v1 = _objective(kind, m1, u, o, other, m, fpow, v)
    v2 = _objective(kind, m2, u, o, other, m, fpow, v)
    for _ in range(n - 1):
        if v1 < v2:
            a, m1, v1 = m1, m2, v2
            m2 = a + GOLDEN * (z - a)
            v2 = _objective(kind, m2, u, o, other, m, fpow, v)
        else:
            z, m2, v2 = m2, m1, v1
            m1 = z - GOLDEN * (z - a)
            v1 = _objective(kind, m1, u, o, other, m, fpow, v)
    if v1 < v2:
        a = m1
    else:
        z = m2
    return 0.5 * (a + z)


@nb.njit(cache=True, nogil=True)
def _line(
    u: F64, o: ObsArrays, bounds: bool, c_ref: float, b_ref: float, tol: float
) -> tuple[float, float, float]:  # fmt: skip
    """Weighted least squares of the loss on the level (``u = c + B q``) over the level
    boundaries (``bounds``) or over every graded level and boundary (boundaries weighted
    4); with ``tol`` > 0 only the points within ``tol`` dB of ``c_ref + b_ref q``. Returns
    (c, B, total weight); B is NaN when the levels do not vary."""
    lo, hi, top, n0, _, _, _, _, w, _, _ = o
    sw = sx = sy = sxx = sxy = 0.0
    for i in range(u.shape[0]):
        if u[i] >= FAR or lo[i] <= -BIG or top[i] != 0.0 or hi[i] > n0[i]:
            continue
        edge = hi[i] - lo[i] < 1e-9
        if bounds and not edge:
            continue
        q = 0.5 * (lo[i] + hi[i]) / n0[i]
        if tol > 0.0 and abs(u[i] - c_ref - b_ref * q) > tol:
            continue
        wi = w[i] * (4.0 if edge and not bounds else 1.0)
        sw += wi
        sx += wi * q
        sy += wi * u[i]
        sxx += wi * q * q
        sxy += wi * q * u[i]
    if sw == 0.0:
        return math.nan, math.nan, 0.0
    var = sxx / sw - (sx / sw) ** 2
    b = (sxy / sw - sx * sy / sw / sw) / var if var > 1e-3 else math.nan
    return sy / sw - (0.0 if math.isnan(b) else b) * sx / sw, b, sw


@nb.njit(cache=True, nogil=True)
def _coarse_line(u: F64, o: ObsArrays, one_step: bool, b0: float) -> tuple[float, float]:
    """(c, B) from the changes of level that are boundaries under a coarse hypothesis
    (:func:`coarse_interval`: under two-level, nominal to degraded at ``u = c + B`` and
    degraded to lost at ``u = c``; under one-step, nominal to lost at ``u = c``): the median
    loss at each, B from their difference when both are seen (else ``b0``). NaN when there
    is none. The graded starts of :func:`profile` read a two-level receiver's one degraded
    level as a graded one and can start several dB from its threshold."""
    sa, sb = o[4], o[5]
    at0 = np.empty(u.shape[0])
    at1 = np.empty(u.shape[0])
    n_0 = n_1 = 0
    for i in range(u.shape[0]):
        if u[i] >= FAR or sa[i] == sb[i]:
            continue
        ql, qh = coarse_interval(sa[i], sb[i], one_step)
        if ql != qh or ql >= BIG:
            continue
        if ql == 0.0:
            at0[n_0] = u[i]
            n_0 += 1
        else:
            at1[n_1] = u[i]
            n_1 += 1
    if n_0 and n_1:
        c = float(np.median(at0[:n_0]))
        return c, float(np.median(at1[:n_1])) - c
    if n_0:
        return float(np.median(at0[:n_0])), b0
    if n_1:
        return float(np.median(at1[:n_1])) - b0, b0
    return math.nan, math.nan


@nb.njit(cache=True, nogil=True)
def profile(u: F64, o: ObsArrays, m: Model, full: bool) -> tuple[float, float, float]:
    """Best (log-likelihood, c, B) for the losses ``u`` of one candidate source.

    Starting points: the line through the level boundaries (exact iso-loss points; refitted
    without those more than 1 dB off it), the line through every graded level, and B at its
    prior mean with c from the levels (the graded starts); then the changes of level that
    are boundaries under the two-level and under the one-step reading (:func:`_coarse_line`),
    each where it lies more than 1 dB from every start before it (the coarse starts). From
    each, golden-section searches of c (and with ``full`` of B, then c again); a quick
    profile (not ``full``) searches from the best graded start, and from a coarse start only
    where that starts better, so it is never below the graded starts' own. The best of the
    starts and their searches is kept."""
    umin, umax = 1e300, -1e300
    for i in range(u.shape[0]):
        if u[i] < FAR:
            umin = min(umin, u[i])
            umax = max(umax, u[i])
    b0 = m[M_BAND_DB]
    if umax < umin:
        return -1e300, 0.0, b0
    cl, bl, wl = _line(u, o, False, 0.0, 0.0, 0.0)
    if wl == 0.0:
        c = line_max(ON_C, u, o, b0, m, umin - 2.0 * b0, umax + 2.0, 14, u, u)
        return loglik_at(u, o, c, b0, m), c, b0
    cs = [_prior_c(u, o, b0)]  # B at its prior mean, c from the mean level
    bs = [b0]
    cb, bb, wb = _line(u, o, True, 0.0, 0.0, 0.0)
    if wb > 0.0 and 2.0 <= bb <= 40.0:  # (False for a NaN slope)
        cb, bb, wb = _line(u, o, True, cb, bb, 1.0)
        if wb > 0.0 and 2.0 <= bb <= 40.0:
            cs.append(cb)
            bs.append(bb)
    if 2.0 <= bl <= 40.0:
        cs.append(cl)
        bs.append(bl)
    n_graded = len(cs)
    for one_step in (False, True):
        cc, bc = _coarse_line(u, o, one_step, b0)
        if (
            2.0 <= bc <= 40.0
            and min([max(abs(cc - cs[k]), abs(bc - bs[k])) for k in range(len(cs))]) > 1.0
        ):
            cs.append(cc)
            bs.append(bc)
    best, best_c, best_b = -1e300, 0.0, b0
    values = [loglik_at(u, o, cs[k], bs[k], m) for k in range(len(cs))]
    lead = max(values[:n_graded])
    for k in range(len(cs)):
        c, b = cs[k], bs[k]
        if values[k] > best:
            best, best_c, best_b = values[k], c, b
        if not full and (values[k] < lead or (k >= n_graded and values[k] == lead)):
            continue  # quick: from the best graded start, and a coarse one better than it
        c = line_max(ON_C, u, o, b, m, c - 2.0, c + 2.0, 10 if full else 7, u, u)
        if full:
            b = line_max(ON_B, u, o, c, m, 0.7 * b, 1.4 * b, 10, u, u)
            c = line_max(ON_C, u, o, b, m, c - 1.0, c + 1.0, 10, u, u)
            b = line_max(ON_B, u, o, c, m, 0.9 * b, 1.1 * b, 8, u, u)
            c = line_max(ON_C, u, o, b, m, c - 0.3, c + 0.3, 8, u, u)
        v = loglik_at(u, o, c, b, m)
        if v > best:
            best, best_c, best_b = v, c, b
    return best, best_c, best_b


@nb.njit(cache=True, nogil=True)
def _prior_c(u: F64, o: ObsArrays, b: float) -> float:
    """c for a given B: the weighted mean of ``u - B q`` over the graded levels."""
    lo, hi, top, n0, _, _, _, _, w, _, _ = o
    sw = s = 0.0
    for i in range(u.shape[0]):
        if u[i] < FAR and lo[i] > -BIG and top[i] == 0.0 and hi[i] <= n0[i]:
            sw += w[i]
            s += w[i] * (u[i] - b * 0.5 * (lo[i] + hi[i]) / n0[i])
    return s / sw if sw > 0.0 else 0.0


@nb.njit(cache=True, nogil=True)
def fixed_power(x: F64, y: F64, alt: F64, fx: F64, fy: F64, fh: F64, fc: F64) -> F64:
    """Per observation ``sum 10^(-(u_k - c_k) / 10)`` over the fixed sources (0 beyond
    their horizons)."""
    u = np.empty(x.shape[0])
    out = np.zeros(x.shape[0])
    for k in range(fx.shape[0]):
        losses(x, y, alt, fx[k : k + 1], fy[k : k + 1], fh[k : k + 1], fc[k : k + 1], u)
        for i in range(x.shape[0]):
            if u[i] < FAR:
                out[i] += 10.0 ** (-0.1 * u[i])
    return out


@nb.njit(cache=True, nogil=True)
def _joint_at(
    o: ObsArrays, fpow: F64, p_new: F64, v: F64, c_new: float, b: float, m: Model
) -> float:  # fmt: skip
    """Log-likelihood with the new source's threshold ``c_new`` beside the fixed power
    (``p_new``: the new source's ``10^(-u / 10)``, 0 beyond its horizon)."""
    k = 10.0 ** (0.1 * c_new)
    for i in range(p_new.shape[0]):
        total = fpow[i] + p_new[i] * k
        v[i] = -10.0 * math.log10(total) if total > 0.0 else FAR
    return loglik_at(v, o, 0.0, b, m)


@nb.njit(cache=True, nogil=True)
def joint_profile(
    o: ObsArrays, fpow: F64, u_new: F64, fc: F64, b: float, m: Model, full: bool
) -> tuple[float, float, float]:  # fmt: skip
    """Best (log-likelihood, c, B) of a new source (losses ``u_new``) beside fixed sources
    (their summed power ``fpow``, thresholds ``fc``): golden-section search of its own
    threshold ``c`` (its own power) with the band ``b`` of the fixed sources; with ``full``,
    then of B within 5 % of ``b`` (the likelihood has many maxima in B, one per alignment
    of the NIC levels) and of ``c`` again, kept when better."""
    v = np.empty(u_new.shape[0])
    p_new = np.empty(u_new.shape[0])
    for i in range(u_new.shape[0]):
        p_new[i] = 10.0 ** (-0.1 * u_new[i]) if u_new[i] < FAR else 0.0
    lo_c, hi_c = fc.min() - 25.0, fc.max() + 25.0
    c = line_max(JOINT_C, p_new, o, b, m, lo_c, hi_c, 20 if full else 14, fpow, v)
    best = _joint_at(o, fpow, p_new, v, c, b, m)
    if full:
        b2 = line_max(ON_B, v, o, 0.0, m, 0.95 * b, 1.05 * b, 8, v, v)
        c2 = line_max(JOINT_C, p_new, o, b2, m, c - 0.5, c + 0.5, 10, fpow, v)
        v2 = _joint_at(o, fpow, p_new, v, c2, b2, m)
        if v2 > best:
            return v2, c2, b2
    return best, c, b


@nb.njit(cache=True, nogil=True, parallel=True)
def grid(
    x: F64, y: F64, alt: F64, o: ObsArrays, gx: F64, gy: F64, heights: F64,
    fx: F64, fy: F64, fh: F64, fc: F64, b0: float, m: Model, full: bool, out: F64,
) -> None:  # fmt: skip
    """Profile log-likelihood of a new source at every grid site and height: columns
    ``GRID_*`` (ll, c, B, height). Alone (no fixed sources), ``c`` and ``B`` are profiled
    (:func:`profile`); beside the fixed sources ``fx``, ``fy``, ``fh`` with their thresholds
    ``fc`` (their own powers), the new source's own ``c`` and the shared ``B`` (from ``b0``)
    are (:func:`joint_profile`). The (site, height) pairs run in parallel (a single site's
    heights too), then each site keeps its best height."""
    fpow = fixed_power(x, y, alt, fx, fy, fh, fc)
    nh = heights.shape[0]
    n = gx.shape[0] * nh
    each_ll, each_c, each_b = np.empty(n), np.empty(n), np.empty(n)  # per (site, height)
    for j in nb.prange(n):
        k, h = j // nh, heights[j % nh]
        u = np.empty(x.shape[0])
        losses(
            x, y, alt, np.array([gx[k]]), np.array([gy[k]]), np.array([h]), np.zeros(1), u
        )  # fmt: skip
        if fx.shape[0] == 0:
            each_ll[j], each_c[j], each_b[j] = profile(u, o, m, full)
        else:
            each_ll[j], each_c[j], each_b[j] = joint_profile(o, fpow, u, fc, b0, m, full)
    for k in range(gx.shape[0]):
        out[k, GRID_LL] = -1e300
        for i in range(nh):
            j = k * nh + i
            if each_ll[j] > out[k, GRID_LL]:
                out[k, GRID_LL], out[k, GRID_C], out[k, GRID_B] = each_ll[j], each_c[j], each_b[j]
                out[k, GRID_H] = heights[i]


@nb.njit(cache=True, nogil=True, parallel=True)
def aircraft_loglik(
    x: F64, y: F64, alt: F64, o: ObsArrays, gx: F64, gy: F64, gh: F64, gc: F64, gb: F64,
    fpow: F64, starts: I64, m: Model, out: F64,
) -> None:  # fmt: skip
    """Per candidate source (``gx``, ``gy``, height ``gh``, threshold ``gc``, band ``gb``,
    beside fixed sources of summed power ``fpow``) and per aircraft (observations
    ``starts[a]:starts[a + 1]``) the log-likelihood: ``out[site, aircraft]``."""
    lo, hi, top, n0, sa, sb, lf, code, w, q, et = o
    for k in nb.prange(gx.shape[0]):
        u = np.empty(x.shape[0])
        one = np.empty(1)
        one[0] = gc[k]
        losses(x, y, alt, gx[k : k + 1], gy[k : k + 1], gh[k : k + 1], one, u)
        for i in range(u.shape[0]):
            total = fpow[i] + (10.0 ** (-0.1 * u[i]) if u[i] < FAR else 0.0)
            u[i] = -10.0 * math.log10(total) if total > 0.0 else FAR
        for a in range(starts.shape[0] - 1):
            s0, s1 = starts[a], starts[a + 1]
            one_ac = (
                lo[s0:s1], hi[s0:s1], top[s0:s1], n0[s0:s1], sa[s0:s1], sb[s0:s1], lf[s0:s1],
                code[s0:s1], w[s0:s1], q[s0:s1], et,
            )  # fmt: skip
            out[k, a] = loglik(
                u[s0:s1], one_ac, 0.0, gb[k], m[M_SIGMA_DB], m[M_OUTLIER], m[M_FLEET],
                m[M_TOLERANCE],
            )  # fmt: skip


__all__ = [
    "BIG",
    "FAR",
    "LOST",
    "NONE",
    "SHARED",
    "TOP",
    "aircraft_loglik",
    "coarse_informative",
    "coarse_interval",
    "fixed_power",
    "grid",
    "interval_p",
    "intervals",
    "joint_profile",
    "line_max",
    "loglik",
    "loglik_at",
    "losses",
    "profile",
]
