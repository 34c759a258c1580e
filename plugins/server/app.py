"""Assembling the Starlette app: the spec's routes, plugins' routes, JSON errors, authentication and CORS."""

from __future__ import annotations

import logging
from typing import Any

import trio
from flcollector import AgentView
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .acceptance import StorageUnavailable, storage_unavailable
from .auth import AuthMiddleware
from .jsonio import error_response
from .params import ParamError
from .routes import SPEC_ROUTES
from .routes.ingest import BodyTooLarge, TooManyPoints
from .routing import IndexedRouter
from .stack import ServerApp
from .state import ServerState, StoreMissing

log = logging.getLogger("flcollector.listener.server")


def _claim(route: BaseRoute) -> tuple[str, str, frozenset[str]]:
    """What a route serves: (kind, path, methods); two routes with the same claim cannot both be reached."""
    methods = frozenset(route.methods or ()) if isinstance(route, Route) else frozenset()
    return type(route).__name__, str(getattr(route, "path", "")), methods


def all_routes(agent: AgentView) -> list[BaseRoute]:
    """The spec's routes first, then those plugins add through ``register_routes`` (e.g. the dashboard's)."""
    routes: list[BaseRoute] = list(SPEC_ROUTES)
    claimed = {_claim(route) for route in routes}
    for route in agent.plugin_routes():
        claim = _claim(route)
        if claim in claimed:
            log.warning("%s %s is registered twice; the first one is served", claim[0], claim[1])
            continue
        claimed.add(claim)
        routes.append(route)
    return routes


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = {404: f"no route {request.url.path}", 405: f"method {request.method} not allowed on {request.url.path}"}
    return error_response(exc.status_code, message.get(exc.status_code, str(exc.detail)), headers=exc.headers)


async def _param_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ParamError)
    return error_response(400, str(exc), param=exc.param)


async def _store_missing(request: Request, exc: Exception) -> Response:
    return error_response(503, str(exc))


async def _too_large(request: Request, exc: Exception) -> Response:
    limit = request.app.state.server.options.max_body_bytes
    # The rest of the body is never read, so the connection cannot be reused: tell the client to close it.
    return error_response(
        413, f"request body larger than max_body_bytes ({limit} bytes)", headers={"connection": "close"}
    )


async def _too_many(request: Request, exc: Exception) -> Response:
    return error_response(413, str(exc))


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


def build_app(state: ServerState) -> ServerApp:
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
    app = ServerApp(
        routes=all_routes(state.agent),
        middleware=middleware,
        exception_handlers={
            HTTPException: _http_error,
            ParamError: _param_error,
            StoreMissing: _store_missing,
            BodyTooLarge: _too_large,
            TooManyPoints: _too_many,
            StorageUnavailable: storage_unavailable,
            Exception: _crash,
        },
    )
    app.router = IndexedRouter(app.router.routes)  # before the first request builds the middleware stack
    app.state.server = state  # the spec routes' typed view (state_of)
    app.state.agent = state.agent  # every plugin route's view of the agent (flcollector.agent_of)
    app.state.openapi = None
    app.state.big_body = trio.CapacityLimiter(1)  # big ingest bodies parsed one at a time (see routes/ingest.py)
    return app
