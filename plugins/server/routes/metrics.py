"""``GET /api/v1/metrics`` and ``GET /api/v1/events``: read everything stored, with filters and paging."""

from __future__ import annotations

from flcollector import EventQuery, MetricQuery
from starlette.requests import Request
from starlette.routing import Route

from ..jsonio import JSONResponse, record_json
from ..params import Params
from ..state import state_of

MAX_OFFSET = 100_000_000


def params_of(request: Request) -> Params:
    """Return the typed query parameters of ``request``."""
    return Params(request.query_params, request.query_params.multi_items())


def metric_query(params: Params, max_limit: int) -> MetricQuery:
    """Build a :class:`MetricQuery` from ``name, prefix, from, to, tag.<k>, experiment, round, source, ...``."""
    return MetricQuery(
        names=params.listing("name", "names"),
        name_prefix=params.text("prefix", "name_prefix"),
        source=params.text("source"),
        experiment=params.text("experiment", "experiment_id"),
        round=params.integer("round", low=0),
        min_round=params.integer("min_round", low=0),
        max_round=params.integer("max_round", low=0),
        start_ns=params.time("from", "start", "start_time"),
        end_ns=params.time("to", "end", "end_time"),
        tags=params.tags(),
        limit=params.integer("limit", default=100, low=1, high=max_limit) or 100,
        offset=params.integer("offset", default=0, low=0, high=MAX_OFFSET) or 0,
        order="asc" if params.choice("order", options=("asc", "desc"), default="desc") == "asc" else "desc",
    )


def event_query(params: Params, max_limit: int) -> EventQuery:
    """Build an :class:`EventQuery` from ``since_id, type, level, source, experiment, round, from, to, ...``."""
    return EventQuery(
        since_id=params.integer("since_id", low=0),
        types=params.listing("type", "types", "event_type"),
        source=params.text("source", "source_component", "component"),
        levels=params.levels("level", "levels", "event_level"),
        experiment=params.text("experiment", "experiment_id"),
        round=params.integer("round", low=0),
        start_ns=params.time("from", "start", "start_time"),
        end_ns=params.time("to", "end", "end_time"),
        limit=params.integer("limit", default=100, low=1, high=max_limit) or 100,
        offset=params.integer("offset", default=0, low=0, high=MAX_OFFSET) or 0,
        order="desc" if params.choice("order", options=("asc", "desc"), default="asc") == "desc" else "asc",
    )


async def list_metrics(request: Request) -> JSONResponse:
    """Stored metrics matching the filters (newest first unless ``order=asc``); ``total=true`` adds the count."""
    server = state_of(request)
    params = params_of(request)
    query = metric_query(params, server.options.max_limit)
    with_total = params.flag("total", default=False)
    store = server.store
    metrics = await store.query_metrics(query)
    body: dict[str, object] = {
        "metrics": [record_json(m) for m in metrics],
        "count": len(metrics),
        "limit": query.limit,
        "offset": query.offset,
    }
    if with_total:
        body["total"] = await store.count_metrics(query)
    return JSONResponse(body)


async def list_events(request: Request) -> JSONResponse:
    """Stored events matching the filters, by id (``since_id`` returns only newer ones); ``last_id`` is the cursor."""
    server = state_of(request)
    params = params_of(request)
    query = event_query(params, server.options.max_limit)
    with_total = params.flag("total", default=False)
    store = server.store
    events = await store.query_events(query)
    ids = [e.id for e in events if e.id is not None]
    body: dict[str, object] = {
        "events": [record_json(e) for e in events],
        "count": len(events),
        "limit": query.limit,
        "offset": query.offset,
        "last_id": max(ids) if ids else query.since_id,
    }
    if with_total:
        body["total"] = await store.count_events(query)
    return JSONResponse(body)


async def metric_names(request: Request) -> JSONResponse:
    """Every metric name stored."""
    return JSONResponse({"names": await state_of(request).store.metric_names()})


def routes() -> list[Route]:
    """The query routes."""
    return [
        Route("/api/v1/metrics", list_metrics, methods=["GET"]),
        Route("/api/v1/metrics/names", metric_names, methods=["GET"]),
        Route("/api/v1/events", list_events, methods=["GET"]),
    ]
