"""Every hook of ``core/hookspecs.py`` has a test: one in-process plugin implements each, and a real agent run
(server on 127.0.0.1:0) shows what the core does with it. A hookspec added without a check here fails the suite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from flcollector import AgentView, Exporter, Listener, Metric, Monitor, Processor, Record, Send, Sink, hookimpl
from flcollector.agent import Agent, run_agent
from flcollector.config import load_config
from flcollector.hookspecs import HOOKS
from flcollector.loader import load_registry
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

#: what happened, in order (the lifecycle hooks and the monitor's collections)
ORDER: list[str] = []


class HookedMonitor(Monitor):
    """One metric per collection."""

    name = "hooked_monitor"

    async def collect(self) -> list[Record]:
        ORDER.append("collect")
        return [Metric("from_monitor", {"x": 1})]


class HookedListener(Listener):
    """Pushes one metric once it runs, then waits for the shutdown."""

    name = "hooked_listener"

    async def run(self, send: Send, task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        await send([Metric("from_listener", {"x": 1})])
        assert self.runtime.agent is not None
        await self.runtime.agent.shutting_down.wait()


class HookedProcessor(Processor):
    """Tags every metric it passes."""

    name = "hooked_processor"

    def process(self, batch: list[Record]) -> list[Record]:
        for record in batch:
            if isinstance(record, Metric):
                record.tags["processed"] = "yes"
        return batch


class HookedSink(Sink):
    """Keeps what it is given; ``both`` is set once a monitor's and a listener's metric arrived."""

    name = "hooked_sink"
    seen: dict[str, Metric] = {}
    both = trio.Event()

    async def write(self, batch: Sequence[Record]) -> None:
        for record in batch:
            if isinstance(record, Metric) and record.name.startswith("from_"):
                HookedSink.seen[record.name] = record
        if {"from_monitor", "from_listener"} <= set(HookedSink.seen):
            HookedSink.both.set()


class HookedExporter(Exporter):
    """A file format of the plugin."""

    name = "hooked"
    suffix = ".txt"

    async def export(self, records: Sequence[Record], path: Path, options: dict[str, Any]) -> Path:
        await trio.Path(path).write_text(f"{len(records)} records")
        return path


async def hooked_route(request: Request) -> PlainTextResponse:
    """A plugin's route."""
    return PlainTextResponse("hooked")


class EveryHook:
    """Implements every hook and records the lifecycle calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    @hookimpl
    def register_monitors(self) -> list[type]:
        return [HookedMonitor]

    @hookimpl
    def register_listeners(self) -> list[type]:
        return [HookedListener]

    @hookimpl
    def register_processors(self) -> list[type]:
        return [HookedProcessor]

    @hookimpl
    def register_sinks(self) -> list[type]:
        return [HookedSink]

    @hookimpl
    def register_exporters(self) -> list[type]:
        return [HookedExporter]

    @hookimpl
    def register_routes(self, agent: AgentView) -> list[Route]:
        self.calls.append(("register_routes", agent))
        return [Route("/hooked", hooked_route)]

    @hookimpl
    def startup(self, agent: AgentView) -> None:
        ORDER.append("startup")
        self.calls.append(("startup", agent))

    @hookimpl
    def shutdown(self, agent: AgentView) -> None:
        self.calls.append(("shutdown", agent))


@pytest.fixture
async def ran(tmp_path: Path) -> AsyncIterator[tuple[Agent, EveryHook, httpx.Response]]:
    """An agent run with every hook's component configured; the route answered; stopped."""
    HookedSink.seen, HookedSink.both = {}, trio.Event()
    ORDER.clear()
    plugin = EveryHook()
    path = tmp_path / "hooks.toml"
    path.write_text(f'[agent]\ndata_dir = "{tmp_path / "data"}"\nself_metrics_interval = "0s"\n'
                    '[[monitors.hooked_monitor]]\ninterval = "1h"\n[[listeners.hooked_listener]]\n'
                    '[[processors.hooked_processor]]\n[[sinks.hooked_sink]]\nflush_interval = "5ms"\n'
                    '[server]\nport = 0\n')
    config = load_config(path, env={}, registry=load_registry(extra=[("everyhook", plugin)]))
    with trio.fail_after(15):
        async with trio.open_nursery() as nursery:
            agent: Agent = await nursery.start(run_agent, config)
            await HookedSink.both.wait()
            async with httpx.AsyncClient(base_url=agent.find("listener", "server").url) as client:
                answer = await client.get("/hooked")
            agent.stop()
    yield agent, plugin, answer


def _monitor(agent: Agent, plugin: EveryHook, answer: httpx.Response) -> None:
    assert HookedSink.seen["from_monitor"].source  # collected by the core on the monitor's schedule


def _listener(agent: Agent, plugin: EveryHook, answer: httpx.Response) -> None:
    assert "from_listener" in HookedSink.seen  # pushed through send()


def _processor(agent: Agent, plugin: EveryHook, answer: httpx.Response) -> None:
    assert all(m.tags["processed"] == "yes" for m in HookedSink.seen.values())


def _sink(agent: Agent, plugin: EveryHook, answer: httpx.Response) -> None:
    assert set(HookedSink.seen) == {"from_monitor", "from_listener"}


def _exporter(agent: Agent, plugin: EveryHook, answer: httpx.Response) -> None:
    assert agent.view.exporter("hooked") is HookedExporter


def _routes(agent: Agent, plugin: EveryHook, answer: httpx.Response) -> None:
    assert answer.status_code == 200 and answer.text == "hooked"
    assert [view for name, view in plugin.calls if name == "register_routes"] == [agent.view]


def _startup(agent: Agent, plugin: EveryHook, answer: httpx.Response) -> None:
    assert [view for name, view in plugin.calls if name == "startup"] == [agent.view]
    assert ORDER[0] == "startup" and "collect" in ORDER  # once, before the monitors start


def _shutdown(agent: Agent, plugin: EveryHook, answer: httpx.Response) -> None:
    assert plugin.calls[-1] == ("shutdown", agent.view)


CHECKS: dict[str, Callable[[Agent, EveryHook, httpx.Response], None]] = {
    "register_monitors": _monitor,
    "register_listeners": _listener,
    "register_processors": _processor,
    "register_sinks": _sink,
    "register_exporters": _exporter,
    "register_routes": _routes,
    "startup": _startup,
    "shutdown": _shutdown,
}


def test_every_hookspec_has_a_check() -> None:
    assert set(CHECKS) == set(HOOKS), "a hook without a test here (or a test of a hook that is gone)"
    assert all(hasattr(EveryHook, hook) for hook in HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
async def test_the_hook_does_what_its_spec_says(hook: str, ran: tuple[Agent, EveryHook, httpx.Response]) -> None:
    CHECKS[hook](*ran)
