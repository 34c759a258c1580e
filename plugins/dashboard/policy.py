"""``/api/policy/decisions`` (upstream #12): the stored ``POLICY_DECISION`` events, never the policy engine.

Upstream proxied the engine's ``/api/v1/policy_decisions`` on the request path; here the decisions the ``policy``
monitor stored are filtered by ``policy_id``, ``component``, ``result`` and time.
"""

from __future__ import annotations

from typing import Any

from flcollector import Event, EventQuery
from flcollector.plugins.server.params import ParamError, Params
from starlette.requests import Request
from starlette.routing import Route

from .contract import endpoint, iso, limit, plain
from .data import DataView

MAX_DECISIONS_LIMIT = 10_000
#: How many decisions a filtered request reads at most before filtering.
DECISION_SCAN = 20_000


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
    raise ParamError("result", f"expected true/allow or false/deny, got {raw!r}")


def _allowed(details: dict[str, Any]) -> bool | None:
    result = details.get("result", details.get("allowed"))
    if isinstance(result, bool):
        return result
    word = str(details.get("decision", "")).lower()
    return True if word in ("allow", "allowed", "permit") else False if word in ("deny", "denied") else None


@endpoint
async def decisions(request: Request) -> list[dict[str, Any]]:
    """Policy decisions (a JSON list, newest first), filtered by policy_id, component, result and time."""
    view, params = DataView.of(request), Params.of(request)
    count = limit(params, 500, MAX_DECISIONS_LIMIT, low=1)
    policy_id, component, result = params.text("policy_id"), params.text("component"), _result_param(params)
    filtered = policy_id is not None or component is not None or result is not None
    query = EventQuery(
        types=["POLICY_DECISION"],
        order="desc",
        limit=DECISION_SCAN if filtered else count,
        start_ns=params.time("start_time", "start"),
        end_ns=params.time("end_time", "end"),
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
        if len(items) >= count:
            break
    return items


ROUTES = [Route("/api/policy/decisions", decisions, methods=["GET"])]
