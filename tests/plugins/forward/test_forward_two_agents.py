"""Two agents on loopback: a node agent forwards to a central agent's ingest API, which then shows the node."""

from __future__ import annotations

from pathlib import Path

import httpx
import trio
from flcollector import Event, Metric, now_ns
from remote_agents import running_agent, wait_until

CENTRAL = """
[[sinks.sqlite]]
flush_interval = "10ms"
retention = "0s"

[server]
port = 0
token = "central-token"
max_body_bytes = 20000
"""


def node_toml(url: str, extra: str = "") -> str:
    return f"""
[[monitors.system]]
interval = "50ms"

[[sinks.forward]]
url = "{url}"
token = "central-token"
node = "node-1"
client = "client_1"
flush_interval = "20ms"
backoff_initial = "20ms"
backoff_max = "200ms"
{extra}
"""


def client_rounds() -> list[Metric]:
    t = now_ns()
    rounds = [Metric("fl_round", {"accuracy": 0.5 + r / 10, "loss": 1.0 / r}, time_ns=t + r, round=r,
                     source="fl_server") for r in (1, 2, 3)]
    local = [Metric("fl_client", {"accuracy": 0.4 + r / 10, "training_time_s": 2.0 * r, "num_examples": 500},
                    time_ns=t + 10 + r, round=r, source="fl_client") for r in (1, 2)]
    padding = [Metric("fl_client_log", {"text": "x" * 200, "n": i}, time_ns=t + 100 + i, source="fl_client")
               for i in range(300)]  # 300 * ~400 bytes: more than the central's 20000-byte body limit
    return rounds + local + padding


async def test_a_node_agent_forwards_to_the_central_one(tmp_path: Path) -> None:
    with trio.fail_after(60):
        async with running_agent(tmp_path / "central", CENTRAL) as central:
            url = central.find("listener", "server").url
            async with httpx.AsyncClient(base_url=url, timeout=10,
                                         headers={"Authorization": "Bearer central-token"}) as api:
                async with running_agent(tmp_path / "node", node_toml(url)) as node:
                    await node.send(client_rounds())
                    await node.send([Event("CLIENT_TRAINING_STARTED", "client_1 trains", source="fl_client")])
                    forward = node.stats.get("sink", "forward")
                    assert forward is not None
                    await wait_until(lambda: forward.counters["records_out"] >= 306 + 4, "the node's records")
                assert forward.counters["dropped"] == 0 and forward.counters["splits"] >= 1  # 413, split

                store = central.store
                assert store is not None
                fl = (await api.get("/api/v1/fl/metrics")).json()
                assert fl["client_metrics"]["client_1"]["rounds_participated"] == 2
                assert fl["client_metrics"]["client_1"]["data_contribution"] == 500
                logs = (await api.get("/api/v1/metrics", params={"name": "fl_client_log", "limit": 1000,
                                                                  "tag.node": "node-1"})).json()
                assert logs["count"] == 300
                host = (await api.get("/api/v1/metrics", params={"source": "host", "tag.node": "node-1",
                                                                  "tag.client": "client_1"})).json()
                assert host["count"] >= 1  # the node's own host metrics, collected there, stored here
                events = (await api.get("/api/v1/events", params={"type": "CLIENT_TRAINING_STARTED"})).json()
                assert events["events"][0]["details"] == {"node": "node-1", "client": "client_1"}


async def test_a_wrong_token_is_reported_and_nothing_is_dropped(tmp_path: Path) -> None:
    with trio.fail_after(60):
        async with running_agent(tmp_path / "central", CENTRAL) as central:
            url = central.find("listener", "server").url
            toml = node_toml(url).replace('token = "central-token"', 'token = "wrong"')
            async with running_agent(tmp_path / "node", toml, grace="300ms") as node:
                await node.send(client_rounds()[:3])
                forward = node.stats.get("sink", "forward")
                assert forward is not None
                await wait_until(lambda: forward.counters["retries"] >= 2, "two refused attempts")
                report = forward.snapshot()
                assert report["remote_status"] == "unhealthy" and report["backlog_records"] >= 3
                assert "401" in (report["last_error"] or "")
            assert forward.counters["rejected"] == 0
