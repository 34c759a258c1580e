"""Where a manifest and the round documents are read from: the store (the routes), or the records of an export.

Both readers answer the same three questions, so one builder serves the API and the exporter: the events of some
types in a time range (oldest first, or only the newest before a time), the metrics of some names in a range, and
how many records each source wrote for an experiment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Protocol

from flcollector import Event, EventQuery, Metric, MetricQuery, Record, Store

PAGE = 10_000


class Reader(Protocol):
    """What the manifest builder reads."""

    async def events(self, types: Sequence[str], start_ns: int | None, end_ns: int | None,
                     newest: int | None = None) -> list[Event]:
        """Events of ``types`` in ``[start_ns, end_ns]`` oldest first; with ``newest``, only that many newest."""
        ...

    async def metrics(self, names: Sequence[str], experiment: str | None = None, start_ns: int | None = None,
                      end_ns: int | None = None) -> list[Metric]:
        """Metrics of ``names`` (of ``experiment``, in the range) in time order."""
        ...

    async def latest(self, name: str, start_ns: int | None, end_ns: int | None) -> Metric | None:
        """The newest metric called ``name`` in the range."""
        ...

    async def counts(self, experiment: str) -> tuple[dict[str, int], dict[str, int]]:
        """Metrics and events of ``experiment`` counted per source."""
        ...


class StoreReader:
    """A :class:`Reader` over a store (paged queries; counts per metric name, then summed per source)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def events(self, types: Sequence[str], start_ns: int | None, end_ns: int | None,
                     newest: int | None = None) -> list[Event]:
        if newest is not None:
            query = EventQuery(types=list(types), start_ns=start_ns, end_ns=end_ns, limit=newest, order="desc")
            return list(reversed(await self.store.query_events(query)))
        out: list[Event] = []
        while True:
            page = await self.store.query_events(EventQuery(types=list(types), start_ns=start_ns, end_ns=end_ns,
                                                            limit=PAGE, offset=len(out), order="asc"))
            out += page
            if len(page) < PAGE:
                return out

    async def metrics(self, names: Sequence[str], experiment: str | None = None, start_ns: int | None = None,
                      end_ns: int | None = None) -> list[Metric]:
        out: list[Metric] = []
        while True:
            page = await self.store.query_metrics(MetricQuery(names=list(names), experiment=experiment,
                                                              start_ns=start_ns, end_ns=end_ns, limit=PAGE,
                                                              offset=len(out), order="asc"))
            out += page
            if len(page) < PAGE:
                return out

    async def latest(self, name: str, start_ns: int | None, end_ns: int | None) -> Metric | None:
        found = await self.store.query_metrics(MetricQuery(names=[name], start_ns=start_ns, end_ns=end_ns, limit=1,
                                                           order="desc"))
        return found[0] if found else None

    async def counts(self, experiment: str) -> tuple[dict[str, int], dict[str, int]]:
        sources = {m.name: m.source for m in await self.store.latest_metrics()}  # a name's series share a source
        metrics: Counter[str] = Counter()
        for name in await self.store.metric_names():
            n = await self.store.count_metrics(MetricQuery(names=[name], experiment=experiment))
            if n:
                metrics[sources.get(name, "unknown")] += n
        events = await self.store.event_counts(EventQuery(experiment=experiment), by="source")
        return dict(metrics), dict(events)


class RecordsReader:
    """A :class:`Reader` over records in memory (an export's selection)."""

    def __init__(self, records: Sequence[Record]) -> None:
        self.all_events = sorted((r for r in records if isinstance(r, Event)), key=lambda e: e.time_ns)
        self.all_metrics = sorted((r for r in records if isinstance(r, Metric)), key=lambda m: m.time_ns)

    async def events(self, types: Sequence[str], start_ns: int | None, end_ns: int | None,
                     newest: int | None = None) -> list[Event]:
        wanted = set(types)
        found = [e for e in self.all_events if e.type in wanted and _within(e.time_ns, start_ns, end_ns)]
        return found[-newest:] if newest is not None else found

    async def metrics(self, names: Sequence[str], experiment: str | None = None, start_ns: int | None = None,
                      end_ns: int | None = None) -> list[Metric]:
        wanted = set(names)
        return [m for m in self.all_metrics if m.name in wanted and _within(m.time_ns, start_ns, end_ns)
                and (experiment is None or m.experiment == experiment)]

    async def latest(self, name: str, start_ns: int | None, end_ns: int | None) -> Metric | None:
        found = await self.metrics([name], None, start_ns, end_ns)
        return found[-1] if found else None

    async def counts(self, experiment: str) -> tuple[dict[str, int], dict[str, int]]:
        metrics = Counter(m.source for m in self.all_metrics if m.experiment == experiment)
        events = Counter(e.source for e in self.all_events if e.experiment == experiment)
        return dict(metrics), dict(events)


def _within(time_ns: int, start_ns: int | None, end_ns: int | None) -> bool:
    return (start_ns is None or time_ns >= start_ns) and (end_ns is None or time_ns <= end_ns)
