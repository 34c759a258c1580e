"""Fan-out of pipeline batches to WebSocket clients, each with its own bounded queue.

The hub reads batches from ``agent.observe()`` (which never blocks the pipeline), serialises each record once,
and offers the text to every client subscribed to one of its streams. A full client queue drops its oldest
message and counts it; the client is told with a ``dropped`` message. So a slow client never slows the pipeline
or the other clients.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

import trio
from flcollector import Record
from flcollector.stats import ComponentStats

from .streams import ALL, message

log = logging.getLogger("flcollector.listener.server")


class Client:
    """One WebSocket client: its subscriptions, its bounded queue of messages, and a drop counter."""

    def __init__(self, queue_size: int) -> None:
        self.streams: set[str] = set()
        self.queue: deque[str] = deque()
        self.control: deque[str] = deque()  # replies, errors, backfill, pings: never dropped, always first
        self.queue_size = queue_size
        self.dropped = 0  # not yet reported to the client
        self.dropped_total = 0
        self.batch = False  # send one {"type":"batch"} frame per wake-up instead of one frame per message
        self._wake = trio.Event()

    def wants(self, streams: frozenset[str]) -> bool:
        """True when the client is subscribed to any of ``streams``."""
        return ALL in self.streams or not self.streams.isdisjoint(streams)

    def offer(self, text: str) -> bool:
        """Queue a live message; when full, drop the oldest. Return False when something was dropped."""
        queue = self.queue
        queue.append(text)
        self._wake.set()
        if len(queue) > self.queue_size:
            queue.popleft()
            self.dropped += 1
            self.dropped_total += 1
            return False
        return True

    def say(self, text: str) -> None:
        """Queue a control message (sent before live messages, never dropped)."""
        self.control.append(text)
        self._wake.set()

    async def wait(self) -> None:
        """Wait until there is something to send."""
        if self.queue or self.control or self.dropped:
            return
        await self._wake.wait()
        self._wake = trio.Event()

    def wake(self) -> None:
        """Wake the sender (e.g. to close at shutdown)."""
        self._wake.set()


class Hub:
    """The set of connected clients and the task feeding them from the pipeline."""

    def __init__(self, stats: ComponentStats, observe_size: int = 1000) -> None:
        self.clients: set[Client] = set()
        self.stats = stats
        self.observe_size = observe_size
        self.published = 0

    def add(self, client: Client) -> None:
        """Register a connected client."""
        self.clients.add(client)
        self.stats.extra["ws_clients"] = len(self.clients)

    def remove(self, client: Client) -> None:
        """Forget a disconnected client."""
        self.clients.discard(client)
        self.stats.extra["ws_clients"] = len(self.clients)

    def publish(self, batch: Sequence[Record]) -> None:
        """Offer every record of ``batch`` to each client subscribed to its streams (never blocks)."""
        clients = [c for c in self.clients if c.streams]
        if not clients:
            return
        dropped = 0
        for record in batch:
            text, streams = message(record)
            for client in clients:
                if client.wants(streams) and not client.offer(text):
                    dropped += 1
            self.published += 1
        if dropped:
            self.stats.count("ws_dropped", dropped)

    async def run(self, agent: Any, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Feed clients from ``agent.observe()`` until cancelled."""
        async with agent.observe(self.observe_size) as batches:
            task_status.started()
            async for batch in batches:
                self.publish(batch)

    def publish_many(self, batches: Iterable[Sequence[Record]]) -> None:
        """Publish several batches (used by tests and benchmarks that have no pipeline)."""
        for batch in batches:
            self.publish(batch)
