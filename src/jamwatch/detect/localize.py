"""Where is the jammer: maximum likelihood of what every aircraft reported about its GNSS.

Physics the model uses (the same as :mod:`jamwatch.simulate.radio`, with its constants
unknown): the jamming-to-signal ratio at an aircraft is ``J/S = K - u`` with
``u = 20 log10(slant range)`` (free-space loss) and ``K`` (EIRP, antenna gains, signal level)
unknown; beyond the radio horizon of a 4/3 earth, ``4.12 (sqrt(h_tx) + sqrt(h_rx))`` km,
there is no jamming at all. A receiver loses lock above a J/S threshold and, in a band below
it, reports an integrity that falls with J/S. In loss terms, with ``c`` (threshold and
``K`` together) and ``B`` (the width of the band) unknown::

    u <= c              lock lost: positions stop, or come with NIC 0
    c < u < c + B       degraded: NIC / NIC_0 about (u - c) / B
    u >= c + B          nominal: the aircraft's own NIC_0

``NIC_0`` is the aircraft's nominal NIC (its largest in the input; for an event's aircraft
that never reported NIC 7 or more, seen only while jammed, ``unseen_nominal_nic``). Every
report in the event window is an *interval* of ``q = (u - c) / B``: NIC k of NIC_0 says
``k / NIC_0 <= q < (k + 1) / NIC_0``; the nominal NIC says ``q >= 1``; NIC 0 says
``q < 1 / NIC_0``; velocity while positions stopped (for ``lost_after_s``; placed by dead
reckoning from the last position) says ``q <= 0``. The likelihood of a report is the
probability that the predicted loss falls in its interval under logistic noise of scale
``sigma_db``, mixed with a small ``outlier`` probability; reports beyond the radio horizon
are certainly nominal. So the nominal reports bound the source from outside, the lost and
degraded ones from inside, and the graded NIC levels measure the loss itself (a range ratio
between reports).

Avionics do not all grade. Each aircraft's reports are scored under three hypotheses and
its likelihood is their mixture, ``log sum_h w_h L_h``, with the fleet's prior shares
``fleet`` (graded 0.6, two-level 0.2, one-step 0.2):

- *graded*: the intervals above (with the better of ``NIC_0`` and ``NIC_0 + 1``);
- *two-level*: nominal ``q >= 1``; any degraded level ``0 <= q <= 1``; lock lost (no
  position) ``q <= 0``; NIC 0 ``q <= 1`` (the lowest level may mean "degraded, still
  navigating" as well as "lost");
- *one-step*: nominal until lock is lost at ``q = 0`` (a band of zero width), then NIC 0 or
  no position; a report at an intermediate level is impossible under it.

Under the two coarse hypotheses the degraded level itself says nothing of the loss, so a
report pays the chance of its level instead: the log of the share of its aircraft's degraded
reports at that level. A receiver that passes through many levels pays much there and is
explained by the graded hypothesis; one with a single degraded level pays nothing. A change
between two consecutive reports is a *boundary* under a hypothesis where its two intervals
touch (nominal to NIC 0 under one-step; nominal to degraded and degraded to lost under
two-level; adjacent levels, or levels at most two apart, under graded) and says nothing
where they do not.

Fit: one observation per aircraft and ``bin_s`` (weight ``1 / sqrt`` of the aircraft's
count) and one at every change of level between consecutive reports (weight 1; left out near
the event's start and end and when shared with other aircraft within ``switch_s``: a
transmitter switching), placed in the stereographic plane of the event's centre rounded to
0.25 degree (distances right to 0.05 % within 250 km at any latitude; the rounding keeps the
plane still while a live event grows, see :class:`FitMemo`). Per candidate site and
transmitter height the nuisance parameters ``c`` and ``B`` are profiled out (golden-section
searches from up to five starts: the line through the level boundaries, the line through all
levels, ``B`` at the mean of its normal prior, ``band_db`` +- ``band_sd_db``, and the
boundaries under the two-level and the one-step readings, where a receiver's one degraded
level read as a graded one would put the threshold several dB off; on the grids, where the
profile is quick, only the best graded start and a coarse one that starts better are
searched further); the site is searched on a coarse grid with the noise widened to
``coarse_sigma_db`` (every second site of the 300 km square around the affected reports'
centre, then the sites around the best ones until the best are surrounded by sites searched,
beyond the square where they lie on its edge, up to ``reach_km`` = 550 km away:
:func:`_coarse_grid`), then on finer grids around the best candidates, which are ranked
again over every height (a low transmitter's radio horizon cuts through the traffic), then
over the heights with ``c`` and ``B`` fully profiled. The 95 % radius comes from a bootstrap
over aircraft (:func:`bootstrap_radius`: the aircraft drawn with replacement, all of one
aircraft's observations together; each draw takes the best of every site searched, the
coarse grid's included, so a draw may prefer a place far from the fit), never smaller than
the farthest fine-grid site whose profile log-likelihood is within ``delta_ll`` = 3.0 of the
best; the reported radius is that widened for the model's own error (avionics, antennas and
receivers unlike the model's): by ``radius_scale`` = 1.6, by ``band_error`` = 0.25 more per
dB the fitted band lies from its prior's mean, and by up to ``graded_error`` = 1.0 more when
fewer than ``graded_low`` = 0.3 of the affected aircraft grade
(:func:`jamwatch.detect.sources.widen`; all chosen on the development seeds, see
docs/detect.md).

An event's several transmitters, recurring sites and the physical check are in
:mod:`jamwatch.detect.sources`.

Limits: no terrain, antenna patterns or aircraft attitude; the altitude is barometric; a
graded receiver's integrity is taken as linear in J/S (dB) over the band, whose width has a
prior around 10 dB; receivers are taken to share one threshold ``c`` (a spread of several
dB between them is left to the noise and the outlier probability); two sources switching
together are seen as one (with a radius grown to hold both where two explain the piece
better: :func:`jamwatch.detect.sources.two_together`); the bootstrap radius is a statement
about this model, widened for its error; a source that fewer than 5 aircraft witnessed is
not reported (:func:`jamwatch.detect.sources.few_witnesses`), nor one that sees its affected
aircraft at about one range, a direction rather than a site
(:func:`jamwatch.detect.sources.one_range`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from jamwatch.detect.likelihood import (
    F64,
    FAR,
    GRID_B,
    GRID_C,
    GRID_H,
    GRID_LL,
    N_GRID,
    NONE,
    Model,
    aircraft_loglik,
    fixed_power,
    grid,
    loglik_at,
    losses,
)
from jamwatch.detect.observe import LocalizeConfig, Observations, observations
from jamwatch.detect.tracks import NS

#: columns of the candidate sites of :func:`bootstrap_radius`, each with the nuisance
#: parameters profiled on all the observations
SITE_X = 0  # local x (stereographic plane of the event), m
SITE_Y = 1  # local y, m
SITE_H = 2  # transmitter height, m
SITE_C = 3  # loss threshold c, dB
SITE_B = 4  # band width B, dB
N_SITE = 5


@dataclass(frozen=True, slots=True)
class Fit:
    """One fitted source: local position (m), height, c, B, log-likelihood, 95 % radius (m)."""

    x: float
    y: float
    h: float
    c: float
    b: float
    ll: float
    radius_m: float


def model(ob: Observations, c: LocalizeConfig, sigma: float = 0.0) -> Model:
    """The likelihood's model parameters for ``ob`` (its fleet) and ``c`` (with the noise
    ``sigma`` when given)."""
    return (sigma or c.sigma_db, c.outlier, c.band_db, c.band_sd_db, ob.fleet, ob.tolerance)


def run_grid(
    ob: Observations, gx: F64, gy: F64, heights: F64, fixed: tuple[Fit, ...],
    c: LocalizeConfig, full: bool = True, sigma: float = 0.0,
) -> F64:  # fmt: skip
    out = np.full((gx.shape[0], N_GRID), np.nan)  # (a site no report reaches keeps NaN c, B)
    fx = np.array([f.x for f in fixed], np.float64)
    fy = np.array([f.y for f in fixed], np.float64)
    fh = np.array([f.h for f in fixed], np.float64)
    fc = np.array([f.c for f in fixed], np.float64)
    b0 = float(np.mean([f.b for f in fixed])) if fixed else c.band_db
    grid(
        ob.x, ob.y, ob.alt_m, ob.arrays(), gx, gy, heights, fx, fy, fh, fc, b0,
        model(ob, c, sigma), full, out,
    )  # fmt: skip
    return out


def _site_rows(x: F64, y: F64, res: F64) -> F64:
    """Candidate-site rows (columns ``SITE_*``) of the sites ``x``, ``y`` from their grid
    results ``res`` (columns ``GRID_*``); a site that no observation's loss reaches at any
    height (no profile: no threshold, no band) is no candidate."""
    ok = res[:, GRID_LL] > -1e299
    rows = np.empty((int(ok.sum()), N_SITE))
    rows[:, SITE_X] = x[ok]
    rows[:, SITE_Y] = y[ok]
    rows[:, SITE_H] = res[ok, GRID_H]
    rows[:, SITE_C] = res[ok, GRID_C]
    rows[:, SITE_B] = res[ok, GRID_B]
    return rows


def _square(cx: float, cy: float, half: float, step: float) -> tuple[F64, F64]:
    ax = np.arange(-half, half + 1.0, step)
    mx, my = np.meshgrid(cx + ax, cy + ax)
    return np.asarray(mx.ravel()), np.asarray(my.ravel())


def _thin(ob: Observations, n: int) -> Observations:
    """At most ``n`` observations, evenly picked, weights scaled to keep the total."""
    if ob.x.shape[0] <= n:
        return ob
    sel = np.linspace(0, ob.x.shape[0] - 1, n).astype(np.int64)
    sub = ob.take(sel)
    total = float(ob.weight.sum()) / max(float(sub.weight.sum()), 1e-12)
    return dataclasses.replace(sub, weight=sub.weight * total)


def _distinct(gx: F64, gy: F64, ll: F64, n: int, apart: float) -> list[int]:
    """Indices of the ``n`` best sites at least ``apart`` from each other."""
    starts: list[int] = []
    for j in np.argsort(-ll)[: 50 * n]:
        if all(math.hypot(gx[j] - gx[i], gy[j] - gy[i]) > apart for i in starts):
            starts.append(int(j))
        if len(starts) == n:
            break
    return starts


def _coarse_grid(
    ob: Observations, center: tuple[float, float], h: F64, fixed: tuple[Fit, ...],
    c: LocalizeConfig,
) -> tuple[F64, F64, F64]:  # fmt: skip
    """The coarse grid (sites ``coarse_km`` apart around ``center``, at height ``h``, noise
    ``coarse_sigma_db``) evaluated where it matters: every second site of the search square
    (1.2 ``search_km`` wide) first, then the unevaluated neighbours of the ``coarse_refine``
    best evaluated sites and of the ``2 candidates`` best at least 2.5 steps apart, until
    those sites' neighbours are all evaluated (with ``coarse_refine`` as large as the grid:
    the whole grid). Where the best sites lie on the square's edge, their neighbours beyond
    it are evaluated too, so the grid grows towards a source outside the square, up to
    ``reach_km`` from ``center`` to either side. Returns the evaluated sites and their
    results, in the grid's order."""
    step = c.coarse_km * 1000.0
    half = round(c.search_km * 1000.0 * 0.6 / step)  # the search square, in steps
    reach = max(half, round(c.reach_km * 1000.0 / step))
    ax = step * np.arange(-reach, reach + 1, dtype=np.float64)  # (centre at 0)
    n = ax.shape[0]
    res = np.full((n * n, N_GRID), np.nan)
    done = np.zeros(n * n, np.bool_)
    ii, jj = np.divmod(np.arange(n * n), n)
    di, dj = ii - reach, jj - reach  # steps from the centre
    todo = np.flatnonzero(
        (np.abs(di) <= half) & (np.abs(dj) <= half) & ((di + half) % 2 == 0)
        & ((dj + half) % 2 == 0)
    )  # fmt: skip
    while todo.shape[0]:
        gx, gy = center[0] + ax[jj[todo]], center[1] + ax[ii[todo]]
        res[todo] = run_grid(ob, gx, gy, h, fixed, c, full=False, sigma=c.coarse_sigma_db)
        done[todo] = True
        seen = np.flatnonzero(done)
        ll = res[seen, GRID_LL]
        far = _distinct(ax[jj[seen]], ax[ii[seen]], ll, 2 * c.candidates, 2.5 * step)
        top = seen[np.union1d(np.argsort(-ll)[: c.coarse_refine], far)]
        near = [
            (i + di) * n + j + dj
            for i, j in zip(ii[top], jj[top], strict=True)
            for di in (-1, 0, 1)
            for dj in (-1, 0, 1)
            if 0 <= i + di < n and 0 <= j + dj < n
        ]
        todo = np.unique(np.array(near, np.int64))
        todo = todo[~done[todo]]
    seen = np.flatnonzero(done)
    return center[0] + ax[jj[seen]], center[1] + ax[ii[seen]], res[seen]


