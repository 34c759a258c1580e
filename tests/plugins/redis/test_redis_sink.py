"""The ``redis`` sink through a real agent into a real Redis, read back with HGETALL, XRANGE and SUBSCRIBE."""

from __future__ import annotations

from pathlib import Path

import orjson
import redis
import trio
from flcollector import Event, Metric
from remote_agents import running_agent
from remote_servers import RedisServer, free_port

T0 = 1_700_000_000_000_000_000


def sink_toml(port: int, prefix: str, extra: str = "") -> str:
    return f"""
[[sinks.redis]]
url = "redis://127.0.0.1:{port}/0"
prefix = "{prefix}"
flush_interval = "20ms"
batch_size = 50
backoff_initial = "20ms"
backoff_max = "200ms"
{extra}
"""


def records() -> list[Metric | Event]:
    out: list[Metric | Event] = [
        Metric("fl_training", {"accuracy": i / 100, "round_time_s": 1.5}, time_ns=T0 + i,
               tags={"client": f"client_{i % 4}"}, source="fl_server", round=i // 4)
        for i in range(120)
    ]
    out += [Metric("host_cpu", {"percent": 12.5}, time_ns=T0 + 500, tags={"node": "n1"}, source="host")]
    out += [Event("POLICY_DENIED", "denied", time_ns=T0 + 600, source="policy_engine", level="WARNING",
                  details={"policy": "p1"})]
    return out


async def test_latest_hash_streams_and_pubsub_hold_every_record(redis_server: RedisServer, tmp_path: Path) -> None:
    client = redis.Redis(host="127.0.0.1", port=redis_server.port)
    pubsub = client.pubsub()
    await trio.to_thread.run_sync(pubsub.psubscribe, "live:*")
    with trio.fail_after(60):
        async with running_agent(tmp_path, sink_toml(redis_server.port, "live", "stream = true")) as agent:
            await agent.send(records())
        stats = agent.stats.get("sink", "redis")
        assert stats is not None and stats.counters["dropped"] == 0
        assert stats.counters["records_out"] == stats.counters["records_in"] == 122 + 1  # + final self-metrics

        latest = await trio.to_thread.run_sync(client.hgetall, "live:latest")
        for n in range(4):
            doc = orjson.loads(latest[f"fl_training,client=client_{n}".encode()])
            assert doc["fields"]["accuracy"] == (116 + n) / 100 and doc["round"] == 29 and doc["kind"] == "metric"
            assert doc["experiment"] == "exp_remote"
        assert orjson.loads(latest[b"host_cpu,node=n1"])["fields"] == {"percent": 12.5}
        events = await trio.to_thread.run_sync(client.hgetall, "live:latest_events")
        assert orjson.loads(events[b"POLICY_DENIED"])["details"] == {"policy": "p1"}

        training = await trio.to_thread.run_sync(client.xrange, "live:stream:fl_training")
        assert [orjson.loads(entry[b"data"])["time_ns"] for _, entry in training] == [T0 + i for i in range(120)]
        alerts = await trio.to_thread.run_sync(client.xrange, "live:stream:alerts")
        policy = await trio.to_thread.run_sync(client.xrange, "live:stream:policy_events")
        assert len(alerts) == len(policy) == 1  # a WARNING policy event is in both streams

        channels: dict[str, int] = {}
        while sum(channels.values()) < 122 + 1:  # 120 training + host_cpu + the event on two channels
            message = await trio.to_thread.run_sync(lambda: pubsub.get_message(timeout=5))
            assert message is not None, f"pub/sub went quiet after {channels}"
            if message["type"] == "pmessage":
                channel = message["channel"].decode()
                channels[channel] = channels.get(channel, 0) + 1
        assert channels["live:fl_training"] == 120 and channels["live:alerts"] == 1
        assert channels["live:policy_events"] == 1 and channels["live:system"] >= 1
    await trio.to_thread.run_sync(pubsub.close)
    await trio.to_thread.run_sync(client.close)


async def test_unreachable_redis_keeps_the_backlog_and_says_so(tmp_path: Path) -> None:
    with trio.fail_after(30):
        async with running_agent(tmp_path, sink_toml(free_port(), "gone"), grace="300ms") as agent:
            await agent.send(records()[:10])
            stats = agent.stats.get("sink", "redis")
            assert stats is not None
            while stats.snapshot()["backlog_records"] < 10 or stats.counters["retries"] < 1:  # noqa: ASYNC110
                await trio.sleep(0.02)
            report = stats.snapshot()
            assert report["remote_status"] == "unreachable" and report["endpoint"].startswith("redis://127.0.0.1:")
    assert stats.counters["dropped"] >= 10  # buffer = "memory": what was never delivered is counted at shutdown
