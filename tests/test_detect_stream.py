"""Detection as a stream (:mod:`jamwatch.detect.stream`): the same events whatever the
batches, memory bounded by the segments, late reports counted.

The segments here are made short (minutes, not hours) so that a recording of one or two
hours is cut several times, by quiet spells and by force; the recordings are the
simulator's andoya-2024 (jammers switching every 10 minutes for two hours), korea-west-sea
and spoof-east-med (a spoofer), and three hours of the real Helsinki day.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pytest

from conftest import shared_path
from golden import helsinki_starts
from jamwatch.api import decode
from jamwatch.detect import observe
from jamwatch.detect.changes import EventChange, EventLog
from jamwatch.detect.events import detect_jamming
from jamwatch.detect.observe import LocalizeConfig
from jamwatch.detect.pipeline import detect
from jamwatch.detect.sources import locate_sources
from jamwatch.detect.spoofing import detect_spoofing
from jamwatch.detect.stream import DetectStream, SegmentTask, StreamConfig
from jamwatch.detect.tracks import Tracks, aircraft_codes, prepare
from jamwatch.reports import ReportBatch
from jamwatch.schema import TIME_TYPE
from jamwatch.simulate.scenario import load, run_scenario

NS = 1_000_000_000
SHORT = StreamConfig(context_s=600.0, min_segment_s=900.0, max_segment_s=1800.0)


def _times(table: pa.Table) -> np.ndarray:
    return np.asarray(table.column("time").cast(pa.int64()).to_numpy())


def _windows(table: pa.Table, seconds: float) -> Iterator[pa.Table]:
    """``table`` (in time order) as consecutive batches of ``seconds``."""
    t = _times(table)
    edges = np.arange(t.min(), t.max() + seconds * NS, int(seconds * NS))
    for a, b in itertools.pairwise(edges):
        yield table.filter(pa.array((t >= a) & (t < b)))


def _stream(batches: Iterator[pa.Table], config: StreamConfig) -> tuple[pa.Table, DetectStream]:
    stream = DetectStream(config=config)
    out = [stream.push(b) for b in batches]
    out.append(stream.flush())
    return pa.concat_tables(out), stream


def _sorted(table: pa.Table) -> pa.Table:
    return table.sort_by([("time", "ascending")]) if "time" in table.column_names else table


@pytest.fixture(scope="module")
def andoya() -> pa.Table:
    return _sorted(decode(run_scenario(load("andoya-2024"), 3).frames))


def test_small_batches_give_the_events_of_one_batch(andoya: pa.Table) -> None:
    whole, one = _stream(iter([andoya]), SHORT)
    small, many = _stream(_windows(andoya, 120.0), SHORT)
    assert one.segments == many.segments >= 4  # two hours in pieces of 15-30 minutes
    assert whole.num_rows >= 3
    assert small.equals(whole)
    assert many.late == 0 and many.untimed == 0


def test_the_stream_holds_no_more_than_its_window(andoya: pa.Table) -> None:
    stream = DetectStream(config=SHORT)
    held = []
    for batch in _windows(andoya, 60.0):
        stream.push(batch)
        if stream.parts:
            t = np.concatenate([times for _, times in stream.parts])
            held.append((t.max() - t.min()) / NS)
    stream.flush()
    # the open segment's context, the segment (at most max_segment_s), what must follow it
    # before it is detected (the events' gap_s, 30 minutes, is longer than the context), the
    # slack and the batch that completes the segment
    bound = SHORT.context_s + SHORT.max_segment_s + 1800.0 + SHORT.slack_s + 60.0
    assert max(held) <= bound
    assert max(held) >= SHORT.min_segment_s  # (it does hold a segment)


class _Sized(DetectStream):
    """A stream that notes the reports of every segment it detects."""

    def __init__(self, config: StreamConfig) -> None:
        super().__init__(config=config)
        self.sizes: list[int] = []

    def _segment(self, end: int | None) -> tuple[list[ReportBatch], SegmentTask]:
        parts, task = super()._segment(end)
        self.sizes.append(sum(len(p) for p in parts))
        return parts, task


def test_dense_reports_shorten_the_segments_whatever_the_batches(andoya: pa.Table) -> None:
    # a tenth of the recording's 190,000 reports at most per segment with its context (the
    # product's default is 4 million): the two hours are cut into pieces of about ten minutes,
    # as a day of 100 million reports is into pieces of half an hour
    config = StreamConfig(max_reports=andoya.num_rows // 10)
    one, many = _Sized(config), _Sized(config)
    whole = pa.concat_tables([one.push(andoya), one.flush()])
    small = pa.concat_tables([*(many.push(b) for b in _windows(andoya, 120.0)), many.flush()])
    assert one.segments == many.segments >= 15
    assert small.equals(whole)
    assert max(one.sizes) <= config.max_reports and max(many.sizes) <= config.max_reports
    # the pieces name only aircraft the whole recording's grouping names
    jam = whole.filter(pa.compute.equal(whole["kind"], "jamming"))
    named = set().union(*map(set, detect_jamming(andoya).column("aircraft").to_pylist()))
    assert jam.num_rows >= 3
    assert set().union(*map(set, jam.column("aircraft").to_pylist())) <= named


def test_the_buffer_never_holds_more_than_max_reports_and_an_eighth(andoya: pa.Table) -> None:
    # the jammers of andoya-2024 switch every 10 minutes for two hours: no quiet half hour.
    # A cut waits half an hour past itself to know its lull, which here is some 47,000
    # reports, more than twice max_reports (a tenth of the recording): the buffer must be cut
    # on what it holds once it is full (plus at most one 2-minute batch, about 3,200
    # reports), and the cuts must not depend on the batches
    config = StreamConfig(max_reports=andoya.num_rows // 10)
    stream, whole = DetectStream(config=config), DetectStream(config=config)
    held, out = [], []
    for batch in _windows(andoya, 120.0):
        out.append(stream.push(batch))
        held.append(sum(len(rows) for rows, _ in stream.parts))
    out.append(stream.flush())
    bound = config.max_reports + config.max_reports // 8
    assert max(held) <= bound + 3_500
    assert max(held) > config.max_reports  # (it does fill: the bound is what holds it)
    assert pa.concat_tables(out).equals(pa.concat_tables([whole.push(andoya), whole.flush()]))


def test_forced_cuts_keep_nearly_every_jammed_aircraft(andoya: pa.Table) -> None:
    # the pieces' events name the aircraft that the grouping finds on the whole table, and
    # no piece repeats another's event. With no quiet half hour in these two hours, every cut
    # is forced (at the longest lull): an aircraft whose few degraded minutes fall on both
    # sides of one may be too little for an event on either side; one such aircraft of the
    # 20 or so is allowed (by default a cut is forced only after 12 hours)
    events, _ = _stream(_windows(andoya, 300.0), SHORT)
    jam = events.filter(pa.compute.equal(events["kind"], "jamming"))
    pieces = set().union(*map(set, jam.column("aircraft").to_pylist()))
    whole = detect_jamming(andoya)
    named = set().union(*map(set, whole.column("aircraft").to_pylist()))
    assert pieces <= named
    assert len(named - pieces) <= 1 and len(named) >= 15
    spans = list(zip(jam.column("start").to_pylist(), jam.column("end").to_pylist(), strict=True))
    assert len(set(spans)) == len(spans) == jam.num_rows > whole.num_rows


def test_the_default_stream_is_the_batch_detect() -> None:
    # korea-west-sea: one hour, shorter than a segment; the spoofer's recording for episodes
    for name in ("korea-west-sea", "spoof-east-med"):
        table = _sorted(decode(run_scenario(load(name), 1).frames))
        small, stream = _stream(_windows(table, 180.0), StreamConfig())
        assert stream.segments == 1
        assert small.equals(detect(table))
        kinds = set(small.column("kind").to_pylist())
        assert kinds == ({"jamming"} if name == "korea-west-sea" else {"spoofing"})


def test_the_open_segment_can_be_watched_before_it_closes(andoya: pa.Table) -> None:
    batches = list(_windows(andoya, 300.0))
    stream = DetectStream(config=SHORT)
    closed = [stream.push(b) for b in batches]
    seen = stream.open_events()  # what a live view shows now
    assert seen.num_rows >= 1
    memo = stream.detectors[1].memo
    searched, hits = memo.searched, memo.hits
    assert seen.equals(stream.flush())  # nothing came after: the same events, now final
    assert memo.searched == searched and memo.hits > hits  # (its fits taken from the look)
    assert pa.concat_tables(closed).num_rows >= 1


class _Recording(DetectStream):
    """A stream that keeps the events each push and the flush closed."""

    def __init__(self, config: StreamConfig) -> None:
        super().__init__(config=config)
        self.closed: list[pa.Table] = []

    def push(self, batch: pa.Table) -> pa.Table:
        self.closed.append(super().push(batch))
        return self.closed[-1]

    def flush(self) -> pa.Table:
        self.closed.append(super().flush())
        return self.closed[-1]


@pytest.fixture(scope="module")
def plain(andoya: pa.Table) -> pa.Table:
    """The events of Andøya's 10-minute batches, with no look at the open segment."""
    return _stream(_windows(andoya, 600.0), SHORT)[0]


