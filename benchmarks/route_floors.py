"""Every route against its floor over HTTP, with wrk: req/s and server CPU per request, interleaved, as ratios.

Three processes on loopback: the agent under test (``--serve``: sqlite + cache + websocket sinks, the store filled
through the real pipeline with ``benchmarks/api.py``'s mix of ``--metrics`` metrics and ``--events`` events, kept
in ``--data`` between runs), the floor (``--floor``: a bare ASGI app on the same hypercorn-trio server, no
Starlette), and wrk (``-t1 -c<connections>``) as the load. Two floors:

* ``const``: the bare route answering a constant (``{"ok":true}``): the floor of every cheap route;
* ``sql:<name>``: the bare route that runs, on its own read connection to the same store file, the SELECTs that
  the store runs for that route (built by the same functions, so it is the same SQL) inline on the event loop, and
  encodes the rows the route serves with orjson, a dict of the stored columns per row (the stored JSON text of
  fields, tags and details as strings: less than the route, which serves them as JSON): the floor of a list route.
  For the FL rounds routes it is the SELECT of the 100 rounds they serve (what the route must at least read), not
  of every round of the experiment, which is how they read until the store kept the newest row of each round.

Each route is measured ``--rounds`` times, each time right after (or before: the order alternates) its floor, and
the figures are the medians over the rounds of route/floor req/s and of floor/route CPU per request (the server
process's user+system time over the run, every thread, divided by the requests served): the CPU ratio is steadier
on a machine shared with other work. ``--upstream URL`` adds FLOPY-NET's own collector (run separately; see
BENCHMARKS.md) to the same interleaving for the routes it has, reported as our req/s over its req/s.

Run: ``.venv/bin/python benchmarks/route_floors.py [--data /tmp/flc-bench] [--metrics 1000000] [--events 100000]
[--seconds 3] [--rounds 5] [--only /health,...] [--upstream http://127.0.0.1:8000 --upstream-pid PID]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import trio

sys.path.insert(0, str(Path(__file__).parent))
import api

#: (path, floor): the cheap routes first, then the list routes with the floor that runs their SELECT.
ROUTES: list[tuple[str, str]] = [
    ("/health", "const"),
    ("/status", "const"),
    ("/api/", "const"),
    ("/api/v1/status", "const"),
    ("/api/metrics/fl/status", "const"),
    ("/api/metrics/latest?type=network", "const"),
    ("/api/network/flows", "const"),
    ("/api/events/summary", "const"),
    ("/api/v1/events?limit=100", "sql:v1_events"),
    ("/api/v1/metrics?limit=100", "sql:v1_metrics"),
    ("/api/events?limit=100", "sql:events"),
    ("/api/metrics?limit=100", "sql:metrics"),
    ("/api/metrics/fl/rounds?limit=100", "sql:fl_rounds"),
    ("/api/metrics/fl?limit=100", "sql:fl_tail"),
]
#: FLOPY-NET's collector serves these of ours at the same path (the others are proxies to live sources there).
UPSTREAM_PATHS = {
    "/health",
    "/status",
    "/api/",
    "/api/events?limit=100",
    "/api/metrics?limit=100",
    "/api/events/summary",
    "/api/metrics/latest?type=network",
}


# -- the agent under test (subprocess) ------------------------------------------------------------------------------


def prepare(data: Path, wanted: dict[str, int]) -> tuple[Path, bool]:
    """Write the agent's config under ``data``; return it and whether a previous run filled the store as wanted
    (else the old store is removed)."""
    data.mkdir(parents=True, exist_ok=True)
    marker = data / "filled.json"
    filled = marker.exists() and json.loads(marker.read_text()) == wanted
    if not filled:
        marker.unlink(missing_ok=True)
        for file in (data / "data").glob("flcollector.db*"):
            file.unlink()
    path = data / "collector.toml"
    path.write_text(api.CONFIG.format(data=data / "data"))
    return path, filled


async def serve(args: argparse.Namespace) -> None:
    """Run the agent on ``--data`` (filling the store first unless a previous run did), print its URL, wait."""
    from flcollector.agent import Agent
    from flcollector.config import load_config

    wanted = {"metrics": args.metrics, "events": args.events}
    path, filled = prepare(Path(args.serve), wanted)
    agent = Agent(load_config(path, env={}))
    async with trio.open_nursery() as nursery:
        await nursery.start(agent.run)
        if not filled:
            await api.fill(agent, args.metrics, args.events)
            (Path(args.serve) / "filled.json").write_text(json.dumps(wanted))
        server = agent.find("listener", "server")
        print(json.dumps({"url": server.url, "pid": os.getpid()}), flush=True)
        await trio.lowlevel.FdStream(os.dup(0)).receive_some(16)  # any input (or EOF) stops it
        agent.stop()


# -- the floor (subprocess) ----------------------------------------------------------------------------------------


#: A floor's SELECTs (SQL, parameters) and which rows of the first one it serves.
FloorSpec = tuple[list[tuple[str, list[Any]]], slice]


def floor_selects(experiment: str) -> dict[str, FloorSpec]:
    """Per floor name, the SELECTs the store runs for its route, built by the store's own functions, and the rows
    of the first one that the route serves. The FL rounds routes' floor selects the 100 rounds they serve (each
    stored once in this store): ``/api/metrics/fl/rounds`` the first 100 from round 1, ``/api/metrics/fl`` the
    last 100."""
    from flcollector import EventQuery, MetricQuery
    from flcollector.plugins.sqlite import queries

    every = slice(None)
    selects: dict[str, FloorSpec] = {
        "v1_events": ([queries.event_select(EventQuery(limit=100, order="asc"))], every),
        "v1_metrics": ([queries.metric_select(MetricQuery(limit=100, order="desc"))], every),
        "events": ([queries.event_select(EventQuery(limit=100, order="desc", sort="time"))], every),
        "metrics": ([queries.metric_select(MetricQuery(limit=100, order="desc"))], every),
    }
    rounds: dict[str, Any] = {"names": ["fl_round"], "experiment": experiment, "limit": 100}
    selects["fl_rounds"] = ([queries.metric_select(MetricQuery(**rounds, min_round=1, order="asc"))], every)
    selects["fl_tail"] = ([queries.metric_select(MetricQuery(**rounds, order="desc"))], every)
    return selects


async def floor(args: argparse.Namespace) -> None:
    """The bare routes: ``/`` answers a constant, ``/sql/<name>`` runs a list route's SELECT and encodes its rows."""
    import sqlite3

    from flcollector.httpserve import serve_asgi

    constant = b'{"ok":true}'
    conn = sqlite3.connect(f"file:{Path(args.floor) / 'data' / 'flcollector.db'}?mode=ro", uri=True)
    selects = floor_selects("bench")

    def run(name: str) -> bytes:
        reads, served = selects[name]
        results = [conn.execute(sql, params) for sql, params in reads]
        first = results[0]
        columns = [c[0] for c in first.description]
        rows = first.fetchall()[served]
        for other in results[1:]:
            other.fetchall()
        return orjson.dumps([dict(zip(columns, row, strict=True)) for row in rows])

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if await api.answer_lifespan(scope, receive, send) or scope["type"] != "http":
            return
        path = scope["path"]
        body = run(path.removeprefix("/sql/")) if path.startswith("/sql/") else constant
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async with trio.open_nursery() as nursery:
        url = await nursery.start(serve_asgi, app, "127.0.0.1", 0)
        print(json.dumps({"url": url, "pid": os.getpid()}), flush=True)
        await trio.lowlevel.FdStream(os.dup(0)).receive_some(16)
        nursery.cancel_scope.cancel()


