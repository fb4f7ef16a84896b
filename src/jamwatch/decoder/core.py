"""Columnar Mode S / ADS-B decoder: raw-frame batches in, typed Arrow tables out.

A :class:`Decoder` keeps per-aircraft state (CPR frames, last position, latest TC31/TC29
values) between batches, so a file or a live feed can be decoded in batches of any size and
give the same result as one big batch.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from jamwatch.decoder import kernels
from jamwatch.decoder.state import state_kernel
from jamwatch.schema import DECODED, RAW_FRAMES, TIME_TYPE

NS = 1_000_000_000


@dataclass(slots=True)
class DecodeReport:
    """What a decoder saw: frames by downlink format and type code, positions, rejects."""

    frames: int = 0
    by_df: Counter[str] = field(default_factory=Counter)
    by_tc: Counter[int] = field(default_factory=Counter)
    positions: int = 0
    rejects: Counter[str] = field(default_factory=Counter)
    aircraft: int = 0

    def merge_counts(self, counts: npt.NDArray[np.int64]) -> None:
        for reason, n in zip(kernels.REASONS, counts.tolist(), strict=True):
            if n:
                self.rejects[reason] += n


@dataclass(frozen=True, slots=True)
class DecoderConfig:
    """CPR parameters. Defaults follow DO-260B and common receiver practice."""

    pair_window_s: float = 10.0
    local_window_s: float = 60.0
    max_speed_kmps: float = 1.2  # above any civil aircraft (about 2,300 kt)
    #: a surface position needs the aircraft's own position of at most this age as its
    #: reference (taxiing at 30 kt, 10 minutes are 5 NM of the 45 NM a local decode allows)
    surface_window_s: float = 600.0
    chunk_rows: int = 1 << 17
    #: the receiver's (latitude, longitude): the reference of a surface position when the
    #: aircraft has no recent one of its own (as dump1090's --lat/--lon)
    receiver: tuple[float, float] | None = None


def frames_matrix(
    frames: pa.Array | pa.ChunkedArray,
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """A binary column as a (n, 14) zero-padded byte matrix and the frame lengths."""
    if isinstance(frames, pa.ChunkedArray):
        frames = frames.combine_chunks() if frames.num_chunks != 1 else frames.chunk(0)
    if pa.types.is_large_binary(frames.type):
        frames = frames.cast(pa.binary())
    n = len(frames)
    mat = np.empty((n, 14), dtype=np.uint8)
    nbytes = np.empty(n, dtype=np.uint8)
    if n == 0:
        return mat, nbytes
    if frames.null_count:
        frames = pc.fill_null(frames, b"")
    bufs = frames.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int32, count=n + 1, offset=frames.offset * 4)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(1, np.uint8)
    kernels.gather_frames(offsets.astype(np.int64), data, mat, nbytes)
    return mat, nbytes


class Decoder:
    """Stateful columnar decoder. Feed raw-frame batches in time order with :meth:`decode`."""

    def __init__(self, config: DecoderConfig | None = None) -> None:
        self.config = config or DecoderConfig()
        self.report = DecodeReport()
        self._slots: dict[int, int] = {}
        self._s_i = self._new_state_i(1024)
        self._s_f = np.full((1024, kernels.SF_COLS), np.nan)
        self._last_time = np.iinfo(np.int64).min

    @staticmethod
    def _new_state_i(size: int) -> npt.NDArray[np.int64]:
        s = np.full((size, kernels.SI_COLS), -1, dtype=np.int64)
        s[:, list(kernels.SI_TIMES)] = np.iinfo(np.int64).min
        return s

    def _grow(self, need: int) -> None:
        size = self._s_i.shape[0]
        if need <= size:
            return
        new = max(need, 2 * size)
        s_i = self._new_state_i(new)
        s_i[:size] = self._s_i
        s_f = np.full((new, kernels.SF_COLS), np.nan)
        s_f[:size] = self._s_f
        self._s_i, self._s_f = s_i, s_f

    def _assign_slots(
        self, keys: npt.NDArray[np.int64], mask: npt.NDArray[np.bool_]
    ) -> npt.NDArray[np.int64]:
        slot = np.full(keys.shape[0], -1, dtype=np.int64)
        if not mask.any():
            return slot
        uniq, inverse = np.unique(keys[mask], return_inverse=True)
        table = self._slots
        mapped = np.empty(uniq.shape[0], dtype=np.int64)
        for j, key in enumerate(uniq.tolist()):
            s = table.get(key)
            if s is None:
                s = len(table)
                table[key] = s
            mapped[j] = s
        self._grow(len(table))
        slot[mask] = mapped[inverse]
        return slot

    def _times(self, batch: pa.RecordBatch | pa.Table) -> tuple[pa.Array, npt.NDArray[np.int64]]:
        n = batch.num_rows
        if "time" in batch.schema.names:
            col = batch.column("time")
            if isinstance(col, pa.ChunkedArray):
                col = col.combine_chunks()
            if col.type != TIME_TYPE:
                col = col.cast(TIME_TYPE)
        else:
            col = pa.nulls(n, TIME_TYPE)
        raw = col.cast(pa.int64()).to_numpy(zero_copy_only=False) if n else np.zeros(0, np.int64)
        if col.null_count:
            # carry the last known time over rows without one (CPR pairing needs a clock)
            valid = ~np.asarray(col.is_null().to_numpy(zero_copy_only=False))
            raw = np.where(valid, np.nan_to_num(raw, nan=0), 0).astype(np.int64)
            idx = np.where(valid, np.arange(n), -1)
            np.maximum.accumulate(idx, out=idx)
            filled = np.where(idx >= 0, raw[np.maximum(idx, 0)], self._last_time)
            filled[filled == np.iinfo(np.int64).min] = 0
            raw = filled.astype(np.int64)
        else:
            raw = raw.astype(np.int64, copy=False)
        if n and col.null_count < n:
            self._last_time = int(raw[-1])
        return col, raw

    def decode(self, batch: pa.RecordBatch | pa.Table) -> pa.Table:
        """Decode one batch of raw frames (schema :data:`jamwatch.schema.RAW_FRAMES`).

        Large batches are decoded in slices of ``config.chunk_rows`` rows, which keeps the
        working arrays in memory the allocator can reuse; the result is one table.
        """
        step = self.config.chunk_rows
        if batch.num_rows <= step:
            return self._decode(batch)
        parts = [self._decode(batch.slice(k, step)) for k in range(0, batch.num_rows, step)]
        return pa.concat_tables(parts)

    def _decode(self, batch: pa.RecordBatch | pa.Table) -> pa.Table:
        n = batch.num_rows
        if "frame" not in batch.schema.names:
            raise ValueError("a raw-frame batch needs a binary 'frame' column")
        mat, nbytes = frames_matrix(batch.column("frame"))
        time_col, time_ns = self._times(batch)

        i8 = np.full((kernels.I8_ROWS, n), -1, dtype=np.int16)
        icao = np.full(n, -1, dtype=np.int32)
        cpr_lat = np.zeros(n, dtype=np.int32)
        cpr_lon = np.zeros(n, dtype=np.int32)
        f8 = np.full((kernels.F8_ROWS, n), np.nan)
        chars = np.zeros((n, 8), dtype=np.uint8)
        counts = np.zeros(len(kernels.REASONS), dtype=np.int64)
        kernels.fields_kernel(mat, nbytes, i8, icao, cpr_lat, cpr_lon, f8, chars, counts)

        adsb = i8[kernels.I8_ADSB] == 1
        # TIS-B / ADS-R (DF18, CF >= 2) and non-ICAO addresses get their own state slots
        separate = (i8[kernels.I8_DF] == 18) & (i8[kernels.I8_CA] >= 1)
        keys = icao.astype(np.int64) | (separate.astype(np.int64) << 24)
        slot = self._assign_slots(keys, adsb)
        if n > 1 and np.any(np.diff(time_ns) < 0):
            order = np.argsort(time_ns, kind="stable").astype(np.int64)
        else:
            order = np.arange(n, dtype=np.int64)
        lat = np.full(n, np.nan)
        lon = np.full(n, np.nan)
        out_i8 = np.full((kernels.OUT_ROWS, n), -1, dtype=np.int16)
        cfg = self.config
        state_kernel(
            order,
            slot,
            time_ns,
            i8,
            cpr_lat,
            cpr_lon,
            self._s_i,
            self._s_f,
            lat,
            lon,
            out_i8,
            counts,
            int(cfg.pair_window_s * NS),
            int(cfg.local_window_s * NS),
            cfg.max_speed_kmps,
            int(cfg.surface_window_s * NS),
            np.array(cfg.receiver if cfg.receiver is not None else (np.nan, np.nan)),
        )
        signal = (
            batch.column("signal") if "signal" in batch.schema.names else pa.nulls(n, pa.uint8())
        )
        table = self._assemble(time_col, i8, icao, chars, f8, lat, lon, out_i8, signal)
        self._tally(i8, icao, lat, counts)
        return table

    def _assemble(
        self,
        time_col: pa.Array,
        i8: npt.NDArray[np.int16],
        icao: npt.NDArray[np.int32],
        chars: npt.NDArray[np.uint8],
        f8: npt.NDArray[np.float64],
        lat: npt.NDArray[np.float64],
        lon: npt.NDArray[np.float64],
        out_i8: npt.NDArray[np.int16],
        signal: pa.Array | pa.ChunkedArray,
    ) -> pa.Table:
        n = icao.shape[0]

        # zero-copy Arrow arrays over the kernel outputs, with validity bitmaps built here
        def small(values: npt.NDArray[np.int16]) -> pa.Array:
            data = pa.py_buffer(values.astype(np.uint8))
            return pa.Array.from_buffers(pa.uint8(), n, [_validity(values >= 0), data])

        def flag(values: npt.NDArray[np.int16]) -> pa.Array:
            data = pa.py_buffer(np.packbits(values == 1, bitorder="little"))
            return pa.Array.from_buffers(pa.bool_(), n, [_validity(values >= 0), data])

        def real(values: npt.NDArray[np.float64]) -> pa.Array:
            data = pa.py_buffer(np.ascontiguousarray(values))
            return pa.Array.from_buffers(pa.float64(), n, [_validity(~np.isnan(values)), data])

        hexbuf = np.empty(6 * n, dtype=np.uint8)
        kernels.icao_hex(icao, hexbuf)
        icao_valid = icao >= 0
        icao_arr = pa.Array.from_buffers(
            pa.string(),
            n,
            [
                _validity(icao_valid),
                pa.py_buffer(np.arange(0, 6 * n + 1, 6, dtype=np.int32)),
                pa.py_buffer(hexbuf),
            ],
        )
        offsets = np.empty(n + 1, dtype=np.int32)
        data = np.empty(8 * n + 1, dtype=np.uint8)
        kernels.strip_chars(chars, i8[kernels.I8_HAS_CALLSIGN], offsets, data)
        callsign = pa.Array.from_buffers(
            pa.string(),
            n,
            [
                _validity(i8[kernels.I8_HAS_CALLSIGN] == 1),
                pa.py_buffer(offsets),
                pa.py_buffer(data),
            ],
        )
        nic = out_i8[kernels.OUT_NIC]
        is_pos = i8[kernels.I8_POS_KIND] > kernels.POS_NONE
        columns = {
            "time": time_col,
            "df": small(i8[kernels.I8_DF]),
            "icao": icao_arr,
            "crc_ok": flag(i8[kernels.I8_CRC_OK]),
            "ca": small(i8[kernels.I8_CA]),
            "tc": small(i8[kernels.I8_TC]),
            "callsign": callsign,
            "latitude": real(lat),
            "longitude": real(lon),
            "cpr_odd": flag(np.where(is_pos, i8[kernels.I8_CPR_ODD], -1).astype(np.int16)),
            "altitude_baro_ft": real(f8[kernels.F8_ALT_BARO]),
            "altitude_gnss_ft": real(f8[kernels.F8_ALT_GNSS]),
            "nic": small(nic),
            "nacp": small(out_i8[kernels.OUT_NACP]),
            "sil": small(out_i8[kernels.OUT_SIL]),
            "version": small(out_i8[kernels.OUT_VERSION]),
            "groundspeed_kt": real(f8[kernels.F8_GROUNDSPEED]),
            "track_deg": real(f8[kernels.F8_TRACK]),
            "airspeed_kt": real(f8[kernels.F8_AIRSPEED]),
            "heading_deg": real(f8[kernels.F8_HEADING]),
            "vertical_rate_fpm": real(f8[kernels.F8_VRATE]),
            "gnss_baro_diff_ft": real(f8[kernels.F8_GNSS_BARO]),
            "signal": signal.cast(pa.uint8()),
        }
        return pa.table(list(columns.values()), schema=DECODED)

    def _tally(
        self,
        i8: npt.NDArray[np.int16],
        icao: npt.NDArray[np.int32],
        lat: npt.NDArray[np.float64],
        counts: npt.NDArray[np.int64],
    ) -> None:
        rep = self.report
        rep.frames += icao.shape[0]
        by_df = np.bincount(i8[kernels.I8_DF] + 1, minlength=26)
        for v, c in enumerate(by_df.tolist()):
            if c:
                rep.by_df["Mode A/C or unknown" if v == 0 else f"DF{v - 1}"] += c
        by_tc = np.bincount(i8[kernels.I8_TC] + 1, minlength=33)
        for v, c in enumerate(by_tc[1:].tolist()):
            if c:
                rep.by_tc[v] += c
        rep.positions += int(np.count_nonzero(~np.isnan(lat)))
        rep.merge_counts(counts)
        rep.aircraft = len(self._slots)


def _validity(mask: npt.NDArray[np.bool_]) -> pa.Buffer | None:
    if mask.all():
        return None
    return pa.py_buffer(np.packbits(mask, bitorder="little"))


def decode_table(
    frames: pa.Table | pa.RecordBatch, config: DecoderConfig | None = None
) -> pa.Table:
    """Decode a whole raw-frame table in one go (fresh state)."""
    return Decoder(config).decode(frames)


__all__ = [
    "RAW_FRAMES",
    "DecodeReport",
    "Decoder",
    "DecoderConfig",
    "decode_table",
    "frames_matrix",
]
