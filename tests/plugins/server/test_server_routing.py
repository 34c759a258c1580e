"""The server's router finds a plain path by that path and answers as Starlette's scan does (real HTTP, loopback)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import trio
from flcollector.httpserve import serve_asgi
from flcollector.plugins.server.routing import IndexedRouter, direct_endpoint
from flcollector.plugins.server.stack import ServerApp
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send


def _answer(text: str) -> object:
    async def handler(request: Request) -> Response:
        return PlainTextResponse(f"{text} {dict(request.path_params)}")

    return handler


class Tagged:
    """Route middleware that marks its answers, so a test sees that a route's own middleware still runs."""

    def __init__(self, app: object) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-tagged", b"yes")]
            await send(message)

        await self.app(scope, receive, tagged)  # type: ignore[operator]


def _sync_answer(request: Request) -> Response:
    return PlainTextResponse("sync")


ROUTES = [
    Route("/items/{name}", _answer("param"), methods=["GET"]),  # shadows the plain /items/first below
    Route("/items/first", _answer("plain-shadowed"), methods=["GET"]),
    Route("/write", _answer("get-write"), methods=["GET"]),
    Route("/write", _answer("post-write"), methods=["POST"]),  # same path, another method: found by the scan
    Route("/plain", _answer("plain"), methods=["GET"]),
    Route("/plain", _answer("second-plain"), methods=["GET"]),  # never reached, as with the scan
    Route("/dir/", _answer("dir"), methods=["GET"]),
    Route("/tagged", _answer("tagged"), methods=["GET"], middleware=[Middleware(Tagged)]),
    Route("/sync", _sync_answer, methods=["GET"]),
]


@pytest.fixture(params=["indexed", "server", "starlette"])
async def client(request: pytest.FixtureRequest, nursery: trio.Nursery) -> AsyncIterator[httpx.AsyncClient]:
    """The same routes behind the indexed router (in Starlette's app and in the server's) and behind Starlette's
    own: the answers must be the same."""
    app = ServerApp(routes=ROUTES) if request.param == "server" else Starlette(routes=ROUTES)
    if request.param != "starlette":
        app.router = IndexedRouter(app.router.routes)
    url = await nursery.start(serve_asgi, app)
    async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(5.0)) as http:
        yield http


async def test_answers_are_the_scans(client: httpx.AsyncClient) -> None:
    with trio.fail_after(20):
        assert (await client.get("/items/first")).text == "param {'name': 'first'}"
        assert (await client.get("/write")).text == "get-write {}"
        assert (await client.post("/write")).text == "post-write {}"
        assert (await client.get("/plain")).text == "plain {}"
        assert (await client.head("/plain")).status_code == 200
        assert (await client.delete("/plain")).status_code == 405
        assert (await client.get("/nowhere")).status_code == 404
        redirect = await client.get("/dir")  # the scan's slash redirect still applies
        assert redirect.status_code == 307
        assert redirect.headers["location"].endswith("/dir/")
        tagged = await client.get("/tagged")  # a route's own middleware runs: its endpoint is not called directly
        assert (tagged.text, tagged.headers.get("x-tagged")) == ("tagged {}", "yes")
        assert (await client.get("/sync")).text == "sync"  # a plain function still runs in Starlette's thread


def test_only_unshadowed_plain_paths_are_indexed() -> None:
    router = IndexedRouter(ROUTES)
    assert set(router.plain) == {"/write", "/plain", "/dir/", "/tagged", "/sync"}
    assert router.plain["/plain"][0] is ROUTES[4]
    assert router.plain["/write"][0] is ROUTES[2]


def test_only_a_coroutine_endpoint_in_starlettes_bare_wrapper_is_called_directly() -> None:
    plain, tagged, sync = ROUTES[4], ROUTES[7], ROUTES[8]
    assert direct_endpoint(plain) is plain.endpoint
    assert direct_endpoint(tagged) is None  # its app is the middleware around the wrapper
    assert direct_endpoint(sync) is None  # request_response runs it in a thread
    assert direct_endpoint(Route("/asgi", Tagged(plain.app))) is None  # an ASGI app as the endpoint
