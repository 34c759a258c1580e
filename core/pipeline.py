"""The one pipeline: input channel -> processors -> event ids -> fan-out to every sink buffer and observer.

Inputs (monitors, listeners, ``agent.send``) stamp the run context and put batches on a bounded Trio channel.
The processing task applies processors in config order (a processor that raises is counted and skipped for that
batch; the batch goes on unchanged), assigns event ids, offers the batch to observers without ever blocking, and
puts it into each sink's bounded buffer, whose ``when_full`` policy decides between back-pressure and counted drops.
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
from .records import Event, Record
from .sinks import SinkRunner

if TYPE_CHECKING:
    from .agent import Agent

log = logging.getLogger("flcollector.pipeline")


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
        self.send_channel, self.receive_channel = trio.open_memory_channel[list[Record]](agent.settings.channel_size)
        self.processors: list[Processor] = [p for _, p in processors]  # type: ignore[misc]
        self.runners = [SinkRunner(s, cfg.common, s.log) for cfg, s in sinks]  # type: ignore[arg-type]
        self.observers: set[Observer] = set()
        self._drained = trio.Event()
        self._sinks_scope: trio.CancelScope | None = None

    async def send(self, batch: Sequence[Record]) -> None:
        """Stamp ``batch`` with the run context and queue it (waits while the channel is full)."""
        if batch:
            await self.send_channel.send(self.context.stamp(list(batch)))

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
                async for batch in self.receive_channel:
                    batch = self._process(batch)
                    for observer in list(self.observers):
                        observer.offer(batch)
                    for runner in self.runners:
                        await runner.buffer.put(batch)
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
