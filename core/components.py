"""Base classes of the components that plugins provide; the core instantiates them from the config.

A plugin's ``register_*`` hook returns component *classes*. Each class has a ``name`` (the key used in the config,
e.g. ``[[monitors.fl]]``) and an ``Options`` attrs class; the core validates the config table against ``Options``
and calls ``cls(options, runtime)``. Components are async context managers: ``open()`` runs before first use and
``close()`` after last use (a sink flushes there). The core owns all concurrency: intervals, timeouts, retries,
batching and error isolation are not the plugin's business.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
import trio

from .context import RunContext
from .options import NoOptions
from .records import Record
from .settings import AgentSettings, MonitorCommon
from .stats import ComponentStats

if TYPE_CHECKING:
    from .view import AgentView

#: What a listener calls to push records into the pipeline (waits while the pipeline is full).
Send = Callable[[Sequence[Record]], Awaitable[None]]


#: A collection never gets less time than this by default (see :meth:`Schedule.resolve`).
DEFAULT_MIN_TIMEOUT = 5.0


@attrs.frozen
class Schedule:
    """How the core polls a monitor, in seconds, resolved once from its table and ``[agent]``.

    A monitor reads it from ``runtime.schedule`` (e.g. to bound each request by the collection's ``timeout``)
    instead of reading the config. Components of other kinds get the defaults.
    """

    interval: float = 5.0
    jitter: float = 0.0
    timeout: float = DEFAULT_MIN_TIMEOUT
    max_backoff: float = 60.0

    @classmethod
    def resolve(cls, common: MonitorCommon, agent: AgentSettings) -> Schedule:
        """The instance's keys, else ``[agent]``'s; the timeout defaults to the interval but never under 5 s."""
        interval = float(common.interval if common.interval is not None else agent.interval)
        jitter = float(common.jitter if common.jitter is not None else agent.jitter)
        timeout = common.timeout if common.timeout is not None else agent.timeout
        # A collection slower than its interval is counted as an overrun and never stacked, so a short interval
        # must not turn an ordinary slow answer into an outage.
        resolved = float(timeout) if timeout is not None else max(interval, DEFAULT_MIN_TIMEOUT)
        return cls(interval, jitter, resolved, max(float(agent.max_backoff), interval))


@attrs.define
class Runtime:
    """What the core hands to each component instance."""

    instance: str  # unique name of this instance, e.g. "fl" or "fl-2"
    plugin: str  # the plugin (entry-point name) that provided the class
    log: logging.Logger
    stats: ComponentStats
    context: RunContext
    data_dir: Path
    agent: AgentView | None = None  # the running agent as plugins see it (None in unit tests)
    schedule: Schedule = attrs.field(factory=Schedule)  # a monitor's resolved interval, jitter and timeout


class Component:
    """Common base: a config name, an options class, and an async-context-manager lifecycle."""

    kind: ClassVar[str] = "component"
    #: The name used in the config (``[[monitors.<name>]]``) and in ``flcollector plugins``.
    name: ClassVar[str] = ""
    #: An attrs class describing the options; the core validates the config table against it.
    Options: ClassVar[type] = NoOptions
    #: Defaults for the core's own keys of this kind (``SinkCommon``, ``MonitorCommon``...) that suit this component
    #: better than the core's, e.g. a live sink's ``flush_interval``; the config still overrides them.
    common_defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, options: Any, runtime: Runtime) -> None:
        self.options = options
        self.runtime = runtime
        self.log = runtime.log

    async def open(self) -> None:
        """Acquire resources (clients, files). Called once before first use."""

    async def close(self) -> None:
        """Release resources; a sink flushes here. Called once, also after errors."""

    async def __aenter__(self) -> Component:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class Monitor(Component):
    """A polled input. The core calls :meth:`collect` every ``interval`` with ``timeout`` and ``jitter``.

    Raise :class:`~flcollector.errors.SourceUnavailable` when the source is down (the core backs off and reports
    it once), :class:`~flcollector.errors.MalformedResponse` when it answered nonsense.
    """

    kind = "monitor"

    async def collect(self) -> Iterable[Record]:
        """Collect once and return the records."""
        raise NotImplementedError


class Listener(Component):
    """A push input (an HTTP ingest endpoint, a socket); it runs until cancelled."""

    kind = "listener"

    async def run(self, send: Send, task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until cancelled; call ``task_status.started()`` once ready, ``await send(records)`` per input."""
        raise NotImplementedError


class Processor(Component):
    """A synchronous batch transform between inputs and sinks; may add derived records and alert Events."""

    kind = "processor"

    def process(self, batch: list[Record]) -> list[Record]:
        """Return the batch to pass on (the same list, a filtered one, or one with records added)."""
        return batch


class Sink(Component):
    """An output. The core batches records for it and calls :meth:`write` with each batch."""

    kind = "sink"
    #: A sink that keeps records for good (the sqlite store, the jsonl archive): the durable ingest acknowledgement
    #: waits for every durable sink to commit, the agent refuses to start when one cannot be opened, and it is
    #: unhealthy when none can write.
    durable: ClassVar[bool] = False

    async def write(self, batch: Sequence[Record]) -> None:
        """Write one batch. Raise :class:`~flcollector.errors.StorageError` (or an ``OSError``) when the storage
        cannot write now: the core retries with back-off, then counts the batch as dropped. Raise
        :class:`~flcollector.errors.RecordsRejected` after writing all but some bad records. Any other exception:
        the core retries, then splits the batch to keep the records it can write (each lost one is counted)."""
        raise NotImplementedError


class Exporter:
    """Turns a query result into a file (``json``, ``csv``, ``parquet``...)."""

    kind: ClassVar[str] = "exporter"
    name: ClassVar[str] = ""
    #: The file suffix this exporter writes, e.g. ``".csv"``.
    suffix: ClassVar[str] = ""

    async def export(self, records: Sequence[Record], path: Path, options: dict[str, Any]) -> Path:
        """Write ``records`` to ``path`` and return the path written."""
        raise NotImplementedError

