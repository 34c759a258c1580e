"""Ingest acknowledgement modes: what a durable 2xx costs, and what an acknowledged-but-lost record costs instead.

The agent under test runs in its own process (``flcollector run``: sqlite + jsonl + cache, as the default config),
once per mode of ``[server] ingest_ack``: ``durable`` (the 2xx waits for the store and the archive to commit) and
``accepted`` (the 2xx once the records are in memory). The floor, in the same run, is a bare hypercorn-trio route
that reads the body and answers 204 (``benchmarks/api.py --floor``).

1. Throughput: ``--clients`` keep-alive connections each POST bodies of ``--points`` line-protocol points to
   ``/write`` for ``--seconds``: points/s, request p50/p99, and the ratio to the floor's points/s.
2. Crash: the same load, then ``kill -9`` after ``--crash-after`` seconds; every point answered 204 is looked up in
   the store and the archive afterwards: how many acknowledged points were lost.

Run: ``.venv/bin/python benchmarks/ingest_ack.py [--clients 1,8] [--points 5000] [--seconds 10]``. Figures:
BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import trio

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests" / "reliability")]
from agent_process import AgentProcess, store_config  # noqa: E402 - the same process runner as the reliability tests
from api import Connection, connect, percentile  # noqa: E402 - the benchmarks' minimal HTTP/1.1 client


def body(client: int, first: int, points: int) -> bytes:
    """``points`` points numbered from ``first`` for ``client``."""
    stamp = 1_700_000_000_000_000_000
    return "".join(
        f"ack,client=c{client},host=h{(first + i) % 10} seq={first + i}i,value={i}.5 {stamp + first + i}\n"
        for i in range(points)
    ).encode()


async def post(connection: Connection, path: str, content: bytes) -> tuple[int, float]:
    """One POST; raises EOFError when the agent closed the connection (it died) instead of waiting for ever."""
    receive = connection.stream.receive_some

    async def receive_or_eof(max_bytes: int | None = None) -> bytes:
        data = await receive(max_bytes)
        if not data:
            raise EOFError("the agent closed the connection")
        return data

    connection.stream.receive_some = receive_or_eof  # type: ignore[method-assign]
    try:
        return await connection.request("POST", path, content)
    finally:
        connection.stream.receive_some = receive  # type: ignore[method-assign]


async def load(url: str, clients: int, points: int, until: float, acknowledged: list[tuple[int, int]],
               latencies: list[float]) -> None:
    """Each client POSTs bodies until ``until`` (Trio time) or until the agent dies; records what was answered 204."""

    async def client(number: int) -> None:
        try:
            connection = await connect(url)
        except OSError:
            return
        first = 0
        while trio.current_time() < until:
            try:
                status, elapsed = await post(connection, "/write", body(number, first, points))
            except (OSError, EOFError, trio.BrokenResourceError, trio.ClosedResourceError, IndexError, ValueError):
                return  # the agent died mid-request: never acknowledged
            if status == 204:
                acknowledged.append((number, first))
                latencies.append(elapsed)
            first += points

    async with trio.open_nursery() as nursery:
        for number in range(clients):
            nursery.start_soon(client, number)


async def throughput(url: str, clients: int, points: int, seconds: float) -> dict[str, Any]:
    """Points/s and request latency under ``clients`` connections for ``seconds``."""
    acknowledged: list[tuple[int, int]] = []
    latencies: list[float] = []
    started = time.perf_counter()
    await load(url, clients, points, trio.current_time() + seconds, acknowledged, latencies)
    wall = time.perf_counter() - started
    return {
        "points_per_s": round(len(acknowledged) * points / wall),
        "p50_ms": round(percentile(latencies, 0.5) * 1e3, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1e3, 1),
        "requests": len(acknowledged),
    }


def stored(data: Path) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """``(client, seq)`` of every ``ack`` point in the store and in the archive."""
    from flcollector import Metric
    from flcollector.plugins.jsonl import read_archive

    with sqlite3.connect(data / "flcollector.db") as conn:
        rows = conn.execute(
            "SELECT json_extract(series.tags, '$.client'), json_extract(metrics.fields, '$.seq') FROM metrics "
            "JOIN series ON series.id = metrics.series_id WHERE series.name = 'ack'"
        ).fetchall()
    in_store = {(int(c[1:]), int(s)) for c, s in rows}
    archive = {(int(m.tags["client"][1:]), int(m.fields["seq"])) for m in read_archive(data / "jsonl", "metrics")
               if isinstance(m, Metric) and m.name == "ack"}
    return in_store, archive


async def crash(mode: str, clients: int, points: int, after: float) -> dict[str, Any]:
    """Load the agent, kill -9 it after ``after`` s; count acknowledged points missing from store and archive."""
    with tempfile.TemporaryDirectory(prefix=f"flcollector-ack-{mode}-", ignore_cleanup_errors=True) as tmp:
        folder = Path(tmp)  # counted, then removed: the store is not kept
        agent = AgentProcess(folder, store_config(folder / "data", server=f'ingest_ack = "{mode}"'))
        acknowledged: list[tuple[int, int]] = []
        try:
            url = await agent.start()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(load, url, clients, points, float("inf"), acknowledged, [])
                await trio.sleep(after)
                agent.signal(signal.SIGKILL)
                await agent.wait()
        finally:
            await agent.kill_now()
        in_store, archive = stored(folder / "data")
    points_acked = {(c, first + i) for c, first in acknowledged for i in range(points)}
    return {
        "acknowledged": len(points_acked),
        "lost_in_store": len(points_acked - in_store),
        "lost_in_archive": len(points_acked - archive),
    }


async def run_mode(mode: str, args: argparse.Namespace, floor_url: str | None) -> dict[str, Any]:
    """Throughput for every client count, then the crash, for one mode (or the floor)."""
    results: dict[str, Any] = {"mode": mode}
    agent = None
    if floor_url is None:
        folder = Path(tempfile.mkdtemp(prefix=f"flcollector-ack-{mode}-"))
        agent = AgentProcess(folder, store_config(folder / "data", server=f'ingest_ack = "{mode}"'))
        url = await agent.start()
    else:
        url = floor_url
    try:
        for clients in args.clients:
            results[f"clients_{clients}"] = await throughput(url, clients, args.points, args.seconds)
    finally:
        if agent is not None:
            await agent.kill_now()
            shutil.rmtree(agent.folder, ignore_errors=True)
    if floor_url is None:
        results["kill_9"] = await crash(mode, max(args.clients), args.points, args.crash_after)
    return results


def start_floor() -> tuple[subprocess.Popen[bytes], str]:
    """The bare hypercorn-trio route of ``benchmarks/api.py --floor``, and its URL."""
    floor = subprocess.Popen([sys.executable, str(HERE / "api.py"), "--floor"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE)
    assert floor.stdout is not None
    return floor, json.loads(floor.stdout.readline())["url"]


async def main(args: argparse.Namespace, floor_url: str) -> None:
    """The floor and both modes, one JSON line each, then the ratios."""
    figures = {"floor": await run_mode("floor", args, floor_url)}
    for mode in ("accepted", "durable"):
        figures[mode] = await run_mode(mode, args, None)
    for result in figures.values():
        for clients in args.clients:
            key = f"clients_{clients}"
            result[key]["ratio_to_floor"] = round(result[key]["points_per_s"] / figures["floor"][key]["points_per_s"],
                                                  3)
        print(json.dumps(result), flush=True)
    medians = {mode: statistics.median(r[f"clients_{c}"]["ratio_to_floor"] for c in args.clients)
               for mode, r in figures.items()}
    print(json.dumps({"median_ratio_to_floor": medians}), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=lambda s: [int(x) for x in s.split(",")], default=[1, 8])
    parser.add_argument("--points", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--crash-after", type=float, default=4.0)
    floor, url = start_floor()
    try:
        trio.run(main, parser.parse_args(), url)
    finally:
        assert floor.stdin is not None
        floor.stdin.close()
        floor.wait(10)
