"""The store's queries: every metric and event filter, latest values per series, grouped counts."""

from __future__ import annotations

from typing import Any

import pytest
import trio
from flcollector import Event, EventQuery, FoldingStore, Metric, MetricQuery, fold_metrics
from flcollector.plugins.sqlite import SqliteStore
from sqlite_records import T0, metric


async def test_metric_filters(store: SqliteStore) -> None:
    batch = [
        metric("fl_client_cpu", 1, tags={"client": "c1", "host": "n1"}, experiment="a", round=1),
        metric("fl_client_cpu", 2, tags={"client": "c2", "host": "n1"}, experiment="a", round=2),
        metric("fl_client_mem", 3, tags={"client": "c1"}, experiment="b", round=3),
        metric("net_rx", 4, source="sdn", round=4),
    ]
    with trio.fail_after(10):
        await store.write(batch)

        async def names(**kw: Any) -> list[int]:
            found = await store.query_metrics(MetricQuery(order="asc", **kw))
            assert await store.count_metrics(MetricQuery(**kw)) == len(found)
            return [int(m.fields["value"]) for m in found]

        assert await names(names=["fl_client_cpu"]) == [1, 2]
        assert await names(names=["fl_client_cpu", "net_rx"]) == [1, 2, 4]
        assert await names(names=[]) == []
        assert await names(name_prefix="fl_client_") == [1, 2, 3]
        assert await names(tags={"client": "c1"}) == [1, 3]
        assert await names(tags={"client": "c1", "host": "n1"}) == [1]
        assert await names(tags={"client": "c9"}) == []
        assert await names(experiment="a") == [1, 2]
        assert await names(round=3) == [3]
        assert await names(min_round=2, max_round=3) == [2, 3]
        assert await names(source="sdn") == [4]
        assert await names(start_ns=T0 + 2, end_ns=T0 + 3) == [2, 3]
        newest_first = await store.query_metrics(MetricQuery(limit=2, offset=1))
    assert [int(m.fields["value"]) for m in newest_first] == [3, 2]


async def test_latest_metrics_per_series_ignores_late_older_samples(store: SqliteStore) -> None:
    with trio.fail_after(10):
        await store.write([metric("cpu", 5, tags={"core": "0"}), metric("cpu", 6, tags={"core": "1"})])
        await store.write([metric("cpu", 1, tags={"core": "0"}), metric("mem", 9, source="other")])
        latest = await store.latest_metrics()
        only_cpu = await store.latest_metrics(names=["cpu"])
        from_other = await store.latest_metrics(source="other")
        names = await store.metric_names()
    assert [(m.name, m.tags, m.fields["value"]) for m in latest] == [
        ("cpu", {"core": "0"}, 5.0),
        ("cpu", {"core": "1"}, 6.0),
        ("mem", {}, 9.0),
    ]
    assert len(only_cpu) == 2 and [m.name for m in from_other] == ["mem"]
    assert names == ["cpu", "mem"]


