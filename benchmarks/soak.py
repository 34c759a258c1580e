"""Soak: the agent's memory under steady load, for minutes to hours (issue 13, item 7).

The agent under test runs in its own process (``flcollector run``) with the demo's set-up: the ``fl``, ``policy``,
``sdn`` and ``system`` monitors polling flcollector's emulated FLOPY-NET sources every second (served by this
process, their scripts running, the FL server never finishing), the ``anomaly`` and ``convergence`` processors, and
the ``sqlite``, ``jsonl``, ``cache`` and ``websocket`` sinks. This process loads it with ``--points`` line-protocol
points per second on ``POST /write`` (10 posts a second, 50 series) and ``--calls`` API calls per second cycling
through both faces' routes (the spec's and the FLOPY-NET dashboard's), and samples the agent's RSS
(``/proc/<pid>/status`` VmRSS) every ``--sample`` seconds.

It prints one JSON line per sample and a summary: RSS at the start, at the half and at the end, the spread
(max - min) and the least-squares slope over the second half (MiB per minute), every request's outcome, and the
verdict against ``--flat-mib`` (the spread of the second half must stay within it).

``--tracemalloc DIR`` runs the agent under ``tracemalloc`` and dumps a snapshot into ``DIR`` every ``--sample``
seconds; ``--compare DIR`` then prints what grew between the first snapshot after the warm-up and the last one (the
tool that found what grew; see BENCHMARKS.md).

``--preload LIB`` runs the agent with ``LD_PRELOAD=LIB``, e.g. another allocator
(``/usr/lib/x86_64-linux-gnu/libjemalloc.so.2``) to compare with glibc's malloc (BENCHMARKS.md).

``--round-seconds`` sets the emulated FL server's pace (a round every 2 s by default; ``0.5`` packs an hour's rounds
into 15 minutes), ``--without-route`` leaves a route out of the API load (to tell what one route adds).

Run: ``.venv/bin/python benchmarks/soak.py --minutes 10`` (``--minutes 60`` for the hour in BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import httpx
import trio

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reliability"))
from agent_process import AgentProcess  # the same process runner as the reliability tests

ROUTES = [
    "/health",
    "/api/v1/status",
    "/api/v1/metrics?limit=100",
    "/api/v1/events?since_id=0&limit=100",
    "/api/v1/fl/metrics",
    "/api/v1/network/metrics",
    "/metrics",
    "/api/metrics/latest?type=network",
    "/api/metrics/fl/status",
    "/api/metrics/fl/rounds?limit=100",
    "/api/events?limit=100",
    "/api/events/summary",
    "/api/network/topology/live",
    "/api/network/flows",
    "/api/policy/decisions",
    "/status",
]

CONFIG = """
[agent]
interval = "1s"
data_dir = "{data}"
self_metrics_interval = "5s"

[[monitors.fl]]
url = "{fl}"

[[monitors.policy]]
url = "{policy}"

[[monitors.sdn]]
url = "{sdn}"
controller = "ryu"

[[monitors.system]]
interval = "2s"

[[processors.anomaly]]

[[processors.convergence]]

[[sinks.sqlite]]

[[sinks.jsonl]]

[[sinks.cache]]

[[sinks.websocket]]
flush_interval = "20ms"
when_full = "drop_oldest"

