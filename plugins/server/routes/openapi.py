"""``GET /openapi.json``: an OpenAPI 3.1 description of every REST route.

The spec routes are described by hand below (parameters and response shapes); routes added by plugins through
``register_routes`` (the dashboard's, a third party's) get an entry from their docstring, so the document never
misses a route. Every operation names the module that serves it (``x-module``), and WebSocket routes are listed
under ``x-websockets``, so a route is found from its path in one step. A test checks all three.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute, Route, WebSocketRoute

from ..jsonio import JSONResponse
from ..state import state_of


def _p(name: str, kind: str = "string", description: str = "", **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": kind, **schema},
    }


TIME = "ISO-8601 (naive means UTC) or epoch seconds"
#: ISO-8601 dates/times or epoch numbers; the server still checks the calendar and the range (1970-2262).
TIME_PATTERN = r"^(\d+(\.\d+)?|\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|z|[+-]\d{2}:?\d{2})?)$"
DURATION_PATTERN = r"^\d+(\.\d+)?(ns|us|µs|ms|s|m|h|d)?$"
LIMIT = _p("limit", "integer", "page size (at most the server's max_limit)", minimum=1, maximum=10_000, default=100)
OFFSET = _p("offset", "integer", "rows to skip", minimum=0, maximum=100_000_000, default=0)
FROM = _p("from", description=f"start time, {TIME}", pattern=TIME_PATTERN)
TO = _p("to", description=f"end time (inclusive), {TIME}", pattern=TIME_PATTERN)
COMMON = [
    FROM,
    TO,
    _p("source"),
    _p("experiment"),
    _p("round", "integer", minimum=0, maximum=2**63 - 1),
    LIMIT,
    OFFSET,
    _p("order", enum=["asc", "desc"]),
    _p("total", "boolean", "also count every match"),
]
OBJ = {"type": "object"}
ERROR = {
    "description": "error",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "error": {
                        "type": "object",
                        "properties": {"status": {"type": "integer"}, "message": {"type": "string"}},
                    }
                },
            }
        }
    },
}


def _op(
    summary: str,
    params: list[dict[str, Any]] | None = None,
    ok: str = "200",
    body: dict[str, Any] | None = None,
    content: str = "application/json",
    result: dict[str, Any] | None = None,
) -> dict[str, Any]:
    if result is None:
        result = {"type": "string"} if content.startswith("text/") else OBJ
    op: dict[str, Any] = {
        "summary": summary,
        "parameters": params or [],
        "responses": {
            ok: {"description": "success", "content": {content: {"schema": result}}}
            if ok != "204"
            else {"description": "accepted"},
            "400": ERROR,
            "401": ERROR,
        },
    }
    if body is not None:
        op["requestBody"] = {"required": body is not LINES, "content": body}  # an empty write is a no-op
    return op


LINES = {"text/plain": {"schema": {"type": "string"}}}
WRITE_PARAMS = [
    _p("precision", enum=["ns", "n", "us", "u", "ms", "s", "m", "h"], default="ns"),
    _p("db"),
    _p("bucket"),
    _p("org"),
]
INGEST_BODY = {
    "application/json": {
        "schema": {
            "type": "object",
            "properties": {"metrics": {"type": "array", "items": OBJ}, "events": {"type": "array", "items": OBJ}},
        }
    }
}

PATHS: dict[str, dict[str, Any]] = {
    "/health": {"get": _op("Agent health, per component, store and server")},
    "/api/v1/status": {"get": _op("State of the FL server, policy engine and SDN controller")},
    "/api/v1/fl/metrics": {
        "get": _op(
            "Global FL metrics per round and per-client metrics",
            [_p("experiment_id"), FROM, TO],
        )
    },
    "/api/v1/network/metrics": {
        "get": _op(
            "Network performance over a timeframe",
            [_p("timeframe", description="duration such as 5m, 1h, 1d", default="1h", pattern=DURATION_PATTERN)],
        )
    },
    "/api/v1/metrics": {
        "get": _op(
            "Stored metrics",
            [
                _p("name", description="comma-separated exact names"),
                _p("prefix"),
                _p("min_round", "integer", minimum=0, maximum=2**63 - 1),
                _p("max_round", "integer", minimum=0, maximum=2**63 - 1),
                *COMMON,
                {
                    "name": "tag.<key>",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "tag filter, e.g. tag.host=node-1 (repeatable)",
                },
            ],
        )
    },
    "/api/v1/metrics/names": {"get": _op("Every stored metric name")},
    "/api/v1/events": {
        "get": _op(
            "Stored events, by id",
            [
                _p("since_id", "integer", "only events with a larger id", minimum=0, maximum=2**63 - 1),
                _p("type"),
                _p(
                    "level",
                    description="DEBUG, INFO, WARNING, ERROR, CRITICAL (comma-separated)",
                ),
                *COMMON,
            ],
        )
    },
    "/api/v1/ingest": {"post": _op("Push metrics and events (record dict shape); all or nothing", body=INGEST_BODY)},
    "/write": {"post": _op("InfluxDB v1 line protocol", WRITE_PARAMS, ok="204", body=LINES)},
    "/api/v2/write": {"post": _op("InfluxDB v2 line protocol", WRITE_PARAMS, ok="204", body=LINES)},
    "/metrics": {"get": _op("Prometheus text exposition", content="text/plain")},
    "/openapi.json": {"get": _op("This document")},
}


def _path_params(path: str) -> list[dict[str, Any]]:
    names = [part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{")]
    return [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in names]


def build(routes: list[BaseRoute], version: str) -> dict[str, Any]:
    """Return the OpenAPI document for ``routes`` (hand-written entries first, docstrings for the rest)."""
    paths: dict[str, dict[str, Any]] = {}
    websockets: dict[str, dict[str, str]] = {}
    for route in routes:
        if isinstance(route, WebSocketRoute):
            doc = (route.endpoint.__doc__ or route.path).strip().splitlines()[0]
            websockets[route.path] = {"summary": doc, "x-module": route.endpoint.__module__}
            continue
        if not isinstance(route, Route):
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            entry = PATHS.get(route.path, {}).get(method.lower())
            if entry is None:
                doc = (route.endpoint.__doc__ or route.name or route.path).strip().splitlines()[0]
                entry = _op(doc, _path_params(route.path), result={})  # shape known only to its docstring
            paths.setdefault(route.path, {})[method.lower()] = {**entry, "x-module": route.endpoint.__module__}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "flcollector",
            "version": version,
            "description": "FL experiment collector: REST, WebSocket (x-websockets) and Prometheus.",
        },
        "paths": paths,
        "x-websockets": websockets,
    }


async def openapi(request: Request) -> JSONResponse:
    """This OpenAPI document."""
    state = request.app.state
    if state.openapi is None:  # built once: the routes never change after start-up
        state.openapi = build(list(request.app.routes), state_of(request).agent.version)
    return JSONResponse(state.openapi)


ROUTES = [Route("/openapi.json", openapi, methods=["GET"])]
