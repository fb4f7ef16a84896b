"""AIS in NMEA 0183 text: ``!AIVDM``/``!AIVDO`` sentences to assembled payloads.

Lines may carry, before the sentence:

- an NMEA 4.0 tag block ``\\s:station,c:1717000000*hh\\`` (``c`` is Unix time in seconds,
  or milliseconds when it is that large; ``s`` the receiving station);
- a Unix time prefix, ``1717000000.25 !AIVDM,...`` (separated by blanks, ``;`` or ``,``).

A Gatehouse ``$PGHP,1,yyyy,mm,dd,hh,mm,ss,ms,...`` line gives the time of the sentence after
it. A sentence's time is its tag block's, else its Gatehouse line's, else its prefix; a
message of several sentences takes the time of the first that has one. Other NMEA sentences
(``$GPGGA``...), comments (``#``) and blank lines are passed over.

Multi-sentence messages are assembled by sequential message id and channel, fragments in
order; a fragment out of order, a missing one or a group left open at the end of input is
counted as ``broken_multipart``. A sentence is counted and skipped when its checksum is
wrong (``bad_checksum``) or missing (``no_checksum``), when a field is out of its range
(``malformed_sentence``: fragment numbers, channel, fill bits, payload characters), or when
its payload is empty (``empty_payload``). A tag block whose checksum is wrong is ignored
(``bad_tag_block``) and its sentence kept.

The output has the schema :data:`AIS_SENTENCES`: one row per assembled message.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from jamwatch.io.arrays import arrow_column, arrow_strings
from jamwatch.io.base import ReadReport
from jamwatch.io.lines import iter_text_chunks
from jamwatch.io.nmea_lines import (
    BROKEN,
    GATEHOUSE_LINE,
    MALFORMED,
    MAX_STATION,
    NAT,
    REASONS,
    SENTENCE_LINE,
    SENTENCES,
    copy_bytes,
    fields,
    prelude,
    sentence,
)
from jamwatch.io.readers import GuardedStream
from jamwatch.io.streams import open_stream
from jamwatch.schema import AIS_SENTENCES, TIME_TYPE

#: longest assembled payload kept (a 5-slot message is at most 1,024 bits, 171 characters)
MAX_PAYLOAD = 256
#: sequential message ids 0-9 and "none", times channels A, B and other
SEQ_IDS = 11
CHANNELS = 3
SLOTS = SEQ_IDS * CHANNELS
#: the per-slot state of a message being assembled
SLOT_COUNT, SLOT_NEXT, SLOT_LEN, SLOT_TIME, SLOT_CHANNEL, SLOT_STATION_LEN = range(6)
#: bytes of the shortest sentence that can carry a message, "!AIVDM,1,1,,,0,*hh"
SHORTEST_SENTENCE = 18


@nb.njit(cache=True, nogil=True)
def _assemble(
    data: npt.NDArray[np.uint8],
    size: int,
    final: bool,
    slot: npt.NDArray[np.int64],
    slot_payload: npt.NDArray[np.uint8],
    slot_station: npt.NDArray[np.uint8],
    pending: npt.NDArray[np.int64],
    out_start: npt.NDArray[np.int64],
    out_end: npt.NDArray[np.int64],
    out_time: npt.NDArray[np.int64],
    out_fill: npt.NDArray[np.uint8],
    out_channel: npt.NDArray[np.uint8],
    out_station: npt.NDArray[np.uint8],
    out_soff: npt.NDArray[np.int64],
    counts: npt.NDArray[np.int64],
    touched: npt.NDArray[np.int64],
) -> int:  # pragma: no cover
    """Scan the lines of ``data[:size]`` (the chunk), assembling messages into the ``out_``
    arrays; returns their number. A message's payload is ``data[out_start:out_end]``: in
    the chunk for a one-sentence message, else written after it. ``slot*`` and ``pending``
    (a Gatehouse time waiting for its sentence) carry the state between chunks; ``final``
    closes the open groups. ``touched[k]`` is set to the fragment number of the first
    fragment that reaches slot ``k``."""
    n = 0
    a = 0
    extra = size  # where the next assembled payload goes
    buf = data[:size]
    commas = np.empty(7, np.int64)
    words = data[: size // 8 * 8].view(np.uint64)
    while a < len(buf):
        kind, p, nxt, t_prefix, t_tag, st0, st1 = prelude(buf, a, counts)
        if kind == GATEHOUSE_LINE:
            pending[0] = t_prefix
        if kind != SENTENCE_LINE:
            a = nxt
            continue
        star, a = sentence(buf, words, p, commas, counts)
        if star < 0:
            continue
        count, num, seq, fill, channel, p0, p1 = fields(buf, commas, star, counts)
        if count < 0:
            continue
        t = t_tag if t_tag != NAT else (pending[0] if pending[0] != NAT else t_prefix)
        pending[0] = NAT
        if count == 1:
            out_start[n], out_end[n] = p0, p1
            out_soff[n + 1] = (
                copy_bytes(buf, st0, st1, out_station, out_soff[n]) if st0 >= 0 else out_soff[n]
            )
            out_time[n], out_fill[n], out_channel[n] = t, fill, channel
            n += 1
            continue
        ci = 0 if channel == 65 or channel == 49 else (1 if channel == 66 or channel == 50 else 2)
        k = seq * CHANNELS + ci
        if touched[k] == 0:
            touched[k] = num
        if _fragment(buf, p0, p1, st0, st1, count, num, t, channel, slot[k], slot_payload[k],
                     slot_station[k], counts):  # fmt: skip
            s = slot[k]
            out_start[n] = extra
            out_end[n] = extra = copy_bytes(slot_payload[k], 0, s[SLOT_LEN], data, extra)
            out_soff[n + 1] = copy_bytes(
                slot_station[k], 0, s[SLOT_STATION_LEN], out_station, out_soff[n]
            )
            out_time[n], out_fill[n], out_channel[n] = s[SLOT_TIME], fill, s[SLOT_CHANNEL]
            n += 1
            s[SLOT_COUNT] = 0
    if final:
        for k in range(SLOTS):
            if slot[k, SLOT_COUNT] > 0:
                counts[BROKEN] += 1
                slot[k, SLOT_COUNT] = 0
    return n


@nb.njit(cache=True, nogil=True)
def _fragment(
    buf: npt.NDArray[np.uint8],
    p0: int,
    p1: int,
    st0: int,
    st1: int,
    count: int,
    num: int,
    t: int,
    channel: int,
    s: npt.NDArray[np.int64],
    payload: npt.NDArray[np.uint8],
    station: npt.NDArray[np.uint8],
    counts: npt.NDArray[np.int64],
) -> bool:  # pragma: no cover
    """Add fragment ``num`` of ``count`` to its slot ``s``; whether the message is complete."""
    if num == 1:
        if s[SLOT_COUNT] > 0:
            counts[BROKEN] += 1
        s[SLOT_COUNT], s[SLOT_NEXT], s[SLOT_TIME], s[SLOT_CHANNEL] = count, 2, t, channel
        s[SLOT_LEN] = 0
        s[SLOT_STATION_LEN] = copy_bytes(buf, st0, st1, station, 0) if st0 >= 0 else 0
    elif s[SLOT_COUNT] != count or s[SLOT_NEXT] != num:
        counts[BROKEN] += 1
        s[SLOT_COUNT] = 0
        return False
    else:
        s[SLOT_NEXT] = num + 1
        if s[SLOT_TIME] == NAT:
            s[SLOT_TIME] = t
    if s[SLOT_LEN] + p1 - p0 > MAX_PAYLOAD:
        counts[MALFORMED] += 1
        s[SLOT_COUNT] = 0
        return False
    s[SLOT_LEN] = copy_bytes(buf, p0, p1, payload, s[SLOT_LEN])
    return num == count


class Assembler:
    """Assemble AIS messages from chunks of NMEA lines, keeping open multi-sentence groups
    (and a Gatehouse time) between chunks; rejects are counted in ``report``."""

    def __init__(self, report: ReadReport | None = None) -> None:
        self.report = report if report is not None else ReadReport("", "nmea")
        self.sentences = 0
        self._slot = np.zeros((SLOTS, 6), np.int64)
        self._slot_payload = np.zeros((SLOTS, MAX_PAYLOAD), np.uint8)
        self._slot_station = np.zeros((SLOTS, MAX_STATION), np.uint8)
        self._pending = np.full(1, NAT, np.int64)
        #: per slot, the first fragment number the last chunk brought to it (0: none)
        self._touched = np.zeros(SLOTS, np.int64)

    def continued_by(self, other: Assembler) -> bool:
        """Whether ``other``, a new assembler fed the chunk after this one's, assembled it
        as this one would have: no Gatehouse time waits here, and every message open here
        was, in ``other``, first reached by a first fragment (which closes it as broken)
        or not at all."""
        open_here = self._slot[:, SLOT_COUNT] > 0
        first = other._touched[open_here]
        return self._pending[0] == NAT and bool(np.all((first == 0) | (first == 1)))

    def adopt(self, other: Assembler) -> None:
        """Continue after ``other``'s chunk (see :meth:`continued_by`): the slots it
        reached take its state, the open messages it closed count as broken, its counts
        are added."""
        reached = other._touched > 0
        closed = int(np.count_nonzero(reached & (self._slot[:, SLOT_COUNT] > 0)))
        self._slot[reached] = other._slot[reached]
        self._slot_payload[reached] = other._slot_payload[reached]
        self._slot_station[reached] = other._slot_station[reached]
        self._pending[:] = other._pending
        self.sentences += other.sentences
        self.report.frames += other.report.frames
        self.report.rejects.update(other.report.rejects)
        if closed:
            self.report.rejects["broken_multipart"] += closed

    def feed(self, chunk: bytes, *, final: bool = False) -> pa.Table:
        """The messages completed by the whole lines of ``chunk`` (schema
        :data:`AIS_SENTENCES`); ``final`` closes groups still open."""
        return self.payloads(chunk, final=final).table()

    def payloads(self, chunk: bytes, *, final: bool = False) -> Payloads:
        """:meth:`feed`'s messages, their payloads left where the scan found them."""
        size = len(chunk)
        lines = size // SHORTEST_SENTENCE + 1  # at most one message per sentence
        # the chunk, then room for the payloads of the multi-sentence messages it completes
        data = np.empty(2 * size + SLOTS * MAX_PAYLOAD, np.uint8)
        data[:size] = np.frombuffer(chunk, np.uint8)
        start = np.empty(lines, np.int64)
        end = np.empty(lines, np.int64)
        time = np.empty(lines, np.int64)
        fill = np.empty(lines, np.uint8)
        channel = np.empty(lines, np.uint8)
        station = np.empty(size + SLOTS * MAX_STATION, np.uint8)
        soff = np.zeros(lines + 1, np.int64)
        counts = np.zeros(len(REASONS) + 1, np.int64)
        self._touched[:] = 0
        n = _assemble(
            data, size, final, self._slot, self._slot_payload, self._slot_station, self._pending,
            start, end, time, fill, channel, station, soff, counts, self._touched,
        )  # fmt: skip
        for reason, count in zip(REASONS, counts[: len(REASONS)].tolist(), strict=True):
            if count:
                self.report.rejects[reason] += count
        self.sentences += int(counts[SENTENCES])
        self.report.frames += n
        return Payloads(data, start[:n], end[:n], fill[:n], time[:n], channel[:n], station, soff)


