"""Receiver clocks: turning the 6-byte time stamp of Beast frames (and AVR ``@`` lines) into UTC.

A Beast time stamp is one of two things:

- **free running** (dump1090, readsb with an RTL-SDR, most receivers): a 12 MHz counter
  started with the receiver. Only differences mean anything, so a frame's time is
  ``start + (counter - first counter) / 12 MHz``, where ``start`` is the UTC time of the
  recording's first frame (given by the user, or derived from the file). A counter that jumps
  back by more than :data:`RESTART_TICKS` marks a receiver restart: a new segment starts,
  continuing from the time of the last frame before it (how long the receiver was off is
  unknown; the restart is counted).
- **GPS time** (Radarcape and other GPS-disciplined receivers): seconds of the UTC day in the
  upper 18 bits, nanoseconds in the lower 30. The date comes from ``start`` (or the file);
  crossing midnight moves to the next day.

Two counter values are not times at all: 0, carried by frames that did not come from the
local radio (relayed or injected frames), and mlat-client's synthetic MLAT results,
:data:`MLAT_MAGIC`. Such frames take the time of the frame before them (or of the first timed
frame, at the start of a recording) and never anchor or restart anything.

:class:`BeastClock` keeps its state between calls, so a recording read in batches gets the
same times as read at once. :func:`guess_clock` tells the two kinds apart after one pass over
a recording (:class:`ClockProbe`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba as nb
import numpy as np
import numpy.typing as npt

#: Counter ticks per second (12 MHz).
TICKS_PER_S = 12_000_000
#: mlat-client's synthetic frames carry this counter ("\xff\x00MLAT").
MLAT_MAGIC = 0xFF004D4C4154
#: A jump back larger than this (1 s) is a receiver restart; a smaller one is frames that
#: arrived slightly out of order and keeps its own time.
RESTART_TICKS = TICKS_PER_S
#: The kinds of clock: "auto" decides from the first counters (:func:`guess_clock`).
CLOCKS = ("auto", "free", "gps")
#: How close (ns) a GPS time stamp must be to the reference time of day (15 min).
GPS_MATCH_NS = 15 * 60 * 1_000_000_000
#: Nanoseconds in a day.
DAY_NS = 86_400 * 1_000_000_000
_GPS_NS_BITS = 30
_GPS_NS_MASK = (1 << _GPS_NS_BITS) - 1

# Indices of the clock state array shared with the kernels.
_ANCHORED, _SEG_BASE_NS, _SEG_FIRST, _LAST_COUNTER, _LAST_NS, _RESTARTS, _UNTIMED = range(7)
_DAY_NS = 2  # GPS clocks: the UTC midnight in use, in place of the segment's first counter


@nb.njit(cache=True, nogil=True)
def _times(
    counters: npt.NDArray[np.int64], state: npt.NDArray[np.int64], out: npt.NDArray[np.int64],
    gps: bool,
) -> None:  # fmt: skip  # pragma: no cover
    """Times of the counters in order (see the module docstring); ``state`` carries over.

    Free running: relative to the segment's first counter, a new segment at a jump back.
    GPS (``gps``): seconds of day << 30 | nanoseconds, on the day in ``state``, the next day
    after midnight.
    """
    half_day = DAY_NS // 2
    for i in range(counters.shape[0]):
        c = counters[i]
        if c == 0 or c == MLAT_MAGIC:
            state[_UNTIMED] += 1
            out[i] = state[_LAST_NS] if state[_ANCHORED] else state[_SEG_BASE_NS]
            continue
        if gps:
            t = state[_DAY_NS] + (c >> _GPS_NS_BITS) * 1_000_000_000 + (c & _GPS_NS_MASK)
            if state[_ANCHORED] and t < state[_LAST_NS] - half_day:
                state[_DAY_NS] += DAY_NS  # past midnight
                t += DAY_NS
            state[_ANCHORED] = 1
        else:
            if not state[_ANCHORED]:
                state[_ANCHORED] = 1
                state[_SEG_FIRST] = c
            elif c < state[_LAST_COUNTER] - RESTART_TICKS:
                state[_RESTARTS] += 1
                state[_SEG_BASE_NS] = state[_LAST_NS]
                state[_SEG_FIRST] = c
            t = state[_SEG_BASE_NS] + ((c - state[_SEG_FIRST]) * 250 + 1) // 3
            state[_LAST_COUNTER] = c
        out[i] = t
        state[_LAST_NS] = t


def gps_time_of_day(counter: int) -> int | None:
    """The time of day (ns) a GPS time stamp stands for, or None when it is not a valid one."""
    low, sec = counter & ((1 << _GPS_NS_BITS) - 1), counter >> _GPS_NS_BITS
    if low >= 1_000_000_000 or sec >= 86_400:
        return None
    return sec * 1_000_000_000 + low


@dataclass(slots=True)
class ClockProbe:
    """What one pass over a recording's counters tells of its clock (see :func:`guess_clock`).

    ``span_ns`` is the time from the first to the last frame if the clock runs freely.
    """

    free: BeastClock = field(default_factory=lambda: BeastClock(0, "free"))
    first: int | None = None
    last: int | None = None
    all_gps: bool = True

    def add(self, counters: npt.NDArray[np.int64]) -> None:
        """Take the next counters of the recording."""
        self.free.times(counters)
        timed = counters[(counters != 0) & (counters != MLAT_MAGIC)]
        if timed.size == 0:
            return
        if self.first is None:
            self.first = int(timed[0])
        self.last = int(timed[-1])
        if self.all_gps:
            low = timed & _GPS_NS_MASK
            sec = timed >> _GPS_NS_BITS
            self.all_gps = bool((low < 1_000_000_000).all() and (sec < 86_400).all())

    @property
    def span_ns(self) -> int:
        """Time from the first to the last frame, the counter taken as free running."""
        return self.free.last_ns


def guess_clock(
    probe: ClockProbe, *, first_ns: int | None = None, last_ns: int | None = None
) -> str:
    """"gps" or "free": the kind of clock of a recording, from a pass over its counters.

    A recording is GPS time when every counter is a valid time stamp (nanoseconds below 10**9,
    seconds below 86,400) and its first (or last) frame falls within :data:`GPS_MATCH_NS` of
    ``first_ns`` (or ``last_ns``) in the time of day: the given start, or the end of the
    recording (a file's modification time). A free-running counter passes the first test
    only while it is young or the recording short (its low 30 bits exceed 10**9 for 6 s of
    every 89.5 s) and the second by chance in 2 % of recordings at most. A counter that never
    leaves the first 2**30 ticks (a receiver started less than 89 s before) is free running.
    """
    if not probe.all_gps or probe.first is None or probe.last is None:
        return "free"
    if probe.last >> _GPS_NS_BITS == 0:  # a young free counter (below 2**30, 89 s) looks so
        return "free"
    counter, ref = (probe.first, first_ns) if first_ns is not None else (probe.last, last_ns)
    tod = gps_time_of_day(counter)
    if ref is None or tod is None:
        return "free"
    gap = abs(tod - ref % DAY_NS)
    return "gps" if min(gap, DAY_NS - gap) <= GPS_MATCH_NS else "free"


@dataclass(slots=True)
class BeastClock:
    """Counter -> UTC nanoseconds for one recording or connection, batch after batch.

    ``start_ns`` is the time of the first frame (free running) or any time on the UTC day of
    the first frame (GPS time). ``kind`` is "free" or "gps".
    """

    start_ns: int
    kind: str = "free"
    state: npt.NDArray[np.int64] = field(init=False)

    def __post_init__(self) -> None:
        if self.kind not in ("free", "gps"):
            raise ValueError(f"unknown clock {self.kind!r}; known: free, gps")
        self.state = np.zeros(7, dtype=np.int64)
        self.state[_SEG_BASE_NS] = self.start_ns
        self.state[_LAST_NS] = self.start_ns
        if self.kind == "gps":
            self.state[_DAY_NS] = self.start_ns - self.start_ns % DAY_NS

    def times(self, counters: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """UTC nanoseconds of the next counters in order."""
        out = np.empty(counters.shape[0], dtype=np.int64)
        _times(np.ascontiguousarray(counters, dtype=np.int64), self.state, out, self.kind == "gps")
        return out

    @property
    def restarts(self) -> int:
        """Receiver restarts seen (counter jumps back)."""
        return int(self.state[_RESTARTS])

    @property
    def untimed(self) -> int:
        """Frames with no time of their own (zero counter or mlat-client's magic value)."""
        return int(self.state[_UNTIMED])

    @property
    def last_ns(self) -> int:
        """The time of the last timed frame (``start_ns`` before any)."""
        return int(self.state[_LAST_NS])


__all__ = [
    "CLOCKS",
    "DAY_NS",
    "GPS_MATCH_NS",
    "MLAT_MAGIC",
    "RESTART_TICKS",
    "TICKS_PER_S",
    "BeastClock",
    "ClockProbe",
    "gps_time_of_day",
    "guess_clock",
]
