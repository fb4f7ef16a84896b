"""The compiled frame writer over columns of messages: :func:`encode_messages`.

One pass of :func:`jamwatch.simulate.frame.encode_row` per message, with the per-aircraft
values (:class:`Avionics`) looked up by each message's aircraft; what
:func:`jamwatch.simulate.encode.encode_matrix` runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np
import numpy.typing as npt

from jamwatch.simulate.frame import encode_row, encoder_tables

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _encode_kernel(
    out: U8,
    take: I64,
    aircraft: I64,
    kind: I64,
    lat: F64,
    lon: F64,
    odd: I64,
    alt: F64,
    nic: I64,
    nacp: I64,
    gs: F64,
    trk: F64,
    vr: F64,
    dalt: F64,
    salt: F64,
    icao: I64,
    nic_a: I64,
    chars: I64,
    sil: I64,
    category: I64,
    ident_tc: I64,
    gnss: npt.NDArray[np.bool_],
    tables: tuple[I64, I64, I64, I64],
) -> int:
    """Frames of rows ``take``; returns the first row with a value that does not fit, or -1."""
    first_bad = -1
    for i in range(take.shape[0]):
        j = take[i]
        a = aircraft[j]
        bad = encode_row(
            out,
            i,
            tables,
            kind[j],
            icao[a],
            chars[a],
            category[a],
            ident_tc[a],
            nic_a[a],
            sil[a],
            gnss[a],
            lat[j],
            lon[j],
            odd[j],
            alt[j],
            nic[j],
            nacp[j],
            gs[j],
            trk[j],
            vr[j],
            dalt[j],
            salt[j],
        )
        if bad != 0 and first_bad < 0:
            first_bad = i
    return first_bad


@dataclass(frozen=True, slots=True)
class Avionics:
    """Per-aircraft inputs of :func:`encode_messages` (one row per aircraft).

    ``chars``: 48-bit identification field (:func:`callsign_code`); ``gnss``: positions with
    GNSS height (TC 20-22) instead of barometric altitude.
    """

    icao: I64
    nic_a: I64
    chars: I64
    sil: I64
    category: I64
    ident_tc: I64
    gnss: npt.NDArray[np.bool_]


def encode_messages(
    take: I64,
    aircraft: I64,
    kind: I64,
    avionics: Avionics,
    *,
    latitude: F64,
    longitude: F64,
    odd: I64,
    altitude_ft: F64,
    nic: I64,
    nacp: I64,
    groundspeed_kt: F64,
    track_deg: F64,
    vertical_rate_fpm: F64,
    gnss_baro_diff_ft: F64,
    selected_altitude_ft: F64,
) -> U8:
    """Frames of messages ``take`` (indices into the per-message columns), in that order.

    Per-message columns have one value per message (NaN: not available, as in
    :func:`field_values`); ``aircraft[j]`` is the row of message ``j`` in ``avionics``.
    Compiled: one pass per frame, CRC included; gives the bytes of :func:`encode_one`.
    """
    out = np.empty((take.shape[0], 14), dtype=np.uint8)
    av = avionics

    def c(x: npt.ArrayLike, dtype: type) -> npt.NDArray[Any]:
        return np.require(x, dtype, ["C", "W"])

    bad = _encode_kernel(
        out,
        c(take, np.int64),
        c(aircraft, np.int64),
        c(kind, np.int64),
        c(latitude, np.float64),
        c(longitude, np.float64),
        c(odd, np.int64),
        c(altitude_ft, np.float64),
        c(nic, np.int64),
        c(nacp, np.int64),
        c(groundspeed_kt, np.float64),
        c(track_deg, np.float64),
        c(vertical_rate_fpm, np.float64),
        c(gnss_baro_diff_ft, np.float64),
        c(selected_altitude_ft, np.float64),
        c(av.icao, np.int64),
        c(av.nic_a, np.int64),
        c(av.chars, np.int64),
        c(av.sil, np.int64),
        c(av.category, np.int64),
        c(av.ident_tc, np.int64),
        c(av.gnss, np.bool_),
        encoder_tables(),
    )
    if bad >= 0:
        raise ValueError(f"a value of message {int(take[bad])} does not fit its DF17 field")
    return out
