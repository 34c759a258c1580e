"""The query side of the store: what the server asks of the ``sqlite`` sink (or any other store plugin).

A store is a :class:`~flcollector.components.Sink` that also implements :class:`Store`. Queries are plain attrs
objects so the REST layer, the CLI and tests build them the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol, runtime_checkable

import attrs

from .records import Event, Metric

Order = Literal["asc", "desc"]


@attrs.frozen
class MetricQuery:
    """Select metrics. Every filter is optional; times are integer nanoseconds, ``end_ns`` inclusive."""

    names: Sequence[str] | None = None  # exact names
    name_prefix: str | None = None
    source: str | None = None
    experiment: str | None = None
    round: int | None = None
    min_round: int | None = None
    max_round: int | None = None
    start_ns: int | None = None
    end_ns: int | None = None
    tags: Mapping[str, str] = attrs.field(factory=dict)  # every given tag must match exactly
    limit: int = 100
    offset: int = 0
    order: Order = "desc"  # by time


@attrs.frozen
class EventQuery:
    """Select events. ``since_id`` returns only events with ``id > since_id`` (the dashboard's cursor)."""

    since_id: int | None = None
    types: Sequence[str] | None = None
    source: str | None = None
    levels: Sequence[str] | None = None
    experiment: str | None = None
    round: int | None = None
    start_ns: int | None = None
    end_ns: int | None = None
    limit: int = 100
    offset: int = 0
    order: Order = "asc"  # by id


@runtime_checkable
class Store(Protocol):
    """Query interface of a store sink. All methods are async and safe to call while the sink writes."""

    async def query_metrics(self, query: MetricQuery) -> list[Metric]:
        """Return the metrics matching ``query``, ordered by time as asked, after offset, at most limit."""
        ...

    async def count_metrics(self, query: MetricQuery) -> int:
        """Return how many metrics match ``query`` (ignoring limit and offset)."""
        ...

    async def query_events(self, query: EventQuery) -> list[Event]:
        """Return the events matching ``query``, ordered by id as asked, after offset, at most limit."""
        ...

    async def count_events(self, query: EventQuery) -> int:
        """Return how many events match ``query`` (ignoring limit and offset)."""
        ...

    async def latest_metrics(
        self, names: Sequence[str] | None = None, source: str | None = None, experiment: str | None = None
    ) -> list[Metric]:
        """Return the newest metric per (name, tags) series, optionally only for ``names`` / ``source``."""
        ...

    async def latest_event(self, type: str, source: str | None = None) -> Event | None:
        """Return the newest event of ``type`` (e.g. the latest topology snapshot), or None."""
        ...

    async def metric_names(self) -> list[str]:
        """Return every metric name stored, sorted."""
        ...

    async def event_counts(self, query: EventQuery, by: Literal["level", "source", "type"]) -> dict[str, int]:
        """Return event counts grouped by level, source or type for the events matching ``query``."""
        ...

    async def max_event_id(self) -> int:
        """Return the highest event id stored (0 when there is none); the pipeline continues ids after it."""
        ...

    async def info(self) -> dict[str, Any]:
        """Return store facts for ``/health``: path, size in bytes, row counts, oldest and newest times."""
        ...
