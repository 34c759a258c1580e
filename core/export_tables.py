"""The tables a streaming exporter writes: named, typed columns whose rows arrive in chunks.

An exporter that defines ``export_source(source, path, options)`` gets an :class:`ExportSource` and writes its
tables chunk by chunk, so memory holds one chunk whatever the export's size. Column names and order are fixed here
for every format (the CSV, Parquet and flat-JSON files agree):

* raw metrics: ``time`` (ISO 8601 UTC, nine digits), ``time_ns``, ``name``, ``source``, ``experiment``, ``round``,
  ``tag_<key>`` per tag key (sorted), then one column per field key (sorted). A field whose name would clash with
  one of those (``round``, ``tag_x``...) is written as ``field_<name>``;
* aggregated metrics: ``time``/``time_ns`` of the bucket start, ``name``, ``source``, ``experiment``, ``round``
  (the last in the bucket), the tags, ``samples``, then ``<field>_<stat>`` (see :class:`~flcollector.store.
  Aggregation`);
* events: ``time``, ``time_ns``, ``id``, ``type``, ``level``, ``source``, ``experiment``, ``round``, ``message``,
  ``details`` (JSON text), ``origin_id`` (the source's own id of the event); aggregated: ``time``, ``time_ns``,
  ``type``, ``level``, ``source``, ``experiment``, ``count`` per bucket.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import Any, Literal

import attrs

from .store import Aggregation, BulkStore, FieldInfo, MetricLayout, Selection

ColumnType = Literal["timestamp", "int", "float", "bool", "str"]
Row = tuple[Any, ...]
METRIC_COLUMNS = ("time", "time_ns", "name", "source", "experiment", "round")
METRIC_TYPES: tuple[ColumnType, ...] = ("timestamp", "int", "str", "str", "str", "int")
EVENT_COLUMNS = ("time", "time_ns", "id", "type", "level", "source", "experiment", "round", "message", "details",
                 "origin_id")
EVENT_TYPES: tuple[ColumnType, ...] = ("timestamp", "int", "int", "str", "str", "str", "str", "int", "str", "str",
                                       "str")
TALLY_COLUMNS = ("time", "time_ns", "type", "level", "source", "experiment", "count")
TALLY_TYPES: tuple[ColumnType, ...] = ("timestamp", "int", "str", "str", "str", "str", "int")
CHUNK = 20_000  # rows per chunk: ~10 MB of Python objects for wide rows, few thread hops


def field_column(field: str) -> str:
    """Return the column name of a metric field (prefixed only when it would clash with a fixed column)."""
    if field in METRIC_COLUMNS or field.startswith(("tag_", "field_")) or field == "samples":
        return f"field_{field}"
    return field


def iso_time(time_ns: int) -> str:
    """Return ``time_ns`` as ISO 8601 UTC keeping all nine digits: ``2025-01-01T00:00:00.123456789Z``."""
    seconds, nanos = divmod(time_ns, 1_000_000_000)
    stamp = dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos:09d}Z"


def field_type(field: FieldInfo) -> ColumnType:
    """One column type per field: bool, int, float (ints and floats mixed), else text."""
    if field.types == {"bool"}:
        return "bool"
    if field.types == {"int"}:
        return "int"
    return "float" if field.numeric else "str"


def _stat_type(field: FieldInfo, stat: str) -> ColumnType:
    if stat == "count":
        return "int"
    if stat in ("mean", "rate"):
        return "float"
    return field_type(field)  # min, max and last keep the field's own type


@attrs.frozen
class ExportTable:
    """One table of an export: ``columns`` with their ``types``, ``count`` rows (None when not known before the
    end, as for aggregates), the rows from ``chunks()``; ``tags``/``fields`` map column indexes to record keys
    (for the nested JSON form)."""

    name: Literal["metrics", "events"]
    columns: tuple[str, ...]
    types: tuple[ColumnType, ...]
    count: int | None
    chunks: Callable[[], AsyncGenerator[list[Row], None]]
    tags: tuple[tuple[int, str], ...] = ()
    fields: tuple[tuple[int, str], ...] = ()


def metrics_table(
    store: BulkStore, selection: Selection, layout: MetricLayout, aggregation: Aggregation | None,
    count: Callable[[int], None] = lambda rows: None,
) -> ExportTable:
    """Return the metrics table of ``selection`` (raw, or aggregated when ``aggregation`` is given)."""
    names = list(METRIC_COLUMNS)
    types = list(METRIC_TYPES)
    tags = tuple((len(names) + i, key) for i, key in enumerate(layout.tag_keys))
    names += [f"tag_{key}" for key in layout.tag_keys]
    types += ["str"] * len(layout.tag_keys)
    fields: list[tuple[int, str]] = []
    if aggregation is None:
        for field in layout.fields:
            fields.append((len(names), field.key))
            names.append(field_column(field.key))
            types.append(field_type(field))
        rows = _counted(lambda: store.metric_rows(selection, layout, CHUNK), count)
        return ExportTable("metrics", tuple(names), tuple(types), layout.rows, rows, tags, tuple(fields))
    fields.append((len(names), "samples"))
    names.append("samples")
    types.append("int")
    for field in layout.fields:
        for stat in aggregation.field_columns(field):
            fields.append((len(names), f"{field.key}_{stat}"))
            names.append(field_column(f"{field.key}_{stat}"))
            types.append(_stat_type(field, stat))
    rows = _counted(lambda: store.aggregated_rows(selection, layout, aggregation, CHUNK), count)
    return ExportTable("metrics", tuple(names), tuple(types), None, rows, tags, tuple(fields))


def events_table(
    store: BulkStore, selection: Selection, events: int, bucket_ns: int | None,
    count: Callable[[int], None] = lambda rows: None,
) -> ExportTable:
    """Return the events table: every event, or counts per bucket, type, level and source when aggregated."""
    if bucket_ns is None:
        rows = _counted(lambda: store.event_rows(selection, CHUNK), count)
        return ExportTable("events", EVENT_COLUMNS, EVENT_TYPES, events, rows)

    async def tally() -> AsyncGenerator[list[Row], None]:
        found = await store.event_tally(selection, bucket_ns)
        yield [(iso_time(start), start, *rest) for start, *rest in found]

    return ExportTable("events", TALLY_COLUMNS, TALLY_TYPES, None, _counted(tally, count))


def _counted(
    chunks: Callable[[], AsyncGenerator[list[Row], None]], count: Callable[[int], None]
) -> Callable[[], AsyncGenerator[list[Row], None]]:
    """Wrap ``chunks`` so every chunk handed on is counted (the progress bar), and the source is always closed."""

    async def counted() -> AsyncGenerator[list[Row], None]:
        async with aclosing(chunks()) as source:
            async for rows in source:
                count(len(rows))
                yield rows

    return counted


@attrs.define
class ExportSource:
    """What a streaming exporter reads: the store, the selection, and its two tables (None when not selected).

    ``on_progress(done, total)`` is told after every chunk (total None when unknown, as for aggregates).
    """

    store: BulkStore
    selection: Selection
    layout: MetricLayout
    events: int
    aggregation: Aggregation | None = None
    on_progress: Callable[[int, int | None], None] | None = None
    written: dict[str, int] = attrs.Factory(lambda: {"metrics": 0, "events": 0})

    @property
    def total(self) -> int | None:
        """Rows to write, when known before the end."""
        return None if self.aggregation is not None else self.layout.rows + self.events

    def _counter(self, table: str) -> Callable[[int], None]:
        def count(rows: int) -> None:
            self.written[table] += rows
            if self.on_progress is not None:
                self.on_progress(sum(self.written.values()), self.total)

        return count

    def metrics(self) -> ExportTable | None:
        """The metrics table, or None when the selection has no metric."""
        if not self.selection.wants_metrics or (not self.layout.rows and self.events):
            return None
        return metrics_table(self.store, self.selection, self.layout, self.aggregation, self._counter("metrics"))

    def events_table(self) -> ExportTable | None:
        """The events table, or None when the selection has no event."""
        if not self.events:
            return None
        bucket = self.aggregation.bucket_ns if self.aggregation is not None else None
        return events_table(self.store, self.selection, self.events, bucket, self._counter("events"))
