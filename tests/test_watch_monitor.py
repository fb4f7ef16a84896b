"""The live monitor's core (:class:`jamwatch.watch.monitor.Monitor`) without sockets: a
receiver that loses most of its frames for ten minutes is reported as a receiver fault, not
as jamming.

The traffic is the simulator's swiss-2018 (real trajectories of 2018-08-01) with its
transmitters removed; frames are stepped a minute at a time, as a feed delivers them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa

from jamwatch.simulate.scenario import load, run_scenario
from jamwatch.watch.monitor import LOW_RATE, Monitor

MINUTE = 60 * 10**9


def _minutes(frames: pa.Table) -> list[pa.Table]:
    t = np.asarray(frames.column("time").cast(pa.int64()))
    m = t // MINUTE - t[0] // MINUTE  # (whole minutes of the clock, as the monitor counts)
    return [frames.filter(pa.array(m == k)) for k in range(int(m.max()) + 1)]


def test_a_receiver_that_loses_its_frames_is_a_fault_not_jamming() -> None:
    scenario = dataclasses.replace(load("swiss-2018"), transmitters=())
    frames = run_scenario(scenario, 1).frames.sort_by("time")
    rng = np.random.default_rng(7)
    statuses, events = {}, {}
    for lose in (False, True):
        monitor = Monitor()
        for k, minute in enumerate(_minutes(frames)):
            if lose and 30 <= k < 40:  # the receiver keeps a fifth of its frames
                minute = minute.filter(pa.array(rng.random(minute.num_rows) < 0.2))
            monitor.step(minute.to_batches(), look=False)
            statuses[lose, k] = monitor.receiver()["status"]
        monitor.look()
        events[lose] = [(e["kind"], e["aircraft"]) for e in monitor.events()]
    # the status follows the rate of the last whole minute: minutes 30-39 are seen at the
    # steps of minutes 31-40 (LOW_RATE, 0.5, is a round share set before this test existed)
    assert LOW_RATE == 0.5
    assert [statuses[True, k] for k in range(31, 41)] == ["low message rate"] * 10
    assert statuses[True, 42] == "ok" and statuses[True, 29] == "ok"
    assert all(statuses[False, k] == "ok" for k in range(11, 60))
    assert all(statuses[False, k] == "learning" for k in range(0, 10))
    # and the lost frames make no jamming event of their own
    assert events[True] == events[False]
