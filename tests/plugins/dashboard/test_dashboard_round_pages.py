"""The FL rounds routes page in SQL on the sqlite store and in Python on any other: the same answers.

Each request runs twice on the same stored rows: once as served (the sqlite store picks the newest row per round and
pages), once with the store's round capability switched off (the answer ``flcollector.implements`` keeps for it),
which takes the Python path every other store takes; the JSON must be equal but for the fields that say when the
answer was made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio
from dashboard_helpers import SECOND, Dashboard, fl_round, fl_server, running_dashboard
from flcollector import Metric, MetricQuery, Record
from flcollector import store as store_module
from flcollector.plugins.dashboard.round_pages import RoundStore
from flcollector.plugins.sqlite import SqliteStore

MINUTE = 60 * SECOND
ROUND_CAPABILITY = (SqliteStore, RoundStore)  # the key of implements' per-class answer


def _stored_rounds() -> list[list[Record]]:
    """Batches: rounds 1-12 of ``a`` with gaps (4, 9 missing) and rewritten rounds, 1-5 of ``b``, a round-less row."""
    first: list[Record] = []
    for n in (1, 2, 3, 5, 6, 7, 8, 10, 11, 12):
        first += fl_round(n, 0.4 + n * 0.03, 1.0 - n * 0.05, "a")
    for n in range(1, 6):
        first += fl_round(n, 0.2 + n * 0.1, 0.9, "b", at=(20 + n) * MINUTE)
    first.append(Metric("fl_round", {"accuracy": 0.99}, first[0].time_ns, experiment="a"))  # no round: never served
    again: list[Record] = [
        *fl_round(3, 0.31, 0.8, "a", at=30 * MINUTE),  # round 3 stored again, later: the newer row wins
        *fl_round(3, 0.32, 0.7, "a", at=30 * MINUTE),  # ...and again at the same time: the later insert wins
        *fl_round(7, 0.11, 0.9, "a", at=1 * MINUTE),  # round 7 stored again with an older time: the old row stays
        *fl_round(12, 0.95, 0.1, "a", at=40 * MINUTE),  # the last round rewritten after every other
        fl_server(11, 12, active=False, experiment="a"),
    ]
    return [first, again]


#: (path, params) of the requests compared; the experiment is ``a`` (the agent's) unless given.
ROUND_REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("/api/metrics/fl/rounds", {}),
    ("/api/metrics/fl/rounds", {"sort_order": "desc"}),
    ("/api/metrics/fl/rounds", {"limit": 3, "offset": 2}),
    ("/api/metrics/fl/rounds", {"limit": 4, "offset": 3, "sort_order": "desc", "format": "chart"}),
    ("/api/metrics/fl/rounds", {"offset": 50}),
    ("/api/metrics/fl/rounds", {"offset": 50, "polling_mode": "true"}),
    ("/api/metrics/fl/rounds", {"start_round": 3, "end_round": 9, "format": "summary"}),
    ("/api/metrics/fl/rounds", {"start_round": 0, "since_round": 5, "polling_mode": "true", "limit": 2}),
    ("/api/metrics/fl/rounds", {"since_timestamp": "2025-06-15T15:13:00Z"}),
    ("/api/metrics/fl/rounds", {"since_timestamp": "2025-06-15T15:30:00Z", "sort_order": "desc"}),
    ("/api/metrics/fl/rounds", {"start_time": "2025-06-15T15:10:00Z", "end_time": "2025-06-15T15:20:00Z"}),
    ("/api/metrics/fl/rounds", {"experiment": "b"}),
    ("/api/metrics/fl/rounds", {"experiment": "*", "sort_order": "desc", "limit": 5}),
    ("/api/metrics/fl/rounds", {"experiment": "none-such"}),
    ("/api/metrics/fl/rounds", {"min_accuracy": 0.5, "limit": 3}),  # the Python path on both sides
    ("/api/metrics/fl/rounds", {"include_stats": "true", "sort_order": "desc", "offset": 1}),
    ("/api/metrics/fl", {}),
    ("/api/metrics/fl", {"limit": 3, "include_raw": "true"}),
    ("/api/metrics/fl", {"min_round": 2, "max_round": 8}),
    ("/api/metrics/fl", {"start_time": "2025-06-15T15:12:00Z", "limit": 2}),
    ("/api/metrics/fl", {"experiment": "*"}),
    ("/api/metrics/fl", {"experiment": "none-such"}),
    ("/api/metrics/fl/summary", {"include_summary": "true", "limit": 4}),
    ("/api/metrics/fl/summary", {"min_round": 10, "experiment": "b"}),
]

#: Fields that say when the answer was made (or how long it took), not what it holds.
_MOMENT = {"execution_time_ms", "processing_time_ms", "response_timestamp"}


def _timeless(body: dict[str, Any]) -> dict[str, Any]:
    kept = {key: value for key, value in body.items() if key not in _MOMENT and key != "timestamp"}
    for block in ("metadata", "performance_info"):
        if block in kept:
            kept[block] = {key: value for key, value in kept[block].items() if key not in _MOMENT}
    return kept


async def _answers(dash: Dashboard) -> list[dict[str, Any]]:
    return [_timeless(await dash.get(path, **params)) for path, params in ROUND_REQUESTS]


async def test_the_store_pages_rounds_as_the_python_path_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with trio.fail_after(30):
        async with running_dashboard(tmp_path, experiment="a") as dash:
            for batch in _stored_rounds():
                await dash.send(batch)
            store = dash.agent.view.store
            assert isinstance(store, SqliteStore) and isinstance(store, RoundStore)
            paged_in_sql = await _answers(dash)
            monkeypatch.setitem(store_module._capable, ROUND_CAPABILITY, False)  # as a store without the capability
            paged_in_python = await _answers(dash)
    for (path, params), sql, python in zip(ROUND_REQUESTS, paged_in_sql, paged_in_python, strict=True):
        assert sql == python, (path, params)
    first = paged_in_sql[0]["rounds"]
    assert [r["round"] for r in first] == [1, 2, 3, 5, 6, 7, 8, 10, 11, 12]
    assert [r["accuracy"] for r in first if r["round"] in (3, 7, 12)] == [0.32, 0.61, 0.95]
    assert paged_in_sql[4]["rounds"] == [] and paged_in_sql[4]["total_rounds"] == 10


async def test_a_scope_over_the_scan_limit_is_left_to_the_python_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Python path reads only the newest SCAN_LIMIT rows of the scope; the store declines such a scope, so the
    answers stay the same (the older rounds are missing from both)."""
    with trio.fail_after(30):
        async with running_dashboard(tmp_path, experiment="a") as dash:
            for batch in _stored_rounds():
                await dash.send(batch)
            store = dash.agent.view.store
            assert isinstance(store, SqliteStore)
            scope = MetricQuery(names=["fl_round"], experiment="a", limit=10)
            assert await store.newest_per_round(scope) is None  # 15 rows of `a`: over the limit of 10
            found = await store.newest_per_round(MetricQuery(names=["fl_round"], experiment="a", limit=15))
            assert found is not None and found[1:] == (10, 12)
            monkeypatch.setattr("flcollector.plugins.dashboard.rounds.SCAN_LIMIT", 10)
            declined = await _answers(dash)
            monkeypatch.setitem(store_module._capable, ROUND_CAPABILITY, False)
            python = await _answers(dash)
    assert declined == python
    assert [r["round"] for r in declined[0]["rounds"]] != [1, 2, 3, 5, 6, 7, 8, 10, 11, 12]  # the limit did cut


