"""A bounded record buffer between the fan-out and one sink's batcher, with a ``when_full`` policy.

Trio memory channels cannot drop their *oldest* item from the sending side, so this small buffer does it:
``block`` waits for room (back-pressure up to the monitors), ``drop_newest`` refuses what does not fit,
``drop_oldest`` evicts the oldest records. Every drop is counted by the caller's stats.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import trio

from .records import Record
from .stats import ComponentStats


class RecordBuffer:
    """Bounded FIFO of records; ``put`` applies the policy, ``take`` returns up to ``batch_size`` records."""

    def __init__(self, capacity: int, when_full: str, stats: ComponentStats) -> None:
        self.capacity = capacity
        self.when_full = when_full
        self.stats = stats
        self._items: deque[Record] = deque()
        self._closed = False
        self._changed = trio.Event()
        stats.buffer_size = capacity

    def __len__(self) -> int:
        return len(self._items)

    def _notify(self) -> None:
        self.stats.buffer_fill = len(self._items)
        self._changed.set()
        self._changed = trio.Event()

    async def put(self, batch: Sequence[Record]) -> None:
        """Add ``batch``, applying the policy when it does not fit."""
        if self._closed:
            self.stats.count("dropped", len(batch))
            return
        self.stats.count("records_in", len(batch))
        items = self._items
        if self.when_full == "block":
            start = 0
            while start < len(batch):
                room = self.capacity - len(items)
                if room <= 0:
                    await self._changed.wait()
                    if self._closed:
                        self.stats.count("dropped", len(batch) - start)
                        return
                    continue
                items.extend(batch[start : start + room])
                start += room
                self._notify()
            return
        room = self.capacity - len(items)
        if len(batch) <= room:
            items.extend(batch)
        elif self.when_full == "drop_newest":
            items.extend(batch[:room])
            self.stats.count("dropped", len(batch) - max(room, 0))
        else:  # drop_oldest
            items.extend(batch)
            excess = len(items) - self.capacity
            for _ in range(excess):
                items.popleft()
            self.stats.count("dropped", excess)
        self._notify()

    async def take(self, batch_size: int, flush_interval: float) -> list[Record]:
        """Wait for ``batch_size`` records, or ``flush_interval`` after the first; ``[]`` once closed and empty.

        The flush timer starts when the first record of the batch is waiting, so a quiet source is still written
        within ``flush_interval``.
        """
        items = self._items
        while not items:
            if self._closed:
                return []
            await self._changed.wait()
        deadline = trio.current_time() + flush_interval
        while len(items) < batch_size and not self._closed:
            with trio.move_on_at(deadline):
                await self._changed.wait()
            if trio.current_time() >= deadline:
                break
        count = min(batch_size, len(items))
        batch = [items.popleft() for _ in range(count)]
        self._notify()
        return batch

    def close(self) -> None:
        """Refuse further records; ``take`` drains what is left, then returns []."""
        self._closed = True
        self._notify()

    def discard(self) -> int:
        """Drop everything still buffered (used when the flush grace ran out); return how many were dropped."""
        lost = len(self._items)
        self._items.clear()
        self.stats.count("dropped", lost)
        self._notify()
        return lost
