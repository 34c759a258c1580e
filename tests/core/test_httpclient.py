"""HttpClient: an answer is freed when dropped, without the cycle collector (httpx's own client needs it)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import httpx
import pytest
import trio
from flcollector import HttpClient, get_json
from flcollector.httpserve import serve_asgi
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

APP = Starlette(routes=[Route("/doc", lambda r: JSONResponse({"rows": list(range(1000))}))])


@pytest.fixture
def no_cycle_collector() -> Iterator[None]:
    """Only reference counting frees objects while the test runs."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def _dropped_answer_survives(client: httpx.AsyncClient) -> bool:
    response = await client.get("/doc")
    assert response.json()["rows"][-1] == 999 and response.elapsed.total_seconds() >= 0
    alive = weakref.ref(response)
    del response
    return alive() is not None


async def test_a_read_answer_is_freed_when_dropped(nursery: trio.Nursery, no_cycle_collector: None) -> None:
    url = await nursery.start(serve_asgi, APP)
    with trio.fail_after(10):
        async with httpx.AsyncClient(base_url=url) as plain:
            assert await _dropped_answer_survives(plain)  # httpx 0.28's cycle: freed only by the collector
        async with HttpClient(base_url=url) as client:
            assert not await _dropped_answer_survives(client)
            assert await get_json(client, "/doc", expect=dict) == {"rows": list(range(1000))}


async def test_a_streamed_answer_keeps_its_stream(nursery: trio.Nursery) -> None:
    url = await nursery.start(serve_asgi, APP)
    with trio.fail_after(10):
        async with HttpClient(base_url=url) as client, client.stream("GET", "/doc") as response:
            body = b"".join([chunk async for chunk in response.aiter_bytes()])
    assert body.startswith(b'{"rows":[0,1,')