# -- the load (this process) ---------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, pid: int | None, seconds: int, connections: int) -> dict[str, float]:
    """One wrk run: req/s, p50/p99 ms, non-2xx count, and the server's CPU µs per request when ``pid`` is known."""
    before = cpu_seconds(pid) if pid else 0.0
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    used = cpu_seconds(pid) - before if pid else float("nan")
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def latency(q: str) -> float:
        found = re.search(rf"{q}%\s+([\d.]+)(us|ms|s)\b", out)
        if not found:
            return float("nan")
        return float(found.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[found.group(2)]

    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "cpu_us": used / requests * 1e6 if requests else float("nan"),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "non_2xx": float(bad.group(1)) if bad else 0.0,
    }


def settle(pids: list[int], idle: float = 0.05, timeout: float = 60.0) -> None:
    """Wait until the servers have finished what the last run queued (under 5 % CPU over 0.5 s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = sum(cpu_seconds(pid) for pid in pids)
        time.sleep(0.5)
        if sum(cpu_seconds(pid) for pid in pids) - before < idle * 0.5:
            return


def start(mode: list[str]) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """Start this file in ``mode`` and read the URL and pid it prints."""
    process = subprocess.Popen([sys.executable, __file__, *mode], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())


def measure(args: argparse.Namespace, agent: dict[str, Any], bare: dict[str, Any]) -> dict[str, Any]:
    """The interleaved runs; returns per route the medians and the per-round figures."""
    routes = [(p, f) for p, f in ROUTES if not args.only or p in args.only.split(",")]
    runs: dict[str, list[dict[str, Any]]] = {path: [] for path, _ in routes}
    for round_ in range(args.rounds):
        for path, floor_name in routes:
            floor_path = "/" if floor_name == "const" else f"/sql/{floor_name.removeprefix('sql:')}"
            targets = [("floor", bare["url"] + floor_path, bare["pid"]), ("route", agent["url"] + path, agent["pid"])]
            if args.upstream and path in UPSTREAM_PATHS:
                targets.append(("upstream", args.upstream + path, args.upstream_pid))
            if round_ % 2:
                targets.reverse()
            figures = {}
            for name, url, pid in targets:
                figures[name] = wrk(url, pid, args.seconds, args.connections)
                settle([p for _, _, p in targets if p])
            runs[path].append(figures)
    results: dict[str, Any] = {}
    for path, floor_name in routes:
        rounds = runs[path]
        figures: dict[str, Any] = {
            "floor": floor_name,
            "rps": statistics.median(r["route"]["rps"] for r in rounds),
            "floor_rps": statistics.median(r["floor"]["rps"] for r in rounds),
            "ratio": statistics.median(r["route"]["rps"] / r["floor"]["rps"] for r in rounds),
            "ratios": [round(r["route"]["rps"] / r["floor"]["rps"], 3) for r in rounds],
            "cpu_us": statistics.median(r["route"]["cpu_us"] for r in rounds),
            "floor_cpu_us": statistics.median(r["floor"]["cpu_us"] for r in rounds),
            "cpu_ratio": statistics.median(r["floor"]["cpu_us"] / r["route"]["cpu_us"] for r in rounds),
            "p99_ms": statistics.median(r["route"]["p99_ms"] for r in rounds),
            "non_2xx": sum(r["route"]["non_2xx"] for r in rounds),
        }
        if all("upstream" in r for r in rounds):
            figures["upstream_rps"] = statistics.median(r["upstream"]["rps"] for r in rounds)
            figures["vs_upstream"] = statistics.median(r["route"]["rps"] / r["upstream"]["rps"] for r in rounds)
            figures["upstream_cpu_us"] = statistics.median(r["upstream"]["cpu_us"] for r in rounds)
        results[path] = {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--floor", help=argparse.SUPPRESS)
    parser.add_argument("--data", default="/tmp/flc-route-floors", help="the agent's data, kept between runs")
    parser.add_argument("--metrics", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated paths of ROUTES to measure")
    parser.add_argument("--upstream", default="", help="base URL of FLOPY-NET's collector on the same data")
    parser.add_argument("--upstream-pid", type=int, default=0, help="its process id, for its CPU per request")
    args = parser.parse_args()
    if args.serve:
        trio.run(serve, args)
        return
    if args.floor:
        trio.run(floor, args)
        return
    started = time.perf_counter()
    agent, agent_hello = start(["--serve", args.data, "--metrics", str(args.metrics), "--events", str(args.events)])
    try:
        bare, bare_hello = start(["--floor", args.data])
    except BaseException:
        agent.kill()
        raise
    try:
        results = measure(args, agent_hello, bare_hello)
    finally:
        for process in (agent, bare):
            assert process.stdin is not None
            process.stdin.close()
        agent.wait(60)
        bare.wait(10)
    results["_run"] = {"seconds": round(time.perf_counter() - started), "args": vars(args)}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