[server]
host = "127.0.0.1"
port = 0
"""


def rss_mib(pid: int) -> float:
    """The resident set size of process ``pid`` in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def slope_per_minute(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of ``(seconds, MiB)`` samples, in MiB per minute."""
    n = len(samples)
    if n < 2:
        return 0.0
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    cov = sum((t - mean_t) * (v - mean_v) for t, v in samples)
    return 60 * cov / var if var else 0.0


# -- the agent process ---------------------------------------------------------------------------------------------


def agent_with_snapshots(directory: str, every: float, config: str) -> int:
    """Run ``flcollector run -c config`` under tracemalloc, dumping a snapshot into ``directory`` every ``every`` s."""
    from flcollector.cli import main

    tracemalloc.start(25)

    def dump() -> None:
        n = 0
        while True:
            time.sleep(every)
            tracemalloc.take_snapshot().dump(os.path.join(directory, f"snap-{n:04d}.pickle"))
            n += 1

    threading.Thread(target=dump, daemon=True).start()
    return main(["run", "-c", config])


def compare(directory: str, warmup: int, top: int) -> None:
    """Print the allocation sites that grew most between snapshot ``warmup`` and the last one."""
    paths = sorted(Path(directory).glob("snap-*.pickle"))
    first, last = tracemalloc.Snapshot.load(str(paths[warmup])), tracemalloc.Snapshot.load(str(paths[-1]))
    keep = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib._bootstrap>")]
    first, last = first.filter_traces(keep), last.filter_traces(keep)
    print(f"{paths[warmup].name} -> {paths[-1].name}")
    for stat in last.compare_to(first, "traceback")[:top]:
        print(f"{stat.size_diff / 1024:+10.1f} KiB {stat.count_diff:+8d} blocks")
        for line in stat.traceback.format(limit=8):
            print("    " + line)


# -- the load --------------------------------------------------------------------------------------------------------


class Outcomes:
    """Counts of request outcomes, by kind and status."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def add(self, key: str) -> None:
        """Count one outcome."""
        self.counts[key] = self.counts.get(key, 0) + 1


def lines(points: int, tick: int) -> bytes:
    """``points`` line-protocol points over 50 series, stamped now."""
    now = time.time_ns()
    return "".join(
        f"soak,host=node-{i % 50},kind=load value={(tick + i) % 97}.5,count={tick}i {now + i}\n" for i in range(points)
    ).encode()


async def write_load(client: httpx.AsyncClient, per_s: int, outcomes: Outcomes, stop: trio.Event) -> None:
    """``per_s`` points a second, in 10 posts a second."""
    tick, next_at = 0, trio.current_time()
    while not stop.is_set():
        try:
            response = await client.post("/write", content=lines(per_s // 10, tick))
            outcomes.add(f"write {response.status_code}")
        except httpx.HTTPError as exc:
            if not stop.is_set():  # a request cut by the end of the run is not the agent's failure
                outcomes.add(f"write {type(exc).__name__}")
        tick += 1
        next_at += 0.1
        await trio.sleep_until(next_at)


async def api_load(
    client: httpx.AsyncClient, per_s: int, routes: list[str], outcomes: Outcomes, stop: trio.Event
) -> None:
    """``per_s`` GETs a second, cycling through ``routes`` (both faces' routes)."""
    n, next_at = 0, trio.current_time()
    while not stop.is_set():
        route = routes[n % len(routes)]
        try:
            response = await client.get(route)
            outcomes.add(f"GET {response.status_code}")
        except httpx.HTTPError as exc:
            if not stop.is_set():
                outcomes.add(f"GET {type(exc).__name__}")
        n += 1
        next_at += 1 / per_s
        await trio.sleep_until(next_at)


async def bounded_memories(client: httpx.AsyncClient) -> dict[str, Any]:
    """What the agent's bounded in-memory stores hold now (from ``/health``), to set beside its RSS: a memory that
    is still filling looks like a leak until it reaches its bound."""
    try:
        detail = (await client.get("/health")).json()["agent_components"]
    except (httpx.HTTPError, ValueError, KeyError):
        return {}
    cache = detail.get("sink:cache", {}).get("cache", {})
    return {"cache_records": cache.get("records"), "cache_names": cache.get("names")}


async def fl_rounds(fl: Any, tick: float) -> None:
    """Finish a round every ``tick`` seconds, for ever."""
    while True:
        await trio.sleep(tick)
        await fl.step()


async def soak(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Run the emulators and the agent, load it, sample its RSS; return the summary."""
    from flcollector.emulators.fl_server import FlServerEmulator
    from flcollector.emulators.policy_engine import PolicyEngineEmulator
    from flcollector.emulators.sdn_controller import SdnControllerEmulator

    fl = FlServerEmulator(num_clients=5, max_rounds=10**6, seed=2025)
    policy, sdn = PolicyEngineEmulator(), SdnControllerEmulator(flavour="ryu")
    samples: list[tuple[float, float]] = []
    outcomes = Outcomes()
    async with trio.open_nursery() as nursery:
        for emulator in (fl, policy, sdn):
            await nursery.start(emulator.serve, "127.0.0.1", 0)
        nursery.start_soon(fl_rounds, fl, args.round_seconds)
        nursery.start_soon(policy.run_script, 2.0)
        nursery.start_soon(sdn.run_script, 2.0)
        agent = AgentProcess(work, CONFIG.format(data=work / "data", fl=fl.url, policy=policy.url, sdn=sdn.url))
        runner = []
        if args.tracemalloc:
            Path(args.tracemalloc).mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, before the run
            runner = [__file__, "--agent", args.tracemalloc, str(args.sample)]
        try:
            url = await agent.start(60, runner=runner, env={"LD_PRELOAD": args.preload} if args.preload else None)
            assert agent.process is not None
            pid = agent.process.pid
            stop = trio.Event()
            async with (
                httpx.AsyncClient(base_url=url, timeout=30) as writer,
                httpx.AsyncClient(base_url=url, timeout=30) as reader,
            ):
                nursery.start_soon(write_load, writer, args.points, outcomes, stop)
                routes = [route for route in ROUTES if route not in args.without_route]
                nursery.start_soon(api_load, reader, args.calls, routes, outcomes, stop)
                started = trio.current_time()
                end = started + args.minutes * 60
                while trio.current_time() < end:
                    await trio.sleep(args.sample)
                    at, mib = trio.current_time() - started, rss_mib(pid)
                    samples.append((at, mib))
                    held = await bounded_memories(reader)
                    sample = {"t_s": round(at), "rss_mib": round(mib, 1), **held, **outcomes.counts}
                    print(json.dumps(sample), flush=True)
                stop.set()
            agent.signal(signal.SIGTERM)
            exit_code = await agent.wait(60)
        finally:  # an interrupted or failed run leaves no agent behind (kill() is sent before any wait)
            await agent.kill_now()
        nursery.cancel_scope.cancel()
    half = [s for s in samples if s[0] >= samples[-1][0] / 2]
    spread = max(v for _, v in half) - min(v for _, v in half)
    return {
        "minutes": args.minutes,
        "rss_start_mib": round(samples[0][1], 1),
        "rss_half_mib": round(half[0][1], 1),
        "rss_end_mib": round(samples[-1][1], 1),
        "second_half_spread_mib": round(spread, 1),
        "second_half_slope_mib_per_min": round(slope_per_minute(half), 3),
        "flat": spread <= args.flat_mib,
        "outcomes": outcomes.counts,
        "agent_exit": exit_code,
        "data": str(work) if args.data_dir else None,
    }


def main() -> None:
    """Parse the arguments and run the soak (or the agent under tracemalloc, or the comparison)."""
    if len(sys.argv) > 1 and sys.argv[1] == "--agent":  # the agent process under tracemalloc
        sys.exit(agent_with_snapshots(sys.argv[2], float(sys.argv[3]), sys.argv[4]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--points", type=int, default=1000, help="line-protocol points per second")
    parser.add_argument("--calls", type=int, default=20, help="API calls per second")
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between RSS samples")
    parser.add_argument(
        "--round-seconds", type=float, default=2.0, help="seconds between two FL rounds of the emulated server"
    )
    parser.add_argument(
        "--without-route", action="append", default=[], metavar="ROUTE", help="leave ROUTE (as in ROUTES) out"
    )
    parser.add_argument("--flat-mib", type=float, default=5.0, help="allowed RSS spread over the second half")
    parser.add_argument(
        "--preload",
        metavar="LIB",
        help="LD_PRELOAD for the agent, e.g. jemalloc: /usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
    )
    parser.add_argument(
        "--data-dir",
        help="where the agent's data goes, kept after the run (default: a temporary directory, removed)",
    )
    parser.add_argument("--tracemalloc", metavar="DIR", help="run the agent under tracemalloc, snapshots into DIR")
    parser.add_argument("--compare", metavar="DIR", help="print what grew between the snapshots in DIR")
    parser.add_argument("--warmup", type=int, default=3, help="with --compare: the first snapshot to compare")
    parser.add_argument("--top", type=int, default=15, help="with --compare: how many sites to print")
    args = parser.parse_args()
    unknown = [route for route in args.without_route if route not in ROUTES]
    if unknown:
        parser.error(f"--without-route {unknown[0]!r} is not one of the routes: {', '.join(ROUTES)}")
    if args.compare:
        compare(args.compare, args.warmup, args.top)
        return
    work = Path(args.data_dir or tempfile.mkdtemp(prefix="flcollector-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        print(json.dumps(trio.run(soak, args, work)), flush=True)
    finally:
        if not args.data_dir:  # an hour stores about 2 GB: a temporary folder must not outlive its run, even ^C'd
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
