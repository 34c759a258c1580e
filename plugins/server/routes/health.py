"""``GET /health``: overall status, version, uptime, every component's stats, the server and the store.

Always open (no auth), so container health checks work; answers 503 only when the agent is unhealthy.
"""

from __future__ import annotations

import logging

import trio
from flcollector import now_ns
from starlette.requests import Request
from starlette.routing import Route

from ..jsonio import JSONResponse, iso
from ..state import state_of

log = logging.getLogger("flcollector.listener.server")
STORE_INFO_TIMEOUT = 2.0  # a store busy with a long write must not hang the health check


async def health(request: Request) -> JSONResponse:
    """Agent health: ``healthy`` | ``degraded`` | ``unhealthy`` with per-component detail."""
    server = state_of(request)
    agent = server.agent
    body = agent.health()
    body["timestamp"] = iso(now_ns())
    body["server"] = {
        "url": server.stats.extra.get("url"),
        "auth": bool(server.options.auth_enabled or server.options.token),
    }
    store = agent.store
    if store is None:
        body["store"] = None
    else:
        try:
            with trio.fail_after(STORE_INFO_TIMEOUT):
                body["store"] = await store.info()
        except Exception as exc:  # a broken store is a fact to report, not a reason to fail the health check
            log.warning("store info failed: %s", exc)
            body["store"] = {"error": f"{type(exc).__name__}: {exc}"}
            body["status"] = "degraded" if body["status"] == "healthy" else body["status"]
    for component in body.get("components", {}).values():
        for key in ("last_success_ns", "last_error_ns"):
            if isinstance(component, dict) and key in component:
                component[key.replace("_ns", "")] = iso(component[key])
    status = 503 if body["status"] == "unhealthy" else 200
    return JSONResponse(body, status_code=status)


ROUTES = [Route("/health", health, methods=["GET"])]
