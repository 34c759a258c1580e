"""``/api/metrics``, ``/api/metrics/latest``, ``/status`` and the ``/api/`` docs JSON (upstream #2, #3, #5, #6)."""

from __future__ import annotations

from typing import Any

from flcollector import MetricQuery
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from .contract import Params, endpoint, iso
from .data import DataView, metric_item
from .fl_status import fl_server_latest
from .topology import network_latest

#: Upstream capped ``/api/metrics`` at 1000 rows per page; larger limits are clamped.
MAX_METRICS_LIMIT = 1000


def metrics_routes(view: DataView) -> list[BaseRoute]:
    """Return the generic metric routes, answering from ``view``."""

    @endpoint
    async def list_metrics(request: Request) -> dict[str, Any]:
        """Stored metrics, newest first: filter by type, component, time, round; paginate with limit/offset."""
        params = Params(request)
        name = params.text(["type", "metric_type", "name"])
        limit = params.integer("limit", 100, minimum=0, clamp=MAX_METRICS_LIMIT)
        offset = params.integer("offset", 0, minimum=0)
        assert limit is not None and offset is not None
        sort_desc = params.flag("sort_desc", True)
        params.text("sort_by")  # read and ignored upstream; always by time here too
        query = MetricQuery(
            names=[name] if name else None,
            source=params.text(["source_component", "component", "source"]),
            experiment=params.text("experiment"),
            round=params.integer("round", minimum=0),
            start_ns=params.time(["start", "start_time"]),
            end_ns=params.time(["end", "end_time"]),
            limit=limit,
            offset=offset,
            order="desc" if sort_desc else "asc",
        )
        rows = await view.metrics(query) if limit else []
        total = await view.count_metrics(query)  # unlike upstream, the time filters count too
        return {
            "status": "success",
            "count": len(rows),
            "offset": offset,
            "limit": limit,
            "total": total,
            "metrics": [metric_item(m) for m in rows],
        }

    @endpoint
    async def latest_metric(request: Request) -> dict[str, Any]:
        """The newest metric of a type (``fl_server``, ``network`` in upstream's shapes); HEAD is the probe."""
        name = Params(request).text(["type", "metric_type"])
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
            return {"status": "success", "timestamp": iso(None), "message": "No metrics found", "metrics": {}}
        return {"status": "success", "timestamp": iso(None), "metrics": metric_item(metric)}

    return [
        Route("/api/metrics", list_metrics, methods=["GET"]),
        Route("/api/metrics/latest", latest_metric, methods=["GET"]),
    ]


def service_routes(agent: Any) -> list[BaseRoute]:
    """Return ``/status`` and the ``/api/`` docs JSON."""

    @endpoint
    async def status(request: Request) -> dict[str, Any]:
        """The collector's configuration: port, storage dir, monitor intervals and source URLs."""
        return collector_status(agent)

    @endpoint
    async def api_docs(request: Request) -> dict[str, Any]:
        """This list: every route of the app with its methods and a one-line description."""
        endpoints = []
        for route in request.app.routes:
            path = getattr(route, "path", None)
            if path is None:
                continue
            doc = (getattr(getattr(route, "endpoint", None), "__doc__", None) or "").strip()
            methods = sorted(getattr(route, "methods", None) or ["WEBSOCKET"])
            endpoints.append({"path": path, "methods": methods, "description": doc.splitlines()[0] if doc else ""})
        return {
            "name": "flcollector (FLOPY-NET Collector API)",
            "version": getattr(agent, "version", None),
            "timestamp": iso(None),
            "endpoints": endpoints,
        }

    return [Route("/status", status, methods=["GET"]), Route("/api/", api_docs, methods=["GET"])]


#: Our monitor names -> upstream's interval and URL keys.
_UPSTREAM_NAMES = {"policy": "policy", "fl": "fl", "sdn": "network", "events": "event"}
_URL_KEYS = {"policy": "policy_engine", "fl": "fl_server", "sdn": "sdn_controller"}


def collector_status(agent: Any) -> dict[str, Any]:
    """Build upstream's ``/status`` body from the agent's resolved config."""
    config = getattr(agent, "config", None)
    settings = getattr(agent, "settings", None)
    default_interval = float(getattr(settings, "interval", 0) or 0) or None
    intervals: dict[str, float | None] = {f"{key}_sec": None for key in _UPSTREAM_NAMES.values()}
    urls: dict[str, str | None] = {key: None for key in _URL_KEYS.values()}
    api_port = None
    if config is not None:
        for cfg in config.of_kind("monitor"):
            if cfg.component in _UPSTREAM_NAMES:
                interval = getattr(cfg.common, "interval", None)
                key = f"{_UPSTREAM_NAMES[cfg.component]}_sec"
                intervals.setdefault(key, None)
                if intervals[key] is None:
                    intervals[key] = float(interval) if interval is not None else default_interval
            if cfg.component in _URL_KEYS and urls[_URL_KEYS[cfg.component]] is None:
                urls[_URL_KEYS[cfg.component]] = getattr(cfg.options, "url", None)
        for cfg in config.of_kind("listener"):
            if cfg.component == "server":
                api_port = getattr(cfg.options, "port", None)
    context = getattr(agent, "context", None)
    return {
        "collector_running": True,
        "api_port": api_port,
        "storage_dir": str(getattr(agent, "data_dir", "")),
        "training_mode": "production",
        "intervals": intervals,
        "urls": urls,
        "version": getattr(agent, "version", None),
        "experiment": getattr(context, "experiment", None),
        "round": getattr(context, "round", None),
        "phase": getattr(context, "phase", None),
        "timestamp": iso(None),
    }
