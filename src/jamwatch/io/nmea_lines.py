"""The line scanner of the NMEA reader (:mod:`jamwatch.io.nmea`): what one line of text
holds (a time prefix, a tag block, a Gatehouse line, a sentence), each sentence checked
(layout, checksum, payload characters) and every rejected line counted by reason.

The functions are compiled kernels over the bytes of a chunk, called per line by the
assembler.
"""

from __future__ import annotations

import numba as nb
import numpy as np
import numpy.typing as npt

from jamwatch.io.lines import NS_PER_S, days_from_civil, hexval, is_blank, parse_hex

#: reject reasons, in the order of the kernel's counters
REASONS = (
    "bad_checksum",
    "no_checksum",
    "malformed_sentence",
    "empty_payload",
    "broken_multipart",
    "bad_tag_block",
    "other_nmea",
    "not_nmea",
)
BAD_CHECKSUM, NO_CHECKSUM, MALFORMED, EMPTY, BROKEN, BAD_TAG, OTHER_NMEA, NOT_NMEA = range(8)
#: sentences read (the last counter)
SENTENCES = len(REASONS)

NAT = np.iinfo(np.int64).min
MAX_STATION = 64
#: Unix seconds up to this (2100-01-01) are seconds; larger values up to 1000 x are ms
_LAST_SECOND = 4_102_444_800
#: a time prefix needs at least this many digits of seconds (2001-09-09 and later)
_PREFIX_DIGITS = 10


@nb.njit(cache=True, nogil=True)
def number(buf: npt.NDArray[np.uint8], a: int, b: int) -> tuple[int, int, int]:  # pragma: no cover
    """Digits at ``a`` (before ``b``), an optional fraction: (integer part, fraction in ns,
    end); end == a when there is no digit."""
    v = 0
    p = a
    while p < b and 48 <= buf[p] <= 57 and p - a < 18:
        v = v * 10 + buf[p] - 48
        p += 1
    if p == a:
        return 0, 0, a
    frac = 0
    if p < b and buf[p] == 46:  # '.'
        p += 1
        scale = NS_PER_S // 10
        while p < b and 48 <= buf[p] <= 57:
            frac += (buf[p] - 48) * scale
            scale //= 10
            p += 1
    return v, frac, p


@nb.njit(cache=True, nogil=True)
def unix_ns(v: int, frac: int) -> int:  # pragma: no cover
    if v <= _LAST_SECOND:
        return v * NS_PER_S + frac
    if v <= _LAST_SECOND * 1000:
        return v * 1_000_000
    return NAT


@nb.njit(cache=True, nogil=True)
def xor(buf: npt.NDArray[np.uint8], a: int, b: int) -> int:  # pragma: no cover
    x = 0
    for q in range(a, b):
        x ^= buf[q]
    return x


@nb.njit(cache=True, nogil=True)
def xor_words(
    buf: npt.NDArray[np.uint8], words: npt.NDArray[np.uint64], a: int, b: int
) -> int:  # pragma: no cover
    """:func:`xor` eight bytes at a time: ``words`` is ``buf`` seen as 64-bit words (as
    far as it has whole ones)."""
    x = 0
    while a < b and a & 7:
        x ^= buf[a]
        a += 1
    w = np.uint64(0)
    while a + 8 <= b:
        w ^= words[a >> 3]
        a += 8
    while a < b:
        x ^= buf[a]
        a += 1
    w ^= w >> np.uint64(32)
    w ^= w >> np.uint64(16)
    w ^= w >> np.uint64(8)
    return (x ^ int(w)) & 0xFF


