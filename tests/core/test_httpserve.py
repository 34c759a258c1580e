"""``serve_asgi``: a client that stops reading cannot hold the server's shutdown (``stall_timeout``)."""

from __future__ import annotations

import socket

import trio
from flcollector.httpserve import serve_asgi

CHUNK = b"x" * 65536


class Endless:
    """An ASGI app streaming a body that never ends (a live feed), to whoever asks."""

    def __init__(self) -> None:
        self.streaming = trio.Event()

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        self.streaming.set()
        while True:
            await send({"type": "http.response.body", "body": CHUNK, "more_body": True})
            await trio.lowlevel.checkpoint()


async def test_a_client_that_stops_reading_does_not_hold_the_shutdown() -> None:
    shutdown, app = trio.Event(), Endless()
    # Without stall_timeout hypercorn's shielded send waits for the peer forever, and no deadline can cancel it.
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            url = await nursery.start(lambda task_status: serve_asgi(
                app, shutdown=shutdown, graceful_timeout=0.2, stall_timeout=0.5, task_status=task_status))
            host, port = url.removeprefix("http://").split(":")
            client = trio.socket.socket()
            client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window that soon closes
            await client.connect((host, int(port)))
            await client.send(b"GET / HTTP/1.1\r\nhost: test\r\n\r\n")
            # Never read: the server's socket buffers fill within milliseconds and its send blocks. Stop the server.
            await app.streaming.wait()
            started = trio.current_time()
            shutdown.set()
        stopped_after = trio.current_time() - started
        client.close()
    assert stopped_after < 10


async def test_one_clients_protocol_error_never_stops_the_server() -> None:
    """hypercorn issue #225: a WebSocket upgrade request followed at once by more bytes crashed the whole server (it
    took the agent's API down: "listener 'server' crashed"). Only that connection may end."""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket

    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()

    app = Starlette(routes=[Route("/ok", lambda request: PlainTextResponse("ok")), WebSocketRoute("/ws", ws)])
    shutdown = trio.Event()
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            url = await nursery.start(lambda task_status: serve_asgi(app, shutdown=shutdown, task_status=task_status))
            host, port = url.removeprefix("http://").split(":")
            for _ in range(3):
                attacker = trio.socket.socket()
                await attacker.connect((host, int(port)))
                await attacker.send(
                    b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                    b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: bKdPyn3u98cTfZJSh4TNeQ==\r\n\r\nx\n"
                )
                while await attacker.recv(4096):  # until the server closes that connection
                    pass
                attacker.close()
            client = trio.socket.socket()
            await client.connect((host, int(port)))
            await client.send(b"GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := await client.recv(4096):
                answer += chunk
            client.close()
            shutdown.set()
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"ok")