def fit_source(
    ob: Observations, center: tuple[float, float], config: LocalizeConfig | None = None,
    fixed: tuple[Fit, ...] = (),
) -> Fit:  # fmt: skip
    """The best source (with ``fixed`` sources beside it) by a tempered coarse-to-fine grid
    search: the coarse grid with the noise widened to ``coarse_sigma_db`` (a smooth surface
    whose maxima lie near the sharp one's; evaluated where it matters, :func:`_coarse_grid`),
    finer grids around the best candidates with ``mid_sigma_db``, then the heights and the
    finest grid with ``sigma_db``."""
    c = config or LocalizeConfig()
    heights = np.asarray(c.heights_m, np.float64)
    coarse = _thin(ob, c.coarse_observations)
    step = c.coarse_km * 1000.0
    h_coarse = np.array([float(np.median(heights))])
    gx, gy, out = _coarse_grid(coarse, center, h_coarse, fixed, c)
    fine = step / 4.0
    mids: list[tuple[float, float, float]] = []
    # every site searched (columns SITE_*): the coarse grid's with their threshold and band
    # from the thinned observations, the finer grids' from all
    sites: list[F64] = [_site_rows(gx, gy, out)]
    for j in _distinct(gx, gy, out[:, GRID_LL], c.candidates, 2.5 * step):
        fx, fy = _square(float(gx[j]), float(gy[j]), step, fine)
        o1 = run_grid(ob, fx, fy, h_coarse, fixed, c, full=False, sigma=c.mid_sigma_db)
        sites.append(_site_rows(fx, fy, o1))
        for k in _distinct(fx, fy, o1[:, GRID_LL], 2, 2.0 * fine):
            mids.append((float(o1[k, GRID_LL]), float(fx[k]), float(fy[k])))
    # the candidates ranked over every height (a low transmitter's radio horizon cuts
    # through the traffic: at the median height the true site may rank low)
    mx = np.array([mid_x for _, mid_x, _ in mids])
    my = np.array([mid_y for _, _, mid_y in mids])
    ranked = run_grid(ob, mx, my, heights, fixed, c, full=False)[:, GRID_LL]
    best: tuple[float, F64, F64, tuple[F64, F64, F64]] | None = None
    for j in np.argsort(-ranked)[: c.finals]:
        bx, by = float(mx[j]), float(my[j])
        oh = run_grid(ob, np.array([bx]), np.array([by]), heights, fixed, c, full=True)
        f2x, f2y = _square(bx, by, fine, fine / 4.0)
        o2 = run_grid(ob, f2x, f2y, oh[:1, GRID_H], fixed, c, full=False)
        sites.append(_site_rows(f2x, f2y, o2))
        k = int(np.argmax(o2[:, GRID_LL]))
        o3 = run_grid(ob, f2x[k : k + 1], f2y[k : k + 1], oh[:1, GRID_H], fixed, c, full=True)
        if best is None or o3[0, GRID_LL] > best[0]:
            best = (
                float(o3[0, GRID_LL]),
                np.array([f2x[k], f2y[k]]),
                o3[0],
                (f2x, f2y, o2[:, GRID_LL]),
            )
    assert best is not None
    ll, (x, y), top, (fine_x, fine_y, fine_ll) = best
    near = fine_ll >= fine_ll.max() - c.delta_ll
    radius = float(np.hypot(fine_x[near] - x, fine_y[near] - y).max()) + fine / 8.0
    if c.bootstrap > 0:
        radius = max(radius, bootstrap_radius(ob, np.vstack(sites), fixed, (x, y), c))
    return Fit(
        float(x), float(y), float(top[GRID_H]), float(top[GRID_C]), float(top[GRID_B]), ll,
        radius,
    )  # fmt: skip