def _later_steps() -> list[list[Record] | int]:
    """After :func:`_stored_rounds`: rounds arriving out of order, a tie, rows without an experiment, and (an int)
    a retention step deleting that many of the oldest rows."""
    return [
        [*fl_round(15, 0.7, 0.3, "a", at=50 * MINUTE), *fl_round(13, 0.6, 0.4, "a", at=51 * MINUTE)],
        [*fl_round(14, 0.65, 0.35, "a", at=52 * MINUTE), *fl_round(2, 0.5, 0.5, None, at=53 * MINUTE)],
        4,
        [*fl_round(13, 0.61, 0.39, "a", at=51 * MINUTE), *fl_round(16, 0.8, 0.2, "b", at=54 * MINUTE)],  # a tie
        9,
    ]


async def test_pages_kept_by_the_store_follow_each_write_and_retention_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store keeps a scope's pages until its rows change (a new, re-stored or deleted round): after every step
    the answers equal the Python path's, which reads the rows again on every request."""
    compared = 0
    with trio.fail_after(60):
        async with running_dashboard(tmp_path, experiment="a") as dash:
            store = dash.agent.view.store
            assert isinstance(store, SqliteStore) and store._writer is not None
            for step in [*_stored_rounds(), *_later_steps()]:
                if isinstance(step, int):  # the oldest rows, as a retention step deletes them
                    oldest = await store.query_metrics(MetricQuery(names=["fl_round"], limit=step, order="asc"))
                    cutoff = oldest[-1].time_ns + 1
                    assert await trio.to_thread.run_sync(store._writer.cleanup, cutoff, step, 0) >= step
                else:
                    await dash.send(step)
                monkeypatch.setitem(store_module._capable, ROUND_CAPABILITY, True)
                paged_in_sql = await _answers(dash)
                monkeypatch.setitem(store_module._capable, ROUND_CAPABILITY, False)
                assert paged_in_sql == await _answers(dash), step
                compared += 1
            last = paged_in_sql[0]["rounds"]
    assert compared == 7
    assert [(r["round"], r["accuracy"]) for r in last if r["round"] >= 13] == [(13, 0.61), (14, 0.65), (15, 0.7)]
