"""One collection cycle over 1,000 sources that each answer after 50 ms: does a cycle cost the slowest source?

Sources: one separate process (so its CPU is not ours) with 1,000 TCP listeners on 127.0.0.1, one per source, each
a minimal HTTP/1.1 keep-alive responder on raw Trio sockets that waits ``--delay`` before answering (canned FL
server JSON). Collector side (this process): 1,000 monitor instances, each with its own ``httpx.AsyncClient`` as in
production, each run by the core's own ``MonitorRunner.collect_once`` (timeout, stats, status events), all started
in one nursery exactly as the agent's scheduler does at a tick. Two monitors:

- ``http``: one GET and one Metric per source (the scheduler + httpx floor of a cycle);
- ``fl``: the real ``fl`` monitor (5 concurrent GETs per source: /health /status /metrics /rounds/latest /events).

Reported per monitor: the cold first cycle (connects), then the median wall time and CPU time of ``--cycles`` warm
cycles and the ratio of the wall time to the 50 ms ideal (the slowest source). Run:
``.venv/bin/python benchmarks/polling.py [--sources 1000] [--delay 0.05] [--cycles 5] [--monitor http,fl]``.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

import attrs
import httpx
import trio

_FL_BODIES = {
    b"/health": {"status": "healthy", "timestamp": 0.0},
    b"/status": {
        "server_status": "training",
        "training_active": True,
        "current_round": 3,
        "max_rounds": 10,
        "connected_clients": 5,
        "training_paused": False,
        "training_stopped_by_policy": False,
    },
    b"/metrics": {
        "start_time": 1_700_000_000.0,
        "current_round": 3,
        "last_round_accuracy": 0.8,
        "last_round_loss": 0.4,
        "max_rounds": 10,
    },
    b"/rounds/latest": {"rounds": [], "latest_round": 0, "returned_rounds": 0},
    b"/events": {"events": [], "last_event_id": None},
}
_RESPONSES = {
    path: b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
    % (len(body := json.dumps(value).encode()), body)
    for path, value in {**_FL_BODIES, b"/": {"value": 1}}.items()
}


# -- the sources (separate process) ------------------------------------------------------------------------------


async def _answer(stream: Any, delay: float) -> None:
    buffer = b""
    try:
        while True:
            while b"\r\n\r\n" not in buffer:
                data = await stream.receive_some(65536)
                if not data:
                    return
                buffer += data
            head, buffer = buffer.split(b"\r\n\r\n", 1)
            path = head.split(b" ", 2)[1].split(b"?", 1)[0]
            await trio.sleep(delay)
            await stream.send_all(_RESPONSES.get(path, _RESPONSES[b"/"]))
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        return


async def serve_sources(count: int, delay: float) -> None:
    """Listen on ``count`` ports; print them as one JSON line; serve until killed."""
    listeners = []
    for _ in range(count):
        listeners += await trio.open_tcp_listeners(0, host="127.0.0.1", backlog=1024)
    print(json.dumps([lst.socket.getsockname()[1] for lst in listeners]), flush=True)
    await trio.serve_listeners(functools.partial(_answer, delay=delay), listeners)


# -- the collector side ----------------------------------------------------------------------------------------


@attrs.define
class GetOptions:
    """Options of the one-GET monitor."""

    url: str = ""


def make_get_monitor() -> type:
    """A monitor doing one GET per collection and returning one Metric (built lazily: imports flcollector)."""
    from flcollector import Metric, Monitor

    class HttpGetMonitor(Monitor):
        name = "http_get"
        Options = GetOptions

        async def open(self) -> None:
            self.client = httpx.AsyncClient(base_url=self.options.url, timeout=5.0)

        async def close(self) -> None:
            await self.client.aclose()

        async def collect(self) -> list[Any]:
            response = await self.client.get("/")
            response.raise_for_status()
            return [Metric(name="bench", fields=response.json(), source=self.runtime.instance)]

    return HttpGetMonitor


def build_runners(cls: Any, ports: list[int], timeout: float = 5.0) -> list[Any]:
    """One monitor instance and one core ``MonitorRunner`` per source, wired like the agent does."""
    from pathlib import Path

    from flcollector import RunContext, Runtime
    from flcollector.options import build_options
    from flcollector.scheduler import MonitorRunner
    from flcollector.settings import AgentSettings, MonitorCommon
    from flcollector.stats import StatsRegistry

    registry, context, runners = StatsRegistry(), RunContext(), []

    async def emit(records: Any) -> None:  # the runner emits itself in run(); collect_once only returns
        return None

    for index, port in enumerate(ports):
        instance = f"{cls.name}-{index}"
        runtime = Runtime(
            instance=instance,
            plugin=cls.name,
            log=logging.getLogger(f"bench.{instance}"),
            stats=registry.register("monitor", instance, cls.name),
            context=context,
            data_dir=Path("."),
            agent=None,
        )
        monitor = cls(build_options(cls.Options, {"url": f"http://127.0.0.1:{port}"}), runtime)
        runners.append(MonitorRunner(monitor, MonitorCommon(interval=1.0, timeout=timeout), AgentSettings(), emit))
    return runners


def _server_cpu(pid: int | None) -> float:
    if pid is None:
        return 0.0
    import psutil

    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


async def one_cycle(runners: list[Any], server_pid: int | None = None) -> tuple[float, float, int, int, float]:
    """Run every runner's ``collect_once`` concurrently; return wall s, CPU s, records, failures, sources' CPU s."""
    results: list[tuple[list[Any], str | None]] = []

    async def run(runner: Any) -> None:
        results.append(await runner.collect_once())

    server_cpu = _server_cpu(server_pid)
    wall, cpu = time.perf_counter(), time.process_time()
    async with trio.open_nursery() as nursery:
        for runner in runners:
            nursery.start_soon(run, runner)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    server_cpu = _server_cpu(server_pid) - server_cpu
    return wall, cpu, sum(len(r) for r, _ in results), sum(1 for _, f in results if f), server_cpu


async def bench(
    kind: str, ports: list[int], cycles: int, delay: float, timeout: float, server_pid: int | None = None
) -> dict[str, Any]:
    """Open the monitors, run a cold cycle and ``cycles`` warm ones, close; return the figures."""
    if kind == "fl":
        from flcollector.plugins.fl.monitor import FlMonitor

        cls: type = FlMonitor
    else:
        cls = make_get_monitor()
    runners = build_runners(cls, ports, timeout)
    for runner in runners:
        await runner.monitor.open()
    cold = await one_cycle(runners, server_pid)
    warm = [await one_cycle(runners, server_pid) for _ in range(cycles)]
    for runner in runners:
        await runner.monitor.close()
    wall = statistics.median(w[0] for w in warm)
    cpu = statistics.median(w[1] for w in warm)
    server_cpu = statistics.median(w[4] for w in warm)
    return {
        "monitor": kind,
        "sources": len(ports),
        "cold_wall_s": round(cold[0], 3),
        "cold_failures": cold[3],
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "sources_cpu_s": round(server_cpu, 3),
        "walls": [round(w[0], 3) for w in warm],
        "records": warm[-1][2],
        "failures": sum(w[3] for w in warm),
        "ratio_to_ideal": round(wall / delay, 1),
    }


async def bench_raw(ports: list[int], cycles: int, delay: float, server_pid: int | None = None) -> dict[str, Any]:
    """The floor: one keep-alive raw Trio socket per source, one hand-written GET each, no httpx, no scheduler."""
    streams = [await trio.open_tcp_stream("127.0.0.1", port) for port in ports]
    request = b"GET / HTTP/1.1\r\nhost: bench\r\n\r\n"

    expected = len(_RESPONSES[b"/"])  # the answer to "/" has a fixed size: read exactly that much

    async def get(stream: trio.SocketStream) -> None:
        await stream.send_all(request)
        received = 0
        while received < expected:
            received += len(await stream.receive_some(65536))

    walls, cpus = [], []
    for _ in range(cycles + 1):
        wall, cpu = time.perf_counter(), time.process_time()
        async with trio.open_nursery() as nursery:
            for stream in streams:
                nursery.start_soon(get, stream)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    for stream in streams:
        await stream.aclose()
    wall = statistics.median(walls[1:])
    return {
        "monitor": "raw-socket floor",
        "sources": len(ports),
        "wall_s": round(wall, 3),
        "cpu_s": round(statistics.median(cpus[1:]), 3),
        "walls": [round(w, 3) for w in walls[1:]],
        "ratio_to_ideal": round(wall / delay, 1),
    }


def main() -> None:
    """Parse arguments, start the sources process, benchmark each monitor kind, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--monitor", default="raw,http,fl", help="comma list of: raw (the floor), http, fl")
    parser.add_argument("--timeout", type=float, default=5.0, help="the core's collection timeout per monitor")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # 1,000 listeners and up to 5,000 connections
    if args.serve:
        trio.run(serve_sources, args.sources, args.delay)
        return
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--sources", str(args.sources), "--delay", str(args.delay)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        ports = json.loads(server.stdout.readline())
        print(
            f"{len(ports)} sources answering after {args.delay * 1000:g} ms (separate process); "
            f"median of {args.cycles} warm cycles; ideal = {args.delay * 1000:g} ms",
            flush=True,
        )
        for kind in args.monitor.split(","):
            if kind.strip() == "raw":
                print(json.dumps(trio.run(bench_raw, ports, args.cycles, args.delay)), flush=True)
                continue
            figures = trio.run(bench, kind.strip(), ports, args.cycles, args.delay, args.timeout, server.pid)
            print(json.dumps(figures), flush=True)
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
