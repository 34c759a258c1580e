"""Read access for the FLOPY-NET-compatible routes: the store and the cache, never a source.

:class:`DataView` answers "latest" questions from the ``cache`` sink when it holds the answer (cheap: the dashboard
overview polls every few seconds) and from the store otherwise. With no store configured every query answers
"nothing yet", so the routes stay well-shaped. The ``*_item`` functions turn our records into upstream's shapes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flcollector import Event, EventQuery, Metric, MetricQuery, Record, Store

from .contract import iso

#: How many rows one query may read for routes that must look at every round or decision.
SCAN_LIMIT = 100_000


class DataView:
    """The agent's store and cache as the dashboard routes see them."""

    def __init__(self, agent: Any) -> None:
        self.agent = agent
        #: Event types the store had none of, with the cache's eviction count at the time (see latest_event).
        self._absent: dict[str, int] = {}

    @property
    def store(self) -> Store | None:
        """The agent's store, or None when no store sink is configured."""
        store: Store | None = getattr(self.agent, "store", None)
        return store

    def _cache(self) -> Any | None:
        find = getattr(self.agent, "find", None)
        return find("sink", "cache") if find is not None else None

    def _cached(self, name: str, kind: type[Record]) -> Any | None:
        cache = self._cache()
        if cache is None:
            return None
        try:
            record = cache.latest(name, kind="metric" if kind is Metric else "event")
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
        if self.store is None:
            return None
        cache = self._cache()
        evicted = getattr(cache, "evicted_names", None)
        # The store had none of ``type_`` while the cache has evicted nothing since: any newer one went through the
        # pipeline into the cache too, so the cache's miss stands and the store need not be asked again.
        if cache is not None and evicted is not None and self._absent.get(type_) == evicted:
            return None
        found = await self.store.latest_event(type_)
        if (
            found is None
            and cache is not None
            and evicted is not None
            and getattr(cache, "evicted_names", None) == evicted
        ):
            self._absent[type_] = evicted
        return found

    async def metrics(self, query: MetricQuery) -> list[Metric]:
        """Return the metrics matching ``query`` (none without a store)."""
        return [] if self.store is None else await self.store.query_metrics(query)

    async def count_metrics(self, query: MetricQuery) -> int:
        """Count the metrics matching ``query``."""
        return 0 if self.store is None else await self.store.count_metrics(query)

    async def events(self, query: EventQuery) -> list[Event]:
        """Return the events matching ``query`` (none without a store)."""
        return [] if self.store is None else await self.store.query_events(query)

    async def count_events(self, query: EventQuery) -> int:
        """Count the events matching ``query``."""
        return 0 if self.store is None else await self.store.count_events(query)

    async def event_counts(self, query: EventQuery, by: Any) -> dict[str, int]:
        """Count the events matching ``query`` grouped ``by`` level, source or type."""
        return {} if self.store is None else await self.store.event_counts(query, by)

    async def store_version(self) -> tuple[int, int] | None:
        """A value that changes whenever a commit adds or deletes events, or None when the store cannot tell.

        ``(max event id, event rows)``: both are updated only after the store's commit, so counts read after taking
        the version are at least that new; an insert raises the id and a retention delete lowers the rows.
        """
        store = self.store
        if store is None:
            return None
        extra = getattr(getattr(getattr(store, "runtime", None), "stats", None), "extra", None)
        rows = extra.get("store", {}).get("events") if isinstance(extra, dict) else None
        if not isinstance(rows, int):
            return None
        return await store.max_event_id(), rows

    def monitor_status(self, plugin: str) -> tuple[bool, str | None, str | None]:
        """Return ``(configured, status, last_error)`` of the first monitor of ``plugin`` (fl, policy, sdn)."""
        stats = getattr(self.agent, "stats", None)
        for (kind, _instance), item in getattr(stats, "items", {}).items():
            if kind == "monitor" and item.plugin == plugin:
                return True, item.status, item.last_error
        return False, None, None


def plain(mapping: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return ``mapping`` as a plain dict (record fields may be read-only mappings)."""
    return dict(mapping) if mapping else {}


def metric_data(metric: Metric) -> dict[str, Any]:
    """Upstream's ``data`` for a metric: its fields, then its tags, then ``timestamp`` (ISO) if not a field.

    Fields come first because the Metrics Explorer takes the first numeric value of ``data`` as the value.
    """
    data = plain(metric.fields)
    for key, value in metric.tags.items():
        data.setdefault(key, value)
    data.setdefault("timestamp", iso(metric.time_ns))
    return data


def metric_item(metric: Metric) -> dict[str, Any]:
    """One ``/api/metrics`` item: ``timestamp``, ``metric_type``, ``data``, ``source_component`` and the axes."""
    return {
        "timestamp": iso(metric.time_ns),
        "metric_type": metric.name,
        "data": metric_data(metric),
        "source_component": metric.source,
        "tags": plain(metric.tags),
        "experiment": metric.experiment,
        "round": metric.round,
    }


def event_item(event: Event) -> dict[str, Any]:
    """One ``/api/events`` item with every spelling upstream used (``level``/``event_level``...)."""
    return {
        "id": event.id,
        "event_id": None if event.id is None else str(event.id),
        "timestamp": iso(event.time_ns),
        "source_component": event.source,
        "component": event.source,
        "event_type": event.type,
        "type": event.type,
        "level": event.level,
        "event_level": event.level,
        "message": event.message,
        "details": plain(event.details),
        "experiment": event.experiment,
        "round": event.round,
    }


def newest(records: Sequence[Record]) -> Record | None:
    """Return the record with the highest time, or None."""
    return max(records, key=lambda r: r.time_ns, default=None)


def number(value: Any, default: float = 0.0) -> float:
    """Return ``value`` as a float when it is a number (not a bool), else ``default``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return float(value)
