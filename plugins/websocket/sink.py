"""The ``websocket`` sink: live records to WebSocket clients on ``/ws/metrics``, served through the server.

A sink like ``jsonl`` and ``cache``: the core hands it batches, and ``write`` only offers them to each client's
bounded queues (:mod:`.hub`), so it never waits on a client and never blocks the pipeline. Its route reaches the
bundled server through ``register_routes``. Without ``[[sinks.websocket]]`` there is no live streaming; another
sink can serve ``/ws/metrics`` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import trio
from flcollector import Duration, Record, Sink, Store, option_doc
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket

from . import session
from .hub import Hub
from .streams import ALL, STREAMS, Stream


def _path(instance: Any, attribute: Any, value: str) -> None:
    if not value.startswith("/"):
        raise ValueError(f"'path' must start with '/', got {value!r}")


@attrs.define
class WebSocketOptions:
    """Options of ``[[sinks.websocket]]``."""

    path: str = attrs.field(default="/ws/metrics", validator=_path, metadata=option_doc(
        "the WebSocket route it serves"))
    streams: list[Stream] = attrs.field(factory=lambda: list(STREAMS), metadata=option_doc(
        "the streams clients may subscribe to; `all` means these"))
    queue_size: int = attrs.field(default=1000, validator=attrs.validators.gt(0), metadata=option_doc(
        "live messages queued per client; beyond this the oldest are dropped (and counted)"))
    backfill_size: int = attrs.field(default=1000, validator=attrs.validators.gt(0), metadata=option_doc(
        'the most stored records one `"backfill": N` sends (more is clamped), queued apart and bounded the same '
        "way"))
    batch: bool = attrs.field(default=False, metadata=option_doc(
        'clients start in batch mode (one `{"type":"batch"}` frame per wake-up); each may switch with `"batch"`'))
    keepalive: Duration = attrs.field(default=Duration(20.0), metadata=option_doc(
        'how often a socket gets a `{"type":"ping"}` message; `"0s"` turns it off'))
    send_timeout: Duration = attrs.field(default=Duration(5.0), metadata=option_doc(
        "a client whose socket takes nothing for this long is closed with code 1008 and counted"))


class WebSocketSink(Sink):
    """Fans the pipeline's records out to WebSocket clients by stream, each with bounded queues."""

    name = "websocket"
    Options = WebSocketOptions
    # Live delivery: hand records to clients at once and never make the pipeline wait for viewers.
    common_defaults = {"flush_interval": "20ms", "when_full": "drop_oldest"}

    def __init__(self, options: WebSocketOptions, runtime: Any) -> None:
        super().__init__(options, runtime)
        self.hub = Hub(runtime.stats)
        self.known: tuple[str, ...] = (*dict.fromkeys(options.streams), ALL)
        agent = runtime.agent
        self._closed = trio.Event()
        #: Set when the agent starts shutting down (without an agent: when this sink closes); clients close with 1001.
        self.stopping: trio.Event = agent.shutting_down if agent is not None else self._closed

    @property
    def store(self) -> Store | None:
        """Where backfill comes from: the agent's store, if any."""
        agent = self.runtime.agent
        return agent.store if agent is not None else None

    async def open(self) -> None:
        """Ready once constructed: clients connect through the server."""
        self.runtime.stats.success()

    async def write(self, batch: Sequence[Record]) -> None:
        """Offer ``batch`` to the subscribed clients' queues (no I/O, no await: it cannot fall behind)."""
        self.hub.publish(batch)

    async def close(self) -> None:
        """Close every client (1001); with an agent, its shutdown (which comes first) already did."""
        self._closed.set()
        for client in list(self.hub.clients):
            client.wake()

    async def serve(self, websocket: WebSocket) -> None:
        """The endpoint of ``WS <path>``: one client, until it leaves."""
        await session.serve(self, websocket)

    def routes(self) -> list[BaseRoute]:
        """The route this sink serves."""
        return [WebSocketRoute(self.options.path, self.serve)]
