"""``summarize_metrics``: per-series summaries of a window in SQL, equal to ``flcollector.summary.fold`` of the rows."""

from __future__ import annotations

import random

import pytest
import trio
from flcollector import FieldStats, Metric, MetricQuery, SummaryStore
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
