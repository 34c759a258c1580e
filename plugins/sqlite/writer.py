"""The store's single writer: one connection, one transaction per batch, retention in small chunks.

Everything here is synchronous and runs in a worker thread (``trio.to_thread.run_sync``); the sink serialises the
calls, so the connection is only ever used by one thread at a time. The write path does the least Python work it
can: one pass over the batch builds plain tuples (JSON via orjson), then a few multi-row INSERTs per table.

A batch that SQLite refuses because of a value (an integer beyond 64 bits: "Python int too large to convert to
SQLite INTEGER", a value it cannot bind) is rolled back, its bad records are found with
:func:`flcollector.check_record`, and the others are written in a second transaction: one bad record never costs
the good ones around it (they are returned as rejected, for the sink to count). A failure of the storage itself
(disk full, read-only, I/O error, locked) raises :class:`StoreWriteError`, a :class:`flcollector.StorageError`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from itertools import chain
from pathlib import Path

import orjson
from flcollector import Event, Metric, Record, StorageError, split_valid

from .schema import open_writer

_SORTED = orjson.OPT_SORT_KEYS
_INSERT_METRIC = "INSERT INTO metrics (time_ns, series_id, fields, source, experiment, round) VALUES (?, ?, ?, ?, ?, ?)"
_INSERT_EVENT = (
    "INSERT OR IGNORE INTO events (id, time_ns, type, source, level, message, details, experiment, round, origin_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# Only move "latest" forward: a late sample with an older timestamp must not replace a newer one.
_UPDATE_LATEST = (
    "UPDATE series SET last_time_ns = ?, last_fields = ?, last_source = ?, last_experiment = ?, last_round = ? "
    "WHERE id = ? AND (last_time_ns IS NULL OR last_time_ns <= ?)"
)

#: One ``metrics`` row: (time_ns, series_id, fields JSON, source, experiment, round).
MetricRow = tuple[int, int, str, str, str | None, int | None]

# Metrics go in as multi-row INSERTs of 500 rows: Python's sqlite3 releases and retakes the GIL around every
# statement step, so executemany pays one GIL hand-off per row; with the pipeline's other threads busy that cost
# ~10% of end-to-end throughput (benchmarks/pipeline.py, A/B). 500 rows x 6 values stays far below SQLite's limit.
_ROWS_PER_STATEMENT = 500
_INSERT_METRICS_MANY = _INSERT_METRIC.replace(
    "(?, ?, ?, ?, ?, ?)", ", ".join(["(?, ?, ?, ?, ?, ?)"] * _ROWS_PER_STATEMENT)
)


def _insert_metrics(conn: sqlite3.Connection, rows: list[MetricRow]) -> None:
    whole = len(rows) - len(rows) % _ROWS_PER_STATEMENT
    for start in range(0, whole, _ROWS_PER_STATEMENT):
        conn.execute(_INSERT_METRICS_MANY, list(chain.from_iterable(rows[start : start + _ROWS_PER_STATEMENT])))
    if whole < len(rows):
        conn.executemany(_INSERT_METRIC, rows[whole:])


def _json_fallback(value: object) -> str:
    # orjson refuses ints beyond 64 bits and unknown types; one odd value must not cost the whole batch.
    return json.dumps(value, default=str, separators=(",", ":"))


def _event_row(event: Event, event_id: int) -> tuple[object, ...]:
    try:
        details = orjson.dumps(event.details).decode()
    except TypeError:
        details = _json_fallback(event.details)
    head = (event_id, event.time_ns, event.type, event.source, event.level, event.message)
    return (*head, details, event.experiment, event.round, event.origin_id)


class StoreWriteError(StorageError):
    """The storage could not write a batch (disk full, read-only, I/O error, locked); the transaction was rolled
    back, so nothing of it (and nothing older) changed."""


#: Errors SQLite raises because of a value in the batch, not because of the storage: isolate the bad records.
_VALUE_ERRORS = (
    OverflowError, TypeError, ValueError, sqlite3.InterfaceError, sqlite3.ProgrammingError, sqlite3.DataError,
    sqlite3.IntegrityError,
)

#: What :meth:`StoreWriter.write` returns: metrics stored, events stored, and ``(index, reason)`` of rejected records.
Written = tuple[int, int, list[tuple[int, str]]]


class StoreWriter:
    """Owns the writer connection, the series-id cache, the event-id high-water mark and the row counters."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = open_writer(path)
        self.series_ids: dict[tuple[str, str], int] = {
            (name, tags): sid for sid, name, tags in self.conn.execute("SELECT id, name, tags FROM series")
        }
        self.series_names: dict[int, str] = {sid: name for (name, _), sid in self.series_ids.items()}
        #: Commits that added metrics of each name since the file was opened: with ``deleted_rows``, a version of
        #: a name's metrics (``SqliteStore.metrics_version``).
        self.name_commits: dict[str | None, int] = {}
        self.fast_ids: dict[tuple[object, ...], int] = {}  # (name, *tag items in arrival order) -> series id
        self.max_event_id: int = self.conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
        # Counted once at open (a scan of the time index); kept up to date by every write and cleanup after.
        self.metric_rows: int = self.conn.execute("SELECT count(*) FROM metrics").fetchone()[0]
        self.event_rows: int = self.conn.execute("SELECT count(*) FROM events").fetchone()[0]
        self.deleted_rows = 0

    def _series_id(self, name: str, tags: str, created: list[tuple[str, str]]) -> int:
        self.conn.execute("INSERT INTO series (name, tags) VALUES (?, ?) ON CONFLICT DO NOTHING", (name, tags))
        sid: int = self.conn.execute("SELECT id FROM series WHERE name = ? AND tags = ?", (name, tags)).fetchone()[0]
        self.series_ids[(name, tags)] = sid
        self.series_names[sid] = name  # an id rolled back and given again is named again here
        created.append((name, tags))
        return sid

    def write(self, batch: Sequence[Record]) -> Written:
        """Write ``batch`` in one transaction; return ``(metrics, events, rejected)``. Raise StoreWriteError.

        When a value makes SQLite refuse the batch, the records that fail :func:`flcollector.check_record` are left
        out and the rest written in a new transaction (``rejected`` names them); when none fails the check, the
        error is raised as it is (the core then splits the batch to find what it cannot write).
        """
        try:
            return (*self._write(batch), [])
        except _VALUE_ERRORS as exc:
            good, bad = split_valid(batch)
            if not bad:
                raise
            rejected = [(index, f"{error} (SQLite: {type(exc).__name__}: {exc})") for index, error in bad]
            return (*self._write(good), rejected)

    def _write(self, batch: Sequence[Record]) -> tuple[int, int]:
        conn = self.conn
        created: list[tuple[str, str]] = []
        max_event_id = self.max_event_id
        try:
            conn.execute("BEGIN IMMEDIATE")
            dumps, series_ids, fast_ids = orjson.dumps, self.series_ids, self.fast_ids
            metric_rows: list[MetricRow] = []
            event_rows: list[tuple[object, ...]] = []
            latest: dict[int, MetricRow] = {}
            for record in batch:
                if isinstance(record, Metric):
                    # The tags as given (a producer keeps its key order) find the id without encoding them.
                    fast_key = (record.name, *record.tags.items())
                    sid = fast_ids.get(fast_key)
                    if sid is None:
                        tags = dumps(record.tags, option=_SORTED).decode() if record.tags else "{}"
                        sid = series_ids.get((record.name, tags))
                        if sid is None:
                            sid = self._series_id(record.name, tags, created)
                        fast_ids[fast_key] = sid
                    try:
                        fields = dumps(record.fields).decode()
                    except TypeError:
                        fields = _json_fallback(record.fields)
                    row: MetricRow = (record.time_ns, sid, fields, record.source, record.experiment, record.round)
                    metric_rows.append(row)
                    newest = latest.get(sid)
                    if newest is None or row[0] >= newest[0]:
                        latest[sid] = row
                elif isinstance(record, Event):
                    event_id = record.id
                    if event_id is None:  # not assigned by the pipeline (a direct caller): continue the sequence
                        event_id = max_event_id + 1
                    max_event_id = max(max_event_id, event_id)
                    event_rows.append(_event_row(record, event_id))
            events_stored = 0
            if metric_rows:
                _insert_metrics(conn, metric_rows)
                conn.executemany(_UPDATE_LATEST, [(t, f, s, e, r, sid, t) for t, sid, f, s, e, r in latest.values()])
            if event_rows:
                events_stored = conn.executemany(_INSERT_EVENT, event_rows).rowcount
            conn.execute("COMMIT")
        except BaseException as exc:
            self._rollback(created)
            if isinstance(exc, sqlite3.Error) and not isinstance(exc, _VALUE_ERRORS):
                raise StoreWriteError(self._explain(exc, len(batch))) from exc
            raise
        self.max_event_id = max_event_id
        commits, names = self.name_commits, self.series_names
        # After the commit, so a reader that sees the count sees the rows. Nothing may raise past COMMIT: a series
        # whose name is not known (none should be) counts under None, which every version includes.
        for name in {names.get(sid) for sid in latest}:
            commits[name] = commits.get(name, 0) + 1
        self.metric_rows += len(metric_rows)
        self.event_rows += events_stored
        return len(metric_rows), events_stored

    def _rollback(self, created: list[tuple[str, str]]) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        for key in created:  # the series rows were rolled back too
            self.series_ids.pop(key, None)
        if created:
            self.fast_ids.clear()

    def _explain(self, exc: BaseException, size: int) -> str:
        if getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL":
            reason = "database or disk is full (free space on the disk, or shorten the retention)"
        else:
            reason = f"{type(exc).__name__}: {exc}"
        return f"sqlite store {str(self.path)!r}: batch of {size} records not written, rolled back: {reason}"

    def cleanup(self, cutoff_ns: int, chunk: int, vacuum_pages: int) -> int:
        """Delete at most ``chunk`` metrics and ``chunk`` events older than ``cutoff_ns``; return rows deleted.

        Small chunks keep each transaction short, so a big backlog never stalls the writes between them. Series
        left without samples are dropped once the metrics backlog is gone; freed pages go back to the file system
        with ``incremental_vacuum`` (a few pages per step, never a full VACUUM).
        """
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            sql = "DELETE FROM {0} WHERE id IN (SELECT id FROM {0} WHERE time_ns < ? ORDER BY time_ns LIMIT ?)"
            metrics = conn.execute(sql.format("metrics"), (cutoff_ns, chunk)).rowcount
            events = conn.execute(sql.format("events"), (cutoff_ns, chunk)).rowcount
            emptied: list[tuple[int, str, str]] = []
            if metrics < chunk:
                emptied = conn.execute(
                    "DELETE FROM series WHERE (last_time_ns IS NULL OR last_time_ns < ?) AND NOT EXISTS "
                    "(SELECT 1 FROM metrics WHERE series_id = series.id) RETURNING id, name, tags",
                    (cutoff_ns,),
                ).fetchall()
            conn.execute("COMMIT")
        except BaseException:
            self._rollback([])
            raise
        for sid, name, tags in emptied:
            self.series_ids.pop((name, tags), None)
            self.series_names.pop(sid, None)
        if emptied:
            self.fast_ids.clear()
        self.metric_rows -= metrics
        self.event_rows -= events
        self.deleted_rows += metrics + events
        if metrics or events:
            # Each step of this pragma frees one page; fetchall() runs it to the end of its small budget.
            conn.execute(f"PRAGMA incremental_vacuum({int(vacuum_pages)})").fetchall()
        return metrics + events

    def close(self) -> None:
        """Let SQLite refresh its planner statistics, then close the connection (checkpointing the WAL)."""
        try:
            self.conn.execute("PRAGMA optimize")
        finally:
            self.conn.close()
