"""Helpers for the dashboard-route tests: a real Agent with the sqlite store (and the cache when installed), the
dashboard plugin's routes (its ``register_routes``) in a minimal Starlette app over ``httpx.ASGITransport``, and
records shaped like the sources'.

Records reach the store through ``agent.send`` and the real pipeline (which assigns event ids), exactly as the
monitors' records do. FL and policy records are built with those plugins' own converters from reference-shaped
source answers, so a change of their field names shows up here.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import trio
from flcollector import Event, Metric, Record
from flcollector.agent import Agent
from flcollector.config import load_config
from flcollector.loader import load_registry
from flcollector.plugins import dashboard
from flcollector.plugins.fl.convert import round_records, server_metric
from flcollector.plugins.policy.convert import decision_event
from flcollector.plugins.sdn.stats import flow_summary, ryu_flows
from flcollector.plugins.sdn.topology import ryu_hosts, ryu_links, ryu_switches, snapshot
from starlette.applications import Starlette

T0 = 1_750_000_000 * 10**9  # 2025-06-15T15:06:40Z, a fixed origin so expected timestamps are exact
SECOND = 10**9
#: The dashboard backend's httpx client always sends these (reference §1.3).
DASHBOARD_AUTH = ("admin", "securepassword")

CONFIG = """
[agent]
data_dir = "{data}"
self_metrics_interval = "0s"
{experiment}
"""
STORE = """
[[sinks.sqlite]]
flush_interval = "5ms"
retention = "0s"  # keep everything: the records are dated in 2025 so expected timestamps are exact
"""


class Dashboard:
    """A running agent, an HTTP client on the dashboard routes, and ``send()`` that waits until stored."""

    def __init__(self, agent: Agent, client: httpx.AsyncClient) -> None:
        self.agent = agent
        self.client = client
        self.sent = 0

    async def send(self, records: Sequence[Record]) -> None:
        """Push ``records`` through the pipeline and wait until every sink (store and cache) wrote them."""
        self.sent += len(records)
        await self.agent.send(records)
        sinks = [stats for (kind, _), stats in self.agent.stats.items.items() if kind == "sink"]
        assert sinks
        with trio.fail_after(10):
            # No event to await: the sinks' records_out counters are the only completion signal.
            while any(stats.counters["records_out"] < self.sent for stats in sinks):  # noqa: ASYNC110
                await trio.sleep(0.002)

    async def get(self, path: str, **params: Any) -> Any:
        """GET ``path`` and return the JSON body, asserting status 200."""
        response = await self.client.get(path, params=params)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()


@asynccontextmanager
async def running_dashboard(
    tmp_path: Path,
    experiment: str | None = None,
    *,
    served: bool = False,
    extra: str = "",
    store: bool = True,
) -> AsyncIterator[Dashboard]:
    """Start an agent (sqlite store, cache if available) and yield a :class:`Dashboard` on its routes.

    By default the routes run in a minimal Starlette app over ``httpx.ASGITransport``; ``served=True`` runs the
    real ``[server]`` plugin on 127.0.0.1:0 with Basic auth on, and the client sends the dashboard's credentials.
    ``extra`` is appended to the config (e.g. monitors); ``store=False`` leaves the sqlite store out.
    """
    registry = load_registry()
    text = CONFIG.format(data=tmp_path / "data", experiment=f'experiment = "{experiment}"' if experiment else "")
    text += STORE if store else ""
    if registry.get("sink", "cache") is not None:
        text += '\n[[sinks.cache]]\nflush_interval = "5ms"\n'
    if served:
        # the dashboard's fixed Basic login, configured as a deployment for it must (nothing is built in)
        text += '\n[server]\nport = 0\nauth_enabled = true\nusername = "admin"\npassword = "securepassword"\n'
    path = tmp_path / "collector.toml"
    path.write_text(text + extra)
    config = load_config(path, env={}, registry=registry)
    async with trio.open_nursery() as nursery:
        agent: Agent = await nursery.start(Agent(config).run)
        if served:
            server = agent.find("listener", "server")
            assert server is not None and server.url, "the server plugin did not start"
            client = httpx.AsyncClient(base_url=server.url, auth=DASHBOARD_AUTH, follow_redirects=True, timeout=10)
        else:
            app = Starlette(routes=dashboard.register_routes(agent.view))
            app.state.agent = agent.view  # what the server provides every plugin route (flcollector.agent_of)
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://dashboard.test")
        async with client:
            yield Dashboard(agent, client)
        agent.stop()


# -- records shaped like the sources' answers ---------------------------------------------------------------------


def fl_round(number: int, accuracy: float, loss: float, experiment: str | None = None, at: int = 0) -> list[Metric]:
    """The ``fl_round`` metric the FL monitor stores for one FL-server ``/rounds`` row (reference §2.5)."""
    row = {
        "round": number,
        "timestamp": (T0 + (at or number * 60 * SECOND)) / 1e9,
        "status": "complete",
        "accuracy": accuracy,
        "loss": loss,
        "training_duration": 12.5,
        "model_size_mb": 4.25,
        "clients": 4,
        "raw_metrics": {  # as the real server persists it: 3 of the 4 clients evaluated
            "evaluation_results_count": 3,
            "phase_durations": {"total": 12.5, "aggregation": 0.5, "evaluation": 1.5},
        },
    }
    return [m for m in round_records(row, experiment) if m.name == "fl_round"]


def fl_server(
    current: int, max_rounds: int, *, active: bool = True, experiment: str | None = None, at: int = 0
) -> Metric:
    """The ``fl_server`` snapshot the FL monitor stores for one poll of ``/status`` and ``/metrics``."""
    status = {
        "server_status": "training" if active else "completed",
        "training_stopped_by_policy": False,
        "current_round": current,
        "max_rounds": max_rounds,
        "connected_clients": 3,
        "training_active": active,
    }
    metrics = {"last_round_accuracy": 0.9, "last_round_loss": 0.2, "model_size_mb": 4.25, "max_rounds": max_rounds}
    state = "active" if active else "complete"
    metric = server_metric(status, metrics, state, experiment)
    return Metric(
        metric.name,
        {**metric.fields, "server_start_time": T0 / 1e9},
        at or T0 + current * 60 * SECOND,
        source=metric.source,
        experiment=experiment,
        round=metric.round,
    )


def decision(index: int, allowed: bool, component: str = "fl-server") -> Event:
    """A ``POLICY_DECISION`` event as the policy monitor stores it (reference §2.5 decision shape)."""
    return decision_event(
        {
            "id": f"decision_{index}",
            "policy_id": f"p{index % 2}",
            "policy_name": "client-trust",
            "component": component,
            "timestamp": (T0 + index * SECOND) / 1e9,
            "context": {"client": f"c{index}"},
            "decision": "allow" if allowed else "deny",
            "result": allowed,
            "reason": "test",
            "action_taken": "none",
            "execution_time": 0.001,
            "request_id": f"r{index}",
        }
    )


def _switch_body(dpid: int) -> dict[str, Any]:
    ports: list[dict[str, Any]] = [
        {"port_no": f"{n:08x}", "hw_addr": f"00:00:00:00:0{dpid}:0{n}", "name": f"s{dpid}-eth{n}"} for n in (1, 2)
    ]
    ports[0]["state"] = 0  # OpenFlow: link up; the second port has no state (the routes must fill one in)
    return {"dpid": f"{dpid:016x}", "ports": ports}


def topology_bodies() -> tuple[list[Any], list[Any], list[Any]]:
    """Ryu's REST topology answers: two switches, a link each way (integer DPIDs), two hosts."""
    switches = [_switch_body(1), _switch_body(2)]
    links = [
        {"src": {"dpid": 1, "port_no": 2}, "dst": {"dpid": 2, "port_no": 2}},
        {"src": {"dpid": 2, "port_no": 2}, "dst": {"dpid": 1, "port_no": 2}},
    ]
    hosts = [
        {"mac": f"00:00:00:00:00:0{i}", "ipv4": [f"10.0.0.{i}"], "port": {"dpid": f"{i:016x}", "port_no": 1}}
        for i in (1, 2)
    ]
    return switches, links, hosts


