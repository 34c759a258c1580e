"""Receipts: how the sender of a batch learns that every durable sink committed it (the durable ingest ack).

The pipeline hands a :class:`Receipt` along with the batch to the buffer of every durable sink; each buffer settles
it once the records it holds of the batch were written (or lost: a failed write, an eviction, a shutdown). The
sender awaits :meth:`Receipt.wait`. Buffers, not batches, carry the bookkeeping, because a sink's batcher merges
and splits the batches it was given: see :class:`~flcollector.buffer.RecordBuffer`.
"""

from __future__ import annotations

import trio


class Receipt:
    """Settled by every durable sink that got the batch; :attr:`problems` names each one that did not commit it."""

    def __init__(self) -> None:
        self.waiting = 0
        self.expected = False
        self.problems: list[str] = []
        self._done = trio.Event()

    def expect(self, sinks: int) -> None:
        """Say how many sinks will settle this receipt (the pipeline calls it once, before handing it over)."""
        self.expected = True
        self.waiting += sinks
        if self.waiting <= 0:
            self._done.set()

    def settle(self, sink: str, problem: str | None = None) -> None:
        """One sink is done with the batch: committed (``problem`` None) or not, and why."""
        if problem is not None:
            self.problems.append(f"{sink}: {problem}")
        self.waiting -= 1
        if self.waiting <= 0 and self.expected:
            self._done.set()

    @property
    def done(self) -> bool:
        """True once every sink settled."""
        return self._done.is_set()

    @property
    def committed(self) -> bool:
        """True once every sink settled and none had a problem."""
        return self._done.is_set() and not self.problems

    async def wait(self) -> bool:
        """Wait until every sink settled; return :attr:`committed`."""
        await self._done.wait()
        return not self.problems