def bootstrap_radius(
    ob: Observations, sites: F64, fixed: tuple[Fit, ...], at: tuple[float, float],
    c: LocalizeConfig,
) -> float:  # fmt: skip
    """95 % radius from a bootstrap over aircraft: ``bootstrap`` times, draw the aircraft
    with replacement (all observations of an aircraft go together, so its many level
    boundaries count as one witness), take the best of the candidate ``sites`` (columns
    ``SITE_*``: x, y, height, c, B, each with the nuisance parameters profiled on all the
    data, or on the thinned data for the coarse grid) for the drawn aircraft, and return
    the 95th percentile of its distance from ``at``."""
    _, starts = np.unique(ob.code, return_index=True)  # observations sorted by aircraft
    starts = np.append(starts, ob.code.shape[0]).astype(np.int64)
    n_ac = starts.shape[0] - 1
    fx, fy, fh, fc = (np.array([getattr(f, k) for f in fixed], np.float64) for k in "xyhc")
    fpow = fixed_power(ob.x, ob.y, ob.alt_m, fx, fy, fh, fc)
    per = np.empty((sites.shape[0], n_ac))
    aircraft_loglik(
        ob.x, ob.y, ob.alt_m, ob.arrays(), sites[:, SITE_X], sites[:, SITE_Y],
        sites[:, SITE_H], sites[:, SITE_C], sites[:, SITE_B], fpow, starts, model(ob, c), per,
    )  # fmt: skip
    prior = -0.5 * ((sites[:, SITE_B] - c.band_db) / c.band_sd_db) ** 2
    rng = np.random.default_rng(c.bootstrap_seed)
    draws = rng.multinomial(n_ac, np.full(n_ac, 1.0 / n_ac), size=c.bootstrap)
    pick = np.argmax(draws @ per.T + prior, axis=1)
    d = np.hypot(sites[pick, SITE_X] - at[0], sites[pick, SITE_Y] - at[1])
    return float(np.percentile(d, 95.0))


