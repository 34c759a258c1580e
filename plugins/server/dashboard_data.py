"""Read access for the FLOPY-NET-compatible routes: the store and the cache, never a source.

:class:`DataView` answers "latest" questions from the ``cache`` sink when it holds the answer (cheap: the dashboard
overview polls every few seconds) and from the store otherwise. With no store configured every query answers
"nothing yet", so the routes stay well-shaped. The ``*_item`` functions turn our records into upstream's shapes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flcollector import Event, EventQuery, Metric, MetricQuery, Record, Store

from .dashboard_params import iso

#: How many rows one query may read for routes that must look at every round or decision.
SCAN_LIMIT = 100_000


class DataView:
    """The agent's store and cache as the dashboard routes see them."""

    def __init__(self, agent: Any) -> None:
        self.agent = agent

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
        return await self.store.latest_event(type_)

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
