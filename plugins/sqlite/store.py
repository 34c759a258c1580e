"""The ``sqlite`` sink: the embedded store the API reads (one file, WAL, one transaction per batch).

Writes go through one writer connection in a worker thread, one at a time; queries use their own reader
connections (a small pool), so the API answers while a batch is being written. Retention runs in small chunks after
writes, at most every ``cleanup_interval`` (immediately again while a backlog remains), never as a blocking VACUUM.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import attrs
import trio
from flcollector import (
    Duration,
    Event,
    EventQuery,
    Metric,
    MetricFold,
    MetricQuery,
    Record,
    RecordsRejected,
    SeriesSummary,
    Sink,
    now_ns,
    option_doc,
)

from . import json_rows, queries, round_sql, summary_sql
from .bulk import BulkReads
from .memo import WriteMemo
from .readers import Readers
from .writer import StoreWriter

T = TypeVar("T")
F = TypeVar("F", bound=MetricFold)


@attrs.define
class SqliteOptions:
    """Options of the ``sqlite`` sink."""

    path: str = attrs.field(default="flcollector.db", metadata=option_doc(
        "the database file; a relative path is under `[agent] data_dir`. A directory that cannot be created or a "
        "file that cannot be written stops start-up with an error naming the path", writes="file"))
    retention: Duration = attrs.field(default=Duration(14 * 86400.0), metadata=option_doc(
        'keep records this long, judged by their own `time_ns`; `"0s"` keeps everything'))
    cleanup_interval: Duration = attrs.field(default=Duration(600.0), metadata=option_doc(
        "how often a retention step runs (it runs after a write, so an idle store does no work)"))
    cleanup_chunk: int = attrs.field(default=5000, validator=attrs.validators.gt(0), metadata=option_doc(
        "rows deleted per step from `metrics` and from `events`; keeps each step's transaction short"))
    vacuum_pages: int = attrs.field(default=1000, validator=attrs.validators.ge(0), metadata=option_doc(
        "free pages returned to the file system per step (`PRAGMA incremental_vacuum`)"))


class SqliteStore(BulkReads, Sink):
    """A sink that stores every record in SQLite and answers the :class:`~flcollector.Store` queries."""

    name = "sqlite"
    Options = SqliteOptions
    durable = True  # the store: durable ingest acknowledgements wait for it; the agent does not start without it

    def __init__(self, options: SqliteOptions, runtime: Any) -> None:
        super().__init__(options, runtime)
        configured = Path(options.path).expanduser()
        self.path = configured if configured.is_absolute() else runtime.data_dir / configured
        self._writer: StoreWriter | None = None
        self._write_lock = trio.Lock()
        self._readers = Readers(self.path, runtime.stats)  # replaced at each open()
        self._next_cleanup = float("-inf")  # Trio clock seconds; the first write runs a first step
        self._memo = WriteMemo()  # info() and the latest reads, kept until the next write (see memo)
        self._round_memos: dict[Hashable, WriteMemo] = {}  # pages of rounds per scope, kept until it changes
        self._round_rows: round_sql.KnownRows = {}  # the rows of those pages by id, while no row is deleted
        self._round_rows_deleted = 0  # the writer's deleted_rows when they were read
        self._opened = 0  # opens so far: a new writer counts from zero again (see metrics_version)

    # -- lifecycle ---------------------------------------------------------------------------------------------

    async def open(self) -> None:
        """Create or open the database file; raises an OSError naming the path when it cannot be written."""
        self._writer = await trio.to_thread.run_sync(StoreWriter, self.path)
        self._opened += 1
        self._readers = Readers(self.path, self.runtime.stats)
        self._memo.clear()
        self._round_memos.clear()
        self._round_rows = {}
        self.runtime.stats.extra["store"] = {"path": str(self.path)}
        self._publish_counts()
        self.log.info(
            "sqlite store %s open (%d metrics, %d events)", self.path, self._writer.metric_rows, self._writer.event_rows
        )

    async def close(self) -> None:
        """Close every connection; the last close checkpoints the WAL into the main file."""
        async with self._write_lock:
            self._readers.close()
            if self._writer is not None:
                writer, self._writer = self._writer, None
                await trio.to_thread.run_sync(writer.close)

    # -- writing -----------------------------------------------------------------------------------------------

    async def write(self, batch: Sequence[Record]) -> None:
        """Store ``batch`` in one transaction (off the Trio thread); raise StoreWriteError if the storage failed (all
        rolled back), RecordsRejected after storing all but records with values SQLite cannot hold."""
        writer = self._require_writer()
        async with self._write_lock:
            due = self.options.retention > 0 and trio.current_time() >= self._next_cleanup
            metrics, events, rejected = await trio.to_thread.run_sync(writer.write, batch)
            stats = self.runtime.stats
            stats.count("metrics_written", metrics)
            stats.count("events_written", events)
            if due:
                deleted = await trio.to_thread.run_sync(self._cleanup_step, writer)
                # A full chunk means there is a backlog: take the next chunk with the next batch.
                full = deleted >= self.options.cleanup_chunk
                self._next_cleanup = trio.current_time() + (0.0 if full else float(self.options.cleanup_interval))
            self._publish_counts()
        if rejected:
            raise RecordsRejected(rejected)

    async def cleanup(self) -> int:
        """Run one retention step now; return how many rows it deleted (0 when retention is 0)."""
        writer = self._require_writer()
        if self.options.retention <= 0:
            return 0
        async with self._write_lock:
            deleted = await trio.to_thread.run_sync(self._cleanup_step, writer)
            self._publish_counts()
            return deleted

    def _cleanup_step(self, writer: StoreWriter) -> int:
        cutoff = now_ns() - int(self.options.retention * 1e9)
        deleted = writer.cleanup(cutoff, self.options.cleanup_chunk, self.options.vacuum_pages)
        if deleted:
            self.runtime.stats.count("retention_deleted", deleted)
            self.log.debug("retention: deleted %d rows older than %d", deleted, cutoff)
        return deleted

    def _require_writer(self) -> StoreWriter:
        if self._writer is None:
            raise RuntimeError(f"sqlite store {str(self.path)!r} is not open")
        return self._writer

    def _publish_counts(self) -> None:
        if self._writer is not None:
            self.runtime.stats.extra["store"].update(
                metrics=self._writer.metric_rows, events=self._writer.event_rows, series=len(self._writer.series_ids)
            )

    # -- reading (Store protocol) ------------------------------------------------------------------------------

    async def _read(self, query: Callable[..., T], *args: Any, inline: bool = True) -> T:
        """Run ``query(conn, *args)`` on a reader: inline when it is quick, else in a worker thread (see readers)."""
        self._require_writer()
        return await self._readers.read(query, *args, inline=inline)

    async def query_metrics(self, query: MetricQuery) -> list[Metric]:
        """Return the metrics matching ``query``, ordered by time as asked, after offset, at most limit."""
        return await self._read(queries.query_metrics, query)

    async def fold_metrics(self, query: MetricQuery, new_fold: Callable[[], F], page: int) -> F:
        """Fold what ``query`` selects into ``new_fold()`` (see ``flcollector.fold_metrics``): one query, so SQLite
        orders the selection once, and its rows decoded ``page`` at a time (a read retried in a thread starts a
        new fold)."""
        return await self._read(queries.fold_metrics, query, new_fold, page)

    async def count_metrics(self, query: MetricQuery) -> int:
        """Return how many metrics match ``query`` (ignoring limit and offset); all of them are counted already."""
        if queries.selects_all_metrics(query):
            return self._require_writer().metric_rows
        return await self._read(queries.count_metrics, query)

    async def query_events(self, query: EventQuery) -> list[Event]:
        """Return the events matching ``query``, ordered by id as asked, after offset, at most limit."""
        return await self._read(queries.query_events, query)

    async def count_events(self, query: EventQuery) -> int:
        """Return how many events match ``query`` (ignoring limit and offset); all of them are counted already."""
        if queries.selects_all_events(query):
            return self._require_writer().event_rows
        if query.start_ns is not None and query.end_ns is None:
            return await self._count_recent(query)
        return await self._read(queries.count_events, query)

    async def _count_recent(self, query: EventQuery) -> int:
        """Count "the last N minutes" (a start, no end), kept until the next write (see :mod:`.memo`).

        A later start counts the same events as long as no write came and it has not passed the oldest of them:
        the poll of a sliding window reads the file again only after a write or when an event leaves the window.
        """
        start = query.start_ns
        assert start is not None
        # What the count depends on besides the start (not limit, offset or order). Built field by field: a status
        # route asks on every poll, and attrs.evolve costs a fifth of that route.
        kept_for = (
            query.since_id,
            tuple(query.types) if query.types is not None else None,
            query.source,
            tuple(query.levels) if query.levels is not None else None,
            query.experiment,
            query.round,
            query.end_ns,
        )

        async def read() -> tuple[int, int, int | None]:
            return (start, *await self._read(queries.count_and_oldest, query))

        def holds(kept: tuple[int, int, int | None]) -> bool:
            kept_start, _count, oldest = kept
            return kept_start <= start and (oldest is None or start <= oldest)

        return (await self._memo.get(self.write_version(), ("count_recent", kept_for), read, holds))[1]

    async def metrics_json(self, query: MetricQuery, shape: str) -> tuple[list[Any], int | None] | None:
        """The metrics of ``query`` as rows of ``shape`` (``record`` or ``dashboard``, see :mod:`.json_rows`), ready
        to encode, and None; None for a shape this store does not build."""
        if shape not in json_rows.SHAPES:
            return None
        return await self._read(json_rows.metrics_json, query, shape)

    async def events_json(self, query: EventQuery, shape: str) -> tuple[list[Any], int | None] | None:
        """The events of ``query`` as rows of ``shape``, ready to encode, and their highest id; None for a shape
        this store does not build."""
        if shape not in json_rows.SHAPES:
            return None
        return await self._read(json_rows.events_json, query, shape)

    async def newest_per_round(
        self,
        scope: MetricQuery,
        *,
        min_round: int | None = None,
        max_round: int | None = None,
        after_ns: int | None = None,
        order: Literal["asc", "desc"] = "asc",
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[Metric], int, int | None] | None:
        """The newest stored metric of each round of ``scope`` within the round range and newer than ``after_ns``,
        by round, paged: ``(page, rounds selected, highest round in scope)``; None when ``scope`` holds more than
        ``scope.limit`` rows with a round (see :mod:`.round_sql`; the dashboard's FL rounds routes).

        Kept until the scope's rows change: its running counts (rounds and rows of each series and experiment, an
        index lookup) and the rows retention deleted are the version, so a write elsewhere keeps the page. A page
        read again (a new round came) holds the same metric objects for the rows it had, so the dashboard's items
        built from them are kept too."""
        key = round_sql.scope_key(scope)
        memo = self._round_memos.get(key)
        if memo is None:
            if len(self._round_memos) >= round_sql.MAX_KEPT_SCOPES:
                self._round_memos.clear()
            memo = self._round_memos[key] = WriteMemo()
        deleted = self._require_writer().deleted_rows
        if deleted != self._round_rows_deleted or len(self._round_rows) > round_sql.MAX_KNOWN_ROWS:
            self._round_rows, self._round_rows_deleted = {}, deleted  # a deleted id may be given again
        version = (deleted, *await self._read(round_sql.scope_counts, scope))
        args = (scope, min_round, max_round, after_ns, order, offset, limit, self._round_rows)
        return await memo.get(version, args[1:-1], lambda: self._read(round_sql.newest_per_round, *args))

    async def latest_metrics(
        self, names: Sequence[str] | None = None, source: str | None = None, experiment: str | None = None
    ) -> list[Metric]:
        """Return the newest metric per (name, tags) series; ``source``/``experiment`` filter that newest sample.

        Kept until the next write (the status routes ask on every poll): see :mod:`.memo`."""
        key = ("latest_metrics", tuple(names) if names is not None else None, source, experiment)
        found = await self._memo.get(
            self.write_version(), key, lambda: self._read(queries.latest_metrics, names, source, experiment)
        )
        return list(found)

    async def latest_event(self, type: str, source: str | None = None) -> Event | None:
        """Return the newest event of ``type`` (e.g. the latest topology snapshot), or None; kept until the next
        write."""
        return await self._memo.get(
            self.write_version(), ("latest_event", type, source), lambda: self._read(queries.latest_event, type, source)
        )

    async def metric_names(self) -> list[str]:
        """Return every metric name stored, sorted."""
        return await self._read(queries.metric_names)

    async def event_counts(self, query: EventQuery, by: Literal["level", "source", "type"]) -> dict[str, int]:
        """Return event counts grouped by level, source or type for the events matching ``query``."""
        return await self._read(queries.event_counts, query, by)

    async def summarize_metrics(self, query: MetricQuery, fields: Sequence[str]) -> list[SeriesSummary]:
        """One summary per series of ``query``'s window, computed in SQL (``flcollector.SummaryStore``)."""
        return await self._read(summary_sql.summarize_metrics, query, list(fields), inline=False)

    async def max_event_id(self) -> int:
        """Return the highest event id stored (0 when there is none)."""
        return self._require_writer().max_event_id

    async def info(self) -> dict[str, Any]:
        """Return store facts for ``/health``: path, size in bytes, row counts, oldest and newest times.

        ``/health`` asks on every request, and nothing here changes until the store writes or deletes rows: the
        facts are read again (an index lookup, two ``stat``) only after a write, else given as last read. The WAL
        file's size may shrink at a checkpoint in between; it is read again with the next write.
        """
        return dict(await self._memo.get(self.write_version(), "info", self._read_info))

    def known_info(self) -> dict[str, Any] | None:
        """The facts :meth:`info` gives when it would give them without reading (no write since they were read),
        else None: ``/health`` then needs no timeout around them."""
        kept = self._memo.kept(self.write_version(), "info") if self._writer is not None else None
        return dict(kept) if kept is not None else None

    async def _read_info(self) -> dict[str, Any]:
        writer = self._require_writer()
        bounds = await self._read(queries.time_bounds)
        size = sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
        return {
            "path": str(self.path),
            "size_bytes": size,
            "metrics": writer.metric_rows,
            "events": writer.event_rows,
            "series": len(writer.series_ids),
            "max_event_id": writer.max_event_id,
            "retention_s": float(self.options.retention),
            "deleted": writer.deleted_rows,
            **bounds,
        }

    def metrics_version(self, names: Sequence[str]) -> Hashable:
        """A value that changes with every commit that adds a metric of one of ``names``, with every delete and at
        every open (``flcollector.VersionedStore``): the writer counts each name's commits after they are made."""
        writer = self._require_writer()
        commits = writer.name_commits
        return (self._opened, writer.deleted_rows, commits.get(None, 0), *(commits.get(name, 0) for name in names))

    def write_version(self) -> tuple[int, int, int, int]:
        """A value that changes with every commit that adds or deletes rows (the writer's row counters, updated
        after each commit): what was read after taking it is at least that new."""
        writer = self._require_writer()
        return (writer.metric_rows, writer.event_rows, writer.deleted_rows, writer.max_event_id)
