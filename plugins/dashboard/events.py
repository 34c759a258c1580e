"""``/api/events`` and ``/api/events/summary`` (upstream #10, #11).

Upstream ignored ``since_id`` (the dashboard's live event feed got the same newest 50 every 5 s), had no cap on
``limit``, and counted ``total`` without the time filters. Here ``since_id`` returns exactly the events with a larger
id, oldest first, so the dashboard's cursor walks forward without gaps or repeats.
"""

from __future__ import annotations

from typing import Any

import trio
from flcollector import LEVELS, EventQuery, component_name
from flcollector.plugins.server.pages import Page
from flcollector.plugins.server.params import ParamError, Params
from starlette.requests import Request
from starlette.routing import Route

from .contract import endpoint, limit, listing, now_iso, source_filter
from .data import DataView

MAX_EVENTS_LIMIT = 1000
_ALL_EVENTS = EventQuery()


def event_filter(params: Params) -> dict[str, Any]:
    """The filters shared by ``/api/events`` and its summary, as :class:`EventQuery` keyword arguments."""
    levels = listing(params, "event_level", "level")
    if levels is not None:
        levels = [level.upper() for level in levels]
        for level in levels:
            if level not in LEVELS:
                name = "event_level" if params.text("event_level") else "level"
                raise ParamError(name, f"expected levels among {', '.join(LEVELS)}, got {level!r}")
    return {
        "source": source_filter(params, "source_component", "component"),
        "types": listing(params, "event_type", "type"),
        "levels": levels,
        "experiment": params.text("experiment"),
        "round": params.integer("round", low=0),
        "start_ns": params.time("start_time", "start"),
        "end_ns": params.time("end_time", "end"),
    }


@endpoint
async def list_events(request: Request) -> dict[str, Any]:
    """Stored events, newest first; with ``since_id`` only newer ids, oldest first (the live cursor)."""
    view, params = DataView.of(request), Params.of(request)
    since_id = params.integer("since_id", low=0)
    count = limit(params, 100, MAX_EVENTS_LIMIT)
    offset = params.integer("offset", default=0, low=0) or 0
    query = EventQuery(
        since_id=since_id,
        limit=count,
        offset=offset,
        order="asc" if since_id is not None else "desc",
        sort="id" if since_id is not None else "time",  # the dashboard shows a page newest first by time
        **event_filter(params),
    )
    page = await view.event_rows(query) if count else Page([], 0)
    total = await view.count_events(query)
    return {
        "events": page.rows,
        "total": total,
        "limit": count,
        "offset": offset,
        "count": page.count,
        "since_id": since_id,
        "latest_id": page.max_id if page.max_id is not None else since_id,
    }


@endpoint
async def summary(request: Request) -> dict[str, Any]:
    """Event counts in total and by level (upper-case), component and type, over the matching events."""
    view, params = DataView.of(request), Params.of(request)
    params.integer("summary_limit", low=1)  # upstream sampled; these counts are exact
    query = EventQuery(**event_filter(params))
    memo = view.summary_memo
    # The overview polls the unfiltered summary every few seconds: reuse its counts until the events change.
    version = await view.store_version() if query == _ALL_EVENTS else None
    if version is not None and version == memo.get("version"):
        counts = memo["counts"]
    else:
        counts = {}

        async def count(by: Any) -> None:
            counts[by] = await view.event_counts(query, by)

        # Run the three groupings side by side on the store's readers.
        async with trio.open_nursery() as nursery:
            for by in ("level", "source", "type"):
                nursery.start_soon(count, by)
        if version is not None:
            memo.update(version=version, counts=counts)
    by_level = {level: 0 for level in LEVELS}
    by_level.update({k.upper(): v for k, v in counts["level"].items()})
    by_component: dict[str, int] = {}
    for source, n in counts["source"].items():  # keyed by FLOPY-NET's component names, as upstream's rows are
        component = component_name(source)
        by_component[component] = by_component.get(component, 0) + n
    by_type = counts["type"]
    total = sum(counts["level"].values())  # every event has exactly one level
    return {
        "total": total,
        "by_level": by_level,
        "by_event_level": by_level,
        "by_component": by_component,
        "by_source_component": by_component,
        "by_type": by_type,
        "by_event_type": by_type,
        "timestamp": now_iso(),
    }


ROUTES = [
    Route("/api/events", list_events, methods=["GET"]),
    Route("/api/events/summary", summary, methods=["GET"]),
]
