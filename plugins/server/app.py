"""Assembling the Starlette app: every route, JSON errors, authentication and CORS."""

from __future__ import annotations

import importlib
import logging
from typing import Any

from flcollector.plugins.websocket.session import ws_metrics
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, WebSocketRoute

from .auth import AuthMiddleware
from .jsonio import error_response
from .params import ParamError
from .routes import health, ingest, openapi, prometheus
from .routes import metrics as query_routes
from .routes import status as summary_routes
from .state import ServerState, StoreMissing

log = logging.getLogger("flcollector.listener.server")


def dashboard_routes(agent: Any) -> list[BaseRoute]:
    """The FLOPY-NET dashboard compatibility routes, if that module is present (it is optional here)."""
    try:
        module = importlib.import_module("flcollector.plugins.dashboard")
    except ImportError as exc:
        log.warning("dashboard compatibility routes unavailable: %s", exc)
        return []
    return list(module.dashboard_routes(agent))


def plugin_routes(agent: Any) -> list[BaseRoute]:
    """Routes other plugins add through the ``register_routes`` hook."""
    pm = getattr(getattr(agent, "registry", None), "pm", None)
    if pm is None:
        return []
    return [route for routes in pm.hook.register_routes(agent=agent) for route in (routes or [])]


def all_routes(agent: Any) -> list[BaseRoute]:
    """Every route of the app: the spec's API first, then the dashboard's, then plugins'."""
    return [
        *health.routes(),
        *summary_routes.routes(),
        *query_routes.routes(),
        *ingest.routes(),
        *prometheus.routes(),
        *openapi.routes(),
        WebSocketRoute("/ws/metrics", ws_metrics),
        *dashboard_routes(agent),
        *plugin_routes(agent),
    ]


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = {404: f"no route {request.url.path}", 405: f"method {request.method} not allowed on {request.url.path}"}
    return error_response(exc.status_code, message.get(exc.status_code, str(exc.detail)), headers=exc.headers)


async def _param_error(request: Request, exc: Exception) -> Response:
    return error_response(400, str(exc), param=getattr(exc, "param", None))


async def _store_missing(request: Request, exc: Exception) -> Response:
    return error_response(503, str(exc))


async def _too_large(request: Request, exc: Exception) -> Response:
    limit = request.app.state.server.options.max_body_bytes
    # The rest of the body is never read, so the connection cannot be reused: tell the client to close it.
    return error_response(
        413, f"request body larger than max_body_bytes ({limit} bytes)", headers={"connection": "close"}
    )


async def _crash(request: Request, exc: Exception) -> Response:
    log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
    return error_response(500, f"internal error: {type(exc).__name__}")


class CountRequests:
    """Pure ASGI middleware counting HTTP requests and WebSocket connections (``/health``, ``/metrics``)."""

    def __init__(self, app: Any, stats: Any) -> None:
        self.app = app
        self.counters = stats.counters

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Count, then pass on."""
        if scope["type"] == "http":
            self.counters["requests"] += 1
        elif scope["type"] == "websocket":
            self.counters["ws_connections"] += 1
        await self.app(scope, receive, send)


def build_app(state: ServerState) -> Starlette:
    """Return the server's Starlette app for ``state``."""
    options = state.options
    middleware = [Middleware(CountRequests, stats=state.stats)]
    if options.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(options.cors_origins),
                allow_methods=["*"],
                allow_headers=["*"],
                allow_credentials="*" not in options.cors_origins,
            )
        )
    if options.auth_enabled or options.token:
        middleware.append(
            Middleware(AuthMiddleware, username=options.username, password=options.password, token=options.token)
        )
    app = Starlette(
        routes=all_routes(state.agent),
        middleware=middleware,
        exception_handlers={
            HTTPException: _http_error,
            ParamError: _param_error,
            StoreMissing: _store_missing,
            ingest.BodyTooLarge: _too_large,
            Exception: _crash,
        },
    )
    app.state.server = state
    app.state.openapi = None
    return app
