"""The ``dashboard`` plugin: every route the existing FLOPY-NET dashboard backend calls, with the fields it reads.

Reference: ``flopynet-upstream.md`` §1.3. It adds its routes to the bundled server through ``register_routes``,
as any third-party plugin would; ``[agent] disable_plugins = ["dashboard"]`` leaves the spec's API alone. Every
answer comes from the store, the cache and the run context, never from the FL server, policy engine or SDN
controller on the request path. How our records map onto upstream's shapes:

* a Metric's ``name`` is upstream's ``metric_type``, its ``fields`` (plus tags and an ISO ``timestamp``) are ``data``,
  its ``source`` is ``source_component``;
* an Event keeps ``id`` (the ``since_id`` cursor), ``timestamp`` (ISO), ``source_component``/``component``,
  ``event_type``, ``level``/``event_level``, ``message`` and ``details``;
* documents (topology, flows, controller performance) are the latest ``TOPOLOGY_SNAPSHOT``, ``FLOW_SNAPSHOT`` and
  ``PERFORMANCE_SNAPSHOT`` events; FL rounds are ``fl_round`` metrics; the FL server's state is ``fl_server``.

One module per route family; the contract's quirks (timestamps, errors, limits, row shapes) are in ``contract.py``.

* ``fl``: ``/api/metrics/fl``, ``/api/metrics/fl/summary``, ``/api/metrics/fl/rounds``;
* ``fl_status``: ``/api/metrics/fl/status``, ``/api/metrics/fl/config``;
* ``metrics``: ``/api/metrics``, ``/api/metrics/latest``;
* ``events``: ``/api/events``, ``/api/events/summary``;
* ``policy``: ``/api/policy/decisions``;
* ``network``: ``/api/network/topology``, ``/api/network/topology/live``, ``/api/network/flows``,
  ``/api/flows/statistics``, ``/api/performance/metrics``;
* ``status``: ``/status``, ``/api/``.

``/health`` is not here: the server's own ``/health`` also satisfies the dashboard (JSON without ``error``).
"""

from __future__ import annotations

from flcollector import AgentView, hookimpl
from starlette.routing import BaseRoute

from . import events, fl, fl_status, metrics, network, policy, status

ROUTES: list[BaseRoute] = [
    *status.ROUTES,
    *metrics.ROUTES,
    *fl_status.ROUTES,
    *fl.ROUTES,
    *events.ROUTES,
    *policy.ROUTES,
    *network.ROUTES,
]
"""Every dashboard route (GET; Starlette adds HEAD)."""


@hookimpl
def register_routes(agent: AgentView) -> list[BaseRoute]:
    """The dashboard's routes; each handler finds its agent's data from the request (``DataView.of``)."""
    return list(ROUTES)
