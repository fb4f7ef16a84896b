"""A compiled scanner of readsb trace arrays: the bytes of ``"trace": [[...], ...]`` straight
into NumPy columns, with no Python object per point (the ``orjson`` + NumPy path of
:mod:`jamwatch.io.traces` spends most of its time creating and transposing the points'
Python lists).

:func:`scan` finds the ``trace`` array (the last key, where readsb writes it), parses the
header before it with orjson, and runs :func:`_scan_points` over the array: per point, the
numbers of entries 0-5, 7 and 10 as floats (NaN for null), ``"ground"``, the flags, the
source type as a downlink format, and from the state object only ``nic``, ``nac_p``,
``sil``, ``version`` (as numbers) and ``flight`` (its byte offsets); every other value is
skipped unparsed. A number is its decimal mantissa divided (or multiplied) by an exact power
of ten: one correctly rounded operation on exact values, so the same double orjson reads, as
long as the mantissa is below 2**53 (readsb writes 6 decimals); a longer one declines the
file. Anything the scanner does not expect makes :func:`scan` return None, and the caller
reads the file with orjson instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np
import numpy.typing as npt
import orjson

#: the largest mantissa a double holds exactly (2**53): a number with a longer one (more
#: than 15-16 significant digits; readsb writes 6 decimals) is left to orjson
EXACT = 2**53
U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

# the scanner's outputs: float slots per point, and the state fields' slots
F_DT, F_LAT, F_LON, F_ALT, F_GS, F_TRACK, F_VRATE, F_GEOM = range(8)
S_NIC, S_NACP, S_SIL, S_VERSION = range(4)
#: per entry of a point (0-10): its float slot, -1 for the entries read otherwise
SLOT_OF_FIELD = np.array([F_DT, F_LAT, F_LON, F_ALT, F_GS, F_TRACK, -1, F_VRATE, -1, -1, F_GEOM])
#: the words the scanner compares: the state keys it takes, "ground", the source types
_WORDS = [b"nic", b"nac_p", b"sil", b"version", b"flight", b"ground", b"adsb_icao",
          b"adsb_icao_nt", b"adsr", b"tisb"]  # fmt: skip
W_FLIGHT, W_GROUND, W_ADSB, W_ADSB_NT, W_ADSR, W_TISB = range(4, 10)
WORDS = np.frombuffer(b"".join(_WORDS), np.uint8)
WORD_STARTS = np.cumsum([0] + [len(w) for w in _WORDS]).astype(np.int64)


@nb.njit(cache=True, nogil=True)
def _ws(b: U8, i: int) -> int:
    n = b.shape[0]
    while i < n and (b[i] == 32 or b[i] == 10 or b[i] == 13 or b[i] == 9):
        i += 1
    return i


@nb.njit(cache=True, nogil=True)
def _number(b: U8, i: int) -> tuple[float, int, bool]:
    """(value, next index, ok) of a JSON number at i."""
    n = b.shape[0]
    neg = False
    if i < n and b[i] == 45:
        neg = True
        i += 1
    mant = 0
    digits = 0
    frac = 0
    seen = False
    while i < n and 48 <= b[i] <= 57:
        if digits < 18:
            mant = mant * 10 + (b[i] - 48)
            digits += 1
        else:
            frac -= 1
        i += 1
        seen = True
    if i < n and b[i] == 46:
        i += 1
        while i < n and 48 <= b[i] <= 57:
            if digits < 18:
                mant = mant * 10 + (b[i] - 48)
                digits += 1
                frac += 1
            i += 1
            seen = True
    exp = 0
    if i < n and (b[i] == 101 or b[i] == 69):
        i += 1
        eneg = False
        if i < n and (b[i] == 43 or b[i] == 45):
            eneg = b[i] == 45
            i += 1
        while i < n and 48 <= b[i] <= 57:
            exp = exp * 10 + (b[i] - 48)
            i += 1
        if eneg:
            exp = -exp
    p = exp - frac
    if not seen or mant > EXACT or p < -22 or p > 22:
        return 0.0, i, False  # (not exact as a quotient of two doubles: orjson reads it)
    v = float(mant)
    if p < 0:
        v = v / 10.0 ** (-p)
    elif p > 0:
        v = v * 10.0**p
    return (-v if neg else v), i, True


@nb.njit(cache=True, nogil=True)
def _skip_string(b: U8, i: int) -> int:
    """Index after the string starting at i (b[i] == '"')."""
    n = b.shape[0]
    i += 1
    while i < n:
        c = b[i]
        if c == 92:
            i += 2
            continue
        if c == 34:
            return i + 1
        i += 1
    return -1


@nb.njit(cache=True, nogil=True)
def _skip_value(b: U8, i: int) -> int:
    """Index after the JSON value at i (-1 if malformed)."""
    n = b.shape[0]
    if i >= n:
        return -1
    c = b[i]
    if c == 34:
        return _skip_string(b, i)
    if c == 91 or c == 123:
        depth = 0
        while i < n:
            c = b[i]
            if c == 34:
                i = _skip_string(b, i)
                if i < 0:
                    return -1
                continue
            if c == 91 or c == 123:
                depth += 1
            elif c == 93 or c == 125:
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        return -1
    while i < n and b[i] != 44 and b[i] != 93 and b[i] != 125:
        i += 1
    return i


@nb.njit(cache=True, nogil=True)
def _word(b: U8, a: int, e: int, words: U8, starts: I64, w: int, prefix: bool = False) -> bool:
    """Whether b[a:e] is word ``w`` of ``words`` (or starts with it, with ``prefix``)."""
    length = starts[w + 1] - starts[w]
    if e - a < length or (e - a != length and not prefix):
        return False
    for k in range(length):  # noqa: SIM110 (compiled: no generator)
        if b[a + k] != words[starts[w] + k]:
            return False
    return True


@nb.njit(cache=True, nogil=True)
def _kind(b: U8, a: int, e: int, words: U8, starts: I64) -> int:
    """The downlink format of a source type b[a:e]: 17, 18 or 0 (not ADS-B)."""
    if _word(b, a, e, words, starts, W_ADSB):
        return 17
    for w in (W_ADSB_NT, W_ADSR, W_TISB):
        if _word(b, a, e, words, starts, w, True):
            return 18
    return 0


@nb.njit(cache=True, nogil=True)
def _scan_state(
    b: U8, i: int, p: int, state: F64, has: B, flight: I64, words: U8, starts: I64
) -> int:
    """The state object at ``b[i] == '{'`` of point ``p``: its nic, nac_p, sil and version
    into ``state``, the offsets of its flight into ``flight``; the index after it (-1:
    not as expected)."""
    n = b.shape[0]
    i = _ws(b, i + 1)
    while i < n and b[i] != 125:
        if b[i] != 34:
            return -1
        ka = i + 1
        i = _skip_string(b, i)
        if i < 0:
            return -1
        ke = i - 1
        i = _ws(b, i)
        if i >= n or b[i] != 58:
            return -1
        i = _ws(b, i + 1)
        slot = -1
        for s in range(4):
            if _word(b, ka, ke, words, starts, s):
                slot = s
        if slot >= 0 and b[i] != 110:
            v, i, ok = _number(b, i)
            if ok:
                state[p, slot] = v
                has[p, slot] = True
        elif _word(b, ka, ke, words, starts, W_FLIGHT) and b[i] == 34:
            j = _skip_string(b, i)
            if j < 0:
                return -1
            flight[p, 0] = i + 1
            flight[p, 1] = j - 1
            i = j
        else:
            i = _skip_value(b, i)
            if i < 0:
                return -1
        i = _ws(b, i)
        if i < n and b[i] == 44:
            i = _ws(b, i + 1)
    return i + 1


@nb.njit(cache=True, nogil=True)
def _scan_entry(
    b: U8, i: int, k: int, p: int, floats: F64, ground: B, flags: I64, kind: I64, words: U8,
    starts: I64,
) -> int:  # fmt: skip
    """Entry ``k`` (not a state object) of point ``p`` at ``b[i]``; the index after it."""
    c = b[i]
    if c == 110:  # null
        return i + 4
    if c == 34:  # a string: "ground" (altitude) or the source type
        j = _skip_string(b, i)
        if j < 0:
            return -1
        if k == 3 and _word(b, i + 1, j - 1, words, starts, W_GROUND):
            ground[p] = True
        elif k == 9:
            kind[p] = _kind(b, i + 1, j - 1, words, starts)
        return j
    if c == 45 or 48 <= c <= 57:
        v, i, ok = _number(b, i)
        if not ok:
            return -1
        if k == 6:
            flags[p] = int(v)
        elif k < 11 and SLOT_OF_FIELD[k] >= 0:
            floats[p, SLOT_OF_FIELD[k]] = v
        return i
    return _skip_value(b, i)


@nb.njit(cache=True, nogil=True)
def _scan_points(
    b: U8, i: int, floats: F64, ground: B, flags: I64, kind: I64, state: F64, has: B,
    flight: I64, words: U8, starts: I64,
) -> tuple[int, int]:  # fmt: skip
    """Parse the trace array starting at b[i] == '['. Returns (points, end index) or (-1, i)."""
    n = b.shape[0]
    cap = floats.shape[0]
    i = _ws(b, i)
    if i >= n or b[i] != 91:
        return -1, i
    i = _ws(b, i + 1)
    p = 0
    if i < n and b[i] == 93:
        return 0, i + 1
    while i < n:
        if b[i] != 91:
            return -1, i
        if p >= cap:
            return -2, i
        for s in range(8):
            floats[p, s] = np.nan
        ground[p] = False
        flags[p] = 0
        kind[p] = 0
        for s in range(4):
            has[p, s] = False
        flight[p, 0] = -1
        flight[p, 1] = -1
        i = _ws(b, i + 1)
        k = 0
        if i < n and b[i] == 93:
            i += 1
        else:
            while True:
                i = _ws(b, i)
                if i >= n:
                    return -1, i
                c = b[i]
                if k == 8 and c == 123:  # the state object
                    i = _scan_state(b, i, p, state, has, flight, words, starts)
                else:
                    i = _scan_entry(b, i, k, p, floats, ground, flags, kind, words, starts)
                if i < 0:
                    return -1, 0
                i = _ws(b, i)
                if i < n and b[i] == 44:
                    i += 1
                    k += 1
                    continue
                if i < n and b[i] == 93:
                    i += 1
                    break
                return -1, i
        p += 1
        i = _ws(b, i)
        if i < n and b[i] == 44:
            i = _ws(b, i + 1)
            continue
        if i < n and b[i] == 93:
            return p, i + 1
        return -1, i
    return -1, i


@nb.njit(cache=True, nogil=True)
def _new_flights(b: U8, flight: I64, n: int) -> B:
    """The points whose state object has a ``flight`` that differs from the one before."""
    out = np.zeros(n, np.bool_)
    la, le = -1, -1
    for p in range(n):
        a, e = flight[p, 0], flight[p, 1]
        if a < 0:
            continue
        same = la >= 0 and e - a == le - la
        if same:
            for k in range(e - a):
                if b[a + k] != b[la + k]:
                    same = False
                    break
        out[p] = not same
        la, le = a, e
    return out


@dataclass(frozen=True, slots=True)
class Scanned:
    """A trace's header values and its points' columns (see the module documentation)."""

    icao: str
    timestamp: float
    floats: np.ndarray  # (n, 8): F_* slots
    ground: np.ndarray
    flags: np.ndarray
    df: np.ndarray  # 17, 18 or 0
    state: np.ndarray  # (n, 4): S_* slots, valid where ``has``
    has: np.ndarray
    flights: dict[int, str]  # point -> the state object's ``flight`` (where it changes)


def _text(quoted: bytes) -> str:
    """A JSON string (with its quotes) as text; escapes, if any, read by orjson."""
    if b"\\" not in quoted:
        return quoted[1:-1].decode("utf-8", "replace")
    text = orjson.loads(quoted)
    return text if isinstance(text, str) else ""


def scan(raw: bytes) -> Scanned | None:
    """The trace in ``raw`` (JSON bytes), or None when it is not laid out as readsb writes it."""
    at = raw.rfind(b'"trace"')
    colon = raw.find(b":", at)
    if at < 0 or colon < 0:
        return None
    try:
        head = orjson.loads(raw[:at] + b'"trace": []}')
    except orjson.JSONDecodeError:
        return None
    icao, timestamp = head.get("icao") if isinstance(head, dict) else None, None
    if isinstance(head, dict):
        timestamp = head.get("timestamp")
    if not isinstance(icao, str) or not isinstance(timestamp, int | float):
        return None
    cap = raw.count(b"[", colon) + 1  # (at least the points)
    floats = np.empty((cap, 8))
    ground = np.zeros(cap, np.bool_)
    flags = np.zeros(cap, np.int64)
    df = np.zeros(cap, np.int64)
    state = np.zeros((cap, 4))
    has = np.zeros((cap, 4), np.bool_)
    flight = np.full((cap, 2), -1, np.int64)
    b = np.frombuffer(raw, np.uint8)
    n, end = _scan_points(b, colon + 1, floats, ground, flags, df, state, has, flight,
                          WORDS, WORD_STARTS)  # fmt: skip
    if n < 0 or raw[end:].strip() != b"}":
        return None
    at_flight = np.flatnonzero(_new_flights(b, flight, n))  # (a callsign changes rarely)
    flights = {int(k): _text(raw[flight[k, 0] - 1 : flight[k, 1] + 1]) for k in at_flight}
    return Scanned(icao, float(timestamp), floats[:n], ground[:n], flags[:n], df[:n],
                   state[:n], has[:n], flights)  # fmt: skip


__all__ = ["Scanned", "scan"]
