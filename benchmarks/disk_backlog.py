"""Peak RSS of an agent holding a 1 GB disk backlog, and delivering it when InfluxDB comes back.

A disk buffer of ``--gigabytes`` of line-protocol records is written first (with the sink's own encoder and queue,
as an agent whose InfluxDB was away would have left it). Then ``flcollector run`` starts as a real process with that
buffer and an unreachable InfluxDB: it recovers the backlog (``/health`` shows it) and holds it. Then a real
``influxd`` starts, the agent delivers everything, and the agent's peak RSS (``VmHWM``) is read at each step.
Floor: the RSS of the same agent with an empty buffer. Target: under 200 MiB while holding and delivering 1 GB.
Run: ``.venv/bin/python benchmarks/disk_backlog.py [--gigabytes 1.0]``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import trio
from flcollector import Metric, RunContext, Runtime
from flcollector.diskqueue import DiskQueue
from flcollector.options import build_options
from flcollector.plugins.influxdb import InfluxSink
from flcollector.stats import StatsRegistry

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from remote_servers import InfluxServer, free_port

MiB = 1 << 20


def peak_rss_mib(pid: int) -> float:
    """``VmHWM`` (peak resident set) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def fill(directory: Path, gigabytes: float, batch: int) -> int:
    """Write a disk buffer of ``gigabytes`` as the influxdb sink would; return the records written."""
    runtime = Runtime(instance="influxdb", plugin="influxdb", log=logging.getLogger("bench"),
                      stats=StatsRegistry().register("sink", "influxdb", "influxdb"), context=RunContext(),
                      data_dir=directory)
    sink = InfluxSink(build_options(InfluxSink.Options, {}), runtime)
    target = int(gigabytes * 1024 * MiB)
    base = time.time_ns() - 3_600 * 10**9

    async def main() -> int:
        queue = DiskQueue(directory / "buffers" / "influxdb", 2 * target, "block", runtime.stats, runtime.log,
                          fsync=False)
        await queue.open()
        written = 0
        while queue.pending_bytes < target:
            records = [Metric("sdn_port", {"rx_bps": float(i % 977) * 1.5, "tx_bps": float(i % 331),
                                           "rx_drops_per_s": 0.0, "rx_packets": float(i)},
                              base + (written + i) * 1000, {"switch": f"s{(i // 24) % 8}", "port": str(i % 24)},
                              "sdn_controller", "bench", 1 + (written + i) // 100_000)
                       for i in range(batch)]
            units = sink.encode(records)
            await queue.put(units, len(units))
            written += len(units)
        await queue.close()
        return written

    return trio.run(main)


def agent_config(folder: Path, influx_url: str, port: int, gigabytes: float) -> Path:
    path = folder / "agent.toml"
    path.write_text(f"""
[agent]
data_dir = "{folder}"
self_metrics_interval = "0s"
flush_grace = "5s"

[[sinks.influxdb]]
url = "{influx_url}"
database = "backlog"
buffer = "disk"
buffer_fsync = false
max_bytes = {int(2 * gigabytes * 1024 * MiB)}
batch_size = 5000
backoff_initial = "100ms"
backoff_max = "1s"

[server]
port = {port}
""")
    return path


def sink_health(url: str) -> dict:
    try:
        return dict(httpx.get(f"{url}/health", timeout=5).json()["agent_components"]["sink:influxdb"])
    except (httpx.HTTPError, KeyError, ValueError):
        return {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--batch", type=int, default=5000)
    args = parser.parse_args()
    # removed however the run ends: the buffer alone is --gigabytes on disk
    with tempfile.TemporaryDirectory(prefix="flc-backlog-", ignore_cleanup_errors=True) as root:
        backlog(args, Path(root))


def backlog(args: argparse.Namespace, root: Path) -> None:
    """The floor (empty buffer), then the full buffer held while InfluxDB is away, then delivered; under ``root``."""
    influx = InfluxServer(root / "influxdb")

    # the floor: the same agent, same config, empty buffer, InfluxDB away
    empty = root / "empty"
    empty.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    floor = subprocess.Popen([sys.executable, "-m", "flcollector", "run", "-c",
                              str(agent_config(empty, influx.url, port, args.gigabytes))],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not sink_health(url):
        time.sleep(0.1)
    floor_mib = peak_rss_mib(floor.pid)
    floor.send_signal(signal.SIGTERM)
    floor.wait(60)

    started = time.perf_counter()
    full = root / "full"
    records = fill(full, args.gigabytes, args.batch)
    print(f"disk buffer: {records:,} records, {args.gigabytes:g} GiB, written in {time.perf_counter() - started:.0f}s")

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    agent = subprocess.Popen([sys.executable, "-m", "flcollector", "run", "-c",
                              str(agent_config(full, influx.url, port, args.gigabytes))],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        started = time.perf_counter()
        while sink_health(url).get("backlog_records", 0) < records:  # recovered and held
            time.sleep(0.1)
        health = sink_health(url)
        holding_mib = peak_rss_mib(agent.pid)
        print(f"agent up holding {health['backlog_records']:,} records / {health['backlog_bytes'] / MiB:,.0f} MiB "
              f"after {time.perf_counter() - started:.1f}s, status {health['remote_status']}: "
              f"peak RSS {holding_mib:.0f} MiB (empty buffer: {floor_mib:.0f} MiB)")
        influx.start()
        started = time.perf_counter()
        while sink_health(url).get("backlog_records", 1) > 0:
            time.sleep(0.5)
        seconds = time.perf_counter() - started
        delivered_mib = peak_rss_mib(agent.pid)
        print(f"delivered {records:,} records in {seconds:.0f}s ({records / seconds:,.0f} records/s): "
              f"peak RSS {delivered_mib:.0f} MiB; target < 200 MiB: {'met' if delivered_mib < 200 else 'NOT met'}")
        count = influx.query("SELECT count(rx_bps) FROM sdn_port", "backlog")[0]["values"][0][1]
        print(f"InfluxDB holds {count:,} points (every record is one point)")
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(60)
        influx.stop()


if __name__ == "__main__":
    main()