@nb.njit(cache=True, nogil=True)
def tag_block(
    buf: npt.NDArray[np.uint8], a: int, b: int
) -> tuple[bool, int, int, int]:  # pragma: no cover
    """Parse the tag block content buf[a:b]: (checksum ok, time ns, station start, end)."""
    star = -1
    for q in range(a, b):
        if buf[q] == 42:  # '*'
            star = q
    if star < 0 or b - star != 3 or parse_hex(buf, star + 1, 2) != xor(buf, a, star):
        return False, NAT, -1, -1
    t = NAT
    s0 = s1 = -1
    p = a
    while p < star:
        e = p
        while e < star and buf[e] != 44:  # ','
            e += 1
        if e - p >= 2 and buf[p + 1] == 58:  # 'x:'
            if buf[p] == 99:  # 'c'
                v, frac, end = number(buf, p + 2, e)
                if end > p + 2:
                    t = unix_ns(v, frac)
            elif buf[p] == 115:  # 's'
                s0, s1 = p + 2, min(e, p + 2 + MAX_STATION)
        p = e + 1
    return True, t, s0, s1


@nb.njit(cache=True, nogil=True)
def gatehouse(buf: npt.NDArray[np.uint8], a: int, b: int) -> int:  # pragma: no cover
    """The time of a ``$PGHP,1,yyyy,mm,dd,hh,mm,ss,ms,...`` line at buf[a:b], or NAT."""
    values = np.zeros(8, np.int64)
    p = a + 6  # after "$PGHP,"
    for k in range(8):
        v, _, end = number(buf, p, b)
        if end == p or end >= b or buf[end] != 44:
            return NAT
        values[k] = v
        p = end + 1
    kind, y, mo, d = int(values[0]), int(values[1]), int(values[2]), int(values[3])
    h, mi, s, ms = int(values[4]), int(values[5]), int(values[6]), int(values[7])
    if kind != 1 or not (1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60 and s < 61):
        return NAT
    days = days_from_civil(y, mo, d)
    return ((days * 24 + h) * 60 + mi) * 60 * NS_PER_S + s * NS_PER_S + ms * 1_000_000


@nb.njit(cache=True, nogil=True)
def digit(
    buf: npt.NDArray[np.uint8], a: int, b: int, lo: int, hi: int, empty: int
) -> int:  # pragma: no cover
    """A one-digit field buf[a:b] in [lo, hi]; ``empty`` when the field is empty; -1 if bad."""
    if b == a:
        return empty
    if b - a != 1 or not 48 + lo <= buf[a] <= 48 + hi:
        return -1
    return int(buf[a]) - 48


@nb.njit(cache=True, nogil=True)
def copy_bytes(
    src: npt.NDArray[np.uint8], a: int, b: int, dst: npt.NDArray[np.uint8], pos: int
) -> int:  # pragma: no cover
    for q in range(a, b):
        dst[pos] = src[q]
        pos += 1
    return pos


#: the payload characters of the 6-bit armour ('0'-'W' and '`'-'w')
ARMOURED = np.array([48 <= c <= 87 or 96 <= c <= 119 for c in range(256)], np.bool_)

#: what the start of a line is (:func:`prelude`)
SKIP_LINE, GATEHOUSE_LINE, SENTENCE_LINE = range(3)


@nb.njit(cache=True, nogil=True)
def line_end(buf: npt.NDArray[np.uint8], q: int) -> int:  # pragma: no cover
    while q < len(buf) and buf[q] != 10:
        q += 1
    return q


