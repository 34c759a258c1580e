"""The ``forward`` sink: records to another flcollector's ingest API, with this node's identity."""

from __future__ import annotations

from flcollector import hookimpl

from .sink import ForwardOptions, ForwardSink

__all__ = ["ForwardOptions", "ForwardSink", "register_sinks"]


@hookimpl
def register_sinks() -> list[type]:
    """Provide the ``forward`` sink."""
    return [ForwardSink]
