"""``/health`` and the listener's start-up and shutdown."""

from __future__ import annotations

import trio
from flcollector import Metric


async def test_health_reports_components_server_and_store(running) -> None:
    with trio.fail_after(10):
        await running.send([Metric("cpu", {"percent": 12.5})])
        response = await running.client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] in ("healthy", "degraded")
    assert body["version"] == running.agent.version
    assert body["uptime_s"] >= 0
    assert body["server"]["url"] == running.url
    assert body["store"] and "error" not in body["store"]
    server = body["components"]["listener:server"]
    assert server["status"] == "ok" and server["counters"]["requests"] >= 1 and server["url"] == running.url
    sink = running.store.runtime.instance
    assert "dropped" in body["components"][f"sink:{sink}"]["counters"]
    assert body["timestamp"].endswith("Z")


async def test_a_port_in_use_is_reported_and_the_agent_goes_on(running, start_server) -> None:
    port = running.url.rsplit(":", 1)[1]
    with trio.fail_after(10):
        agent = await start_server(port=int(port))
    stats = agent.stats.get("listener", "server")
    assert stats is not None and stats.status == "error" and stats.counters["errors"] == 1
    assert agent.health()["status"] == "degraded"
    agent.stop()
