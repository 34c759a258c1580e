"""The running agent as plugins see it: a narrow, typed view (``runtime.agent``, and the hooks' ``agent``).

Narrow on purpose: it offers what plugins really use (the store, ``send``, ``observe``, ``health``, the run context,
the stats, the data dir, the version, the shutdown signal, the open components and whether storage works) and
nothing of the agent's building and running machinery, so the core can change behind it. A plugin never reads the
config through it: what a component needs from the config reaches it as its options (and, for monitors, its
schedule).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import attrs
import trio

from .components import Exporter
from .context import RunContext
from .receipts import Receipt
from .records import Record
from .redact import masked
from .stats import StatsRegistry
from .store import Store

if TYPE_CHECKING:
    from .agent import Agent


@attrs.frozen
class Configured:
    """One enabled component instance as the config resolved it (for routes that describe the set-up)."""

    kind: str  # monitor, listener, processor, sink
    name: str  # the component name, e.g. "fl"
    instance: str  # e.g. "fl" or "fl-2"
    plugin: str  # the plugin (entry-point name) that provides it
    options: Any  # its validated Options instance
    interval: float | None = None  # a monitor's collection interval in seconds ([agent] interval when not set)


class AgentView:
    """What plugins see of the running agent; see the module docstring."""

    __slots__ = ("__weakref__", "_agent")  # weakly referenced: plugins may key per-agent state on the view

    def __init__(self, agent: Agent) -> None:
        self._agent = agent

    @property
    def version(self) -> str:
        """The agent's version (the ``flcollector`` distribution's)."""
        return self._agent.version

    @property
    def context(self) -> RunContext:
        """The run context: experiment, round and phase, stamped on every record by the pipeline."""
        return self._agent.context

    @property
    def stats(self) -> StatsRegistry:
        """Every component's counters and status (what ``/health`` shows)."""
        return self._agent.stats

    @property
    def data_dir(self) -> Path:
        """The ``[agent] data_dir`` (created before any component opens)."""
        return self._agent.data_dir

    @property
    def started_ns(self) -> int:
        """When the agent started, in nanoseconds since the epoch."""
        return self._agent.started_ns

    @property
    def shutting_down(self) -> trio.Event:
        """Set when shutdown starts: monitors stop, and listeners finish (the server closes WebSockets with 1001)."""
        return self._agent.shutting_down

    @property
    def settings(self) -> Mapping[str, Any]:
        """The ``[agent]`` settings as resolved (file, environment, command line), read-only: plain values
        (durations in seconds), secrets masked. For describing the set-up (a manifest), not for configuring."""
        return MappingProxyType(masked(self._agent.settings))

    @property
    def store(self) -> Store | None:
        """The first sink that answers queries, or None when no store is configured."""
        return self._agent.store

    async def send(self, records: Sequence[Record], *, receipt: Receipt | None = None) -> None:
        """Push records into the pipeline (stamped with the run context); waits while the pipeline is full.

        A record no sink could store (see :func:`flcollector.check_record`) is refused: counted, and named in a
        ``RECORD_REJECTED`` event. ``receipt`` (a new :class:`~flcollector.Receipt`) is settled once every durable
        sink (the store, the archive) wrote the records: ``await receipt.wait()`` is the durable acknowledgement."""
        await self._agent.send(records, receipt=receipt)

    @property
    def durable_sinks(self) -> int:
        """How many durable sinks (the store, the archive) are open; a receipt waits for each of them."""
        return self._agent.durable_sinks

    def storage_problem(self, within_s: float = 5.0) -> str | None:
        """Why records cannot be stored now (a durable sink's last write failed for lack of storage within the last
        ``within_s`` seconds: disk full, read-only, locked), or None. Ingest answers 503 while it is not None."""
        return self._agent.storage_problem(within_s)

    def observe(self, size: int = 1000) -> AbstractAsyncContextManager[trio.MemoryReceiveChannel[list[Record]]]:
        """A receive channel of the batches leaving the processors; when it is full, batches are dropped (counted),
        the pipeline is never blocked."""
        return self._agent.observe(size)

    def health(self) -> dict[str, Any]:
        """Overall status (healthy, degraded, unhealthy), version, uptime and every component's stats."""
        return self._agent.health()

    def health_status(self) -> str:
        """The overall status word of :meth:`health` alone (cheaper: no component's stats are built)."""
        return self._agent.health_status()

    def find(self, kind: str, name: str) -> Any | None:
        """The first open instance of component or instance ``name`` (e.g. ``find("sink", "cache")``), or None."""
        return self._agent.find(kind, name)

    def components(self, kind: str) -> list[Any]:
        """The open component instances of ``kind`` (monitor, listener, processor, sink) in config order."""
        return self._agent.components(kind)

    def plugin_routes(self) -> list[Any]:
        """The Starlette routes plugins add through ``register_routes`` (collected once; the server serves them)."""
        return self._agent.plugin_routes()

    def exporter(self, name: str) -> type[Exporter] | None:
        """The installed exporter class called ``name`` (``"csv"``, ``"rounds"``, ``"report"``...), or None. From the
        plugins the agent loaded at start: nothing is imported again."""
        found = self._agent.registry.get("exporter", name)
        return found if isinstance(found, type) and issubclass(found, Exporter) else None

    def configured(self, kind: str) -> list[Configured]:
        """Every enabled instance of ``kind`` as the config resolved it, opened or not, in config order."""
        return self._agent.describe(kind)


def agent_of(connection: Any) -> AgentView:
    """The agent behind a request or WebSocket of the bundled server (a Starlette ``Request`` or ``WebSocket``).

    The server keeps it as ``app.state.agent``; route handlers added through ``register_routes`` read it here.
    """
    view: AgentView = connection.app.state.agent
    return view
