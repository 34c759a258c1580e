"""What one request to each route costs the agent, in-process: no sockets, no load generator, so far less noise
than ``benchmarks/api.py`` on a shared machine. For before/after comparisons of the server's code.

The agent (sqlite + cache + websocket sinks, ``benchmarks/api.py``'s config and fill) is filled through the real
pipeline; then each route is called ``--requests`` times, ``--rounds`` times over, through ``httpx.ASGITransport``
on the server's own Starlette app, and the median round gives µs per request. The floor is a bare ASGI app
answering a constant through the same client in the same run, so ``ratio`` = floor µs / route µs.

Run: ``.venv/bin/python benchmarks/route_cost.py [--metrics 200000] [--events 20000] [--rounds 9]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import trio

sys.path.insert(0, str(Path(__file__).parent))
import api

PATHS = [
    "/health",
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


async def cost(app: Any, path: str, requests: int, rounds: int) -> float:
    """Median µs per request of ``path`` over ``rounds`` rounds of ``requests`` (after a warm-up)."""
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


async def main(args: argparse.Namespace) -> None:
    from flcollector.agent import Agent
    from flcollector.config import load_config

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "collector.toml"
        path.write_text(api.CONFIG.format(data=Path(tmp) / "data"))
        agent = Agent(load_config(path, env={}))
        async with trio.open_nursery() as nursery:
            await nursery.start(agent.run)
            await api.fill(agent, args.metrics, args.events)
            app = agent.find("listener", "server").app
            floor = await cost(bare, "/", args.requests, args.rounds)
            results: dict[str, Any] = {"floor_us": floor}
            for route in PATHS:
                us = await cost(app, route, args.requests, args.rounds)
                results[route] = {"us": round(us, 1), "ratio": round(floor / us, 3)}
            agent.stop()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=9)
    trio.run(main, parser.parse_args())
