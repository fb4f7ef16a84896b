"""An event's sources: its pieces, several transmitters, recurring sites, the physical check.

:func:`locate_sources` gives the sources of every jamming event of a table; each event's own
come from :func:`event_sources`, fitted by :mod:`jamwatch.detect.localize`.

Several transmitters: an event is cut in time where enough aircraft change level within
``switch_s`` (a transmitter switching on or off: at least ``switch_aircraft``, more where the
event's rate of changes would crowd a moment by chance, see
:func:`jamwatch.detect.observe.switch_crowd`); pieces shorter than
``min_piece_s`` are left out. The pieces are taken best located first; in each later piece
the sources already accepted that were on are held fixed, each with its own power (its own
``c``), and one more source with its own power is searched beside them
(:func:`locate_pieces`); it replaces a nearby accepted source or joins them when the whole
event, scored per ``activity_s`` window with the best subset of sources in each (a switch
seen by too few aircraft leaves no cut), is better explained, and a new one only when it
explains at least ``min_aircraft`` aircraft clearly better (:func:`aircraft_gains`). Then
each accepted source is fitted again in its piece beside the others that were on
(:func:`refit`): the first one was fitted alone; and one found where too few aircraft saw
it is fitted again in the piece where it was on with the most of them (:func:`witnessed`).

Two together: a source alone in its piece (no other accepted source on there) may stand
between two transmitters on together for the whole piece, each explaining part of the
losses, with a radius that says it is sure; where a pair explains the piece better
(:func:`two_together`), the source's radius grows to hold the pair and their radii.

Two at once (an option, off by default): a source that radio physics rules out alone
(:mod:`jamwatch.detect.physics`) is searched again as two transmitters on together in its
piece (:func:`two_at_once`).

Recurring sites: once every event is located, a source whose 95 % region holds a better
located source of another event moves to that site when it explains its own piece about as
well (:func:`pool_sites`): a transmitter seen with few aircraft in one event borrows the
site found with many in another.

"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa

from jamwatch.detect.likelihood import FAR, GRID_B, GRID_C, GRID_H, GRID_LL, losses
from jamwatch.detect.localize import (
    Fit,
    FitMemo,
    _thin,
    active,
    aircraft_gains,
    event_loglik,
    fit_source,
    fixed_loglik,
    inside,
    joint_profile,
    localize,
    run_grid,
    windows,
)
from jamwatch.detect.observe import (
    GRADED,
    LocalizeConfig,
    Observations,
    avionics,
    observations,
)  # fmt: skip
from jamwatch.detect.physics import Verdict, check_source, unexplained
from jamwatch.detect.tracks import NS, Tracks, prepare
from jamwatch.geo import distance_m, from_stereo, stereo_xy
from jamwatch.reports import ReportBatch
from jamwatch.schema import TIME_TYPE

#: :func:`jamwatch.detect.localize.fit_source`, or a memo's
FitFunction = Callable[[Observations, tuple[float, float], LocalizeConfig, tuple[Fit, ...]], Fit]

SOURCES = pa.schema(
    [
        pa.field("event", pa.int64()),
        pa.field("latitude", pa.float64()),
        pa.field("longitude", pa.float64()),
        pa.field("radius_95_km", pa.float64()),
        pa.field("height_m", pa.float64()),
        pa.field("observations", pa.int64()),
        pa.field("physical", pa.bool_()),
        pa.field("reason", pa.string()),
        pa.field("start", TIME_TYPE),
        pa.field("end", TIME_TYPE),
    ]
)


def locate_pieces(
    pieces: list[Observations], c: LocalizeConfig, memo: FitMemo | None = None
) -> list[tuple[Fit, int]]:  # fmt: skip
    """Sources of the pieces of one event (each with the index of the piece it came from;
    with ``memo``, the fits it holds of the same observations are taken from it).

    A source is fitted alone in every piece; the pieces are taken best located first
    (smallest 95 % radius: a short piece where two transmitters mix explains its few
    reports well with one source between them, but its radius says it is unsure). The
    first piece's source is accepted. In each later
    piece the accepted sources that were on (:func:`active`) are kept fixed, each with its
    own power, and one more source with its own power is searched beside them. Each of the
    two candidates (the piece's own single source and the joint one) is a candidate when it
    raises the piece's log-likelihood by ``new_source_ll`` over the accepted sources alone
    and puts at least ``min_aircraft`` affected aircraft in its degraded zone. A candidate
    within ``merge_km`` or the 95 % radii of an accepted source may replace it, one farther
    away may join them (a candidate near one accepted source by its own radius only, the
    source's outside that, may do either: an unsure fit of a second transmitter beside the
    first); of these choices the one that explains the whole event best
    (:func:`event_loglik`, every window under its best subset of sources) is taken when it
    is better than the accepted sources, by ``new_source_ll`` for a new source.
    """
    single = [localize(ob, c, memo) for ob in pieces]
    fit = memo.fit_source if memo is not None else fit_source
    order = sorted(
        (fs[0].radius_m, -fs[0].ll / max(float(ob.weight.sum()), 1e-9), i)
        for i, (fs, ob) in enumerate(zip(single, pieces, strict=True)) if fs
    )  # fmt: skip
    cut = [windows(ob, c) for ob in pieces]
    kept: list[tuple[Fit, int]] = []
    for *_, i in order:
        ob = pieces[i]
        if not kept:
            kept.append((single[i][0], i))
            continue
        base, on = active(ob, [f for f, _ in kept], c)
        candidates = [single[i][0]]
        if on:  # the new source beside the accepted ones that were on
            aff = ob.affected
            center = (float(np.mean(ob.x[aff])), float(np.mean(ob.y[aff])))
            candidates.append(fit(ob, center, c, on))
        now = [f for f, _ in kept]
        total = event_loglik(cut, now, c)
        best: tuple[float, int, Fit] | None = None  # gain, replaced source (-1: added), fit
        for new in candidates:
            if new.ll - base < c.new_source_ll or inside(ob, new) < c.min_aircraft:
                continue
            near = [k for k, f in enumerate(now) if not told_apart(new, f, c)]
            options = []  # (gain, the source replaced or -1 for one added)
            if near:  # the same transmitter: the estimate that explains the event better
                k = near[0]
                swapped = [new if j == k else f for j, f in enumerate(now)]
                options.append((event_loglik(cut, swapped, c) - total, k))
            # near one accepted source by its own radius only: maybe a second transmitter
            beside = len(near) == 1 and told_apart(replace(new, radius_m=0.0), now[near[0]], c)
            if not near or beside:
                after = active(ob, [*now, new], c)[1]
                gains = aircraft_gains(ob, on, after, c)
                # (too few aircraft explained better: their odd reports, not a transmitter)
                if (gains >= c.aircraft_gain_ll).sum() >= c.min_aircraft:
                    added = event_loglik(cut, [*now, new], c) - total - c.new_source_ll
                    options.append((added, -1))
            for gain, k in options:
                if gain > 0.0 and (best is None or gain > best[0]):
                    best = (gain, k, new)
        if best is not None:
            _, k, new = best
            if k >= 0:
                kept[k] = (new, i)
            else:
                kept.append((new, i))
    return witnessed(refit(kept, pieces, cut, c, fit), pieces, cut, c, fit)


def with_spread(ob: Observations, c: LocalizeConfig, memo: FitMemo) -> Observations:
    """``ob`` read with receivers that tolerate more or less than others (each aircraft's
    threshold one of ``spread_db`` from the shared one, with the shares ``spread_share``)
    when that explains it better at the site fitted with one threshold shared by every
    receiver: its profile log-likelihood there (threshold and band profiled, at the fit's
    height) above the fit's own by more than ``spread_gate_ll``; else ``ob`` as it is.

    Real receivers differ by several dB in the J/S they tolerate, and under one shared
    threshold those that differ pull the fit towards or away from themselves; but reading
    every piece with a spread costs the fit its precision where receivers do share one
    threshold (the bootstrap's draws of aircraft then wander further), so the piece's own
    data choose (two fixed models, the better likelihood)."""
    if len(c.spread_db) < 2:
        return ob
    fs = localize(ob, c, memo)
    if not fs:
        return ob
    f = fs[0]
    tol = np.array([c.spread_db, np.log(np.asarray(c.spread_share))], np.float64)
    spread = replace(ob, tolerance=tol)
    at = run_grid(spread, np.array([f.x]), np.array([f.y]), np.array([f.h]), (), c, full=True)
    return spread if float(at[0, GRID_LL]) - f.ll > c.spread_gate_ll else ob


def told_apart(a: Fit, b: Fit, c: LocalizeConfig) -> bool:
    """Whether two fits are two transmitters: farther apart than ``merge_km`` and either's
    95 % radius (nearer, they are two estimates of one)."""
    return math.hypot(a.x - b.x, a.y - b.y) > max(a.radius_m, b.radius_m, c.merge_km * 1000.0)


def refit(
    kept: list[tuple[Fit, int]], pieces: list[Observations], cut: list[list[Observations]],
    c: LocalizeConfig, fit: FitFunction = fit_source,
) -> list[tuple[Fit, int]]:  # fmt: skip
    """Each accepted source fitted again in its own piece beside the other accepted sources
    that were on there (held fixed), and kept when the whole event (``cut``: each piece in
    its windows) is better explained. The first source is fitted alone: where two
    transmitters were on together in its piece, it lands between them with a small radius
    (each explains part of the losses); once the other has been found in a piece of its
    own, the first moves to its own transmitter."""
    for k in range(len(kept)):
        f, i = kept[k]
        now = [g for g, _ in kept]
        _, on = active(pieces[i], now[:k] + now[k + 1 :], c)
        if not on:
            continue
        again = fit(pieces[i], (f.x, f.y), c, on)
        if event_loglik(cut, [*now[:k], again, *now[k + 1 :]], c) > event_loglik(cut, now, c):
            kept[k] = (again, i)
    return kept


def witnessed(
    kept: list[tuple[Fit, int]], pieces: list[Observations], cut: list[list[Observations]],
    c: LocalizeConfig, fit: FitFunction = fit_source,
) -> list[tuple[Fit, int]]:  # fmt: skip
    """Each accepted source whose own piece saw fewer than ``min_witnesses`` aircraft
    affected (too few to bind a site: :func:`few_witnesses`) fitted again in the piece where
    it was on (:func:`active`) with the most affected aircraft in its degraded zone, beside
    the other sources on there (held fixed), and kept with that piece when the whole event
    is better explained. A second transmitter on beside the first for most of an event, and
    alone only in its last minutes, is found in those minutes, where few aircraft saw it:
    the piece they shared holds its witnesses."""
    seen = [_affected_aircraft(ob) for ob in pieces]
    for k in range(len(kept)):
        f, i = kept[k]
        if seen[i] >= c.min_witnesses:
            continue
        now = [g for g, _ in kept]
        best: tuple[int, int, tuple[Fit, ...]] | None = None  # witnesses, piece, others on
        for j, ob in enumerate(pieces):
            if j == i or seen[j] < c.min_witnesses:
                continue
            on = active(ob, now, c)[1]
            if f not in on:
                continue
            n = inside(ob, f)
            if n >= c.min_witnesses and (best is None or n > best[0]):
                best = (n, j, tuple(g for g in on if g is not f))
        if best is None:
            continue
        _, j, others = best
        again = fit(pieces[j], (f.x, f.y), c, others)
        if event_loglik(cut, [*now[:k], again, *now[k + 1 :]], c) > event_loglik(cut, now, c):
            kept[k] = (again, j)
    return kept


def _affected_aircraft(ob: Observations, own: np.ndarray | None = None) -> int:
    """How many aircraft ``ob`` saw affected (of the aircraft ``own`` only, when given:
    :func:`_witnesses`)."""
    return int(np.unique(ob.code[_witnesses(ob, own)]).shape[0])


def two_together(ob: Observations, f: Fit, c: LocalizeConfig, fit: FitFunction) -> Fit | None:
    """Two transmitters on together that explain the piece ``ob`` better than its single
    source ``f``, or None: a source alone in its piece where two transmitters were on lands
    between them with a radius that says it is sure (each explains part of the losses).

    Pairs placed about ``f`` (``together_km`` to either side, in 8 directions) are scored
    with their thresholds and band profiled together (:func:`joint_profile`); the best,
    when it gains ``together_gate`` over ``f``, is refined by fitting each beside the other
    in turn (up to ``together_rounds`` times), all on at most ``coarse_observations``
    observations. The pair counts when it raises the piece's log-likelihood by
    ``new_source_ll``, each puts at least ``min_aircraft`` affected aircraft in its degraded
    zone, and they are :func:`told_apart` (as :func:`locate_pieces` tells a new source from
    an accepted one). Returned: ``f`` with its radius grown to hold both and their own
    radii (where the transmitters may be). A source whose radius is already
    ``together_below_km`` or more is not searched: it already says it may lie anywhere the
    pairs start."""
    if f.radius_m >= c.together_below_km * 1000.0:
        return None
    few = _thin(ob, c.coarse_observations)
    single = fixed_loglik(few, (f,), c)
    starts = []
    for angle in np.arange(8) * np.pi / 8.0:
        dx, dy = math.cos(angle), math.sin(angle)
        for d in c.together_km:
            pair = (replace(f, x=f.x + d * 1e3 * dx, y=f.y + d * 1e3 * dy),
                    replace(f, x=f.x - d * 1e3 * dx, y=f.y - d * 1e3 * dy))  # fmt: skip
            starts.append(joint_profile(few, (), pair, c))
    (a, b), ll = max(starts, key=lambda s: s[1])
    if ll < single + c.together_gate:
        return None
    for _ in range(c.together_rounds):
        before = ll
        a = fit(few, (a.x, a.y), c, (b,))
        (a, b), ll = joint_profile(few, (), (a, b), c)
        b = fit(few, (b.x, b.y), c, (a,))
        (a, b), ll = joint_profile(few, (), (a, b), c)
        if ll - before < 0.5:
            break
    (a, b), ll = joint_profile(ob, (), (a, b), c)
    if ll - fixed_loglik(ob, (f,), c) < c.new_source_ll:
        return None
    if min(inside(ob, a), inside(ob, b)) < c.min_aircraft:
        return None
    if not told_apart(a, b, c):
        return None
    reach = max(math.hypot(g.x - f.x, g.y - f.y) + g.radius_m for g in (a, b))
    return replace(f, radius_m=max(f.radius_m, reach))


@dataclass(frozen=True, slots=True)
class Located:
    """A source of one event: its fit (in the event's plane), the piece it came from, the
    event's other sources, and its position."""

    event: int
    fit: Fit
    piece: Observations
    others: tuple[Fit, ...]
    latitude: float
    longitude: float


def event_sources(
    tracks: Tracks, start_ns: int, end_ns: int, lat0: float, lon0: float, c: LocalizeConfig,
    event: int = 0, memo: FitMemo | None = None, own: np.ndarray | None = None,
) -> list[Located]:  # fmt: skip
    """The sources of one event: the event is cut where transmitters switched and across
    quiet spells (``quiet`` of :class:`Observations`; pieces shorter than ``min_piece_s``
    left out) and the sources of the pieces found by :func:`locate_pieces`. The pieces are
    placed in the stereographic plane of the event's centre (lat0, lon0) rounded by
    :func:`plane_origin`. ``own``: the event's aircraft (codes), whose reports count even
    where they never reported nominal integrity (:func:`observations`' ``jammed``)."""
    lat0, lon0 = plane_origin(lat0, lon0)
    whole = observations(tracks, start_ns, end_ns, lat0, lon0, c, own)
    cuts = sorted({start_ns, *whole.switches.tolist(), *whole.quiet.tolist(), end_ns})
    spans = [(a, b) for a, b in itertools.pairwise(cuts) if b - a >= c.min_piece_s * NS]
    if not spans:
        spans = [max(itertools.pairwise(cuts), key=lambda ab: ab[1] - ab[0])]
    memo = memo if memo is not None else FitMemo()  # (with_spread's fits are used again)
    pieces = [
        with_spread(
            whole if len(cuts) == 2 else observations(tracks, a, b, lat0, lon0, c, own), c, memo
        )
        for a, b in spans
    ]  # fmt: skip
    kept = locate_pieces(pieces, c, memo)
    fit = memo.fit_source
    for k, (f, i) in enumerate(kept):  # a source alone in its piece: two together?
        ob = pieces[i]
        if (
            c.together
            # (each of a pair must put min_aircraft affected aircraft in its zone)
            and _affected_aircraft(ob) >= 2 * c.min_aircraft
            and not active(ob, [g for j, (g, _) in enumerate(kept) if j != k], c)[1]
        ):
            kept[k] = (two_together(ob, f, c, fit) or f, i)
    kept = [(widen(f, c, pieces[i]), i) for f, i in kept]
    out = []
    for k, (f, i) in enumerate(kept):
        lat, lon = from_stereo(np.array([f.x]), np.array([f.y]), lat0, lon0)
        others = tuple(g for j, (g, _) in enumerate(kept) if j != k)
        out.append(Located(event, f, pieces[i], others, float(lat[0]), float(lon[0])))
    return out


#: an event's plane is centred on its centre rounded to this many degrees: a live event's
#: centre drifts as it grows, and a plane that stays put lets its finished pieces give the
#: same observations at every look (:class:`jamwatch.detect.localize.FitMemo`). The centre
#: moves by at most 18 km; the plane's scale stays right to 0.05 % within 250 km of it
PLANE_GRID_DEG = 0.25


def plane_origin(lat: float, lon: float) -> tuple[float, float]:
    """The origin of the plane of an event centred at (lat, lon): see :data:`PLANE_GRID_DEG`."""
    return (
        round(lat / PLANE_GRID_DEG) * PLANE_GRID_DEG,
        round(lon / PLANE_GRID_DEG) * PLANE_GRID_DEG,
    )


def widen(f: Fit, c: LocalizeConfig, ob: Observations) -> Fit:
    """``f`` with its 95 % radius widened for the model's error: by ``radius_scale``; by
    ``band_error`` more per dB its band ``B`` lies from the prior's mean ``band_db`` (data
    that pull the band away from its prior come from avionics unlike the model's); and, when
    fewer than ``graded_low`` of the aircraft affected in its piece ``ob`` grade
    (:func:`graded_share`), by up to ``graded_error`` more as that share falls to none (the
    graded levels are what measure a range; without them the fit rests on the edges of the
    zones alone, where receivers that tolerate more or are shielded mislead it most)."""
    k = c.radius_scale * (1.0 + c.band_error * abs(f.b - c.band_db))
    short = max(0.0, c.graded_low - graded_share(ob)) / c.graded_low if c.graded_low > 0 else 0.0
    k *= 1.0 + c.graded_error * short
    return replace(f, radius_m=f.radius_m * k)


def graded_share(ob: Observations) -> float:
    """The share of the aircraft affected in ``ob`` whose avionics grade (two degraded
    levels or more above NIC 0: :func:`~jamwatch.detect.observe.avionics`; 1 when none was
    affected)."""
    affected = np.unique(ob.code[ob.affected])
    if affected.shape[0] == 0:
        return 1.0
    codes, kind = avionics(ob.code, ob.state_a, ob.state_b)
    return float(np.count_nonzero(np.isin(affected, codes[kind == GRADED])) / affected.shape[0])


def pool_sites(found: list[Located], c: LocalizeConfig) -> list[Located]:
    """Transmitters recur at their sites: a source whose 95 % region holds a better located
    source of another event is moved there when that site explains its own piece about as
    well (log-likelihood within ``delta_ll`` of its own site, ``c`` and ``B`` profiled over
    the heights, beside the event's other sources that were on); the radius becomes that
    source's (the sites tried are the events' own, at most ``pool_candidates`` nearest, of
    sources that at least ``min_witnesses`` aircraft saw: fewer leave a small radius that
    nothing supports, :func:`few_witnesses`)."""
    out = list(found)
    lat = np.array([f.latitude for f in found])
    lon = np.array([f.longitude for f in found])
    heights = np.asarray(c.heights_m, np.float64)
    seen = [_affected_aircraft(f.piece) >= c.min_witnesses for f in found]
    for i in range(len(found)):
        me = found[i]
        d = distance_m(lat, lon, np.full(lat.shape, me.latitude), np.full(lat.shape, me.longitude))
        near = [
            j for j in np.argsort(d)
            if found[j].event != me.event and found[j].fit.radius_m < me.fit.radius_m
            and d[j] <= me.fit.radius_m
            and seen[j]
        ][: c.pool_candidates]  # fmt: skip
        if not near:
            continue
        ob = me.piece
        _, on = active(ob, list(me.others), c)
        x, y = stereo_xy(lat[near], lon[near], ob.lat0, ob.lon0)
        gx = np.append(x, me.fit.x)
        gy = np.append(y, me.fit.y)
        res = run_grid(ob, gx, gy, heights, on, c, full=True)
        j = int(np.argmax(res[:-1, GRID_LL]))
        if res[j, GRID_LL] < res[-1, GRID_LL] - c.delta_ll:
            continue
        ll, cj, bj, hj = res[j, GRID_LL], res[j, GRID_C], res[j, GRID_B], res[j, GRID_H]
        fit = Fit(float(gx[j]), float(gy[j]), float(hj), float(cj), float(bj), float(ll),
                  found[near[j]].fit.radius_m)  # fmt: skip
        out[i] = replace(me, fit=fit, latitude=float(lat[near[j]]), longitude=float(lon[near[j]]))
    return out


def _rows(
    found: list[Located], verdicts: list[Verdict] | None = None
) -> list[dict[str, float | str | bool]]:
    return [
        {
            "event": f.event,
            "latitude": f.latitude,
            "longitude": f.longitude,
            "radius_95_km": round(f.fit.radius_m / 1000.0, 3),
            "height_m": f.fit.h,
            "observations": f.piece.x.shape[0],
            "physical": True if verdicts is None else verdicts[k].ok,
            "reason": "" if verdicts is None else verdicts[k].reason,
            "start": _span(f)[0],
            "end": _span(f)[1],
        }
        for k, f in enumerate(found)
    ]


def _span(f: Located) -> tuple[int, int]:
    """The time span (ns) of the piece a source was found in."""
    t = f.piece.time
    return (int(t.min()), int(t.max())) if t.shape[0] else (0, 0)


def physics_verdicts(
    tracks: Tracks, found: list[Located], events: dict[int, tuple[int, int]],
    c: LocalizeConfig, aircraft: dict[int, np.ndarray] | None = None,
) -> list[Verdict]:  # fmt: skip
    """:func:`jamwatch.detect.physics.check_source` of every source over its piece's span,
    answering for the losses nearer to it than to the event's other sources of that time
    (those whose pieces overlap it, and those on in its piece: :func:`active`; a source
    fitted in an earlier piece may stay on through this one; when those on leave it no loss
    to answer for, as an estimate off its site may, beside the overlapping ones only), and
    with ``aircraft`` (each event's aircraft codes), for the losses of its event's
    aircraft only: an aircraft outside every event (avionics that always report NIC 0) or
    in another event at the same time is not this source's to explain. A source whose piece
    saw no aircraft lose lock (a weak transmitter degrades more aircraft than it silences)
    answers for the losses of its whole event (``events``: each event's span), beside all
    the event's other sources."""
    out = []
    for f in found:
        spans = [_span(f), *([events[f.event]] if f.event in events else [])]
        own = aircraft.get(f.event) if aircraft is not None else None
        mine = [g for g in found if g.event == f.event and g is not f]
        on = active(f.piece, [g.fit for g in mine], c)[1]
        tries = []  # the piece's span, then (no loss in it) the event's
        for lo, hi in spans:
            near = _overlapping(found, f, lo, hi)
            more = tuple(g for g in mine if g.fit in on and all(g is not h for h in near))
            tries += [(lo, hi, near + more), (lo, hi, near)] if more else [(lo, hi, near)]
        for lo, hi, near in tries:
            others = tuple((g.latitude, g.longitude) for g in near)
            verdict = check_source(
                tracks, f.latitude, f.longitude, lo, hi, others=others, aircraft=own
            )
            if verdict.losses > 0:
                break
        out.append(verdict)
    return out


def beside_reported(
    tracks: Tracks, found: list[Located], verdicts: list[Verdict],
    events: dict[int, tuple[int, int]], c: LocalizeConfig,
    aircraft: dict[int, np.ndarray] | None = None,
) -> list[Verdict]:  # fmt: skip
    """``verdicts`` (one per source of ``found``) where every source reported passes
    :func:`physics_verdicts` beside the other reported sources only: a source that passed
    because a withheld one answered for the losses nearer to it is checked again without
    the withheld ones (and withheld when it fails), until no reported source fails. A
    withheld source stays withheld. A source answers beside its own event's sources only,
    so only the events that lost a source are checked again."""
    out = list(verdicts)
    touched = {f.event for f, v in zip(found, out, strict=True) if not v.ok}
    while touched:
        ok = [j for j, v in enumerate(out) if v.ok and found[j].event in touched]
        again = physics_verdicts(tracks, [found[j] for j in ok], events, c, aircraft)
        failed = [(j, v) for j, v in zip(ok, again, strict=True) if not v.ok]
        for j, v in failed:
            out[j] = v
        touched = {found[j].event for j, _ in failed}
    return out


def _overlapping(found: list[Located], f: Located, lo: int, hi: int) -> tuple[Located, ...]:
    """The sources of ``f``'s event other than ``f`` whose pieces overlap [lo, hi] (ns)."""
    return tuple(
        g for g in found
        if g.event == f.event and g is not f and _span(g)[0] <= hi and _span(g)[1] >= lo
    )  # fmt: skip


def two_at_once(
    tracks: Tracks, found: list[Located], events: dict[int, tuple[int, int]],
    aircraft: dict[int, np.ndarray], c: LocalizeConfig, memo: FitMemo | None = None,
    timings: list[float] | None = None,
) -> tuple[list[Located], list[Verdict]]:  # fmt: skip
    """The sources and their :func:`physics_verdicts` (``events``: each event's span,
    ``aircraft``: its aircraft codes), where a source that radio physics rules out may be
    two transmitters on at once in its piece (only with ``two_at_once`` set: off by default,
    see :class:`jamwatch.detect.observe.LocalizeConfig`).

    A piece is searched for one more source only when a source alone fails the check: its
    losses lie beyond its radio horizon or nominal aircraft were much nearer to it. The
    second source is searched beside it (and the sources of its event on there) around the
    losses it cannot explain (:func:`jamwatch.detect.physics.unexplained`), and the first is
    fitted again beside the second. The pair replaces the source when it raises the piece's
    log-likelihood by ``new_source_ll``, the event keeps at most ``max_sources`` sources, and
    both pass the check, each answering for the losses nearer to it, with no other source of
    the event failing it anew. ``timings`` (per event) receives the time spent.
    """
    verdicts = physics_verdicts(tracks, found, events, c, aircraft)
    fit = memo.fit_source if memo is not None else fit_source
    k = 0
    while c.two_at_once and k < len(found):
        f, v = found[k], verdicts[k]
        count = sum(g.event == f.event for g in found)
        if v.ok or v.losses == 0 or count >= c.max_sources:
            k += 1
            continue
        t0 = time.perf_counter()
        pair = _second_source(tracks, found, f, aircraft.get(f.event), c, fit)
        if timings is not None and f.event < len(timings):
            timings[f.event] += time.perf_counter() - t0
        if pair is None:
            k += 1
            continue
        trial = [*found[:k], *pair, *found[k + 1 :]]
        trial = _with_others(trial, f.event)
        mine = [j for j, g in enumerate(trial) if g.event == f.event]
        again = physics_verdicts(tracks, [trial[j] for j in mine], events, c, aircraft)
        # the pair must pass; the event's other sources must not fail where they passed
        before = [verdicts[j].ok or j == k for j in range(len(found)) if found[j].event == f.event]
        before.insert(mine.index(k), True)
        if any(was and not now.ok for was, now in zip(before, again, strict=True)):
            k += 1
            continue
        found = trial
        verdicts = [*verdicts[:k], v, *verdicts[k:]]
        for j, w in zip(mine, again, strict=True):
            verdicts[j] = w
        k += 2
    return found, verdicts


def _second_source(
    tracks: Tracks, found: list[Located], f: Located, own: np.ndarray | None,
    c: LocalizeConfig, fit: FitFunction,
) -> tuple[Located, Located] | None:  # fmt: skip
    """``f`` fitted again beside a second source searched around the losses it cannot
    explain in its piece (see :func:`two_at_once`), or None when the piece does not gain
    ``new_source_ll`` by it."""
    ob = f.piece
    lo, hi = _span(f)
    near = _overlapping(found, f, lo, hi)
    others = tuple((g.latitude, g.longitude) for g in near)
    la, lon = unexplained(tracks, f.latitude, f.longitude, lo, hi, others=others, aircraft=own)
    if la.shape[0] == 0:
        return None
    ux, uy = stereo_xy(la, lon, ob.lat0, ob.lon0)
    _, on = active(ob, [g.fit for g in near], c)
    second = widen(fit(ob, (float(np.mean(ux)), float(np.mean(uy))), c, (*on, f.fit)), c, ob)
    first = widen(fit(ob, (f.fit.x, f.fit.y), c, (*on, second)), c, ob)
    gain = fixed_loglik(ob, (*on, first, second), c) - fixed_loglik(ob, (*on, f.fit), c)
    if gain < c.new_source_ll:
        return None
    out = []
    for g in (first, second):
        glat, glon = from_stereo(np.array([g.x]), np.array([g.y]), ob.lat0, ob.lon0)
        out.append(replace(f, fit=g, latitude=float(glat[0]), longitude=float(glon[0])))
    return out[0], out[1]


def _with_others(found: list[Located], event: int) -> list[Located]:
    """``found`` with the ``others`` of ``event``'s sources made its other sources again."""
    return [
        replace(f, others=tuple(g.fit for g in found if g.event == event and g is not f))
        if f.event == event else f
        for f in found
    ]  # fmt: skip


def _witnesses(ob: Observations, own: np.ndarray | None) -> np.ndarray:
    """The observations of ``ob`` that say an aircraft was affected, of the aircraft
    ``own`` (codes) only when given (a source answers for its own event's aircraft)."""
    return ob.affected if own is None else ob.affected & np.isin(ob.code, own)


def few_witnesses(
    f: Located, verdict: Verdict, c: LocalizeConfig, own: np.ndarray | None = None
) -> Verdict:  # fmt: skip
    """``verdict``, or a rejection when fewer than ``min_witnesses`` aircraft were affected in
    the piece the source was fitted to: the bootstrap over aircraft cannot measure the
    spread of so few witnesses (three give ten distinct draws), so its radius would be a
    small circle that nothing supports."""
    n = _affected_aircraft(f.piece, own)
    if n >= c.min_witnesses or not verdict.ok:
        return verdict
    why = f"only {n} aircraft affected where it was fitted (at least {c.min_witnesses} bound it)"
    return replace(verdict, ok=False, reason=why)


def one_range(
    f: Located, verdict: Verdict, c: LocalizeConfig, own: np.ndarray | None = None
) -> Verdict:  # fmt: skip
    """``verdict``, or a rejection when the fit puts the aircraft affected in its piece at
    about one range from it: the nearer half of their observations inside its radio horizon
    lies within ``one_range_db`` of free-space loss (from the 10th percentile to the median).
    Such a fit reads the affected aircraft as the near edge of a zone far away (its
    likelihood then needs no difference of range between them), so it says a direction and
    a least distance, not a site, and its bootstrap sees no spread: its radius would be a
    small wrong circle. The reason gives the bearing and the distance from the affected
    aircraft."""
    if not verdict.ok:
        return verdict
    ob = f.piece
    mine = _witnesses(ob, own)
    x, y, alt = ob.x[mine], ob.y[mine], ob.alt_m[mine]
    u = np.empty(x.shape[0])
    one = np.array([0.0])
    losses(x, y, alt, np.array([f.fit.x]), np.array([f.fit.y]), np.array([f.fit.h]), one, u)
    seen = u < FAR
    if not np.any(seen):
        return verdict
    p10, p50 = np.percentile(u[seen], [10.0, 50.0])
    if p50 - p10 >= c.one_range_db:
        return verdict
    cx, cy = float(np.mean(x[seen])), float(np.mean(y[seen]))
    bearing = math.degrees(math.atan2(f.fit.x - cx, f.fit.y - cy)) % 360.0
    near = float(np.min(np.hypot(x[seen] - f.fit.x, y[seen] - f.fit.y))) / 1000.0
    why = (
        f"the affected aircraft at about one range from it (the nearer half within "
        f"{p50 - p10:.1f} dB): a direction, not a site (bearing {bearing:.0f} deg, at least "
        f"{near:.0f} km from them)"
    )
    return replace(verdict, ok=False, reason=why)


def locate_event(
    tracks: Tracks, start_ns: int, end_ns: int, lat0: float, lon0: float,
    config: LocalizeConfig | None = None, aircraft: list[str] | None = None,
) -> list[dict[str, float | str | bool]]:  # fmt: skip
    """Sources (latitude, longitude, radius_95_km, height_m, observations) of one event, on
    its own (:func:`event_sources`; ``aircraft``: the event's, as events list them, whose
    reports count even where they never reported nominal integrity)."""
    c = config or LocalizeConfig()
    own = tracks.codes_of(aircraft) if aircraft is not None else None
    rows = _rows(event_sources(tracks, start_ns, end_ns, lat0, lon0, c, own=own))
    for r in rows:
        del r["event"], r["physical"], r["reason"], r["start"], r["end"]
    return rows


class LikelihoodLocalizer:
    """The maximum-likelihood localizer (``name = "likelihood"``)."""

    name = "likelihood"

    def __init__(self, config: LocalizeConfig | None = None) -> None:
        self.config = config or LocalizeConfig()
        #: the fits of the latest call, for the next (a stream's looks at its open segment)
        self.memo = FitMemo()

    def locate(self, tracks: Tracks, events: pa.Table) -> pa.Table:
        """Sources (:data:`SOURCES`) of every event of ``events`` from the reports' ``tracks``,
        those that fail the physical check included (``physical`` false, with the reason);
        the fits of the previous call are reused where their observations are the same."""
        out = locate_sources(tracks, events, self.config, keep_rejected=True, memo=self.memo)
        self.memo.keep_used()
        return out


def locate_sources(
    reports: pa.Table | ReportBatch | Tracks, events: pa.Table,
    config: LocalizeConfig | None = None, keep_rejected: bool = False,
    timings: list[float] | None = None, memo: FitMemo | None = None,
) -> pa.Table:  # fmt: skip
    """The sources of every jamming event (:data:`SOURCES`; none when unobservable) from the
    decoded ``reports`` (a table, its :class:`ReportBatch` with motion, or their tracks): each
    event's own (:func:`event_sources`), then pooled over recurring sites
    (:func:`pool_sites`), then checked against radio physics (:mod:`jamwatch.detect.physics`;
    beside the other reported sources only: :func:`beside_reported`): a source that fails, or
    that too few aircraft witnessed (:func:`few_witnesses`), or that gives a direction
    (:func:`one_range`), is left out, or kept with ``physical`` false and the ``reason`` when
    ``keep_rejected``.
    ``timings``, if given, receives each event's own fitting time (s); ``memo``, if given,
    gives the fits it holds of the same observations (:class:`FitMemo`).
    """
    if events.num_rows == 0:
        return SOURCES.empty_table()
    c = config or LocalizeConfig()
    tracks = prepare(reports)
    starts = events.column("start").cast(pa.int64()).to_pylist()
    ends = events.column("end").cast(pa.int64()).to_pylist()
    lats = events.column("latitude").to_pylist()
    lons = events.column("longitude").to_pylist()
    own = dict(enumerate(tracks.codes_of(n) for n in events.column("aircraft").to_pylist()))
    found: list[Located] = []
    for k in range(events.num_rows):  # per event
        t0 = time.perf_counter()
        found += event_sources(tracks, starts[k], ends[k], lats[k], lons[k], c, k, memo, own[k])
        if timings is not None:
            timings.append(time.perf_counter() - t0)
    if c.pool_candidates > 0:
        found = pool_sites(found, c)
    spans = {k: (starts[k], ends[k]) for k in range(events.num_rows)}
    found, verdicts = two_at_once(tracks, found, spans, own, c, memo, timings)
    verdicts = [
        one_range(f, few_witnesses(f, v, c, own[f.event]), c, own[f.event])
        for f, v in zip(found, verdicts, strict=True)
    ]
    verdicts = beside_reported(tracks, found, verdicts, spans, c, own)
    rows = [r for r in _rows(found, verdicts) if keep_rejected or r["physical"]]
    return pa.Table.from_pylist(rows, schema=SOURCES)


__all__ = [
    "SOURCES",
    "LikelihoodLocalizer",
    "Located",
    "beside_reported",
    "event_sources",
    "few_witnesses",
    "graded_share",
    "locate_event",
    "locate_pieces",
    "locate_sources",
    "one_range",
    "physics_verdicts",
    "pool_sites",
    "refit",
    "two_at_once",
    "widen",
    "witnessed",
]