def fixed_loglik(ob: Observations, fixed: tuple[Fit, ...], c: LocalizeConfig) -> float:
    """Log-likelihood of ``ob`` under the sources ``fixed`` alone, each with its own
    threshold (power), the band their mean (no source at all: every report nominal)."""
    u = np.full(ob.x.shape[0], FAR if fixed else NONE)
    b = float(np.mean([f.b for f in fixed])) if fixed else c.band_db
    if fixed:
        xs, ys, hs, cs = (np.array([getattr(f, k) for f in fixed]) for k in "xyhc")
        losses(ob.x, ob.y, ob.alt_m, xs, ys, hs, cs, u)
    return float(loglik_at(u, ob.arrays(), 0.0, b, model(ob, c)))


def joint_profile(
    ob: Observations, fixed: tuple[Fit, ...], free: tuple[Fit, ...], c: LocalizeConfig
) -> tuple[tuple[Fit, ...], float]:  # fmt: skip
    """``free`` (at their sites) with their thresholds and one band profiled together beside
    ``fixed`` (held: sites and thresholds), and the log-likelihood of ``ob`` under all of
    them. Fitting one source beside another held fixed profiles its own threshold only, and
    two transmitters that share the losses trade power slowly that way; here the
    thresholds move together (Nelder-Mead, from the sources' own)."""
    allf = (*fixed, *free)
    xs, ys, hs = (np.array([getattr(f, k) for f in allf], np.float64) for k in "xyh")
    cs = np.array([f.c for f in allf], np.float64)
    arrays, m = ob.arrays(), model(ob, c)
    u = np.empty(ob.x.shape[0])
    n = len(fixed)

    def cost(p: F64) -> float:
        cs[n:] = p[:-1]
        losses(ob.x, ob.y, ob.alt_m, xs, ys, hs, cs, u)
        return -float(loglik_at(u, arrays, 0.0, float(p[-1]), m))

    p0 = np.array([*(f.c for f in free), float(np.mean([f.b for f in free]))])
    best = minimize(cost, p0, method="Nelder-Mead", options={"xatol": 0.05, "fatol": 0.05})
    out = tuple(
        dataclasses.replace(f, c=float(best.x[i]), b=float(best.x[-1]))
        for i, f in enumerate(free)
    )  # fmt: skip
    return out, -float(best.fun)


