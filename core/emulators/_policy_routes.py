"""The policy-engine emulator's HTTP routes (reference §2.5 shapes); the state lives in the emulator."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from .policy_engine import PolicyEngineEmulator


#: The components that ask the engine for decisions.
COMPONENTS = ("fl-server", "fl-client", "network", "policy-engine")


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:  # the real engine ignores non-numeric times (the dashboard sends ISO strings)
        return None


def policy_routes(emu: PolicyEngineEmulator) -> list[BaseRoute]:
    """The engine's routes: ``/health``, ``/metrics``, ``/api/v1/metrics`` (unless legacy only), policies,
    decisions, hourly policy metrics and ``/events``."""

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "version": emu.policy_version})

    def enabled() -> int:
        return sum(1 for p in emu.policies if p["enabled"])

    async def legacy_metrics(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "version": "1.0.0",
                "uptime_seconds": time.time() - emu.started,
                "policy_count": len(emu.policies),
                "enabled_policy_count": enabled(),
                "policy_version": emu.policy_version,
                "policy_history_count": len(emu.policies),
                "policy_applications_count": emu.checks["total"],
                "policy_checks_total": emu.checks["total"],
                "policy_checks_allowed": emu.checks["allowed"],
                "policy_checks_denied": emu.checks["denied"],
                "policy_components": list(COMPONENTS),
                "policy_types": sorted({p["type"] for p in emu.policies}),
                "policy_requesters": list(COMPONENTS),
                "latest_application_timestamp": emu.decisions[-1]["timestamp"] if emu.decisions else None,
            }
        )

    async def v1_metrics(request: Request) -> JSONResponse:
        hour_ago = time.time() - 3600
        recent = [d for d in emu.decisions if d["timestamp"] >= hour_ago]
        allowed = sum(1 for d in recent if d["result"])
        return JSONResponse(
            {
                "policy_count": len(emu.policies),
                "enabled_policy_count": enabled(),
                "policy_version": emu.policy_version,
                "history_event_count": len(emu.events),
                "function_count": 0,
                "uptime_seconds": time.time() - emu.started,
                "policy_checks_total": emu.checks["total"],
                "policy_checks_allowed": emu.checks["allowed"],
                "policy_checks_denied": emu.checks["denied"],
                "decisions_last_hour_total": len(recent),
                "decisions_last_hour_allowed": allowed,
                "decisions_last_hour_denied": len(recent) - allowed,
                "avg_decision_time_ms": 0.4,
                "decisions_history_count": len(emu.decisions),
            }
        )

    async def policies(request: Request) -> JSONResponse:
        return JSONResponse(emu.policies)

    async def decisions(request: Request) -> JSONResponse:
        query = request.query_params
        start, end = _float(query.get("start_time")), _float(query.get("end_time"))
        limit = int(query.get("limit", "100"))
        if emu.max_limit is not None:
            limit = min(limit, emu.max_limit)
        chosen = [
            d
            for d in reversed(emu.decisions)  # newest first
            if (start is None or d["timestamp"] >= start)
            and (end is None or d["timestamp"] <= end)
            and query.get("component", d["component"]) == d["component"]
        ][:limit]
        emu.served_decisions.update((d["id"], d) for d in chosen)
        return JSONResponse(chosen)

    async def policy_metrics(request: Request) -> JSONResponse:
        now = time.time()
        start = _float(request.query_params.get("start_time")) or now - 86400
        end = _float(request.query_params.get("end_time")) or now
        points: list[dict[str, Any]] = []
        hour = int(start // 3600) * 3600
        while hour <= end:
            iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(hour))
            points.append(
                {
                    "timestamp": hour,
                    "iso_time": iso,
                    "metric_type": "policy_count",
                    "metric_name": "active_policies",
                    "metric_value": enabled(),
                    "unit": "count",
                }
            )
            checks = [d for d in emu.decisions if hour <= d["timestamp"] < hour + 3600]
            if checks:
                denied = sum(1 for d in checks if not d["result"])
                points.append(
                    {
                        "timestamp": hour,
                        "iso_time": iso,
                        "metric_type": "decision_count",
                        "metric_name": "total_decisions",
                        "metric_value": len(checks),
                        "allowed_count": len(checks) - denied,
                        "denied_count": denied,
                        "denial_rate": denied / len(checks),
                        "avg_evaluation_time_ms": 0.4,
                        "unique_requesters": len({d["component"] for d in checks}),
                        "unit": "count",
                    }
                )
            hour += 3600
        return JSONResponse(points)

    async def events(request: Request) -> JSONResponse:
        since = request.query_params.get("since_event_id")
        limit = int(request.query_params.get("limit", "1000"))
        ids = [e["id"] for e in emu.events]
        start = 0
        if since and since in ids and not emu.cursor_reset_pending:
            start = ids.index(since) + 1
        emu.cursor_reset_pending = False
        chosen = emu.events[start : start + limit]
        emu.served_events.update((e["id"], e) for e in chosen)
        return JSONResponse({"events": chosen, "last_event_id": ids[-1] if ids else None})

    routes: list[BaseRoute] = [
        Route("/health", health),
        Route("/metrics", legacy_metrics),
        Route("/api/v1/policies", policies),
        Route("/api/policies", policies),
        Route("/api/v1/policy_decisions", decisions),
        Route("/api/v1/policy_metrics", policy_metrics),
        Route("/events", events),
    ]
    if not emu.legacy_metrics_only:
        routes.append(Route("/api/v1/metrics", v1_metrics))
    return routes
