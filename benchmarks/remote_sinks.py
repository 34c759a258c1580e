"""Records/s through the influxdb, remote_write and redis sinks into local real servers, against bare-loop floors.

Each sink runs with the core's own batcher and delivery (``SinkRunner``: buffer, batches, queue, acknowledgement),
with ``buffer = "memory"`` and with ``buffer = "disk"`` (with and without fsync). The floor is a bare loop, no agent,
posting the same payload with the same library: the bodies the sink would send (its own units, joined) are built
before timing; the loop compresses each one (gzip or snappy, as the sink does) and posts it (httpx), or runs the
same Redis commands in one pipeline per batch (redis-py). So the ratio prices everything the sink adds: encoding
records, queueing, acknowledging. Servers: Debian's influxd, prometheus (remote-write receiver on) and redis-server,
started on 127.0.0.1 under a temporary folder.
Run: ``.venv/bin/python benchmarks/remote_sinks.py [--count 100000] [--batch 1000] [--runs 3] [--only influxdb]``.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cramjam
import httpx
import redis
import trio
from flcollector import Metric, Record, RunContext, Runtime, gzip_body
from flcollector.options import build_options
from flcollector.plugins.influxdb import InfluxSink
from flcollector.plugins.redis import RedisSink
from flcollector.plugins.redis.sink import SEP
from flcollector.plugins.remote_write import RemoteWriteSink
from flcollector.settings import SinkCommon
from flcollector.sinks import SinkRunner
from flcollector.stats import StatsRegistry

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from remote_servers import InfluxServer, PrometheusServer, RedisServer

SERIES = 192  # 8 switches x 24 ports


def make_metrics(count: int, base_ms: int) -> list[Record]:
    """Port counters, 192 series round robin, one sample per series per millisecond (Prometheus needs order)."""
    return [
        Metric("sdn_port", {"rx_bps": float(i % 977) * 1.5, "tx_bps": float(i % 331), "rx_drops_per_s": 0.0},
               (base_ms + i // SERIES) * 1_000_000, {"switch": f"s{(i // 24) % 8}", "port": str(i % 24)},
               "sdn_controller", "bench", 1)
        for i in range(count)
    ]


def build(cls: type[Any], folder: Path, options: dict[str, Any]) -> Any:
    runtime = Runtime(instance=cls.name, plugin=cls.name, log=logging.getLogger("bench"),
                      stats=StatsRegistry().register("sink", cls.name, cls.name), context=RunContext(),
                      data_dir=folder)
    return cls(build_options(cls.Options, options), runtime)


def through_sink(cls: type[Any], options: dict[str, Any], records: list[Record], batch: int, folder: Path) -> float:
    """Seconds from the first record handed to the sink's buffer to the last one acknowledged by the server."""
    sink = build(cls, folder, options)
    common = SinkCommon(batch_size=batch, buffer_size=4 * batch)
    common.flush_interval = 0.05  # type: ignore[assignment]

    async def main() -> float:
        async with sink:
            runner = SinkRunner(sink, common, logging.getLogger("bench"))
            started = time.perf_counter()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(runner.run)
                for i in range(0, len(records), batch):
                    await runner.buffer.put(records[i : i + batch])
                runner.buffer.close()
            elapsed = time.perf_counter() - started
        assert sink.stats.counters["records_out"] == len(records), dict(sink.stats.counters)
        return elapsed

    return trio.run(main)


def bodies(cls: type[Any], options: dict[str, Any], records: list[Record], batch: int, folder: Path
           ) -> list[list[bytes]]:
    sink = build(cls, folder, options)
    return [sink.encode(records[i : i + batch]) for i in range(0, len(records), batch)]


def bare_http(url: str, params: dict[str, str], headers: dict[str, str], compress: Callable[[bytes], bytes],
              sep: bytes) -> Callable[[list[list[bytes]]], float]:
    def run(batches: list[list[bytes]]) -> float:
        async def main() -> float:
            async with httpx.AsyncClient(timeout=30) as client:
                started = time.perf_counter()
                for units in batches:
                    response = await client.post(url, content=compress(sep.join(units)), params=params,
                                                 headers=headers)
                    response.raise_for_status()
                return time.perf_counter() - started

        return trio.run(main)

    return run


