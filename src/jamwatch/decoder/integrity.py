"""NIC (navigation integrity category) from the position type code and the NIC supplements.

DO-260B (version 2) Tables 2-14 and 2-19, DO-260A (version 1) and DO-260 (version 0) via the
horizontal protection limit each type code stands for. Supplement A comes from TC31, B from
bit 40 of an airborne position message (version 2 only: earlier versions use that bit for
the single-antenna flag), C from the surface TC31 capability class. Until a TC31 has been
seen the version is taken as 0, as DO-260B receivers do.

    airborne TC  9 10  11     12 13 14 15  16     17 18 20 21 22
    NIC         11 10  9|8     7  6  5  4  3|2     1  0 11 10  0
    surface  TC  5  6   7      8
    NIC         11 10  9|8     7|6|6|0 (v2), 0 (v0/v1)

TC 11 is NIC 9 with A=1 and B=1 (v2) or A=1 (v1), else 8; TC 16 is NIC 3 with A=1 and B=1
(v2) or A=1 (v1), else 2 (3 for version 0: HPL < 7.408 km). Surface TC 7 is 9 with A=1
(v1/v2), else 8; TC 8 (v2): A=1,C=1 -> 7; A xor C -> 6; neither -> 0.
"""

from __future__ import annotations

import numba as nb

#: containment radius bound (metres) of each NIC; NIC 0 is unknown
RC_M: dict[int, float | None] = {
    0: None,
    1: 37040.0,
    2: 14816.0,
    3: 7408.0,
    4: 3704.0,
    5: 1852.0,
    6: 1111.2,
    7: 370.4,
    8: 185.2,
    9: 75.0,
    10: 25.0,
    11: 7.5,
}


@nb.njit(cache=True, nogil=True)
def nic(tc: int, version: int, nic_a: int, nic_b: int, nic_c: int) -> int:  # pragma: no cover
    """NIC of a position message; -1 when ``tc`` is not a position type code."""
    a = nic_a == 1
    b = nic_b == 1
    c = nic_c == 1
    if tc == 9 or tc == 20 or tc == 5:
        return 11
    if tc == 10 or tc == 21 or tc == 6:
        return 10
    if tc == 11:
        if version >= 2:
            return 9 if (a and b) else 8
        if version == 1:
            return 9 if a else 8
        return 8
    if tc == 12:
        return 7
    if tc == 13:
        return 6
    if tc == 14:
        return 5
    if tc == 15:
        return 4
    if tc == 16:
        if version >= 2:
            return 3 if (a and b) else 2
        if version == 1:
            return 3 if a else 2
        return 3
    if tc == 17:
        return 1
    if tc == 18 or tc == 22:
        return 0
    if tc == 7:
        if version >= 1:
            return 9 if a else 8
        return 8
    if tc == 8:
        if version >= 2:
            if a and c:
                return 7
            if a or c:
                return 6
        return 0
    return -1
