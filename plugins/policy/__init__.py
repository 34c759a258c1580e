"""The ``policy`` plugin: monitors the FLOPY-NET policy engine (decisions, policy counts, engine events)."""

from __future__ import annotations

from flcollector import hookimpl

from .monitor import PolicyMonitor

__all__ = ["PolicyMonitor"]


@hookimpl
def register_monitors() -> list[type]:
    """Register the ``policy`` monitor."""
    return [PolicyMonitor]
