"""The spec's summary routes: ``/api/v1/status``, ``/api/v1/fl/metrics`` and ``/api/v1/network/metrics``.

Answered from the store, the run context and the monitors' stats only; no source is called on the request path.
Record names and fields are those the built-in monitors write (see PLUGINS.md: ``fl_server``, ``fl_round``,
``fl_client``, ``policy_count``, ``network``, ``sdn_port``, ``sdn_flows``, ``probe_tcp``, ``FLOW_SNAPSHOT`` and
``TOPOLOGY_SNAPSHOT``); a figure nobody measures is ``null``, never invented.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flcollector import EventQuery, Metric, MetricQuery, now_ns
from starlette.requests import Request
from starlette.routing import Route

from .. import summaries as s
from ..jsonio import JSONResponse, iso
from ..state import ServerState, state_of
from .metrics import params_of

LATENCY = ("rtt_avg_ms", "latency_avg_ms", "latency_ms")
FLOWS = ("flows_total", "flows")
ACTIVE_POLICIES = ("active", "enabled", "total")


def _status_of(server: ServerState, plugin: str, up: str) -> tuple[str, int | None]:
    """Return (status, last success ns) of the monitor from ``plugin``; ``up`` is the word for a healthy one."""
    stats = server.monitor_stats(plugin)
    if stats is None:
        return "not_monitored", None
    words = {"ok": up, "down": "unreachable", "error": "error", "starting": "starting", "stopped": "stopped"}
    return words.get(stats.status, stats.status), stats.last_success_ns


def _newest(latest: Iterable[Metric], name: str) -> Metric | None:
    return max((m for m in latest if m.name == name), key=lambda m: m.time_ns, default=None)


async def status(request: Request) -> JSONResponse:
    """Overall health and the state of the FL server, policy engine and SDN controller as last observed."""
    server = state_of(request)
    agent, store = server.agent, server.store
    latest = await store.latest_metrics(names=["fl_server", "policy_count", "network", "sdn_flows"])
    fl, policies, network = (_newest(latest, n) for n in ("fl_server", "policy_count", "network"))
    fl_status, fl_seen = _status_of(server, "fl", "connected")
    pe_status, pe_seen = _status_of(server, "policy", "active")
    sdn_status, sdn_seen = _status_of(server, "sdn", "connected")
    if fl_status == "connected":  # say what the FL server is doing: training, complete, paused...
        state = fl.fields.get("state") if fl else None
        fl_status = str(state) if state else agent.context.phase or fl_status
    recent = EventQuery(source="policy_engine", start_ns=now_ns() - 300 * 1_000_000_000)
    policy_events = await store.count_events(recent)
    flows = s.pick(network.fields, FLOWS) if network else None
    return JSONResponse(
        {
            "timestamp": iso(now_ns()),
            "system_health": agent.health()["status"],
            "experiment_id": agent.context.experiment,
            "components": {
                "fl_server": {
                    "status": fl_status,
                    "current_round": agent.context.round,
                    "active_clients": s.pick(fl.fields, ("connected_clients",)) if fl else None,
                    "last_update": iso(fl_seen),
                },
                "policy_engine": {
                    "status": pe_status,
                    "active_policies": s.pick(policies.fields, ACTIVE_POLICIES) if policies else None,
                    "events_per_minute": round(policy_events / 5.0, 3),
                    "last_update": iso(pe_seen),
                },
                "sdn_controller": {
                    "status": sdn_status,
                    "managed_devices": s.pick(network.fields, s.DEVICES) if network else None,
                    "active_flows": flows
                    if flows is not None
                    else s.sum_latest([m for m in latest if m.name == "sdn_flows"], ("flows",)),
                    "last_update": iso(sdn_seen),
                },
            },
        }
    )


async def fl_metrics(request: Request) -> JSONResponse:
    """Global FL metrics per round as arrays, and per-client participation, for one experiment and time range."""
    server = state_of(request)
    params = params_of(request)
    experiment = params.text("experiment_id", "experiment") or server.agent.context.experiment
    start, end = params.time("from", "start"), params.time("to", "end")
    window: dict[str, Any] = {
        "experiment": experiment,
        "start_ns": start,
        "end_ns": end,
        "limit": server.options.max_limit,
        "order": "asc",
    }
    rounds = await server.store.query_metrics(MetricQuery(names=["fl_round"], **window))
    clients = await server.store.query_metrics(MetricQuery(names=["fl_client"], **window))
    global_ = s.global_metrics(rounds)
    times = [m.time_ns for m in rounds]
    return JSONResponse(
        {
            "experiment_id": experiment,
            "timerange": {
                "from": iso(start if start is not None else min(times, default=None)),
                "to": iso(end if end is not None else max(times, default=None)),
            },
            "global_metrics": global_,
            "client_metrics": s.client_metrics(clients, len(global_["rounds"])),
        }
    )


async def network_metrics(request: Request) -> JSONResponse:
    """Topology counts, latency, bandwidth, loss, flow-table use, traffic split and QoS counts over ``timeframe``."""
    server = state_of(request)
    params = params_of(request)
    seconds = params.duration("timeframe", default=3600.0)
    timeframe = params.text("timeframe") or "1h"
    start, store, limit = now_ns() - int(seconds * 1e9), server.store, server.options.max_limit

    async def history(name: str) -> list[Metric]:
        return await store.query_metrics(MetricQuery(names=[name], start_ns=start, limit=limit, order="asc"))

    network, ports, probes = await history("network"), await history("sdn_port"), await history("probe_tcp")
    newest = network[-1] if network else None
    flow_snapshot = await store.latest_event("FLOW_SNAPSHOT")
    flows = flow_snapshot.details.get("flows", []) if flow_snapshot is not None else []
    loss = [v / 100.0 for v in s.series_values(probes, ("loss_percent",))]
    if not loss:
        loss = [v / 100.0 for v in s.series_values(network, ("packet_loss_percent",))]
    bandwidth = s.series_values(network, ("bandwidth_total_mbps",))
    if not bandwidth:
        bandwidth = [v for v in map(s.port_mbps, ports) if v is not None]
    utilization = s.series_values(network, ("flow_table_utilization",))
    return JSONResponse(
        {
            "timeframe": timeframe,
            "topology": {
                "devices": s.pick(newest.fields, s.DEVICES) if newest else None,
                "hosts": s.pick(newest.fields, s.HOSTS) if newest else None,
                "links": s.pick(newest.fields, s.LINKS) if newest else None,
                "last_change": iso(s.topology_change(network, await store.latest_event("TOPOLOGY_SNAPSHOT"))),
            },
            "performance": {
                "average_latency_ms": s.mean(s.series_values(probes, LATENCY) or s.series_values(network, LATENCY)),
                "peak_bandwidth_mbps": max(bandwidth, default=None),
                "packet_loss_rate": s.mean(loss),
                "flow_table_utilization": utilization[-1] if utilization else None,
                "active_flows": s.pick(newest.fields, ("flows_active",)) if newest else None,
            },
            # Traffic classes need flow classification that no monitor performs yet: reported as unknown.
            "traffic_analysis": {
                "fl_traffic_percentage": None,
                "control_traffic_percentage": None,
                "background_traffic_percentage": None,
            },
            "qos_metrics": s.qos_counts(flows)
            if flow_snapshot is not None
            else {
                "high_priority_flows": None,
                "medium_priority_flows": None,
                "low_priority_flows": None,
                "priority_violations": None,
            },
            "samples": {"network": len(network), "sdn_port": len(ports), "probe_tcp": len(probes)},
        }
    )


def routes() -> list[Route]:
    """The summary routes."""
    return [
        Route("/api/v1/status", status, methods=["GET"]),
        Route("/api/v1/fl/metrics", fl_metrics, methods=["GET"]),
        Route("/api/v1/network/metrics", network_metrics, methods=["GET"]),
    ]
