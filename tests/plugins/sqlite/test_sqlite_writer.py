"""The store's writer: event ids, one transaction per batch (rolled back whole on a full disk), big batches."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import trio
from flcollector import Event, EventQuery, Metric, MetricQuery
from flcollector.plugins.sqlite import SqliteStore, StoreWriteError
from sqlite_records import T0, metric


async def test_event_ids_assigned_after_max_and_kept_across_reopen(make_component: Callable[..., Any]) -> None:
    with trio.fail_after(10):
        async with make_component(SqliteStore) as first:
            assert await first.max_event_id() == 0
            await first.write([Event("A", id=100), Event("B"), Event("C")])
            assert [e.id for e in await first.query_events(EventQuery())] == [100, 101, 102]
            await first.write([Event("A", id=100)])  # a retried batch: the id is already stored, not duplicated
        async with make_component(SqliteStore) as second:
            assert await second.max_event_id() == 102
            await second.write([Event("D")])
            stored = await second.query_events(EventQuery(since_id=101))
            info = await second.info()
    assert [(e.type, e.id) for e in stored] == [("C", 102), ("D", 103)]
    assert info["events"] == 4 and info["max_event_id"] == 103 and info["size_bytes"] > 0


async def test_disk_full_raises_clear_error_and_keeps_older_data(store: SqliteStore) -> None:
    with trio.fail_after(10):
        await store.write([metric("kept", i) for i in range(10)])
        writer = store._writer
        assert writer is not None
        pages = writer.conn.execute("PRAGMA page_count").fetchone()[0]
        writer.conn.execute(f"PRAGMA max_page_count = {pages}")  # a real SQLITE_FULL, like a full disk
        big = [metric("big", i, fields={"blob": "x" * 2000}) for i in range(200)]
        with pytest.raises(StoreWriteError, match="database or disk is full"):
            await store.write(big)
        kept = await store.count_metrics(MetricQuery())
        names = await store.metric_names()
        writer.conn.execute("PRAGMA max_page_count = 1073741823")
        await store.write(big[:3])  # the store recovers once there is room
        after = await store.count_metrics(MetricQuery(names=["big"]))
    assert kept == 10 and names == ["kept"] and after == 3


async def test_large_batches_keep_every_row_in_order(store: SqliteStore) -> None:
    batch = [metric("cpu", i, tags={"core": str(i % 7)}) for i in range(1203)]  # 2 full multi-row inserts + rest
    with trio.fail_after(10):
        await store.write(batch)
        stored = await store.query_metrics(MetricQuery(order="asc", limit=2000))
        latest = await store.latest_metrics(names=["cpu"])
    assert stored == batch
    assert sorted(m.fields["value"] for m in latest) == [float(i) for i in range(1196, 1203)]


async def test_values_orjson_cannot_encode_do_not_cost_the_batch(store: SqliteStore) -> None:
    odd = Metric("big", {"v": 2**70, "n": 1}, T0)
    with trio.fail_after(10):
        await store.write([odd, Event("E", details={"when": T0, "what": {1, 2}}, id=1), metric("cpu", 1)])
        (big,) = await store.query_metrics(MetricQuery(names=["big"]))
        (event,) = await store.query_events(EventQuery())
        cpu = await store.count_metrics(MetricQuery(names=["cpu"]))
    assert big.fields == {"v": float(2**70), "n": 1}  # JSON readers see a number beyond 64 bits as a float
    assert event.details == {"when": T0, "what": "{1, 2}"} and cpu == 1


async def test_a_value_sqlite_cannot_hold_costs_only_its_record(store: SqliteStore) -> None:
    """Issue 13: one timestamp or round beyond 64 bits made SQLite refuse the whole batch, three times, and the
    300-1,000 good records around it were dropped. Now the bad ones are named and the others stored."""
    from flcollector import RecordsRejected

    good = [metric("cpu", i) for i in range(300)]
    batch: list[Any] = [*good[:100], Metric("pp", {"v": 1}, 99999999999999999999999), *good[100:200],
                        Metric("pp", {"v": 1}, T0, round=10**23), Event("E", id=2**64 - 1), *good[200:]]
    with trio.fail_after(10):
        with pytest.raises(RecordsRejected) as caught:
            await store.write(batch)
        stored = await store.query_metrics(MetricQuery(order="asc", limit=1000))
        events = await store.count_events(EventQuery())
    assert [index for index, _ in caught.value.rejected] == [100, 201, 202]
    assert "time_ns" in caught.value.rejected[0][1] and "too large" in caught.value.rejected[0][1]
    assert stored == good and events == 0
    assert store.runtime.stats.counters["metrics_written"] == 300
