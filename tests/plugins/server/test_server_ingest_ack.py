"""What an ingest 2xx promises (``ingest_ack``), what a failing store answers (503), and answers at shutdown."""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest
import trio
from flcollector import Event, EventQuery, Metric, MetricQuery, Receipt, Record, Sink, hookimpl
from flcollector.agent import Agent
from flcollector.config import load_config
from flcollector.loader import load_registry
from flcollector.plugins.jsonl import read_archive

CONFIG = """
[agent]
data_dir = "{data}"
self_metrics_interval = "0s"
flush_grace = "10s"
{sinks}
[server]
port = 0
{server}
"""
#: Long flush intervals: a durable answer must not wait for them (the batchers write at once while a client waits).
SQLITE = '[[sinks.sqlite]]\nretention = "0s"\nflush_interval = "10s"\nretries = 0\n'
JSONL = '[[sinks.jsonl]]\nflush_interval = "10s"\n'


class GatedStore(Sink):
    """A durable sink that writes only once ``gate`` is set (to hold a request in flight)."""

    name = "gated"
    durable = True
    gate: trio.Event
    written: list[Record]

    async def open(self) -> None:
        GatedStore.gate, GatedStore.written = trio.Event(), []

    async def write(self, batch: Sequence[Record]) -> None:
        await GatedStore.gate.wait()
        GatedStore.written.extend(batch)


class GatedPlugin:
    @hookimpl
    def register_sinks(self) -> list[type]:
        return [GatedStore]


async def _start(nursery: trio.Nursery, tmp_path: Path, sinks: str, server: str = "") -> tuple[Agent, str]:
    path = tmp_path / "collector.toml"
    path.write_text(CONFIG.format(data=tmp_path / "data", sinks=sinks, server=server))
    config = load_config(path, env={}, registry=load_registry(extra=[("gated", GatedPlugin())]))
    agent: Agent = await nursery.start(Agent(config).run)
    return agent, agent.find("listener", "server").url


def _lines(n: int, start: int = 0) -> bytes:
    stamp = 1_700_000_000_000_000_000
    return "".join(f"load,host=h{i % 7} v={i}i {stamp + i}\n" for i in range(start, start + n)).encode()


async def test_a_durable_2xx_means_the_store_and_archive_have_the_records(nursery, tmp_path: Path) -> None:
    """Issue 13: a 2xx was not durable (kill -9 lost the last 0.2-0.5 s of acknowledged points)."""
    agent, url = await _start(nursery, tmp_path, SQLITE + JSONL)
    with trio.fail_after(10):
        async with httpx.AsyncClient(base_url=url) as client:
            lines = await client.post("/write", content=_lines(3))
            assert lines.status_code == 204
            # no wait: the answer came after the commit (the flush interval is 10 s)
            assert await agent.store.count_metrics(MetricQuery()) == 3
            records = await client.post("/api/v1/ingest", json={"metrics": [{"name": "j", "fields": {"v": 1}}]})
            assert records.status_code == 200
            assert await agent.store.count_metrics(MetricQuery(names=["j"])) == 1
    assert len(list(read_archive(tmp_path / "data" / "jsonl", "metrics"))) == 4
    agent.stop()


async def test_accepted_mode_answers_before_the_write(nursery, tmp_path: Path) -> None:
    agent, url = await _start(nursery, tmp_path, SQLITE, 'ingest_ack = "accepted"\n')
    with trio.fail_after(10):
        async with httpx.AsyncClient(base_url=url) as client:
            assert (await client.post("/write", content=_lines(3))).status_code == 204
        assert await agent.store.count_metrics(MetricQuery()) == 0  # still in the sink's buffer (10 s flush)
    agent.stop()


async def test_a_full_store_is_a_503_with_retry_after_then_recovers_with_events(nursery, tmp_path: Path) -> None:
    """Issue 13: with the disk full, /write answered 204 for points that were dropped. Here SQLite's max_page_count
    gives the store a real SQLITE_FULL ("database or disk is full"), as a full disk does."""
    agent, url = await _start(nursery, tmp_path, SQLITE + JSONL, 'retry_after = "1h"\n')
    store = agent.store
    writer = store._writer
    big = "".join(f'pad,host=h{i} s="{"x" * 500}"\n' for i in range(200)).encode()
    with trio.fail_after(20):
        async with httpx.AsyncClient(base_url=url) as client:
            assert (await client.post("/write", content=_lines(5))).status_code == 204
            pages = writer.conn.execute("PRAGMA page_count").fetchone()[0]
            writer.conn.execute(f"PRAGMA max_page_count = {pages}")
            failed = await client.post("/write", content=big)
            refused = await client.post("/write", content=_lines(5, start=5))  # refused before it is read
            health = agent.health()
            writer.conn.execute("PRAGMA max_page_count = 1073741823")  # room again
            receipt = Receipt()
            await agent.send([Metric("probe", {"v": 1})], receipt=receipt)  # any write tells the store is back
            assert await receipt.wait()
            again = await client.post("/write", content=_lines(5, start=10))
    assert failed.status_code == 503 and failed.headers["retry-after"] == "3600"
    message = failed.json()["error"]["message"]
    assert "not committed" in message and "sqlite" in message and "full" in message
    assert refused.status_code == 503 and "cannot write" in refused.json()["error"]["message"]
    assert health["status"] == "degraded" and health["components"]["sink:sqlite"]["status"] == "error"
    assert again.status_code == 204
    assert await store.count_metrics(MetricQuery(names=["load"])) == 10  # the first and the last five
    server = agent.stats.get("listener", "server")
    assert server.counters["ingest_refused"] == 1 and server.counters["ingest_not_committed"] == 200
    (recovered,) = await store.query_events(EventQuery(types=["STORAGE_RECOVERED"]))
    assert recovered.details["sink"] == "sqlite" and recovered.details["dropped"] == 200
    archived = [r for r in read_archive(tmp_path / "data" / "jsonl", "events") if isinstance(r, Event)]
    assert [e.type for e in archived] == ["STORAGE_FAILED", "STORAGE_RECOVERED"]
    assert "full" in archived[0].details["error"]
    agent.stop()


