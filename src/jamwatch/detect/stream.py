"""Detection as a stream: batches of reports in time order in, events out, memory bounded
by time rather than by the input.

The reports are cut in time into segments, each detected on its own
(:func:`jamwatch.detect.pipeline.jamming_rows`, :func:`jamwatch.detect.pipeline.spoofing_rows`):

- Segment ``[S, T)`` is detected on the reports of ``[S - context_s, T + context_s)``: every
  aircraft's history and what follows (integrity signals, dead reckoning, tracks), and the
  nominal aircraft around. Only the degraded reports inside ``[S, T)`` make jamming events,
  so every one belongs to exactly one segment. Spoofing episodes are found on the whole
  table and kept when they start inside ``[S, T)``.
- The cut ``T`` is the first time on a grid of ``step_s`` from ``S + min_segment_s`` on that
  lies in a lull longer than the events' ``gap_s`` between reports of degraded integrity
  (NIC below 7, NACp at most the events' ``max_nacp``, or the position lost:
  :mod:`jamwatch.signals`): no event links across such a lull. Failing that, ``T`` is the
  grid time up to ``S + max_segment_s`` in the longest lull (the first of equals):
  interference that lasts longer (the Baltic's lasts for days) is reported in pieces of at
  most that length, each with its own sources.
- A cut never falls inside a spoofing episode or near one (an aircraft's track split in two
  would be judged on half its evidence, and a track that begins in the middle of an episode
  looks false from its first report): when an episode the segment finds (from ``S`` on, on
  its whole table) comes within the spoofing ``episode_gap_s`` of ``T``, the cut moves to the
  first grid time at least ``episode_gap_s`` after the episodes' end, up to
  ``S + max_segment_s``, and the segment is detected again then.
- Dense traffic shortens the segment and its context so that a segment's detection holds
  at most ``max_reports`` reports: the context before ``S`` and the segment at most seven
  eighths of them (the cut comes no later than the grid time at or before the report that
  fills them, and the search for a lull starts half way there when ``min_segment_s`` would
  be later), the context after ``T`` the rest (it ends at the latest ``T + context_s`` and
  the report that fills an eighth from ``T``); the context before the next segment holds at
  most an eighth too (it begins at the earliest ``T - context_s`` and the report that leaves
  an eighth before ``T``). A receiver's few hundred thousand reports an hour reach it only
  in segments of about ten hours; a day of 100 million reports under continuing jamming is
  cut into pieces of about 40 minutes.
- A segment is detected once the stream has passed the end of its context after ``T`` and
  ``T + gap_s``, plus ``slack_s`` (for a forced cut, that of the latest grid time the cut may
  take); reports older than the next segment's context are then dropped. In dense traffic
  that wait (``gap_s`` is half an hour) could fill the buffer many times over: once the
  buffer holds ``max_reports`` and an eighth, and the stream has passed the report that
  filled it (``H``), the cut is decided on the reports up to ``H`` alone (a lull still going
  on at ``H`` counts up to ``H``), whatever came later. As ``H`` depends only on the
  reports, this too is the same however they are batched; where the wait would not have
  reached ``H`` the cut is the one it would have given. The memory held is the reports of
  at most ``context_s + max_segment_s + max(context_s, gap_s) + slack_s`` and of at most
  ``max_reports`` and an eighth (and one batch), whatever the input's length.

The cuts depend only on the reports and the configuration, not on how the reports are
batched: :func:`jamwatch.detect.pipeline.detect` is this stream given the whole table in one
batch, and a stream of small batches in time order gives the same events (a report that
comes later than ``slack_s`` behind the others may find its segment already detected: it is
then counted in :attr:`DetectStream.late` and left out). Reports without a time are counted
in :attr:`DetectStream.untimed` and left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from jamwatch.detect.pipeline import (
    Detectors,
    Segment,
    detectors,
    events_table,
    jamming_rows,
    spoofing_rows,
)
from jamwatch.detect.tracks import NS, Window
from jamwatch.reports import ReportBatch
from jamwatch.schema import EVENTS
from jamwatch.signals import IntegrityState
from jamwatch.signals.integrity import signal_arrays

I64 = npt.NDArray[np.int64]

#: the most rows of a batch to read for a stream (each sits in its buffer whole: 500,000
#: reports of dense traffic are some 7 minutes)
READ_ROWS = 500_000

#: the default most reports of a segment with its context: 100 million reports in a day of
#: continuing jamming stay under 2 GB (``python bench/detect.py --reports 100000000 --days 1
#: --stream-only``)
MAX_REPORTS = 4_000_000


@dataclass(frozen=True, slots=True)
class StreamConfig:
    """Where the stream cuts (see the module documentation); seconds, and the most reports a
    segment's detection holds with its context (its peak is about 400 bytes a report on top of
    some 300 MB for the libraries: docs/detect.md)."""

    context_s: float = 1800.0
    min_segment_s: float = 3600.0
    max_segment_s: float = 12 * 3600.0
    step_s: float = 60.0
    slack_s: float = 60.0
    max_reports: int = MAX_REPORTS


Parts = tuple[tuple[ReportBatch, I64], ...]


def segment_parts(parts: Parts, keep_from: int, until: int | None) -> list[ReportBatch]:
    """The reports of the buffer ``parts`` from ``keep_from`` on, before ``until``, part by
    part (:meth:`ReportBatch.concat` makes them one batch)."""
    batches = []
    for rows, t in parts:
        m = t >= keep_from
        if until is not None:
            m &= t < until
        batches.append(rows.take(m) if not m.all() else rows)
    return batches


def gather(parts: Parts, keep_from: int, until: int | None) -> ReportBatch:
    """The reports of the buffer ``parts`` from ``keep_from`` on, before ``until``."""
    return ReportBatch.concat(segment_parts(parts, keep_from, until))


@dataclass(frozen=True, slots=True)
class SegmentTask:
    """What detecting one segment needs besides its reports: the window ``(S, T)`` (``S``
    None for the first segment, ``T`` None for the last), the latest time the cut may move to
    (``hi``: a cut that reaches it is never moved), the spoofing ``episode_gap`` and the
    grid ``step`` (nanoseconds), and the detectors' names."""

    window: Window
    hi: int | None
    episode_gap: int
    step: int
    names: tuple[str, str, str]