def topology_details(raw: bool = False) -> dict[str, Any]:
    """A ``TOPOLOGY_SNAPSHOT`` document as the sdn monitor stores it (``raw``: the controller's own shapes)."""
    switches, links, hosts = topology_bodies()
    if raw:
        for body in switches:
            body["ports"] = [{**p, "port_no": int(p["port_no"], 16)} for p in body["ports"]]
            body["ports"][1].pop("state", None)
        return {"switches": switches, "links": links, "hosts": hosts}
    return snapshot(ryu_switches(switches), ryu_links(links), ryu_hosts(hosts))


def _flow_body(priority: int, packets: int) -> dict[str, Any]:
    return {
        "table_id": 0,
        "priority": priority,
        "idle_timeout": 0,
        "hard_timeout": 0,
        "cookie": 0,
        "packet_count": packets,
        "byte_count": packets * 100,
        "match": {"in_port": 1},
        "duration_sec": 30,
        "instructions": [{"type": "APPLY_ACTIONS", "actions": [{"type": "OUTPUT", "port": 2}]}],
    }


def flows_details() -> dict[str, Any]:
    """A ``FLOW_SNAPSHOT`` as the sdn monitor stores it: three flows on two switches."""
    flows = ryu_flows({"1": [_flow_body(1, 10), _flow_body(0, 0)]}, "1", f"{1:016x}")
    flows += ryu_flows({"2": [_flow_body(1, 5)]}, "2", f"{2:016x}")
    return {"flows": flows, "summary": flow_summary(flows)}


