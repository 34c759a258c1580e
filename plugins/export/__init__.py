"""The ``export`` plugin: the spec's export API over HTTP, and the HTML report.

With ``[[listeners.export]]`` configured, it adds routes to the bundled server through ``register_routes(agent)``,
exactly as a third-party plugin would: ``POST /api/v1/export``, ``GET /api/v1/exports``, ``GET
/api/v1/exports/{id}``, ``GET /api/v1/downloads/{id}`` and ``GET /api/v1/report``. Exports are written by the
listener's background service (see :mod:`.service`) into the exports directory (see :mod:`.settings`), which it
also cleans of its own expired exports.
"""

from __future__ import annotations

from typing import Any

from flcollector import AgentView, hookimpl

from .listener import ExportListener
from .routes import ROUTES


@hookimpl
def register_listeners() -> list[type]:
    """Register the ``export`` listener (the export API's service)."""
    return [ExportListener]


@hookimpl
def register_routes(agent: AgentView) -> list[Any]:
    """The export API's routes, when the ``export`` listener is configured (else there is no export API)."""
    return list(ROUTES) if agent.find("listener", "export") is not None else []
