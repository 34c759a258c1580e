"""The memory task: full garbage collections on its schedule (not set off by ingest bursts), and state restored."""

from __future__ import annotations

import gc
import weakref

import trio
from flcollector.memory import NEVER, collect_and_trim_every, scheduled_full_collections


class Node:
    """An object that can sit in a reference cycle and be watched through a weak reference."""

    me: Node | None = None


def test_the_schedule_freezes_start_up_and_restores_the_collector_on_exit() -> None:
    thresholds = gc.get_threshold()
    with scheduled_full_collections():
        assert gc.get_threshold() == (thresholds[0], thresholds[1], NEVER)
        assert gc.get_freeze_count() > 0  # what lived at start-up is out of every collection
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == 0


async def test_an_old_cycle_is_collected_on_the_schedule_and_not_before(autojump_clock) -> None:  # type: ignore[no-untyped-def]
    thresholds = gc.get_threshold()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(collect_and_trim_every, 60.0)
        await trio.sleep(1)  # the task has started its schedule
        node = Node()
        node.me = node
        alive = weakref.ref(node)
        gc.collect(1)  # reachable still: moved to the oldest generation
        del node
        gc.collect(1)  # young collections do not look at the oldest generation
        for _ in range(100_000):  # nor does an allocation burst set off a full collection
            [[]]  # noqa: B018 - tracked containers, allocated and freed
        assert alive() is not None
        await trio.sleep(60)  # past the task's first interval
        assert alive() is None
        nursery.cancel_scope.cancel()
    assert gc.get_threshold() == thresholds and gc.get_freeze_count() == 0
