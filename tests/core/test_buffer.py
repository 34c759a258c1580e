"""The bounded record buffer of each sink (flcollector.buffer): when_full policies, batching, and receipts."""

from __future__ import annotations

import pytest
import trio
from flcollector import Metric, Receipt
from flcollector.buffer import RecordBuffer
from flcollector.stats import ComponentStats


def _stats() -> ComponentStats:
    return ComponentStats(kind="sink", instance="s", plugin="t")


def _metrics(start: int, stop: int) -> list[Metric]:
    return [Metric("m", {"i": i}) for i in range(start, stop)]


async def test_block_waits_for_room_and_keeps_order(autojump_clock: trio.testing.MockClock) -> None:
    buffer = RecordBuffer(4, "block", _stats())
    taken: list[int] = []
    async with trio.open_nursery() as nursery:

        async def take_all() -> None:
            while batch := await buffer.take(3, 1.0):
                taken.extend(int(m.fields["i"]) for m in batch)  # type: ignore[union-attr]

        nursery.start_soon(take_all)
        await buffer.put(_metrics(0, 10))  # more than the capacity: waits for the batcher
        buffer.close()
    assert taken == list(range(10))
    assert buffer.stats.counters["records_in"] == 10 and buffer.stats.counters["dropped"] == 0


@pytest.mark.parametrize(("policy", "kept"), [("drop_newest", [0, 1, 2]), ("drop_oldest", [7, 8, 9])])
async def test_drop_policies_count_what_they_drop(policy: str, kept: list[int]) -> None:
    buffer = RecordBuffer(3, policy, _stats())
    await buffer.put(_metrics(0, 10))
    buffer.close()
    batch = await buffer.take(10, 0.0)
    assert [m.fields["i"] for m in batch] == kept  # type: ignore[union-attr]
    assert buffer.stats.counters["dropped"] == 7


async def test_take_waits_for_a_full_batch_or_the_flush_interval(autojump_clock: trio.testing.MockClock) -> None:
    buffer = RecordBuffer(100, "block", _stats())
    await buffer.put(_metrics(0, 2))
    started = trio.current_time()
    batch = await buffer.take(10, 0.5)
    assert len(batch) == 2 and trio.current_time() - started == pytest.approx(0.5)


async def test_a_waiting_receipt_is_written_at_once(autojump_clock: trio.testing.MockClock) -> None:
    buffer = RecordBuffer(100, "block", _stats())
    await buffer.put(_metrics(0, 2))
    receipt = Receipt()
    receipt.expect(1)
    await buffer.put(_metrics(2, 3), receipt)
    started = trio.current_time()
    batch = await buffer.take(10, 5.0)
    assert len(batch) == 3 and trio.current_time() == started  # no wait for a fuller batch
    assert not receipt.done
    buffer.settle()
    assert receipt.committed


async def test_a_receipt_spanning_two_writes_is_settled_by_the_second_with_the_first_problem() -> None:
    buffer = RecordBuffer(100, "block", _stats(), name="store")
    receipt = Receipt()
    receipt.expect(1)
    await buffer.put(_metrics(0, 5), receipt)
    assert len(await buffer.take(2, 0.0)) == 2
    buffer.settle("disk full")
    assert not receipt.done
    assert len(await buffer.take(10, 0.0)) == 3
    buffer.settle()
    assert receipt.done and not receipt.committed and receipt.problems == ["store: disk full"]


async def test_receipts_are_settled_in_order_and_only_by_their_own_records() -> None:
    buffer = RecordBuffer(100, "block", _stats())
    first, second = Receipt(), Receipt()
    for receipt in (first, second):
        receipt.expect(1)
    await buffer.put(_metrics(0, 3), first)
    await buffer.put(_metrics(3, 6), second)
    await buffer.take(4, 0.0)
    buffer.settle()
    assert first.committed and not second.done
    await buffer.take(4, 0.0)
    buffer.settle()
    assert second.committed


async def test_an_evicted_or_refused_batch_fails_its_receipt() -> None:
    oldest = RecordBuffer(3, "drop_oldest", _stats())
    evicted = Receipt()
    evicted.expect(1)
    await oldest.put(_metrics(0, 2), evicted)
    await oldest.put(_metrics(2, 5))  # evicts two of the receipt's records
    await oldest.take(10, 0.0)
    oldest.settle()
    assert evicted.done and not evicted.committed and "evicted" in evicted.problems[0]

    newest = RecordBuffer(3, "drop_newest", _stats())
    refused = Receipt()
    refused.expect(1)
    await newest.put(_metrics(0, 5), refused)
    assert refused.done and not refused.committed


async def test_closing_and_discarding_settle_every_receipt() -> None:
    buffer = RecordBuffer(10, "block", _stats())
    held, late = Receipt(), Receipt()
    held.expect(1)
    late.expect(1)
    await buffer.put(_metrics(0, 3), held)
    buffer.close()
    await buffer.put(_metrics(3, 4), late)
    assert late.done and not late.committed
    assert buffer.discard() == 3
    assert held.done and not held.committed and buffer.stats.counters["dropped"] == 4


async def test_an_empty_batch_settles_its_receipt_when_what_came_before_is_written() -> None:
    buffer = RecordBuffer(10, "block", _stats())
    idle = Receipt()
    idle.expect(1)
    await buffer.put([], idle)
    assert idle.committed  # nothing held: settled at once
    await buffer.put(_metrics(0, 2))
    queued = Receipt()
    queued.expect(1)
    await buffer.put([], queued)
    assert not queued.done
    await buffer.take(10, 0.0)
    buffer.settle()
    assert queued.committed
