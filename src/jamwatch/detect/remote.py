"""Detection on a Dask cluster (``jamwatch detect --engine dask``): the stream's segments as
tasks, with the same events as :class:`jamwatch.detect.stream.DetectStream`.

The client reads the reports and decides the cuts as the stream does; each segment, with its
context, goes to a worker (:func:`jamwatch.detect.stream.run_segment`), and the client goes
on to the next cut without waiting. The one thing a cut depends on that only detection knows
is a spoofing episode reaching it (the cut then moves later): the client goes on as if none
did, and when a segment comes back with its cut moved, it drops the tasks started after it,
takes the stream back to where that segment was cut, and reads again from there the batches
it kept. The segments' events are returned in order, as the stream returns them, so the
events equal the embedded run's; how many times a cut was taken back is in
:attr:`ClusterStream.replans`.
"""

from __future__ import annotations

import copy
from collections import deque
from concurrent.futures import Future as Done
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from jamwatch.detect.stream import DetectStream, StreamConfig, run_segment
from jamwatch.reports import ReportBatch

if TYPE_CHECKING:
    from distributed import Client, Future

#: segments of fewer reports than this (with their context) are detected by the client: the
#: hours of a store with no traffic, for one, are segments of a few reports each
LOCAL_ROWS = 20_000

#: the fields of the stream that a cut changes, and that going back restores
_STATE = (
    "parts", "degraded", "state", "keep_from", "start", "now", "segments", "late", "untimed",
    "not_before",
)  # fmt: skip


@dataclass(slots=True)
class _Pending:
    """A segment sent to the cluster: the stream's state when it was cut (``state``), the
    number of batches read by then (``pushes``), whether it was cut by :meth:`_last` (the
    stream had ended), and the task."""

    state: dict[str, Any]
    pushes: int
    last: bool
    future: Future[Any] | Done[Any]


class ClusterStream(DetectStream):
    """:class:`DetectStream` whose segments are detected by the workers of ``client``; at
    most ``ahead`` segments (default: twice the cluster's threads) are out at once. Segments
    of fewer than ``local_rows`` reports with their context are detected here."""

    def __init__(
        self, client: Client, *, spoofing: str = "kinematic", jamming: str = "cluster",
        localizer: str = "likelihood", config: StreamConfig | None = None,
        ahead: int | None = None, local_rows: int = LOCAL_ROWS,
    ) -> None:  # fmt: skip
        from jamwatch.cluster import threads

        super().__init__(spoofing=spoofing, jamming=jamming, localizer=localizer, config=config)
        self.client = client
        self.ahead = ahead or 2 * threads(client)
        self.local_rows = local_rows
        self.pending: deque[_Pending] = deque()
        #: the pending segments the cluster detects (the others were detected here)
        self.out = 0
        #: the batches read since the oldest pending segment was cut, numbered (kept compact)
        self.log: deque[tuple[int, ReportBatch]] = deque()
        self.pushes = 0
        #: the stream has ended (:meth:`flush`); its last segments are being cut (:meth:`_last`)
        self.ended = False
        self.closing = False
        #: how many times a cut was taken back (a spoofing episode reached it)
        self.replans = 0

    def push(self, batch: pa.Table) -> pa.Table:
        """Add the next batch; return the events of the segments that came back, in order."""
        if batch.num_rows == 0:
            return self._events()
        rows = ReportBatch.from_table(batch, motion=True)
        self.pushes += 1
        self.log.append((self.pushes, rows.compact()))
        self._take(rows)
        self._collect(wait=False)
        return self._events()

    def flush(self) -> pa.Table:
        """The events of the last segments, once every task has come back."""
        self.ended = True
        if self.start is not None and self.parts:
            self._last()
        self._collect(wait=True)
        return self._events()

    def _last(self) -> None:
        """Cut the last segments, noting that they are (a segment cut here is cut again
        here when it is taken back)."""
        self.closing = True
        try:
            super()._last()
        finally:
            self.closing = False

    def _detect(self, end: int | None) -> None:
        """Send the open segment to the cluster and go on as if its cut held."""
        state = {name: getattr(self, name) for name in _STATE}
        state["state"] = copy.deepcopy(self.state)
        state["parts"], state["degraded"] = list(self.parts), list(self.degraded)
        parts, task = self._segment(end)
        future: Future[Any] | Done[Any]
        if sum(len(p) for p in parts) < self.local_rows:  # (quicker here than a round trip)
            future = Done()
            future.set_result(run_segment(parts, task))
        else:
            sent = self.client.scatter(parts, hash=False)  # type: ignore[no-untyped-call]
            future = self.client.submit(run_segment, sent, task, pure=False)
            self.out += 1
        self.pending.append(_Pending(state, self.pushes, self.closing, future))
        self._advance(end)

    def _collect(self, wait: bool) -> None:
        """Take the events of the tasks that came back, in order (``wait``: all of them;
        otherwise at least down to ``ahead`` out); go back where a cut moved."""
        while self.pending and (
            wait or self.out > self.ahead or self.pending[0].future.done()  # type: ignore[no-untyped-call]
        ):
            first = self.pending.popleft()
            self.out -= not isinstance(first.future, Done)
            events, not_before = first.future.result()
            if events is None:
                self._replan(first, not_before)
            else:
                self.found.append(events)
            since = self.pending[0].pushes if self.pending else self.pushes
            while self.log and self.log[0][0] <= since:
                self.log.popleft()

    def _replan(self, cut: _Pending, not_before: int) -> None:
        """Go back to where the segment ``cut`` was cut, move the cut to ``not_before`` on,
        and read again the batches that came after it."""
        self.replans += 1
        for later in self.pending:
            later.future.cancel()  # type: ignore[no-untyped-call]
        self.pending.clear()
        self.out = 0
        for name, value in cut.state.items():
            setattr(self, name, value)
        self.sorted_times = None
        self.not_before = not_before
        pushes, self.pushes = self.pushes, cut.pushes
        if not cut.last:
            self._cuts()  # (the rest of the batch that made the cut)
            for number, rows in [(n, r) for n, r in self.log if n > cut.pushes]:
                self.pushes = number
                self._take(ReportBatch.concat([rows]))
        self.pushes = pushes
        if self.ended and self.start is not None and self.parts:
            self._last()


__all__ = ["ClusterStream"]
