"""Records/s through the influxdb, remote_write, redis and forward sinks into local real servers, against floors.

Each sink runs with the core's own batcher and delivery (``SinkRunner``: buffer, batches, queue, acknowledgement),
with ``buffer = "memory"`` and with ``buffer = "disk"`` (with and without fsync). Two floors, bare loops with no
agent and the same libraries, sending the same payload one request at a time:

- ``floor`` (the target's): the loop takes the records batch by batch, encodes each batch with the sink's own
  encoder (the same bytes the sink sends), joins and compresses it (gzip or snappy, as the sink does) and posts it
  with httpx, or runs the same Redis commands in one redis-py pipeline. A loop that has records to post must encode
  them, so this ratio prices what the agent adds around that: buffering, queueing, acknowledging, scheduling.
- ``bodies``: the same loop with every batch encoded before timing, so its ratio prices encoding too (the encoding
  cost per record is printed beside it).

The sink coalesces queued batches into requests of up to ``max_request_records`` (5000) while a backlog waits, as
it does here; ``single`` is the sink held to one batch per request, as the floors post, and ``wide`` is the
``floor`` loop posting requests as large as the sink's coalesced ones (5000 records), so that neither side gains
from a request size the other does not use.

Modes run interleaved, their order rotated run by run; a ratio is the median of each run's own ratio (modes of one
run ran under the same load), records/s are medians. CPU columns are microseconds per record of this process (all
threads) and of the server process, steadier than records/s on a shared machine.
Servers: Debian's influxd, prometheus (remote-write receiver on) and redis-server, and for ``forward`` a central
agent (``flcollector run``: the server's ingest API into the sqlite sink), started on 127.0.0.1 under a temporary
folder.
Run: ``.venv/bin/python benchmarks/remote_sinks.py [--count 100000] [--batch 1000] [--runs 3] [--only influxdb]``.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import cramjam
import httpx
import redis
import trio
from flcollector import Metric, Record, RemoteOptions, RunContext, Runtime, gzip_body
from flcollector.options import build_options
from flcollector.plugins.forward import ForwardSink
from flcollector.plugins.forward.sink import INGEST, ingest_document
from flcollector.plugins.influxdb import InfluxSink
from flcollector.plugins.redis import RedisSink
from flcollector.plugins.redis.sink import SEP
from flcollector.plugins.remote_write import RemoteWriteSink
from flcollector.settings import SinkCommon
from flcollector.sinks import SinkRunner
from flcollector.stats import StatsRegistry

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from remote_servers import InfluxServer, PrometheusServer, RedisServer, ServerProcess

SERIES = 192  # 8 switches x 24 ports


def make_metrics(count: int, base_ms: int) -> list[Record]:
    """Port counters, 192 series round robin, one sample per series per millisecond (Prometheus needs order)."""
    return [
        Metric("sdn_port", {"rx_bps": float(i % 977) * 1.5, "tx_bps": float(i % 331), "rx_drops_per_s": 0.0},
               (base_ms + i // SERIES) * 1_000_000, {"switch": f"s{(i // 24) % 8}", "port": str(i % 24)},
               "sdn_controller", "bench", 1)
        for i in range(count)
    ]


class Meter:
    """Wall time, this process's CPU time (all threads) and the server's over one timed section."""

    def __init__(self, server_pid: int) -> None:
        self.stat = Path(f"/proc/{server_pid}/stat")
        self.wall = self.cpu = self.server_cpu = 0.0

    def _server(self) -> float:
        fields = self.stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def start(self) -> None:
        """Start the section."""
        self._t, self._c, self._s = time.perf_counter(), time.process_time(), self._server()

    def stop(self) -> None:
        """End the section."""
        self.wall = time.perf_counter() - self._t
        self.cpu, self.server_cpu = time.process_time() - self._c, self._server() - self._s


def build(cls: type[Any], folder: Path, options: dict[str, Any]) -> Any:
    runtime = Runtime(instance=cls.name, plugin=cls.name, log=logging.getLogger("bench"),
                      stats=StatsRegistry().register("sink", cls.name, cls.name), context=RunContext(),
                      data_dir=folder)
    return cls(build_options(cls.Options, options), runtime)


def through_sink(cls: type[Any], options: dict[str, Any], records: list[Record], batch: int, folder: Path,
                 meter: Meter) -> None:
    """From the first record handed to the sink's buffer to the last one acknowledged by the server."""
    sink = build(cls, folder, options)
    common = SinkCommon(batch_size=batch, buffer_size=4 * batch)
    common.flush_interval = 0.05  # type: ignore[assignment]

    async def main() -> None:
        async with sink:
            runner = SinkRunner(sink, common, logging.getLogger("bench"))
            meter.start()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(runner.run)
                for i in range(0, len(records), batch):
                    await runner.buffer.put(records[i : i + batch])
                runner.buffer.close()
            meter.stop()
        assert sink.stats.counters["records_out"] == len(records), dict(sink.stats.counters)

    trio.run(main)


