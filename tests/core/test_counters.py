"""The shared counter tracker: deltas, rates, resets (counters or uptime going back), new keys, bounded memory."""

from __future__ import annotations

import pytest
from flcollector import CounterDelta, CounterTracker


def test_deltas_and_rates_between_two_readings() -> None:
    tracker: CounterTracker[str] = CounterTracker()
    assert tracker.update("p", {"bytes": 100, "packets": 1}, at=1.0) is None  # a baseline, no delta
    delta = tracker.update("p", {"bytes": 600, "packets": 6}, at=3.0)
    assert delta == CounterDelta({"bytes": 500, "packets": 5}, 2.0)
    assert delta.rates() == {"bytes": 250.0, "packets": 2.5} and not delta.from_zero


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (({"bytes": 900}, 50.0), ({"bytes": 40}, 51.0)),  # a counter went back
        (({"bytes": 900}, 50.0), ({"bytes": 5000}, 0.5)),  # uptime went back: restarted, then busy
    ],
)
def test_a_reset_counts_from_zero(before: tuple[dict, float], after: tuple[dict, float]) -> None:
    tracker: CounterTracker[str] = CounterTracker()
    tracker.update("p", before[0], at=10.0, uptime=before[1])
    delta = tracker.update("p", after[0], at=11.0, uptime=after[1])
    assert delta is not None and delta.reset and delta.from_zero
    assert delta.deltas == after[0]  # what moved since the restart, never a negative number
    assert tracker.resets == 1
    again = tracker.update("p", {"bytes": after[0]["bytes"] + 10}, at=12.0, uptime=after[1] + 1)
    assert again == CounterDelta({"bytes": 10}, 1.0)  # the restarted reading is the new baseline


def test_a_key_born_after_the_previous_reading_counts_everything() -> None:
    tracker: CounterTracker[str] = CounterTracker()
    old = tracker.update("old", {"bytes": 10**9}, at=100.0, uptime=3600.0, born_after=95.0)
    young = tracker.update("young", {"bytes": 700}, at=100.0, uptime=2.0, born_after=95.0)
    assert old is None  # existed long before: its history is not this interval's traffic
    assert young == CounterDelta({"bytes": 700}, 5.0, new=True) and young.from_zero
    assert tracker.update("first", {"bytes": 1}, at=100.0, uptime=0.1) is None  # no previous poll known


def test_delta_has_no_side_effect_until_remembered() -> None:
    tracker: CounterTracker[tuple[str, int]] = CounterTracker()
    tracker.remember(("s", 1), {"bytes": 0}, at=0.0)
    for _ in range(2):  # a poll cut short is simply repeated
        assert tracker.delta(("s", 1), {"bytes": 5}, at=1.0) == CounterDelta({"bytes": 5}, 1.0)
    assert tracker.delta(("s", 1), {"bytes": 5}, at=0.0) is None  # no time passed
    assert tracker.delta(("s", 1), {"bytes": 5, "errors": 0}, at=2.0) is None  # a counter that was not there


def test_forgotten_keys_start_over() -> None:
    tracker: CounterTracker[str] = CounterTracker()
    for key in ("eth0", "eth1"):
        tracker.update(key, {"bytes": 0}, at=0.0)
    tracker.retain({"eth0"})
    assert list(tracker) == ["eth0"] and len(tracker) == 1 and "eth1" not in tracker
    assert tracker.update("eth1", {"bytes": 10}, at=1.0) is None
