"""The server under load: dashboard polling, WebSocket fan-out and line-protocol ingest, against floors.

The agent under test runs in its own process (``--serve``), with sqlite + cache sinks, filled through the real
pipeline with ``--metrics`` metrics and ``--events`` events before the clock starts. The floor is a bare
hypercorn-trio ASGI route in another process (``--floor``): same server stack, no app work. The load generator
(this process) is a minimal HTTP/1.1 keep-alive client on raw Trio sockets, so it costs far less per request than
the server does.

1. Polling: ``--clients`` connections each cycle through the four overview routes the FLOPY-NET dashboard polls
   (``/api/metrics/fl/status``, ``/api/metrics/latest?type=network``, ``/api/network/flows``,
   ``/api/events/summary``) for ``--seconds``: req/s, p50, p99, and the ratio to the floor's req/s.
2. WebSocket: ``--subscribers`` clients on ``/ws/metrics``; the agent emits ``--rate`` records/s for ``--seconds``
   (batches every 20 ms, like monitors), and each client measures delivery latency (receive time - record time).
   Run in batch mode (one frame per wake-up) and in per-message mode.
3. Ingest: ``POST /write`` with ``--ingest-batches`` bodies of 5000 line-protocol points, into the full pipeline
   (sqlite + cache); the floor is the same POSTs to the bare route (read the body, answer 204).

4. Routes (``--only routes``): each of ``--paths`` (both faces, cheap and list routes) polled alone by ``--clients``
   connections for ``--seconds / 2``, as a ratio to the floor's req/s in the same run.

Run: ``.venv/bin/python benchmarks/api.py [--metrics 1000000] [--events 100000] [--seconds 10]
[--only poll,routes,ws,ingest] [--ws-modes batch,messages] [--paths /health,...]``;
``BENCH_PROFILE=/tmp/agent.prof`` runs the agent process under cProfile. Figures: BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import trio

OVERVIEW = ["/api/metrics/fl/status", "/api/metrics/latest?type=network", "/api/network/flows", "/api/events/summary"]
#: ``--only routes``: each polled alone, against the floor of the same run (both faces, cheap and list routes).
ROUTES = [
    "/health",
    "/api/v1/events?limit=100",
    "/api/v1/metrics?limit=100",
    "/api/events?limit=100",
    "/api/metrics/fl/rounds?limit=100",
    "/api/metrics/fl/status",
]
CONFIG = """
[agent]
data_dir = "{data}"
experiment = "bench"
self_metrics_interval = "0s"
[[sinks.sqlite]]
retention = "0s"
batch_size = 5000
[[sinks.cache]]
[[sinks.websocket]]
flush_interval = "20ms"
when_full = "drop_oldest"
keepalive = "0s"
[server]
port = 0
"""


# -- the agent under test (subprocess) ------------------------------------------------------------------------------


def records(i: int, now: int) -> Any:
    """The i-th record of the fill: a realistic mix of the built-in monitors' records."""
    from flcollector import Metric

    t = now - (10_000_000 - i) * 1_000_000  # spread over the past ~2.8 h, 1 ms apart
    kind = i % 10
    if kind < 4:
        return Metric(
            "sdn_port",
            {"rx_bps": float(i % 1000), "tx_bps": 2.0, "rx_bytes": i, "tx_bytes": i},
            t,
            {"switch": f"s{i % 8}", "port": str(i % 24)},
            "sdn_controller",
        )
    if kind < 7:
        return Metric("system_cpu", {"usage_percent": float(i % 100)}, t, {"host": f"h{i % 4}"}, "host")
    if kind < 9:
        return Metric("probe_tcp", {"rtt_avg_ms": 1.0 + i % 7, "loss_percent": 0.0}, t, {"target": f"t{i % 5}"})
    if i % 100 == 9:
        return Metric(
            "fl_round", {"accuracy": 0.5, "loss": 0.5, "clients_succeeded": 5}, t, source="fl_server", round=i // 100
        )
    if i % 20 == 19:
        return Metric(
            "fl_server",
            {"connected_clients": 5, "state": "active", "current_round": i // 100, "accuracy": 0.5, "loss": 0.5},
            t,
            source="fl_server",
            round=i // 100,
        )
    return Metric(
        "network",
        {"switches_count": 8, "hosts_count": 10, "links_count": 9, "flows_total": 40},
        t,
        source="sdn_controller",
    )


def event(i: int, now: int) -> Any:
    """The i-th event of the fill."""
    from flcollector import Event

    t = now - (1_000_000 - i) * 10_000_000
    if i % 1000 == 0:
        flows = [{"switch_dpid": f"s{j % 8}", "priority": j % 3, "packet_count": j, "byte_count": j} for j in range(40)]
        return Event("FLOW_SNAPSHOT", "40 flows", t, "sdn_controller", "INFO", {"flows": flows})
    level = ("INFO", "INFO", "WARNING", "ERROR", "DEBUG")[i % 5]
    return Event(
        ("POLICY_DECISION", "ROUND_COMPLETED", "LINK_DOWN", "CLIENT_JOINED")[i % 4],
        f"event {i}",
        t,
        ("policy_engine", "fl_server", "sdn_controller")[i % 3],
        level,
        {"i": i},
    )


async def fill(agent: Any, metrics: int, events: int) -> None:
    """Send ``metrics`` records of :func:`records` then ``events`` of :func:`event` through ``agent``'s pipeline, in
    batches of 5,000, and return once its sqlite sink has written them all."""
    from flcollector import now_ns

    now = now_ns()
    for start in range(0, metrics, 5000):
        await agent.send([records(i, now) for i in range(start, min(start + 5000, metrics))])
    for start in range(0, events, 5000):
        await agent.send([event(i, now) for i in range(start, min(start + 5000, events))])
    sqlite = agent.stats.get("sink", "sqlite")
    assert sqlite is not None
    while sqlite.counters["records_out"] < metrics + events:  # noqa: ASYNC110 - a poll of a counter
        await trio.sleep(0.1)


async def answer_lifespan(scope: dict[str, Any], receive: Any, send: Any) -> bool:
    """For a bare ASGI app: complete the lifespan messages when ``scope`` is the lifespan's (then True)."""
    if scope["type"] != "lifespan":
        return False
    while True:
        message = await receive()
        await send({"type": message["type"] + ".complete"})
        if message["type"] == "lifespan.shutdown":
            return True


async def serve(args: argparse.Namespace) -> None:
    """Fill the store through the pipeline, print the URL, then obey commands on stdin until ``stop``."""
    from flcollector import Metric, now_ns
    from flcollector.agent import Agent
    from flcollector.config import load_config

    path = Path(args.serve) / "collector.toml"
    path.write_text(CONFIG.format(data=Path(args.serve) / "data"))
    agent = Agent(load_config(path, env={}))
    async with trio.open_nursery() as nursery:
        await nursery.start(agent.run)
        server = agent.find("listener", "server")
        started = time.perf_counter()
        await fill(agent, args.metrics, args.events)
        fill_s = time.perf_counter() - started
        print(json.dumps({"url": server.url, "fill_s": fill_s}), flush=True)
        stdin = trio.lowlevel.FdStream(os.dup(0))
        buffer = b""
        while True:
            while b"\n" not in buffer:
                chunk = await stdin.receive_some(1024)
                if not chunk:  # the parent went away: stop rather than spin on EOF
                    buffer += b"\nstop\n"
                buffer += chunk
            line, _, buffer = buffer.partition(b"\n")
            command, *rest = line.decode().split() or ["noop"]
            if command == "emit":  # emit <rate> <seconds>: batches every 20 ms, stamped when made
                rate, seconds = int(rest[0]), float(rest[1])
                per_batch, batches = max(1, rate // 50), int(seconds * 50)
                websocket = agent.find("sink", "websocket")
                hub = websocket.hub
                published, deadline = hub.published, trio.current_time()
                for n in range(batches):
                    deadline += 0.02
                    stamp = now_ns()
                    await agent.send([Metric("bench", {"n": n, "i": i}, stamp) for i in range(per_batch)])
                    await trio.sleep_until(deadline)
                await trio.sleep(1.0)
                print(
                    json.dumps(
                        {
                            "published": hub.published - published,
                            "ws_dropped": websocket.runtime.stats.counters.get("ws_dropped", 0),
                        }
                    ),
                    flush=True,
                )
            elif command == "stop":
                agent.stop()
                return


async def floor(args: argparse.Namespace) -> None:
    """A bare hypercorn-trio route: reads any body, answers a small JSON (or 204 for POST)."""
    from flcollector.httpserve import serve_asgi

    body = b'{"ok":true}'

    async def app(scope: dict, receive: Any, send: Any) -> None:
        if await answer_lifespan(scope, receive, send) or scope["type"] != "http":
            return
        more = True
        while more:
            more = (await receive()).get("more_body", False)
        if scope["method"] == "POST":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"11")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async with trio.open_nursery() as nursery:
        url = await nursery.start(serve_asgi, app, "127.0.0.1", 0)
        print(json.dumps({"url": url}), flush=True)
        await trio.lowlevel.FdStream(os.dup(0)).receive_some(16)  # any input (or EOF) stops it
        nursery.cancel_scope.cancel()


# -- the load generator (this process) -------------------------------------------------------------------------------


class Connection:
    """One HTTP/1.1 keep-alive connection; ``request`` returns (status, seconds)."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.buffer = b""

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, float]:
        head = f"{method} {path} HTTP/1.1\r\nhost: bench\r\ncontent-length: {len(body)}\r\n\r\n".encode()
        started = time.perf_counter()
        await self.stream.send_all(head + body)
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += await self.stream.receive_some(1 << 16)
        header, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = header.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
            elif name.strip().lower() == b"transfer-encoding":
                raise RuntimeError("chunked responses are not supported by this load generator")
        while len(self.buffer) < length:
            self.buffer += await self.stream.receive_some(1 << 16)
        self.buffer = self.buffer[length:]
        return status, time.perf_counter() - started


async def connect(url: str) -> Connection:
    host, port = url.removeprefix("http://").split(":")
    return Connection(await trio.open_tcp_stream(host, int(port)))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def poll(url: str, paths: list[str], clients: int, seconds: float, warmup: float = 2.0) -> dict[str, Any]:
    """``clients`` connections cycle through ``paths``; returns req/s, p50/p99 (ms) and non-200 count."""
    latencies: list[float] = []
    errors = 0

    async def worker(offset: int, until: float, record: bool) -> None:
        nonlocal errors
        connection = await connect(url)
        i = offset
        while trio.current_time() < until:
            status, elapsed = await connection.request("GET", paths[i % len(paths)])
            i += 1
            if record:
                latencies.append(elapsed)
                errors += status != 200
        await connection.stream.aclose()

    async with trio.open_nursery() as nursery:
        for n in range(clients):
            nursery.start_soon(worker, n, trio.current_time() + warmup, False)
    started = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for n in range(clients):
            nursery.start_soon(worker, n, trio.current_time() + seconds, True)
    wall = time.perf_counter() - started
    return {
        "rps": len(latencies) / wall,
        "p50_ms": percentile(latencies, 0.5) * 1e3,
        "p99_ms": percentile(latencies, 0.99) * 1e3,
        "non_200": errors,
        "requests": len(latencies),
    }


async def websocket_run(
    url: str, agent: subprocess.Popen, subscribers: int, rate: int, seconds: float, batch: bool
) -> dict[str, Any]:
    """``subscribers`` clients; the agent emits ``rate`` records/s; returns delivery latency figures."""
    from flcollector import now_ns
    from trio_websocket import open_websocket_url

    latencies: list[float] = []
    dropped = 0
    ready = trio.Semaphore(0)
    done = trio.Event()

    async def subscriber() -> None:
        nonlocal dropped
        async with open_websocket_url(url.replace("http", "ws", 1) + "/ws/metrics", message_queue_size=10_000) as ws:
            await ws.send_message(orjson.dumps({"action": "subscribe", "streams": ["system"], "batch": batch}).decode())
            while orjson.loads(await ws.get_message())["type"] != "subscribed":
                pass
            ready.release()
            while not done.is_set():
                with trio.move_on_after(0.5):
                    message = orjson.loads(await ws.get_message())
                    received = now_ns()
                    items = message["data"] if message["type"] == "batch" else [message]
                    for item in items:
                        if item.get("type") == "dropped":
                            dropped += item["count"]
                        elif "data" in item and item["data"].get("name") == "bench":
                            latencies.append((received - item["data"]["time_ns"]) / 1e6)

    async with trio.open_nursery() as nursery:
        for _ in range(subscribers):
            nursery.start_soon(subscriber)
        for _ in range(subscribers):
            await ready.acquire()
        agent.stdin.write(f"emit {rate} {seconds}\n".encode())  # type: ignore[union-attr]
        agent.stdin.flush()  # type: ignore[union-attr]
        report = json.loads(await trio.to_thread.run_sync(agent.stdout.readline))  # type: ignore[union-attr]
        done.set()
    expected = report["published"] * subscribers
    return {
        "subscribers": subscribers,
        "rate": rate,
        "batch": batch,
        "delivered": len(latencies),
        "expected": expected,
        "dropped_reported": dropped,
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies, default=float("nan")),
    }


async def ingest(url: str, batches: int, size: int = 5000) -> dict[str, Any]:
    """POST ``batches`` line-protocol bodies of ``size`` points each; returns points/s."""
    connection = await connect(url)
    start_ns = 1_700_000_000 * 10**9
    bodies = [
        "\n".join(
            f"ingest,host=h{j % 10},round={b} value={j}.5,count={j}i,ok=t {start_ns + b * size + j}"
            for j in range(size)
        ).encode()
        for b in range(batches)
    ]
    statuses = set()
    started = time.perf_counter()
    for body in bodies:
        status, _ = await connection.request("POST", "/write?precision=ns", body)
        statuses.add(status)
    wall = time.perf_counter() - started
    await connection.stream.aclose()
    return {"points_per_s": batches * size / wall, "batches": batches, "statuses": sorted(statuses)}


def start(mode: list[str]) -> tuple[subprocess.Popen, dict[str, Any]]:
    """Start this file in ``mode`` (``BENCH_PROFILE=<file>`` profiles the agent process with cProfile)."""
    profile = os.environ.get("BENCH_PROFILE")
    wrap = ["-m", "cProfile", "-o", profile] if profile and mode[0] == "--serve" else []
    command = [sys.executable, *wrap, __file__, *mode]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    from flcollector.plugins.server.lineprotocol import parse

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        agent, hello = start(["--serve", tmp, "--metrics", str(args.metrics), "--events", str(args.events)])
        try:
            bare, bare_hello = start(["--floor"])
        except BaseException:
            agent.kill()
            raise
        try:
            url, floor_url = hello["url"], bare_hello["url"]
            results["fill"] = {"records": args.metrics + args.events, "seconds": hello["fill_s"]}
            parts = set(args.only.split(","))
            if "poll" in parts:
                results["floor"] = await poll(floor_url, ["/"], args.clients, args.seconds)
                results["overview"] = await poll(url, OVERVIEW, args.clients, args.seconds)
                for path in OVERVIEW:
                    results[path] = await poll(url, [path], args.clients, args.seconds / 2)
                results["ratio"] = results["overview"]["rps"] / results["floor"]["rps"]
            if "routes" in parts:
                floor_figures = results.get("floor") or await poll(floor_url, ["/"], args.clients, args.seconds)
                results["floor"] = floor_figures
                for path in args.paths.split(","):
                    figures = await poll(url, [path], args.clients, args.seconds / 2)
                    results[path] = {**figures, "ratio": figures["rps"] / floor_figures["rps"]}
            if "ws" in parts:
                for batch in [m == "batch" for m in args.ws_modes.split(",")]:
                    results[f"ws_{'batch' if batch else 'messages'}"] = await websocket_run(
                        url, agent, args.subscribers, args.rate, args.seconds, batch
                    )
            if "ingest" in parts:
                results["ingest"] = await ingest(url, args.ingest_batches)
                results["ingest_floor"] = await ingest(floor_url, args.ingest_batches)
                body = "\n".join(f"ingest,host=h{j % 10} value={j}.5,count={j}i,ok=t {j}" for j in range(5000))
                started = time.perf_counter()
                for _ in range(20):
                    parse(body)
                results["parse_only_points_per_s"] = 100_000 / (time.perf_counter() - started)
        finally:
            agent.stdin.write(b"stop\n")  # type: ignore[union-attr]
            agent.stdin.close()  # type: ignore[union-attr]
            bare.stdin.close()  # type: ignore[union-attr]
            agent.wait(60)
            bare.wait(10)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--floor", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--metrics", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--ingest-batches", type=int, default=40)
    parser.add_argument("--ws-modes", default="batch,messages", help="WebSocket modes: batch, messages")
    parser.add_argument("--only", default="poll,ws,ingest", help="comma-separated parts: poll, routes, ws, ingest")
    parser.add_argument("--paths", default=",".join(ROUTES), help="the routes of --only routes, comma-separated")
    args = parser.parse_args()
    if args.serve:
        trio.run(serve, args)
    elif args.floor:
        trio.run(floor, args)
    else:
        print(json.dumps(trio.run(bench, args), indent=2))


if __name__ == "__main__":
    main()
