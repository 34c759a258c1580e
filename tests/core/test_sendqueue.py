"""The send queues of remote sinks: order, budget and ``when_full``, acknowledgement, and (on disk) restarts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
import trio
import trio.testing
from flcollector.diskqueue import DiskQueue
from flcollector.sendqueue import MemoryQueue, SendQueue, frame_bytes
from flcollector.stats import ComponentStats

LOG = logging.getLogger("flcollector.sink.test")
Make = Callable[..., SendQueue]


def units(start: int, count: int) -> list[bytes]:
    return [f"record-{i:04d}".encode() for i in range(start, start + count)]


@pytest.fixture
def stats() -> ComponentStats:
    return ComponentStats(kind="sink", instance="test", plugin="test")


@pytest.fixture(params=["memory", "disk"])
def make(request: pytest.FixtureRequest, tmp_path: Path, stats: ComponentStats) -> Make:
    def build(max_bytes: int = 1 << 20, when_full: str = "block") -> SendQueue:
        if request.param == "memory":
            return MemoryQueue(max_bytes, when_full, stats, LOG)
        return DiskQueue(tmp_path / "q", max_bytes, when_full, stats, LOG, fsync=False)

    return build


async def drain(queue: SendQueue, max_records: int = 1000) -> list[bytes]:
    out: list[bytes] = []
    while queue.has_unread():
        taken = await queue.take(max_records, 1 << 30)
        assert taken is not None
        out += taken.units
        await queue.ack()
    return out


async def test_frames_come_out_in_order_and_leave_the_backlog_on_ack(make: Make) -> None:
    queue = make()
    await queue.open()
    with trio.fail_after(5):
        await queue.put(units(0, 3), 3)
        await queue.put(units(3, 2), 2)
        assert (queue.pending_records, queue.pending_bytes) == (5, frame_bytes(units(0, 3)) + frame_bytes(units(3, 2)))
        assert queue.oldest_ns is not None
        taken = await queue.take(3, 1 << 30)
        assert taken is not None and taken.units == units(0, 3)  # whole frames only: the second would exceed 3
        assert queue.pending_records == 5  # in flight still counts until acknowledged
        await queue.ack()
        assert queue.pending_records == 2
        assert await drain(queue) == units(3, 2)
        assert (queue.pending_records, queue.pending_bytes, queue.oldest_ns) == (0, 0, None)
        queue.close_input()
        assert await queue.take(10, 1 << 30) is None
    await queue.close()


async def test_drop_newest_refuses_what_does_not_fit_and_counts_it(make: Make, stats: ComponentStats) -> None:
    queue = make(max_bytes=frame_bytes(units(0, 10)) + 5, when_full="drop_newest")
    await queue.open()
    with trio.fail_after(5):
        await queue.put(units(0, 10), 10)
        await queue.put(units(10, 4), 4)
        assert stats.counters["dropped"] == 4 and stats.counters["dropped_buffer_full"] == 4
        assert await drain(queue) == units(0, 10)
    await queue.close()


async def test_drop_oldest_evicts_frames_not_in_flight(make: Make, stats: ComponentStats) -> None:
    queue = make(max_bytes=3 * frame_bytes(units(0, 2)), when_full="drop_oldest")
    await queue.open()
    with trio.fail_after(5):
        for start in (0, 2, 4):
            await queue.put(units(start, 2), 2)
        taken = await queue.take(2, 1 << 30)  # frame 0 is in flight and must survive
        assert taken is not None and taken.units == units(0, 2)
        await queue.put(units(6, 2), 2)  # evicts frame 2 (the oldest not in flight)
        assert stats.counters["dropped"] == 2
        await queue.ack()
        assert await drain(queue) == units(4, 2) + units(6, 2)
    await queue.close()


async def test_block_waits_for_an_acknowledgement(make: Make) -> None:
    queue = make(max_bytes=frame_bytes(units(0, 2)) + 1)
    await queue.open()
    done = trio.Event()

    async def producer() -> None:
        await queue.put(units(2, 2), 2)
        done.set()

    with trio.fail_after(5):
        await queue.put(units(0, 2), 2)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(producer)
            await trio.testing.wait_all_tasks_blocked()
            assert not done.is_set()  # no room: the producer waits (back-pressure)
            taken = await queue.take(10, 1 << 30)
            assert taken is not None
            await queue.ack()
            await done.wait()
        assert await drain(queue) == units(2, 2)
    await queue.close()


async def test_a_batch_larger_than_the_budget_is_dropped_with_a_reason(make: Make, stats: ComponentStats) -> None:
    queue = make(max_bytes=50)
    await queue.open()
    with trio.fail_after(5):
        await queue.put(units(0, 10), 10)
    assert stats.counters["dropped_too_large"] == 10 and queue.pending_records == 0
    await queue.close()


# -- on disk ----------------------------------------------------------------------------------------------------


def segments(path: Path) -> list[Path]:
    return sorted(path.glob("*.seg"))


def disk(path: Path, stats: ComponentStats, **kwargs: object) -> DiskQueue:
    return DiskQueue(path, kwargs.pop("max_bytes", 1 << 20), "block", stats, LOG, fsync=False, **kwargs)  # type: ignore[arg-type]


async def test_disk_queue_resumes_after_a_restart_at_the_acknowledged_frame(tmp_path: Path,
                                                                            stats: ComponentStats) -> None:
    with trio.fail_after(10):
        queue = disk(tmp_path, stats)
        await queue.open()
        for start in (0, 3, 6):
            await queue.put(units(start, 3), 3)
        first_ns = queue.oldest_ns
        assert await queue.take(3, 1 << 30) is not None
        await queue.ack()
        second = await queue.take(3, 1 << 30)  # in flight when the agent dies: delivered again (at-least-once)
        assert second is not None
        await queue.close()

        again = disk(tmp_path, stats)
        await again.open()
        assert again.pending_records == 6 and stats.counters["recovered"] == 6
        assert again.oldest_ns is not None and again.oldest_ns >= (first_ns or 0)
        assert await drain(again) == units(3, 6)
        await again.close()

        third = disk(tmp_path, stats)
        await third.open()
        assert third.pending_records == 0 and not third.has_unread()
        await third.close()


async def test_disk_queue_cuts_a_torn_tail_and_keeps_the_whole_frames(tmp_path: Path, stats: ComponentStats) -> None:
    with trio.fail_after(10):
        queue = disk(tmp_path, stats)
        await queue.open()
        await queue.put(units(0, 2), 2)
        await queue.put(units(2, 2), 2)
        await queue.close()
        segment = segments(tmp_path)[0]
        whole = segment.stat().st_size
        with segment.open("ab") as f:  # the agent was killed in the middle of an append
            f.write(b"\x40\x00\x00\x00garbage")
        again = disk(tmp_path, stats)
        await again.open()
        assert segment.stat().st_size == whole
        assert again.pending_records == 4
        await again.put(units(4, 1), 1)
        assert await drain(again) == units(0, 5)
        await again.close()


async def test_disk_queue_rolls_segments_and_deletes_delivered_ones(tmp_path: Path, stats: ComponentStats) -> None:
    with trio.fail_after(10):
        queue = disk(tmp_path, stats, segment_bytes=200)
        await queue.open()
        for start in range(0, 40, 4):
            await queue.put(units(start, 4), 4)
        assert len(segments(tmp_path)) >= 4
        assert await drain(queue, max_records=8) == units(0, 40)
        assert len(segments(tmp_path)) == 1  # only the one still appended to
        await queue.close()


async def test_a_delivery_behind_the_memory_cache_reads_from_disk_then_from_memory(tmp_path: Path,
                                                                                  stats: ComponentStats) -> None:
    """Frames beyond the in-memory cache of the newest ones come from the segments, the rest from memory, in one
    order across segment rolls; a frame taken from memory and acknowledged is not replayed after a restart."""
    with trio.fail_after(10):
        frame = frame_bytes(units(0, 4))
        queue = disk(tmp_path, stats, segment_bytes=200, cache_bytes=3 * frame)  # the newest 3 frames only
        await queue.open()
        for start in range(0, 40, 4):
            await queue.put(units(start, 4), 4)
        out: list[bytes] = []
        while len(out) < 32:  # four takes of two frames; two frames stay
            taken = await queue.take(8, 1 << 30)
            assert taken is not None
            out += taken.units
            await queue.ack()
            assert queue.oldest_ns is not None  # the next frame's time, from its header or from memory
        await queue.put(units(40, 4), 4)
        await queue.close()
        again = disk(tmp_path, stats)
        await again.open()
        assert out + await drain(again) == units(0, 44)
        await again.close()


async def test_a_corrupt_ack_file_replays_from_the_start_rather_than_losing(tmp_path: Path,
                                                                           stats: ComponentStats) -> None:
    with trio.fail_after(10):
        queue = disk(tmp_path, stats)
        await queue.open()
        await queue.put(units(0, 2), 2)
        await queue.put(units(2, 2), 2)
        assert await queue.take(2, 1 << 30) is not None
        await queue.ack()
        await queue.close()
        (tmp_path / "ack").write_bytes(b"\x00" * 20)
        again = disk(tmp_path, stats)
        await again.open()
        assert await drain(again) == units(0, 4)
        await again.close()