@pytest.fixture(scope="module")
def looked(andoya: pa.Table) -> tuple[list[list[EventChange]], _Recording]:
    """The same batches as a live monitor runs them (``EventLog``): a look at the open
    segment after every push; the changes of every look, and the stream."""
    stream = _Recording(SHORT)
    log = EventLog(stream)
    looks = [log.push(b) for b in _windows(andoya, 600.0)]
    looks.append(log.flush())
    return looks, stream


def test_looks_between_pushes_change_nothing_and_reuse_finished_fits(
    plain: pa.Table, looked: tuple[list[list[EventChange]], _Recording]
) -> None:
    # the events are those of no looks, and the finished pieces of a growing event are not
    # fitted again at the next look
    _, stream = looked
    assert pa.concat_tables(stream.closed).equals(plain)
    memo = stream.detectors[1].memo
    # 17 of the 63 fits come from the memo here (seen once, when this test was written; the
    # bound is not tuned: without the memo there would be none)
    assert memo.hits >= 10 and memo.searched >= 20


def test_late_and_untimed_reports_are_counted_and_left_out(andoya: pa.Table) -> None:
    batches = list(_windows(andoya, 300.0))
    stream = DetectStream(config=SHORT)
    for batch in batches:
        stream.push(batch)
    assert stream.segments >= 3
    late = batches[0]  # long after its segment was detected
    untimed = late.set_column(0, "time", pa.nulls(late.num_rows, late.schema.field("time").type))
    stream.push(late)
    stream.push(untimed)
    assert stream.late == late.num_rows
    assert stream.untimed == late.num_rows
    stream.flush()


