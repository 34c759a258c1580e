"""``/api/events``, ``/api/events/summary`` and ``/api/policy/decisions`` (upstream #10-#12).

Upstream ignored ``since_id`` (the dashboard's live event feed got the same newest 50 every 5 s), had no cap on
``limit``, and counted ``total`` without the time filters. Here ``since_id`` returns exactly the events with a larger
id, oldest first, so the dashboard's cursor walks forward without gaps or repeats.
"""

from __future__ import annotations

from typing import Any

import trio
from flcollector import LEVELS, Event, EventQuery
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from .contract import ParamError, Params, endpoint, iso
from .data import DataView, event_item, plain

MAX_EVENTS_LIMIT = 1000
_ALL_EVENTS = EventQuery()
MAX_DECISIONS_LIMIT = 10_000
#: How many decisions a filtered ``/api/policy/decisions`` request reads at most before filtering.
DECISION_SCAN = 20_000


def _unless_all(value: str | None) -> str | None:
    """A filter value, with ``all``/``*`` (a UI's "no filter" choice) meaning no filter."""
    return None if value is None or value.lower() in ("all", "*") else value


def _listing(params: Params, names: list[str]) -> list[str] | None:
    raw = _unless_all(params.text(names))
    items = [item.strip() for item in raw.split(",") if item.strip()] if raw else []
    return items or None


def event_filter(params: Params) -> dict[str, Any]:
    """The filters shared by ``/api/events`` and its summary, as :class:`EventQuery` keyword arguments."""
    levels = _listing(params, ["event_level", "level"])
    if levels is not None:
        levels = [level.upper() for level in levels]
        if levels == ["ALL"]:
            levels = None
        else:
            for level in levels:
                if level not in LEVELS:
                    name = "event_level" if params.text("event_level") else "level"
                    raise ParamError(name, f"{name} must be among {', '.join(LEVELS)}; got {level!r}")
    return {
        "source": _unless_all(params.text(["source_component", "component"])),
        "types": _listing(params, ["event_type", "type"]),
        "levels": levels,
        "experiment": params.text("experiment"),
        "round": params.integer("round", minimum=0),
        "start_ns": params.time(["start_time", "start"]),
        "end_ns": params.time(["end_time", "end"]),
    }


def _decision_item(event: Event) -> dict[str, Any]:
    details = plain(event.details)
    return {
        **details,
        "id": details.get("id", str(event.id)),
        "event_id": event.id,
        "timestamp": iso(event.time_ns),
        "component": details.get("component", "unknown"),
    }


def _result_param(params: Params) -> bool | None:
    raw = params.text("result")
    if raw is None:
        return None
    lowered = raw.lower()
    if lowered in ("true", "1", "allow", "allowed", "yes"):
        return True
    if lowered in ("false", "0", "deny", "denied", "no"):
        return False
    raise ParamError("result", f"result must be true/allow or false/deny; got {raw!r}")


def _allowed(details: dict[str, Any]) -> bool | None:
    result = details.get("result", details.get("allowed"))
    if isinstance(result, bool):
        return result
    word = str(details.get("decision", "")).lower()
    return True if word in ("allow", "allowed", "permit") else False if word in ("deny", "denied") else None


def events_routes(view: DataView) -> list[BaseRoute]:
    """Return the event routes."""
    summary_memo: dict[str, Any] = {}  # the unfiltered summary's counts and the store version they were read at

    @endpoint
    async def list_events(request: Request) -> dict[str, Any]:
        """Stored events, newest first; with ``since_id`` only newer ids, oldest first (the live cursor)."""
        params = Params(request)
        since_id = params.integer("since_id", minimum=0)
        limit = params.integer("limit", 100, minimum=0, clamp=MAX_EVENTS_LIMIT)
        offset = params.integer("offset", 0, minimum=0)
        assert limit is not None and offset is not None
        query = EventQuery(
            since_id=since_id,
            limit=limit,
            offset=offset,
            order="asc" if since_id is not None else "desc",
            **event_filter(params),
        )
        rows = await view.events(query) if limit else []
        total = await view.count_events(query)
        items = [event_item(e) for e in rows]
        ids = [e.id for e in rows if e.id is not None]
        return {
            "events": items,
            "total": total,
            "limit": limit,
            "offset": offset,
            "count": len(items),
            "since_id": since_id,
            "latest_id": max(ids) if ids else since_id,
        }

    @endpoint
    async def summary(request: Request) -> dict[str, Any]:
        """Event counts in total and by level (upper-case), component and type, over the matching events."""
        params = Params(request)
        params.integer("summary_limit", minimum=1)  # upstream sampled; these counts are exact
        query = EventQuery(**event_filter(params))
        # The overview polls the unfiltered summary every few seconds: reuse its counts until the events change.
        version = await view.store_version() if query == _ALL_EVENTS else None
        if version is not None and version == summary_memo.get("version"):
            counts = summary_memo["counts"]
        else:
            counts = {}

            async def count(by: str) -> None:
                counts[by] = await view.event_counts(query, by)

            # Run the three groupings side by side on the store's readers.
            async with trio.open_nursery() as nursery:
                for by in ("level", "source", "type"):
                    nursery.start_soon(count, by)
            if version is not None:
                summary_memo.update(version=version, counts=counts)
        by_level = {level: 0 for level in LEVELS}
        by_level.update({k.upper(): v for k, v in counts["level"].items()})
        by_component, by_type = counts["source"], counts["type"]
        total = sum(counts["level"].values())  # every event has exactly one level
        return {
            "total": total,
            "by_level": by_level,
            "by_event_level": by_level,
            "by_component": by_component,
            "by_source_component": by_component,
            "by_type": by_type,
            "by_event_type": by_type,
            "timestamp": iso(None),
        }

    @endpoint
    async def decisions(request: Request) -> list[dict[str, Any]]:
        """Policy decisions (a JSON list, newest first), filtered by policy_id, component, result and time."""
        params = Params(request)
        limit = params.integer("limit", 500, minimum=1, clamp=MAX_DECISIONS_LIMIT)
        policy_id, component, result = params.text("policy_id"), params.text("component"), _result_param(params)
        assert limit is not None
        filtered = policy_id is not None or component is not None or result is not None
        query = EventQuery(
            types=["POLICY_DECISION"],
            order="desc",
            limit=DECISION_SCAN if filtered else limit,
            start_ns=params.time(["start_time", "start"]),
            end_ns=params.time(["end_time", "end"]),
        )
        items = []
        for event in await view.events(query):
            details = plain(event.details)
            if policy_id is not None and str(details.get("policy_id")) != policy_id:
                continue
            if component is not None and details.get("component") != component:
                continue
            if result is not None and _allowed(details) is not result:
                continue
            items.append(_decision_item(event))
            if len(items) >= limit:
                break
        return items

    return [
        Route("/api/events", list_events, methods=["GET"]),
        Route("/api/events/summary", summary, methods=["GET"]),
        Route("/api/policy/decisions", decisions, methods=["GET"]),
    ]
