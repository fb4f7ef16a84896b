"""One table of AIS field positions, shared by the decoder (and the ship encoder to come).

Bit offsets are 0-based over the de-armoured payload, as in ITU-R M.1371-5 and gpsd's
"AIVDM/AIVDO protocol decoding" (bit 0 is the most significant bit of the first 6-bit
character). Every message starts with type 0-5, repeat indicator 6-7 and MMSI 8-37.

    1, 2, 3   class A position (168 bits): navigation status 38-41, rate of turn 42-49 (signed),
              SOG 50-59 (0.1 kt, 1023 n/a), accuracy 60, longitude 61-88 and latitude 89-115
              (signed, 1/10000 minute; 181 and 91 degrees n/a), COG 116-127 (0.1 degree, 3600
              n/a), true heading 128-136 (511 n/a), UTC second 137-142 (60-63 n/a),
              manoeuvre 143-144, RAIM 148, radio status 149-167
    4, 11     base station report / UTC response (168 bits): UTC year 38-51, month 52-55,
              day 56-60, hour 61-65, minute 66-71, second 72-77, accuracy 78, longitude 79-106,
              latitude 107-133, EPFD 134-137, RAIM 148
    5         static and voyage data (424 bits): AIS version 38-39, IMO 40-69, call sign
              70-111 (7 characters), name 112-231 (20 characters), ship type 232-239,
              dimensions 240-269, EPFD 270-273, ETA 274-293, draught 294-301,
              destination 302-421
    18        class B position (168 bits): SOG 46-55, accuracy 56, longitude 57-84,
              latitude 85-111, COG 112-123, heading 124-132, UTC second 133-138, RAIM 147
    19        extended class B position (312 bits): as 18 to bit 138, name 143-262, ship
              type 263-270, dimensions 271-300, EPFD 301-304, RAIM 305
    24        static data (part A 160 bits, part B 168 bits): part number 38-39; A: name
              40-159; B: ship type 40-47, vendor 48-89, call sign 90-131
    27        long-range position (96 bits): accuracy 38, RAIM 39, navigation status 40-43,
              longitude 44-61 and latitude 62-78 (signed, 1/10 minute), SOG 79-84 (knots, 63
              n/a), COG 85-93 (degrees, 511 n/a), GNSS position status 94

Text is 6-bit ASCII (0-31 are ``@A-Z[\\]^_``, 32-63 are space to ``?``), padded with ``@``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class Bits:
    """A field of ``width`` bits starting at 0-based payload bit ``start``; ``signed`` for
    two's complement."""

    start: int
    width: int
    signed: bool = False


_CLASS_A = {
    "nav_status": Bits(38, 4),
    "turn": Bits(42, 8, signed=True),
    "sog": Bits(50, 10),
    "accuracy": Bits(60, 1),
    "lon": Bits(61, 28, signed=True),
    "lat": Bits(89, 27, signed=True),
    "cog": Bits(116, 12),
    "heading": Bits(128, 9),
    "second": Bits(137, 6),
    "raim": Bits(148, 1),
}
_BASE = {
    "year": Bits(38, 14),
    "month": Bits(52, 4),
    "day": Bits(56, 5),
    "hour": Bits(61, 5),
    "minute": Bits(66, 6),
    "second": Bits(72, 6),
    "accuracy": Bits(78, 1),
    "lon": Bits(79, 28, signed=True),
    "lat": Bits(107, 27, signed=True),
    "epfd": Bits(134, 4),
    "raim": Bits(148, 1),
}
_CLASS_B = {
    "sog": Bits(46, 10),
    "accuracy": Bits(56, 1),
    "lon": Bits(57, 28, signed=True),
    "lat": Bits(85, 27, signed=True),
    "cog": Bits(112, 12),
    "heading": Bits(124, 9),
    "second": Bits(133, 6),
}

#: Numeric fields by message type (every type also has ``repeat`` and ``mmsi``).
NUMBERS: dict[int, dict[str, Bits]] = {
    1: _CLASS_A,
    2: _CLASS_A,
    3: _CLASS_A,
    4: _BASE,
    11: _BASE,
    5: {
        "ais_version": Bits(38, 2),
        "imo": Bits(40, 30),
        "ship_type": Bits(232, 8),
        "epfd": Bits(270, 4),
    },
    18: {**_CLASS_B, "raim": Bits(147, 1)},
    19: {**_CLASS_B, "ship_type": Bits(263, 8), "epfd": Bits(301, 4), "raim": Bits(305, 1)},
    24: {"part": Bits(38, 2), "ship_type": Bits(40, 8)},
    27: {
        "accuracy": Bits(38, 1),
        "raim": Bits(39, 1),
        "nav_status": Bits(40, 4),
        "lon": Bits(44, 18, signed=True),
        "lat": Bits(62, 17, signed=True),
        "sog": Bits(79, 6),
        "cog": Bits(85, 9),
    },
}
COMMON = {"repeat": Bits(6, 2), "mmsi": Bits(8, 30)}

#: Text fields by message type: 6-bit characters, ``width`` a multiple of 6.
TEXTS: dict[int, dict[str, Bits]] = {
    5: {"callsign": Bits(70, 42), "ship_name": Bits(112, 120)},
    19: {"ship_name": Bits(143, 120)},
    24: {"ship_name": Bits(40, 120), "callsign": Bits(90, 42)},
}

#: Type 24 carries the name in part A (0) and the ship type and call sign in part B (1).
PART_B_ONLY = frozenset({"ship_type", "callsign"})
PART_A_ONLY = frozenset({"ship_name"})

NUMBER_NAMES: tuple[str, ...] = tuple(
    dict.fromkeys([*COMMON, *(name for fields in NUMBERS.values() for name in fields)])
)
TEXT_NAMES: tuple[str, ...] = tuple(
    dict.fromkeys(name for fields in TEXTS.values() for name in fields)
)
#: message types are 6 bits wide
N_TYPES = 64


def layout(
    table: dict[int, dict[str, Bits]], names: tuple[str, ...], common: dict[str, Bits]
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.int16], npt.NDArray[np.bool_]]:
    """The table as arrays ``[message type, field]`` of start, width (0 where the type has
    no such field) and signedness, for the compiled decoder."""
    start = np.zeros((N_TYPES, len(names)), np.int16)
    width = np.zeros((N_TYPES, len(names)), np.int16)
    signed = np.zeros((N_TYPES, len(names)), np.bool_)
    for j, name in enumerate(names):
        for msg_type in range(N_TYPES):
            bits = common.get(name) or table.get(msg_type, {}).get(name)
            if bits is not None:
                start[msg_type, j], width[msg_type, j] = bits.start, bits.width
                signed[msg_type, j] = bits.signed
    return start, width, signed


__all__ = [
    "COMMON",
    "NUMBERS",
    "NUMBER_NAMES",
    "PART_A_ONLY",
    "PART_B_ONLY",
    "TEXTS",
    "TEXT_NAMES",
    "Bits",
    "layout",
]
