"""The store's readers: a quick read answers on the event loop, a long one goes to a worker thread."""

from __future__ import annotations

import sqlite3
import threading

import pytest
import trio
from flcollector import MetricQuery
from flcollector.plugins.sqlite import SqliteStore
from sqlite_records import metric

#: A read that runs as long as SQLite takes to count to ten million: far over the inline budget.
LONG = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 10000000) SELECT count(*) FROM n"


def _count(conn: sqlite3.Connection) -> tuple[int, str]:
    return conn.execute(LONG).fetchone()[0], threading.current_thread().name


def _where(conn: sqlite3.Connection) -> str:
    conn.execute("SELECT count(*) FROM metrics").fetchone()
    return threading.current_thread().name


async def test_a_quick_read_answers_on_the_event_loop_thread(store: SqliteStore) -> None:
    with trio.fail_after(10):
        await store.write([metric("cpu", 1)])
        assert await store._read(_where) == threading.current_thread().name
        assert [m.fields["value"] for m in await store.query_metrics(MetricQuery())] == [1.0]
    assert store.runtime.stats.counters["reads_deferred"] == 0


async def test_a_read_over_budget_is_interrupted_and_answered_from_a_worker_thread(store: SqliteStore) -> None:
    with trio.fail_after(30):
        count, thread = await store._read(_count)
    assert count == 10_000_000
    assert thread != threading.current_thread().name
    assert store.runtime.stats.counters["reads_deferred"] == 1


async def test_a_read_asked_for_a_thread_never_runs_on_the_loop(store: SqliteStore) -> None:
    with trio.fail_after(10):
        thread = await store._read(_where, inline=False)
    assert thread != threading.current_thread().name
    assert store.runtime.stats.counters["reads_deferred"] == 0


async def test_a_query_error_is_raised_as_itself(store: SqliteStore) -> None:
    with trio.fail_after(10), pytest.raises(sqlite3.OperationalError, match="no such table"):
        await store._read(lambda conn: conn.execute("SELECT * FROM nowhere").fetchall())