def bare_redis(port: int, prefix: str) -> Callable[[list[list[bytes]]], float]:
    def run(batches: list[list[bytes]]) -> float:
        client = redis.Redis(host="127.0.0.1", port=port)
        started = time.perf_counter()
        for units in batches:
            pipe = client.pipeline(transaction=False)
            latest = {}
            for unit in units:
                head, field, data = unit.split(SEP, 2)
                latest[field] = data
                pipe.publish(f"{prefix}:{head[1:].decode()}", data)
            pipe.hset(f"{prefix}:latest", mapping=latest)  # type: ignore[arg-type]
            pipe.execute()
        elapsed = time.perf_counter() - started
        client.close()
        return elapsed

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="influxdb,remote_write,redis")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    root = Path(tempfile.mkdtemp(prefix="flc-remote-bench-"))
    influx, prometheus, redis_server = InfluxServer(root / "i"), PrometheusServer(root / "p"), RedisServer(root / "r")
    servers = [s for s, name in ((influx, "influxdb"), (prometheus, "remote_write"), (redis_server, "redis"))
               if name in args.only]
    for server in servers:
        server.start()
    try:
        run_all(args, root, influx, prometheus, redis_server)
    finally:
        for server in servers:
            server.stop()


def run_all(args: Any, root: Path, influx: InfluxServer, prometheus: PrometheusServer,
            redis_server: RedisServer) -> None:
    base_ms = int(time.time() * 1000) - 3_600_000  # an hour back, moving forward run by run (Prometheus' order)
    setups: dict[str, tuple[type[Any], dict[str, Any], Callable[[list[list[bytes]]], float]]] = {
        "influxdb": (InfluxSink, {"url": influx.url, "database": "bench"},
                     bare_http(f"{influx.url}/write", {"db": "bench", "precision": "n"},
                               {"Content-Encoding": "gzip"}, gzip_body, b"\n")),
        "remote_write": (RemoteWriteSink, {"url": f"{prometheus.url}/api/v1/write"},
                         bare_http(f"{prometheus.url}/api/v1/write", {},
                                   {"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf",
                                    "X-Prometheus-Remote-Write-Version": "0.1.0"},
                                   lambda b: bytes(cramjam.snappy.compress_raw(b)), b"")),
        "redis": (RedisSink, {"url": f"redis://127.0.0.1:{redis_server.port}/0", "prefix": "bench"},
                  bare_redis(redis_server.port, "bench")),
    }
    if "influxdb" in args.only:
        httpx.post(f"{influx.url}/query", params={"q": "CREATE DATABASE bench"}).raise_for_status()
    print(f"{args.count} metrics (3 fields, 2 tags), batches of {args.batch}, median of {args.runs} runs")
    print(f"{'sink':<14}{'floor rec/s':>13}{'memory':>10}{'ratio':>7}{'disk':>10}{'ratio':>7}"
          f"{'disk+fsync':>12}{'ratio':>7}")
    for name in args.only.split(","):
        cls, options, floor = setups[name]
        results: dict[str, list[float]] = {"floor": [], "memory": [], "disk": [], "fsync": []}
        for run in range(args.runs):
            for mode in results:
                base_ms += args.count // SERIES + 1000
                records = make_metrics(args.count, base_ms)
                folder = root / f"{name}-{run}-{mode}"
                folder.mkdir()
                if mode == "floor":
                    seconds = floor(bodies(cls, options, records, args.batch, folder))
                else:
                    extra = {"memory": {}, "disk": {"buffer": "disk", "buffer_fsync": False},
                             "fsync": {"buffer": "disk", "buffer_fsync": True}}[mode]
                    seconds = through_sink(cls, options | extra, records, args.batch, folder)
                results[mode].append(args.count / seconds)
        rate = {mode: statistics.median(values) for mode, values in results.items()}
        print(f"{name:<14}{rate['floor']:>13,.0f}{rate['memory']:>10,.0f}{rate['memory'] / rate['floor']:>7.2f}"
              f"{rate['disk']:>10,.0f}{rate['disk'] / rate['memory']:>7.2f}"
              f"{rate['fsync']:>12,.0f}{rate['fsync'] / rate['memory']:>7.2f}")
    print("memory ratio: against the floor; disk ratios: against the same sink with buffer = \"memory\"")


if __name__ == "__main__":
    main()
