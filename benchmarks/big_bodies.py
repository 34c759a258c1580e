"""Big ingest bodies: the agent's memory and ``/health``'s latency while three 10 MB bodies are ingested at once.

Issue 13, item 5: a 10 MB line-protocol body (1.75M points) took 9.6 s with ``/health`` stalled, and RSS grew by about
890 MB (three at once: 2.64 GB, never given back). Now a big body is checked and parsed a piece at a time on the event
loop, other tasks running between pieces, and each piece is sent on before the next is parsed; a big JSON body is
decoded a list item at a time (``plugins/server/routes/ingest.py``, ``plugins/server/jsonpieces.py``), and full
garbage collections run on the agent's schedule, not in the middle of the burst (``core/memory.py``).

The agent under test runs in its own process (``flcollector run``: sqlite + jsonl + cache, the default durable
acknowledgement, ``max_points`` raised to 2,000,000 so the smallest lines are accepted too). This process posts three
bodies of ``--megabytes`` at once, and meanwhile asks ``GET /health`` every 20 ms (one connection) and samples the
agent's RSS every 20 ms. Floors, in the same run: the idle agent's RSS, and ``/health``'s latency on the idle agent.

Bodies (``--kinds``): ``lines`` (Telegraf-like lines of about 80 bytes: 3 tags, 3 fields, a timestamp),
``tiny`` (``m v=1`` lines of 6 bytes, the issue's 1.75M points per 10 MB) and ``json`` (``/api/v1/ingest`` records).

Run: ``.venv/bin/python benchmarks/big_bodies.py [--megabytes 10] [--kinds lines,tiny,json]``. Figures: BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import trio

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reliability"))
from agent_process import AgentProcess, store_config  # the same process runner as the reliability tests


def rss_mib(pid: int) -> float:
    """The resident set size of process ``pid`` in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def body(kind: str, megabytes: float, client: int) -> tuple[str, bytes, int]:
    """``(path, body, points)`` of about ``megabytes`` for one client."""
    size, now = int(megabytes * 1024 * 1024) - 200, time.time_ns()  # just under max_body_bytes (10 MiB)
    if kind == "json":
        record = {"name": "bulk", "fields": {"usage": 12.5, "count": 3}, "tags": {"host": f"c{client}"}}
        one = len(orjson.dumps({**record, "time_ns": now})) + 1  # with its timestamp, or the body is too big
        count = size // one
        records = [{**record, "time_ns": now + i} for i in range(count)]
        return "/api/v1/ingest", orjson.dumps({"metrics": records}), count
    if kind == "tiny":
        count = size // 6
        return "/write", b"m v=1\n" * count, count
    lines, total, i = [], 0, 0
    while total < size:
        line = (f"cpu,host=node-{i % 50},region=eu,client=c{client} usage_user={i % 97}.5,usage_system=3.25,"
                f"procs={i % 300}i {now + i}\n")
        lines.append(line)
        total += len(line)
        i += 1
    return "/write", "".join(lines).encode(), i


async def watch(url: str, pid: int, stop: trio.Event, latencies: list[float], rss: list[float]) -> None:
    """``/health`` every 20 ms (its latency) and the agent's RSS, until ``stop``."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        while not stop.is_set():
            started = time.perf_counter()
            await http.get("/health")
            latencies.append(time.perf_counter() - started)
            rss.append(rss_mib(pid))
            await trio.sleep(0.02)


async def run_kind(kind: str, megabytes: float, clients: int) -> dict[str, Any]:
    """One agent; idle floors, then ``clients`` bodies of ``kind`` at once."""
    folder = Path(tempfile.mkdtemp(prefix=f"flcollector-big-{kind}-"))
    agent = AgentProcess(folder, store_config(folder / "data", server='max_points = 2000000\nack_timeout = "10m"'))
    bodies = [body(kind, megabytes, c) for c in range(clients)]
    try:
        url = await agent.start()
        assert agent.process is not None
        pid = agent.process.pid
        idle_latencies: list[float] = []
        idle_rss: list[float] = []
        stop = trio.Event()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch, url, pid, stop, idle_latencies, idle_rss)
            await trio.sleep(3)
            stop.set()
        latencies: list[float] = []
        rss: list[float] = []
        statuses: list[int] = []
        stop = trio.Event()
        started = time.perf_counter()
        async with trio.open_nursery() as watching:
            watching.start_soon(watch, url, pid, stop, latencies, rss)
            async with trio.open_nursery() as posting:
                for path, content, _ in bodies:

                    async def post(path: str = path, content: bytes = content) -> None:
                        async with httpx.AsyncClient(base_url=url, timeout=600) as http:
                            statuses.append((await http.post(path, content=content)).status_code)

                    posting.start_soon(post)
            wall = time.perf_counter() - started
            await trio.sleep(2)  # after: does the memory come back?
            stop.set()
        after = rss_mib(pid)
    finally:
        await agent.kill_now()
        shutil.rmtree(folder, ignore_errors=True)  # a run stores ~1 GB; runs must not fill the disk
    points = sum(p for _, _, p in bodies)
    return {
        "kind": kind,
        "bodies": clients,
        "megabytes_each": round(len(bodies[0][1]) / 2**20, 1),
        "points": points,
        "statuses": statuses,
        "wall_s": round(wall, 1),
        "points_per_s": round(points / wall),
        "idle_rss_mib": round(statistics.median(idle_rss), 1),
        "peak_rss_mib": round(max(rss), 1),
        "rss_after_mib": round(after, 1),
        "idle_health_p50_ms": round(statistics.median(idle_latencies) * 1e3, 1),
        "idle_health_max_ms": round(max(idle_latencies) * 1e3, 1),
        "health_p50_ms": round(statistics.median(latencies) * 1e3, 1),
        "health_p99_ms": round(sorted(latencies)[int(0.99 * (len(latencies) - 1))] * 1e3, 1),
        "health_max_ms": round(max(latencies) * 1e3, 1),
        "health_samples": len(latencies),
    }


async def main(args: argparse.Namespace) -> None:
    """Run every kind asked for and print one JSON line each."""
    for kind in args.kinds.split(","):
        print(json.dumps(await run_kind(kind, args.megabytes, args.clients)), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--megabytes", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--kinds", default="lines,tiny,json")
    trio.run(main, parser.parse_args())
