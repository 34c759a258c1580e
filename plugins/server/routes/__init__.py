"""The spec's API, one module per route family; the module of a route is named by its path.

| module | routes |
|---|---|
| ``health`` | ``GET /health`` |
| ``status`` | ``GET /api/v1/status`` |
| ``fl`` | ``GET /api/v1/fl/metrics`` |
| ``network`` | ``GET /api/v1/network/metrics`` |
| ``metrics`` | ``GET /api/v1/metrics``, ``GET /api/v1/metrics/names`` |
| ``events`` | ``GET /api/v1/events`` |
| ``ingest`` | ``POST /api/v1/ingest``, ``POST /write``, ``POST /api/v2/write`` |
| ``prometheus`` | ``GET /metrics`` |
| ``openapi`` | ``GET /openapi.json`` (which names each route's module too) |

Each module's handlers are module-level functions reading the typed :class:`~..state.ServerState` from the request
(``state_of(request)``), and the module ends with its ``ROUTES``. Other faces come from plugins through
``register_routes``: the FLOPY-NET dashboard (``flcollector.plugins.dashboard``) and ``WS /ws/metrics``
(``flcollector.plugins.websocket``).
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from . import events, fl, health, ingest, metrics, network, openapi, prometheus, status

SPEC_ROUTES: list[BaseRoute] = [
    *health.ROUTES,
    *status.ROUTES,
    *fl.ROUTES,
    *network.ROUTES,
    *metrics.ROUTES,
    *events.ROUTES,
    *ingest.ROUTES,
    *prometheus.ROUTES,
    *openapi.ROUTES,
]
"""Every route of the spec's API, in the order the app tries them."""
