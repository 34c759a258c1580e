"""Interface and disk rates (the shared counter tracker, as the system monitor reads it) and CPU shares, from
synthetic readings, including counter resets."""

from __future__ import annotations

import pytest
from flcollector import CounterTracker
from flcollector.plugins.system.monitor import _rates
from flcollector.plugins.system.rates import cpu_shares


def test_rates_are_deltas_per_second() -> None:
    tracker: CounterTracker[str] = CounterTracker()
    tracker.update("eth0", {"rx_bytes": 1000, "rx_packets": 10}, at=0.0)
    delta = tracker.update("eth0", {"rx_bytes": 5000, "rx_packets": 30}, at=2.0)
    assert _rates(delta) == {"rx_bytes": 2000.0, "rx_packets": 10.0}


@pytest.mark.parametrize(
    ("previous", "current", "elapsed"),
    [
        ({"rx_bytes": 5000}, {"rx_bytes": 100}, 1.0),  # counter reset (interface re-created)
        ({"rx_bytes": 2**32 - 10}, {"rx_bytes": 5}, 1.0),  # 32-bit wrap looks like a reset too
        ({"rx_bytes": 10}, {"rx_bytes": 20}, 0.0),  # no time passed
        ({}, {"rx_bytes": 20}, 1.0),  # a counter that was not there before
    ],
)
def test_unusable_samples_give_no_rates(previous: dict, current: dict, elapsed: float) -> None:
    tracker: CounterTracker[str] = CounterTracker()
    tracker.update("eth0", previous, at=10.0)
    assert _rates(tracker.update("eth0", current, at=10.0 + elapsed)) is None


def test_tracker_skips_first_reading_and_the_sample_after_a_reset() -> None:
    tracker: CounterTracker[str] = CounterTracker()
    assert _rates(tracker.update("eth0", {"rx_bytes": 100}, at=10.0)) is None  # nothing to compare with yet
    assert _rates(tracker.update("eth0", {"rx_bytes": 600}, at=11.0)) == {"rx_bytes": 500.0}
    assert _rates(tracker.update("eth0", {"rx_bytes": 50}, at=12.0)) is None  # reset: skipped
    assert _rates(tracker.update("eth0", {"rx_bytes": 250}, at=14.0)) == {"rx_bytes": 100.0}  # recovers at once
    assert tracker.resets == 1


def test_cpu_shares_from_cpu_times() -> None:
    before = {"user": 100.0, "nice": 0.0, "system": 50.0, "idle": 800.0, "iowait": 10.0, "guest": 0.0}
    after = {"user": 130.0, "nice": 0.0, "system": 60.0, "idle": 850.0, "iowait": 20.0, "guest": 0.0}
    shares = cpu_shares(before, after)
    # 100 s of CPU time passed: 30 user + 10 system busy, 50 idle + 10 iowait not busy.
    assert shares == {"usage_percent": 40.0, "user_percent": 30.0, "system_percent": 10.0, "iowait_percent": 10.0}


def test_cpu_shares_guest_time_is_not_counted_twice() -> None:
    before = {"user": 0.0, "idle": 0.0, "guest": 0.0}
    after = {"user": 50.0, "idle": 50.0, "guest": 20.0}  # the 20 s of guest are inside user's 50
    shares = cpu_shares(before, after)
    assert shares is not None
    assert shares["usage_percent"] == 50.0
    assert shares["user_percent"] == 30.0


def test_cpu_shares_need_time_to_pass_and_tolerate_an_iowait_step_back() -> None:
    same = {"user": 1.0, "idle": 2.0, "iowait": 3.0}
    assert cpu_shares(same, same) is None
    shares = cpu_shares({"user": 1.0, "idle": 2.0, "iowait": 3.0}, {"user": 2.0, "idle": 3.0, "iowait": 2.5})
    assert shares is not None
    assert shares["usage_percent"] == 50.0
    assert shares["iowait_percent"] == 0.0
