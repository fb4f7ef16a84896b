"""H3 cells of moving aircraft, with H3 itself called on a few reports only.

A report placed at the same position as its aircraft's previous one is in the same cell
(:func:`moved_rows`); among the rest, H3 (h3ronpy's vectorized ``coordinates_to_cells``, in
threads) runs on every :data:`SAMPLE_EVERY`-th report of each aircraft and its last one, and a
report between two samples takes the cell of the sample before or after it when it lies inside
that cell by :data:`EDGE_MARGIN_RAD` (:func:`moved_cells`): first a disc around the cell's
centre, without trigonometry, then the cell's edges as great circles. The result is H3's
(tested point by point on random walks at resolutions 0-8).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import h3
import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
from h3ronpy.vector import coordinates_to_cells  # type: ignore[import-untyped]


def latlng_to_cells(
    lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64], resolution: int, threads: int = 2
) -> npt.NDArray[np.uint64]:
    """H3 cells of points (vectorized; split over ``threads``, the library releases the GIL)."""
    n = len(lat)
    if n == 0:
        return np.zeros(0, np.uint64)
    parts = max(1, min(threads, n // 100_000 + 1))
    bounds = np.linspace(0, n, parts + 1).astype(int)

    def one(k: int) -> npt.NDArray[np.uint64]:
        s = slice(bounds[k], bounds[k + 1])
        cells = pa.array(coordinates_to_cells(lat[s], lon[s], resolution))
        return np.asarray(cells.to_numpy(zero_copy_only=False), np.uint64)

    if parts == 1:
        return one(0)
    with ThreadPoolExecutor(parts) as pool:
        return np.concatenate(list(pool.map(one, range(parts))))


#: a report is taken to be in a known cell only if it is at least this far (radians, about
#: 6 m) inside every edge of the cell's boundary; nearer than that, H3 decides
EDGE_MARGIN_RAD = 1e-6
#: H3 is computed for every SAMPLE_EVERY-th moved report of an aircraft (and its last one)
SAMPLE_EVERY = 16
_MAX_EDGES = 10  # an H3 cell boundary has at most 10 vertices (distortion vertices included)

# columns of the quick-test discs (one row per cell shape)
_DISC_LAT = 0  # latitude of the ring's centre, degrees
_DISC_LON = 1  # longitude of the ring's centre, degrees
_DISC_COS_LAT = 2  # cosine of that latitude (the scale of longitudes)
_DISC_R2 = 3  # radius squared, degrees squared (0: no disc, the edges decide)
_N_DISC = 4


class _CellShapes:
    """Inward unit normals of the edges of H3 cells, cached per process (thread-safe).

    An H3 cell's edges are straight lines in the gnomonic projection of an icosahedron face,
    so great-circle arcs between the vertices of ``cell_to_boundary``: a point whose unit
    vector has a positive dot product (by a margin) with every edge's inward normal is inside
    the cell (the intersection of the edges' inner half-spheres is inside the polygon even if
    it is not convex).

    A quicker test comes first, without trigonometry: a disc around the ring's centre whose
    radius is 90 % of the angular distance from the centre to the nearest edge's great circle,
    in degrees, with longitudes scaled by the cosine of the centre's latitude (an
    equirectangular distance, within a few per cent of the true one for such small discs away
    from the poles). It is used only where that error cannot matter: centres within 70 degrees
    of the equator, discs of 100 margins to 1.5 degrees (H3 resolutions 2-7); elsewhere the
    disc is empty and the edges decide.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._clear()

    def _clear(self) -> None:
        self.index: dict[int, int] = {}
        self.normals = np.zeros((0, _MAX_EDGES, 3))
        self.edges = np.zeros(0, np.int64)
        #: per shape: the quick-test disc (columns ``_DISC_*``)
        self.discs = np.zeros((0, _N_DISC))

    def lookup(self, cells: npt.NDArray[np.uint64]) -> tuple[Any, Any, Any, Any]:
        """(shape index of each cell, normals, edge counts, discs); new cells are added."""
        with self.lock:
            if len(self.index) > 1_000_000:  # fine resolutions: do not grow without bound
                self._clear()
            distinct, inverse = np.unique(cells, return_inverse=True)
            new = [int(c) for c in distinct if int(c) not in self.index]
            if new:
                self._add(new)
            ids = np.fromiter((self.index[int(c)] for c in distinct), np.int64, len(distinct))
            return np.asarray(ids[inverse], np.int64), self.normals, self.edges, self.discs

    def _add(self, cells: list[int]) -> None:
        rings = [h3.cell_to_boundary(h3.int_to_str(cell)) for cell in cells]
        counts = np.array([len(r) for r in rings], np.int64)
        starts = np.cumsum(counts) - counts
        ring_of = np.repeat(np.arange(len(cells)), counts)
        vertices = np.radians(np.array([p for r in rings for p in r], np.float64))
        v = _unit_vectors(vertices[:, 0], vertices[:, 1])
        following = np.arange(len(v)) + 1
        following[starts + counts - 1] = starts  # the last vertex joins the first
        n = np.cross(v, v[following])
        centre = np.add.reduceat(v, starts)
        centre /= np.linalg.norm(centre, axis=1)[:, None]
        # the ring's orientation (same for all its edges), so that normals point inwards
        sign = np.sign(np.add.reduceat((n * centre[ring_of]).sum(axis=1), starts))
        length = np.linalg.norm(n, axis=1)
        degenerate = length < 1e-12  # a zero-length edge: no constraint (the centre's side)
        n = np.where(
            degenerate[:, None], centre[ring_of], sign[ring_of, None] * n / length[:, None]
        )
        normals = np.zeros((len(cells), _MAX_EDGES, 3))
        normals[ring_of, np.arange(len(v)) - starts[ring_of]] = n
        clearance = np.arcsin(np.clip((n * centre[ring_of]).sum(axis=1), -1.0, 1.0))
        r_in = np.minimum.reduceat(clearance, starts)  # radians to the nearest edge's circle
        c_lat = np.degrees(np.arcsin(np.clip(centre[:, 2], -1.0, 1.0)))
        c_lon = np.degrees(np.arctan2(centre[:, 1], centre[:, 0]))
        radius = 0.9 * np.degrees(r_in)
        usable = (np.abs(c_lat) < 70.0) & (r_in > 100 * EDGE_MARGIN_RAD) & (radius < 1.5)
        discs = np.empty((len(cells), _N_DISC))
        discs[:, _DISC_LAT] = c_lat
        discs[:, _DISC_LON] = c_lon
        discs[:, _DISC_COS_LAT] = np.cos(np.radians(c_lat))
        discs[:, _DISC_R2] = np.where(usable, radius**2, 0.0)
        start = len(self.edges)
        self.normals = np.concatenate([self.normals, normals])
        self.edges = np.concatenate([self.edges, counts])
        self.discs = np.concatenate([self.discs, discs])
        self.index.update((cell, start + k) for k, cell in enumerate(cells))