@dataclass(frozen=True)
class Payloads:
    """Assembled messages as the scan leaves them: message ``i``'s payload is
    ``data[start[i]:end[i]]``, its station ``station[soff[i]:soff[i + 1]]`` (no station
    when empty), its channel byte 0 when it has none, its time NAT when it has none."""

    data: npt.NDArray[np.uint8]
    start: npt.NDArray[np.int64]
    end: npt.NDArray[np.int64]
    fill: npt.NDArray[np.uint8]
    time: npt.NDArray[np.int64]
    channel: npt.NDArray[np.uint8]
    station: npt.NDArray[np.uint8]
    soff: npt.NDArray[np.int64]

    def sides(self) -> dict[str, pa.Array]:
        """The columns of :data:`AIS_SENTENCES` beside the payload and fill bits."""
        n = len(self.start)
        has_channel = self.channel != 0
        channel_off = np.zeros(n + 1, np.int64)
        np.cumsum(has_channel, out=channel_off[1:])
        return {
            "time": arrow_column(self.time, self.time != NAT, pa.int64()).cast(TIME_TYPE),
            "channel": arrow_strings(n, self.channel[has_channel], channel_off, has_channel),
            "station": arrow_strings(
                n, self.station, self.soff, self.soff[1 : n + 1] > self.soff[:n]
            ),
        }

    def table(self) -> pa.Table:
        """The messages as a table of :data:`AIS_SENTENCES`."""
        n = len(self.start)
        offsets = np.zeros(n + 1, np.int64)
        np.cumsum(self.end - self.start, out=offsets[1:])
        payload = np.empty(int(offsets[-1]), np.uint8)
        _gather(self.data, self.start, self.end, payload)
        sides = self.sides()
        return pa.table(
            {
                "time": sides["time"],
                "payload": arrow_strings(n, payload, offsets),
                "fill_bits": pa.array(self.fill, pa.uint8()),
                "channel": sides["channel"],
                "station": sides["station"],
            },
            schema=AIS_SENTENCES,
        )


