"""Per-series summaries of a window of metrics, computed by the store instead of by reading every row.

A route that answers "the mean latency, the peak bandwidth, the traffic shares over the last day" needs a few
numbers per series, not the rows: reading the rows with a cap gives wrong answers once the window holds more rows
than the cap. A store that can aggregate implements :class:`SummaryStore` (``sqlite`` does, in SQL);
:func:`summarize` asks it, and folds the newest rows in Python (:func:`fold`) for a store that cannot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

import attrs

from .records import Metric
from .store import MetricQuery, Store


@attrs.frozen
class FieldStats:
    """The numeric values of one field in a window: how many, their sum, smallest and largest."""

    count: int
    sum: float
    min: float
    max: float

    @property
    def mean(self) -> float:
        """The arithmetic mean (``count`` is never 0: a field without numeric values has no stats)."""
        return self.sum / self.count


@attrs.frozen
class SeriesSummary:
    """One series (metric name and tags) in a window: its samples, the rounds they name, and per-field stats."""

    name: str
    tags: Mapping[str, str]
    samples: int
    first_ns: int
    last_ns: int
    rounds: frozenset[int]
    fields: Mapping[str, FieldStats]


@runtime_checkable
class SummaryStore(Protocol):
    """A store that summarises a window itself (the ``sqlite`` store, in SQL)."""

    async def summarize_metrics(self, query: MetricQuery, fields: Sequence[str]) -> list[SeriesSummary]:
        """Return one summary per series matching ``query`` (its limit, offset and order are ignored), with the
        stats of the numeric values of ``fields`` (booleans and text are not numbers)."""
        ...


@attrs.define
class _Series:
    """A summary being folded."""

    samples: int
    first_ns: int
    last_ns: int
    rounds: set[int] = attrs.field(factory=set)
    fields: dict[str, FieldStats] = attrs.field(factory=dict)


def fold(metrics: Iterable[Metric], fields: Sequence[str]) -> list[SeriesSummary]:
    """The summaries of ``metrics`` by series, in Python: what :class:`SummaryStore` computes, for the fallback."""
    found: dict[tuple[str, tuple[tuple[str, str], ...]], _Series] = {}
    for metric in metrics:
        key = (metric.name, tuple(sorted(metric.tags.items())))
        series = found.get(key)
        if series is None:
            series = found[key] = _Series(0, metric.time_ns, metric.time_ns)
        series.samples += 1
        series.first_ns, series.last_ns = min(series.first_ns, metric.time_ns), max(series.last_ns, metric.time_ns)
        if metric.round is not None:
            series.rounds.add(metric.round)
        for name in fields:
            value = metric.fields.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                old = series.fields.get(name)
                series.fields[name] = (
                    FieldStats(1, value, value, value)
                    if old is None
                    else FieldStats(old.count + 1, old.sum + value, min(old.min, value), max(old.max, value))
                )
    return [
        SeriesSummary(name, dict(tags), s.samples, s.first_ns, s.last_ns, frozenset(s.rounds), s.fields)
        for (name, tags), s in sorted(found.items())
    ]


async def summarize(store: Store, query: MetricQuery, fields: Sequence[str], fallback_rows: int) -> list[SeriesSummary]:
    """Summaries of ``query``'s window: from the store when it can aggregate, else from its newest
    ``fallback_rows`` rows (so a long window is cut at its old end, never at its new one)."""
    if isinstance(store, SummaryStore):
        return await store.summarize_metrics(query, fields)
    newest = await store.query_metrics(attrs.evolve(query, limit=fallback_rows, offset=0, order="desc"))
    return fold(newest, fields)
