"""The query side of the store: what the server asks of the ``sqlite`` sink (or any other store plugin).

A store is a :class:`~flcollector.components.Sink` that also implements :class:`Store`. Queries are plain attrs
objects so the REST layer, the CLI and tests build them the same way.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Hashable, Mapping, Sequence
from typing import Any, Literal, Protocol, TypeVar, cast, runtime_checkable

import attrs

from .records import Event, Metric

Order = Literal["asc", "desc"]
EventSort = Literal["id", "time"]


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
    order: Order = "asc"
    sort: EventSort = "id"  # by id, or by the event's time (ties by id): backfilled events have older times


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
        """Return the events matching ``query``, ordered by id (or time, ties by id) as asked, after offset, at most
        limit."""
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


# -- bulk reads: exports and reports -------------------------------------------------------------------------------

FieldType = Literal["int", "float", "bool", "str"]
NUMERIC_TYPES: frozenset[str] = frozenset({"int", "float"})


#: Rows a folded read decodes at a time (:func:`fold_metrics`).
PAGE_ROWS = 500


class MetricFold(Protocol):
    """What :func:`fold_metrics` feeds: the selected metrics, one page at a time."""

    def add(self, metrics: list[Metric]) -> None:
        """Take one page of metrics."""


F = TypeVar("F", bound=MetricFold)


@runtime_checkable
class FoldingStore(Protocol):
    """A store that folds a selection while it reads it: one query, its rows decoded a page at a time."""

    async def fold_metrics(self, query: MetricQuery, new_fold: Callable[[], F], page: int) -> F:
        """Fold what ``query`` selects into ``new_fold()``, ``page`` rows at a time, and return it (see
        :func:`fold_metrics`)."""
        ...


@runtime_checkable
class VersionedStore(Protocol):
    """A store that tells when metrics of some names may have changed, so a route can keep an answer built from
    them (``/api/v1/fl/metrics`` does) instead of reading them again on every poll."""

    def metrics_version(self, names: Sequence[str]) -> Hashable:
        """A value that changes with every commit that adds a metric called one of ``names`` and with every
        delete: what is read after taking it is at least that new, and while it stands those metrics are as read."""
        ...


_capable: dict[tuple[type, type], bool] = {}  # (store class, protocol) -> implements it


def implements(store: object, protocol: type) -> bool:
    """``isinstance(store, protocol)`` for a capability of method-only protocols (:class:`FoldingStore`,
    :class:`VersionedStore`, ...), found once per store class: a Protocol check costs microseconds (3.6 µs for
    :class:`VersionedStore`, a fifth of a kept ``/api/v1/fl/metrics`` answer), and a store's methods are its
    class's."""
    key = (type(store), protocol)
    capable = _capable.get(key)
    if capable is None:
        capable = _capable[key] = issubclass(key[0], protocol)
    return capable


def metrics_version(store: Store, names: Sequence[str]) -> Hashable | None:
    """``store``'s :meth:`VersionedStore.metrics_version` of ``names``, or None when it keeps no such version (then
    nothing read from it may be kept)."""
    return cast(VersionedStore, store).metrics_version(names) if implements(store, VersionedStore) else None


async def fold_metrics(store: Store, query: MetricQuery, new_fold: Callable[[], F], page: int = PAGE_ROWS) -> F:
    """Fold the metrics ``query`` selects (at most ``query.limit``, from its ``offset``, in its order) into
    ``new_fold()``, ``page`` at a time, and return the fold.

    A caller whose fold keeps a small result holds one page of metrics at a time, however many the query selects,
    so a route's transient memory stays the same as an experiment grows. A :class:`FoldingStore` reads the
    selection with one query (``sqlite``: one sort, rows decoded a page at a time; a read it retries starts a new
    fold); any other store is asked page by page with offsets, where a row written between two pages can shift a
    newest-first read by one (a row read twice): folds dedupe, as one by round or series does anyway.
    """
    if implements(store, FoldingStore):
        return await cast(FoldingStore, store).fold_metrics(query, new_fold, page)
    fold, read = new_fold(), 0
    while read < query.limit:
        size = min(page, query.limit - read)
        rows = await store.query_metrics(attrs.evolve(query, limit=size, offset=query.offset + read))
        if rows:
            fold.add(rows)
        read += len(rows)
        if len(rows) < size:
            break
    return fold