def active(
    ob: Observations, sources: list[Fit], c: LocalizeConfig
) -> tuple[float, tuple[Fit, ...]]:  # fmt: skip
    """The subset of ``sources`` (at most ``max_sources``) that explains ``ob`` best (the
    transmitters on during this piece of the event) and its log-likelihood."""
    best: tuple[float, tuple[Fit, ...]] = (fixed_loglik(ob, (), c), ())
    for n in range(1, min(len(sources), c.max_sources) + 1):
        for subset in itertools.combinations(sources, n):
            v = fixed_loglik(ob, subset, c)
            if v > best[0]:
                best = (v, subset)
    return best


def windows(ob: Observations, c: LocalizeConfig) -> list[Observations]:
    """``ob`` cut into time windows of about ``activity_s`` (a transmitter may switch on or
    off inside a piece unseen, when too few aircraft saw it switch)."""
    if ob.time.shape[0] == 0:
        return [ob]
    t0, t1 = int(ob.time.min()), int(ob.time.max())
    n = max(1, round((t1 - t0) / (c.activity_s * NS)))
    if n == 1:
        return [ob]
    k = np.minimum((ob.time - t0) * n // max(t1 - t0, 1), n - 1)
    return [ob.take(np.flatnonzero(k == j)) for j in range(n) if np.any(k == j)]


def event_loglik(
    pieces: list[list[Observations]], sources: list[Fit], c: LocalizeConfig
) -> float:  # fmt: skip
    """Log-likelihood of a whole event under ``sources``: each piece cut in windows
    (:func:`windows`), each window with its best subset of sources (:func:`active`)."""
    return sum(active(w, sources, c)[0] for ws in pieces for w in ws)


def inside(ob: Observations, f: Fit) -> int:
    """Number of affected aircraft that source ``f`` puts inside its degraded zone."""
    u = np.empty(ob.x.shape[0])
    one = (np.array([f.x]), np.array([f.y]), np.array([f.h]), np.zeros(1))
    losses(ob.x, ob.y, ob.alt_m, *one, u)
    return int(np.unique(ob.code[ob.affected & (u < f.c + f.b)]).shape[0])


def aircraft_gains(
    ob: Observations, before: tuple[Fit, ...], after: tuple[Fit, ...], c: LocalizeConfig
) -> F64:  # fmt: skip
    """Per aircraft, how much the sources ``after`` raise its log-likelihood over ``before``."""
    _, starts = np.unique(ob.code, return_index=True)  # observations sorted by aircraft
    ends = np.append(starts[1:], ob.code.shape[0])
    out = np.empty(starts.shape[0])
    for k, (a, b) in enumerate(zip(starts, ends, strict=True)):
        one = ob.take(np.arange(a, b))
        out[k] = fixed_loglik(one, after, c) - fixed_loglik(one, before, c)
    return out


class FitMemo:
    """The sources already fitted, by the content of what they were fitted to.

    A live stream looks at its open segment again and again (:meth:`jamwatch.detect.stream.
    DetectStream.open_events`): the finished pieces of a growing event give the same
    observations at every look, and their fits are taken from here instead of searched
    again. A fit is the same function of its inputs either way, so what is found does not
    change. :meth:`keep_used` forgets the fits the latest look did not ask for.
    """

    def __init__(self) -> None:
        self.fits: dict[bytes, Fit] = {}
        self.used: dict[bytes, Fit] = {}
        #: how many fits were taken from here, and how many were searched
        self.hits = 0
        self.searched = 0

    def fit_source(
        self, ob: Observations, center: tuple[float, float], c: LocalizeConfig,
        fixed: tuple[Fit, ...] = (),
    ) -> Fit:  # fmt: skip
        """:func:`fit_source`, or its result for the same inputs."""
        key = _content_key(ob, (center, c, fixed))
        found = self.fits.get(key) or self.used.get(key)
        if found is None:
            found = fit_source(ob, center, c, fixed)
            self.searched += 1
        else:
            self.hits += 1
        self.used[key] = found
        return found

    def keep_used(self) -> None:
        """Forget the fits not asked for since the last call (memory stays one look's)."""
        self.fits, self.used = self.used, {}


def _content_key(ob: Observations, other: object) -> bytes:
    """A digest of ``ob`` and ``other`` (a ``repr``-able tuple). The aircraft codes enter by
    rank: a segment's codes shift as aircraft join it, and the fits read them only as
    groups in their order."""
    h = hashlib.blake2b(digest_size=20)
    for f in dataclasses.fields(ob):
        v = getattr(ob, f.name)
        if f.name == "code":
            v = np.unique(v, return_inverse=True)[1]
        if isinstance(v, np.ndarray):
            h.update(repr((f.name, v.dtype.str, v.shape)).encode())
            h.update(np.ascontiguousarray(v).tobytes())
        else:
            h.update(repr((f.name, v)).encode())
    h.update(repr(other).encode())
    return h.digest()


def localize(
    ob: Observations, config: LocalizeConfig | None = None, memo: FitMemo | None = None
) -> list[Fit]:  # fmt: skip
    """The source fitted to one set of observations (none when too few were affected);
    with ``memo``, taken from it when it holds a fit of the same observations. Where (nearly)
    every observation is affected, as under a strong transmitter whose zone holds all the
    traffic, no nominal report bounds its power: the fit rests on the levels alone and its
    radius is multiplied by ``all_affected_scale``."""
    c = config or LocalizeConfig()
    aff = ob.affected
    if aff.sum() < c.min_affected:
        return []
    center = (float(np.mean(ob.x[aff])), float(np.mean(ob.y[aff])))
    f = (memo.fit_source if memo is not None else fit_source)(ob, center, c)
    if (~aff).sum() < c.min_affected:
        f = dataclasses.replace(f, radius_m=f.radius_m * c.all_affected_scale)
    return [f]


__all__ = [
    "Fit",
    "FitMemo",
    "LocalizeConfig",
    "Observations",
    "active",
    "aircraft_gains",
    "bootstrap_radius",
    "event_loglik",
    "fit_source",
    "fixed_loglik",
    "inside",
    "localize",
    "model",
    "observations",
    "run_grid",
    "windows",
]
