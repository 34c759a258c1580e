"""The server's short request path: the app's handlers answer every exception of an HTTP request, one layer up from
the route, as Starlette's own stack would; WebSocket connections still take Starlette's stack (real HTTP, loopback)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import httpx
import pytest
import trio
from flcollector.httpserve import serve_asgi
from flcollector.plugins.server.routing import IndexedRouter
from flcollector.plugins.server.stack import ErrorAnswers, ServerApp
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from trio_websocket import open_websocket_url


class Refused(Exception):
    """What a route raises for its handler to answer with a 400."""


class Counting:
    """Pure ASGI middleware counting connections by scope type (like the server's request counter)."""

    seen: dict[str, int] = {}

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        Counting.seen[scope["type"]] = Counting.seen.get(scope["type"], 0) + 1
        await self.app(scope, receive, send)


class Passing:
    """Route middleware: the route's endpoint goes through Starlette's own wrapper, not the direct call."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


KEPT: list[BaseException] = []  # the exceptions crash raised, newest last


async def refuse(request: Request) -> Response:
    raise Refused(f"no {request.url.path}")


async def crash(request: Request) -> Response:
    error = ZeroDivisionError("boom")
    KEPT.append(error)
    raise error


async def teapot(request: Request) -> Response:
    raise HTTPException(418, "short and stout")


async def gone(request: Request) -> Response:
    raise HTTPException(410, "long gone")


async def half(request: Request) -> Response:
    async def body() -> AsyncGenerator[bytes, None]:
        yield b"first part"
        raise RuntimeError("the rest is lost")

    return StreamingResponse(body())


async def fine(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(await websocket.receive_text())
    await websocket.close()


async def on_refused(request: Request, exc: Exception) -> Response:
    return JSONResponse({"refused": str(exc)}, status_code=400)


async def on_crash(request: Request, exc: Exception) -> Response:
    return JSONResponse({"crashed": type(exc).__name__}, status_code=500)


async def on_teapot(request: Request, exc: Exception) -> Response:
    return JSONResponse({"status": 418}, status_code=418)


ROUTES = [
    Route("/refuse", refuse),
    Route("/refuse-wrapped", refuse, middleware=[Middleware(Passing)]),
    Route("/crash", crash),
    Route("/crash-wrapped", crash, middleware=[Middleware(Passing)]),
    Route("/teapot", teapot),
    Route("/gone", gone),
    Route("/half", half),
    Route("/fine", fine),
    WebSocketRoute("/ws", echo),
]


@pytest.fixture
async def client(nursery: trio.Nursery) -> AsyncIterator[httpx.AsyncClient]:
    app = ServerApp(
        routes=ROUTES,
        middleware=[Middleware(Counting)],
        exception_handlers={Refused: on_refused, 418: on_teapot, Exception: on_crash},
    )
    app.router = IndexedRouter(app.router.routes)
    url = await nursery.start(serve_asgi, app)
    async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(5.0)) as http:
        yield http


async def test_the_apps_handlers_answer_whether_the_route_is_called_directly_or_wrapped(
    client: httpx.AsyncClient,
) -> None:
    with trio.fail_after(20):
        for path in ("/refuse", "/refuse-wrapped"):
            answer = await client.get(path)
            assert (answer.status_code, answer.json()) == (400, {"refused": f"no {path}"})
        for path in ("/crash", "/crash-wrapped"):
            answer = await client.get(path)
            assert (answer.status_code, answer.json()) == (500, {"crashed": "ZeroDivisionError"})


async def test_an_answered_exception_keeps_no_frames() -> None:
    """Called as the server calls it (in-process, so the check runs after the layer returned, not after the client
    got the answer)."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    layer = ErrorAnswers(IndexedRouter(ROUTES), {Exception: on_crash})
    scope = {"type": "http", "method": "GET", "path": "/crash", "root_path": "", "query_string": b"", "headers": []}
    await layer(scope, receive, send)
    assert sent[0]["status"] == 500
    assert KEPT[-1].__traceback__ is None  # a kept exception would hold the request's frames


async def test_http_exceptions_by_status_handler_else_starlettes_plain_answer(client: httpx.AsyncClient) -> None:
    with trio.fail_after(20):
        teapot = await client.get("/teapot")
        assert (teapot.status_code, teapot.json()) == (418, {"status": 418})
        gone = await client.get("/gone")
        assert (gone.status_code, gone.text) == (410, "long gone")
        missing = await client.get("/nowhere")  # the router's 404 is an HTTPException too
        assert (missing.status_code, missing.text) == (404, "Not Found")


async def test_an_error_after_the_answer_started_ends_that_connection_only(client: httpx.AsyncClient) -> None:
    with trio.fail_after(20):
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/half")  # the body stops short: it cannot be answered with a second status line
        assert (await client.get("/fine")).json() == {"ok": True}


async def test_websockets_take_starlettes_stack_with_the_same_middleware(client: httpx.AsyncClient) -> None:
    with trio.fail_after(20):
        before = dict(Counting.seen)
        async with open_websocket_url(str(client.base_url.join("/ws")).replace("http", "ws", 1)) as ws:
            await ws.send_message("hello")
            assert await ws.get_message() == "hello"
        assert (await client.get("/fine")).status_code == 200
        assert Counting.seen.get("websocket", 0) == before.get("websocket", 0) + 1
        assert Counting.seen.get("http", 0) == before.get("http", 0) + 1
