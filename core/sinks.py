"""One batcher per sink: takes batches from the sink's buffer and writes them, with retries and isolation.

A remote sink (:class:`~flcollector.remote.RemoteSink`) also gets its delivery task here, beside the batcher:
``write`` only queues, delivery sends and acknowledges, and ``records_out`` counts what the remote accepted.
"""

from __future__ import annotations

import logging
import time

import trio

from .buffer import RecordBuffer
from .components import Sink
from .remote import RemoteSink
from .settings import SinkCommon


class SinkRunner:
    """Owns a sink's buffer and writes batches to it until the buffer is closed and drained."""

    def __init__(self, sink: Sink, common: SinkCommon, log: logging.Logger) -> None:
        self.sink = sink
        self.common = common
        self.stats = sink.runtime.stats
        self.log = log
        self.buffer = RecordBuffer(common.buffer_size, common.when_full, self.stats)
        self.remote = sink if isinstance(sink, RemoteSink) else None
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
                await self._write(batch)
        finally:
            # Cancelled by the flush grace: what never reached the sink is counted, not silently lost.
            lost = self.buffer.discard()
            if lost:
                self.log.error("sink %r: %d records dropped at shutdown (flush grace ran out)",
                               self.sink.runtime.instance, lost)

    async def _write(self, batch: list) -> None:
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                await self.sink.write(batch)
            except Exception as exc:
                attempt += 1
                self.stats.count("errors")
                self.stats.failure(f"{type(exc).__name__}: {exc}")
                if attempt > self.common.retries:
                    self.stats.count("dropped", len(batch))
                    self.log.error("sink %r: write failed, %d records dropped: %s",
                                   self.sink.runtime.instance, len(batch), exc)
                    return
                self.log.warning("sink %r: write failed (attempt %d), retrying: %s",
                                 self.sink.runtime.instance, attempt, exc)
                await trio.sleep(0.2 * 2 ** (attempt - 1))
                continue
            self.stats.count("writes")
            if self.remote is None:  # a remote sink counts records_out when the remote acknowledges them
                self.stats.last_duration_s = time.perf_counter() - started
                self.stats.count("records_out", len(batch))
                self.stats.success()
            return
