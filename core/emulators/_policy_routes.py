"""The emulated policy engine's routes: ``src/policy_engine/policy_engine_server.py`` (``get_events``) and its
blueprints ``api/metrics_routes.py`` and ``api/policy_routes.py``.

Each handler names the upstream function it reproduces, with its parsing (``int()`` of ``limit``, a 500 naming the
value; ``float()`` of the times, ignored when it fails), key names, value types and error answers (a JSON
``{"error"}`` 500 where the route catches, Werkzeug's HTML pages elsewhere). The state lives in the emulator.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from ._flask import arg, jsonify, not_found

if TYPE_CHECKING:
    from .policy_engine import PolicyEngineEmulator

Handler = Callable[["PolicyEngineEmulator", Request], Response]


def _float_or_none(value: str | None) -> float | None:
    """``float(value)`` inside upstream's ``try: ... except (ValueError, TypeError): pass``."""
    try:
        return float(value) if value else None
    except ValueError:
        return None


def health_check(emu: PolicyEngineEmulator, request: Request) -> Response:
    """``health_check``: ``{"status": "ok", "version": <policy_version>}``."""
    return jsonify({"status": "ok", "version": emu.policy_version})


def get_metrics(emu: PolicyEngineEmulator, request: Request) -> Response:
    """``get_metrics`` (``/api/v1/metrics``): counts, the checks, and the last hour of decisions. A policy without
    ``enabled`` counts as disabled here (and as enabled on ``/metrics``), as upstream."""
    hour_ago = time.time() - 3600
    recent = [d for d in emu.decisions if d.get("timestamp", 0) >= hour_ago]
    allowed = sum(1 for d in recent if d.get("result", False))
    times = [d.get("execution_time", 0) for d in recent if d.get("execution_time")]
    checks = emu.checks
    return jsonify(
        {
            "policy_count": len(emu.policies),
            "enabled_policy_count": sum(1 for p in emu.policies.values() if p.get("enabled", False)),
            "policy_version": emu.policy_version,
            "history_event_count": len(emu.policy_history),
            "function_count": 0,
            "uptime_seconds": time.time() - emu.started,
            "policy_checks_total": checks["total"],
            "policy_checks_allowed": checks["allowed"],
            "policy_checks_denied": checks["denied"],
            "decisions_last_hour_total": len(recent),
            "decisions_last_hour_allowed": allowed,
            "decisions_last_hour_denied": len(recent) - allowed,
            "avg_decision_time_ms": sum(times) / len(times) if times else 0.0,
            "decisions_history_count": len(emu.decisions),
        }
    )


def metrics(emu: PolicyEngineEmulator, request: Request) -> Response:
    """``metrics`` (``/metrics``): the legacy counts; the lists are the components, policy types and requesters
    that asked for checks so far."""
    stats = emu.stats
    return jsonify(
        {
            "version": "1.0.0",
            "uptime_seconds": time.time() - emu.started,
            "policy_count": len(emu.policies),
            "enabled_policy_count": sum(1 for p in emu.policies.values() if p.get("enabled", True)),
            "policy_version": emu.policy_version,
            "policy_history_count": len(emu.policy_history),
            "policy_applications_count": len(emu.applications),
            "policy_checks_total": stats["total_checks"],
            "policy_checks_allowed": stats["allowed_checks"],
            "policy_checks_denied": stats["denied_checks"],
            "policy_components": list(stats["by_component"]),
            "policy_types": list(stats["by_policy_type"]),
            "policy_requesters": list(stats["by_requester"]),
            "latest_application_timestamp": emu.applications[-1]["timestamp"] if emu.applications else 0,
        }
    )


def get_policy_metrics(emu: PolicyEngineEmulator, request: Request) -> Response:
    """``get_policy_metrics``: hourly points from ``start_time`` (not aligned to the hour) while ``<= end_time``; both
    times numeric or both ignored (the last 24 h); ``denial_rate`` in percent; from the application records."""
    try:
        now = time.time()
        start, end = _float_or_none(arg(request, "start_time")), _float_or_none(arg(request, "end_time"))
        if start is None or end is None:  # both given and numeric, or the last 24 hours
            start, end = now - 24 * 3600, now
        return jsonify(_hourly_points(emu, start, end))
    except Exception as exc:
        return jsonify({"error": f"Failed to generate metrics: {exc}"}, 500)