async def test_event_filters_cursor_and_counts(store: SqliteStore) -> None:
    events = [
        Event("ROUND", "r1", T0 + 1, "fl_server", "INFO", experiment="a", round=1, id=10),
        Event("ALERT", "hot", T0 + 2, "anomaly", "WARNING", experiment="a", round=1, id=11),
        Event("ROUND", "r2", T0 + 3, "fl_server", "INFO", experiment="b", round=2, id=12),
        Event("DENY", "no", T0 + 4, "policy_engine", "ERROR", round=2, id=13),
    ]
    with trio.fail_after(10):
        await store.write(events)

        async def ids(**kw: Any) -> list[int | None]:
            found = await store.query_events(EventQuery(**kw))
            assert await store.count_events(EventQuery(**kw)) == len(found) or "limit" in kw
            return [e.id for e in found]

        assert await ids(since_id=11) == [12, 13]
        assert await ids(types=["ROUND"]) == [10, 12]
        assert await ids(levels=["warning", "ERROR"]) == [11, 13]
        assert await ids(source="fl_server", experiment="b") == [12]
        assert await ids(round=1) == [10, 11]
        assert await ids(start_ns=T0 + 2, end_ns=T0 + 3) == [11, 12]
        assert await ids(order="desc", limit=2) == [13, 12]
        assert await ids(since_id=10, limit=1, offset=1) == [12]
        by_level = await store.event_counts(EventQuery(), "level")
        by_type = await store.event_counts(EventQuery(since_id=10), "type")
        latest_round = await store.latest_event("ROUND")
        latest_round_elsewhere = await store.latest_event("ROUND", source="nobody")
        not_a_group: Any = "message"  # what an unchecked caller (a query string) could pass
        with pytest.raises(ValueError, match="cannot group events by"):
            await store.event_counts(EventQuery(), not_a_group)
    assert by_level == {"ERROR": 1, "INFO": 2, "WARNING": 1}
    assert by_type == {"ALERT": 1, "DENY": 1, "ROUND": 1}
    assert latest_round == events[2] and latest_round_elsewhere is None


async def test_unfiltered_event_counts_come_from_running_counts_and_follow_retention(store: SqliteStore) -> None:
    from flcollector import Event

    with trio.fail_after(10):
        events = [
            Event(
                type="T" + str(i % 3),
                level="INFO" if i % 2 else "ERROR",
                source="s" + str(i % 2),
                time_ns=T0 + i,
                id=i + 1,
            )
            for i in range(30)
        ]
        await store.write(events)
        for by in ("level", "source", "type"):
            running = await store.event_counts(EventQuery(), by)  # type: ignore[arg-type]
            scanned = await store.event_counts(EventQuery(since_id=0), by)  # type: ignore[arg-type]
            assert running == scanned and sum(running.values()) == 30
        # retention deletes go through the same trigger: the oldest 10 events leave the counts too
        writer = store._writer
        assert writer is not None
        await trio.to_thread.run_sync(writer.cleanup, T0 + 10, 1000, 0)
        assert await store.event_counts(EventQuery(), "level") == await store.event_counts(
            EventQuery(since_id=0), "level"
        )
        assert sum((await store.event_counts(EventQuery(), "type")).values()) == 20


class Pages:
    """A fold that keeps the pages it was given, as the values they hold."""

    def __init__(self) -> None:
        self.pages: list[list[int]] = []

    def add(self, metrics: list[Metric]) -> None:
        self.pages.append([int(m.fields["value"]) for m in metrics])


class QueryOnly:
    """The sqlite store seen as a store that can only answer ``query_metrics`` (no folding of its own)."""

    def __init__(self, store: SqliteStore) -> None:
        self.query_metrics = store.query_metrics


@pytest.mark.parametrize("folding", [True, False], ids=["one query", "offset pages"])
async def test_fold_metrics_feeds_a_selection_page_by_page(store: SqliteStore, folding: bool) -> None:
    reader: Any = store if folding else QueryOnly(store)
    assert isinstance(reader, FoldingStore) == folding
    with trio.fail_after(10):
        await store.write([metric("fl_round", value, round=value) for value in range(1, 24)])
        await store.write([metric("other", 99)])

        async def pages(**kw: Any) -> list[list[int]]:
            query = MetricQuery(**({"names": ["fl_round"], "limit": 20} | kw))
            return (await fold_metrics(reader, query, Pages, page=5)).pages

        newest_20 = await pages()
        everything = await pages(limit=1000, order="asc")
        after_offset = await pages(limit=7, offset=20)
        none = await pages(names=["absent"])
    assert newest_20 == [list(range(23 - 5 * i, 18 - 5 * i, -1)) for i in range(4)]  # four full pages, newest first
    assert everything == [list(range(1, 6)), list(range(6, 11)), list(range(11, 16)), list(range(16, 21)), [21, 22, 23]]
    assert after_offset == [[3, 2, 1]]  # the query's own offset is where the pages start; the limit where they end
    assert none == []
