"""The sqlite store's bulk reads (:class:`flcollector.store.BulkStore`): exports and reports in bounded memory.

A streaming read gets its own reader connection, opened and used only in worker threads, and walks one cursor
``chunk`` rows per hop, so memory holds one chunk whatever the selection's size. The statement reads one
consistent snapshot (WAL); writes go on meanwhile (the WAL grows until the read ends).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import trio
from flcollector.store import Aggregation, MetricLayout, Selection

from . import bulk_sql
from .schema import connect

T = TypeVar("T")
Row = tuple[Any, ...]


class BulkReads:
    """Mixin of :class:`~flcollector.plugins.sqlite.SqliteStore` implementing the BulkStore protocol."""

    path: Path
    _read: Callable[..., Any]  # SqliteStore._read: run a query function on a reader (inline=False: in a thread)
    _require_writer: Callable[[], Any]  # SqliteStore._require_writer: raises when the store is not open

    async def metric_layout(self, selection: Selection) -> MetricLayout:
        """Return the tag keys, field keys (with their types) and count of the selected metrics."""
        layout: MetricLayout = await self._read(bulk_sql.metric_layout, selection, inline=False)
        return layout

    async def metric_rows(
        self, selection: Selection, layout: MetricLayout, chunk: int = 20_000
    ) -> AsyncIterator[list[Row]]:
        """Yield the selected metrics as raw rows (see BulkStore), ``chunk`` rows at a time, by time."""
        if not selection.wants_metrics:
            return
        sql, params = bulk_sql.raw_metrics_sql(selection, layout)
        bools = [i for i, field in enumerate(layout.fields) if field.types == {"bool"}]
        async for rows in self._stream(sql, params, chunk, layout, bools):
            yield rows

    async def aggregated_rows(
        self, selection: Selection, layout: MetricLayout, aggregation: Aggregation, chunk: int = 20_000
    ) -> AsyncIterator[list[Row]]:
        """Yield one aggregated row per series, experiment and bucket (see BulkStore), by bucket."""
        if not selection.wants_metrics or not layout.rows:
            return
        sql, params = bulk_sql.aggregated_sql(selection, layout, aggregation)
        async for rows in self._stream(sql, params, chunk, layout, _aggregated_bools(layout, aggregation)):
            yield rows

    async def count_events_in(self, selection: Selection) -> int:
        """Return how many events the selection holds."""
        count: int = await self._read(bulk_sql.count_events, selection, inline=False)
        return count

    async def event_rows(self, selection: Selection, chunk: int = 20_000) -> AsyncIterator[list[Row]]:
        """Yield the selected events as raw rows (see BulkStore), ``chunk`` rows at a time, by id."""
        if not selection.wants_events:
            return
        sql, params = bulk_sql.raw_events_sql(selection)
        async for rows in self._stream(sql, params, chunk, None, []):
            yield rows

    async def event_tally(self, selection: Selection, bucket_ns: int | None = None) -> list[Row]:
        """Return event counts per bucket (or round), type, level, source and experiment."""
        rows: list[Row] = await self._read(bulk_sql.event_tally, selection, bucket_ns, inline=False)
        return rows

    async def selection_facts(self, selection: Selection) -> dict[str, Any]:
        """Return the selection's counts, time and round bounds and sources."""
        facts: dict[str, Any] = await self._read(bulk_sql.selection_facts, selection, inline=False)
        return facts

    async def experiments(self) -> list[dict[str, Any]]:
        """Return every experiment stored with its first and last time and record count, newest last."""
        found: list[dict[str, Any]] = await self._read(bulk_sql.experiments, inline=False)
        return found

    async def _stream(
        self, sql: str, params: list[Any], chunk: int, layout: MetricLayout | None, bools: list[int]
    ) -> AsyncIterator[list[Row]]:
        """Run ``sql`` on a connection of its own and yield shaped chunks; the connection closes at the end."""
        self._require_writer()
        conn: sqlite3.Connection = await trio.to_thread.run_sync(partial(connect, self.path, writer=False))
        chunks: Iterator[list[Row]] | None = None
        try:
            shape = await trio.to_thread.run_sync(_shaper, conn, layout, bools)
            chunks = bulk_sql.fetch_chunks(conn, sql, params, chunk)
            while True:
                rows = await trio.to_thread.run_sync(_next_shaped, chunks, shape)
                if rows is None:
                    break
                yield rows
        finally:
            with trio.CancelScope(shield=True):  # a read stopped early closes its cursor, then its connection
                await trio.to_thread.run_sync(_close, chunks, conn)


def _close(chunks: Iterator[list[Row]] | None, conn: sqlite3.Connection) -> None:
    if isinstance(chunks, Generator):
        chunks.close()
    conn.close()


def _aggregated_bools(layout: MetricLayout, aggregation: Aggregation) -> list[int]:
    """Where the ``last`` of each pure boolean field sits in the tail of an aggregated row (after ``samples``)."""
    found: list[int] = []
    position = 1
    for field in layout.fields:
        stats = aggregation.field_columns(field)
        if field.types == {"bool"}:
            found.append(position + stats.index("last"))
        position += len(stats)
    return found


def _shaper(conn: sqlite3.Connection, layout: MetricLayout | None, bools: list[int]) -> Callable[[Row], Row]:
    """Return the function turning a SQL row into the BulkStore layout: the series id becomes name and tags, and
    the 0/1 of pure boolean fields become booleans again (SQLite has no boolean type). ``bools`` index the row's
    tail (what follows the six leading columns)."""
    if layout is None:
        return lambda row: row
    series = bulk_sql.series_columns(conn, layout.tag_keys)

    def shape(row: Row) -> Row:
        # SQL row: (iso, time_ns, series_id, source, experiment, round, *tail); series id -> (name, *tags)
        name, *tags = series[row[2]]
        tail = row[6:]
        if bools:
            tail = tuple(bool(v) if i in bools and v is not None else v for i, v in enumerate(tail))
        return (row[0], row[1], name, row[3], row[4], row[5], *tags, *tail)

    return shape


def _next_shaped(chunks: Iterator[list[Row]], shape: Callable[[Row], Row]) -> list[Row] | None:
    """Fetch and shape the next chunk (in a worker thread); None at the end."""
    rows = next(chunks, None)
    return None if rows is None else [shape(row) for row in rows]
