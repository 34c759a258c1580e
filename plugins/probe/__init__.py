"""Built-in plugin ``probe``: active TCP-connect probes (latency, packet loss, jitter) to configured targets."""

from __future__ import annotations

from flcollector import hookimpl

from .monitor import ProbeMonitor


@hookimpl
def register_monitors() -> list[type]:
    """Provide the ``probe`` monitor."""
    return [ProbeMonitor]
