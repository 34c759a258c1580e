"""``GET /api/v1/events``: every stored event by id, with filters; ``since_id`` walks forward as a cursor."""

from __future__ import annotations

from flcollector import EventQuery
from starlette.requests import Request
from starlette.routing import Route

from ..jsonio import JSONResponse, record_json
from ..pages import event_page
from ..params import Params, listing_query
from ..state import state_of


def event_query(params: Params, max_limit: int) -> EventQuery:
    """Build an :class:`EventQuery` from ``since_id, type, level, source, experiment, round, from, to, ...``."""
    return EventQuery(
        since_id=params.integer("since_id", low=0),
        types=params.listing("type", "types", "event_type"),
        source=params.text("source", "source_component", "component"),
        levels=params.levels("level", "levels", "event_level"),
        **listing_query(params, max_limit, default_order="asc"),
    )


async def list_events(request: Request) -> JSONResponse:
    """Stored events matching the filters, by id (``since_id`` returns only newer ones); ``last_id`` is the cursor."""
    server = state_of(request)
    params = Params.of(request)
    query = event_query(params, server.options.max_limit)
    with_total = params.flag("total", default=False)
    store = server.store
    page = await event_page(store, query, "record", record_json)
    body: dict[str, object] = {
        "events": page.rows,
        "count": page.count,
        "limit": query.limit,
        "offset": query.offset,
        "last_id": page.max_id if page.max_id is not None else query.since_id,
    }
    if with_total:
        body["total"] = await store.count_events(query)
    return JSONResponse(body)


ROUTES = [Route("/api/v1/events", list_events, methods=["GET"])]
