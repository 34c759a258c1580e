"""What every route handler needs: the agent, the options, the WebSocket hub and the server's own stats."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import trio
from flcollector import Store
from flcollector.stats import ComponentStats
from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from flcollector.plugins.websocket.hub import Hub


class StoreMissing(RuntimeError):
    """No sink that answers queries is configured; query routes answer 503 with this message."""


@attrs.define
class ServerState:
    """Shared, per-app state; reachable from a request as ``request.app.state.server``."""

    agent: Any
    options: Any
    stats: ComponentStats
    hub: Hub
    #: Set when the server starts closing (agent shutdown or cancellation): WebSockets close with 1001 then.
    closing: trio.Event = attrs.field(factory=trio.Event)

    @property
    def store(self) -> Store:
        """The agent's store; raises :class:`StoreMissing` when there is none."""
        store = self.agent.store
        if store is None:
            raise StoreMissing("no store is configured: add [[sinks.sqlite]] to the config")
        return store

    def monitor_stats(self, plugin: str) -> ComponentStats | None:
        """Return the stats of the first monitor provided by ``plugin`` (``fl``, ``policy``, ``sdn``), or None."""
        for (kind, _instance), stats in self.agent.stats.items.items():
            if kind == "monitor" and stats.plugin == plugin:
                return stats
        return None


def state_of(connection: HTTPConnection) -> ServerState:
    """Return the server state of the app serving ``connection``."""
    return connection.app.state.server
