"""The ``websocket`` sink plugin: live records by stream on ``WS /ws/metrics`` (config ``[[sinks.websocket]]``).

It registers the sink (``register_sinks``) and, for each configured instance, its WebSocket route on the bundled
server (``register_routes``), as any third-party plugin would.
"""

from __future__ import annotations

from flcollector import AgentView, hookimpl
from starlette.routing import BaseRoute

from .sink import WebSocketOptions, WebSocketSink


@hookimpl
def register_sinks() -> list[type]:
    """Register the ``websocket`` sink."""
    return [WebSocketSink]


@hookimpl
def register_routes(agent: AgentView) -> list[BaseRoute]:
    """The WebSocket route of every open ``websocket`` sink."""
    return [route for sink in agent.components("sink") if isinstance(sink, WebSocketSink) for route in sink.routes()]


__all__ = ["WebSocketOptions", "WebSocketSink"]
