"""Event ids (flcollector.ids): strictly increasing, past the store's highest, within what JavaScript reads exactly."""

from __future__ import annotations

import time

from flcollector.ids import EventIds
from flcollector.limits import MAX_EVENT_ID


def test_ids_increase_and_start_from_the_clock() -> None:
    before = time.time_ns() // 1000
    ids = EventIds()
    taken = [ids.next() for _ in range(1000)]
    assert taken == sorted(set(taken)) and taken[0] > before
    assert taken[-1] < MAX_EVENT_ID  # microseconds since 1970 stay below 2**53 until the year 2255


def test_ids_continue_after_the_store_even_when_the_clock_went_back() -> None:
    ids = EventIds()
    ahead = ids.last + 10**9  # the store holds ids from a clock that ran ahead
    ids.continue_after(ahead)
    assert ids.next() == ahead + 1
    ids.continue_after(5)  # a store behind the sequence changes nothing
    assert ids.next() == ahead + 2


def test_two_agents_started_one_after_the_other_never_reuse_an_id() -> None:
    first = EventIds()
    last_of_first = max(first.next() for _ in range(100))
    second = EventIds()
    second.continue_after(last_of_first)  # what the agent does with the store's max id at start
    assert second.next() > last_of_first
