"""The sqlite store sink: exact round trips, reads during writes, retention, open errors, published counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import trio
import trio.testing
from flcollector import Event, EventQuery, Metric, MetricQuery, Store, now_ns
from flcollector.plugins.sqlite import SqliteStore
from sqlite_records import T0, metric


async def test_metric_and_event_round_trip_exactly(store: SqliteStore) -> None:
    with trio.fail_after(10):
        m1 = Metric(
            "fl_round",
            {"round": 7, "accuracy": 0.5, "loss": 1.0, "ok": True, "phase": "train"},
            T0,
            {"client": "c1", "host": "n1"},
            "fl_server",
            "exp1",
            7,
        )
        m2 = Metric("cpu", {"percent": 3.25}, T0 + 1)  # None experiment and round, no tags
        e1 = Event(
            "TOPOLOGY_SNAPSHOT",
            "topology",
            T0 + 2,
            "sdn_controller",
            "INFO",
            {"nodes": [{"id": 1, "w": 0.5}], "n": 2, "nested": {"x": None}},
            "exp1",
            3,
            id=41,
            origin_id="7c9e6679-7425-40de-944b-e07fc1f90ae7",  # the source's own id of the event
        )
        e2 = Event("NOTE", time_ns=T0 + 3, id=42)
        await store.write([m1, m2, e1, e2])
        metrics = await store.query_metrics(MetricQuery(order="asc"))
        events = await store.query_events(EventQuery())
    assert metrics == [m1, m2]
    assert type(metrics[0].fields["round"]) is int and type(metrics[0].fields["loss"]) is float
    assert metrics[0].time_ns == T0 and metrics[1].experiment is None and metrics[1].round is None
    assert events == [e1, e2]
    assert events[0].origin_id == e1.origin_id and events[1].origin_id is None


async def test_reads_answer_while_a_write_transaction_is_open(store: SqliteStore) -> None:
    with trio.fail_after(10):
        await store.write([metric("cpu", 1)])
        writer = store._writer
        assert writer is not None
        writer.conn.execute("BEGIN IMMEDIATE")  # the writer holds the write lock, as during a long batch
        writer.conn.execute("INSERT INTO metrics (time_ns, series_id, fields, source) VALUES (1, 1, '{}', 'x')")
        try:
            seen = await store.query_metrics(MetricQuery())
        finally:
            writer.conn.execute("ROLLBACK")
    assert [m.fields["value"] for m in seen] == [1.0]  # the committed row, not the pending one


async def test_retention_deletes_in_chunks_and_drops_empty_series(make_component: Callable[..., Any]) -> None:
    old = now_ns() - 20 * 86400 * 10**9
    sink = make_component(SqliteStore, {"retention": "14d", "cleanup_chunk": 10, "cleanup_interval": "1h"})
    with trio.fail_after(10):
        async with sink:
            await sink.write(
                [metric("old", i, time_ns=old + i) for i in range(25)]
                + [Event("OLD", time_ns=old, id=1), metric("new", 1, time_ns=now_ns())]
            )
            steps = [await sink.cleanup() for _ in range(4)]
            remaining = await sink.query_metrics(MetricQuery())
            names = await sink.metric_names()
            events = await sink.count_events(EventQuery())
            info = await sink.info()
    # The write itself ran the first step (interval due at start), so 15 old rows were left for the calls above.
    assert steps == [10, 5, 0, 0]
    assert [m.name for m in remaining] == ["new"] and names == ["new"] and events == 0
    assert info["metrics"] == 1 and info["deleted"] == 26
    assert sink.runtime.stats.counters["retention_deleted"] == 26


async def test_zero_retention_keeps_everything(store: SqliteStore) -> None:
    with trio.fail_after(10):
        await store.write([metric("ancient", 1, time_ns=1)])
        assert await store.cleanup() == 0
        assert await store.count_metrics(MetricQuery()) == 1


async def test_unwritable_data_dir_fails_at_open_naming_the_path(
    make_component: Callable[..., Any], tmp_path: Any
) -> None:
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("a file where a directory should be")
    sink = make_component(SqliteStore, {"path": str(blocker / "store.db")})
    with trio.fail_after(10), pytest.raises(OSError, match=r"not_a_dir/store\.db"):
        await sink.open()


async def test_is_a_store_and_publishes_counts(store: SqliteStore) -> None:
    with trio.fail_after(10):
        await store.write([metric("cpu", 1), metric("cpu", 2), Event("E", id=5)])
    snapshot = store.runtime.stats.snapshot()
    assert isinstance(store, Store)
    assert snapshot["store"]["metrics"] == 2 and snapshot["store"]["events"] == 1
    assert snapshot["counters"]["metrics_written"] == 2 and snapshot["counters"]["events_written"] == 1


async def test_retention_steps_run_every_cleanup_interval(
    make_component: Callable[..., Any], mock_clock: trio.testing.MockClock
) -> None:
    # A mock clock moved by hand: the autojump clock would leap ahead while the writer thread works.
    old = now_ns() - 20 * 86400 * 10**9
    sink = make_component(SqliteStore, {"retention": "14d", "cleanup_interval": "10m"})
    async with sink:
        await sink.write([metric("new", 1, time_ns=now_ns())])  # the first write runs a (now empty) step
        mock_clock.jump(599)
        await sink.write([metric("old", 1, time_ns=old)])  # not due yet: kept
        kept = await sink.count_metrics(MetricQuery(names=["old"]))
        mock_clock.jump(1)
        await sink.write([metric("new", 2, time_ns=now_ns())])  # due: the old row goes
        gone = await sink.count_metrics(MetricQuery(names=["old"]))
    assert (kept, gone) == (1, 0)