def test_real_helsinki_morning_in_batches_equals_one_batch() -> None:
    # three hours of the real day, 04:00-07:00 UTC (the busiest jamming), 12 files
    folder = shared_path("helsinki", "files.csv").parent
    starts = helsinki_starts(folder)
    names = [n for n, s in sorted(starts.items(), key=lambda kv: kv[1]) if 4 <= s.hour < 7]
    assert len(names) == 12
    table = pa.concat_tables(decode(folder / n, start=starts[n]) for n in names)
    whole, one = _stream(iter([table]), SHORT)
    small, many = _stream(_windows(table, 400.0), SHORT)
    assert one.segments == many.segments >= 6
    assert small.equals(whole)
    assert whole.filter(pa.compute.equal(whole["kind"], "jamming")).num_rows >= 3


def test_cuts_do_not_split_or_move_spoofing_episodes() -> None:
    # the spoofer's hour cut every 5-15 minutes: the cuts step around its episodes, or
    # (forced after 15 minutes) cut through them without changing them
    table = _sorted(decode(run_scenario(load("spoof-east-med"), 2).frames))
    config = StreamConfig(context_s=600.0, min_segment_s=300.0, max_segment_s=900.0)
    cut, stream = _stream(_windows(table, 120.0), config)
    assert stream.segments >= 3
    whole = detect(table)
    keys = ["kind", "icao", "start", "end", "reports"]
    assert whole.num_rows >= 3
    assert cut.select(keys).equals(whole.select(keys))


def test_every_event_gets_one_onset_and_one_end_in_order(
    plain: pa.Table, looked: tuple[list[list[EventChange]], _Recording]
) -> None:
    """The changes of a stream of 10-minute batches (what a live monitor publishes): every
    id begins with one onset and ends once; each final event (those ``push`` and ``flush``
    return) is ended under an id of its own, as the stream gave it; a final event with a
    source was announced as located; some events were announced while their segment was
    still open, before the look that ended them."""
    looks, _ = looked
    seen: dict[int, list[tuple[int, str]]] = {}
    for n, look in enumerate(looks):
        for change in look:
            seen.setdefault(change.id, []).append((n, change.change))
    assert sorted(seen) == list(range(1, len(seen) + 1))
    for history in seen.values():
        kinds = [k for _, k in history]
        assert kinds[0] == "onset" and kinds.count("onset") == 1
        assert kinds[-1] == "ended" and kinds.count("ended") == 1
        assert kinds.count("located") <= 1
    ended = {c.id: c.event for look in looks for c in look if c.change == "ended"}
    rows = plain.to_pylist()
    assert len(rows) >= 3
    ids = [next(i for i, e in ended.items() if e == row) for row in rows]
    assert len(set(ids)) == len(rows)  # each final event under its own id
    for i, row in zip(ids, rows, strict=True):  # (a source may also be withdrawn: updated)
        assert "located" in [k for _, k in seen[i]] or not row["source"]
    assert any(row["source"] for row in rows)
    early = [i for i in ids if seen[i][0][0] < seen[i][-1][0]]
    assert early  # announced in an earlier look than the one that ended it


