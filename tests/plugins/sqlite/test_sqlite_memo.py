"""The sqlite store keeps ``info()`` and the latest reads until it writes: same answers, never stale ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import trio
import trio.testing
from flcollector import Event, EventQuery, VersionedStore, now_ns
from flcollector.plugins.sqlite import SqliteStore, queries
from flcollector.plugins.sqlite.memo import WriteMemo
from sqlite_records import metric


async def test_latest_reads_change_with_each_write_and_equal_a_fresh_read(store: SqliteStore) -> None:
    with trio.fail_after(10):
        await store.write([metric("cpu", 1), Event("FLOW_SNAPSHOT", time_ns=now_ns(), details={"flows": [1]}, id=1)])
        first = await store.latest_metrics(names=["cpu"])
        again = await store.latest_metrics(names=["cpu"])
        assert again == first and again[0] is first[0]  # kept: the second poll did not read the file
        snapshot = await store.latest_event("FLOW_SNAPSHOT")
        assert snapshot is not None and await store.latest_event("FLOW_SNAPSHOT") is snapshot

        await store.write([metric("cpu", 2), Event("FLOW_SNAPSHOT", time_ns=now_ns(), details={"flows": [2]}, id=2)])
        after = await store.latest_metrics(names=["cpu"])
        newer = await store.latest_event("FLOW_SNAPSHOT")
    assert [m.fields["value"] for m in first] == [1.0] and [m.fields["value"] for m in after] == [2.0]
    assert newer is not None and newer.id == 2 and newer.details["flows"] == [2]


async def test_info_counts_follow_writes_and_retention(make_component: Callable[..., Any]) -> None:
    old = now_ns() - 20 * 86400 * 10**9
    sink = make_component(SqliteStore, {"retention": "14d", "cleanup_interval": "1h"})
    with trio.fail_after(10):
        async with sink:
            await sink.write([metric("new", 1, time_ns=now_ns())])  # the first write runs a retention step
            await sink.write([metric("old", 1, time_ns=old)])  # the next is an hour away
            before = await sink.info()
            assert await sink.info() == before
            await sink.cleanup()
            after = await sink.info()
            latest = await sink.latest_metrics()
    assert (before["metrics"], after["metrics"], after["deleted"]) == (2, 1, 1)
    assert [m.name for m in latest] == ["new"]


async def test_known_info_is_the_kept_info_and_none_after_a_write(store: SqliteStore) -> None:
    """``/health`` takes ``known_info()`` without a timeout: it must never be older than what ``info()`` reads."""
    with trio.fail_after(10):
        await store.write([metric("cpu", 1)])
        assert store.known_info() is None  # nothing read at this version yet
        facts = await store.info()
        known = store.known_info()
        assert known == facts and known is not facts  # a copy: the caller may change it
        await store.write([metric("cpu", 2)])
        assert store.known_info() is None
        assert (await store.info())["metrics"] == facts["metrics"] + 1 == store.known_info()["metrics"]


async def test_an_answer_read_across_a_write_is_not_kept() -> None:
    memo, release = WriteMemo(), trio.Event()

    async def slow_old_read() -> str:
        await release.wait()
        return "read before the write"

    async def fresh_read() -> str:
        return "read after the write"

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(memo.get, 1, "q", slow_old_read)
            await trio.testing.wait_all_tasks_blocked()
            assert await memo.get(2, "q", fresh_read) == "read after the write"  # the store wrote meanwhile
            release.set()
        assert await memo.get(2, "q", slow_old_read) == "read after the write"


async def test_a_sliding_window_count_equals_a_fresh_count_as_it_slides_and_after_writes(store: SqliteStore) -> None:
    def at(i: int, t: int, source: str = "policy_engine") -> Event:
        return Event("POLICY_DECISION", time_ns=t, source=source, id=i)

    async def counts(start: int) -> tuple[int, int]:
        recent = EventQuery(source="policy_engine", start_ns=start)
        kept = await store.count_events(recent)
        fresh = await store._read(queries.count_events, recent)  # the SQL count, never kept
        return kept, fresh

    with trio.fail_after(10):
        await store.write([at(1, 100), at(2, 200), at(3, 300), at(4, 250, source="sdn_controller")])
        seen = [await counts(start) for start in (50, 100, 101, 200, 201, 301, 0)]
        await store.write([at(5, 400)])
        seen += [await counts(start) for start in (301, 150)]
    assert [kept for kept, _ in seen] == [3, 3, 2, 2, 1, 0, 3, 1, 3]
    assert all(kept == fresh for kept, fresh in seen)


async def test_recent_counts_with_different_filters_are_kept_apart(store: SqliteStore) -> None:
    """Every filter of an EventQuery but the start is part of what a kept count answers (limit, offset and order
    do not change a count); a filter added to EventQuery must be added to the key too, or this fails."""
    filtered = {"since_id", "types", "source", "levels", "experiment", "round", "end_ns"}
    assert set(attrs.fields_dict(EventQuery)) == filtered | {"start_ns", "limit", "offset", "order", "sort"}
    events = [
        Event("POLICY_DECISION", time_ns=100 + i, source="policy_engine", level=level, round=i % 2, id=i + 1)
        for i, level in enumerate(["INFO", "WARNING", "INFO", "ERROR"])
    ]
    variants = [
        {},
        {"since_id": 2},
        {"types": ["OTHER"]},
        {"source": "fl_server"},
        {"levels": ["INFO"]},
        {"experiment": "elsewhere"},
        {"round": 1},
        {"end_ns": 101},
    ]
    with trio.fail_after(10):
        await store.write(events)
        for variant in variants:  # each asked after the others were kept: a shared key would answer with theirs
            query = EventQuery(start_ns=50, **variant)  # type: ignore[arg-type]
            assert await store.count_events(query) == await store._read(queries.count_events, query), variant


async def test_metrics_version_follows_the_commits_of_its_names_deletes_and_opens(
    make_component: Callable[..., Any],
) -> None:
    """``metrics_version`` (flcollector.VersionedStore) changes when a metric of one of its names is committed,
    when retention deletes rows and when the store is opened again, and stands through other names' writes."""
    sink = make_component(SqliteStore, {"retention": "14d", "cleanup_interval": "1h"})
    names = ["fl_round", "fl_client"]
    with trio.fail_after(10):
        async with sink:
            assert isinstance(sink, VersionedStore)
            now = now_ns()
            await sink.write([metric("cpu", 1, time_ns=now)])  # the first write runs a retention step (none deleted)
            empty = sink.metrics_version(names)
            await sink.write([metric("cpu", 2, time_ns=now), Event("FLOW_SNAPSHOT", time_ns=now, details={}, id=1)])
            assert sink.metrics_version(names) == empty  # other names, events: the version stands
            await sink.write([metric("fl_client", 1, time_ns=now)])
            one_client = sink.metrics_version(names)
            await sink.write([metric("fl_round", 1, time_ns=now), metric("fl_round", 2, time_ns=now, tags={"k": "v"})])
            one_round = sink.metrics_version(names)
            assert len({empty, one_client, one_round}) == 3
            await sink.write([metric("fl_round", 3, time_ns=now_ns() - 20 * 86400 * 10**9)])
            before_cleanup = sink.metrics_version(names)
            assert await sink.cleanup() == 1
            assert sink.metrics_version(names) != before_cleanup
            last = sink.metrics_version(names)
        async with sink:  # opened again: the counts start over, the version is still new
            assert sink.metrics_version(names) not in {empty, one_client, one_round, before_cleanup, last}
