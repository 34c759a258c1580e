"""``GET /api/v1/metrics`` and ``GET /api/v1/metrics/names``: every stored metric, with filters and paging."""

from __future__ import annotations

from flcollector import MetricQuery
from starlette.requests import Request
from starlette.routing import Route

from ..jsonio import JSONResponse, record_json
from ..pages import metric_page
from ..params import Params, listing_query
from ..state import state_of


def metric_query(params: Params, max_limit: int) -> MetricQuery:
    """Build a :class:`MetricQuery` from ``name, prefix, from, to, tag.<k>, experiment, round, source, ...``."""
    return MetricQuery(
        names=params.listing("name", "names"),
        name_prefix=params.text("prefix", "name_prefix"),
        source=params.text("source"),
        min_round=params.integer("min_round", low=0),
        max_round=params.integer("max_round", low=0),
        tags=params.tags(),
        **listing_query(params, max_limit, default_order="desc"),
    )


async def list_metrics(request: Request) -> JSONResponse:
    """Stored metrics matching the filters (newest first unless ``order=asc``); ``total=true`` adds the count."""
    server = state_of(request)
    params = Params.of(request)
    query = metric_query(params, server.options.max_limit)
    with_total = params.flag("total", default=False)
    store = server.store
    page = await metric_page(store, query, "record", record_json)
    body: dict[str, object] = {
        "metrics": page.rows,
        "count": page.count,
        "limit": query.limit,
        "offset": query.offset,
    }
    if with_total:
        body["total"] = await store.count_metrics(query)
    return JSONResponse(body)


async def metric_names(request: Request) -> JSONResponse:
    """Every metric name stored."""
    return JSONResponse({"names": await state_of(request).store.metric_names()})


ROUTES = [
    Route("/api/v1/metrics", list_metrics, methods=["GET"]),
    Route("/api/v1/metrics/names", metric_names, methods=["GET"]),
]