def performance_details() -> dict[str, Any]:
    """A ``PERFORMANCE_SNAPSHOT``: the controller's ``/api/performance/metrics`` answer (reference §2.5)."""
    return {
        "bandwidth": {
            "current_total_bps": 12e6,
            "current_average_bps": 3e6,
            "active_ports": 4,
            "peak_bandwidth_bps": 20e6,
        },
        "latency": {"average_ms": 2.5, "min_ms": 1.0, "max_ms": 4.0},
        "packet_loss": 0.5,
        "flows": {"total": 3, "active": 2},
        "ports": {"total": 4, "up": 4, "errors": 2},
        "health_score": 93,
        "timestamp": T0 / 1e9,
        "totals": {
            "bytes_transferred": 10**6,
            "packets_transferred": 10_000,
            "total_errors": 2,
            "uptime_seconds": 600,
            "flows_created": 3,
        },
        "rates": {"bytes_per_second": 1e4, "packets_per_second": 100.0, "flows_per_hour": 18.0},
        "source": "controller",
    }


def network_records(at: int = T0, raw_topology: bool = False) -> list[Record]:
    """What the sdn monitor stores per poll: the flat ``network`` metric and the three snapshot events."""
    network = Metric(
        "network",
        {
            "sdn_status": "connected",
            "controller": "ryu",
            "switches_count": 2,
            "hosts_count": 2,
            "links_count": 2,
            "ports_total": 4,
            "ports_up": 2,
            "flows_total": 3,
            "flows_active": 2,
            "active_ports": 4,
            "bandwidth_total_mbps": 12.0,
            "bandwidth_avg_mbps": 3.0,
            "bandwidth_max_mbps": 5.0,
            "packet_loss_percent": 0.5,
            "latency_avg_ms": 2.5,
        },
        at,
        source="sdn_controller",
    )
    return [
        network,
        Event("TOPOLOGY_SNAPSHOT", "2 switches", at, "sdn_controller", details=topology_details(raw_topology)),
        Event("FLOW_SNAPSHOT", "3 flows", at, "sdn_controller", details=flows_details()),
        Event("PERFORMANCE_SNAPSHOT", "performance", at, "sdn_controller", details=performance_details()),
    ]


def closed_port_url() -> str:
    """A loopback URL nothing listens on (a port just released by the OS), for a source that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def wait_until_down(agent: Agent, plugin: str) -> None:
    """Wait until the first monitor of ``plugin`` reports its source down (its stats are the only signal)."""

    def down() -> bool:
        return any(
            s.kind == "monitor" and s.plugin == plugin and s.status == "down" for s in agent.stats.items.values()
        )

    with trio.fail_after(10):
        while not down():  # noqa: ASYNC110
            await trio.sleep(0.01)
