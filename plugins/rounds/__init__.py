"""The ``rounds`` plugin: the round table (every FL round with the network it ran on), its routes, its exporter."""

from __future__ import annotations

from typing import Any

from flcollector import hookimpl

from .jsonl_export import RoundsExporter
from .processor import RoundsProcessor
from .routes import ROUTES


@hookimpl
def register_processors() -> list[type]:
    """Register the ``rounds`` processor."""
    return [RoundsProcessor]


@hookimpl
def register_routes(agent: Any) -> list[Any]:
    """Add ``/api/v1/fl/rounds``, ``/api/v1/experiments`` and ``/api/v1/experiments/{id}`` to the server."""
    return list(ROUTES)


@hookimpl
def register_exporters() -> list[type]:
    """Register the ``rounds`` exporter (the round table as JSON lines, with the manifest beside it)."""
    return [RoundsExporter]
