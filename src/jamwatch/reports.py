"""A table of decoded reports as NumPy arrays, converted once and shared by the stages.

Cleaning (:mod:`jamwatch.io.positions`), the integrity signals (:mod:`jamwatch.signals`), the
cell partials (:mod:`jamwatch.aggregate.grid`) and the detectors (:mod:`jamwatch.detect`) all
read the same columns of a batch: the time, the aircraft, the position, the type code and the
integrity fields. :class:`ReportBatch` converts them from Arrow once, with nulls as fill
values (NaN for floats, -1 for codes), and the stages hand the arrays on instead of a table
each stage converts again; the detectors' kinematics (altitudes, track, the DF18 control
field) come with it when asked for (:class:`Motion`). ICAO addresses stay
dictionary-encoded: one integer code per row, the strings once per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from typing import Any

import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

I64 = npt.NDArray[np.int64]
I16 = npt.NDArray[np.int16]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]


def _single(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(col, pa.ChunkedArray):
        return col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    return col


# Nulls fall at random, so a branch per row would mispredict: the kernels below select with
# arithmetic on the validity bit instead. Row ``idx[i] + shift`` of the buffers is read (the
# shift places a slice of the batch's row numbers in one chunk, with the chunk's offset).


@nb.njit(cache=True, nogil=True)
def _gather(values: npt.NDArray[Any], idx: I64, shift: int, out: npt.NDArray[Any]) -> None:
    """``out[i] = values[idx[i] + shift]`` (no nulls)."""
    for i in range(idx.shape[0]):
        out[i] = values[idx[i] + shift]


@nb.njit(cache=True, nogil=True)
def _gather_nan(
    values: npt.NDArray[Any], bitmap: npt.NDArray[np.uint8], idx: I64, shift: int,
    out: npt.NDArray[Any],
) -> None:  # fmt: skip
    """``out[i] = values[j]``, ``j = idx[i] + shift``; NaN where bit ``j`` is clear."""
    add = np.array([np.nan, 0.0])
    for i in range(idx.shape[0]):
        j = idx[i] + shift
        out[i] = values[j] + add[(bitmap[j >> 3] >> (j & 7)) & 1]


@nb.njit(cache=True, nogil=True)
def _gather_int(
    values: npt.NDArray[Any], bitmap: npt.NDArray[np.uint8], idx: I64, shift: int, fill: Any,
    out: npt.NDArray[Any],
) -> None:  # fmt: skip
    """``out[i] = values[j]``, ``j = idx[i] + shift``; ``fill`` where bit ``j`` is clear."""
    for i in range(idx.shape[0]):
        j = idx[i] + shift
        ok = (bitmap[j >> 3] >> (j & 7)) & 1
        out[i] = values[j] * ok + fill * (1 - ok)


@nb.njit(cache=True, nogil=True)
def _gather_bits(bitmap: npt.NDArray[np.uint8], idx: I64, shift: int, out: B) -> None:
    """``out[i]``: bit ``idx[i] + shift`` of the validity bitmap."""
    for i in range(idx.shape[0]):
        j = idx[i] + shift
        out[i] = (bitmap[j >> 3] >> (j & 7)) & 1


def _fixed_width(typ: pa.DataType) -> bool:
    """Types whose values buffer NumPy reads as it is (float16 and non-ns times are cast)."""
    if pa.types.is_timestamp(typ):
        return bool(typ.unit == "ns")
    return bool(pa.types.is_integer(typ) or pa.types.is_float32(typ) or pa.types.is_float64(typ))


def _chunk_into(arr: pa.Array, idx: I64, shift: int, out: npt.NDArray[Any], fill: Any) -> None:
    """Rows ``idx + shift`` of this chunk into ``out``, nulls as ``fill``: fixed-width types
    read from their buffers by the kernels above, others converted by Arrow."""
    if pa.types.is_null(arr.type):  # a column of nulls only, with no type of its own
        out[:] = fill
        return
    if pa.types.is_timestamp(arr.type) and arr.type.unit != "ns":
        arr = arr.cast(pa.timestamp("ns", arr.type.tz))  # s, ms, us (older Parquet files)
    if not _fixed_width(arr.type):  # booleans, float16, numbers written as text, ...
        typ = pa.int8() if pa.types.is_boolean(arr.type) else pa.from_numpy_dtype(out.dtype)
        arr = arr.cast(typ)
    if not _fixed_width(arr.type):  # still not: convert by Arrow
        values = pc.fill_null(arr, pa.scalar(0, arr.type)).to_numpy(zero_copy_only=False)
        ok = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), np.bool_)
        out[:] = np.where(ok, values, fill)[idx + shift]
        return
    width = np.dtype(np.int64 if pa.types.is_timestamp(arr.type) else arr.type.to_pandas_dtype())
    bitmap, data = arr.buffers()[:2]
    values = np.frombuffer(data, width, count=arr.offset + len(arr))
    shift += arr.offset
    if arr.null_count == 0:
        _gather(values, idx, shift, out)
        return
    bits = np.frombuffer(bitmap, np.uint8)
    if out.dtype.kind == "f" and np.isnan(fill):
        _gather_nan(values, bits, idx, shift, out)
    elif out.dtype.kind in "iu":
        _gather_int(values.astype(out.dtype), bits, idx, shift, fill, out)
    else:
        ok = np.zeros(len(idx), np.bool_)
        _gather_bits(bits, idx, shift, ok)
        out[:] = np.where(ok, np.take(values, idx + shift), fill)


def _pieces(col: pa.ChunkedArray, rows: I64) -> Iterator[tuple[pa.Array, I64, int, slice]]:
    """For each chunk of ``col``: the chunk, the slice of ``rows`` in it, the shift from a
    row number to the chunk's row, and where those rows go in the output."""
    pos = 0
    start = 0
    for chunk in col.chunks:
        end = start + int(np.searchsorted(rows[start:], pos + len(chunk)))
        yield chunk, rows[start:end], -pos, slice(start, end)
        start = end
        pos += len(chunk)


