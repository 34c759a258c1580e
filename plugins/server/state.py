"""The typed view every spec-API handler reads from its request: the agent, the server's options and its stats."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
from flcollector import AgentView, ComponentStats, Store
from starlette.requests import HTTPConnection

from .kept import KeptAnswers

if TYPE_CHECKING:
    from .listener import ServerOptions


class StoreMissing(RuntimeError):
    """No sink that answers queries is configured; query routes answer 503 with this message."""


@attrs.frozen
class ServerState:
    """Shared, per-app state; a handler gets it with ``state_of(request)``."""

    agent: AgentView
    options: ServerOptions
    stats: ComponentStats  # the server listener's own counters (requests, records_in)
    #: ``/api/v1/fl/metrics``'s rendered answers, kept while the store's version of the FL records stands.
    fl_answers: KeptAnswers = attrs.field(factory=KeptAnswers)

    @property
    def store(self) -> Store:
        """The agent's store; raises :class:`StoreMissing` when there is none."""
        store = self.agent.store
        if store is None:
            raise StoreMissing("no store is configured: add [[sinks.sqlite]] to the config")
        return store


def monitor_stats(agent: AgentView, plugin: str) -> ComponentStats | None:
    """The stats of the first monitor provided by ``plugin`` (``fl``, ``policy``, ``sdn``), or None."""
    for (kind, _instance), stats in agent.stats.items.items():
        if kind == "monitor" and stats.plugin == plugin:
            return stats
    return None


def state_of(connection: HTTPConnection) -> ServerState:
    """Return the server state of the app serving ``connection``."""
    state: ServerState = connection.app.state.server
    return state
