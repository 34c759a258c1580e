"""Read access for the dashboard routes: the store and the cache, never a source.

:class:`DataView` answers "latest" questions from the ``cache`` sink when it holds the answer (cheap: the dashboard
overview polls every few seconds) and from the store otherwise. With no store configured every query answers
"nothing yet", so the routes stay well-shaped. A handler gets the view of its agent with ``DataView.of(request)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable
from weakref import WeakKeyDictionary

from flcollector import AgentView, Event, EventQuery, Metric, MetricQuery, Record, Sink, Store, agent_of
from flcollector.plugins.server.pages import Page, event_page, metric_page
from flcollector.plugins.server.state import monitor_stats
from starlette.requests import HTTPConnection

from .contract import event_item, metric_item

T = TypeVar("T")
#: How many rows one query may read for routes that must look at every round or decision.
SCAN_LIMIT = 100_000


@runtime_checkable
class LatestCache(Protocol):
    """What the dashboard asks of a cache sink (the built-in ``cache`` is one)."""

    evicted_names: int  # keys evicted so far: unchanged means every record since is still held

    def latest(self, name: str, kind: Literal["metric", "event"] | None = None) -> Record | None:
        """The last record of that metric name or event type, or None."""


class DataView:
    """The agent's store and cache as the dashboard routes see them, with the memos that keep polls cheap."""

    _views: WeakKeyDictionary[AgentView, DataView] = WeakKeyDictionary()

    def __init__(self, agent: AgentView) -> None:
        self.agent = agent
        cache = agent.find("sink", "cache")
        self.cache: LatestCache | None = cache if isinstance(cache, LatestCache) else None
        #: Event types the store had none of, with the cache's eviction count at the time (see latest_event).
        self._absent: dict[str, int] = {}
        #: The unfiltered event summary's counts and the store version they were read at (see events.py).
        self.summary_memo: dict[str, Any] = {}
        #: Answers derived from records, by name: (the records, the answer) (see derived).
        self._derived: dict[str, tuple[tuple[object, ...], Any]] = {}

    @classmethod
    def of(cls, connection: HTTPConnection) -> DataView:
        """The view of the agent serving ``connection`` (one per agent, so its memos last across requests)."""
        agent = agent_of(connection)
        view = cls._views.get(agent)
        if view is None:
            view = cls._views[agent] = cls(agent)
        return view

    @property
    def store(self) -> Store | None:
        """The agent's store, or None when no store sink is configured."""
        return self.agent.store

    def _cached(self, name: str, kind: type[Record]) -> Any | None:
        if self.cache is None:
            return None
        try:
            record = self.cache.latest(name, kind="metric" if kind is Metric else "event")
        except Exception:  # a cache that cannot answer is only a missed shortcut
            return None
        return record if isinstance(record, kind) else None

    async def latest_metric(self, name: str) -> Metric | None:
        """Return the newest metric called ``name`` (from the cache when it has one)."""
        cached = self._cached(name, Metric)
        if cached is not None and cached.name == name:
            return cached
        if self.store is None:
            return None
        series = await self.store.latest_metrics(names=[name])
        return max(series, key=lambda m: m.time_ns, default=None)

    async def latest_event(self, type_: str) -> Event | None:
        """Return the newest event of ``type_`` (the latest snapshot of a document)."""
        cached = self._cached(type_, Event)
        if cached is not None and cached.type == type_:
            return cached
        store, cache = self.store, self.cache
        if store is None:
            return None
        # The store had none of ``type_`` while the cache has evicted nothing since: any newer one went through the
        # pipeline into the cache too, so the cache's miss stands and the store need not be asked again.
        if cache is not None and self._absent.get(type_) == cache.evicted_names:
            return None
        evicted = cache.evicted_names if cache is not None else None
        found = await store.latest_event(type_)
        if found is None and cache is not None and cache.evicted_names == evicted:
            self._absent[type_] = cache.evicted_names
        return found

    def derived(self, name: str, sources: tuple[object, ...], build: Callable[[], T]) -> T:
        """``build()``, kept under ``name`` while it would be built from the very same ``sources`` objects.

        The cache hands out the same record object until a newer one arrives, and the store until it writes, so a
        snapshot polled every few seconds is reshaped once, not on every poll. Records are immutable; ``build`` must
        depend on nothing but ``sources`` (no "now": an answer with the current time is built outside), and its
        answer is shared: callers must not change it.
        """
        kept = self._derived.get(name)
        same = kept is not None and len(kept[0]) == len(sources)
        if kept is not None and same and all(a is b for a, b in zip(kept[0], sources, strict=True)):
            answer: T = kept[1]
            return answer
        answer = build()
        self._derived[name] = (sources, answer)
        return answer

    async def metrics(self, query: MetricQuery) -> list[Metric]:
        """Return the metrics matching ``query`` (none without a store)."""
        return [] if self.store is None else await self.store.query_metrics(query)

    async def metric_rows(self, query: MetricQuery) -> Page:
        """The metrics of ``query`` as the dashboard's rows (none without a store)."""
        return Page([], 0) if self.store is None else await metric_page(self.store, query, "dashboard", metric_item)

    async def count_metrics(self, query: MetricQuery) -> int:
        """Count the metrics matching ``query``."""
        return 0 if self.store is None else await self.store.count_metrics(query)

    async def events(self, query: EventQuery) -> list[Event]:
        """Return the events matching ``query`` (none without a store)."""
        return [] if self.store is None else await self.store.query_events(query)

    async def event_rows(self, query: EventQuery) -> Page:
        """The events of ``query`` as the dashboard's rows (none without a store)."""
        return Page([], 0) if self.store is None else await event_page(self.store, query, "dashboard", event_item)

    async def count_events(self, query: EventQuery) -> int:
        """Count the events matching ``query``."""
        return 0 if self.store is None else await self.store.count_events(query)

    async def event_counts(self, query: EventQuery, by: Literal["level", "source", "type"]) -> dict[str, int]:
        """Count the events matching ``query`` grouped ``by`` level, source or type."""
        return {} if self.store is None else await self.store.event_counts(query, by)

    async def store_version(self) -> tuple[int, int] | None:
        """A value that changes whenever a commit adds or deletes events, or None when the store cannot tell.

        ``(max event id, event rows)``: both are updated only after the store's commit, so counts read after taking
        the version are at least that new; an insert raises the id and a retention delete lowers the rows.
        """
        store = self.store
        if not isinstance(store, Sink):
            return None
        rows = store.runtime.stats.extra.get("store", {}).get("events")
        if not isinstance(rows, int):
            return None
        return await store.max_event_id(), rows

    def monitor_status(self, plugin: str) -> tuple[bool, str | None, str | None]:
        """Return ``(configured, status, last_error)`` of the first monitor of ``plugin`` (fl, policy, sdn)."""
        stats = monitor_stats(self.agent, plugin)
        if stats is None:
            return False, None, None
        return True, stats.status, stats.last_error


def number(value: Any, default: float = 0.0) -> float:
    """Return ``value`` as a float when it is a number (not a bool), else ``default``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return float(value)
