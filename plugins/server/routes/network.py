"""``GET /api/v1/network/metrics``: topology counts, latency, bandwidth, loss, flow-table use, traffic and QoS.

The window's figures are aggregated by the store (``flcollector.summarize``: in SQL for ``sqlite``) over the
``network``, ``probe_tcp`` and ``sdn_traffic`` metrics, so a window of any length is read whole; the topology and
the flows are the newest ``network`` metric and the latest ``FLOW_SNAPSHOT`` and ``TOPOLOGY_SNAPSHOT``. A figure
nobody measures is ``null``, never invented.
"""

from __future__ import annotations

from typing import Any

from flcollector import FieldStats, MetricQuery, now_ns, summarize
from starlette.requests import Request
from starlette.routing import Route

from .. import summaries as s
from ..jsonio import JSONResponse, iso
from ..params import Params
from ..state import state_of

LATENCY = ("rtt_avg_ms", "latency_avg_ms", "latency_ms")
WINDOW_METRICS = ("network", "probe_tcp", "sdn_traffic")
WINDOW_FIELDS = (
    *LATENCY,
    "loss_percent",
    "packet_loss_percent",
    "bandwidth_total_mbps",
    *(f"{kind}_bytes" for kind in s.TRAFFIC_CLASSES),
)


def _mean(stats: FieldStats | None, scale: float = 1.0) -> float | None:
    return None if stats is None else stats.mean * scale


async def network_metrics(request: Request) -> JSONResponse:
    """Topology counts, latency, bandwidth, loss, flow-table use, traffic split and QoS counts over ``timeframe``."""
    server = state_of(request)
    params = Params.of(request)
    seconds = params.duration("timeframe", default=3600.0)
    timeframe = params.text("timeframe") or "1h"
    store = server.store
    window = MetricQuery(names=list(WINDOW_METRICS), start_ns=now_ns() - int(seconds * 1e9))
    summaries = await summarize(store, window, WINDOW_FIELDS, server.options.max_limit)
    latest = await store.latest_metrics(names=["network"])
    newest = max(latest, key=lambda m: m.time_ns, default=None)
    fields = newest.fields if newest is not None else {}
    flow_snapshot = await store.latest_event("FLOW_SNAPSHOT")
    topology_snapshot = await store.latest_event("TOPOLOGY_SNAPSHOT")
    flows = flow_snapshot.details.get("flows", []) if flow_snapshot is not None else []
    latency = s.combined(summaries, "probe_tcp", LATENCY) or s.combined(summaries, "network", LATENCY)
    loss = s.combined(summaries, "probe_tcp", ("loss_percent",)) or s.combined(
        summaries, "network", ("packet_loss_percent",)
    )
    bandwidth = s.combined(summaries, "network", ("bandwidth_total_mbps",))
    body: dict[str, Any] = {
        "timeframe": timeframe,
        "topology": {
            "devices": s.pick(fields, s.DEVICES),
            "hosts": s.pick(fields, s.HOSTS),
            "links": s.pick(fields, s.LINKS),
            "last_change": iso(topology_snapshot.time_ns if topology_snapshot is not None else None),
        },
        "performance": {
            "average_latency_ms": _mean(latency),
            "peak_bandwidth_mbps": bandwidth.max if bandwidth is not None else None,
            "packet_loss_rate": _mean(loss, 0.01),  # percent -> fraction
            "flow_table_utilization": s.pick(fields, ("flow_table_utilization",)),  # needs table sizes: no monitor
            "active_flows": s.pick(fields, ("flows_active",)),
        },
        "traffic_analysis": s.traffic_shares(summaries),
        "qos_metrics": s.qos_counts(flows) if flow_snapshot is not None else dict.fromkeys(s.QOS_KEYS),
        "samples": s.samples(summaries, WINDOW_METRICS),
    }
    return JSONResponse(body)


ROUTES = [Route("/api/v1/network/metrics", network_metrics, methods=["GET"])]