@nb.njit(cache=True, nogil=True)
def prelude(
    buf: npt.NDArray[np.uint8], a: int, counts: npt.NDArray[np.int64]
) -> tuple[int, int, int, int, int, int, int]:  # pragma: no cover
    """What the line at ``a`` holds before its sentence: (kind, sentence start, next line
    (-1 for a sentence: its scan finds the end), prefix time, tag time, station start, end).
    A bare sentence, the common case, is told at its first character."""
    size = len(buf)
    while a < size and buf[a] != 10 and is_blank(buf[a]):
        a += 1
    if a < size and buf[a] == 33:  # '!'
        return SENTENCE_LINE, a, -1, NAT, NAT, -1, -1
    end = line_end(buf, a)
    b = end
    while b > a and is_blank(buf[b - 1]):
        b -= 1
    if a == b or buf[a] == 35:  # blank or '#'
        return SKIP_LINE, a, end + 1, NAT, NAT, -1, -1
    p = a
    t_prefix = NAT
    if 48 <= buf[p] <= 57:
        v, frac, stop = number(buf, p, b)
        if stop - p < _PREFIX_DIGITS:
            counts[NOT_NMEA] += 1
            return SKIP_LINE, a, end + 1, NAT, NAT, -1, -1
        t_prefix = unix_ns(v, frac)
        p = stop
        while p < b and (is_blank(buf[p]) or buf[p] == 59 or buf[p] == 44):
            p += 1
    t_tag = NAT
    st0 = st1 = -1
    if p < b and buf[p] == 92:  # '\'
        q = p + 1
        while q < b and buf[q] != 92:
            q += 1
        if q == b:
            counts[MALFORMED] += 1
            return SKIP_LINE, a, end + 1, NAT, NAT, -1, -1
        ok, t_tag, st0, st1 = tag_block(buf, p + 1, q)
        if not ok:
            counts[BAD_TAG] += 1
        p = q + 1
    if p < b and buf[p] == 36:  # '$'
        if (
            b - p > 6
            and buf[p + 1] == 80
            and buf[p + 2] == 71
            and buf[p + 3] == 72
            and buf[p + 4] == 80
        ):
            star = b - 3
            if (
                star > p
                and buf[star] == 42
                and parse_hex(buf, star + 1, 2) == xor(buf, p + 1, star)
            ):
                return GATEHOUSE_LINE, p, end + 1, gatehouse(buf, p, star), NAT, -1, -1
            counts[BAD_CHECKSUM] += 1
        else:
            counts[OTHER_NMEA] += 1
        return SKIP_LINE, a, end + 1, NAT, NAT, -1, -1
    if not (p < b and buf[p] == 33):  # '!'
        counts[NOT_NMEA] += 1
        return SKIP_LINE, a, end + 1, NAT, NAT, -1, -1
    return SENTENCE_LINE, p, -1, t_prefix, t_tag, st0, st1


@nb.njit(cache=True, nogil=True)
def field_end(buf: npt.NDArray[np.uint8], q: int, longest: int) -> int:  # pragma: no cover
    """The ',' ending a field of at most ``longest`` characters at ``q``, or -1."""
    e = q
    while e < len(buf) and e - q <= longest:
        if buf[e] == 44:
            return e
        e += 1
    return -1


@nb.njit(cache=True, nogil=True)
def sentence(
    buf: npt.NDArray[np.uint8],
    words: npt.NDArray[np.uint64],
    p: int,
    commas: npt.NDArray[np.int64],
    counts: npt.NDArray[np.int64],
) -> tuple[int, int]:  # pragma: no cover
    """The sentence at ``p`` read by its layout: ``!ttVDM,`` and four short fields, the
    payload characters up to ',', the fill bits, '*', two hex digits and the end of the
    line; then the checksum over it in one tight loop. (its '*', the next line); anything
    else goes to :func:`classify`, which says why it is rejected (its '*' is then -1)."""
    size = len(buf)
    if p + 7 > size or buf[p + 6] != 44:
        return classify(buf, p, commas, counts)
    commas[0] = q = p + 6
    for k in range(1, 5):
        q = field_end(buf, q + 1, 1)
        if q < 0:
            return classify(buf, p, commas, counts)
        commas[k] = q
    e = q + 1
    while e < size and ARMOURED[buf[e]]:
        e += 1
    if e >= size or buf[e] != 44:
        return classify(buf, p, commas, counts)
    commas[5] = e
    star = e + 1
    if star < size and buf[star] != 42:
        star += 1
    end = star + 3
    if end > size or buf[star] != 42 or (end < size and buf[end] != 10 and buf[end] != 13):
        return classify(buf, p, commas, counts)
    if not (buf[p + 3] == 86 and buf[p + 4] == 68 and (buf[p + 5] == 77 or buf[p + 5] == 79)):
        return classify(buf, p, commas, counts)
    if parse_hex(buf, star + 1, 2) != xor_words(buf, words, p + 1, star):
        return classify(buf, p, commas, counts)
    counts[SENTENCES] += 1
    return star, line_end(buf, end) + 1


