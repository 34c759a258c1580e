"""The outage test: InfluxDB, Prometheus and Redis go away under a steady load, the agent is killed with SIGKILL
during the outage and started again, the servers come back, and every record the agent took arrives, once per point.

The agent runs as a real process (``flcollector run``) with disk buffers; load arrives through its ingest API.
The outage lasts ``FLCOLLECTOR_OUTAGE_SECONDS`` (default 3 s, so the default suite stays quick; ``.ci/run`` runs
the spec's 30 s). Needs the three server binaries: see ``remote_servers``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis
import trio
from remote_agents import write_config
from remote_servers import InfluxServer, PrometheusServer, RedisServer, free_port

OUTAGE_S = float(os.environ.get("FLCOLLECTOR_OUTAGE_SECONDS", "3"))
BATCH, PACE_S = 20, 0.05  # 400 records/s of steady load
SINKS = ("influxdb", "remote_write", "redis")

pytestmark = pytest.mark.outage


def agent_toml(port: int, influx: InfluxServer, prometheus: PrometheusServer, redis_server: RedisServer) -> str:
    common = 'buffer = "disk"\nbuffer_fsync = false\nflush_interval = "20ms"\nbackoff_initial = "50ms"\n' \
             'backoff_max = "1s"\ntimeout = "2s"'
    return f"""
[server]
port = {port}

[[sinks.influxdb]]
url = "{influx.url}"
database = "outage"
{common}

[[sinks.remote_write]]
url = "{prometheus.url}/api/v1/write"
{common}

[[sinks.redis]]
url = "redis://127.0.0.1:{redis_server.port}/0"
stream = true
publish = false
{common}
"""


class Load:
    """Posts numbered ``load`` metrics to the agent's ingest API, one millisecond apart (one series per sink)."""

    def __init__(self) -> None:
        self.base_ns = (time.time_ns() // 1_000_000 - 120_000) * 1_000_000  # in the past: Prometheus takes it
        self.sent = 0

    async def post(self, client: httpx.AsyncClient, count: int) -> None:
        metrics = [{"name": "load", "fields": {"seq": float(i)}, "time_ns": self.base_ns + i * 1_000_000,
                    "source": "loadgen"} for i in range(self.sent, self.sent + count)]
        response = await client.post("/api/v1/ingest", content=orjson.dumps({"metrics": metrics}))
        assert response.status_code == 200, response.text
        self.sent += count

    async def steady(self, client: httpx.AsyncClient, seconds: float) -> None:
        """Post a batch every PACE_S for ``seconds`` (the pace of a steady source: these sleeps are the load)."""
        deadline = trio.current_time() + seconds
        while trio.current_time() < deadline:
            await self.post(client, BATCH)
            await trio.sleep(PACE_S)


async def sinks_of(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    components = (await client.get("/health")).json()["agent_components"]
    return {name: components[f"sink:{name}"] for name in SINKS}


async def poll(client: httpx.AsyncClient, check: Any, what: str, timeout: float = 120) -> dict[str, dict[str, Any]]:
    """Poll the agent's /health (another process) until ``check(sinks)`` holds."""
    with trio.move_on_after(timeout):
        while True:
            try:
                sinks = await sinks_of(client)
            except httpx.HTTPError:
                sinks = {}
            if sinks and check(sinks):
                return sinks
            await trio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def start_agent(config: Path, url: str, log: Path) -> trio.Process:
    with log.open("ab") as out:
        process = await trio.lowlevel.open_process([sys.executable, "-m", "flcollector", "run", "-c", str(config)],
                                                   stdout=out, stderr=subprocess.STDOUT)
    async with httpx.AsyncClient(base_url=url, timeout=2) as client:
        await poll(client, lambda sinks: True, f"the agent to answer (log: {log})", timeout=60)
    return process


def seqs_in_influx(influx: InfluxServer) -> list[float]:
    series = influx.query("SELECT seq FROM load", "outage")
    return [row[1] for row in series[0]["values"]] if series else []


def seqs_in_prometheus(prometheus: PrometheusServer, at_s: float) -> list[float]:
    result = prometheus.query('flcollector_load_seq{source="loadgen"}[1h]', at_s)
    return [float(value) for _, value in result[0]["values"]] if result else []


def seqs_in_redis(port: int) -> list[float]:
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        entries = client.xrange("flcollector:stream:system")
    finally:
        client.close()
    return [orjson.loads(fields[b"data"])["fields"]["seq"] for _, fields in entries
            if orjson.loads(fields[b"data"]).get("name") == "load"]


async def test_outage_and_sigkill_lose_nothing_the_agent_took(tmp_path: Path) -> None:
    influx = InfluxServer(tmp_path / "influxdb")
    prometheus = PrometheusServer(tmp_path / "prometheus")
    redis_server = RedisServer(tmp_path / "redis")
    servers = (influx, prometheus, redis_server)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = write_config(tmp_path / "agent", agent_toml(port, influx, prometheus, redis_server), grace="30s")
    log = tmp_path / "agent.log"
    load = Load()
    agent: trio.Process | None = None
    try:
        with trio.fail_after(240 + 2 * OUTAGE_S):
            for server in servers:
                await trio.to_thread.run_sync(server.start)
            agent = await start_agent(config, url, log)
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                await load.steady(client, 0.5)
                await poll(client, lambda s: all(v["counters"]["records_out"] >= load.sent for v in s.values()),
                           "delivery before the outage")

                for server in servers:  # the outage
                    await trio.to_thread.run_sync(server.stop)
                before_kill = load.sent
                await load.steady(client, OUTAGE_S / 2)
                held = await poll(client, lambda s: all(
                    v["backlog_records"] >= load.sent - before_kill and v["remote_status"] == "unreachable"
                    for v in s.values()), "the outage's records in the disk buffers")
                assert all(v["oldest_unsent_age_s"] > 0 for v in held.values())
                agent.kill()  # SIGKILL: no flush, no goodbye
                await agent.wait()

            agent = await start_agent(config, url, log)
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                recovered = await sinks_of(client)
                assert all(v["counters"]["recovered"] >= load.sent - before_kill for v in recovered.values())
                await load.steady(client, OUTAGE_S / 2)  # the outage goes on; the new agent buffers too
                for server in servers:
                    await trio.to_thread.run_sync(server.start)
                await poll(client, lambda s: all(v["backlog_records"] == 0 and v["remote_status"] == "healthy"
                                                 for v in s.values()), "the backlog to drain")
            agent.send_signal(signal.SIGTERM)
            assert await agent.wait() == 0, log.read_text()[-3000:]
            agent = None

            expected = [float(i) for i in range(load.sent)]
            at_s = (load.base_ns + load.sent * 1_000_000) / 1e9
            assert sorted(await trio.to_thread.run_sync(seqs_in_influx, influx)) == expected
            assert sorted(await trio.to_thread.run_sync(seqs_in_prometheus, prometheus, at_s)) == expected
            in_redis = await trio.to_thread.run_sync(seqs_in_redis, redis_server.port)
            assert sorted(set(in_redis)) == expected  # a Redis stream keeps a replayed duplicate: bounded, below
            assert len(in_redis) - len(expected) <= 2 * 1000, "more duplicates than the requests in flight"
    finally:
        if agent is not None:
            agent.kill()
        for server in servers:
            await trio.to_thread.run_sync(server.stop)
