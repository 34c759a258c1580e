"""The agent: builds components from a config and runs the pipeline on Trio.

Start order is consumers first (sinks, then the processing/fan-out task, then listeners such as the server),
producers last (monitors). Stop order is the reverse: monitors stop, listeners get a grace period, the input
channel closes, and every sink drains its buffer within ``flush_grace`` before it is closed (and flushes).
"""

from __future__ import annotations

import functools
import logging
import signal
import time
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from pathlib import Path
from typing import Any

import trio

from . import __version__
from .components import Component, Runtime, Schedule
from .config import ComponentConfig, Config
from .context import RunContext
from .errors import FlcollectorError, StartupError
from .ids import EventIds
from .memory import collect_and_trim_every, tune_allocator
from .pipeline import Pipeline
from .receipts import Receipt
from .records import Record
from .scheduler import MonitorRunner
from .settings import MonitorCommon
from .stats import StatsRegistry
from .store import Store
from .view import AgentView, Configured

log = logging.getLogger("flcollector.agent")


class Agent:
    """A running collector. See the module docstring for the lifecycle; plugins see it through :attr:`view`."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.settings = config.agent
        self.registry = config.registry
        self.version = __version__
        self.stats = StatsRegistry()
        self.context = RunContext(experiment=self.settings.experiment)
        self.data_dir = Path(self.settings.data_dir)
        self.started_ns = time.time_ns()
        self.shutting_down = trio.Event()
        self._stop = trio.Event()
        self._instances: dict[str, list[tuple[ComponentConfig, Component]]] = {}
        self.ids = EventIds()
        self.pipeline: Pipeline | None = None
        self._store: Store | None = None
        self._routes: list[Any] | None = None
        #: What plugins see of this agent: ``runtime.agent`` and the hooks' ``agent`` argument.
        self.view = AgentView(self)

    # -- what the view offers plugins ----------------------------------------------------------------------------

    def components(self, kind: str) -> list[Any]:
        """Return the open component instances of ``kind`` in config order."""
        return [component for _, component in self._instances.get(kind, [])]

    def find(self, kind: str, name: str) -> Any | None:
        """Return the first open instance of component ``name`` (e.g. ``find("sink", "cache")``), or None."""
        for cfg, component in self._instances.get(kind, []):
            if cfg.component == name or cfg.instance == name:
                return component
        return None

    @property
    def store(self) -> Store | None:
        """The first sink that answers queries, or None (found once, when the sinks open: the server asks often)."""
        return self._store

    async def send(self, records: Sequence[Record], *, receipt: Receipt | None = None) -> None:
        """Push records into the pipeline (stamped with the run context); waits while the pipeline is full.

        A record no sink could store is refused (counted, named in a ``RECORD_REJECTED`` event); ``receipt`` is
        settled once every durable sink wrote the records."""
        if self.pipeline is None:
            raise RuntimeError("the agent is not running")
        await self.pipeline.send(list(records), receipt=receipt)

    @property
    def durable_sinks(self) -> int:
        """How many durable sinks (store, archive) are open: a receipt waits for each of them."""
        return len(self.pipeline.durable) if self.pipeline is not None else 0

    def storage_problem(self, within_s: float) -> str | None:
        """Why records cannot be stored now: the durable sinks whose last write failed for lack of storage, within
        the last ``within_s`` seconds (after that, a new write may probe whether it is back); None when all write."""
        if self.pipeline is None:
            return None
        now = time.time_ns()
        failing = [
            f"{runner.name}: {runner.stats.last_error}"
            for runner in self.pipeline.durable
            if runner.failing_since_ns is not None and now - (runner.stats.last_error_ns or 0) <= within_s * 1e9
        ]
        return "; ".join(failing) or None

    def observe(self, size: int = 1000) -> AbstractAsyncContextManager[trio.MemoryReceiveChannel[list[Record]]]:
        """Async context manager yielding a receive channel of batches seen after the processors (never blocks)."""
        if self.pipeline is None:
            raise RuntimeError("the agent is not running")
        return self.pipeline.observe(size)

    def health_status(self) -> str:
        """The overall status alone (healthy, degraded, unhealthy), from each component's status word: what
        :meth:`health` says, without building every component's stats (routes that need only the word)."""
        components = self.stats.items.values()
        sinks = [c.status for c in components if c.kind == "sink"]
        durable = [r.stats.status for r in self.pipeline.durable] if self.pipeline is not None else []
        # Unhealthy when nothing can keep records: no durable sink works (or, without any, no sink at all).
        if all(s == "error" for s in durable or sinks) and (durable or sinks):
            return "unhealthy"
        if any(c.status in ("down", "error") for c in components) or self.stats.dropped_total:
            return "degraded"
        return "healthy"

    def health(self) -> dict[str, Any]:
        """Overall status (healthy, degraded, unhealthy), version, uptime and every component's stats."""
        return {
            "status": self.health_status(),
            "version": self.version,
            "uptime_s": (time.time_ns() - self.started_ns) / 1e9,
            "experiment": self.context.experiment,
            "round": self.context.round,
            "phase": self.context.phase,
            "dropped_total": self.stats.dropped_total,
            "components": self.stats.snapshot(),
            "plugins_failed": {p.name: p.error for p in self.registry.failed()},
        }

    def describe(self, kind: str) -> list[Configured]:
        """Every enabled instance of ``kind`` as the config resolved it (see :meth:`AgentView.configured`)."""
        described = []
        for cfg in self.config.of_kind(kind):
            interval = Schedule.resolve(cfg.common, self.settings).interval if kind == "monitor" else None
            described.append(Configured(cfg.kind, cfg.component, cfg.instance, cfg.plugin, cfg.options, interval))
        return described

    def plugin_routes(self) -> list[Any]:
        """The routes plugins add through ``register_routes``, collected once (when the server first asks).

        A plugin whose hook raises is logged, shown in ``/health`` under ``plugins_failed`` and left out.
        """
        if self._routes is None:
            self._routes = []
            pm = self.registry.pm
            for impl in pm.hook.register_routes.get_hookimpls() if pm is not None else []:
                arguments: dict[str, Any] = {"agent": self.view}  # pluggy passes only the names an impl declares
                try:
                    routes: Any = impl.function(**{n: arguments[n] for n in impl.argnames})
                    self._routes += list(routes or [])
                except Exception as exc:
                    log.exception("plugin %r: register_routes() raised; its routes are left out", impl.plugin_name)
                    info = self.registry.plugins.get(impl.plugin_name)
                    if info is not None:
                        info.error = f"register_routes() raised {type(exc).__name__}: {exc}"
        return self._routes

    def stop(self) -> None:
        """Ask the agent to stop (as SIGTERM does)."""
        self._stop.set()

    # -- building ------------------------------------------------------------------------------------------------

    def _make(self, cfg: ComponentConfig) -> Component:
        logger = logging.getLogger(f"flcollector.{cfg.kind}.{cfg.instance}")
        runtime = Runtime(
            instance=cfg.instance, plugin=cfg.plugin, log=logger,
            stats=self.stats.register(cfg.kind, cfg.instance, cfg.plugin),
            context=self.context, data_dir=self.data_dir, agent=self.view,
        )
        if isinstance(cfg.common, MonitorCommon):  # a monitor learns its resolved schedule from the core
            runtime.schedule = Schedule.resolve(cfg.common, self.settings)
        return cfg.cls(cfg.options, runtime)

    def configured(self, kind: str) -> list[tuple[ComponentConfig, Component]]:
        """Return ``(config, instance)`` pairs of the open components of ``kind``."""
        return list(self._instances.get(kind, []))

    async def open_components(self, stack: AsyncExitStack, kind: str) -> None:
        """Open every enabled component of ``kind``; one that fails to open is reported and left out, except a
        durable sink (store, archive): the agent must not run without it, so that raises :class:`StartupError`."""
        opened: list[tuple[ComponentConfig, Component]] = []
        for cfg in self.config.of_kind(kind):
            try:
                component = self._make(cfg)
                await stack.enter_async_context(component)
            except Exception as exc:
                if getattr(cfg.cls, "durable", False):
                    raise StartupError(f"{kind} {cfg.instance!r} cannot start: {exc}") from None
                stats = self.stats.register(cfg.kind, cfg.instance, cfg.plugin)
                stats.failure(f"failed to start: {type(exc).__name__}: {exc}")
                log.error("%s %r failed to start: %s", kind, cfg.instance, exc)
                continue
            opened.append((cfg, component))
        self._instances[kind] = opened

    def prepare_data_dir(self) -> None:
        """Create the data dir; raise a StartupError naming it and the cause when that is impossible."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StartupError(f"data dir {str(self.data_dir)!r} cannot be created: {exc.strerror}") from None

    # -- running -------------------------------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[Agent] = trio.TASK_STATUS_IGNORED) -> None:
        """Run until :meth:`stop` or cancellation; reports itself through ``task_status`` once monitors started."""
        self.prepare_data_dir()
        grace = float(self.settings.flush_grace)
        async with AsyncExitStack() as sinks_stack:
            await self.open_components(sinks_stack, "sink")
            self._store = next((sink for sink in self.components("sink") if isinstance(sink, Store)), None)
            if self._store is not None:
                self.ids.continue_after(await self._store.max_event_id())
            await self.open_components(sinks_stack, "processor")
            self.pipeline = Pipeline(self, self._instances["sink"], self._instances["processor"])
            async with trio.open_nursery() as consumers:
                await consumers.start(self.pipeline.run)
                async with AsyncExitStack() as inputs_stack:
                    await self.open_components(inputs_stack, "listener")
                    await self.open_components(inputs_stack, "monitor")
                    await self._run_inputs(task_status, grace)
                await self.pipeline.close(grace)
            if self.registry.pm:
                self.registry.pm.hook.shutdown(agent=self.view)
        log.info("stopped; %d records dropped in total", self.stats.dropped_total)

    async def _run_inputs(self, task_status: trio.TaskStatus[Agent], grace: float) -> None:
        assert self.pipeline is not None
        async with trio.open_nursery() as listeners:
            for cfg, listener in self._instances["listener"]:
                send = functools.partial(self.pipeline.send, stats=listener.runtime.stats)  # refusals count on it
                await listeners.start(self._guard, cfg, listener.run, send)  # type: ignore[attr-defined]
            if self.registry.pm:
                self.registry.pm.hook.startup(agent=self.view)
            async with trio.open_nursery() as monitors:
                monitors.start_soon(self.pipeline.forward_notices)
                for cfg, monitor in self._instances["monitor"]:
                    emit = functools.partial(self.pipeline.send, stats=monitor.runtime.stats)
                    runner = MonitorRunner(monitor, cfg.common, self.settings, emit)  # type: ignore[arg-type]
                    monitors.start_soon(self._guard, cfg, runner.run, None)
                if float(self.settings.self_metrics_interval) > 0:
                    monitors.start_soon(self._self_metrics)
                if float(self.settings.memory_trim_interval) > 0:  # a long run's RSS follows what is really held
                    monitors.start_soon(collect_and_trim_every, float(self.settings.memory_trim_interval))
                log.info("running: %d monitors, %d sinks, %d listeners",
                         len(self._instances["monitor"]), len(self._instances["sink"]),
                         len(self._instances["listener"]))
                task_status.started(self)
                await self._stop.wait()
                log.info("stopping: monitors first, then listeners, then sinks flush (grace %.1fs)", grace)
                self.shutting_down.set()
                monitors.cancel_scope.cancel()
            # Listeners (the server) watch `shutting_down` and finish on their own; cancel the stragglers.
            listeners.cancel_scope.deadline = trio.current_time() + min(grace, 5.0)
        await self.pipeline.send(self.stats.metrics())  # final self-metrics, so the archive ends with the totals

    async def _guard(self, cfg: ComponentConfig, fn: Any, send: Any,
                     task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run one input task; if it crashes, log it with its name, count it, and let the others go on."""
        stats = self.stats.register(cfg.kind, cfg.instance, cfg.plugin)
        status = _OnceStatus(task_status)
        try:
            if send is None:
                status.started()
                await fn()
            else:
                await fn(send, task_status=status)
        except Exception as exc:
            stats.count("errors")
            stats.failure(f"crashed: {type(exc).__name__}: {exc}")
            log.exception("%s %r crashed; the agent goes on without it", cfg.kind, cfg.instance)
        finally:
            status.started()  # a listener that died before it was ready must not hang the start-up

    async def _self_metrics(self) -> None:
        assert self.pipeline is not None
        while True:
            await trio.sleep(float(self.settings.self_metrics_interval))
            await self.pipeline.send(self.stats.metrics())


