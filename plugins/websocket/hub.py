"""Fan-out of the sink's batches to WebSocket clients, each with its own bounded queues.

The hub serialises each record once and offers the text to every client subscribed to one of its streams, without
ever waiting: a full client queue drops its oldest message and counts it (the client is told with a ``dropped``
message). Every queue of a client is bounded: live messages (``queue_size``, drop oldest), backfill (``backfill_size``,
drop oldest) and control replies (``control_size``: a client that leaves that many replies unread is not reading,
and is closed). So a slow client never slows the pipeline or the other clients.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence

import trio
from flcollector import ComponentStats, Record

from .streams import ALL, message

log = logging.getLogger("flcollector.sink.websocket")

#: Replies a client may leave unread before it is closed as not reading (welcome, pongs, errors, pings...).
CONTROL_SIZE = 64


class Client:
    """One WebSocket client: its subscriptions, its bounded queues, and its drop counters."""

    def __init__(self, queue_size: int, backfill_size: int = 1000, control_size: int = CONTROL_SIZE) -> None:
        self.streams: set[str] = set()
        self.queue: deque[str] = deque()  # live messages, newest last; beyond queue_size the oldest go
        self.backfill: deque[str] = deque(maxlen=backfill_size)  # stored records asked for; sent before live ones
        self.control: deque[str] = deque()  # replies, errors, pings: sent first, never dropped
        self.queue_size = queue_size
        self.control_size = control_size
        self.dropped = 0  # not yet reported to the client
        self.dropped_total = 0
        self.batch = False  # send one {"type":"batch"} frame per wake-up instead of one frame per message
        self.close_reason: str | None = None  # set when the sink decided to close this client
        self.sending_since: float | None = None  # trio time the current send started, while one is under way
        self.disconnect_code: int | None = None  # the close code the connection ended with (1006: no handshake)
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

    def offer_backfill(self, texts: Sequence[str]) -> int:
        """Queue stored records (oldest first) to be sent before live messages; beyond the bound the oldest go.

        Return how many were dropped (the client is told, as for live messages).
        """
        overflow = max(0, len(self.backfill) + len(texts) - (self.backfill.maxlen or 0))
        self.backfill.extend(texts)
        self.dropped += overflow
        self.dropped_total += overflow
        self._wake.set()
        return overflow

    def say(self, text: str) -> bool:
        """Queue a control message; False (and nothing queued) when the client left ``control_size`` unread."""
        if len(self.control) >= self.control_size:
            return False
        self.control.append(text)
        self._wake.set()
        return True

    def pending(self) -> bool:
        """True when there is something to send (or to tell: drops, a close)."""
        return bool(self.control or self.dropped or self.backfill or self.queue or self.close_reason)

    async def wait(self) -> None:
        """Wait until there is something to send, or the client is to be closed."""
        if self.pending():
            return
        await self._wake.wait()
        self._wake = trio.Event()

    def wake(self) -> None:
        """Wake the sender (e.g. to close at shutdown)."""
        self._wake.set()


class Hub:
    """The connected clients of one sink, and the counters they share."""

    def __init__(self, stats: ComponentStats) -> None:
        self.clients: set[Client] = set()
        self.stats = stats
        self.published = 0  # records offered to clients (the benchmark's delivery check)
        stats.extra["ws_clients"] = 0

    def add(self, client: Client) -> None:
        """Register a connected client."""
        self.clients.add(client)
        self.stats.extra["ws_clients"] = len(self.clients)

    def remove(self, client: Client) -> None:
        """Forget a disconnected client."""
        self.clients.discard(client)
        self.stats.extra["ws_clients"] = len(self.clients)

    def close(self, client: Client, reason: str) -> None:
        """Close ``client`` (it is not reading): counted once as ``ws_slow_closed``, the close frame says why."""
        if client.close_reason is None:
            client.close_reason = reason
            self.stats.count("ws_slow_closed")
            log.info("WebSocket client closed: %s", reason)
            client.wake()

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