def detect_segment(
    reports: ReportBatch, task: SegmentTask, found: Detectors | None = None
) -> tuple[pa.Table | None, int]:
    """The events of one segment, and 0; or None and the earliest time the cut may take when
    a spoofing episode comes within ``episode_gap`` of the cut (see the module
    documentation). ``found``: the detectors (by default those ``task`` names)."""
    found = found or detectors(*task.names)
    lo, end = task.window
    segment = Segment(reports, task.window, found)
    spoofed = spoofing_rows(segment, (lo, None), found)
    if end is not None:
        gap = task.episode_gap
        reach = [e["end"] for e in spoofed if e["start"] < end + gap and e["end"] >= end - gap]
        if reach and task.hi is not None and end < task.hi:
            # (always later than this cut, so that the search moves on)
            return None, max(max(reach) + gap, end + task.step)
        spoofed = [e for e in spoofed if e["start"] < end]
    return events_table(jamming_rows(segment, found) + spoofed), 0


def run_segment(parts: list[ReportBatch], task: SegmentTask) -> tuple[pa.Table | None, int]:
    """:func:`detect_segment` of the reports ``parts`` (of :func:`segment_parts`), with
    detectors of its own: a task another process or machine can run."""
    return detect_segment(ReportBatch.concat(parts), task)


@dataclass(frozen=True, slots=True)
class OpenView:
    """The open segment as it was when :meth:`DetectStream.open_view` took it: the buffer's
    parts (immutable arrays, so later pushes do not change them), the window and how many
    segments had been detected. Its events can be detected in another thread, with
    detectors of their own, while the stream goes on."""

    parts: Parts
    keep_from: int
    window: Window
    segments: int

    def events(self, detectors: Detectors) -> pa.Table:
        """The open segment's events, as if the stream had ended when the view was taken."""
        if not self.parts:
            return EVENTS.empty_table()
        segment = Segment(gather(self.parts, self.keep_from, None), self.window, detectors)
        rows = jamming_rows(segment, detectors)
        return events_table(rows + spoofing_rows(segment, self.window, detectors))