def test_pushes_without_a_look_change_only_the_closed_events(
    andoya: pa.Table, plain: pa.Table
) -> None:
    """A live monitor looks at the open segment now and then, not at every push: pushes
    without a look give only the events of the segments they close (onset and ended at
    once), never end an open event it showed before, and end as the looks would."""
    batches = list(_windows(andoya, 600.0))
    log = EventLog(DetectStream(config=SHORT))
    looks = [log.push(b, look=k % 3 == 0) for k, b in enumerate(batches)] + [log.flush()]
    ended = [c.event for look in looks for c in look if c.change == "ended"]
    assert ended == plain.to_pylist() and len(ended) >= 3
    for k, look in enumerate(looks[:-1]):
        if k % 3:  # (no look: an event that ends is one that is final)
            assert all(c.event in ended for c in look if c.change == "ended")
    onsets = [c.id for look in looks for c in look if c.change == "onset"]
    assert sorted(onsets) == sorted(set(onsets)) == list(range(1, len(onsets) + 1))


def test_the_table_and_the_batch_apis_agree(andoya: pa.Table) -> None:
    """The detectors take a decoded table, or its reports converted once (``ReportBatch``
    with motion) and prepared once as tracks: the same events, sources, spoofing flags and
    episodes (the first 40 minutes of the Andøya recording, and a spoofer's hour)."""
    t = _times(andoya)
    part = andoya.filter(pa.array(t < t.min() + 2400 * NS))
    batch = ReportBatch.from_table(part, motion=True)
    tracks = prepare(batch)
    events = detect_jamming(part)
    assert events.num_rows >= 1 and events.equals(detect_jamming(batch))
    sources = locate_sources(part, events)
    assert sources.num_rows >= 1 and sources.equals(locate_sources(tracks, events))
    spoofer = _sorted(decode(run_scenario(load("spoof-east-med"), 2).frames))
    by_table, by_tracks = detect_spoofing(spoofer), detect_spoofing(prepare(spoofer))
    assert by_table.episodes.num_rows >= 3 and by_table.episodes.equals(by_tracks.episodes)
    flags = by_tracks.reports.column_names
    assert flags == ["spoofed", "spoof_evidence", "position_outlier", "spoof_episode"]
    assert by_table.reports.select(flags).equals(by_tracks.reports)
    with pytest.raises(ValueError, match="motion"):
        prepare(ReportBatch.from_table(part))  # the map job's batch lacks the detectors' columns


def test_aircraft_are_numbered_by_lower_case_address_in_order_of_appearance() -> None:
    table = pa.table({"time": pa.array([1, 2, 3, 4, 5], pa.int64()).cast(TIME_TYPE),
                      "icao": ["4CA2D1", None, "abc123", "4ca2d1", "ABC123"]})  # fmt: skip
    code, names = aircraft_codes(ReportBatch.from_table(table))
    assert code.tolist() == [0, -1, 1, 0, 1] and names == ["4ca2d1", "abc123"]


def test_tracks_that_consume_their_batch_are_the_same(andoya: pa.Table) -> None:
    # a segment empties its batch while it sorts the rows into tracks (the memory moves from
    # one to the other): the tracks are those of a batch left as it was
    kept = prepare(ReportBatch.from_table(andoya, motion=True))
    batch = ReportBatch.from_table(andoya, motion=True)
    taken = prepare(batch, consume=True)
    assert kept.size > 100_000 and taken.size_in == kept.size_in == andoya.num_rows
    assert taken.icaos == kept.icaos
    for field in dataclasses.fields(Tracks):
        if field.name != "icaos":
            np.testing.assert_array_equal(getattr(taken, field.name), getattr(kept, field.name))
    assert len(batch) == 0 and batch.lat.shape[0] == 0 and batch.t.shape[0] == 0


def test_observations_of_the_aircraft_around_an_event_are_those_of_all(
    andoya: pa.Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the localizer works on the tracks of the aircraft that can give an observation (every
    # row of each): the observations are those of all the tracks, for a fraction of them
    tracks = prepare(andoya)
    ev = detect_jamming(andoya).to_pylist()[0]
    start = int(pa.scalar(ev["start"], TIME_TYPE).cast(pa.int64()).as_py())
    window = (start, start + 1200 * NS, ev["latitude"], ev["longitude"])
    around = observe._around(tracks, *window, LocalizeConfig())
    assert 0 < around.size < tracks.size // 2
    narrowed = observe.observations(tracks, *window)
    monkeypatch.setattr(observe, "_around", lambda tr, *_: tr)
    whole = observe.observations(tracks, *window)
    assert narrowed.x.shape[0] >= 100
    for field in dataclasses.fields(observe.Observations):
        np.testing.assert_array_equal(getattr(narrowed, field.name), getattr(whole, field.name))