def _hourly_points(emu: PolicyEngineEmulator, start: float, end: float) -> list[dict[str, Any]]:
    points: list[dict[str, Any]] = []
    hour = start
    enabled = sum(1 for p in emu.policies.values() if p.get("enabled", True))
    while hour <= end:
        iso = datetime.datetime.fromtimestamp(hour).isoformat()  # local time, as upstream
        common = {"timestamp": hour, "iso_time": iso}
        points.append(
            {**common, "metric_type": "policy_count", "metric_name": "active_policies", "metric_value": enabled}
            | {"unit": "count"}
        )
        within = [a for a in emu.applications if hour <= a.get("timestamp", 0) < hour + 3600]
        if within:
            allowed = sum(1 for a in within if a.get("result", False))
            times = [a.get("evaluation_time_ms", 0) for a in within if a.get("evaluation_time_ms")]
            points.append(
                {
                    **common,
                    "metric_type": "decision_count",
                    "metric_name": "total_decisions",
                    "metric_value": len(within),
                    "allowed_count": allowed,
                    "denied_count": len(within) - allowed,
                    "denial_rate": round((len(within) - allowed) / len(within) * 100, 2),
                    "avg_evaluation_time_ms": round(sum(times) / len(times) if times else 0.0, 2),
                    "unique_requesters": len({a.get("requester_id", "unknown") for a in within}),
                    "unit": "count",
                }
            )
        hour += 3600
    return points


def get_policy_decisions(emu: PolicyEngineEmulator, request: Request) -> Response:
    """``get_policy_decisions``: a bare list, newest first, filtered by the epoch ``start_time``/``end_time``
    (inclusive; a non-numeric one is ignored), ``policy_id``, ``component`` and ``result``; ``[:limit]``."""
    try:
        raw_limit = arg(request, "limit")
        limit = int(raw_limit) if raw_limit is not None else 100
        if emu.max_limit is not None:
            limit = min(limit, emu.max_limit)
        chosen = list(emu.decisions)
        start, end = _float_or_none(arg(request, "start_time")), _float_or_none(arg(request, "end_time"))
        if start is not None:
            chosen = [d for d in chosen if d.get("timestamp", 0) >= start]
        if end is not None:
            chosen = [d for d in chosen if d.get("timestamp", 0) <= end]
        for name in ("policy_id", "component"):
            if wanted := arg(request, name):
                chosen = [d for d in chosen if d.get(name) == wanted]
        if result := arg(request, "result"):
            wanted_result = result.lower() in ("true", "1", "allow", "allowed")
            chosen = [d for d in chosen if d.get("result") == wanted_result]
        chosen = sorted(chosen, key=lambda d: d.get("timestamp", 0), reverse=True)[:limit]
        emu.served_decisions.update(((d["id"], d["timestamp"]), d) for d in chosen)
        return jsonify(chosen)
    except Exception as exc:
        return jsonify({"error": str(exc)}, 500)


def list_policies(emu: PolicyEngineEmulator, request: Request) -> Response:
    """``list_policies`` (and ``legacy_list_policies`` on ``/api/policies``): every policy, or those of ``type``."""
    try:
        kind = arg(request, "type")
        policies = list(emu.policies.values())
        return jsonify([p for p in policies if p["type"] == kind] if kind else policies)
    except Exception as exc:
        return jsonify({"error": str(exc)}, 500)


def simple_check(emu: PolicyEngineEmulator, request: Request) -> Response:
    """``simple_check`` (``GET /check``): always allowed."""
    return jsonify({"allowed": True, "reason": "Default allow policy"})


def get_events(emu: PolicyEngineEmulator, request: Request) -> Response:
    """``get_events``: the buffer after ``since_event_id`` (all of it when that id is unknown), at most ``limit``;
    ``last_event_id`` is the end of the buffer."""
    try:
        raw_limit = arg(request, "limit")
        limit = int(raw_limit) if raw_limit is not None else 1000
        events = list(emu.events)
        if not events:
            return jsonify({"events": [], "last_event_id": None})
        since, start = arg(request, "since_event_id"), 0
        if since and not emu.cursor_reset_pending:
            start = next((i + 1 for i, event in enumerate(events) if event["id"] == since), 0)
        emu.cursor_reset_pending = False
        chosen = events[start : start + limit]
        emu.served_events.update((e["id"], e) for e in chosen)
        return jsonify({"events": chosen, "last_event_id": events[-1]["id"]})
    except Exception as exc:
        return jsonify({"error": str(exc)}, 500)


def policy_routes(emu: PolicyEngineEmulator) -> list[BaseRoute]:
    """The engine's GET routes (``/api/v1/metrics`` left out for an older, legacy-only engine)."""
    table: dict[str, Handler] = {
        "/health": health_check,
        "/metrics": metrics,
        "/api/v1/policy_metrics": get_policy_metrics,
        "/api/v1/policy_decisions": get_policy_decisions,
        "/api/v1/policies": list_policies,
        "/api/policies": list_policies,
        "/check": simple_check,
        "/events": get_events,
    }
    if not emu.legacy_metrics_only:
        table["/api/v1/metrics"] = get_metrics

    def route(path: str, handler: Handler) -> Route:
        async def endpoint(request: Request) -> Response:
            return handler(emu, request)

        return Route(path, endpoint)

    return [route(path, handler) for path, handler in table.items()]


def policy_app(emu: PolicyEngineEmulator) -> ASGIApp:
    """The routes with Werkzeug's HTML 404 (the engine registers no 404 handler)."""
    app = Starlette(routes=policy_routes(emu), exception_handlers={404: not_found})
    app.router.redirect_slashes = False
    return app
