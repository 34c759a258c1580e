"""The ``rounds`` plugin: the round table (every FL round with the network it ran on), its routes, its exporter."""

from __future__ import annotations

from flcollector import hookimpl

from .processor import RoundsProcessor


@hookimpl
def register_processors() -> list[type]:
    """Register the ``rounds`` processor."""
    return [RoundsProcessor]
