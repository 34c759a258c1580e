"""Built-in plugin ``system``: host resources (CPU, memory, disks, I/O rates, load, processes, cgroup limits)."""

from __future__ import annotations

from flcollector import hookimpl

from .monitor import SystemMonitor


@hookimpl
def register_monitors() -> list[type]:
    """Provide the ``system`` monitor."""
    return [SystemMonitor]
