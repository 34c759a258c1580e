"""The ``gns3`` plugin: what the GNS3 topology was configured to do (link filters, suspension) per link, polled by
the ``gns3`` monitor, and optionally followed on the project's notification stream by the ``gns3_stream`` listener."""

from __future__ import annotations

from flcollector import hookimpl

from .monitor import Gns3Monitor
from .stream import Gns3StreamListener

__all__ = ["Gns3Monitor", "Gns3StreamListener"]


@hookimpl
def register_monitors() -> list[type]:
    """Register the ``gns3`` monitor."""
    return [Gns3Monitor]


@hookimpl
def register_listeners() -> list[type]:
    """Register the ``gns3_stream`` listener."""
    return [Gns3StreamListener]
