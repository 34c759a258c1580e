"""The ``export`` plugin: the spec's export API over HTTP, and the HTML report.

It adds routes to the bundled server through ``register_routes(agent)``, exactly as a third-party plugin would:
``POST /api/v1/export``, ``GET /api/v1/exports``, ``GET /api/v1/exports/{id}``, ``GET /api/v1/downloads/{id}``
and ``GET /api/v1/report``. Exports are written by a background service (see :mod:`.service`) into the exports
directory (see :mod:`.settings`), which it also cleans of its own expired exports.
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

from flcollector import hookimpl

from .routes import routes
from .service import ExportService
from .settings import settings_from

_SERVICES: weakref.WeakKeyDictionary[Any, ExportService] = weakref.WeakKeyDictionary()


def service_of(agent: Any) -> ExportService:
    """Return the export service of ``agent`` (made on first use, with the settings of the environment)."""
    service = _SERVICES.get(agent)
    if service is None:
        service = _SERVICES[agent] = ExportService(agent, settings_from(None, Path(agent.data_dir)))
    return service


@hookimpl
def register_routes(agent: Any) -> list[Any]:
    """The export API's routes."""
    return routes(service_of(agent))


@hookimpl
def startup(agent: Any) -> None:
    """Start the service, so expired exports are deleted even when nobody asks for an export."""
    service_of(agent).ensure_running()


@hookimpl
def shutdown(agent: Any) -> None:
    """Stop the service: an export still running is marked failed and its parts deleted."""
    service = _SERVICES.pop(agent, None)
    if service is not None:
        service.stop()
