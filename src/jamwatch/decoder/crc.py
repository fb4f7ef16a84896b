"""CRC-24 of Mode S (generator polynomial 0x1FFF409, ICAO Annex 10 Vol IV 3.1.2.3.3).

For DF17/18 the parity field (last 24 bits) equals the CRC of the bits before it, so the
residual ``crc(data) ^ parity`` is 0 for a valid frame. For DF0/4/5/16/20/21 the parity is
overlaid with the aircraft address, so the residual *is* the address; for DF11 it is the
interrogator code (at most 7 bits when clean).
"""

from __future__ import annotations

import numba as nb
import numpy as np
import numpy.typing as npt

GENERATOR = 0xFFF409


def _make_table() -> npt.NDArray[np.uint32]:
    table = np.zeros(256, dtype=np.uint32)
    for byte in range(256):
        c = byte << 16
        for _ in range(8):
            c = ((c << 1) ^ GENERATOR) if c & 0x800000 else (c << 1)
        table[byte] = c & 0xFFFFFF
    return table


TABLE = _make_table()


def crc24(data: bytes) -> int:
    """CRC-24 of ``data`` (the frame without its parity field)."""
    c = 0
    for byte in data:
        c = ((c << 8) & 0xFFFFFF) ^ int(TABLE[((c >> 16) ^ byte) & 0xFF])
    return c


def residual(frame: bytes) -> int:
    """CRC residual of a whole frame: 0 for a valid DF17/18, the address for DF4/5/20/21."""
    return crc24(frame[:-3]) ^ int.from_bytes(frame[-3:], "big")


@nb.njit(cache=True, nogil=True)
def residual_row(mat: npt.NDArray[np.uint8], i: int, nbytes: int) -> int:  # pragma: no cover
    """Residual of row ``i`` of a (n, 14) frame matrix whose frame is ``nbytes`` long."""
    c = 0
    for k in range(nbytes - 3):
        c = ((c << 8) & 0xFFFFFF) ^ TABLE[((c >> 16) ^ mat[i, k]) & 0xFF]
    p = (
        (np.int64(mat[i, nbytes - 3]) << 16)
        | (np.int64(mat[i, nbytes - 2]) << 8)
        | np.int64(mat[i, nbytes - 1])
    )
    return int(c) ^ int(p)
