"""The dashboard face is a plugin of its own: registered through the entry-point group, its routes added through
``register_routes``, and disabling it leaves the spec's API intact."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import trio
from flcollector import Metric
from flcollector.agent import Agent
from flcollector.config import load_config
from flcollector.loader import load_registry
from flcollector.plugins import dashboard
from starlette.routing import Route

CONFIG = """
[agent]
data_dir = "{data}"
self_metrics_interval = "0s"
{disable}
[[sinks.sqlite]]
flush_interval = "5ms"
[server]
port = 0
"""


def test_registered_like_any_third_party_plugin() -> None:
    info = load_registry().plugins["dashboard"]
    assert info.origin == "built-in" and info.module == "flcollector.plugins.dashboard" and not info.error
    assert info.components == {"routes": ["register_routes"]}
    routes = dashboard.register_routes(agent=None)  # type: ignore[arg-type]  # the routes need no agent to exist
    modules = {r.endpoint.__module__ for r in routes if isinstance(r, Route)}
    assert len(modules) == 7 and all(m.startswith("flcollector.plugins.dashboard.") for m in modules)
    assert {"/api/events", "/api/metrics/fl/rounds", "/api/network/topology", "/status"} <= {r.path for r in routes}


@pytest.mark.parametrize("disabled", [False, True])
async def test_disabling_the_dashboard_leaves_the_spec_api_intact(tmp_path: Path, disabled: bool) -> None:
    path = tmp_path / "collector.toml"
    disable = 'disable_plugins = ["dashboard"]' if disabled else ""
    path.write_text(CONFIG.format(data=tmp_path / "data", disable=disable))
    config = load_config(path, env={})  # the real path: [agent] disable_plugins blocks the entry point
    with trio.fail_after(15):
        async with trio.open_nursery() as nursery:
            agent: Agent = await nursery.start(Agent(config).run)
            await agent.send([Metric("fl_round", {"accuracy": 0.5}, round=1)])
            url = agent.find("listener", "server").url
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                spec = [await client.get(p) for p in ("/health", "/api/v1/metrics", "/api/v1/events", "/metrics")]
                face = [await client.get(p) for p in ("/api/events", "/api/metrics/fl/status", "/status")]
                document = (await client.get("/openapi.json")).json()
            agent.stop()
    assert [r.status_code for r in spec] == [200, 200, 200, 200]
    if disabled:
        assert [r.status_code for r in face] == [404, 404, 404]
        assert face[0].json()["error"]["message"] == "no route /api/events"  # the server's own JSON 404
        assert not [p for p in document["paths"] if not p.startswith(("/api/v1", "/api/v2"))
                    and p not in ("/health", "/write", "/metrics", "/openapi.json")]
        assert load_registry(blocked=["dashboard"]).plugins["dashboard"].blocked
    else:
        assert [r.status_code for r in face] == [200, 200, 200]
        assert "/api/events" in document["paths"]
