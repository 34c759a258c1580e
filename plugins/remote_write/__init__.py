"""The ``remote_write`` sink: Prometheus remote-write 1.0 to any Prometheus-compatible store."""

from __future__ import annotations

from flcollector import hookimpl

from .naming import Namer
from .proto import WriteRequest
from .sink import RemoteWriteOptions, RemoteWriteSink

__all__ = ["Namer", "RemoteWriteOptions", "RemoteWriteSink", "WriteRequest", "register_sinks"]


@hookimpl
def register_sinks() -> list[type]:
    """Provide the ``remote_write`` sink."""
    return [RemoteWriteSink]
