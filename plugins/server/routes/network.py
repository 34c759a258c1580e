"""``GET /api/v1/network/metrics``: topology counts, latency, bandwidth, loss, flow-table use and QoS counts.

Answered from the stored ``network``, ``sdn_port`` and ``probe_tcp`` metrics and the latest ``FLOW_SNAPSHOT`` and
``TOPOLOGY_SNAPSHOT`` events; a figure nobody measures is ``null``, never invented.
"""

from __future__ import annotations

from flcollector import Metric, MetricQuery, now_ns
from starlette.requests import Request
from starlette.routing import Route

from .. import summaries as s
from ..jsonio import JSONResponse, iso
from ..params import Params
from ..state import state_of

LATENCY = ("rtt_avg_ms", "latency_avg_ms", "latency_ms")


async def network_metrics(request: Request) -> JSONResponse:
    """Topology counts, latency, bandwidth, loss, flow-table use, traffic split and QoS counts over ``timeframe``."""
    server = state_of(request)
    params = Params.of(request)
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


ROUTES = [Route("/api/v1/network/metrics", network_metrics, methods=["GET"])]