async def test_unhealthy_when_no_durable_sink_can_write(nursery, tmp_path: Path) -> None:
    agent, url = await _start(nursery, tmp_path, SQLITE + '[[sinks.cache]]\n')
    writer = agent.store._writer
    with trio.fail_after(10):
        async with httpx.AsyncClient(base_url=url) as client:
            pages = writer.conn.execute("PRAGMA page_count").fetchone()[0]
            writer.conn.execute(f"PRAGMA max_page_count = {pages}")
            big = "".join(f'pad,host=h{i} s="{"x" * 500}"\n' for i in range(200)).encode()
            assert (await client.post("/write", content=big)).status_code == 503
            health = await client.get("/health")
    assert health.status_code == 503 and health.json()["status"] == "unhealthy"  # the cache alone keeps nothing
    writer.conn.execute("PRAGMA max_page_count = 1073741823")
    agent.stop()


@pytest.mark.parametrize("body", ["lines", "json"])
async def test_an_accepted_request_is_answered_even_when_the_agent_stops(nursery, tmp_path: Path, body: str) -> None:
    """Issue 13: SIGTERM during an in-flight ingest stored the batch but closed the connection without the answer,
    so a retrying client duplicated it. Here the store holds the write while the agent stops, past the server's
    graceful timeout; the accepted request is still answered once its records are written."""
    agent, url = await _start(nursery, tmp_path, "[[sinks.gated]]\n", 'graceful_timeout = "0.2s"\n')
    answers: list[httpx.Response] = []
    with trio.fail_after(20):
        async with httpx.AsyncClient(base_url=url, timeout=15) as client, trio.open_nursery() as requests:

            async def post() -> None:
                if body == "lines":
                    answers.append(await client.post("/write", content=gzip.compress(_lines(50)),
                                                     headers={"content-encoding": "gzip"}))
                else:
                    one = {"metrics": [{"name": "m", "fields": {"v": 1}}]}
                    answers.append(await client.post("/api/v1/ingest", json=one))

            requests.start_soon(post)
            server = agent.stats.get("listener", "server")
            while server.counters["records_in"] == 0:  # noqa: ASYNC110 - a counter has no event: accepted yet?
                await trio.sleep(0.01)
            agent.stop()
            await trio.sleep(0.6)  # well past graceful_timeout: hypercorn cancels what is still running
            GatedStore.gate.set()
    (answer,) = answers
    assert answer.status_code in (200, 204)
    assert len([r for r in GatedStore.written if isinstance(r, Metric)]) == (50 if body == "lines" else 1)


async def test_too_many_points_is_413_before_anything_is_accepted(nursery, tmp_path: Path) -> None:
    agent, url = await _start(nursery, tmp_path, SQLITE, "max_points = 10\n")
    with trio.fail_after(10):
        async with httpx.AsyncClient(base_url=url) as client:
            lines = await client.post("/write", content=_lines(11))
            records = await client.post("/api/v1/ingest", json={"metrics": [{"name": "m", "fields": {"v": 1}}] * 11})
            fits = await client.post("/write", content=_lines(10))
    assert lines.status_code == records.status_code == 413
    assert "max_points (10)" in lines.json()["error"]["message"]
    assert fits.status_code == 204 and await agent.store.count_metrics(MetricQuery()) == 10
    agent.stop()


async def test_a_big_body_is_taken_in_pieces_and_still_all_or_nothing(nursery, tmp_path: Path) -> None:
    from flcollector.plugins.server.routes.ingest import KEEP_POINTS

    agent, url = await _start(nursery, tmp_path, SQLITE)
    count = KEEP_POINTS + 1017
    bad = _lines(count) + b"broken line\n"
    with trio.fail_after(60):
        async with httpx.AsyncClient(base_url=url, timeout=50) as client:
            refused = await client.post("/write", content=bad)
            assert await agent.store.count_metrics(MetricQuery()) == 0
            taken = await client.post("/write", content=_lines(count))
    assert refused.status_code == 400 and refused.json()["error"]["line"] == count + 1
    assert taken.status_code == 204
    stored = await agent.store.query_metrics(MetricQuery(limit=count + 1, order="asc"))
    assert [m.fields["v"] for m in stored] == list(range(count))  # every point, in order, once
    agent.stop()
