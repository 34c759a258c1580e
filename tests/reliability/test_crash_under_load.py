"""Crash under load: ``kill -9`` while clients ingest loses nothing the agent acknowledged (durable mode), and
SIGTERM during an accepted request still answers it.

Issue 13: kill -9 under load lost the last 0.2-0.5 s of acknowledged points (about 16k in SQLite, 35k in JSONL at
70k points/s), and SIGTERM during an ingest stored a batch but closed the connection without the answer.
"""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import httpx
import trio
from agent_process import AgentProcess, store_config, stored_values
from flcollector import Metric
from flcollector.plugins.jsonl import read_archive

CLIENTS = 4
POINTS = 500  # per request


def _body(client: int, first: int) -> bytes:
    return "".join(f"crash,client=c{client} seq={first + i}i {1_700_000_000_000_000_000 + first + i}\n"
                   for i in range(POINTS)).encode()


async def _load(url: str, client: int, acknowledged: set[tuple[str, int]], stop: trio.Event) -> None:
    """Post batches until the agent dies; remember every point of every batch answered 204."""
    sequence = 0
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        while not stop.is_set():
            try:
                response = await http.post("/write", content=_body(client, sequence))
            except httpx.HTTPError:
                return  # the agent died mid-request: that batch was never acknowledged
            if response.status_code == 204:
                acknowledged.update((f"c{client}", sequence + i) for i in range(POINTS))
            sequence += POINTS


async def test_kill_9_under_load_loses_nothing_acknowledged(tmp_path: Path) -> None:
    agent = AgentProcess(tmp_path, store_config(tmp_path / "data"))
    acknowledged: set[tuple[str, int]] = set()
    stop = trio.Event()
    try:
        with trio.fail_after(120):
            url = await agent.start()
            async with trio.open_nursery() as nursery:
                for client in range(CLIENTS):
                    nursery.start_soon(_load, url, client, acknowledged, stop)
                while len(acknowledged) < 40 * POINTS:  # noqa: ASYNC110 - the load's progress has no event
                    await trio.sleep(0.05)
                agent.signal(signal.SIGKILL)  # mid-load: requests are in flight and batches half-written
                assert await agent.wait() == -signal.SIGKILL
                stop.set()
    finally:
        with trio.CancelScope(shield=True):
            await agent.kill_now()
    data = tmp_path / "data"
    archived = [m for m in read_archive(data / "jsonl", "metrics") if isinstance(m, Metric) and m.name == "crash"]
    store_points = _stored(data / "flcollector.db")
    archive_points = {(m.tags["client"], int(m.fields["seq"])) for m in archived}
    assert acknowledged, "the load never got an answer"
    assert not acknowledged - store_points, f"{len(acknowledged - store_points)} acknowledged points lost (store)"
    assert not acknowledged - archive_points, f"{len(acknowledged - archive_points)} acknowledged points lost (jsonl)"


def _stored(db: Path) -> set[tuple[str, int]]:
    """``(client tag, seq)`` of every stored ``crash`` point (read after the agent died: SQLite replays its WAL)."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT json_extract(series.tags, '$.client'), json_extract(metrics.fields, '$.seq') FROM metrics "
            "JOIN series ON series.id = metrics.series_id WHERE series.name = 'crash'"
        ).fetchall()
    return {(client, int(seq)) for client, seq in rows}


async def test_sigterm_during_a_big_accepted_ingest_answers_it_and_stores_it(tmp_path: Path) -> None:
    points = 200_000  # big enough to be mid-way when SIGTERM arrives, a piece at a time
    body = "".join(f"term,host=h{i % 10} seq={i}i {1_700_000_000_000_000_000 + i}\n" for i in range(points)).encode()
    agent = AgentProcess(tmp_path, store_config(tmp_path / "data", server='graceful_timeout = "0.5s"'))
    answers: list[httpx.Response] = []
    try:
        with trio.fail_after(120):
            url = await agent.start()
            async with httpx.AsyncClient(base_url=url, timeout=90) as http, trio.open_nursery() as nursery:

                async def post() -> None:
                    answers.append(await http.post("/write", content=body))

                nursery.start_soon(post)
                while (await _server_counters(http))["records_in"] == 0:  # noqa: ASYNC110 - another process
                    await trio.sleep(0.02)  # until the request was accepted (its first piece handed over)
                agent.signal(signal.SIGTERM)
            assert await agent.wait() == 0
    finally:
        with trio.CancelScope(shield=True):
            await agent.kill_now()
    (answer,) = answers
    assert answer.status_code == 204, answer.text
    assert len(stored_values(tmp_path / "data" / "flcollector.db", "term", "seq")) == points


async def _server_counters(http: httpx.AsyncClient) -> dict[str, int]:
    counters: dict[str, int] = (await http.get("/health")).json()["agent_components"]["listener:server"]["counters"]
    return counters