class _OnceStatus:
    """A task_status that tolerates being called twice (the guard calls it again when a task died early)."""

    def __init__(self, inner: trio.TaskStatus[Any]) -> None:
        self.inner = inner
        self.done = False

    def started(self, value: Any = None) -> None:
        if not self.done:
            self.done = True
            self.inner.started(value)


async def _stop_on_signal(agent: Agent) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as receiver:
        async for signum in receiver:
            log.info("received %s, stopping", signal.Signals(signum).name)
            agent.stop()
            return


async def run_agent(config: Config, *, handle_signals: bool = True,
                    task_status: trio.TaskStatus[Agent] = trio.TASK_STATUS_IGNORED) -> None:
    """Run an agent for ``config`` until SIGINT/SIGTERM (when ``handle_signals``), ``agent.stop()`` or cancellation.

    Returns once every sink has flushed. A second Ctrl-C during the flush interrupts it (Python's default).
    """
    if float(config.agent.memory_trim_interval) > 0:  # before any thread starts: a thread keeps its arena
        log.debug("glibc malloc set for a long run: %s", ", ".join(tune_allocator()) or "nothing (not glibc, or set)")
    agent = Agent(config)
    agent.prepare_data_dir()  # before any task starts, so the error reaches the caller as itself
    try:
        async with trio.open_nursery() as nursery:
            if handle_signals:
                nursery.start_soon(_stop_on_signal, agent)

            async def run_then_stop_waiting(task_status: trio.TaskStatus[Agent]) -> None:
                await agent.run(task_status=task_status)
                nursery.cancel_scope.cancel()

            await nursery.start(run_then_stop_waiting)
            task_status.started(agent)
    except BaseExceptionGroup as group:
        raise _sole_error(group) from None


def _sole_error(group: BaseExceptionGroup) -> BaseException:
    """The one FlcollectorError a failed start-up raised (so the CLI names it, exit 2), else the group itself."""
    leaves: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        error = pending.pop()
        if isinstance(error, BaseExceptionGroup):
            pending.extend(error.exceptions)
        else:
            leaves.append(error)
    if len(leaves) == 1 and isinstance(leaves[0], FlcollectorError):
        return leaves[0]
    return group
