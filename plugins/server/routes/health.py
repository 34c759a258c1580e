"""``GET /health``: the spec's shape (``spec/collector-service.md``, "Service Health"), then the agent's own detail.

The spec's keys: ``status`` (``healthy`` | ``degraded`` | ``unhealthy``; 503 only when unhealthy), ``timestamp``
(epoch seconds), ``version`` and ``components`` keyed by the services the agent depends on: ``fl_server``,
``policy_engine``, ``sdn_controller`` (as their monitors last saw them) and each remote sink by instance
(``influxdb``, ``redis``...), each with ``status`` ``healthy`` | ``unhealthy`` | ``unreachable`` (``unknown``
before the first poll or request, ``not_monitored`` for a source no monitor watches). The agent's own detail
(every monitor, sink, processor and listener's stats) is under ``agent_components``, beside ``server`` and ``store``.
There is no top-level ``error`` key: the FLOPY-NET dashboard's ``test_connection`` reads one as a failure.

Always reachable, so container and load-balancer health checks work; with auth on, a request without credentials
gets only ``{"status": ...}``: store paths, source URLs and counters need credentials.
"""

from __future__ import annotations

import logging
from typing import Any

import trio
from flcollector import AgentView, now_ns
from starlette.requests import Request
from starlette.routing import Route

from ..jsonio import JSONResponse, iso
from ..state import monitor_stats, state_of

log = logging.getLogger("flcollector.listener.server")
STORE_INFO_TIMEOUT = 2.0  # a store busy with a long write must not hang the health check
#: The spec's service names, by the plugin of the monitor that watches each (gns3 only when configured).
SERVICES = {"fl": "fl_server", "policy": "policy_engine", "sdn": "sdn_controller"}
OPTIONAL_SERVICES = {"gns3": "gns3"}
#: A monitor's status in the spec's words.
SERVICE_STATUS = {"ok": "healthy", "down": "unreachable", "error": "unhealthy", "stopped": "unhealthy"}
#: A component's times in nanoseconds, each written beside it as ISO-8601 text (``last_error`` is the message).
_ISO_TIMES = (("last_success_ns", "last_success"), ("last_error_ns", "last_error_at"))
REMOTE_DETAIL = ("endpoint", "backlog_records", "backlog_bytes", "oldest_unsent_age_s", "last_error")


def _source(agent: AgentView, plugin: str, urls: dict[str, str | None]) -> dict[str, Any]:
    stats = monitor_stats(agent, plugin)
    if stats is None:
        return {"status": "not_monitored"}
    status = SERVICE_STATUS.get(stats.status, "unknown")
    entry: dict[str, Any] = {
        "status": status,
        "url": urls.get(plugin),
        "last_success": iso(stats.last_success_ns),
        "consecutive_failures": stats.consecutive_failures,
    }
    if status != "healthy" and stats.last_error:
        entry["error"] = stats.last_error  # the spec's per-service error (never at the top level)
    return entry


def services(agent: AgentView, detail: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The spec's ``components``: the sources by service name, then every remote sink by instance."""
    urls = {c.plugin: str(getattr(c.options, "url", "")) or None for c in reversed(agent.configured("monitor"))}
    found: dict[str, dict[str, Any]] = {name: _source(agent, plugin, urls) for plugin, name in SERVICES.items()}
    for plugin, name in OPTIONAL_SERVICES.items():
        if plugin in urls:
            found[name] = _source(agent, plugin, urls)
    for key, component in detail.items():
        kind, _, instance = key.partition(":")
        if kind == "sink" and "remote_status" in component:
            status = component["remote_status"]
            found[instance] = {"status": status if status in SERVICE_STATUS.values() else "unknown"} | {
                name: component.get(name) for name in REMOTE_DETAIL
            }
    return found


async def _store_info(agent: AgentView, body: dict[str, Any]) -> None:
    store = agent.store
    if store is None:
        body["store"] = None
        return
    # A store that keeps its facts until it writes (sqlite) hands them over at once: no read, so no timeout (a
    # Trio cancel scope costs a fifth of this route).
    known = getattr(store, "known_info", None)
    try:
        facts = known() if known is not None else None
        if facts is None:
            with trio.fail_after(STORE_INFO_TIMEOUT):
                facts = await store.info()
        body["store"] = facts
    except Exception as exc:  # a broken store is a fact to report, not a reason to fail the health check
        log.warning("store info failed: %s", exc)
        body["store"] = {"error": f"{type(exc).__name__}: {exc}"}
        body["status"] = "degraded" if body["status"] == "healthy" else body["status"]


async def health(request: Request) -> JSONResponse:
    """Agent health in the spec's shape, with per-component detail for the authenticated."""
    server = state_of(request)
    agent = server.agent
    auth_on = bool(server.options.auth_enabled or server.options.token)
    if auth_on and not getattr(request.state, "authenticated", False):  # set by the auth middleware
        status = agent.health_status()  # the word alone: no component's stats are built
        return JSONResponse({"status": status}, status_code=_code(status))
    body = agent.health()
    detail: dict[str, dict[str, Any]] = body.pop("components")
    for component in detail.values():
        for key, shown in _ISO_TIMES:
            if isinstance(component, dict) and key in component:
                component[shown] = iso(component[key])
    answer: dict[str, Any] = {
        "status": body.pop("status"),
        "timestamp": now_ns() / 1e9,
        "version": body.pop("version"),
        "components": services(agent, detail),
        **body,
        "agent_components": detail,
        "server": {"url": server.stats.extra.get("url"), "auth": auth_on},
    }
    await _store_info(agent, answer)
    return JSONResponse(answer, status_code=_code(answer["status"]))


def _code(status: str) -> int:
    return 503 if status == "unhealthy" else 200


ROUTES = [Route("/health", health, methods=["GET"])]
