"""The one HTTP model of source monitors (flcollector.sources) against a real HTTP server on loopback."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import trio
from flcollector import (
    NOT_FOUND,
    EndpointError,
    MalformedResponse,
    SeenIds,
    SourceUnavailable,
    gather_endpoints,
    get_json,
    settle,
)
from flcollector.httpserve import serve_asgi
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route


async def _status(request: Request) -> Response:
    code = int(request.path_params["code"])
    return JSONResponse({"error": f"status {code}"}, status_code=code)


async def _slow(request: Request) -> Response:
    await trio.sleep(5)
    return JSONResponse({})


APP = Starlette(
    routes=[
        Route("/object", lambda r: JSONResponse({"a": 1})),
        Route("/array", lambda r: JSONResponse([1, 2])),
        Route("/text", lambda r: PlainTextResponse("<html>oops</html>")),
        Route("/status/{code}", _status),
        Route("/slow", _slow),
    ]
)


@pytest.fixture
async def client(nursery: trio.Nursery) -> AsyncIterator[httpx.AsyncClient]:
    url = await nursery.start(serve_asgi, APP)
    async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(2.0)) as http:
        yield http


async def _error(client: httpx.AsyncClient, path: str, **kwargs: Any) -> EndpointError:
    with pytest.raises(EndpointError) as info:
        await get_json(client, path, **kwargs)
    return info.value


async def test_answers_are_data_not_found_or_endpoint_errors(client: httpx.AsyncClient) -> None:
    with trio.fail_after(10):
        assert await get_json(client, "/object", expect=dict) == {"a": 1}
        assert await get_json(client, "/status/404", allow_404=True) is NOT_FOUND
        shape = await _error(client, "/array", expect=dict)
        text = await _error(client, "/text")
        missing = await _error(client, "/status/404")
        failing = await _error(client, "/status/503")
    assert (shape.endpoint, shape.reason, shape.malformed) == ("/array", "expected a JSON object, got array", True)
    assert text.reason.startswith("not JSON") and text.malformed
    assert missing.reason == "HTTP 404" and missing.malformed  # the source answered, but not what we expect
    assert failing.reason == "HTTP 503" and not failing.malformed  # a failure of that endpoint: ENDPOINT_ERROR


@pytest.mark.parametrize(("path", "main"), [("/status/401", False), ("/status/403", False), ("/status/500", True)])
async def test_refusal_or_a_failing_main_endpoint_is_unavailable(
    client: httpx.AsyncClient, path: str, main: bool
) -> None:
    with trio.fail_after(10), pytest.raises(SourceUnavailable) as info:
        await get_json(client, path, main=main)
    assert str(info.value) == f"{str(client.base_url).rstrip('/')}{path}: HTTP {path.rsplit('/', 1)[1]}"


async def test_refused_and_timed_out_are_unavailable_naming_the_url(client: httpx.AsyncClient) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with trio.fail_after(10):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as closed:
            with pytest.raises(SourceUnavailable, match=rf"http://127.0.0.1:{port}/health: ConnectError"):
                await get_json(closed, "/health")
        async with httpx.AsyncClient(base_url=client.base_url, timeout=httpx.Timeout(0.1)) as impatient:
            with pytest.raises(SourceUnavailable, match=r"/slow: timed out \(ReadTimeout\)"):
                await get_json(impatient, "/slow")


def test_settle_judges_the_poll_as_a_whole() -> None:
    bad_shape, server_error = EndpointError("/a", "not JSON"), EndpointError("/b", "HTTP 500", malformed=False)
    assert settle({"a": {"x": 1}, "b": server_error}) == {"b": server_error}  # one failed: keep the rest
    assert settle({"a": {}, "b": []}) == {}
    with pytest.raises(MalformedResponse, match="every endpoint answered nonsense"):
        settle({"a": bad_shape, "b": EndpointError("/b", "HTTP 404")})
    with pytest.raises(SourceUnavailable, match="every endpoint failed"):
        settle({"a": bad_shape, "b": server_error})


async def test_gather_keeps_endpoint_errors_and_stops_at_the_first_outage() -> None:
    finished: list[str] = []

    async def ok() -> str:
        finished.append("ok")
        return "data"

    async def broken() -> None:
        raise EndpointError("/broken", "HTTP 404")

    async def down() -> None:
        raise SourceUnavailable("gone")

    async def never() -> None:
        await trio.sleep_forever()

    with trio.fail_after(10):
        results = await gather_endpoints({"ok": ok, "broken": broken}, trio.CapacityLimiter(1))
        with pytest.raises(SourceUnavailable, match="gone"):  # unwrapped, and the pending request is cancelled
            await gather_endpoints({"down": down, "never": never})
    assert results["ok"] == "data" and isinstance(results["broken"], EndpointError) and finished == ["ok"]


def test_seen_ids_forget_the_oldest_beyond_capacity() -> None:
    seen = SeenIds(3)
    seen.add_all(["a", "b", "c"])
    seen.add_all(["a", "d"])  # "a" is refreshed, so "b" is the oldest
    assert len(seen) == 3 and "b" not in seen and {"a", "c", "d"} == {k for k in "abcd" if k in seen}
