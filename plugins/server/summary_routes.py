"""The spec's summary routes: ``/api/v1/status``, ``/api/v1/fl/metrics`` and ``/api/v1/network/metrics``.

Answered from the store, the run context and the monitors' stats only; no source is called on the request path.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from flcollector import EventQuery, Metric, MetricQuery, now_ns

from . import summaries as s
from .jsonio import JSONResponse, iso
from .query_routes import params_of
from .state import ServerState, state_of

DEVICES = ("switches", "switches_count", "devices", "switch_count")
HOSTS = ("hosts", "hosts_count", "host_count")
LINKS = ("links", "links_count", "link_count")
LATENCY = ("latency_ms", "rtt_ms", "connect_ms", "avg_latency_ms")
LOSS_RATE = ("loss_rate", "packet_loss_rate", "loss")
MBPS = ("mbps", "bandwidth_mbps", "throughput_mbps", "total_mbps")
FLOWS = ("flows", "total_flows", "active_flows", "flow_count")
UTILIZATION = ("flow_table_utilization", "utilization", "table_utilization")
QOS = ("high_priority_flows", "medium_priority_flows", "low_priority_flows", "priority_violations")
TRAFFIC = {"fl": ("fl_flows", "fl_bytes"), "control": ("control_flows", "control_bytes"),
           "background": ("background_flows", "background_bytes")}


def _status_of(server: ServerState, plugin: str, up: str) -> tuple[str, int | None]:
    """Return (status, last success ns) of the monitor from ``plugin``; ``up`` is the word for a healthy one."""
    stats = server.monitor_stats(plugin)
    if stats is None:
        return "not_monitored", None
    words = {"ok": up, "down": "unreachable", "error": "error", "starting": "starting", "stopped": "stopped"}
    return words.get(stats.status, stats.status), stats.last_success_ns


async def status(request: Request) -> JSONResponse:
    """Overall health and the state of the FL server, policy engine and SDN controller as last observed."""
    server = state_of(request)
    agent = server.agent
    latest = await server.store.latest_metrics(names=["fl_round", "fl_status", "policy", "network", "sdn_flows"])
    by_name: dict[str, list[Metric]] = {}
    for metric in latest:
        by_name.setdefault(metric.name, []).append(metric)
    fl = max(by_name.get("fl_status", []) + by_name.get("fl_round", []), key=lambda m: m.time_ns, default=None)
    fl_status, fl_seen = _status_of(server, "fl", "connected")
    pe_status, pe_seen = _status_of(server, "policy", "active")
    sdn_status, sdn_seen = _status_of(server, "sdn", "connected")
    five_min_ago = now_ns() - 300 * 1_000_000_000
    policy_events = await server.store.count_events(EventQuery(source="policy_engine", start_ns=five_min_ago))
    body = {
        "timestamp": iso(now_ns()),
        "system_health": agent.health()["status"],
        "experiment_id": agent.context.experiment,
        "components": {
            "fl_server": {
                "status": agent.context.phase or fl_status if fl_status == "connected" else fl_status,
                "current_round": agent.context.round,
                "active_clients": s.pick(fl.fields, s.PARTICIPANTS) if fl else None,
                "last_update": iso(fl_seen),
            },
            "policy_engine": {
                "status": pe_status,
                "active_policies": s.sum_latest(by_name.get("policy", []), ("active_policies", "policies",
                                                                            "policy_count")),
                "events_per_minute": round(policy_events / 5.0, 3),
                "last_update": iso(pe_seen),
            },
            "sdn_controller": {
                "status": sdn_status,
                "managed_devices": s.sum_latest(by_name.get("network", []), DEVICES),
                "active_flows": s.sum_latest(by_name.get("sdn_flows", []), FLOWS),
                "last_update": iso(sdn_seen),
            },
        },
    }
    return JSONResponse(body)


async def fl_metrics(request: Request) -> JSONResponse:
    """Global FL metrics per round as arrays, and per-client participation, for one experiment and time range."""
    server = state_of(request)
    params = params_of(request)
    experiment = params.text("experiment_id", "experiment") or server.agent.context.experiment
    start, end = params.time("from", "start"), params.time("to", "end")
    limit = server.options.max_limit
    window: dict[str, Any] = {"experiment": experiment, "start_ns": start, "end_ns": end, "limit": limit,
                              "order": "asc"}
    rounds = await server.store.query_metrics(MetricQuery(names=["fl_round"], **window))
    clients = await server.store.query_metrics(MetricQuery(names=["fl_client"], **window))
    global_ = s.global_metrics(rounds)
    times = [m.time_ns for m in rounds]
    return JSONResponse({
        "experiment_id": experiment,
        "timerange": {"from": iso(start if start is not None else min(times, default=None)),
                      "to": iso(end if end is not None else max(times, default=None))},
        "global_metrics": global_,
        "client_metrics": s.client_metrics(clients, len(global_["rounds"])),
    })


def _last_change(history: list[Metric]) -> int | None:
    """The time the topology counts last changed within ``history`` (ascending), or its first sample."""
    changed: int | None = None
    previous: tuple[float | None, ...] | None = None
    for metric in history:
        counts = (s.pick(metric.fields, DEVICES), s.pick(metric.fields, HOSTS), s.pick(metric.fields, LINKS))
        if counts != previous:
            changed, previous = metric.time_ns, counts
    return changed


def _percentages(flows: list[Metric]) -> dict[str, float | None]:
    totals = {kind: s.sum_latest(flows, aliases) for kind, aliases in TRAFFIC.items()}
    known = sum(v for v in totals.values() if v is not None)
    return {f"{kind}_traffic_percentage": (round(100.0 * v / known, 2) if v is not None and known else None)
            for kind, v in totals.items()}


async def network_metrics(request: Request) -> JSONResponse:
    """Topology counts, latency, bandwidth, loss, flow-table use, traffic split and QoS counts over ``timeframe``."""
    server = state_of(request)
    params = params_of(request)
    timeframe = params.text("timeframe") or "1h"
    seconds = params.duration("timeframe", default=3600.0)
    start = now_ns() - int(seconds * 1e9)
    limit = server.options.max_limit

    async def history(name: str) -> list[Metric]:
        return await server.store.query_metrics(MetricQuery(names=[name], start_ns=start, limit=limit, order="asc"))

    network, ports, probes = await history("network"), await history("sdn_port"), await history("probe_tcp")
    flows = await server.store.latest_metrics(names=["sdn_flows"])
    newest = network[-1] if network else None
    topology_event = await server.store.latest_event("TOPOLOGY_CHANGED")
    last_change = _last_change(network)
    if topology_event is not None and (last_change is None or topology_event.time_ns > last_change):
        last_change = topology_event.time_ns
    latency = s.series_values(probes, LATENCY) + s.series_values(network, LATENCY)
    loss = s.series_values(probes, LOSS_RATE)
    percent_loss = s.series_values(network, ("packet_loss_percent",))
    loss += [v / 100.0 for v in percent_loss]
    bandwidth = s.series_values(ports, MBPS) + s.series_values(network, MBPS)
    utilization = s.series_values(flows, UTILIZATION)
    return JSONResponse({
        "timeframe": timeframe,
        "topology": {
            "devices": s.pick(newest.fields, DEVICES) if newest else None,
            "hosts": s.pick(newest.fields, HOSTS) if newest else None,
            "links": s.pick(newest.fields, LINKS) if newest else None,
            "last_change": iso(last_change),
        },
        "performance": {
            "average_latency_ms": s._mean(latency),
            "peak_bandwidth_mbps": max(bandwidth, default=None),
            "packet_loss_rate": s._mean(loss),
            "flow_table_utilization": max(utilization, default=None),
            "active_flows": s.sum_latest(flows, FLOWS),
        },
        "traffic_analysis": _percentages(flows),
        "qos_metrics": {name: s.sum_latest(flows, (name,)) for name in QOS},
        "samples": {"network": len(network), "sdn_port": len(ports), "probe_tcp": len(probes)},
    })


def routes() -> list[Route]:
    """The summary routes."""
    return [
        Route("/api/v1/status", status, methods=["GET"]),
        Route("/api/v1/fl/metrics", fl_metrics, methods=["GET"]),
        Route("/api/v1/network/metrics", network_metrics, methods=["GET"]),
    ]
