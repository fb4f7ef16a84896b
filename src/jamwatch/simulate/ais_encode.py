"""AIS encoder of the ship simulator: columns to NMEA 0183 ``!AIVDM`` sentences.

Every field is written from the same table of bit positions the decoder reads
(:mod:`jamwatch.decoder.ais_fields`), whole columns at a time: the fields of all messages of
one type go into a bit matrix, which is armoured into 6-bit characters. Each sentence gets an
NMEA 4.0 tag block with its time (``c:``, Unix milliseconds) and station (``s:``), so the
reader gives the messages their times. Messages longer than one sentence (type 5) are not
written: the simulator sends static data as type 24.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from jamwatch.decoder.ais_fields import COMMON, NUMBERS, TEXTS, Bits

U8 = npt.NDArray[np.uint8]

#: payload bits of the message types written (type 24 part A: 160)
LENGTH_BITS = {1: 168, 2: 168, 3: 168, 4: 168, 18: 168, 24: 160}
#: the "not available" codes of the scaled fields
NOT_AVAILABLE = {"lat": 91.0, "lon": 181.0, "sog": 1023, "cog": 3600, "heading": 511, "second": 60}
#: unscaled fields whose "not given" is "not available", not 0 (rate of turn: -128)
DEFAULTS = {"turn": -128}
SIX_BIT = "@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_ !\"#$%&'()*+,-./0123456789:;<=>?"


def _put(bits: U8, field: Bits, values: npt.ArrayLike) -> None:
    """Write ``values`` (integers; two's complement where signed) into the field's bits."""
    v = np.asarray(values, np.int64) & ((1 << field.width) - 1)
    shifts = np.arange(field.width - 1, -1, -1, dtype=np.int64)
    bits[:, field.start : field.start + field.width] = (v[:, None] >> shifts) & 1


def _text(bits: U8, field: Bits, texts: list[str]) -> None:
    """Write 6-bit text, padded with '@'."""
    n = field.width // 6
    codes = np.zeros((len(texts), n), np.int64)
    for i, text in enumerate(texts):
        for j, ch in enumerate(text.upper()[:n]):
            codes[i, j] = max(SIX_BIT.find(ch), 0)
    for j in range(n):
        _put(bits, Bits(field.start + 6 * j, 6), codes[:, j])


def scaled(name: str, values: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Physical values (degrees, knots; NaN: not available) as the field's integers."""
    v = np.asarray(values, np.float64)
    na = np.isnan(v)
    if name in ("lat", "lon"):
        out = np.rint(np.where(na, NOT_AVAILABLE[name], v) * 600_000.0)
    elif name in ("sog", "cog"):
        out = np.where(na, NOT_AVAILABLE[name], np.rint(v * 10.0))
    else:
        out = np.where(na, NOT_AVAILABLE.get(name, 0), np.rint(v))
    return np.asarray(out, np.int64)


def payloads(
    msg_type: int, fields: Mapping[str, npt.ArrayLike],
    texts: Mapping[str, list[str]] | None = None,
) -> tuple[list[str], int]:  # fmt: skip
    """Armoured payloads of messages of one type, and their fill bits. ``fields``: the
    table's field names (``mmsi``, ``lat``, ``lon``, ``sog``, ...) as physical values for
    the scaled ones (:func:`scaled`) and integers for the others; fields not given are 0
    (``repeat``, ``raim``, ...), except the scaled ones, which are "not available"."""
    n = len(np.asarray(fields["mmsi"]))
    length = LENGTH_BITS[msg_type]
    chars = -(-length // 6)
    bits = np.zeros((n, chars * 6), np.uint8)
    _put(bits, Bits(0, 6), np.full(n, msg_type))
    layout = {**COMMON, **NUMBERS[msg_type]}
    for name, field in layout.items():
        if name in ("lat", "lon", "sog", "cog", "heading", "second"):
            _put(bits, field, scaled(name, fields.get(name, np.full(n, np.nan))))
        elif name in fields:
            _put(bits, field, fields[name])
        elif name in DEFAULTS:
            _put(bits, field, np.full(n, DEFAULTS[name]))
    for name, field in TEXTS.get(msg_type, {}).items():
        if texts and name in texts:
            _text(bits, field, texts[name])
    six = bits.reshape(n, chars, 6) @ np.array([32, 16, 8, 4, 2, 1], np.uint8)
    armour = np.where(six < 40, six + 48, six + 56).astype(np.uint8)
    return [row.tobytes().decode("ascii") for row in armour], chars * 6 - length


def _checksum(body: str) -> str:
    x = 0
    for ch in body.encode("ascii"):
        x ^= ch
    return f"{x:02X}"


def sentences(
    payload: list[str], fill: int, times_ns: npt.ArrayLike, station: str = "jamwatch-sim",
    channel: str = "A",
) -> list[str]:  # fmt: skip
    """One ``!AIVDM`` line per payload, with a tag block of its time and station."""
    out = []
    for text, t in zip(payload, np.asarray(times_ns, np.int64).tolist(), strict=True):
        tag = f"s:{station},c:{t // 1_000_000}"
        body = f"AIVDM,1,1,,{channel},{text},{fill}"
        out.append(f"\\{tag}*{_checksum(tag)}\\!{body}*{_checksum(body)}")
    return out


__all__ = ["LENGTH_BITS", "payloads", "scaled", "sentences"]
