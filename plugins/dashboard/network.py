"""The network routes (upstream #14-#18), answered from the latest SDN snapshots, never from the controller.

Upstream proxied most of these to the SDN controller on the request path (1 + N calls for flow statistics) and
answered 503 without a monitor; here they answer 200 from what was collected, with zeros and ``source: "no_data"``
before the first snapshot.
"""

from __future__ import annotations

from typing import Any

from flcollector import Event, now_ns
from flcollector.plugins.server.params import Params
from starlette.requests import Request
from starlette.routing import Route

from .contract import endpoint, iso, now_iso, plain
from .data import DataView, number
from .flows import flow_statistics, flow_summary, flows_of, performance
from .topology import network_document, statistics, topology_document


@endpoint
async def topology(request: Request) -> dict[str, Any]:
    """The latest topology with links, counts and network metrics (source=all|gns3|sdn, format=detailed|summary)."""
    view, params = DataView.of(request), Params.of(request)
    source = params.choice("source", options=("all", "gns3", "sdn"), default="all")
    include_metrics = params.flag("include_metrics", default=True)
    form = params.choice("format", options=("detailed", "summary"), default="detailed")
    data, metric, snapshot = await network_document(view)
    topo = data["topology"]
    counts = {**statistics(topo), "gns3_links": 0, "sdn_links": len(topo["links"])}
    have_data = metric is not None or snapshot is not None
    experiment = view.agent.context.experiment
    project = (
        {"name": experiment or "flcollector", "id": experiment or "unknown", "status": data["sdn_status"]}
        if have_data
        else {"name": "no_project", "id": "unknown", "status": "disconnected"}
    )
    now = now_iso()
    if form == "summary":
        return {
            "summary": counts,
            "timestamp": data["timestamp"],
            "status": {
                "gns3_connected": False,
                "sdn_connected": data["sdn_status"] == "connected",
                "project_name": project["name"],
            },
        }
    body: dict[str, Any] = {
        "timestamp": data["timestamp"],
        "collection_time": now,
        "project_info": project,
        "nodes": topo["nodes"] if source in ("all", "gns3") else [],
        "links": topo["links"],
        "switches": topo["switches"] if source in ("all", "sdn") else [],
        "hosts": topo["hosts"] if source in ("all", "sdn") else [],
        "statistics": counts,
        "source": "latest_snapshot" if have_data else "no_data",
    }
    if include_metrics:
        perf = data["performance_metrics"]
        fields = metric.fields if metric is not None else {}
        body["metrics"] = {
            "sdn_status": data["sdn_status"],
            "switches_count": data["switches_count"],
            "hosts_count": data["hosts_count"],
            "links_count": data["links_count"],
            "total_flows": perf["flows"]["total"],
            "total_ports": sum(len(s.get("ports", [])) for s in topo["switches"]),
            "avg_latency_ms": perf["latency"]["average_ms"],
            "packet_loss_percent": data["packet_loss_percent"],
            "bandwidth_total_mbps": perf["bandwidth"]["total_mbps"],
            "bandwidth_utilization_percent": number(fields.get("bandwidth_utilization_percent")),
        }
    if not have_data:
        body["message"] = "No topology collected yet"
    return body


@endpoint
async def topology_live(request: Request) -> dict[str, Any]:
    """The latest topology snapshot (switches with ports, hosts, links) as the dashboard's live view wants it."""
    snapshot = await DataView.of(request).latest_event("TOPOLOGY_SNAPSHOT")
    topo = topology_document(snapshot)
    body: dict[str, Any] = {
        "topology": topo,
        "timestamp": topo["timestamp"] or now_iso(),
        "source": "latest_snapshot" if snapshot is not None else "no_data",
        "statistics": statistics(topo),
    }
    if snapshot is None:
        body["message"] = "No topology snapshot collected yet"
    else:
        body["snapshot_age_s"] = max(0.0, (now_ns() - snapshot.time_ns) / 1e9)
    return body


@endpoint
async def flows(request: Request) -> dict[str, Any]:
    """Every flow entry of the latest flow snapshot, with a summary by switch, priority and table."""
    view = DataView.of(request)
    snapshot = await view.latest_event("FLOW_SNAPSHOT")
    if snapshot is None:
        return {"flows": [], "summary": flow_summary([]), "timestamp": now_iso(), "source": "no_data"}
    return view.derived("flows", (snapshot,), lambda: _flows_body(snapshot))


def _flows_body(snapshot: Event) -> dict[str, Any]:
    """The ``/api/network/flows`` body of a flow snapshot (nothing in it but the snapshot: kept per snapshot)."""
    items = flows_of(plain(snapshot.details))
    stamp = iso(snapshot.time_ns)
    return {"flows": items, "summary": flow_summary(items), "timestamp": stamp, "source": "latest_snapshot"}


@endpoint
async def flow_stats(request: Request) -> dict[str, Any]:
    """Flow statistics per switch with activity and efficiency figures, from the latest flow snapshot."""
    view = DataView.of(request)
    snapshot = await view.latest_event("FLOW_SNAPSHOT")
    if snapshot is None:
        return _flow_stats_body([], now_iso(), "no_data")
    return view.derived("flow_stats", (snapshot,), lambda: _flow_stats_of(snapshot))


def _flow_stats_of(snapshot: Event) -> dict[str, Any]:
    """The ``/api/flows/statistics`` body of a flow snapshot (kept per snapshot, like the flows')."""
    return _flow_stats_body(flows_of(plain(snapshot.details)), iso(snapshot.time_ns), "latest_snapshot")


def _flow_stats_body(items: list[dict[str, Any]], stamp: str, source: str) -> dict[str, Any]:
    stats, utilization = flow_statistics(items)
    return {
        "flow_statistics": stats,
        "utilization_metrics": utilization,
        "collection_timestamp": stamp,
        "timestamp": stamp,
        "source": source,
    }


@endpoint
async def performance_metrics(request: Request) -> dict[str, Any]:
    """Bandwidth, latency, flows, ports, totals, rates and a computed network health score."""
    view = DataView.of(request)
    event = await view.latest_event("PERFORMANCE_SNAPSHOT")
    metric = await view.latest_metric("network")
    body = performance(plain(event.details) if event is not None else {}, metric)
    newest = max((r.time_ns for r in (event, metric) if r is not None), default=None)
    stamp = iso(newest) if newest is not None else now_iso()
    body.update(
        timestamp=stamp, collection_timestamp=stamp, source="latest_snapshot" if newest is not None else "no_data"
    )
    return body


ROUTES = [
    Route("/api/network/topology", topology, methods=["GET"]),
    Route("/api/network/topology/live", topology_live, methods=["GET"]),
    Route("/api/network/flows", flows, methods=["GET"]),
    Route("/api/flows/statistics", flow_stats, methods=["GET"]),
    Route("/api/performance/metrics", performance_metrics, methods=["GET"]),
]
