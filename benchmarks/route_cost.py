"""What one request to each route costs the agent, in-process: no sockets, no load generator, so far less noise
than ``benchmarks/api.py`` on a shared machine. For before/after comparisons of the server's code.

The agent (sqlite + cache + websocket sinks, ``benchmarks/api.py``'s config and fill) is filled through the real
pipeline; then each route is called ``--requests`` times, ``--rounds`` times over, on the server's own ASGI app, and
the median round gives µs per request. ``--via direct`` (the default) calls the app with a scope and collects what
it sends, so the figure is the app's own cost (what it adds to hypercorn's); ``--via httpx`` goes through
``httpx.ASGITransport``, which adds the client's cost to both. The floor is a bare ASGI app answering a constant,
called the same way in the same run, so ``ratio`` = floor µs / route µs.

Run: ``.venv/bin/python benchmarks/route_cost.py [--metrics 200000] [--events 20000] [--rounds 9] [--via httpx]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import trio

sys.path.insert(0, str(Path(__file__).parent))
import api

PATHS = [
    "/health",
    "/status",
    "/api/v1/status",
    "/api/metrics/fl/status",
    "/api/metrics/latest?type=network",
    "/api/network/flows",
    "/api/events/summary",
    "/api/v1/events?limit=100",
    "/api/v1/metrics?limit=100",
    "/api/events?limit=100",
]


async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The floor: a constant JSON answer."""
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"ok":true}'})


def scope_of(target: str) -> dict[str, Any]:
    """The ASGI scope hypercorn hands the app for ``GET target``."""
    path, _, query = target.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"bench"), (b"user-agent", b"bench"), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def call(app: Any, path: str) -> int:
    """``GET path`` on ``app`` directly, with a new scope (as a server does); the answer's status."""
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope_of(path), receive, send)
    return status[0]


async def direct_cost(app: Any, path: str, requests: int, rounds: int) -> float:
    """Median µs per request of ``path`` called on ``app`` directly (a new scope each time, as a server does)."""
    statuses = {await call(app, path) for _ in range(20)}
    assert statuses == {200}, (path, statuses)
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(requests):
            await call(app, path)
        samples.append((time.perf_counter() - started) / requests * 1e6)
    return statistics.median(samples)


async def cost(app: Any, path: str, requests: int, rounds: int, via: str = "direct") -> float:
    """Median µs per request of ``path`` over ``rounds`` rounds of ``requests`` (after a warm-up)."""
    if via == "direct":
        return await direct_cost(app, path, requests, rounds)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        for _ in range(20):
            assert (await client.get(path)).status_code == 200, path
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(requests):
                await client.get(path)
            samples.append((time.perf_counter() - started) / requests * 1e6)
    return statistics.median(samples)


@contextlib.asynccontextmanager
async def running_agent() -> AsyncIterator[Any]:
    """An agent with ``benchmarks/api.py``'s config in a temporary directory, running until the block ends."""
    from flcollector.agent import Agent
    from flcollector.config import load_config

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "collector.toml"
        path.write_text(api.CONFIG.format(data=Path(tmp) / "data"))
        agent = Agent(load_config(path, env={}))
        async with trio.open_nursery() as nursery:
            await nursery.start(agent.run)
            yield agent
            agent.stop()


async def main(args: argparse.Namespace) -> None:
    async with running_agent() as agent:
        await api.fill(agent, args.metrics, args.events)
        app = agent.find("listener", "server").app
        floor = await cost(bare, "/", args.requests, args.rounds, args.via)
        results: dict[str, Any] = {"floor_us": floor}
        for route in PATHS:
            us = await cost(app, route, args.requests, args.rounds, args.via)
            results[route] = {"us": round(us, 1), "ratio": round(floor / us, 3)}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--via", choices=["direct", "httpx"], default="direct")
    trio.run(main, parser.parse_args())
