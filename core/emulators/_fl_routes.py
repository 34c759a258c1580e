"""The emulated FL server's metrics API: ``FLServer._setup_metrics_routes`` of ``src/fl/server/fl_server.py``.

Each handler names the upstream route function it reproduces, with its parsing (``int()`` of the raw text, so
``limit=abc`` is a 500 naming the value; ``min_accuracy=abc`` is ignored, as Werkzeug's ``type=float`` does), its
key names and value types, and its error answers: a route with its own ``except`` answers its JSON error body, the
others Werkzeug's HTML 500; an unknown path answers the JSON 404 with ``available_endpoints``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from ._fl_training import iso_utc
from ._flask import arg, float_arg, internal_error, jsonify

if TYPE_CHECKING:
    from .fl_server import FlServerEmulator

Handler = Callable[["FlServerEmulator", Request], Response]
INJECTED = "injected failure"


def index(emu: FlServerEmulator, request: Request) -> Response:
    """``index``: ``GET /``."""
    return jsonify({"status": "running", "endpoints": ["/health", "/metrics", "/events"]})


def get_metrics(emu: FlServerEmulator, request: Request) -> Response:
    """``get_metrics``: a copy of ``global_metrics``; ``include_rounds=true`` adds ``rounds`` (= ``rounds_history``)."""
    body = dict(emu.metrics)
    if (arg(request, "include_rounds") or "false").lower() == "true":
        body["rounds"] = body["rounds_history"]
    return jsonify(body)


def health_check(emu: FlServerEmulator, request: Request) -> Response:
    """``health_check``: ``GET /health``."""
    return jsonify({"status": "healthy", "timestamp": time.time()})


def get_events(emu: FlServerEmulator, request: Request) -> Response:
    """``get_events``: the buffer after ``since_event_id`` (all of it when that id is unknown or evicted), at most
    ``limit``; ``last_event_id`` is the end of the buffer, not of the page."""
    try:
        since = arg(request, "since_event_id")
        limit = int(_given(arg(request, "limit"), 1000))
        events = list(emu.events)
        if not events:
            return jsonify({"events": [], "last_event_id": None})
        start = 0
        if since and not emu.ignore_cursor_once:
            start = next((i + 1 for i, event in enumerate(events) if event["event_id"] == since), 0)
        emu.ignore_cursor_once = False
        page = events[start : start + limit]
        emu.served_events.update((event["event_id"], event) for event in page if "event_id" in event)
        return jsonify({"events": page, "last_event_id": events[-1]["event_id"]})
    except Exception as exc:  # the route's own except clause
        return jsonify({"error": str(exc), "events": [], "last_event_id": None}, 500)


def _serve(emu: FlServerEmulator, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    emu.served_rounds.update(((row["round"], row["timestamp"]), row) for row in rows)
    return rows


def get_rounds(emu: FlServerEmulator, request: Request) -> Response:
    """``get_rounds``: rows in ascending round order with totals, pagination and the filters as parsed."""
    try:
        start = int(_given(arg(request, "start_round"), 1))
        raw_end = arg(request, "end_round")
        end = int(raw_end) if raw_end else None
        limit = min(int(_given(arg(request, "limit"), 1000)), 10000)
        offset = int(_given(arg(request, "offset"), 0))
        lo, hi = float_arg(request, "min_accuracy"), float_arg(request, "max_accuracy")
        if not emu.storage_ready:
            return jsonify({"error": "Round storage not initialized", "rounds": []}, 500)
        rows = emu.storage.rows(start, end, limit, offset, lo, hi)
        total = emu.storage.count(start, end, lo, hi)
        return jsonify(
            {
                "rounds": _serve(emu, rows),
                "total_rounds": total,
                "returned_rounds": len(rows),
                "latest_round": emu.storage.latest(),
                "pagination": {"limit": limit, "offset": offset, "has_more": offset + len(rows) < total},
                "filters": {"start_round": start, "end_round": end, "min_accuracy": lo, "max_accuracy": hi},
            }
        )
    except Exception as exc:
        return jsonify({"error": str(exc), "rounds": []}, 500)


def get_latest_rounds(emu: FlServerEmulator, request: Request) -> Response:
    """``get_latest_rounds``: the rows numbered ``latest - limit + 1`` to ``latest`` (fewer where rows are missing)."""
    try:
        limit = min(int(_given(arg(request, "limit"), 50)), 1000)
        if not emu.storage_ready:
            return jsonify({"error": "Round storage not initialized", "rounds": []}, 500)
        latest = emu.storage.latest()
        if latest == 0:
            return jsonify({"rounds": [], "latest_round": 0})
        rows = emu.storage.rows(max(1, latest - limit + 1), latest, limit)
        return jsonify({"rounds": _serve(emu, rows), "latest_round": latest, "returned_rounds": len(rows)})
    except Exception as exc:
        return jsonify({"error": str(exc), "rounds": []}, 500)


def get_training_status(emu: FlServerEmulator, request: Request) -> Response:
    """``get_training_status``: the training state in detail (``restart_allowed`` asks the policy only when stopped)."""
    try:
        stopped = emu.stopped_by_policy
        return jsonify(
            {
                "server_status": emu.status(),
                "training_stopped_by_policy": stopped,
                "training_paused": emu.training_paused,
                "pause_reason": emu.metrics.get("pause_reason"),
                "stop_reason": emu.metrics.get("stop_reason"),
                "current_round": emu.current_round,
                "max_rounds": emu.max_rounds,
                "restart_allowed": emu.restart_allowed if stopped else False,
                "connected_clients": emu.metrics.get("connected_clients", 0),
                "training_active": emu.metrics.get("training_active", False),
                "timestamp": iso_utc(time.time()),
            }
        )
    except Exception as exc:
        return jsonify({"error": str(exc)}, 500)


def _given(value: str | None, default: int) -> str | int:
    """``request.args.get(name, default)``: the default only when the parameter is absent (``""`` is given)."""
    return default if value is None else value


#: path -> (handler, the error body the route's own ``except`` answers, or None for Werkzeug's HTML 500)
ROUTES: dict[str, tuple[Handler, dict[str, Any] | None]] = {
    "/": (index, None),
    "/metrics": (get_metrics, None),
    "/health": (health_check, None),
    "/events": (get_events, {"error": INJECTED, "events": [], "last_event_id": None}),
    "/rounds": (get_rounds, {"error": INJECTED, "rounds": []}),
    "/rounds/latest": (get_latest_rounds, {"error": INJECTED, "rounds": []}),
    "/status": (get_training_status, {"error": INJECTED}),
}


def fl_routes(emu: FlServerEmulator) -> list[BaseRoute]:
    """The routes, each answering its own error while its path is in ``failing_endpoints``."""

    def route(path: str, handler: Handler, error: dict[str, Any] | None) -> Route:
        async def endpoint(request: Request) -> Response:
            if path in emu.failing_endpoints:
                return jsonify(error, 500) if error is not None else internal_error()
            return handler(emu, request)

        return Route(path, endpoint)

    return [route(path, handler, error) for path, (handler, error) in ROUTES.items()]


def fl_app(emu: FlServerEmulator) -> ASGIApp:
    """The app: the routes, ``page_not_found``'s JSON 404, no slash redirects (Flask has none for these rules)."""

    async def page_not_found(request: Request, exc: Exception) -> Response:
        endpoints = ["/", "/health", "/metrics", "/events"]
        return jsonify({"error": "Endpoint not found", "available_endpoints": endpoints}, 404)

    app = Starlette(routes=fl_routes(emu), exception_handlers={404: page_not_found})
    app.router.redirect_slashes = False
    return app
