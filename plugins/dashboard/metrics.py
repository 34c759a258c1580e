"""``/api/metrics`` and ``/api/metrics/latest`` (upstream #5, #6): stored metrics in upstream's row shape.

``/api/metrics/latest?type=network`` and ``?type=fl_server`` answer upstream's documents for those types (built in
``topology.py`` and ``fl_status.py``); ``HEAD /api/metrics/latest`` is the dashboard's start-up probe.
"""

from __future__ import annotations

from typing import Any

from flcollector import MetricQuery
from flcollector.plugins.server.pages import Page
from flcollector.plugins.server.params import Params
from starlette.requests import Request
from starlette.routing import Route

from .contract import endpoint, limit, metric_item, now_iso, source_filter
from .data import DataView
from .fl_status import fl_server_latest
from .topology import network_latest

#: Upstream capped ``/api/metrics`` at 1000 rows per page; larger limits are clamped.
MAX_METRICS_LIMIT = 1000


@endpoint
async def list_metrics(request: Request) -> dict[str, Any]:
    """Stored metrics, newest first: filter by type, component, time, round; paginate with limit/offset."""
    view, params = DataView.of(request), Params.of(request)
    name = params.text("type", "metric_type", "name")
    count = limit(params, 100, MAX_METRICS_LIMIT)
    offset = params.integer("offset", default=0, low=0) or 0
    sort_desc = params.flag("sort_desc", default=True)
    params.text("sort_by")  # read and ignored upstream; always by time here too
    query = MetricQuery(
        names=[name] if name else None,
        source=source_filter(params, "source_component", "component", "source"),
        experiment=params.text("experiment"),
        round=params.integer("round", low=0),
        start_ns=params.time("start", "start_time"),
        end_ns=params.time("end", "end_time"),
        limit=count,
        offset=offset,
        order="desc" if sort_desc else "asc",
    )
    page = await view.metric_rows(query) if count else Page([], 0)
    total = await view.count_metrics(query)  # unlike upstream, the time filters count too
    return {
        "status": "success",
        "count": page.count,
        "offset": offset,
        "limit": count,
        "total": total,
        "metrics": page.rows,
    }


@endpoint
async def latest_metric(request: Request) -> dict[str, Any]:
    """The newest metric of a type (``fl_server``, ``network`` in upstream's shapes); HEAD is the probe."""
    view, name = DataView.of(request), Params.of(request).text("type", "metric_type")
    if name == "network":
        return await network_latest(view)
    if name == "fl_server":
        return await fl_server_latest(view)
    if name:
        metric = await view.latest_metric(name)
    else:
        rows = await view.metrics(MetricQuery(limit=1, order="desc"))
        metric = rows[0] if rows else None
    if metric is None:
        return {"status": "success", "timestamp": now_iso(), "message": "No metrics found", "metrics": {}}
    return {"status": "success", "timestamp": now_iso(), "metrics": metric_item(metric)}


ROUTES = [
    Route("/api/metrics", list_metrics, methods=["GET"]),
    Route("/api/metrics/latest", latest_metric, methods=["GET"]),
]