@nb.njit(cache=True, nogil=True)
def _gather(
    data: npt.NDArray[np.uint8],
    start: npt.NDArray[np.int64],
    end: npt.NDArray[np.int64],
    out: npt.NDArray[np.uint8],
) -> None:  # pragma: no cover
    """The spans ``data[start[i]:end[i]]`` one after the other into ``out``."""
    pos = 0
    for i in range(len(start)):
        pos = copy_bytes(data, start[i], end[i], out, pos)


def is_nmea_head(head: bytes) -> bool:
    """Whether a file's head holds AIS in NMEA: at least one ``!..VDM``/``!..VDO`` sentence
    with a right checksum."""
    last = head.rfind(b"\n")
    assembler = Assembler()
    assembler.feed(head[: last + 1] if last >= 0 else head, final=True)
    bad = assembler.report.rejects
    return assembler.sentences - bad["bad_checksum"] - bad["no_checksum"] > 0


def read_nmea(
    source: str | Path | IO[bytes], report: ReadReport | None = None, chunk_bytes: int = 16 << 20
) -> Iterator[pa.Table]:
    """Assembled AIS messages of an NMEA file (plain or compressed) or binary stream, as
    tables of :data:`AIS_SENTENCES`, chunk by chunk. A damaged compressed stream ends the
    input: what came before is kept and ``damaged_stream`` counted."""
    report = report if report is not None else ReadReport(str(source), "nmea")
    assembler = Assembler(report)
    for chunk in nmea_chunks(source, report, chunk_bytes):
        table = assembler.feed(chunk)
        if table.num_rows:
            yield table
    last = assembler.feed(b"", final=True)
    if last.num_rows:
        yield last


def nmea_chunks(
    source: str | Path | IO[bytes], report: ReadReport, chunk_bytes: int = 16 << 20
) -> Iterator[bytes]:
    """The whole lines of an NMEA file (plain or compressed) or binary stream, chunk by
    chunk (what :func:`read_nmea` assembles)."""
    report.format = report.format or "nmea"
    stream = open_stream(Path(source)) if isinstance(source, str | Path) else source
    try:
        yield from iter_text_chunks(GuardedStream(stream, report), report, chunk_bytes)
    finally:
        if isinstance(source, str | Path):
            stream.close()


__all__ = ["REASONS", "Assembler", "Payloads", "is_nmea_head", "nmea_chunks", "read_nmea"]
