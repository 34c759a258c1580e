"""One batcher per sink: takes batches from the sink's buffer and writes them, with retries and isolation.

A failed write is retried with back-off. When the retries are spent, what happens depends on why it failed:

* the storage cannot write (:class:`~flcollector.errors.StorageError`, an ``OSError``): the batch is dropped and
  counted; for a durable sink a ``STORAGE_FAILED`` event says so, and a ``STORAGE_RECOVERED`` one when it writes again;
* anything else may be one bad record: the batch is split in halves, and halves of halves, so every record that
  can be written is (a bounded number of extra writes); a single record that still fails is *rejected* (counted as
  ``rejected`` and ``dropped``, logged with what it was). A sink that finds bad records itself writes the rest and
  raises :class:`~flcollector.errors.RecordsRejected`.

A remote sink (:class:`~flcollector.remote.RemoteSink`) also gets its delivery task here, beside the batcher:
``write`` only queues, delivery sends and acknowledges, and ``records_out`` counts what the remote accepted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

import trio

from .buffer import RecordBuffer
from .components import Sink
from .errors import RecordsRejected, StorageError
from .limits import describe
from .records import Event, Record, now_ns
from .remote import RemoteSink
from .settings import SinkCommon

#: Extra writes a failed batch may cost while it is split to keep its good records (about 2 log2(n) per bad one).
SPLIT_BUDGET = 64

#: Where a runner hands the events it makes (storage failed, recovered): must never block.
Notify = Callable[[list[Record]], None]


def _storage_failure(exc: BaseException) -> bool:
    return isinstance(exc, StorageError | OSError)


class SinkRunner:
    """Owns a sink's buffer and writes batches to it until the buffer is closed and drained."""

    def __init__(self, sink: Sink, common: SinkCommon, log: logging.Logger, notify: Notify | None = None) -> None:
        self.sink = sink
        self.common = common
        self.stats = sink.runtime.stats
        self.log = log
        self.name = sink.runtime.instance
        self.durable = bool(getattr(sink, "durable", False))
        self.buffer = RecordBuffer(common.buffer_size, common.when_full, self.stats, self.name)
        self.remote = sink if isinstance(sink, RemoteSink) else None
        self.notify = notify
        self.failing_since_ns: int | None = None  # a durable sink's storage failure, until it writes again
        self._dropped_when_failing = 0
        self._failure = ""
        if self.remote is not None:
            self.remote.bind(common)

    async def run(self) -> None:
        """Write batches until the buffer is closed and empty (and a remote sink delivered its backlog)."""
        if self.remote is None:
            await self._batches()
            return
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.remote.deliver)
            try:
                await self._batches()
            finally:
                self.remote.finish()

    async def _batches(self) -> None:
        """Write batches until the buffer is closed and empty; a failing write never stops the loop."""
        try:
            while True:
                batch = await self.buffer.take(self.common.batch_size, self.common.flush_interval)
                if not batch:
                    return
                self.buffer.settle(await self._write(batch))
        finally:
            # Cancelled by the flush grace: what never reached the sink is counted, not silently lost.
            lost = self.buffer.discard()
            if lost:
                self.log.error("sink %r: %d records dropped at shutdown (flush grace ran out)", self.name, lost)

    async def _write(self, batch: list[Record]) -> str | None:
        """Write ``batch`` with retries; return None when all of it was written, else what went wrong."""
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                await self.sink.write(batch)
            except RecordsRejected as exc:
                return self._partly_written(batch, exc, started)
            except Exception as exc:
                attempt += 1
                self._failed(exc)
                if attempt <= self.common.retries:
                    self.log.warning("sink %r: write failed (attempt %d), retrying: %s", self.name, attempt, exc)
                    await trio.sleep(0.2 * 2 ** (attempt - 1))
                    continue
                if len(batch) > 1 and not _storage_failure(exc):
                    return await self._split(batch, exc)
                self.stats.count("dropped", len(batch))
                if not _storage_failure(exc):
                    self.stats.count("rejected", len(batch))
                self.log.error("sink %r: write failed, %d records dropped (%s): %s",
                               self.name, len(batch), describe(batch[0]), exc)
                return f"not written: {exc}"
            self._written(len(batch), started)
            return None

    async def _split(self, batch: list[Record], first: Exception) -> str | None:
        """Write the halves of a batch that keeps failing, recursively, so one bad record costs only itself."""
        budget = SPLIT_BUDGET
        written = rejected = 0
        lost: list[tuple[Sequence[Record], str]] = []

        async def attempt(part: Sequence[Record]) -> None:
            nonlocal budget, written, rejected
            if budget <= 0:
                lost.append((part, "not retried: the split budget ran out"))
                return
            budget -= 1
            started = time.perf_counter()
            try:
                await self.sink.write(part)
            except RecordsRejected as exc:
                self._partly_written(part, exc, started)
                written += len(part) - len(exc.rejected)
                rejected += len(exc.rejected)
                return
            except Exception as exc:
                self._failed(exc)
                if len(part) == 1 or _storage_failure(exc):
                    lost.append((part, f"{type(exc).__name__}: {exc}"))
                    rejected += len(part) if len(part) == 1 else 0
                    return
                middle = len(part) // 2
                await attempt(part[:middle])
                await attempt(part[middle:])
                return
            self._written(len(part), started)
            written += len(part)

        middle = len(batch) // 2
        await attempt(batch[:middle])
        await attempt(batch[middle:])
        dropped = sum(len(part) for part, _ in lost)
        self.stats.count("dropped", dropped)
        self.stats.count("rejected", rejected)
        first_lost = f"; first lost: {describe(lost[0][0][0])}: {lost[0][1]}" if lost else ""
        self.log.error("sink %r: a batch of %d failed (%s); split to keep the rest: %d written, %d dropped%s",
                       self.name, len(batch), first, written, dropped, first_lost)
        return f"{dropped} of {len(batch)} records not written: {first}" if dropped else None

    def _partly_written(self, batch: Sequence[Record], exc: RecordsRejected, started: float) -> str:
        """Count what a sink rejected (it wrote the rest) and log the first one."""
        count = len(exc.rejected)
        self.stats.count("rejected", count)
        self.stats.count("dropped", count)
        index, reason = exc.rejected[0] if exc.rejected else (0, "")
        what = describe(batch[index]) if 0 <= index < len(batch) else "a record"
        self.log.error("sink %r: %d records rejected, the other %d written; first: %s: %s",
                       self.name, count, len(batch) - count, what, reason)
        self._written(len(batch) - count, started)
        return f"{count} records rejected: {reason}"

    def _failed(self, exc: Exception) -> None:
        self.stats.count("errors")
        self.stats.failure(f"{type(exc).__name__}: {exc}")
        if self.durable and _storage_failure(exc) and self.failing_since_ns is None:
            self.failing_since_ns = now_ns()
            self._dropped_when_failing = self.stats.counters["dropped"]
            self._failure = str(exc)
            self._tell(Event(type="STORAGE_FAILED", level="ERROR", message=f"sink {self.name!r} cannot write: {exc}",
                             details={"sink": self.name, "plugin": self.sink.runtime.plugin, "error": str(exc)}))

    def _written(self, count: int, started: float) -> None:
        self.stats.count("writes")
        if self.remote is not None:  # a remote sink counts records_out when the remote acknowledges them
            return
        self.stats.last_duration_s = time.perf_counter() - started
        self.stats.count("records_out", count)
        self.stats.success()
        if self.failing_since_ns is not None:
            downtime = (now_ns() - self.failing_since_ns) / 1e9
            dropped = self.stats.counters["dropped"] - self._dropped_when_failing
            self.log.info("sink %r writes again after %.1fs (%d records dropped meanwhile)",
                          self.name, downtime, dropped)
            # The failure's own event may have found no storage: this one, stored, tells the whole story.
            self._tell(Event(type="STORAGE_RECOVERED", level="INFO", message=f"sink {self.name!r} writes again",
                             details={"sink": self.name, "plugin": self.sink.runtime.plugin, "error": self._failure,
                                      "failed_at_ns": self.failing_since_ns, "downtime_s": downtime,
                                      "dropped": dropped}))
            self.failing_since_ns = None

    def _tell(self, event: Event) -> None:
        if self.notify is not None:
            self.notify([event])
