"""``/health`` and the listener's start-up and shutdown."""

from __future__ import annotations

import time
from typing import Any

import httpx
import trio
from flcollector import Metric
from flcollector.emulators.fl_server import FlServerEmulator


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
    server = body["agent_components"]["listener:server"]
    assert server["status"] == "ok" and server["counters"]["requests"] >= 1 and server["url"] == running.url
    sink = running.store.runtime.instance
    assert "dropped" in body["agent_components"][f"sink:{sink}"]["counters"]
    assert isinstance(body["timestamp"], float) and abs(body["timestamp"] - time.time()) < 60  # epoch seconds
    assert "error" not in body  # the dashboard's test_connection reads a top-level error as a failure


async def test_a_port_in_use_is_reported_and_the_agent_goes_on(running, start_server) -> None:
    port = running.url.rsplit(":", 1)[1]
    with trio.fail_after(10):
        agent = await start_server(port=int(port))
    stats = agent.stats.get("listener", "server")
    assert stats is not None and stats.status == "error" and stats.counters["errors"] == 1
    assert agent.health()["status"] == "degraded"
    agent.stop()


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _health_until(client: httpx.AsyncClient, check: Any) -> dict[str, Any]:
    """Ask /health until ``check(body)`` holds (the monitors and sinks change it as they work)."""
    while True:
        body = (await client.get("/health")).json()
        if check(body):
            return dict(body)
        await trio.sleep(0.02)


async def test_health_in_the_spec_shape(start_server, nursery: trio.Nursery) -> None:
    """Issue 8 item 5: ``components`` keyed by the services (``fl_server``, ``policy_engine``, ``sdn_controller``, and
    each remote sink such as ``influxdb`` and ``redis``) with healthy|unhealthy|unreachable; ``timestamp`` in epoch
    seconds; our per-component detail under ``agent_components``."""
    fl = FlServerEmulator(num_clients=2, max_rounds=2, seed=1)
    await nursery.start(fl.serve)
    closed = _closed_port()
    extra = f"""
[[monitors.fl]]
url = "{fl.url}"
interval = "50ms"

[[monitors.policy]]
url = "http://127.0.0.1:{closed}"
interval = "50ms"

[[sinks.influxdb]]
url = "http://127.0.0.1:{closed}"
flush_interval = "20ms"
backoff_initial = "50ms"

[[sinks.redis]]
url = "redis://127.0.0.1:{closed}/0"
flush_interval = "20ms"
backoff_initial = "50ms"
"""
    with trio.fail_after(20):
        agent = await start_server(extra)
        async with httpx.AsyncClient(base_url=agent.find("listener", "server").url) as client:

            def settled(body: dict[str, Any]) -> bool:
                parts = body["components"]
                return (
                    parts["fl_server"]["status"] == "healthy"
                    and parts["policy_engine"]["status"] == "unreachable"
                    and parts["influxdb"]["status"] == "unreachable"
                    and parts["redis"]["status"] == "unreachable"
                )

            body = await _health_until(client, settled)
    agent.stop()
    parts = body["components"]
    assert set(parts) == {"fl_server", "policy_engine", "sdn_controller", "influxdb", "redis"}
    assert parts["sdn_controller"] == {"status": "not_monitored"}
    assert parts["fl_server"]["url"] == fl.url and "error" not in parts["fl_server"]
    assert parts["policy_engine"]["error"]  # why it is unreachable, inside the component as in the spec
    influx = parts["influxdb"]
    assert influx["endpoint"].startswith(f"http://127.0.0.1:{closed}")
    assert "ConnectError" in influx["last_error"]  # the message, not the time it happened
    sink = body["agent_components"]["sink:influxdb"]
    assert sink["last_error"] == influx["last_error"] and sink["last_error_at"].endswith("Z")
    for key in ("backlog_records", "backlog_bytes", "oldest_unsent_age_s"):
        assert isinstance(influx[key], int | float)
    assert influx["backlog_records"] > 0  # what the fl monitor produced waits for InfluxDB
    assert body["status"] == "degraded" and isinstance(body["version"], str) and "error" not in body
    assert body["agent_components"]["monitor:fl"]["status"] == "ok"


async def test_health_without_credentials_says_only_the_status(start_server) -> None:
    """Issue 13 item 10: with auth on, ``/health`` stays open but details (store path, URLs, counters) need
    credentials."""
    with trio.fail_after(10):
        # Basic needs its credentials configured (no login is built in: issue 13 item 9)
        agent = await start_server(
            'auth_enabled = true\ntoken = "s3cret"\nusername = "admin"\npassword = "securepassword"\n'
        )
        url = agent.find("listener", "server").url
        async with httpx.AsyncClient(base_url=url) as client:
            anonymous = await client.get("/health")
            wrong = await client.get("/health", auth=("admin", "wrong"))
            basic = await client.get("/health", auth=("admin", "securepassword"))
            bearer = await client.get("/health", headers={"Authorization": "Bearer s3cret"})
    agent.stop()
    assert anonymous.status_code == 200 and anonymous.json() == {"status": "healthy"}
    assert wrong.json() == {"status": "healthy"}
    for full in (basic, bearer):
        body = full.json()
        assert "metrics" in body["store"] and body["server"]["auth"] is True and "agent_components" in body
