"""The policy monitor's requests: one coroutine per endpoint, each returning what the engine served.

None of them changes the monitor's state (the caller commits after building records), so a poll cut short is
simply repeated.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx
from flcollector import NOT_FOUND, EndpointError, SeenIds, get_json

from . import convert


async def metrics(client: httpx.AsyncClient, path: str) -> tuple[Mapping[str, Any], str]:
    """The engine's metrics object and the route that served it (``/api/v1/metrics``, else legacy ``/metrics``)."""
    body = await get_json(client, path, allow_404=True, expect=dict)
    if body is NOT_FOUND and path != "/metrics":
        path = "/metrics"  # older engines only have the legacy route
        body = await get_json(client, path, expect=dict)
    return body, path


async def decisions(
    client: httpx.AsyncClient, since: float | None, seen: SeenIds, page_size: int, max_pages: int
) -> list[Mapping[str, Any]]:
    """All decisions at or after ``since`` (epoch s; None: all the engine keeps), oldest first.

    The engine answers newest first, so this pages backwards in time (``end_time`` = the oldest timestamp so far)
    and stops once a page reaches a decision in ``seen`` (the window is covered) or brings nothing new. Page sizes
    are not trusted: an engine may cap ``limit`` below ``page_size``.
    """
    found: dict[str, Mapping[str, Any]] = {}
    end: float | None = None
    for _ in range(max_pages):
        params: dict[str, Any] = {"limit": page_size}
        if since is not None:
            params["start_time"] = since
        if end is not None:
            params["end_time"] = end
        page = await get_json(client, "/api/v1/policy_decisions", params=params)
        if not isinstance(page, list) or not all(isinstance(d, Mapping) for d in page):
            raise EndpointError("/api/v1/policy_decisions", "expected a list of decision objects")
        ids = [convert.decision_id(d) for d in page]
        progress = any(key not in found for key in ids)
        found.update(zip(ids, page, strict=True))
        if not progress or any(key in seen for key in ids):
            break
        oldest = min(convert.decision_time(d) for d in page)
        if end is not None and oldest >= end:  # a whole page shares one timestamp: cannot page further
            break
        end = oldest  # inclusive, so decisions sharing the boundary timestamp come again (dedup drops them)
    return sorted(found.values(), key=convert.decision_time)


async def events(client: httpx.AsyncClient, cursor: str | None, page_size: int, max_pages: int) -> list[Any]:
    """Engine events after ``cursor``, in order; follows full pages (a short page means we are up to date)."""
    served: list[Mapping[str, Any]] = []
    for _ in range(max_pages):
        params: dict[str, Any] = {"limit": page_size}
        if cursor:
            params["since_event_id"] = cursor
        body = await get_json(client, "/events", params=params)
        page = body.get("events") if isinstance(body, Mapping) else None
        if not isinstance(page, list) or not all(isinstance(e, Mapping) and e.get("id") for e in page):
            raise EndpointError("/events", "expected {'events': [objects with an id]}")
        served.extend(page)
        if not page or len(page) < page_size:
            break
        # our own cursor is the last event *returned*, never the engine's last_event_id (which may skip)
        cursor = str(page[-1]["id"])
    return served


async def hourly_points(client: httpx.AsyncClient) -> list[Any]:
    """The last hour of ``/api/v1/policy_metrics`` points ([] when the engine has no such route)."""
    now = time.time()
    params = {"start_time": now - 3600, "end_time": now}
    # the engine answers a bare list (upstream's collector expected {"metrics": [...]} and stored nothing)
    body = await get_json(client, "/api/v1/policy_metrics", params=params, allow_404=True, expect=list)
    return [] if body is NOT_FOUND else list(body)
