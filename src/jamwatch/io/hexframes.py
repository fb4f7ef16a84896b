"""Hex text to raw frame bytes, a whole Arrow string column at a time."""

from __future__ import annotations

import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

_HEX = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEX[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _HEX[_c] = 10 + _i

# reasons a hex string is rejected (codes in the status array)
OK, BAD_CHAR, BAD_LENGTH = 0, 1, 2


@nb.njit(cache=True, nogil=True)
def _unhex(
    offsets: npt.NDArray[np.int64],
    data: npt.NDArray[np.uint8],
    table: npt.NDArray[np.uint8],
    out_offsets: npt.NDArray[np.int32],
    out: npt.NDArray[np.uint8],
    status: npt.NDArray[np.uint8],
) -> None:  # pragma: no cover
    n = offsets.shape[0] - 1
    pos = 0
    for i in range(n):
        out_offsets[i] = pos
        a = offsets[i]
        b = offsets[i + 1]
        # tolerate surrounding blanks and quotes
        while a < b and (data[a] == 32 or data[a] == 34 or data[a] == 9):
            a += 1
        while b > a and (
            data[b - 1] == 32 or data[b - 1] == 34 or data[b - 1] == 13 or data[b - 1] == 9
        ):
            b -= 1
        length = b - a
        if length != 28 and length != 14 and length != 4:
            status[i] = BAD_LENGTH
            continue
        bad = False
        for k in range(0, length, 2):
            hi = table[data[a + k]]
            lo = table[data[a + k + 1]]
            if hi == 255 or lo == 255:
                bad = True
                break
            out[pos + k // 2] = (hi << 4) | lo
        if bad:
            status[i] = BAD_CHAR
            continue
        pos += length // 2
    out_offsets[n] = pos


def hex_to_frames(
    strings: pa.Array | pa.ChunkedArray,
) -> tuple[pa.Array, npt.NDArray[np.uint8]]:
    """Convert hex strings (28, 14 or 4 digits) to a binary column.

    Returns the frames (null where rejected) and a status per row: 0 ok, 1 a non-hex
    character, 2 a length that is not a Mode S (or Mode A/C) frame. Blanks and double
    quotes around the digits are ignored; a null string counts as a bad length.
    """
    if isinstance(strings, pa.ChunkedArray):
        strings = strings.combine_chunks() if strings.num_chunks else pa.array([], pa.string())
    if not (pa.types.is_string(strings.type) or pa.types.is_large_string(strings.type)):
        strings = strings.cast(pa.string())
    strings = strings.cast(pa.large_string())
    n = len(strings)
    bufs = strings.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64, count=n + 1, offset=strings.offset * 8)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(1, np.uint8)
    out_offsets = np.empty(n + 1, dtype=np.int32)
    out = np.empty(max(1, (int(offsets[-1]) - int(offsets[0])) // 2 + 1), dtype=np.uint8)
    status = np.zeros(n, dtype=np.uint8)
    _unhex(offsets, data, _HEX, out_offsets, out, status)
    valid = status == OK
    if strings.null_count:
        nulls = np.asarray(strings.is_null().to_numpy(zero_copy_only=False))
        status[nulls] = BAD_LENGTH
        valid &= ~nulls
    validity = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    frames = pa.Array.from_buffers(
        pa.binary(), n, [validity, pa.py_buffer(out_offsets), pa.py_buffer(out)]
    )
    return frames, status
