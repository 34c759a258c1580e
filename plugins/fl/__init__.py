"""The ``fl`` plugin: polls the FLOPY-NET FL server's metrics API (rounds, status, events)."""

from __future__ import annotations

from flcollector import hookimpl

from .monitor import FlMonitor


@hookimpl
def register_monitors() -> list[type]:
    """Register the ``fl`` monitor."""
    return [FlMonitor]