@attrs.frozen
class Selection:
    """The records an export or a report reads in bulk. Every filter is optional; times are ns, both inclusive.

    ``metric_names`` None selects every metric, an empty tuple none. Events: with both ``event_sources`` and
    ``event_types`` None every event is selected; otherwise an event is selected when its source is one of
    ``event_sources`` or its type one of ``event_types`` (so two empty tuples select none).
    """

    metric_names: tuple[str, ...] | None = None
    event_sources: tuple[str, ...] | None = None
    event_types: tuple[str, ...] | None = None
    experiment: str | None = None
    start_ns: int | None = None
    end_ns: int | None = None

    @property
    def wants_metrics(self) -> bool:
        """True unless the selection names no metric at all."""
        return self.metric_names is None or bool(self.metric_names)

    @property
    def wants_events(self) -> bool:
        """True unless the selection names no event source and no event type."""
        return (self.event_sources is None and self.event_types is None) or bool(self.event_sources or self.event_types)


@attrs.frozen
class FieldInfo:
    """A metric field key seen in a selection and the value types it had there."""

    key: str
    types: frozenset[FieldType]

    @property
    def numeric(self) -> bool:
        """True when every value was an int or a float (so it can be averaged)."""
        return bool(self.types) and self.types <= NUMERIC_TYPES


@attrs.frozen
class MetricLayout:
    """The shape of a selection's metrics: tag keys and field keys (sorted), and how many metrics there are."""

    tag_keys: tuple[str, ...]
    fields: tuple[FieldInfo, ...]
    rows: int


@attrs.frozen
class Aggregation:
    """Time buckets of ``bucket_ns`` (aligned on the epoch) per series; ``counters`` are field keys whose rate is
    wanted instead of their mean (cumulative counters such as ``rx_bytes``)."""

    bucket_ns: int
    counters: frozenset[str] = frozenset()

    def field_columns(self, field: FieldInfo) -> tuple[str, ...]:
        """The statistics written for ``field``: numeric ``count mean min max last``, counters ``count last rate``,
        anything else ``last``."""
        if not field.numeric:
            return ("last",)
        return ("count", "last", "rate") if field.key in self.counters else ("count", "mean", "min", "max", "last")


@runtime_checkable
class BulkStore(Store, Protocol):
    """A store that also streams and aggregates reads over a :class:`Selection`, in bounded memory whatever its
    size.

    Row layouts (every value as stored; a missing tag or field is None):

    * raw metric rows: ``(time ISO 8601 text, time_ns, name, source, experiment, round, *tag values, *field
      values)`` in the order of ``layout.tag_keys`` and ``layout.fields``, by time;
    * aggregated metric rows: ``(bucket start ISO text, bucket start ns, name, source, experiment, last round,
      *tag values, samples, *per field the statistics of Aggregation.field_columns)``, by bucket then series;
    * raw event rows: ``(time ISO text, time_ns, id, type, level, source, experiment, round, message, details
      JSON text, origin_id)`` by id;
    * event counts: ``(key, type, level, source, experiment, count)`` where key is the bucket start ns, or the
      round when no bucket is given, ordered by key.
    """

    async def metric_layout(self, selection: Selection) -> MetricLayout:
        """Return the tag keys, field keys (with their types) and count of the selected metrics."""
        ...

    def metric_rows(
        self, selection: Selection, layout: MetricLayout, chunk: int = 20_000
    ) -> AsyncGenerator[list[tuple[Any, ...]], None]:
        """Yield the selected metrics as raw rows, ``chunk`` rows at a time."""
        ...

    def aggregated_rows(
        self, selection: Selection, layout: MetricLayout, aggregation: Aggregation, chunk: int = 20_000
    ) -> AsyncGenerator[list[tuple[Any, ...]], None]:
        """Yield one aggregated row per series and bucket, computed by the store (not by reading every row)."""
        ...

    async def count_events_in(self, selection: Selection) -> int:
        """Return how many events the selection holds."""
        ...

    def event_rows(self, selection: Selection, chunk: int = 20_000) -> AsyncGenerator[list[tuple[Any, ...]], None]:
        """Yield the selected events as raw rows, ``chunk`` rows at a time."""
        ...

    async def event_tally(self, selection: Selection, bucket_ns: int | None = None) -> list[tuple[Any, ...]]:
        """Return event counts per bucket (or per round when ``bucket_ns`` is None), type, level, source and
        experiment."""
        ...

    async def selection_facts(self, selection: Selection) -> dict[str, Any]:
        """Return ``metrics``, ``events`` (counts), ``first_ns``, ``last_ns``, ``min_round``, ``max_round`` and
        ``sources`` (every metric and event source, sorted) of the selection."""
        ...

    async def experiments(self) -> list[dict[str, Any]]:
        """Return every experiment stored with its ``first_ns``, ``last_ns`` and ``records``, newest last."""
        ...
