"""The hooks a plugin can implement, grouped by lifecycle.

pluggy cannot await, so every hook is synchronous: the ``register_*`` hooks return component classes and the Trio
core instantiates and runs them. No hook is called per record. Arguments may be added in later versions, never
removed (pluggy passes only the arguments an implementation names).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .view import AgentView

PROJECT = "flcollector"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -- registration: called once at start-up, before the config is resolved -----------------------------------------


@hookspec
def register_monitors() -> list[type]:
    """Return monitor classes (``flcollector.Monitor`` subclasses): ``async collect() -> Iterable[Metric | Event]``.

    Enabled with ``[[monitors.<name>]]``. The core calls ``collect()`` every ``interval`` (plus random ``jitter``)
    under ``timeout``; an overrunning collection is counted (``overruns``), never stacked. Raise ``SourceUnavailable``
    when the source is down: the core backs off exponentially up to ``[agent] max_backoff`` and emits one
    ``SOURCE_UNREACHABLE`` event when it goes down and one ``SOURCE_RECOVERED`` when it returns (httpx connection
    errors, timeouts and HTTP 5xx count as this too). Raise ``MalformedResponse`` for an answer of the wrong shape:
    one ``MALFORMED_RESPONSE`` error event and a ``malformed`` counter, and the next collection comes at the normal
    interval. Any other exception is a plugin bug: logged with the plugin's name and traceback, counted, reported as
    a ``PLUGIN_ERROR`` event; the agent goes on.
    """
    raise NotImplementedError


@hookspec
def register_listeners() -> list[type]:
    """Return listener classes (``flcollector.Listener``): long-running inputs and services,
    ``async run(send, task_status)``.

    Enabled with ``[[listeners.<name>]]``; call ``task_status.started()`` when ready and ``await send(records)`` per
    input. Listeners start before the monitors and stop after them, and finish on their own when
    ``agent.shutting_down`` is set. The bundled HTTP server is the listener ``server``, configured by the ``[server]``
    table; the export API's service is the listener ``export``.
    """
    raise NotImplementedError


@hookspec
def register_processors() -> list[type]:
    """Return processor classes (``flcollector.Processor``): synchronous ``process(batch) -> batch``.

    Enabled with ``[[processors.<name>]]``, applied in config order between inputs and sinks. A processor may drop,
    change or add records (derived metrics, alert events). One that raises is counted and skipped for that batch;
    the batch goes on unchanged.
    """
    raise NotImplementedError


@hookspec
def register_sinks() -> list[type]:
    """Return sink classes (``flcollector.Sink``): async context managers with ``async write(batch)``; flush in
    ``close()``.

    Enabled with ``[[sinks.<name>]]``. The core gives each sink instance its own bounded buffer (``buffer_size``) and
    batcher (``batch_size``, ``flush_interval``), and applies ``when_full = "block" | "drop_oldest" |
    "drop_newest"``; every dropped record is counted and shown in ``/health``. A failed write is retried ``retries``
    times (with back-off); then what happens depends on what ``write`` raised: ``flcollector.StorageError`` (or an
    ``OSError``), the storage cannot write now (disk full, read-only, locked): the batch is counted as dropped, and
    for a durable sink a ``STORAGE_FAILED`` event says so, a ``STORAGE_RECOVERED`` event (the error, when it began,
    what was dropped meanwhile) when it writes again; ``flcollector.RecordsRejected([(index, reason), ...])``, the
    sink wrote the batch but these records, which it could not hold: they are counted (``rejected``, ``dropped``)
    and logged, the rest counts as written; anything else may be one bad record: the core splits the batch in halves,
    and halves of halves (a bounded number of extra writes), so every record that can be written is, and one that
    still fails alone is rejected and counted.

    Records reaching a sink passed ``flcollector.check_record`` where they entered, so a sink rarely sees a bad
    one (a processor may still add one). ``durable = True`` on a sink class that keeps records for good (``sqlite``
    and ``jsonl`` are): the server's durable ingest acknowledgement waits for it, the agent refuses to start when it
    cannot be opened (exit 2, naming its path), and ``/health`` is ``unhealthy`` when no durable sink can write. A
    sink that also implements the ``Store`` protocol (``query_metrics``, ``query_events``, ``latest_metrics``, ...)
    is what the server reads.
    """
    raise NotImplementedError


@hookspec
def register_exporters() -> list[type]:
    """Return exporter classes (``flcollector.Exporter``): ``async export(records, path, options) -> Path`` turns
    query results into files (``flcollector export -f csv -o out.csv``, the export API's formats).
    """
    raise NotImplementedError


@hookspec
def register_routes(agent: AgentView) -> list[Any]:
    """Return Starlette ``Route``, ``WebSocketRoute`` or ``Mount`` objects to add to the bundled server's app.

    Called once, when the server starts (every sink is open by then), with the ``AgentView``; a handler finds it
    again with ``flcollector.agent_of(request)``: the store (``agent.store``), the cache (``agent.find("sink",
    "cache")``), the stats (``agent.stats``, ``agent.health()``) and the run context (``agent.context``). Answer from
    these; never call a source on the request path. The spec's routes come first, so a plugin cannot take one of
    their paths (the duplicate is logged and left out); a hook that raises is logged, shown in ``/health`` under
    ``plugins_failed``, and the agent goes on.
    """
    raise NotImplementedError


# -- lifecycle -----------------------------------------------------------------------------------------------------


@hookspec
def startup(agent: AgentView) -> None:
    """Called once with the ``AgentView`` after every component is open and before the monitors start. Must not
    block."""


@hookspec
def shutdown(agent: AgentView) -> None:
    """Called once with the ``AgentView`` after the monitors stopped and every sink flushed. Must not block."""


#: Every hook, in the order defined here (the docs list them in this order).
HOOKS: tuple[str, ...] = tuple(name for name, value in list(globals().items()) if hasattr(value, f"{PROJECT}_spec"))
