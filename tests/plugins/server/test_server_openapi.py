"""``GET /openapi.json`` describes every REST route of the app."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import trio
from flcollector.plugins.server.routes.openapi import PATHS
from starlette.routing import Route, WebSocketRoute


async def test_every_route_is_described(running) -> None:
    with trio.fail_after(10):
        document = (await running.client.get("/openapi.json")).json()
    app_routes = [r for r in running.server.app.routes if isinstance(r, Route)]
    assert document["openapi"].startswith("3.")
    for route in app_routes:
        for method in (route.methods or set()) - {"HEAD"}:
            assert method.lower() in document["paths"][route.path], f"{method} {route.path} missing"
    assert len(app_routes) >= len(PATHS)


async def test_spec_routes_are_described_by_hand(running) -> None:
    own = {
        r.path
        for r in running.server.app.routes
        if isinstance(r, Route)
        and r.endpoint.__module__.startswith("flcollector.plugins.server.")  # other plugins' routes: docstrings
        and r.endpoint.__module__.split(".")[-1] != "dashboard"
        and "dashboard" not in r.endpoint.__module__
    }
    assert own == set(PATHS), "a spec route was added without a hand-written OpenAPI entry (or vice versa)"
    with trio.fail_after(10):
        document = (await running.client.get("/openapi.json")).json()
    params = {p["name"] for p in document["paths"]["/api/v1/events"]["get"]["parameters"]}
    assert {"since_id", "level", "type", "limit", "offset"} <= params


async def test_every_operation_names_the_module_that_serves_it(running) -> None:
    with trio.fail_after(10):
        document = (await running.client.get("/openapi.json")).json()
    for route in running.server.app.routes:
        if isinstance(route, WebSocketRoute):
            assert document["x-websockets"][route.path]["x-module"] == route.endpoint.__module__
            continue
        for method in (route.methods or set()) - {"HEAD"}:
            module = document["paths"][route.path][method.lower()]["x-module"]
            assert module == route.endpoint.__module__
            source = inspect.getsourcefile(inspect.unwrap(route.endpoint))  # found there, in one step
            assert source is not None and Path(source) == Path(importlib.import_module(module).__file__ or "")
    assert document["x-websockets"]["/ws/metrics"]["x-module"] == "flcollector.plugins.websocket.sink"
    assert document["paths"]["/api/v1/events"]["get"]["x-module"] == "flcollector.plugins.server.routes.events"
    assert document["paths"]["/api/events"]["get"]["x-module"] == "flcollector.plugins.dashboard.events"
