"""What plugins see of the agent: the narrow AgentView, and the hooks that receive it (startup, shutdown,
register_routes), each exercised through a real agent run."""

from __future__ import annotations

from typing import Any

import pytest
import trio
from core_fakes import MemorySink, TestPlugin
from flcollector import AgentView, Metric, hookimpl
from flcollector.agent import Agent, run_agent
from flcollector.config import load_config
from flcollector.loader import load_registry
from starlette.routing import Route

#: The names colleagues' plugins rely on (``runtime.agent``); they must stay.
RELIED_ON = ("store", "send", "observe", "health", "context", "stats", "data_dir", "version", "settings")


class HookRecorder:
    """An in-process plugin recording what its lifecycle and route hooks receive."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    @hookimpl
    def startup(self, agent: AgentView) -> None:
        self.calls.append(("startup", agent))

    @hookimpl
    def shutdown(self, agent: AgentView) -> None:
        self.calls.append(("shutdown", agent))

    @hookimpl
    def register_routes(self, agent: AgentView) -> list[Route]:
        self.calls.append(("register_routes", agent))
        return [Route("/recorded", lambda request: None)]


class BrokenRoutes:
    """A plugin whose ``register_routes`` raises: the agent goes on without its routes."""

    @hookimpl
    def register_routes(self) -> list[Route]:
        raise RuntimeError("routes exploded")


def _config(tmp_path: Any, *plugins: tuple[str, object]) -> Any:
    MemorySink.instances.clear()
    path = tmp_path / "view.toml"
    path.write_text(
        f'[agent]\ndata_dir = "{tmp_path / "data"}"\nself_metrics_interval = "0s"\n'
        '[[monitors.scripted]]\ninterval = "1h"\n[[sinks.memory]]\nflush_interval = "5ms"\n'
    )
    registry = load_registry(extra=[("testplugin", TestPlugin()), *plugins])
    return load_config(path, env={}, registry=registry)


async def test_components_see_a_narrow_view_with_what_plugins_use(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            agent: Agent = await nursery.start(run_agent, _config(tmp_path))
            view = agent.find("monitor", "scripted").runtime.agent
            assert isinstance(view, AgentView) and view is agent.view
            for name in RELIED_ON:
                assert hasattr(view, name), name
            for hidden in ("config", "registry", "pipeline", "run", "stop"):
                assert not hasattr(view, hidden), f"the view exposes {hidden}"
            # the [agent] settings: plain values to describe the set-up, read-only
            assert view.settings["data_dir"] == str(tmp_path / "data") and view.settings["interval"] == 5.0
            assert view.settings["self_metrics_interval"] == 0.0 and view.settings["disable_plugins"] == []
            with pytest.raises(TypeError):
                view.settings["interval"] = 1.0  # type: ignore[index]
            assert view.store is None and view.version == agent.version and view.data_dir == agent.data_dir
            # exporters from the plugins loaded at start (nothing imported again)
            assert view.exporter("csv") is agent.registry.get("exporter", "csv") and view.exporter("xls") is None
            assert [m.name for m in view.configured("monitor")] == ["scripted"]
            assert view.configured("monitor")[0].interval == 3600.0
            async with view.observe(10) as batches:
                await view.send([Metric("seen", {"x": 1})])
                seen: list[Metric] = []
                while not seen:  # the scripted monitor's first collection may pass by first
                    seen = [r for r in await batches.receive() if isinstance(r, Metric) and r.name == "seen"]
            assert seen[0].fields == {"x": 1}
            assert view.health()["status"] in ("healthy", "degraded")
            agent.stop()


async def test_lifecycle_hooks_and_register_routes_receive_the_view(tmp_path) -> None:  # type: ignore[no-untyped-def]
    recorder = HookRecorder()
    config = _config(tmp_path, ("recorder", recorder), ("broken", BrokenRoutes()))
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            agent: Agent = await nursery.start(run_agent, config)
            routes = agent.view.plugin_routes()
            assert agent.view.plugin_routes() is routes  # collected once
            paths = [r.path for r in routes]
            assert paths.count("/recorded") == 1 and "/api/events" in paths  # the dashboard's come this way too
            # the broken plugin's routes are left out, it is reported, and the agent goes on
            assert "routes exploded" in agent.health()["plugins_failed"]["broken"]
            agent.stop()
    assert [name for name, _ in recorder.calls] == ["startup", "register_routes", "shutdown"]  # routes: when asked
    assert all(view is agent.view for _, view in recorder.calls)


def test_plugins_listing_names_route_providers() -> None:
    registry = load_registry(extra=[("recorder", HookRecorder())])
    assert registry.plugins["recorder"].components == {"routes": ["register_routes"]}
    assert registry.plugins["dashboard"].components == {"routes": ["register_routes"]}
    assert registry.plugins["websocket"].components == {"sink": ["websocket"], "routes": ["register_routes"]}


@pytest.mark.parametrize("name", RELIED_ON)
def test_the_names_plugins_rely_on_are_documented(name: str) -> None:
    assert (getattr(AgentView, name).__doc__ or "").strip(), f"AgentView.{name} has no docstring"