#: A bare loop: posts ``units_of(i)`` for every batch ``i`` in ``range(batches)``, one request at a time.
Floor = Callable[[Callable[[int], list[bytes]], int, Meter], None]


class CentralAgent(ServerProcess):
    """A central flcollector (its server's ingest API into the sqlite sink) as its own process: ``forward``'s remote."""

    name = "forward"

    def find_binary(self) -> str:
        """This interpreter, running ``-m flcollector``."""
        return sys.executable

    def command(self) -> list[str]:
        """``flcollector run`` with its data, store and port here."""
        config = self.root / "central.toml"
        config.write_text(f'[agent]\ndata_dir = "{self.root}"\nself_metrics_interval = "0s"\n\n'
                          f'[[sinks.sqlite]]\nbatch_size = 5000\n\n[server]\nport = {self.port}\n')
        return [self.binary, "-m", "flcollector", "run", "-c", str(config)]

    def ready(self) -> bool:
        """``/health`` answers."""
        return self._http_ok("/health")


def bare_http(url: str, params: dict[str, str], headers: dict[str, str], compress: Callable[[bytes], bytes],
              join: Callable[[list[bytes]], bytes]) -> Floor:
    def run(units_of: Callable[[int], list[bytes]], batches: int, meter: Meter) -> None:
        async def main() -> None:
            async with httpx.AsyncClient(timeout=30) as client:
                meter.start()
                for i in range(batches):
                    response = await client.post(url, content=compress(join(units_of(i))), params=params,
                                                 headers=headers)
                    response.raise_for_status()
                meter.stop()

        trio.run(main)

    return run


def bare_redis(port: int, prefix: str) -> Floor:
    def run(units_of: Callable[[int], list[bytes]], batches: int, meter: Meter) -> None:
        client = redis.Redis(host="127.0.0.1", port=port)
        meter.start()
        for i in range(batches):
            pipe = client.pipeline(transaction=False)
            latest = {}
            for unit in units_of(i):
                head, field, data = unit.split(SEP, 2)
                latest[field] = data
                pipe.publish(f"{prefix}:{head[1:].decode()}", data)
            pipe.hset(f"{prefix}:latest", mapping=latest)  # type: ignore[arg-type]
            pipe.execute()
        meter.stop()
        client.close()

    return run


MODES = ("floor", "wide", "bodies", "memory", "single", "disk", "fsync")
#: Records per request of the "wide" floor: the sink's default ``max_request_records``.
WIDE: int = attrs.fields(RemoteOptions).max_request_records.default
SINK_OPTIONS: dict[str, dict[str, Any]] = {
    "memory": {}, "disk": {"buffer": "disk", "buffer_fsync": False}, "fsync": {"buffer": "disk", "buffer_fsync": True}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default=",".join(SERVERS))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    root = Path(tempfile.mkdtemp(prefix="flc-remote-bench-"))
    servers = {name: SERVERS[name](root / name) for name in args.only.split(",")}
    try:
        for server in servers.values():
            server.start()
        run_all(args, root, servers)
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


