"""Localizer pieces on synthetic observations drawn from the localizer's own model.

No simulator and no fixture: straight tracks through the field of one or two sources, the
NIC levels read off ``q = (v - c) / B`` exactly as :mod:`jamwatch.detect.localize` states
the model (summed power for two sources, each with its own ``c``), plus a level boundary
observation wherever two consecutive samples of a track differ.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from jamwatch.detect import sources
from jamwatch.detect.likelihood import (
    BIG,
    F64,
    FAR,
    GRID_LL,
    LOST,
    NONE,
    TOP,
    coarse_interval,
    interval_p,
    loglik,
    profile,
)
from jamwatch.detect.localize import (
    Fit,
    FitMemo,
    _coarse_grid,
    _distinct,
    _square,
    _thin,
    aircraft_gains,
    bootstrap_radius,
    fit_source,
    fixed_loglik,
    inside,
    localize,
    model,
    run_grid,
    windows,
)
from jamwatch.detect.observe import (
    LocalizeConfig,
    Observations,
    fleet_weights,
    level_factor,
    states_from_levels,
    switch_crowd,
)
from jamwatch.detect.observe import _switches as switches
from jamwatch.detect.sources import (
    Located,
    graded_share,
    locate_pieces,
    pool_sites,
    refit,
    two_together,
    widen,
)
from jamwatch.geo import distance_m, from_stereo, stereo_xy

NS = 1_000_000_000
H = 30.0  # source height (m)
B = 10.0  # band (dB)


def _track(rng: np.random.Generator) -> tuple[F64, F64, F64, F64]:
    """A straight track of 300 km at one altitude (3-11 km), sampled every 2 km, starting
    within 150 km of the origin: distance along it, x, y, altitude (m)."""
    x0, y0 = rng.uniform(-150e3, 150e3, 2)
    ang = rng.uniform(0, 2 * np.pi)
    s = np.arange(0, 300e3, 2000.0)
    x, y = x0 + s * np.cos(ang), y0 + s * np.sin(ang)
    return s, x, y, np.full(s.shape, rng.uniform(3000, 11000))


def _synthetic(
    sources: list[tuple[float, float, float]], seed: int, tracks: int = 12, band: float = B,
    spread: float = 0.0,
) -> Observations:  # fmt: skip
    """Tracks through the field of ``sources`` (x, y, c): NIC 8 nominal, lock lost below
    q = 0, NIC stepping down one level per ``band`` / 8 dB above it, one level observation
    every 2 km (weight 0.3) and a boundary (weight 1) midway between consecutive samples at
    different levels. With ``spread``, each aircraft's receiver tolerates ``spread`` dB
    more or less than ``c``, or just ``c`` (drawn beside the tracks' own draws)."""
    rng = np.random.default_rng(seed)
    tolerance = np.random.default_rng(seed + 1).choice([-spread, 0.0, spread], tracks)
    cols: dict[str, list[np.ndarray]] = {
        k: [] for k in ["x", "y", "alt", "lo", "hi", "top", "code", "t", "w"]
    }
    for a in range(tracks):
        s, x, y, alt = _track(rng)
        power = sum(
            10 ** (-(10 * np.log10((x - sx) ** 2 + (y - sy) ** 2 + (alt - H) ** 2) - c) / 10)
            for sx, sy, c in sources
        ) * 10 ** (tolerance[a] / 10)
        k = np.clip(np.floor(8 * (-10 * np.log10(power)) / band), -1, 8)
        lo = np.where(k <= 0, -BIG, k)
        hi = np.where(k < 0, 0.0, k + 1)
        ch = np.flatnonzero(k[1:] != k[:-1])
        edge = np.maximum(k[ch], k[ch + 1])  # the boundary between two adjacent levels
        ok = (np.abs(k[ch] - k[ch + 1]) == 1) & (edge >= 1)
        ch, edge = ch[ok], edge[ok]
        t = (s / 230.0 * NS).astype(np.int64)
        cols["x"] += [x, 0.5 * (x[ch] + x[ch + 1])]
        cols["y"] += [y, 0.5 * (y[ch] + y[ch + 1])]
        cols["alt"] += [alt, alt[ch]]
        cols["lo"] += [lo, edge]
        cols["hi"] += [hi, edge]
        cols["top"] += [(k >= 8).astype(float), np.zeros(ch.shape)]
        cols["code"] += [np.full(s.shape, a), np.full(ch.shape, a)]
        cols["t"] += [t, t[ch]]
        cols["w"] += [np.full(s.shape, 0.3), np.ones(ch.shape)]
    cat = {k: np.concatenate(v) for k, v in cols.items()}
    n = cat["x"].shape[0]
    return Observations.from_levels(
        cat["x"], cat["y"], cat["alt"], cat["lo"], cat["hi"], cat["top"], np.full(n, 8.0),
        cat["code"].astype(np.int64), cat["t"], cat["w"], 0.0, 0.0,
    )  # fmt: skip


def test_stereographic_plane_keeps_distances_at_high_latitude() -> None:
    # two points 60 km apart, 50 km north and south of a centre at 69.3 N (Andoya)
    lat = np.array([69.75, 68.85])
    lon = np.array([15.2, 16.9])
    x, y = stereo_xy(lat, lon, 69.3, 16.0)
    plane = float(np.hypot(x[0] - x[1], y[0] - y[1]))
    sphere = float(distance_m(lat[:1], lon[:1], lat[1:], lon[1:])[0])
    assert abs(plane / sphere - 1.0) < 2e-4  # 0.002 dB of loss
    back = from_stereo(x, y, 69.3, 16.0)
    assert np.allclose(back[0], lat, atol=1e-9) and np.allclose(back[1], lon, atol=1e-9)


def test_profile_finds_threshold_and_band_at_the_true_site() -> None:
    ob = _synthetic([(12_000.0, -7_000.0, 95.0)], 3)
    u = 10 * np.log10((ob.x - 12_000.0) ** 2 + (ob.y + 7_000.0) ** 2 + (ob.alt_m - H) ** 2)
    _, c, b = profile(u, ob.arrays(), model(ob, LocalizeConfig()), True)
    assert abs(c - 95.0) < 0.1 and abs(b - B) < 0.2


def _two_level(seed: int, level: int, c: float, tracks: int = 12) -> tuple[Observations, F64]:
    """Tracks through the field of one source at the origin (threshold ``c``) seen by
    two-level avionics: nominal NIC 8 for q >= 1, the one degraded NIC ``level`` for
    0 <= q < 1, no position below; the changes between them as observe.py makes them (a
    gap wider than two levels says nothing to the graded reading). Returns the observations
    and their losses at the source."""
    rng = np.random.default_rng(seed)
    rows = []
    for a in range(tracks):
        s, x, y, alt = _track(rng)
        q = (10 * np.log10(x**2 + y**2 + (alt - H) ** 2) - c) / B
        st = np.where(q >= 1.0, TOP, np.where(q >= 0.0, level, LOST))
        for i in range(s.shape[0]):
            rows.append((x[i], y[i], alt[i], st[i], st[i], a, i, 0.3))
            if i and st[i] != st[i - 1]:
                mid = (0.5 * (x[i] + x[i - 1]), 0.5 * (y[i] + y[i - 1]), alt[i])
                rows.append((*mid, st[i - 1], st[i], a, i, 1.0))
    x, y, alt, sa, sb, code, t, w = (np.array(v) for v in zip(*rows, strict=True))
    sa, sb, code = sa.astype(np.int64), sb.astype(np.int64), code.astype(np.int64)
    lo = np.where(sa == TOP, 8.0, np.where(sa == LOST, -BIG, sa.astype(float)))
    hi = np.where(sa == TOP, 9.0, np.where(sa == LOST, 0.0, sa + 1.0))
    change = sa != sb
    low, high = np.minimum(sa, sb), np.maximum(sa, sb)
    # a change between level k and no position is the gap between their intervals, q in
    # [0, k / 8], graded when at most two levels wide
    near = change & (low == LOST) & (high <= 2)
    lo = np.where(change, np.where(near, 0.0, -BIG), lo)
    hi = np.where(change, np.where(near, high.astype(float), BIG), hi)
    top = (sa == TOP) & ~change
    ob = Observations(
        x, y, alt, lo, hi, top.astype(float), np.full(x.shape, 8.0), sa, sb,
        level_factor(code, sa, sb, w), code, (t * 10 * NS).astype(np.int64), w, 0.0, 0.0,
        fleet=fleet_weights(code, sa, sb, LocalizeConfig().fleet),
    )  # fmt: skip
    return ob, 10 * np.log10(x**2 + y**2 + (alt - H) ** 2)


@pytest.mark.parametrize("level", [1, 2])
def test_profile_finds_a_two_level_fleets_threshold_and_band(level: int) -> None:
    """A fleet with one degraded level (NIC 1 or 2 over the whole band, as the real
    Helsinki aircraft and the two-level variant report): read as graded levels, they end
    the profile 2-3 dB above the threshold; it must start from the changes of level that
    are boundaries under the two-level reading (nominal to degraded at c + B, degraded to
    lost at c). The 0.5 dB limits: a quarter of the gap without the starts, above the
    error of boundaries placed midway between samples 2 km apart (under 0.1 dB)."""
    ob, u = _two_level(11, level, 95.0)
    ll, c, b = profile(u, ob.arrays(), model(ob, LocalizeConfig()), True)
    assert abs(c - 95.0) < 0.5 and abs(b - B) < 0.5, (c, b)
    # and the quick profile of the grids finds it too
    ll_quick, c_quick, _ = profile(u, ob.arrays(), model(ob, LocalizeConfig()), False)
    assert abs(c_quick - 95.0) < 0.5 and ll_quick > ll - 1.0


def test_joint_fit_finds_second_source_with_its_own_power() -> None:
    """Source 1 known (fixed, c = 93), source 2 (6 dB stronger, 70 km away) searched beside
    it on observations where both are on."""
    s1, s2 = (0.0, 0.0, 93.0), (60_000.0, 35_000.0, 99.0)
    both = _synthetic([s1, s2], 5, tracks=16)
    aff = both.affected
    first = fit_source(_synthetic([s1], 6), (0.0, 0.0))
    assert np.hypot(first.x, first.y) < 1500.0
    second = fit_source(
        both, (float(np.mean(both.x[aff])), float(np.mean(both.y[aff]))), fixed=(first,)
    )
    assert np.hypot(second.x - s2[0], second.y - s2[1]) < 2000.0
    assert abs(second.c - 99.0) < 1.0


@pytest.mark.parametrize(
    "sources",
    [[(12_000.0, -7_000.0, 95.0)], [(-60_000.0, 40_000.0, 95.0), (70_000.0, -30_000.0, 93.0)]],
)
def test_the_coarse_grid_is_evaluated_where_it_matters(sources: list) -> None:
    """The coarse grid evaluated from every second site towards the best ones gives the
    full grid's values where it evaluates, the full grid's candidates, for well under half
    of its sites; evaluated to the end (``coarse_refine`` as large as the grid), the full
    grid itself."""
    c = LocalizeConfig()
    ob = _thin(_synthetic(sources, 8, tracks=16), c.coarse_observations)
    h = np.array([30.0])
    step = c.coarse_km * 1000.0
    fx, fy = _square(0.0, 0.0, c.search_km * 1000.0 * 0.6, step)
    full = run_grid(ob, fx, fy, h, (), c, full=False, sigma=c.coarse_sigma_db)
    gx, gy, out = _coarse_grid(ob, (0.0, 0.0), h, (), c)
    assert gx.shape[0] < 0.5 * fx.shape[0]
    at = {(x, y): k for k, (x, y) in enumerate(zip(fx, fy, strict=True))}
    same = [at[(x, y)] for x, y in zip(gx, gy, strict=True)]
    assert np.array_equal(out, full[same], equal_nan=True)

    def picks(x: np.ndarray, y: np.ndarray, ll: np.ndarray) -> set[tuple[float, float]]:
        return {(x[j], y[j]) for j in _distinct(x, y, ll, c.candidates, 2.5 * step)}

    assert picks(gx, gy, out[:, GRID_LL]) == picks(fx, fy, full[:, GRID_LL])
    # (the grid kept to the search square: grown beyond it, it would be the grid to reach_km)
    every = dataclasses.replace(c, coarse_refine=fx.shape[0], reach_km=c.search_km * 0.6)
    gx, gy, out = _coarse_grid(ob, (0.0, 0.0), h, (), every)
    assert np.array_equal(gx, fx) and np.array_equal(gy, fy)
    assert np.array_equal(out, full, equal_nan=True)


def test_the_search_grows_towards_a_source_beyond_its_square() -> None:
    """A search started 240 km from the transmitter (as from the centre of affected
    aircraft all to one side of it), beyond the search square's half-width of 150 km:
    the coarse grid grows past the square's edge towards the better sites and the fit
    lands within 2 km of the truth; kept to the square, it stops at the edge."""
    s = (12_000.0, -7_000.0, 95.0)
    ob = _synthetic([s], 3)
    start = (s[0] + 200_000.0, s[1] + 130_000.0)
    c = LocalizeConfig(bootstrap=0)
    f = fit_source(ob, start, c)
    assert np.hypot(f.x - s[0], f.y - s[1]) < 2000.0
    kept = fit_source(ob, start, dataclasses.replace(c, reach_km=c.search_km * 0.6))
    assert np.hypot(kept.x - s[0], kept.y - s[1]) > 20_000.0


def test_two_sources_switching_in_turn_are_both_placed() -> None:
    """An event in three pieces (source 1 alone, both, source 2 alone): two sources are
    returned, each within 2 km of a true one, and no third."""
    s1, s2 = (0.0, 0.0, 93.0), (60_000.0, 35_000.0, 99.0)
    pieces = [_synthetic([s1], 11), _synthetic([s1, s2], 12, 16), _synthetic([s2], 13)]
    found = locate_pieces(pieces, LocalizeConfig())
    assert len(found) == 2
    for sx, sy, _ in (s1, s2):
        assert min(np.hypot(f.x - sx, f.y - sy) for f, _ in found) < 2000.0


def test_a_wide_candidate_reaching_an_accepted_source_may_join_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two transmitters 70 km apart, each on alone in a piece of its own; the second's own
    fit is where it is but unsure, its radius (80 km) reaching past the first source, so the
    two are not :func:`told_apart`. Taken as the same transmitter only, it would be scored
    as replacing the first (which explains the first piece worse) and dropped; scored also
    as joining it, it is added: two sources, each within 2 km of its transmitter. With the
    candidate's radius short of the first source (60 km), it is told apart and added
    anyway; with the two pieces' sources merged (``merge_km`` past both), it is not."""
    s1, s2 = (0.0, 0.0, 93.0), (60_000.0, 35_000.0, 99.0)
    pieces = [_synthetic([s1], 11), _synthetic([s2], 13)]
    c = LocalizeConfig()
    own = [localize(ob, c)[0] for ob in pieces]
    assert own[1].radius_m < np.hypot(s2[0], s2[1])  # told apart as fitted

    def found_with(radius_m: float, config: LocalizeConfig) -> list[Fit]:
        unsure = dataclasses.replace(own[1], radius_m=radius_m)
        wide = {id(pieces[0]): own[0], id(pieces[1]): unsure}
        monkeypatch.setattr(sources, "localize", lambda ob, c, memo=None: [wide[id(ob)]])
        return [f for f, _ in locate_pieces(pieces, config)]

    for radius_km in (80.0, 60.0):
        found = found_with(radius_km * 1000.0, c)
        assert len(found) == 2
        for (sx, sy, _), f in zip((s1, s2), found, strict=True):
            assert np.hypot(f.x - sx, f.y - sy) < 2000.0
    assert len(found_with(80_000.0, dataclasses.replace(c, merge_km=100.0))) == 1


def test_a_source_found_where_few_aircraft_saw_it_is_fitted_where_it_has_witnesses() -> None:
    """The event of the test above, but only 4 aircraft affected in the second source's
    piece of its own (fewer than ``min_witnesses``: a site they alone give is not reported).
    The source is found there, and fitted again in the piece where both were on, beside the
    first (:func:`witnessed`): it comes from that piece, where more aircraft witness it,
    within 2 km of its transmitter."""
    s1, s2 = (0.0, 0.0, 93.0), (60_000.0, 35_000.0, 99.0)
    alone = _synthetic([s2], 13)
    hit = np.unique(alone.code[alone.affected])
    few = alone.take(np.flatnonzero(np.isin(alone.code, hit[:4]) | ~np.isin(alone.code, hit)))
    pieces = [_synthetic([s1], 11), _synthetic([s1, s2], 12, 16), few]
    c = LocalizeConfig()
    assert np.unique(few.code[few.affected]).shape[0] == 4 < c.min_witnesses
    found = locate_pieces(pieces, c)
    assert [i for _, i in found] == [0, 1]
    second = found[1][0]
    assert np.hypot(second.x - s2[0], second.y - s2[1]) < 2000.0
    assert inside(pieces[1], second) >= c.min_witnesses


def test_refit_moves_a_source_fitted_between_two_transmitters_to_its_own() -> None:
    """A source fitted alone to a piece where two transmitters were on lies between them
    with a small radius; once the second is found in a piece of its own, fitting the first
    again beside it (held fixed) moves it to its own transmitter: within 2 km (the bound
    of the test above), the second kept where it was."""
    s1, s2 = (0.0, 0.0, 96.0), (50_000.0, -30_000.0, 96.0)
    pieces = [_synthetic([s1, s2], 21, 16), _synthetic([s2], 22)]
    c = LocalizeConfig()
    (both,) = localize(pieces[0], c)
    (alone,) = localize(pieces[1], c)
    for sx, sy, _ in (s1, s2):  # between them, and sure of it: the case refit is for
        assert np.hypot(both.x - sx, both.y - sy) > 20_000.0 > both.radius_m
    kept = refit([(both, 0), (alone, 1)], pieces, [windows(ob, c) for ob in pieces], c)
    assert np.hypot(kept[0][0].x - s1[0], kept[0][0].y - s1[1]) < 2000.0
    assert kept[1] == (alone, 1)


def test_a_source_between_two_transmitters_on_together_gets_a_region_that_holds_both() -> None:
    """The piece of the test above where two transmitters 58 km apart were on together: the
    source fitted alone lies between them, sure of it; two transmitters explain the piece
    better (:func:`two_together`), so its radius grows to hold both sites (as reported,
    after :func:`widen`), and stays short of the whole search (less than twice their
    distance). A piece of one transmitter keeps its source as it was, and so does a source
    whose radius already reaches ``together_below_km``. (The thresholds: ``new_source_ll``
    is locate_pieces' own; ``together_km``, ``together_gate``, ``together_rounds`` and
    ``together_below_km`` were chosen on development seeds 1 and 6 of ``jamwatch eval``,
    not on this test.)"""
    s1, s2 = (0.0, 0.0, 96.0), (50_000.0, -30_000.0, 96.0)
    c = LocalizeConfig()
    ob = _synthetic([s1, s2], 21, 16)
    (both,) = localize(ob, c)
    grown = two_together(ob, both, c, fit_source)
    assert grown is not None and (grown.x, grown.y) == (both.x, both.y)
    reported = widen(grown, c, ob).radius_m
    for sx, sy, _ in (s1, s2):
        assert np.hypot(both.x - sx, both.y - sy) > widen(both, c, ob).radius_m
        assert np.hypot(grown.x - sx, grown.y - sy) < reported < 2 * np.hypot(50e3, 30e3)
    assert both.radius_m < c.together_below_km * 1000.0
    wide = dataclasses.replace(both, radius_m=c.together_below_km * 1000.0)
    assert two_together(ob, wide, c, fit_source) is None
    one = _synthetic([s1], 22, 16)
    (alone,) = localize(one, c)
    assert two_together(one, alone, c, fit_source) is None


def test_a_piece_with_every_observation_affected_is_fitted_with_a_wider_radius() -> None:
    """Under a strong transmitter every aircraft around may be affected, and no nominal
    report bounds the power. Such a piece is fitted (it was not: its event had no source,
    and the far aircraft of the same transmitter, an event of their own, had none to join),
    at the site the search finds, with the radius multiplied by ``all_affected_scale``
    (chosen on development seeds 1, 2 and 5 of ``jamwatch eval``, not on this test)."""
    ob = _synthetic([(0.0, 0.0, 96.0)], 23, 16)
    hit = ob.take(np.flatnonzero(ob.affected))
    c = LocalizeConfig()
    assert hit.x.shape[0] >= c.min_affected and not (~hit.affected).any()
    (f,) = localize(hit, c)
    plain = fit_source(hit, (float(np.mean(hit.x)), float(np.mean(hit.y))), c)
    assert (f.x, f.y) == (plain.x, plain.y)
    assert f.radius_m == pytest.approx(plain.radius_m * c.all_affected_scale)
    assert np.hypot(f.x, f.y) < f.radius_m  # the transmitter inside


def test_a_piece_whose_receivers_differ_is_read_with_a_spread() -> None:
    """Receivers that tolerate 4 dB more or less than the shared threshold (a third each):
    the piece is read with the spread of tolerances, and fitted so the source is nearer the
    transmitter than with one threshold shared by all; the same tracks with one threshold
    are read as they are (the gate, 0, is the two models' likelihoods compared)."""
    c = LocalizeConfig(bootstrap=0)
    apart = _synthetic([(12_000.0, -7_000.0, 95.0)], 3, 16, spread=4.0)
    read = sources.with_spread(apart, c, FitMemo())
    assert read.tolerance.shape == (2, 3)
    assert read.tolerance[0].tolist() == [-4.0, 0.0, 4.0]
    (one,) = localize(apart, c)
    (each,) = localize(read, c)
    off_one = np.hypot(one.x - 12_000.0, one.y + 7_000.0)
    off_each = np.hypot(each.x - 12_000.0, each.y + 7_000.0)
    assert off_each < off_one
    shared = _synthetic([(12_000.0, -7_000.0, 95.0)], 3, 16)
    assert sources.with_spread(shared, c, FitMemo()) is shared


def test_a_memo_gives_the_fits_of_the_same_observations_without_searching_again() -> None:
    """The three pieces above fitted twice with one memo: the second time every fit comes
    from it (no search), the result is the same, and aircraft codes count by rank only (a
    segment renumbers them as aircraft join it); observations that differ are fitted."""
    s1, s2 = (0.0, 0.0, 93.0), (60_000.0, 35_000.0, 99.0)
    pieces = [_synthetic([s1], 11), _synthetic([s1, s2], 12, 16), _synthetic([s2], 13)]
    c = LocalizeConfig()
    memo = FitMemo()
    first = locate_pieces(pieces, c, memo)
    assert memo.hits == 0
    fitted = len(memo.used)
    # each piece alone, each later piece beside the accepted sources, and the third piece's
    # source again beside the first's (refit: the first had no other source on in its piece)
    assert fitted == 6
    memo.keep_used()
    renumbered = [dataclasses.replace(ob, code=ob.code * 7 + 100) for ob in pieces]
    assert locate_pieces(renumbered, c, memo) == first
    assert memo.hits == fitted
    memo.keep_used()
    moved = dataclasses.replace(pieces[2], x=pieces[2].x + 1.0)  # one piece differs
    locate_pieces([pieces[0], pieces[1], moved], c, memo)
    # the pieces are taken in the order 0, 2, 1 (best located first): the third piece's
    # fits (alone, beside the first's source, and its refit) and the second's fit beside the
    # sources of the other two are searched again; the first and second pieces' own fits
    # come from the memo
    assert [i for _, i in first] == [0, 2]
    assert memo.hits == fitted + 2
    assert len(memo.used) == fitted


def test_no_source_does_not_explain_a_boundary_to_nominal() -> None:
    """A boundary to the nominal level beyond a source's radio horizon is the horizon
    itself (explained: by graded and two-level avionics, not by one-step ones, which have no
    level 7 to leave); with no source at all there is no horizon and it is an outlier."""
    one = Observations.from_levels(
        np.array([0.0]), np.array([0.0]), np.array([100.0]), np.array([8.0]),
        np.array([8.0]), np.array([0.0]), np.array([8.0]), np.array([0], np.int64),
        np.array([0], np.int64), np.array([1.0]), 0.0, 0.0,
    )  # fmt: skip
    c = LocalizeConfig()
    far = Fit(2_000_000.0, 0.0, 30.0, 95.0, B, 0.0, 0.0)  # far beyond the horizon
    graded, two_level, _ = np.exp(one.fleet)
    assert fixed_loglik(one, (far,), c) == pytest.approx(np.log(graded + two_level), abs=0.01)
    assert fixed_loglik(one, (), c) == pytest.approx(np.log(c.outlier), abs=0.01)


def test_windows_cut_a_piece_in_time() -> None:
    ob = _synthetic([(12_000.0, -7_000.0, 95.0)], 3)
    span = (int(ob.time.max()) - int(ob.time.min())) / NS
    ws = windows(ob, LocalizeConfig(activity_s=span / 4))
    assert len(ws) == 4
    assert sum(w.x.shape[0] for w in ws) == ob.x.shape[0]
    for a, b in itertools.pairwise(ws):
        assert a.time.max() <= b.time.min()
    assert len(windows(ob, LocalizeConfig(activity_s=10 * span))) == 1


def test_aircraft_gains_tell_a_transmitter_from_odd_reports() -> None:
    """The true second source raises many aircraft's log-likelihood a lot; a weak source
    placed where it touches almost nobody raises none by 10."""
    s1, s2 = (0.0, 0.0, 93.0), (60_000.0, 35_000.0, 99.0)
    both = _synthetic([s1, s2], 12, 16)
    c = LocalizeConfig()
    first = Fit(s1[0], s1[1], H, s1[2], B, 0.0, 0.0)
    true2 = Fit(s2[0], s2[1], H, s2[2], B, 0.0, 0.0)
    weak = Fit(-120_000.0, 100_000.0, H, 70.0, B, 0.0, 0.0)
    real = aircraft_gains(both, (first,), (first, true2), c)
    odd = aircraft_gains(both, (first,), (first, weak), c)
    assert (real >= c.aircraft_gain_ll).sum() >= 5
    assert (odd >= c.aircraft_gain_ll).sum() < c.min_aircraft


@pytest.mark.parametrize("seed", [1, 2])
def test_bootstrap_radius_grows_when_aircraft_are_few(seed: int) -> None:
    """The bootstrap over aircraft: with 12 aircraft the radius covers the error and stays
    small; keeping only 3 of those aircraft the sites disagree more and the radius grows."""
    src = (12_000.0, -7_000.0, 95.0)
    ob = _synthetic([src], seed)
    fit = fit_source(ob, (0.0, 0.0))
    assert np.hypot(fit.x - src[0], fit.y - src[1]) <= fit.radius_m < 6000.0
    ax = np.arange(-20_000.0, 20_001.0, 1000.0)
    gx, gy = (g.ravel() for g in np.meshgrid(fit.x + ax, fit.y + ax))
    sites = np.column_stack([gx, gy, np.full(gx.shape, fit.h), np.full(gx.shape, fit.c),
                             np.full(gx.shape, fit.b)])  # fmt: skip
    c = LocalizeConfig()
    many = bootstrap_radius(ob, sites, (), (fit.x, fit.y), c)
    affected = np.unique(ob.code[ob.affected])[:3]
    few = bootstrap_radius(ob.take(np.isin(ob.code, affected)), sites, (), (fit.x, fit.y), c)
    assert few > many


@pytest.mark.parametrize(("band", "factor"), [(10.0, 1.6), (16.0, 4.0)])
def test_a_band_pulled_from_its_prior_widens_the_radius(band: float, factor: float) -> None:
    """Avionics whose band is 10 dB (the prior's 10 +- 2) and 16 dB wide: the fit finds the
    band, and the reported radius is the fit's times ``radius_scale`` (1.6), widened by
    ``band_error`` (0.25, chosen on development seeds 1, 2 and 5 of ``jamwatch eval``, not
    on this test) per dB the band lies from the prior: 1.6 x (1 + 0.25 x 6) = 4.0 at 16 dB."""
    c = LocalizeConfig()
    src = (12_000.0, -7_000.0, 95.0)
    ob = _synthetic([src], 3, band=band)
    fit = fit_source(ob, (0.0, 0.0), c)
    assert fit.b == pytest.approx(band, abs=0.5)
    assert graded_share(ob) >= c.graded_low  # (no widening for a fleet that does not grade)
    reported = widen(fit, c, ob).radius_m
    assert reported / fit.radius_m == pytest.approx(factor, rel=0.05)
    assert np.hypot(fit.x - src[0], fit.y - src[1]) <= reported


def test_a_fleet_that_does_not_grade_widens_the_radius() -> None:
    """One fit's radius, widened for a piece whose affected aircraft grade (the synthetic
    fleet steps down one NIC level per band / 8 dB) and for the same piece read as one-step
    avionics (every degraded level reported as NIC 0): with none of the aircraft grading,
    ``graded_error`` (1.0, applied below ``graded_low`` = 0.3 of them grading; chosen on
    development seeds 1, 2 and 5 of ``jamwatch eval`` and checked on seed 6, not on this
    test) doubles the factor 1.6, and one aircraft grading of n gives 1 + (0.3 - 1/n) / 0.3."""
    c = LocalizeConfig()
    ob = _synthetic([(12_000.0, -7_000.0, 95.0)], 3)
    fit = Fit(12_000.0, -7_000.0, 30.0, 95.0, 10.0, 0.0, 2_000.0)
    assert graded_share(ob) >= 0.5
    assert widen(fit, c, ob).radius_m == pytest.approx(1.6 * 2_000.0)
    level = ob.affected & (ob.lo > -BIG) & (ob.hi - ob.lo > 0.5)
    flat = Observations.from_levels(
        ob.x, ob.y, ob.alt_m, np.where(level, -BIG, ob.lo), np.where(level, 1.0, ob.hi),
        ob.top, ob.nic0, ob.code, ob.time, ob.weight,
    )  # fmt: skip
    assert graded_share(flat) == 0.0
    assert widen(fit, c, flat).radius_m == pytest.approx(2.0 * 1.6 * 2_000.0)
    # one aircraft of the n affected grading: 1 + (0.3 - 1/n) / 0.3 more
    affected = np.unique(ob.code[ob.affected])
    grades = [a for a in affected if np.unique(ob.lo[level & (ob.code == a)]).shape[0] >= 2]
    some = level & (ob.code != grades[0])
    part = Observations.from_levels(
        ob.x, ob.y, ob.alt_m, np.where(some, -BIG, ob.lo), np.where(some, 1.0, ob.hi),
        ob.top, ob.nic0, ob.code, ob.time, ob.weight,
    )  # fmt: skip
    assert graded_share(part) == pytest.approx(1.0 / affected.shape[0])
    expected = 1.6 * (1.0 + (0.3 - 1.0 / affected.shape[0]) / 0.3) * 2_000.0
    assert widen(fit, c, part).radius_m == pytest.approx(expected)


def _located(event: int, ob: Observations, fit: Fit) -> Located:
    lat, lon = from_stereo(np.array([fit.x]), np.array([fit.y]), ob.lat0, ob.lon0)
    return Located(event, fit, ob, (), float(lat[0]), float(lon[0]))


def test_pool_sites_moves_a_poorly_located_source_to_a_recurring_site() -> None:
    """One transmitter seen in two events: with 12 aircraft it is placed well; with 3 of
    another draw's aircraft poorly, with a large radius. Pooled, the second takes the first's
    site and radius; a source of a transmitter 150 km away is left where it is."""
    src = (12_000.0, -7_000.0, 95.0)
    c = LocalizeConfig()
    good_ob = _synthetic([src], 1)
    good = fit_source(good_ob, (0.0, 0.0), c)
    many = _synthetic([src], 4)
    few_ob = many.take(np.isin(many.code, np.unique(many.code[many.affected])[:3]))
    few = fit_source(few_ob, (0.0, 0.0), c)
    far_src = (160_000.0, 40_000.0, 95.0)
    far_ob = _synthetic([far_src], 2)
    far = fit_source(far_ob, (150_000.0, 40_000.0), c)
    assert good.radius_m < few.radius_m
    found = [_located(0, good_ob, good), _located(1, few_ob, few), _located(2, far_ob, far)]
    pooled = pool_sites(found, c)
    assert pooled[0] == found[0]
    assert pooled[1].fit.radius_m == good.radius_m
    assert (pooled[1].latitude, pooled[1].longitude) == (found[0].latitude, found[0].longitude)
    assert np.hypot(pooled[1].fit.x - src[0], pooled[1].fit.y - src[1]) < good.radius_m
    assert pooled[2] == found[2]


def test_pool_sites_takes_no_site_that_too_few_aircraft_witnessed() -> None:
    """The same two events, but the well placed source's piece keeps only 2 of its
    affected aircraft (fewer than ``min_witnesses``, 5: such a source is rejected later,
    and its small radius says nothing): the poorly located source is not moved onto it."""
    src = (12_000.0, -7_000.0, 95.0)
    c = LocalizeConfig()
    good_ob = _synthetic([src], 1)
    good = fit_source(good_ob, (0.0, 0.0), c)
    two = np.unique(good_ob.code[good_ob.affected])[:2]
    thin = good_ob.take(~good_ob.affected | np.isin(good_ob.code, two))
    assert np.unique(thin.code[thin.affected]).shape[0] == 2 < c.min_witnesses
    many = _synthetic([src], 4)
    few_ob = many.take(np.isin(many.code, np.unique(many.code[many.affected])[:3]))
    few = fit_source(few_ob, (0.0, 0.0), c)
    assert good.radius_m < few.radius_m
    found = [_located(0, thin, good), _located(1, few_ob, few)]
    assert pool_sites(found, c) == found
    # with its witnesses, the same site takes the poorly located source
    assert pool_sites([_located(0, good_ob, good), found[1]], c)[1].fit.radius_m == good.radius_m


def test_lat_lon_of_a_plane_point() -> None:
    lat, lon = from_stereo(np.array([0.0, 10_000.0]), np.array([0.0, 0.0]), 38.0, 126.0)
    assert lat[0] == pytest.approx(38.0) and lon[0] == pytest.approx(126.0)
    d = distance_m(lat[:1], lon[:1], lat[1:], lon[1:])[0]
    assert d == pytest.approx(10_000.0, rel=1e-4)


def test_what_a_change_of_level_says_under_each_avionics_hypothesis() -> None:
    # (q: the loss as a fraction of the band above loss of lock; a boundary is [q, q])
    two, one = False, True
    assert coarse_interval(TOP, 0, one) == (0.0, 0.0)  # 8 -> 0: loss of lock, one-step
    assert coarse_interval(TOP, 0, two) == (1.0, 1.0)  # 8 -> 0: the band's edge, two-level
    assert coarse_interval(TOP, 5, two) == (1.0, 1.0)
    assert coarse_interval(5, LOST, two) == (0.0, 0.0)
    assert coarse_interval(TOP, 5, one) == (BIG, BIG)  # no intermediate level in one step
    assert coarse_interval(7, 5, two) == (-BIG, BIG)  # two degraded levels: nothing
    assert coarse_interval(0, LOST, two) == (-BIG, BIG)  # NIC 0 may already be lost
    assert coarse_interval(LOST, LOST, one) == (-BIG, 0.0)
    assert coarse_interval(TOP, TOP, one) == (0.0, BIG)


def test_fleet_shares_and_level_chances_come_from_the_aircraft() -> None:
    # aircraft 0 grades (levels 7 and 5), 1 has one degraded level (5), 2 goes to NIC 0 and
    # loses its position; 3 one-step too. Reports only (the states before and after equal)
    code = np.array([0, 0, 0, 0, 1, 1, 2, 2, 3], np.int64)
    state = np.array([TOP, 7, 5, 5, TOP, 5, 0, LOST, LOST], np.int64)
    weight = np.array([1.0, 1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    shares = np.exp(fleet_weights(code, state, state))
    assert shares == pytest.approx(np.array([2.0, 2.0, 3.0]) / 7.0)  # each count plus one
    assert np.exp(fleet_weights(code, state, state, (0.6, 0.2, 0.2))) == pytest.approx(
        [0.6, 0.2, 0.2]
    )
    lf = level_factor(code, state, state, weight)
    # aircraft 0: weight 1 at level 7, 3 at level 5; one level, or top: nothing to pay
    assert lf == pytest.approx(
        [0.0, np.log(0.25), np.log(0.75), np.log(0.75), 0.0, 0.0, np.log(0.5), np.log(0.5), 0.0]
    )


def _loglik_by_hand(
    u: np.ndarray, ob: Observations, c: float, b: float, lw: np.ndarray, tol: np.ndarray
) -> float:  # fmt: skip
    """The module documentation's likelihood written out report by report with
    :func:`interval_p` (noise 0.5 dB, outlier 1e-3), for :func:`loglik` to be held to: per
    aircraft, the fleet's mixture under each tolerance ``tol[0]``, mixed by ``tol[1]``."""
    total = 0.0
    for ac in np.unique(ob.code):
        each = [
            _aircraft_by_hand(u, ob, np.flatnonzero(ob.code == ac), c + d, b, lw) + lwt
            for d, lwt in tol.T
        ]
        total += float(np.logaddexp.reduce(each))
    return total


def _aircraft_by_hand(
    u: np.ndarray, ob: Observations, rows: np.ndarray, c: float, b: float, lw: np.ndarray
) -> float:  # fmt: skip
    """One aircraft's (``rows``) fleet mixture for one threshold ``c``."""
    s, eps = 0.5, 1e-3
    g = np.zeros(4)  # graded with NIC_0, with NIC_0 + 1, two-level, one-step
    for i in rows:
        lo, hi, n0 = ob.lo[i], ob.hi[i], ob.nic0[i]
        graded = (lo / n0 if lo > -BIG else -BIG, BIG if ob.top[i] or hi >= BIG else hi / n0)
        up = (lo / (n0 + 1) if lo > -BIG else -BIG, hi / (n0 + 1) if hi < BIG else BIG)
        two = coarse_interval(ob.state_a[i], ob.state_b[i], False)
        one = coarse_interval(ob.state_a[i], ob.state_b[i], True)
        p = [
            interval_p(u[i], *graded, c, b, s, 1.0),
            interval_p(u[i], *up, c, b, s, 1.0),
            interval_p(u[i], *two, c, b, s, 1.0),
            interval_p(u[i], *one, c, 1.0, s, 0.0),  # (a band of zero width)
        ]
        lp = np.log(eps + (1 - 2 * eps) * np.array(p))
        g += ob.weight[i] * (lp + np.array([0.0, 0.0, ob.level_factor[i], ob.level_factor[i]]))
    each = np.array([max(g[0], g[1]), g[2], g[3]]) + lw
    return float(np.log(np.sum(np.exp(each[np.isfinite(each)]))))


@pytest.mark.parametrize("fleet", [(0.6, 0.2, 0.2), (0.5, 0.0, 0.5), (1.0, 0.0, 0.0)])
@pytest.mark.parametrize("tolerance", [((0.0,), (1.0,)), ((-4.0, 0.0, 4.0), (0.25, 0.5, 0.25))])
def test_the_compiled_likelihood_is_the_documented_one_report_by_report(
    fleet: tuple, tolerance: tuple
) -> None:  # fmt: skip
    """Every kind of report and change of level (nominal, each degraded level, NIC 0 and
    lost positions, boundaries between adjacent levels and to nominal and lost), at losses
    on either side of every interval's ends, far from all of them (more than 20 noise
    scales), beyond the horizon and with no source at all, with receivers sharing one
    threshold or tolerating one of three: the compiled likelihood (which computes each
    distinct end once) gives the likelihood written out with ``interval_p``."""
    rng = np.random.default_rng(7)
    n0 = 8.0
    kinds = [(8.0, 9.0, 1.0)] + [(k, k + 1.0, 0.0) for k in range(1, 8)]  # reports
    kinds += [(-BIG, 1.0, 0.0), (-BIG, 0.0, 0.0)]  # NIC 0, lost
    kinds += [(k, k, 0.0) for k in range(1, 9)]  # boundaries (8: to nominal)
    rows = [kinds[j] for j in rng.integers(0, len(kinds), 400)]
    lo, hi, top = (np.array(col) for col in zip(*rows, strict=True))
    sa, sb = states_from_levels(lo, hi, top, np.full(lo.shape, n0))
    # changes of level the graded intervals say nothing of (they do not touch)
    jumps = [(TOP, 0), (TOP, LOST), (5, LOST), (TOP, 5), (0, LOST), (7, 3)]
    pick = rng.integers(0, len(jumps), 100)
    lo, hi = np.append(lo, np.full(100, -BIG)), np.append(hi, np.full(100, BIG))
    top = np.append(top, np.zeros(100))
    sa = np.append(sa, [jumps[j][0] for j in pick])
    sb = np.append(sb, [jumps[j][1] for j in pick])
    n = lo.shape[0]
    code = rng.integers(0, 25, n).astype(np.int64)
    order = np.argsort(code, kind="stable")  # (observations sorted by aircraft)
    lo, hi, top, sa, sb, code = (v[order] for v in (lo, hi, top, sa, sb, code))
    w = rng.uniform(0.2, 1.0, n)
    zeros = np.zeros(n)
    ob = Observations(
        zeros, zeros, zeros, lo, hi, top, np.full(n, n0), sa, sb,
        level_factor(code, sa, sb, w), code, np.zeros(n, np.int64), w, 0.0, 0.0,
    )  # fmt: skip
    c, b = 100.0, 9.0
    u = c + b * rng.uniform(-0.3, 1.3, n)
    wide = rng.random(n) < 0.3  # far from every edge (the path that skips the edges)
    u[wide] = c + b * rng.uniform(-4.0, 5.0, int(wide.sum()))
    u[rng.random(n) < 0.05] = FAR
    lw = np.log(np.maximum(np.array(fleet), 1e-300))
    lw[np.array(fleet) == 0.0] = -np.inf
    tol = np.array([tolerance[0], np.log(tolerance[1])])
    got = loglik(u, ob.arrays(), c, b, 0.5, 1e-3, lw, tol)
    assert got == pytest.approx(_loglik_by_hand(u, ob, c, b, lw, tol), rel=1e-12)
    none = np.full(n, NONE)  # no source at all: only nominal reports are likely
    got = loglik(none, ob.arrays(), c, b, 0.5, 1e-3, lw, tol)
    assert got == pytest.approx(_loglik_by_hand(none, ob, c, b, lw, tol), rel=1e-12)


def test_switches_need_more_aircraft_where_changes_crowd_by_chance() -> None:
    """An hour of 200 aircraft changing level at random (0.12 changes a second in all, about
    the rate of Korea's dense development run) and one switch 20 minutes in that 8 aircraft
    see at once. Three aircraft within 3 s, the former rule, happen by chance here more
    than ten times an hour: a cut each, and the true switch may fall within 2 minutes of one
    and be lost. The rule asks for 5 (a Poisson count with mean 0.72 per 6 s window is 5
    or more with probability 7e-4, 0.4 times in 600 windows); windows sliding over every
    change still find a few chance crowdings of 5."""
    rng = np.random.default_rng(3)
    start, end = 0, 3600 * NS
    n = rng.poisson(0.12 * 3600)
    t = np.sort(rng.integers(start, end, n))
    code = rng.integers(0, 200, n)
    at = 1200 * NS
    t = np.concatenate([t, at + rng.integers(0, NS, 8)])
    code = np.concatenate([code, np.arange(1000, 1008)])
    c = LocalizeConfig()
    assert switch_crowd(t.shape[0], end - start, c) == 5
    assert switch_crowd(0, end - start, c) == c.switch_aircraft  # (no changes: the floor)
    cuts = switches(t, code, start, end, c)
    assert np.any(np.abs(cuts - at) < 3 * NS)
    assert cuts.shape[0] <= 4
    former = dataclasses.replace(c, switch_chance=1e9)  # three aircraft always enough
    assert switch_crowd(t.shape[0], end - start, former) == 3
    assert switches(t, code, start, end, former).shape[0] >= 10
