"""The FLOPY-NET-compatible API: every route the existing dashboard backend calls, with the fields it reads.

Reference: ``flopynet-upstream.md`` §1.3. Every answer comes from the store, the cache and the run context, never
from the FL server, policy engine or SDN controller on the request path. How our records map onto upstream's:

* a Metric's ``name`` is upstream's ``metric_type``, its ``fields`` (plus tags and an ISO ``timestamp``) are ``data``,
  its ``source`` is ``source_component``;
* an Event keeps ``id`` (the ``since_id`` cursor), ``timestamp`` (ISO), ``source_component``/``component``,
  ``event_type``, ``level``/``event_level``, ``message`` and ``details``;
* documents (topology, flows, controller performance) are the latest ``TOPOLOGY_SNAPSHOT``, ``FLOW_SNAPSHOT`` and
  ``PERFORMANCE_SNAPSHOT`` events; FL rounds are ``fl_round`` metrics; the FL server's state is ``fl_server``.

``/health`` is not here: the server plugin's own ``/health`` also satisfies the dashboard (JSON without ``error``).
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute

from .data import DataView
from .events import events_routes
from .fl import fl_routes
from .fl_status import fl_status_routes
from .metrics import metrics_routes, service_routes
from .network import network_routes


def dashboard_routes(agent: Any) -> list[BaseRoute]:
    """Return the FLOPY-NET-compatible routes (GET, with HEAD added by Starlette) answering from ``agent``."""
    view = DataView(agent)
    return [
        *service_routes(agent),
        *metrics_routes(view),
        *fl_status_routes(view),
        *fl_routes(view, agent),
        *events_routes(view),
        *network_routes(view, agent),
    ]