def run_mode(mode: str, cls: type[Any], options: dict[str, Any], floor: Floor, records: list[Record], batch: int,
             folder: Path, meter: Meter) -> None:
    """Run one mode once over ``records``, timing it with ``meter``."""
    batches = range(0, len(records), batch)
    if mode in ("floor", "wide"):
        encode = build(cls, folder, options).encode
        size = batch if mode == "floor" else WIDE
        floor(lambda i: encode(records[i * size : (i + 1) * size]), -(-len(records) // size), meter)
    elif mode == "bodies":
        sink = build(cls, folder, options)
        bodies = [sink.encode(records[i : i + batch]) for i in batches]
        floor(bodies.__getitem__, len(bodies), meter)
    else:  # "single": one batch per request, as the floors post (no coalescing of a backlog)
        extra = SINK_OPTIONS.get(mode, {"max_request_records": batch})
        through_sink(cls, options | extra, records, batch, folder, meter)


#: The server each sink writes to, by sink name.
SERVERS: dict[str, type[ServerProcess]] = {
    "influxdb": InfluxServer, "remote_write": PrometheusServer, "redis": RedisServer, "forward": CentralAgent}


def setup(name: str, server: ServerProcess) -> tuple[type[Any], dict[str, Any], Floor]:
    """The sink class, its options and its floor for the sink ``name`` writing to ``server``."""
    url = server.url
    if name == "influxdb":
        httpx.post(f"{url}/query", params={"q": "CREATE DATABASE bench"}).raise_for_status()
        return InfluxSink, {"url": url, "database": "bench"}, bare_http(
            f"{url}/write", {"db": "bench", "precision": "n"}, {"Content-Encoding": "gzip"}, gzip_body,
            b"\n".join)
    if name == "remote_write":
        return RemoteWriteSink, {"url": f"{url}/api/v1/write"}, bare_http(
            f"{url}/api/v1/write", {}, {"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf",
                                        "X-Prometheus-Remote-Write-Version": "0.1.0"},
            lambda b: bytes(cramjam.snappy.compress_raw(b)), b"".join)
    if name == "redis":
        return (RedisSink, {"url": f"redis://127.0.0.1:{server.port}/0", "prefix": "bench"},
                bare_redis(server.port, "bench"))
    return ForwardSink, {"url": url, "node": "bench-node"}, bare_http(
        f"{url}{INGEST}", {}, {"Content-Encoding": "gzip", "Content-Type": "application/json"}, gzip_body,
        ingest_document)


def run_all(args: Any, root: Path, servers: dict[str, ServerProcess]) -> None:
    base_ms = int(time.time() * 1000) - 3_600_000  # an hour back, moving forward run by run (Prometheus' order)
    print(f"{args.count} metrics (3 fields, 2 tags), batches of {args.batch}, median of {args.runs} runs")
    print(f"{'sink':<14}{'floor/s':>9}{'memory/s':>10}{'ratio':>7}{'single':>7}{'wide/s':>9}{'ratio':>7}"
          f"{'bodies/s':>10}{'ratio':>7}{'encode':>8}{'disk':>7}{'fsync':>7}"
          "   CPU us/record: floor, memory (this process / server)")
    for name, server in servers.items():
        cls, options, floor = setup(name, server)
        assert server.process is not None
        rates: dict[str, list[float]] = {mode: [] for mode in MODES}
        cpu: dict[str, list[tuple[float, float]]] = {mode: [] for mode in MODES}
        for run in range(args.runs):
            for mode in MODES[run % len(MODES):] + MODES[: run % len(MODES)]:  # rotated: no mode always first
                base_ms += args.count // SERIES + 1000
                records = make_metrics(args.count, base_ms)
                folder = root / f"{name}-{run}-{mode}"
                folder.mkdir()
                meter = Meter(server.process.pid)
                run_mode(mode, cls, options, floor, records, args.batch, folder, meter)
                rates[mode].append(args.count / meter.wall)
                cpu[mode].append((meter.cpu / args.count * 1e6, meter.server_cpu / args.count * 1e6))
        rate = {mode: statistics.median(values) for mode, values in rates.items()}
        ratio = run_ratios(rates)
        us = {mode: tuple(statistics.median(c[i] for c in values) for i in (0, 1)) for mode, values in cpu.items()}
        encode_us = encoding_cost(cls, options, args.batch, root / f"{name}-encode")
        print(f"{name:<14}{rate['floor']:>9,.0f}{rate['memory']:>10,.0f}{ratio('memory', 'floor'):>7.2f}"
              f"{ratio('single', 'floor'):>7.2f}{rate['wide']:>9,.0f}{ratio('memory', 'wide'):>7.2f}"
              f"{rate['bodies']:>10,.0f}{ratio('memory', 'bodies'):>7.2f}"
              f"{encode_us:>6.1f}us{ratio('disk', 'memory'):>7.2f}{ratio('fsync', 'memory'):>7.2f}"
              f"   {us['floor'][0]:.1f}/{us['floor'][1]:.1f}, {us['memory'][0]:.1f}/{us['memory'][1]:.1f}")
    print("ratios, each the median of the runs' own: memory against floor; single (the sink sending one batch per "
          "request, as floor does) against floor;\nmemory against wide (the floor posting 5000 records a request) "
          "and against bodies; disk and fsync against the same sink's memory mode. Records/s: medians.")


def run_ratios(rates: dict[str, list[float]]) -> Callable[[str, str], float]:
    """``ratio(mode, base)``: the median of each run's own ratio (modes of one run ran back to back)."""
    def ratio(mode: str, base: str) -> float:
        return statistics.median(m / b for m, b in zip(rates[mode], rates[base], strict=True))

    return ratio


def encoding_cost(cls: type[Any], options: dict[str, Any], batch: int, folder: Path) -> float:
    """Microseconds per record of ``sink.encode`` alone (best of 3 over 20,000 records)."""
    folder.mkdir()
    sink = build(cls, folder, options)
    records = make_metrics(20_000, int(time.time() * 1000))
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for i in range(0, len(records), batch):
            sink.encode(records[i : i + batch])
        best = min(best, time.process_time() - started)
    return best / len(records) * 1e6


if __name__ == "__main__":
    main()