def column(
    table: pa.Table, name: str, dtype: type, fill: float, rows: I64 | None = None
) -> npt.NDArray[Any]:
    """Column ``name`` as a NumPy array of ``dtype``, nulls (or a missing column) as ``fill``.

    Times and booleans come as integers (nanoseconds, 0/1). ``rows`` (increasing row
    numbers): only those rows, gathered in the same pass.
    """
    out = np.empty(table.num_rows if rows is None else len(rows), dtype=dtype)
    if name not in table.column_names:
        out[:] = fill
        return out
    rows = np.arange(table.num_rows, dtype=np.int64) if rows is None else rows
    for chunk, idx, shift, place in _pieces(table.column(name), rows):
        _chunk_into(chunk, idx, shift, out[place], out.dtype.type(fill))
    return out


def valid(table: pa.Table, name: str, rows: I64 | None = None) -> B:
    """Where column ``name`` is not null (all False for a missing column); ``rows``: as in
    :func:`column`."""
    out = np.zeros(table.num_rows if rows is None else len(rows), np.bool_)
    if name in table.column_names:
        rows = np.arange(table.num_rows, dtype=np.int64) if rows is None else rows
        for chunk, idx, shift, place in _pieces(table.column(name), rows):
            if chunk.null_count == 0:
                out[place] = True
            elif chunk.buffers()[0] is None:
                ok = np.asarray(chunk.is_valid().to_numpy(zero_copy_only=False), np.bool_)
                out[place] = ok[idx + shift]
            else:
                bits = np.frombuffer(chunk.buffers()[0], np.uint8)
                _gather_bits(bits, idx, shift + chunk.offset, out[place])
    return out


def icao_codes(table: pa.Table) -> tuple[I64, pa.Array]:
    """Per row, the index of its ICAO address in the batch's distinct addresses (-1: null),
    and those addresses (as written in the input)."""
    icao = _single(table.column("icao"))
    enc = icao if pa.types.is_dictionary(icao.type) else pc.dictionary_encode(icao)
    code = np.asarray(pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False), np.int64)
    return code, enc.dictionary


#: the dtype of each array of :class:`ReportBatch` and :class:`Motion` as converted (what
#: ``from_table`` gives and ``concat`` widens back to)
_WIDE: dict[str, type] = {
    "t": np.int64, "t_ok": np.bool_, "lat": np.float64, "lon": np.float64, "df": np.int16,
    "tc": np.int16, "nacp": np.int16, "nic": np.int16, "gs": np.float64,
    "alt_known": np.bool_, "ground": np.int8, "alt_baro": np.float64, "alt_gnss": np.float64,
    "gnss_baro_diff": np.float64, "track": np.float64, "ca": np.int16,
}  # fmt: skip


