"""The server's router finds a plain path by that path and answers as Starlette's scan does (real HTTP, loopback)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import trio
from flcollector.httpserve import serve_asgi
from flcollector.plugins.server.routing import IndexedRouter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


def _answer(text: str) -> object:
    async def handler(request: Request) -> Response:
        return PlainTextResponse(f"{text} {dict(request.path_params)}")

    return handler


ROUTES = [
    Route("/items/{name}", _answer("param"), methods=["GET"]),  # shadows the plain /items/first below
    Route("/items/first", _answer("plain-shadowed"), methods=["GET"]),
    Route("/write", _answer("get-write"), methods=["GET"]),
    Route("/write", _answer("post-write"), methods=["POST"]),  # same path, another method: found by the scan
    Route("/plain", _answer("plain"), methods=["GET"]),
    Route("/plain", _answer("second-plain"), methods=["GET"]),  # never reached, as with the scan
    Route("/dir/", _answer("dir"), methods=["GET"]),
]


@pytest.fixture(params=["indexed", "starlette"])
async def client(request: pytest.FixtureRequest, nursery: trio.Nursery) -> AsyncIterator[httpx.AsyncClient]:
    """The same routes behind the indexed router and behind Starlette's own: the answers must be the same."""
    app = Starlette(routes=ROUTES)
    if request.param == "indexed":
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


def test_only_unshadowed_plain_paths_are_indexed() -> None:
    router = IndexedRouter(ROUTES)
    assert set(router.plain) == {"/write", "/plain", "/dir/"}
    assert router.plain["/plain"] is ROUTES[4]
    assert router.plain["/write"] is ROUTES[2]
