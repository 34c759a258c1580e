"""The bundled server plugin: the listener ``server`` (config table ``[server]``)."""

from __future__ import annotations

from flcollector import hookimpl

from .listener import ServerListener, ServerOptions


@hookimpl
def register_listeners() -> list[type]:
    """Register the ``server`` listener."""
    return [ServerListener]


__all__ = ["ServerListener", "ServerOptions"]
