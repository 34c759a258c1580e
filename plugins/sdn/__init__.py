"""The ``sdn`` plugin: monitors a Ryu or ONOS SDN controller (topology, port rates, flows, traffic, performance)."""

from __future__ import annotations

from flcollector import hookimpl

from .monitor import SdnMonitor

__all__ = ["SdnMonitor"]


@hookimpl
def register_monitors() -> list[type]:
    """Register the ``sdn`` monitor."""
    return [SdnMonitor]