def _unit_vectors(lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64]) -> Any:
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1)


_SHAPES = _CellShapes()


@nb.njit(cache=True, nogil=True)
def _samples(
    code: npt.NDArray[np.int64], moved: npt.NDArray[np.bool_], n_codes: int, every: int
) -> npt.NDArray[np.bool_]:
    """Every ``every``-th moved row of each aircraft, counting from its first, and its last."""
    count = np.zeros(n_codes, np.int64)
    last = np.full(n_codes, -1, np.int64)
    out = np.zeros(code.shape[0], np.bool_)
    for i in range(code.shape[0]):
        if moved[i]:
            c = code[i]
            out[i] = count[c] % every == 0
            count[c] += 1
            last[c] = i
    for c in range(n_codes):
        if last[c] >= 0:
            out[last[c]] = True
    return out


@nb.njit(cache=True, nogil=True, inline="always")
def _inside(
    lat: float, lon: float, shape: int, normals: npt.NDArray[np.float64],
    edges: npt.NDArray[np.int64], discs: npt.NDArray[np.float64], margin: float,
) -> bool:  # fmt: skip
    d = discs[shape]
    dlon = lon - d[_DISC_LON]
    if dlon > 180.0:
        dlon -= 360.0
    elif dlon < -180.0:
        dlon += 360.0
    dx, dy = dlon * d[_DISC_COS_LAT], lat - d[_DISC_LAT]
    if dx * dx + dy * dy < d[_DISC_R2]:
        return True
    la, lo = np.radians(lat), np.radians(lon)
    x, y, z = np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)
    for e in range(edges[shape]):
        n = normals[shape, e]
        if x * n[0] + y * n[1] + z * n[2] < margin:
            return False
    return True


