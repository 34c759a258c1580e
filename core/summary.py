"""Per-series summaries of a window of metrics, computed by the store instead of by reading every row.

A route that answers "the mean latency, the peak bandwidth, the traffic shares over the last day" needs a few
numbers per series, not the rows: reading the rows with a cap gives wrong answers once the window holds more rows
than the cap. A store that can aggregate implements :class:`SummaryStore` (``sqlite`` does, in SQL);
:func:`summarize` asks it, and folds the newest rows in Python (:class:`SeriesFold`) for a store that cannot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, cast, runtime_checkable

import attrs

from .records import Metric
from .store import MetricQuery, Store, fold_metrics, implements


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


class SeriesFold:
    """Summaries by series, folded a page of metrics at a time (a :class:`~flcollector.MetricFold`): what
    :class:`SummaryStore` computes, for the fallback."""

    def __init__(self, fields: Sequence[str]) -> None:
        self.wanted = fields
        self.found: dict[tuple[str, tuple[tuple[str, str], ...]], _Series] = {}

    def add(self, metrics: Iterable[Metric]) -> None:
        """Take some metrics, in any order."""
        for metric in metrics:
            key = (metric.name, tuple(sorted(metric.tags.items())))
            series = self.found.get(key)
            if series is None:
                series = self.found[key] = _Series(0, metric.time_ns, metric.time_ns)
            series.samples += 1
            series.first_ns = min(series.first_ns, metric.time_ns)
            series.last_ns = max(series.last_ns, metric.time_ns)
            if metric.round is not None:
                series.rounds.add(metric.round)
            for name in self.wanted:
                value = metric.fields.get(name)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    old = series.fields.get(name)
                    series.fields[name] = (
                        FieldStats(1, value, value, value)
                        if old is None
                        else FieldStats(old.count + 1, old.sum + value, min(old.min, value), max(old.max, value))
                    )

    def summaries(self) -> list[SeriesSummary]:
        """One summary per series, ordered by name and tags."""
        return [
            SeriesSummary(name, dict(tags), s.samples, s.first_ns, s.last_ns, frozenset(s.rounds), s.fields)
            for (name, tags), s in sorted(self.found.items())
        ]


def fold(metrics: Iterable[Metric], fields: Sequence[str]) -> list[SeriesSummary]:
    """The summaries of ``metrics`` by series, in Python: what :class:`SummaryStore` computes, for the fallback."""
    folded = SeriesFold(fields)
    folded.add(metrics)
    return folded.summaries()


async def summarize(store: Store, query: MetricQuery, fields: Sequence[str], fallback_rows: int) -> list[SeriesSummary]:
    """Summaries of ``query``'s window: from the store when it can aggregate, else from its newest
    ``fallback_rows`` rows (so a long window is cut at its old end, never at its new one), folded a page at a time
    (:func:`~flcollector.fold_metrics`) so the fallback holds one page of metrics, not all of them."""
    if implements(store, SummaryStore):
        return await cast(SummaryStore, store).summarize_metrics(query, fields)
    newest = attrs.evolve(query, limit=fallback_rows, offset=0, order="desc")
    return (await fold_metrics(store, newest, lambda: SeriesFold(fields))).summaries()
