"""``summarize_metrics``: per-series summaries of a window in SQL, equal to ``flcollector.summary.fold`` of the rows."""

from __future__ import annotations

import random

import pytest
import trio
from flcollector import FieldStats, Metric, MetricQuery, SummaryStore, summarize
from flcollector.plugins.sqlite import SqliteStore
from flcollector.summary import fold
from sqlite_records import T0

FIELDS = ["rtt", "ok", "label", "missing"]


def _probes(count: int) -> list[Metric]:
    rng = random.Random(5)
    return [
        Metric(
            "probe",
            # numbers (int and float), a boolean and a text field: only numbers are summarised
            {"rtt": rng.choice([rng.randint(1, 9), rng.uniform(0, 100)]), "ok": bool(i % 2), "label": "x"},
            T0 + i,
            {"target": f"t{i % 3}"},
            "probe",
            "exp" if i % 5 else "other",
            i % 7 if i % 4 else None,
        )
        for i in range(count)
    ]


async def test_summaries_in_sql_equal_the_fold_of_the_rows(store: SqliteStore) -> None:
    assert isinstance(store, SummaryStore)
    rows = _probes(500)
    with trio.fail_after(10):
        await store.write([*rows, Metric("other", {"rtt": 1.0}, T0)])
        query = MetricQuery(names=["probe"], experiment="exp", start_ns=T0 + 10, end_ns=T0 + 400)
        found = await store.summarize_metrics(query, FIELDS)
    wanted = fold([m for m in rows if m.experiment == "exp" and T0 + 10 <= m.time_ns <= T0 + 400], FIELDS)
    assert [(s.name, s.tags, s.samples, s.first_ns, s.last_ns, s.rounds) for s in found] == [
        (s.name, s.tags, s.samples, s.first_ns, s.last_ns, s.rounds) for s in wanted
    ]
    for got, expected in zip(found, wanted, strict=True):
        assert set(got.fields) == set(expected.fields) == {"rtt"}
        stats, exact = got.fields["rtt"], expected.fields["rtt"]
        assert (stats.count, stats.min, stats.max) == (exact.count, exact.min, exact.max)
        assert stats.sum == pytest.approx(exact.sum) and stats.mean == pytest.approx(exact.mean)


async def test_an_empty_window_has_no_series(store: SqliteStore) -> None:
    with trio.fail_after(10):
        await store.write(_probes(10))
        assert await store.summarize_metrics(MetricQuery(names=["probe"], start_ns=T0 + 10**12), ["rtt"]) == []
        (one,) = await store.summarize_metrics(MetricQuery(names=["probe"], tags={"target": "t0"}), ["rtt"])
    assert one.samples == 4 and isinstance(one.fields["rtt"], FieldStats)


class QueryOnly:
    """The sqlite store seen as a store that can neither summarise nor fold: ``query_metrics`` only."""

    def __init__(self, store: SqliteStore) -> None:
        self.query_metrics = store.query_metrics


async def test_the_fallback_folds_the_newest_rows_page_by_page_as_the_sql_does(store: SqliteStore) -> None:
    """``summarize`` for a store without SQL reads its newest ``fallback_rows`` rows in pages of 500 (three here)."""
    rows = _probes(1_203)
    with trio.fail_after(10):
        await store.write(rows)
        query = MetricQuery(names=["probe"])
        in_sql = await summarize(store, query, FIELDS, fallback_rows=10_000)
        whole = await summarize(QueryOnly(store), query, FIELDS, fallback_rows=10_000)
        cut = await summarize(QueryOnly(store), query, FIELDS, fallback_rows=700)
    assert [(s.tags, s.samples, s.first_ns, s.last_ns, s.rounds) for s in whole] == [
        (s.tags, s.samples, s.first_ns, s.last_ns, s.rounds) for s in in_sql
    ]
    assert [s.fields["rtt"].max for s in whole] == [s.fields["rtt"].max for s in in_sql]
    assert cut == fold(rows[::-1][:700], FIELDS)  # the newest 700, newest first: cut at the window's old end