@nb.njit(cache=True, nogil=True)
def _known_cells(
    code: npt.NDArray[np.int64],
    moved: npt.NDArray[np.bool_],
    sample: npt.NDArray[np.bool_],
    sample_cells: npt.NDArray[np.uint64],
    sample_shapes: npt.NDArray[np.int64],
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    normals: npt.NDArray[np.float64],
    edges: npt.NDArray[np.int64],
    discs: npt.NDArray[np.float64],
    n_codes: int,
    margin: float,
) -> npt.NDArray[np.uint64]:
    """Cells of the moved rows, in order (0 where H3 must decide): a sample's own cell, else
    the cell of the aircraft's previous or next sample when the point is inside it by the
    margin. Samples are moved rows."""
    n = code.shape[0]
    after = np.empty(n, np.int64)  # moved row -> the aircraft's next sample at or after it
    nxt = np.full(n_codes, -1, np.int64)
    k = sample_cells.shape[0]
    m = 0
    for i in range(n - 1, -1, -1):
        if moved[i]:
            m += 1
            c = code[i]
            if sample[i]:
                k -= 1
                nxt[c] = k
            after[i] = nxt[c]
    out = np.zeros(m, np.uint64)
    prev = np.full(n_codes, -1, np.int64)
    j = 0
    for i in range(n):
        if not moved[i]:
            continue
        c = code[i]
        if sample[i]:
            prev[c] = after[i]
            out[j] = sample_cells[after[i]]
        else:
            for s in (prev[c], after[i]):
                if s >= 0 and _inside(
                    lat[i], lon[i], sample_shapes[s], normals, edges, discs, margin
                ):
                    out[j] = sample_cells[s]
                    break
        j += 1
    return out


def moved_cells(
    code: npt.NDArray[np.int64],
    moved: npt.NDArray[np.bool_],
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    n_codes: int,
    resolution: int,
    threads: int = 2,
) -> npt.NDArray[np.uint64]:
    """H3 cells of the moved rows, in row order, exactly as ``latlng_to_cells`` gives them.

    H3 runs on every SAMPLE_EVERY-th moved row of an aircraft; a row between two samples takes
    the previous or next sample's cell when it lies inside that cell's boundary by
    EDGE_MARGIN_RAD; H3 runs on the rest (rows near an edge, in a cell no sample saw).
    """
    sample = _samples(code, moved, n_codes, SAMPLE_EVERY)
    at = np.flatnonzero(sample)  # gathers: masks that fall at random index slowly
    sample_cells = latlng_to_cells(lat.take(at), lon.take(at), resolution, threads)
    shapes, normals, edges, discs = _SHAPES.lookup(sample_cells)
    cells = _known_cells(
        code, moved, sample, sample_cells, shapes, lat, lon, normals, edges, discs, n_codes,
        EDGE_MARGIN_RAD,
    )  # fmt: skip
    unknown = np.flatnonzero(cells == 0)
    if len(unknown):
        rows = np.flatnonzero(moved).take(unknown)
        cells[unknown] = latlng_to_cells(lat.take(rows), lon.take(rows), resolution, threads)
    return cells


@nb.njit(cache=True, nogil=True)
def moved_rows(
    code: npt.NDArray[np.int64],
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    n_codes: int,
) -> npt.NDArray[np.bool_]:
    """Rows whose position differs from their aircraft's previous located row.

    Only these need an H3 cell: a report placed at the same position as the one before it (a
    velocity message carrying the last position forward, a repeated position) is in the same
    cell. Any row order gives the same cells; time order gives the fewest moves.
    """
    last_lat = np.full(n_codes, np.nan)
    last_lon = np.full(n_codes, np.nan)
    out = np.zeros(code.shape[0], np.bool_)
    for i in range(code.shape[0]):
        c = code[i]
        if c >= 0 and (lat[i] != last_lat[c] or lon[i] != last_lon[c]):
            out[i] = True
            last_lat[c] = lat[i]
            last_lon[c] = lon[i]
    return out
