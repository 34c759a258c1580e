"""``/status`` and ``/api/`` (upstream #2, #3): the collector's own set-up, and the list of every route.

Upstream's ``/status`` printed its config; here it is built from what the config resolved (the monitors' intervals
and URLs, the server's port), through the agent's view, never by reading the config file.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from flcollector import AgentView, agent_of
from starlette.requests import Request
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from .contract import endpoint, now_iso

#: Our monitor names -> upstream's interval keys (``<key>_sec``) and URL keys.
_INTERVAL_KEYS = {"policy": "policy", "fl": "fl", "sdn": "network", "events": "event"}
_URL_KEYS = {"policy": "policy_engine", "fl": "fl_server", "sdn": "sdn_controller"}


def _setup(agent: AgentView) -> dict[str, Any]:
    """The part of upstream's ``/status`` the config fixed: port, storage dir, intervals, URLs, version."""
    intervals: dict[str, float | None] = {f"{key}_sec": None for key in _INTERVAL_KEYS.values()}
    urls: dict[str, str | None] = {key: None for key in _URL_KEYS.values()}
    for monitor in agent.configured("monitor"):
        key = f"{_INTERVAL_KEYS[monitor.name]}_sec" if monitor.name in _INTERVAL_KEYS else None
        if key is not None and intervals[key] is None:
            intervals[key] = monitor.interval
        url_key = _URL_KEYS.get(monitor.name)
        if url_key is not None and urls[url_key] is None:
            urls[url_key] = getattr(monitor.options, "url", None)
    servers = [listener for listener in agent.configured("listener") if listener.name == "server"]
    return {
        "collector_running": True,
        "api_port": servers[0].options.port if servers else None,
        "storage_dir": str(agent.data_dir),
        "training_mode": "production",
        "intervals": intervals,
        "urls": urls,
        "version": agent.version,
    }


#: Per agent, the config's part of ``/status``: the config does not change while the agent runs.
_SETUPS: WeakKeyDictionary[AgentView, dict[str, Any]] = WeakKeyDictionary()


def collector_status(agent: AgentView) -> dict[str, Any]:
    """Build upstream's ``/status`` body from what the config resolved, and the run context as it is now."""
    setup = _SETUPS.get(agent)
    if setup is None:
        setup = _SETUPS[agent] = _setup(agent)
    context = agent.context
    return {
        **setup,  # its intervals and urls are shared by every answer: encoded, never changed
        "experiment": context.experiment,
        "round": context.round,
        "phase": context.phase,
        "timestamp": now_iso(),
    }


@endpoint
async def status(request: Request) -> dict[str, Any]:
    """The collector's configuration: port, storage dir, monitor intervals and source URLs."""
    return collector_status(agent_of(request))


def _endpoints(routes: list[BaseRoute]) -> list[dict[str, Any]]:
    """Every route with its methods and the first line of its handler's docstring."""
    endpoints = []
    for route in routes:
        if isinstance(route, Route | WebSocketRoute):
            doc = (route.endpoint.__doc__ or "").strip()
            methods = sorted(route.methods or ()) if isinstance(route, Route) else ["WEBSOCKET"]
        elif isinstance(route, Mount):
            doc, methods = "", ["*"]
        else:
            continue
        endpoints.append({"path": route.path, "methods": methods, "description": doc.splitlines()[0] if doc else ""})
    return endpoints


#: Per app, its list of endpoints: the routes are fixed once the app is built, so it is written once.
_ENDPOINTS: WeakKeyDictionary[Any, list[dict[str, Any]]] = WeakKeyDictionary()


@endpoint
async def api_docs(request: Request) -> dict[str, Any]:
    """This list: every route of the app with its methods and a one-line description."""
    endpoints = _ENDPOINTS.get(request.app)
    if endpoints is None:
        endpoints = _ENDPOINTS[request.app] = _endpoints(request.app.routes)
    return {
        "name": "flcollector (FLOPY-NET Collector API)",
        "version": agent_of(request).version,
        "timestamp": now_iso(),
        "endpoints": endpoints,
    }


ROUTES = [Route("/status", status, methods=["GET"]), Route("/api/", api_docs, methods=["GET"])]