class DetectStream:
    """Events (:data:`jamwatch.schema.EVENTS`) of a stream of report batches in time order.

    :meth:`push` takes the next batch and returns the events of the segments it completed;
    :meth:`flush` returns those of the last segment; :meth:`open_events` shows the open
    segment's events so far without ending it. The detectors are chosen by name, as
    ``jamwatch detect`` chooses them.
    """

    def __init__(
        self, *, spoofing: str = "kinematic", jamming: str = "cluster",
        localizer: str = "likelihood", config: StreamConfig | None = None,
    ) -> None:  # fmt: skip
        self.names = (spoofing, jamming, localizer)
        self.detectors = detectors(*self.names)
        self.config = c = config or StreamConfig()
        events = self.detectors[0].config
        self.gap_ns = int(events.gap_s * NS)
        self.integrity = events.integrity
        self.state = IntegrityState()
        self.max_nacp = events.max_nacp
        self.episode_gap_ns = int(self.detectors[2].config.episode_gap_s * NS)
        #: the earliest cut of the open segment (after a spoofing episode that reached a cut)
        self.not_before = 0
        self.context_ns = int(c.context_s * NS)
        #: the buffered reports, converted once at push and kept compact
        #: (:meth:`ReportBatch.compact`), and their times (all of them sorted, once asked
        #: for, until the buffer changes); the times of the degraded reports (from the open
        #: segment's start minus ``gap_s`` on)
        self.parts: list[tuple[ReportBatch, I64]] = []
        self.sorted_times: I64 | None = None
        self.degraded: list[I64] = []
        #: the earliest time kept: the open segment's context (any time before the first
        #: segment is detected)
        self.keep_from = 0
        #: the start of the open segment (None before any report; the first has no lower
        #: bound), the latest time seen, and the segments detected
        self.start: int | None = None
        self.now = -1
        self.segments = 0
        #: the events of the segments detected and not yet returned
        self.found: list[pa.Table] = []
        self.late = 0
        self.untimed = 0

    def _bad_times(self, rows: ReportBatch) -> I64:
        """The times of the reports ``rows`` with degraded integrity: NIC, NACp, or the
        position lost (the integrity signals, each aircraft's state carried from batch to
        batch), placed."""
        sig = signal_arrays(rows, self.integrity, self.state)
        bad = sig.nic_degraded | sig.lost | ((rows.nacp >= 0) & (rows.nacp <= self.max_nacp))
        # as the events count them: placed (its own position or the last); those of aircraft
        # with faulty avionics too (the events leave them out only beside nominal aircraft)
        bad &= rows.t_ok & (~np.isnan(rows.lat) | ~np.isnan(sig.lat_last))
        return np.sort(rows.t[bad])

    def push(self, batch: pa.Table) -> pa.Table:
        """Add the next batch; return the events of the segments it completed."""
        if batch.num_rows == 0:
            return EVENTS.empty_table()
        self._take(ReportBatch.from_table(batch, motion=True))  # (converted once)
        return self._events()

    def _take(self, rows: ReportBatch) -> None:
        """Buffer the converted batch ``rows`` and detect the segments it completes."""
        ok = rows.t_ok & (rows.t >= self.keep_from)
        self.untimed += int(np.count_nonzero(~rows.t_ok))
        self.late += int(np.count_nonzero(rows.t_ok & ~ok))
        if not ok.all():
            keep = np.flatnonzero(ok)
            rows = rows.take(keep)
        if len(rows) == 0:
            return
        t = rows.t
        self.degraded.append(self._bad_times(rows))
        kept = rows.compact()  # (kept narrow; a segment widens them again)
        self.parts.append((kept, kept.t))
        self.sorted_times = None
        self.now = max(self.now, int(t.max()))
        if self.start is None:
            self.start = int(t.min())
        self._cuts()

    def _cuts(self) -> None:
        """Detect the segments whose cut the buffer decides."""
        while (cut := self._cut()) is not None:
            self._detect(cut)

    def _events(self) -> pa.Table:
        """The events of the segments detected since the last call."""
        out, self.found = self.found, []
        return pa.concat_tables([EVENTS.empty_table(), *out])

    def flush(self) -> pa.Table:
        """The events of the last segments (the stream ends): those the reports left would
        fill beyond ``max_reports`` are cut as if the stream went on, then the rest is one."""
        if self.start is None or not self.parts:
            return EVENTS.empty_table()
        self._last()
        return self._events()

    def _last(self) -> None:
        """Detect the last segments (see :meth:`flush`) and empty the buffer."""
        while self._times().shape[0] > self.config.max_reports:
            cut = self._cut(ended=True)
            assert cut is not None  # (everything is known: the stream has ended)
            self._detect(cut)
        self._detect(None)
        self.parts, self.degraded, self.sorted_times = [], [], None

    def open_events(self) -> pa.Table:
        """The events of the open segment so far, as they would be if the stream ended now
        (nothing is committed: a live view polls this between pushes; the events a later
        :meth:`push` or :meth:`flush` returns for this segment may differ, having seen more).
        Each look detects the open segment again; the localizer takes the fits of the pieces
        that did not change since the previous look from its memo
        (:class:`jamwatch.detect.localize.FitMemo`)."""
        return self.open_view().events(self.detectors)

    def open_view(self) -> OpenView:
        """The open segment as it is now (see :class:`OpenView`): what a look detects."""
        window = (None if self.segments == 0 else self.start, None)
        parts = tuple(self.parts) if self.start is not None else ()
        return OpenView(parts, self.keep_from, window, self.segments)

    def _times(self) -> I64:
        """The times of the buffered reports, sorted."""
        if self.sorted_times is None:
            times = [t for _, t in self.parts]
            self.sorted_times = (
                np.sort(np.concatenate(times), kind="stable") if times else np.zeros(0, np.int64)
            )
        return self.sorted_times

    def _until(self, cuts: I64) -> I64:
        """The end of the context after each cut: ``context_s`` later, or earlier at the
        report that fills an eighth of ``max_reports`` (known once the stream has passed
        it)."""
        ts = self._times()
        until = cuts + self.context_ns
        fill = np.searchsorted(ts, cuts, "left") + self.config.max_reports // 8
        has = fill < ts.shape[0]
        until[has] = np.minimum(until[has], ts[fill[has]])
        return until

    def _limits(self) -> tuple[int, int]:
        """The earliest and the latest time the open segment's cut may take (on the grid of
        ``step_s`` from its start)."""
        assert self.start is not None
        c = self.config
        step = int(c.step_s * NS)
        lo, hi = self.start + int(c.min_segment_s * NS), self.start + int(c.max_segment_s * NS)
        ts = self._times()
        fill = c.max_reports - c.max_reports // 8  # (ts holds the reports from the context on)
        if fill < ts.shape[0]:  # dense: no later than the report that fills the segment
            hi = min(hi, self.start + max(step, (int(ts[fill]) - self.start) // step * step))
            if lo > hi:
                lo = self.start + max(step, (hi - self.start) // 2 // step * step)
        if self.not_before > lo:  # (the grid goes on from lo: the cuts stay on it)
            lo += -(-(self.not_before - lo) // step) * step
            if lo > hi:
                lo = hi
        return lo, hi

    def _cut(self, ended: bool = False) -> int | None:
        """The end of the open segment, once the stream has passed far enough to know it
        (``ended``: the stream has ended, every time is known)."""
        lo, hi = self._limits()
        c = self.config
        step = int(c.step_s * NS)
        passed = np.iinfo(np.int64).max if ended else self.now - int(c.slack_s * NS)
        times = np.arange(lo, hi + 1, step, dtype=np.int64)
        bad = np.sort(np.concatenate(self.degraded)) if self.degraded else np.zeros(0, np.int64)
        upto = np.iinfo(np.int64).max // 2
        ts = self._times()
        full = c.max_reports + c.max_reports // 8
        if ts.shape[0] > full and passed >= ts[full]:
            # the buffer holds the segment, its contexts and more: decide on the reports up
            # to the one that filled it, the lulls that go on past it as long as they are
            # known to be, so that dense interference never holds more than max_reports
            horizon = int(ts[full])
            grid = times[self._until(times) <= horizon]
            bad = bad[bad <= horizon]
            upto = horizon
        else:
            # the grid times whose lull and context the stream has passed (a prefix)
            grid = times[np.maximum(times + self.gap_ns, self._until(times)) <= passed]
        if grid.shape[0] == 0:
            return None
        if bad.shape[0] == 0:
            return int(grid[0])
        # the lull around each grid time: from the degraded report before it to the one after
        # it (none after, up to where the stream has passed: the lull goes on)
        before = np.searchsorted(bad, grid, "right") - 1
        after = np.searchsorted(bad, grid, "left")
        last = np.where(before >= 0, bad[np.maximum(before, 0)], np.iinfo(np.int64).min // 2)
        following = np.where(after < bad.shape[0], bad[np.minimum(after, bad.shape[0] - 1)], upto)
        lull = np.where(following > grid, following - last, 0)
        quiet = np.flatnonzero(lull > self.gap_ns)
        if quiet.shape[0]:
            return int(grid[quiet[0]])
        if grid.shape[0] < times.shape[0]:
            return None
        return int(grid[np.argmax(lull)])  # the longest lull (the first of equals)

    def _detect(self, end: int | None) -> None:
        """Detect the open segment, ending at ``end`` (None: the stream's end), and move on;
        or, when a spoofing episode reaches ``end``, move the cut later."""
        parts, task = self._segment(end)
        batch = ReportBatch.concat(parts)
        del parts  # (the copies the cut made go before the detectors run; they empty the batch)
        events, not_before = detect_segment(batch, task, self.detectors)
        if events is None:
            self.not_before = not_before
            return
        self.found.append(events)
        self._advance(end)

    def _segment(self, end: int | None) -> tuple[list[ReportBatch], SegmentTask]:
        """The open segment's reports, part by part, and its task, ending at ``end``."""
        assert self.start is not None
        lo = None if self.segments == 0 else self.start
        until = None if end is None else int(self._until(np.array([end], np.int64))[0])
        hi = None if end is None else self._limits()[1]
        step = int(self.config.step_s * NS)
        task = SegmentTask((lo, end), hi, self.episode_gap_ns, step, self.names)
        parts = segment_parts(tuple(self.parts), self.keep_from, until)
        # (the sorted times are dropped before the detectors run)
        self.sorted_times = None
        return parts, task

    def _advance(self, end: int | None) -> None:
        """Move on past the segment that ends at ``end``, detected."""
        self.segments += 1
        self.not_before = 0
        if end is not None:
            self.start = end
            self._trim()

    def _trim(self) -> None:
        """Drop the reports older than the open segment's context (``context_s``, or fewer:
        an eighth of ``max_reports``), and the degraded times more than ``gap_s`` before the
        open segment."""
        assert self.start is not None
        ts = self._times()
        keep_from = self.start - self.context_ns
        fill = int(np.searchsorted(ts, self.start, "left")) - self.config.max_reports // 8
        if fill >= 0:
            keep_from = max(keep_from, int(ts[fill]))
        self.keep_from = keep_from
        parts = []
        for rows, t in self.parts:
            m = t >= keep_from
            if m.all():
                parts.append((rows, t))
            elif m.any():
                kept = rows.take(np.flatnonzero(m)).compact()
                parts.append((kept, kept.t))
        self.parts, self.sorted_times = parts, None
        since = self.start - self.gap_ns
        self.degraded = [bad[bad >= since] for bad in self.degraded if bad.shape[0]]
