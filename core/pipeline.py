"""The one pipeline: input channel -> processors -> event ids -> fan-out to every sink buffer and observer.

Inputs (monitors, listeners, ``agent.send``) stamp the run context and put batches on a bounded Trio channel.
Every record is checked first (:mod:`flcollector.limits`): one that no sink could store is refused there, counted on
its sender (``rejected``, ``dropped``) and named in a ``RECORD_REJECTED`` event, so it never fails a sink's batch.
The processing task applies processors in config order (a processor that raises is counted and skipped for that
batch; the batch goes on unchanged), assigns event ids, offers the batch to observers without ever blocking, and
puts it into each sink's bounded buffer, whose ``when_full`` policy decides between back-pressure and counted drops.
A batch sent with a :class:`~flcollector.receipts.Receipt` is followed into every durable sink's buffer, and the
receipt is settled once they all wrote it (the durable ingest acknowledgement).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import attrs
import trio

from .components import Component, Processor
from .config import ComponentConfig
from .limits import InvalidRecord, describe, split_valid
from .receipts import Receipt
from .records import Event, Record, now_ns
from .sinks import SinkRunner
from .stats import ComponentStats

if TYPE_CHECKING:
    from .agent import Agent

log = logging.getLogger("flcollector.pipeline")

#: At most one RECORD_REJECTED event (and log line) per sender in this many seconds; every refusal is counted.
REJECT_REPORT_EVERY_S = 60.0
#: Events the core makes on its own (a sink's storage failed or recovered) that may wait to enter the pipeline.
NOTICES = 64

Item = tuple[list[Record], Receipt | None]


class Observer:
    """A non-blocking tap on the pipeline: batches beyond its capacity are dropped and counted."""

    def __init__(self, size: int) -> None:
        self.send_channel, self.receive_channel = trio.open_memory_channel[list[Record]](size)
        self.dropped = 0

    def offer(self, batch: list[Record]) -> None:
        """Hand over ``batch`` if there is room, else count its records as dropped."""
        try:
            self.send_channel.send_nowait(batch)
        except trio.WouldBlock:
            self.dropped += len(batch)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass


class Pipeline:
    """Owns the input channel, the processors, the sink runners and the observers of one agent."""

    def __init__(
        self, agent: Agent, sinks: list[tuple[ComponentConfig, Component]],
        processors: list[tuple[ComponentConfig, Component]],
    ) -> None:
        self.agent = agent
        self.context = agent.context
        self.send_channel, self.receive_channel = trio.open_memory_channel[Item](agent.settings.channel_size)
        self.notices_send, self.notices_receive = trio.open_memory_channel[list[Record]](NOTICES)
        self.processors: list[Processor] = [p for _, p in processors]  # type: ignore[misc]
        self.runners = [SinkRunner(s, cfg.common, s.log, self.notify) for cfg, s in sinks]  # type: ignore[arg-type]
        self.durable = [runner for runner in self.runners if runner.durable]
        self.observers: set[Observer] = set()
        self._drained = trio.Event()
        self._sinks_scope: trio.CancelScope | None = None
        self._reported: dict[str, float] = {}  # sender -> Trio time of its last RECORD_REJECTED event
        self._unreported: dict[str, int] = {}  # sender -> records refused since that event

    async def send(
        self, batch: Sequence[Record], *, stats: ComponentStats | None = None, receipt: Receipt | None = None
    ) -> None:
        """Stamp ``batch`` with the run context, refuse records no sink could store, and queue the rest (waits while
        the channel is full). Refusals are counted on ``stats`` (the sender's), else on the pipeline's own.
        ``receipt`` is settled once every durable sink wrote the batch."""
        if not batch and receipt is None:
            return
        good, bad = split_valid(batch)
        if bad:
            good.extend(self._refuse(batch, bad, stats))
        if good or receipt is not None:
            # Stamped after the check: the context's experiment and round are held to the same limits when set.
            await self.send_channel.send((self.context.stamp(good), receipt))

    def _refuse(self, batch: Sequence[Record], bad: list[tuple[int, InvalidRecord]],
                stats: ComponentStats | None) -> list[Record]:
        """Count refused records on their sender; return a RECORD_REJECTED event if one is due."""
        sender = stats if stats is not None else self.agent.stats.register("core", "pipeline", "flcollector")
        index, error = bad[0]
        what = f"{describe(batch[index])}: {error}"
        sender.count("rejected", len(bad))
        sender.count("dropped", len(bad))
        sender.last_error, sender.last_error_ns = f"record refused: {what}", now_ns()
        name = f"{sender.kind}:{sender.instance}"
        self._unreported[name] = self._unreported.get(name, 0) + len(bad)
        now = trio.current_time()
        if now - self._reported.get(name, -REJECT_REPORT_EVERY_S) < REJECT_REPORT_EVERY_S:
            return []
        self._reported[name] = now
        count = self._unreported.pop(name)
        log.error("%s: %d records refused (no sink could store them); first: %s", name, count, what)
        return [Event(type="RECORD_REJECTED", level="ERROR", message=f"{name}: {count} records refused: {what}",
                      details={"component": sender.instance, "kind": sender.kind, "count": count,
                               "field": error.field, "problem": error.problem, "record": describe(batch[index])})]

    def notify(self, records: list[Record]) -> None:
        """Queue records the core makes itself (never blocks: beyond ``NOTICES`` waiting, they are counted lost)."""
        try:
            self.notices_send.send_nowait(records)
        except (trio.WouldBlock, trio.BrokenResourceError, trio.ClosedResourceError):
            self.agent.stats.register("core", "pipeline", "flcollector").count("dropped", len(records))

    async def forward_notices(self) -> None:
        """Send the core's own records on into the pipeline (a task of the inputs: it may wait for room)."""
        async for records in self.notices_receive:
            await self.send(records)

    @asynccontextmanager
    async def observe(self, size: int) -> AsyncIterator[Any]:
        """Yield a receive channel of processed batches; see :class:`Observer`."""
        observer = Observer(size)
        self.observers.add(observer)
        try:
            yield observer.receive_channel
        finally:
            self.observers.discard(observer)
            observer.send_channel.close()

    def _process(self, batch: list[Record]) -> list[Record]:
        for processor in self.processors:
            stats = processor.runtime.stats
            stats.count("records_in", len(batch))
            try:
                batch = processor.process(batch)
            except Exception as exc:
                stats.count("errors")
                stats.failure(f"{type(exc).__name__}: {exc}")
                log.exception("processor %r raised; batch passed on unchanged", processor.runtime.instance)
                continue
            stats.count("records_out", len(batch))
            stats.success()
        ids = self.agent.ids
        return [attrs.evolve(r, id=ids.next()) if isinstance(r, Event) and r.id is None else r for r in batch]

    async def run(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Process and fan out until the input channel is closed, then let every sink drain."""
        async with trio.open_nursery() as sinks:
            self._sinks_scope = sinks.cancel_scope
            for runner in self.runners:
                sinks.start_soon(runner.run)
            task_status.started()
            async with self.receive_channel:
                async for batch, receipt in self.receive_channel:
                    batch = self._process(batch)
                    for observer in list(self.observers):
                        observer.offer(batch)
                    if receipt is not None:
                        receipt.expect(len(self.durable))
                    for runner in self.runners:
                        await runner.buffer.put(batch, receipt if runner.durable else None)
            for runner in self.runners:
                runner.buffer.close()
        self._drained.set()

    async def close(self, grace: float) -> None:
        """Stop accepting input and wait up to ``grace`` seconds for every sink to write what it holds."""
        await self.send_channel.aclose()
        with trio.move_on_after(grace):
            await self._drained.wait()
            return
        log.error("sinks did not flush within %.1fs; cancelling them (the rest is counted as dropped)", grace)
        if self._sinks_scope is not None:
            self._sinks_scope.cancel()
        await self._drained.wait()