def compact(a: npt.NDArray[Any], narrow: bool = True) -> npt.NDArray[Any]:
    """``a`` for keeping, in the least memory that holds every value exactly: one value
    repeated (a read-only view) when all are equal; otherwise a copy in Arrow's memory pool
    (long-lived arrays kept apart from the C heap's short-lived ones, which they would
    otherwise pin, so the heap can give those back), with ``narrow`` in the narrowest dtype:
    integers in the smallest signed type their range fits, floats as float32 where each value
    (NaN included) survives the round trip. Widened back, the values are the same bits; the
    result is read-only."""
    if a.size == 0:
        return a
    if (a[0] == a).all() or (a.dtype.kind == "f" and np.isnan(a).all()):
        return np.broadcast_to(a[:1].copy(), a.shape)
    if narrow and a.dtype.kind == "i":
        lo, hi = min(int(a.min()), -1), abs(int(a.max()))  # (signed types only)
        dtype = np.result_type(np.min_scalar_type(lo), np.min_scalar_type(-hi - 1))
        if dtype.itemsize < a.itemsize:
            a = a.astype(dtype)
    elif narrow and a.dtype == np.float64:
        f32 = a.astype(np.float32)
        if np.array_equal(f32.astype(np.float64), a, equal_nan=True):
            a = f32
    out = np.frombuffer(pa.allocate_buffer(a.nbytes), a.dtype)
    out[:] = a
    out.flags.writeable = False
    return out


def _concat(arrays: list[npt.NDArray[Any]], dtype: type) -> npt.NDArray[Any]:
    """``arrays`` one after the other, widened to ``dtype``."""
    return np.concatenate(arrays, dtype=dtype) if arrays else np.empty(0, dtype)


@dataclass(slots=True)
class Motion:
    """What only the detectors read: barometric and GNSS altitudes, the GNSS-baro difference
    (ft, NaN unknown), the track (degrees, NaN unknown) and the DF18 control field (``ca``,
    0 where missing)."""

    alt_baro: F64
    alt_gnss: F64
    gnss_baro_diff: F64
    track: F64
    ca: I16

    @classmethod
    def from_table(cls, table: pa.Table, rows: I64 | None = None) -> Motion:
        """Convert the columns of ``table`` (``rows``: only those, as in :func:`column`)."""
        def get(field: str, name: str, fill: float) -> npt.NDArray[Any]:
            return column(table, name, _WIDE[field], fill, rows)

        return cls(
            alt_baro=get("alt_baro", "altitude_baro_ft", np.nan),
            alt_gnss=get("alt_gnss", "altitude_gnss_ft", np.nan),
            gnss_baro_diff=get("gnss_baro_diff", "gnss_baro_diff_ft", np.nan),
            track=get("track", "track_deg", np.nan),
            ca=get("ca", "ca", 0),
        )

    def take(self, idx: I64) -> Motion:
        """The rows ``idx``."""
        return Motion(**{f.name: np.take(getattr(self, f.name), idx) for f in fields(self)})

    @classmethod
    def concat(cls, parts: list[Motion]) -> Motion:
        """The rows of ``parts`` (of any dtypes, see :meth:`compact`), one after the other,
        in the dtypes of :meth:`from_table`."""
        return cls(**{f.name: _concat([getattr(p, f.name) for p in parts], _WIDE[f.name])
                      for f in fields(cls)})  # fmt: skip

    def compact(self) -> Motion:
        """The same values for keeping, each array in the least memory that holds it exactly
        (see :func:`compact`)."""
        return Motion(**{f.name: compact(getattr(self, f.name)) for f in fields(self)})


