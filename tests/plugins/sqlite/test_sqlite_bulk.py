"""The sqlite store's bulk reads (BulkStore): layout, chunked raw rows, SQL aggregation, event tallies, facts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import trio
from experiment_records import EXPERIMENT, ROUNDS, T0, S, experiment
from flcollector import Aggregation, BulkStore, Event, Metric, Selection
from flcollector.plugins.sqlite import SqliteStore
from flcollector.store import FieldInfo


async def collect(chunks: AsyncIterator[list[tuple[Any, ...]]]) -> list[list[tuple[Any, ...]]]:
    return [chunk async for chunk in chunks]


async def test_the_store_is_a_bulk_store(store: SqliteStore) -> None:
    assert isinstance(store, BulkStore)


async def test_layout_has_every_field_with_its_types_and_the_tags_of_selected_series(store: SqliteStore) -> None:
    with trio.fail_after(10):
        await store.write([
            Metric("m", {"i": 1, "f": 1.5, "b": True, "s": "x", "mixed": 1}, T0, {"host": "a"}),
            Metric("m", {"i": 2, "f": 2, "b": False, "mixed": "text", "late": 3}, T0 + 1, {"host": "b"}),
            Metric("other", {"z": 1}, T0 + 2, {"zone": "eu"}),
        ])
        layout = await store.metric_layout(Selection(metric_names=("m",)))
    assert layout.rows == 2 and layout.tag_keys == ("host",)  # "zone" belongs to a series not selected
    assert layout.fields == (
        FieldInfo("b", frozenset({"bool"})), FieldInfo("f", frozenset({"int", "float"})),
        FieldInfo("i", frozenset({"int"})), FieldInfo("late", frozenset({"int"})),
        FieldInfo("mixed", frozenset({"int", "str"})), FieldInfo("s", frozenset({"str"})),
    )


async def test_raw_rows_come_in_chunks_in_time_order_with_values_as_stored(store: SqliteStore) -> None:
    records = [Metric("m", {"v": i, "ok": i % 2 == 0}, T0 + (9 - i) * S, {"k": str(i)}, "src", "e", i)
               for i in range(10)]
    with trio.fail_after(10):
        await store.write(records)
        selection = Selection(metric_names=("m",))
        layout = await store.metric_layout(selection)
        chunks = await collect(store.metric_rows(selection, layout, chunk=3))
    assert [len(c) for c in chunks] == [3, 3, 3, 1]
    rows = [row for chunk in chunks for row in chunk]
    assert [row[1] for row in rows] == sorted(r.time_ns for r in records)
    first = rows[0]  # the newest record written is the oldest in time: i = 9
    assert first == ("2" + first[0][1:], T0, "m", "src", "e", 9, "9", False, 9)
    assert first[0].endswith(f".{T0 % S:09d}Z")  # nanoseconds kept in the ISO text
    assert all(type(row[7]) is bool for row in rows)  # SQLite's 0/1 are booleans again


async def test_aggregation_runs_per_series_and_bucket(store: SqliteStore) -> None:
    samples = [Metric("c", {"n": value, "total_bytes": counter, "state": f"s{i}"}, T0 + i * 10 * S, {"k": "a"})
               for i, (value, counter) in enumerate([(1, 100), (3, 200), (5, 50), (7, 150), (9, 400)])]
    with trio.fail_after(10):
        await store.write(samples)
        selection = Selection(metric_names=("c",))
        layout = await store.metric_layout(selection)
        aggregation = Aggregation(20 * S, frozenset({"total_bytes"}))
        rows = [row for chunk in await collect(store.aggregated_rows(selection, layout, aggregation))
                for row in chunk]
    assert [f.key for f in layout.fields] == ["n", "state", "total_bytes"]
    # the tail: samples, then n's count mean min max last, state's last, total_bytes' count last rate
    by_start = {row[1]: row[7:] for row in rows}
    assert sorted(by_start) == sorted({(t.time_ns // (20 * S)) * 20 * S for t in samples})
    for start, tail in by_start.items():
        inside = [m for m in samples if m.time_ns // (20 * S) * 20 * S == start]
        values = [m.fields["n"] for m in inside]
        counters = [m.fields["total_bytes"] for m in inside]
        seconds = (inside[-1].time_ns - inside[0].time_ns) / 1e9
        rate = (counters[-1] - counters[0]) / seconds if seconds and counters[-1] >= counters[0] else None
        assert tail == (len(inside), len(values), pytest.approx(sum(values) / len(values)), min(values), max(values),
                        values[-1], inside[-1].fields["state"], len(counters), counters[-1],
                        None if rate is None else pytest.approx(rate))


async def test_a_counter_that_went_backwards_has_no_rate(store: SqliteStore) -> None:
    with trio.fail_after(10):
        await store.write([Metric("c", {"rx_bytes": v}, T0 + i * S) for i, v in enumerate([500, 10, 20])])
        selection = Selection(metric_names=("c",))
        layout = await store.metric_layout(selection)
        (chunk,) = await collect(store.aggregated_rows(selection, layout, Aggregation(3600 * S,
                                                                                      frozenset({"rx_bytes"}))))
    (row,) = [r for r in chunk if r[7] == 3]
    assert row[-3:] == (3, 20, None)  # count, last, no rate across the reset


async def test_events_are_selected_by_source_or_type(store: SqliteStore) -> None:
    with trio.fail_after(10):
        await store.write(experiment())
        both = Selection(event_sources=("policy_engine",), event_types=("ANOMALY_DETECTED",), experiment=EXPERIMENT)
        rows = [r for c in await collect(store.event_rows(both, chunk=4)) for r in c]
        none = Selection(event_sources=(), event_types=())
        assert await store.count_events_in(both) == len(rows)
        assert await collect(store.event_rows(none)) == [] and await store.count_events_in(none) == 0
    expected = [e for e in experiment() if isinstance(e, Event)
                and (e.source == "policy_engine" or e.type == "ANOMALY_DETECTED")]
    assert len(rows) == len(expected) and {r[3] for r in rows} == {"POLICY_DECISION", "ANOMALY_DETECTED"}
    assert [r[2] for r in rows] == sorted(r[2] for r in rows)  # by id


async def test_event_tally_by_round_and_by_bucket(store: SqliteStore) -> None:
    with trio.fail_after(10):
        await store.write(experiment())
        decisions = Selection(event_types=("POLICY_DECISION",), experiment=EXPERIMENT)
        by_round = await store.event_tally(decisions)
        by_hour = await store.event_tally(decisions, 3600 * S)
    denied = {row[0]: row[-1] for row in by_round if row[2] == "WARNING"}
    assert sorted(denied) == list(range(1, ROUNDS + 1)) and denied[4] == 3
    assert sum(row[-1] for row in by_hour) == sum(row[-1] for row in by_round)
    assert {row[0] % (3600 * S) for row in by_hour} == {0}  # bucket starts on the hour


async def test_facts_and_experiments(store: SqliteStore) -> None:
    with trio.fail_after(10):
        await store.write(experiment())
        facts = await store.selection_facts(Selection(experiment=EXPERIMENT))
        experiments = await store.experiments()
    own = [r for r in experiment() if r.experiment == EXPERIMENT]
    assert facts["metrics"] == sum(isinstance(r, Metric) for r in own)
    assert facts["events"] == sum(isinstance(r, Event) for r in own)
    assert (facts["first_ns"], facts["last_ns"]) == (min(r.time_ns for r in own), max(r.time_ns for r in own))
    assert (facts["min_round"], facts["max_round"]) == (1, ROUNDS)
    assert [e["experiment"] for e in experiments] == ["exp_other", EXPERIMENT]  # the newest last