@nb.njit(cache=True, nogil=True)
def classify(
    buf: npt.NDArray[np.uint8], p: int, commas: npt.NDArray[np.int64], counts: npt.NDArray[np.int64]
) -> tuple[int, int]:  # pragma: no cover
    """Check the sentence at ``p`` in one pass (checksum, field separators, payload
    characters) and count why it is rejected: (its '*', or -1 when it is rejected; the
    next line)."""
    size = len(buf)
    x = 0
    nc = 0
    armoured = True
    q = p + 1
    while q < size:
        c = buf[q]
        if c == 42 or c == 10:  # '*' or newline
            break
        x ^= c
        if c == 44:  # ','
            if nc < 7:
                commas[nc] = q
            nc += 1
        elif nc == 5 and not ARMOURED[c]:  # payload characters
            armoured = False
        q += 1
    star = q
    nxt = line_end(buf, star) + 1
    if q - p < 6 or not (
        buf[p + 3] == 86 and buf[p + 4] == 68 and (buf[p + 5] == 77 or buf[p + 5] == 79)
    ):
        counts[OTHER_NMEA] += 1  # not VDM/VDO
        return -1, nxt
    counts[SENTENCES] += 1
    e = star + 3
    if (
        star >= size
        or buf[star] != 42
        or e > size
        or hexval(buf[star + 1]) < 0
        or hexval(buf[star + 2]) < 0
    ):
        counts[NO_CHECKSUM] += 1
        return -1, nxt
    while e < size and buf[e] != 10 and is_blank(buf[e]):
        e += 1
    if e < size and buf[e] != 10:
        counts[NO_CHECKSUM] += 1  # more after the checksum: not the end of the sentence
        return -1, nxt
    if parse_hex(buf, star + 1, 2) != x:
        counts[BAD_CHECKSUM] += 1
        return -1, nxt
    if nc != 6 or commas[0] != p + 6 or not armoured:
        counts[MALFORMED] += 1
        return -1, nxt
    return star, nxt


@nb.njit(cache=True, nogil=True)
def fields(
    buf: npt.NDArray[np.uint8],
    commas: npt.NDArray[np.int64],
    star: int,
    counts: npt.NDArray[np.int64],
) -> tuple[int, int, int, int, int, int, int]:  # pragma: no cover
    """The fields of a checked sentence: (fragment count, fragment number, sequential id
    (10: none), fill bits, channel byte (0: none), payload start, end); the count is -1
    when a field is out of its range or the payload is empty (counted)."""
    count = digit(buf, commas[0] + 1, commas[1], 1, 9, -1)
    num = digit(buf, commas[1] + 1, commas[2], 1, 9, -1)
    seq = digit(buf, commas[2] + 1, commas[3], 0, 9, 10)
    fill = digit(buf, commas[5] + 1, star, 0, 5, 0)
    c0, c1 = commas[3] + 1, commas[4]
    p0, p1 = commas[4] + 1, commas[5]
    if count < 0 or num < 0 or num > count or seq < 0 or fill < 0 or c1 - c0 > 1:
        counts[MALFORMED] += 1
        return -1, 0, 0, 0, 0, 0, 0
    if p1 == p0:
        counts[EMPTY] += 1
        return -1, 0, 0, 0, 0, 0, 0
    return count, num, seq, fill, int(buf[c0]) if c1 > c0 else 0, p0, p1


__all__ = [
    "BAD_CHECKSUM",
    "BAD_TAG",
    "BROKEN",
    "EMPTY",
    "GATEHOUSE_LINE",
    "MALFORMED",
    "MAX_STATION",
    "NAT",
    "NOT_NMEA",
    "NO_CHECKSUM",
    "OTHER_NMEA",
    "REASONS",
    "SENTENCES",
    "SENTENCE_LINE",
    "SKIP_LINE",
    "copy_bytes",
    "digit",
    "fields",
    "prelude",
    "sentence",
    "xor_words",
]