@dataclass(slots=True)
class ReportBatch:
    """The columns of a decoded table that the stages read, as NumPy arrays.

    ``code``/``names``: the aircraft (see :func:`icao_codes`); ``t`` nanoseconds, valid where
    ``t_ok``; ``lat``/``lon`` NaN where unknown; ``df`` 17 where missing (positions from other
    sources are DF17), ``tc``/``nacp``/``nic`` -1 where unknown; ``gs`` knots, NaN unknown;
    ``alt_known`` where a barometric or GNSS altitude is present; ``ground`` the ``on_ground``
    column as 0/1, -1 where unknown; ``motion`` the detectors' kinematics (None unless
    converted: the map job does not read them).
    """

    names: pa.Array
    code: I64
    t: I64
    t_ok: B
    lat: F64
    lon: F64
    df: I16
    tc: I16
    nacp: I16
    nic: I16
    gs: F64
    alt_known: B
    ground: npt.NDArray[np.int8]
    motion: Motion | None = None

    @classmethod
    def from_table(
        cls, table: pa.Table, aircraft: Callable[[pa.Array], B] | None = None,
        motion: bool = False,
    ) -> ReportBatch:  # fmt: skip
        """Convert ``table`` (decoded column names; ``time`` and ``icao`` required).

        ``aircraft``: given the batch's distinct addresses, which to keep: a mask with one more
        entry, the last for rows without an address. Only the kept rows are converted.
        ``motion``: convert the detectors' columns too (:class:`Motion`).
        """
        code, names = icao_codes(table)
        rows = None
        if aircraft is not None:
            wanted = aircraft(names)  # code -1 (null) takes the last entry
            rows = np.flatnonzero(wanted[code]).astype(np.int64)
            code = code[rows]

        def get(name: str, dtype: type, fill: float) -> npt.NDArray[Any]:
            return column(table, name, dtype, fill, rows)

        return cls(
            names=names,
            code=code,
            t=get("time", _WIDE["t"], 0),
            t_ok=valid(table, "time", rows),
            lat=get("latitude", _WIDE["lat"], np.nan),
            lon=get("longitude", _WIDE["lon"], np.nan),
            df=get("df", _WIDE["df"], 17),
            tc=get("tc", _WIDE["tc"], -1),
            nacp=get("nacp", _WIDE["nacp"], -1),
            nic=get("nic", _WIDE["nic"], -1),
            gs=get("groundspeed_kt", _WIDE["gs"], np.nan),
            alt_known=valid(table, "altitude_baro_ft", rows)
            | valid(table, "altitude_gnss_ft", rows),
            ground=get("on_ground", _WIDE["ground"], -1),
            motion=Motion.from_table(table, rows) if motion else None,
        )

    def __len__(self) -> int:
        return len(self.code)

    def take(self, rows: B | I64) -> ReportBatch:
        """The rows selected by a mask or an index array (the addresses are kept whole)."""
        # a gather beats a mask
        idx = np.flatnonzero(rows) if rows.dtype == np.bool_ else np.asarray(rows, np.int64)
        arrays = {f.name: np.take(getattr(self, f.name), idx) for f in fields(self)[1:-1]}
        motion = None if self.motion is None else self.motion.take(idx)
        return ReportBatch(names=self.names, motion=motion, **arrays)

    @classmethod
    def concat(cls, parts: list[ReportBatch]) -> ReportBatch:
        """The rows of ``parts`` (at least one; of any dtypes, see :meth:`compact`), one after
        the other, as a new batch in the dtypes of :meth:`from_table`. Their addresses are put
        one after the other too, so an aircraft may have one code per part: the stages merge
        aircraft by address (:func:`jamwatch.detect.tracks.aircraft_codes`)."""
        sizes = np.cumsum([0] + [len(p.names) for p in parts[:-1]])
        code = _concat(
            [np.where(p.code >= 0, p.code + k, -1) for p, k in zip(parts, sizes, strict=True)],
            np.int64,
        )
        arrays = {
            f.name: _concat([getattr(p, f.name) for p in parts], _WIDE[f.name])
            for f in fields(cls)[2:-1]
        }
        motions = [p.motion for p in parts if p.motion is not None]
        motion = Motion.concat(motions) if len(motions) == len(parts) else None
        names = pa.concat_arrays([p.names.cast(parts[0].names.type) for p in parts])
        return cls(names=names, code=code, motion=motion, **arrays)

    def compact(self) -> ReportBatch:
        """The same rows for keeping, each array in the least memory that holds its values
        exactly (see :func:`compact`; the times ``t`` stay int64): :meth:`concat` widens
        them again."""
        arrays = {
            f.name: compact(getattr(self, f.name), narrow=f.name != "t")
            for f in fields(self)[1:-1]
        }
        motion = None if self.motion is None else self.motion.compact()
        return ReportBatch(names=self.names, motion=motion, **arrays)

    def time_order(self) -> I64:
        """Row indices in time order (stable); ``arange`` when the rows are in order already."""
        n = len(self.t)
        if n and not np.all(self.t[1:] >= self.t[:-1]):
            return np.argsort(self.t, kind="stable").astype(np.int64)
        return np.arange(n, dtype=np.int64)
