"""A bounded record buffer between the fan-out and one sink's batcher, with a ``when_full`` policy.

Trio memory channels cannot drop their *oldest* item from the sending side, so this small buffer does it:
``block`` waits for room (back-pressure up to the monitors), ``drop_newest`` refuses what does not fit,
``drop_oldest`` evicts the oldest records. Every drop is counted by the caller's stats.

Receipts (the durable ingest acknowledgement): the buffer numbers the records it ever held, so a receipt put with a
batch becomes a *mark* on the range of numbers the batch got. The batcher takes records in order and reports each
write with :meth:`RecordBuffer.settle`; a mark is settled once its whole range was written, with the first problem
any part of it met (a failed write, an eviction, a shutdown). While a mark waits, :meth:`take` does not wait for a
fuller batch: a client waiting for its acknowledgement is written at once (what arrived meanwhile goes along).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import trio

from .receipts import Receipt
from .records import Record
from .stats import ComponentStats


class _Mark:
    """The records numbered ``start`` to ``end - 1`` belong to a batch whose sender waits for ``receipt``."""

    __slots__ = ("end", "problem", "receipt", "start")

    def __init__(self, start: int, end: int, receipt: Receipt) -> None:
        self.start, self.end, self.receipt = start, end, receipt
        self.problem: str | None = None


class RecordBuffer:
    """Bounded FIFO of records; ``put`` applies the policy, ``take`` returns up to ``batch_size`` records."""

    def __init__(self, capacity: int, when_full: str, stats: ComponentStats, name: str = "sink") -> None:
        self.capacity = capacity
        self.when_full = when_full
        self.stats = stats
        self.name = name
        self._items: deque[Record] = deque()
        self._closed = False
        self._changed = trio.Event()
        self._appended = 0  # records ever added: the number the next one gets
        self._taken = 0  # records ever removed from the front (taken or evicted)
        self._written_to = 0  # every record numbered below this was written or lost, and its marks told
        self._marks: deque[_Mark] = deque()
        stats.buffer_size = capacity

    def __len__(self) -> int:
        return len(self._items)

    def _notify(self) -> None:
        self.stats.buffer_fill = len(self._items)
        self._changed.set()
        self._changed = trio.Event()

    def _append(self, records: Sequence[Record]) -> None:
        self._items.extend(records)
        self._appended += len(records)

    def _mark(self, start: int, receipt: Receipt | None, problem: str | None) -> None:
        if receipt is None:
            return
        if problem is not None or self._appended <= self._written_to:
            receipt.settle(self.name, problem)
            return
        self._marks.append(_Mark(start, self._appended, receipt))

    async def put(self, batch: Sequence[Record], receipt: Receipt | None = None) -> None:
        """Add ``batch``, applying the policy when it does not fit; ``receipt`` is settled once it is written."""
        if self._closed:
            self.stats.count("dropped", len(batch))
            self._mark(self._appended, receipt, "the sink is closed (shutting down)")
            return
        self.stats.count("records_in", len(batch))
        start = self._appended
        if self.when_full == "block":
            done = 0
            while done < len(batch):
                room = self.capacity - len(self._items)
                if room <= 0:
                    await self._changed.wait()
                    if self._closed:
                        self.stats.count("dropped", len(batch) - done)
                        self._mark(start, receipt, "the sink closed before the records fit in its buffer")
                        return
                    continue
                self._append(batch[done : done + room])
                done += room
                self._notify()
            self._mark(start, receipt, None)
            self._notify()  # a receipt now waits: the batcher writes at once
            return
        room = self.capacity - len(self._items)
        problem = None
        if len(batch) <= room:
            self._append(batch)
        elif self.when_full == "drop_newest":
            self._append(batch[: max(room, 0)])
            self.stats.count("dropped", len(batch) - max(room, 0))
            problem = "buffer full: records dropped (when_full = drop_newest)"
        else:  # drop_oldest
            self._append(batch)
            self._evict(len(self._items) - self.capacity)
        self._mark(start, receipt, problem)
        self._notify()

    def _evict(self, excess: int) -> None:
        for _ in range(excess):
            self._items.popleft()
        self._taken += excess
        self.stats.count("dropped", excess)
        self._lost_before(self._taken, "buffer full: evicted unwritten (when_full = drop_oldest)")

    def _lost_before(self, number: int, problem: str) -> None:
        """Mark every receipt with records numbered below ``number`` as not committed."""
        for mark in self._marks:
            if mark.start >= number:
                break
            mark.problem = mark.problem or problem

    async def take(self, batch_size: int, flush_interval: float) -> list[Record]:
        """Wait for ``batch_size`` records, or ``flush_interval`` after the first; ``[]`` once closed and empty.

        The flush timer starts when the first record of the batch is waiting, so a quiet source is still written
        within ``flush_interval``; a record whose sender waits for a receipt is written at once.
        """
        items = self._items
        while not items:
            if self._closed:
                return []
            await self._changed.wait()
        deadline = trio.current_time() + flush_interval
        while len(items) < batch_size and not self._closed and not self._receipt_waiting():
            with trio.move_on_at(deadline):
                await self._changed.wait()
            if trio.current_time() >= deadline:
                break
        count = min(batch_size, len(items))
        batch = [items.popleft() for _ in range(count)]
        self._taken += count
        self._notify()
        return batch

    def _receipt_waiting(self) -> bool:
        return bool(self._marks) and self._marks[-1].end > self._taken

    def settle(self, problem: str | None = None) -> None:
        """Report the write of everything taken so far: done (``problem`` None) or lost; settle the marks it ends."""
        if problem is not None:
            self._lost_before(self._taken, problem)
        self._written_to = self._taken
        marks = self._marks
        while marks and marks[0].end <= self._written_to:
            mark = marks.popleft()
            mark.receipt.settle(self.name, mark.problem)

    def close(self) -> None:
        """Refuse further records; ``take`` drains what is left, then returns []."""
        self._closed = True
        self._notify()

    def discard(self) -> int:
        """Drop everything still buffered (used when the flush grace ran out); return how many were dropped."""
        lost = len(self._items)
        self._items.clear()
        self._taken += lost
        self.stats.count("dropped", lost)
        self.settle("not written: the flush grace ran out at shutdown")
        self._notify()
        return lost
