"""The cache sink: bounded deques per name/type, oldest-first answers, least-recently-updated eviction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import trio
from flcollector import Event, Metric
from flcollector.plugins.cache import RecentCache


def cpu(i: int, name: str = "cpu") -> Metric:
    return Metric(name, {"v": i}, 1_000 + i)


async def test_latest_recent_and_since_per_name(make_component: Callable[..., Any]) -> None:
    cache = make_component(RecentCache, {"max_per_name": 3})
    with trio.fail_after(10):
        async with cache:
            await cache.write([cpu(i) for i in range(5)] + [Event("ROUND", time_ns=7, id=1), cpu(9, "mem")])
    assert cache.latest("cpu") == cpu(4)
    assert cache.recent("cpu", 2) == [cpu(3), cpu(4)]
    assert cache.recent("cpu") == [cpu(2), cpu(3), cpu(4)]  # bounded by max_per_name
    assert cache.recent("cpu", 0) == [] and cache.recent("missing", 5) == []
    assert cache.since("cpu", 1_002) == [cpu(3), cpu(4)]
    assert cache.latest("ROUND") == Event("ROUND", time_ns=7, id=1)
    assert cache.latest("nothing") is None
    assert cache.names() == ["ROUND", "cpu", "mem"]
    assert cache.names("event") == ["ROUND"]


async def test_metric_names_and_event_types_do_not_collide(make_component: Callable[..., Any]) -> None:
    cache = make_component(RecentCache)
    same = Event("cpu", id=2)
    with trio.fail_after(10):
        await cache.write([cpu(1), same])
    assert cache.latest("cpu") == cpu(1)  # metrics first without a kind
    assert cache.latest("cpu", kind="event") == same
    assert cache.recent("cpu", kind="metric") == [cpu(1)]
    assert cache.names() == ["cpu"]


async def test_least_recently_updated_name_is_evicted_and_counted(make_component: Callable[..., Any]) -> None:
    cache = make_component(RecentCache, {"max_names": 2})
    with trio.fail_after(10):
        await cache.write([cpu(1, "a"), cpu(1, "b")])
        await cache.write([cpu(2, "a")])  # "a" is now the most recently updated
        await cache.write([cpu(1, "c")])  # so "b" goes
    assert cache.names() == ["a", "c"]
    assert cache.recent("a") == [cpu(1, "a"), cpu(2, "a")]
    assert cache.runtime.stats.counters["evicted_names"] == 1
    assert cache.runtime.stats.snapshot()["cache"] == {"names": 2, "records": 3, "evicted_names": 1}


async def test_all_names_together_hold_at_most_max_records(make_component: Callable[..., Any]) -> None:
    """Issue 13: 1,000 records for each of ~50 names (topology documents among them) grew the agent for half an hour.
    The total is bounded; the names updated least recently give up their older records first, never their latest."""
    cache = make_component(RecentCache, {"max_per_name": 50, "max_records": 100})
    with trio.fail_after(10):
        await cache.write([cpu(i, "old") for i in range(50)])
        await cache.write([cpu(i, f"n{i % 5}") for i in range(200)])  # 5 busy names, 40 each
    assert cache.records == sum(len(cache.recent(n)) for n in cache.names()) <= 100
    assert cache.recent("old") == [cpu(49, "old")]  # least recently updated: only its latest is left
    assert all(cache.latest(f"n{k}") == cpu(195 + k, f"n{k}") for k in range(5))
    with trio.fail_after(10):
        await cache.write([cpu(i, f"many{i}") for i in range(500)])  # more names than records: whole names go
    assert cache.records <= 100 and len(cache.names()) <= 100 and cache.evicted_names > 0
    assert cache.latest("many499") == cpu(499, "many499")
