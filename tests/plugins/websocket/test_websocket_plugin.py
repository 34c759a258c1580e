"""The websocket sink as a plugin: configured by ``[[sinks.websocket]]``, replaceable by another sink, never held
up by a client that does not read."""

from __future__ import annotations

import base64
import json
import os
import socket
from collections.abc import Sequence

import pytest
import trio
from flcollector import AgentView, Metric, Record, Sink, hookimpl
from flcollector.plugins.websocket import WebSocketSink
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket
from trio_websocket import ConnectionRejected, open_websocket_url


def ws_url(http_url: str, query: str = "") -> str:
    return http_url.replace("http://", "ws://", 1) + "/ws/metrics" + query


async def until(condition, timeout: float = 10) -> None:  # type: ignore[no-untyped-def]
    """Wait for counters the sink updates (they have no event to await), bounded by a deadline."""
    with trio.fail_after(timeout):
        while not condition():  # noqa: ASYNC110 - polling plain counters, there is no event for them
            await trio.sleep(0.01)


async def test_without_the_sink_there_is_no_live_stream(start_server) -> None:
    agent = await start_server(websocket=None)
    url = agent.find("listener", "server").url
    with trio.fail_after(10):
        with pytest.raises(ConnectionRejected):
            async with open_websocket_url(ws_url(url)):
                pass
    assert "sink:websocket" not in agent.health()["components"]
    agent.stop()


class EchoSink(Sink):
    """A throw-away replacement: every record's name, as one text frame per batch, to whoever listens."""

    name = "echo"

    async def open(self) -> None:
        self.listeners: list[trio.MemorySendChannel[str]] = []

    async def write(self, batch: Sequence[Record]) -> None:
        text = json.dumps([record.name for record in batch if isinstance(record, Metric)])
        for channel in self.listeners:
            channel.send_nowait(text)

    async def serve(self, websocket: WebSocket) -> None:
        """Echo the names of live metrics."""
        send, receive = trio.open_memory_channel[str](100)
        await websocket.accept()
        self.listeners.append(send)
        async for text in receive:
            await websocket.send_text(text)


class EchoPlugin:
    """Registers the replacement and its route, as a third-party distribution would."""

    @hookimpl
    def register_sinks(self) -> list[type]:
        return [EchoSink]

    @hookimpl
    def register_routes(self, agent: AgentView) -> list[BaseRoute]:
        sink = agent.find("sink", "echo")
        return [WebSocketRoute("/ws/metrics", sink.serve)] if sink is not None else []


async def test_another_sink_can_serve_ws_metrics_instead(start_server) -> None:
    echo = '\n[[sinks.echo]]\nflush_interval = "5ms"\n'
    agent = await start_server(echo, websocket=None, plugins=[("echo", EchoPlugin())])
    url = agent.find("listener", "server").url
    with trio.fail_after(10):
        async with open_websocket_url(ws_url(url)) as ws:
            await until(lambda: agent.find("sink", "echo").listeners)
            await agent.send([Metric("fl_round", {"accuracy": 0.9}, round=1)])
            names = json.loads(await ws.get_message())
    assert names == ["fl_round"]
    assert agent.find("sink", "websocket") is None
    agent.stop()


async def test_backfill_of_network_performance_takes_every_network_metric(running) -> None:
    names = ["network", "sdn_port", "probe_tcp", "net_latency", "link_util", "port_errors", "flow_count"]
    await running.send([Metric(name, {"v": 1.0}) for name in names] + [Metric("cpu", {"v": 1.0})])
    with trio.fail_after(10):
        async with open_websocket_url(ws_url(running.url)) as ws:
            request = {"action": "subscribe", "streams": ["network_performance"], "backfill": 20}
            await ws.send_message(json.dumps(request))
            received: list[str] = []
            while len(received) < len(names):
                message = json.loads(await ws.get_message())
                if message.get("backfill"):
                    received.append(message["data"]["name"])
    assert sorted(received) == sorted(names)


async def _stuck_client(url: str) -> trio.socket.SocketType:
    """A WebSocket client that subscribes to everything and then never reads (its window soon closes)."""
    host, port = url.removeprefix("http://").split(":")
    client = trio.socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    await client.connect((host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    await client.send(
        f"GET /ws/metrics?streams=all HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    assert (await client.recv(12)).startswith(b"HTTP/1.1 101")
    return client


async def test_a_client_that_does_not_read_is_closed_counted_and_never_holds_the_shutdown(start_server) -> None:
    with trio.fail_after(30):  # before stall_timeout, this shutdown waited for the silent client forever
        async with trio.open_nursery() as nursery:
            ws_options = 'queue_size = 50\nsend_timeout = "0.2s"\n'
            agent = await start_server('stall_timeout = "2s"\n', websocket=ws_options, within=nursery)
            sink = agent.find("sink", "websocket")
            assert isinstance(sink, WebSocketSink)
            client = await _stuck_client(agent.find("listener", "server").url)
            await until(lambda: sink.hub.clients)
            padding = "x" * 500
            while not sink.runtime.stats.counters["ws_slow_closed"]:
                await agent.send([Metric("cpu", {"i": i, "pad": padding}) for i in range(500)])
            # Closed by the watchdog (its close frame stuck behind the unread data) or dropped by the kernel: gone.
            await until(lambda: not sink.hub.clients)
            assert sink.runtime.stats.counters["ws_dropped"] > 0  # and everything it could not take was counted
            started = trio.current_time()
            agent.stop()
        assert trio.current_time() - started < 10
        client.close()
    assert agent.health()["status"] in ("healthy", "degraded")
