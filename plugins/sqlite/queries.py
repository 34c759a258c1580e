"""Read queries of the store: SQL built from :class:`MetricQuery` / :class:`EventQuery`, rows turned into records.

Plain synchronous functions that take a reader connection; the store runs them in a worker thread. Every value
is a bound parameter; the only text spliced into SQL comes from fixed whitelists (columns, sort directions).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import orjson
from flcollector import Event, EventQuery, Metric, MetricFold, MetricQuery

F = TypeVar("F", bound=MetricFold)

#: The columns of :func:`metric_from_row`, over ``metrics m JOIN series s``.
METRIC_COLUMNS = "m.time_ns, s.name, s.tags, m.fields, m.source, m.experiment, m.round"
_LATEST_COLUMNS = "last_time_ns, name, tags, last_fields, last_source, last_experiment, last_round"
_EVENT_COLUMNS = "id, time_ns, type, source, level, message, details, experiment, round, origin_id"
#: The SQL of a query's ``order``.
DIRECTION = {"asc": "ASC", "desc": "DESC"}
GROUP_COLUMNS = frozenset({"level", "source", "type"})


def _in(column: str, values: Sequence[Any], params: list[Any]) -> str:
    params.extend(values)
    return f"{column} IN ({','.join('?' * len(values))})" if values else "0"  # an empty list matches nothing


def metric_from_row(row: tuple[Any, ...]) -> Metric:
    """Build a Metric from ``(time_ns, name, tags, fields, source, experiment, round)``."""
    time_ns, name, tags, fields, source, experiment, round_ = row
    return Metric(name, orjson.loads(fields), time_ns, orjson.loads(tags), source, experiment, round_)


def event_from_row(row: tuple[Any, ...]) -> Event:
    """Build an Event from the columns of ``_EVENT_COLUMNS``."""
    id_, time_ns, type_, source, level, message, details, experiment, round_, origin_id = row
    return Event(type_, message, time_ns, source, level, orjson.loads(details), experiment, round_, id_, origin_id)


def metric_where(query: MetricQuery) -> tuple[str, list[Any]]:
    """Return the WHERE clause (over ``metrics m``) and its parameters for ``query``."""
    params: list[Any] = []
    series: list[str] = []
    if query.names is not None:
        series.append(_in("name", list(query.names), params))
    if query.name_prefix:
        series.append("substr(name, 1, ?) = ?")
        params += [len(query.name_prefix), query.name_prefix]
    for tag, tag_value in sorted(query.tags.items()):  # every given tag must be present with exactly this value
        series.append("EXISTS (SELECT 1 FROM json_each(series.tags) AS t WHERE t.key = ? AND t.value = ?)")
        params += [tag, tag_value]
    clauses = [f"m.series_id IN (SELECT id FROM series WHERE {' AND '.join(series)})"] if series else []
    filters: tuple[tuple[str, object], ...] = (
        ("m.source = ?", query.source),
        ("m.experiment = ?", query.experiment),
        ("m.round = ?", query.round),
        ("m.round >= ?", query.min_round),
        ("m.round <= ?", query.max_round),
        ("m.time_ns >= ?", query.start_ns),
        ("m.time_ns <= ?", query.end_ns),
    )
    for sql, value in filters:
        if value is not None:
            clauses.append(sql)
            params.append(value)
    return (" AND ".join(clauses) or "1"), params


def metric_select(query: MetricQuery) -> tuple[str, list[Any]]:
    """The SELECT (and its parameters) of the metrics matching ``query``: the columns of :func:`metric_from_row`."""
    where, params = metric_where(query)
    direction = DIRECTION[query.order]
    sql = (
        f"SELECT {METRIC_COLUMNS} FROM metrics m JOIN series s ON s.id = m.series_id WHERE {where} "
        f"ORDER BY m.time_ns {direction}, m.id {direction} LIMIT ? OFFSET ?"
    )
    return sql, [*params, query.limit, query.offset]


def query_metrics(conn: sqlite3.Connection, query: MetricQuery) -> list[Metric]:
    """Return the metrics matching ``query`` ordered by time (ties by insertion), after offset, at most limit."""
    return [metric_from_row(row) for row in conn.execute(*metric_select(query)).fetchall()]


def fold_metrics(conn: sqlite3.Connection, query: MetricQuery, new_fold: Callable[[], F], page: int) -> F:
    """Fold :func:`query_metrics`'s rows into ``new_fold()``, decoded ``page`` at a time, from one query."""
    fold = new_fold()
    cursor = conn.execute(*metric_select(query))
    while rows := cursor.fetchmany(page):
        fold.add([metric_from_row(row) for row in rows])
    return fold


def count_metrics(conn: sqlite3.Connection, query: MetricQuery) -> int:
    """Return how many metrics match ``query``."""
    where, params = metric_where(query)
    return int(conn.execute(f"SELECT count(*) FROM metrics m WHERE {where}", params).fetchone()[0])


def latest_metrics(
    conn: sqlite3.Connection, names: Sequence[str] | None, source: str | None, experiment: str | None
) -> list[Metric]:
    """Return the latest sample of every series (filters apply to that sample), ordered by name and tags."""
    params: list[Any] = []
    clauses = ["last_time_ns IS NOT NULL"]
    if names is not None:
        clauses.append(_in("name", list(names), params))
    if source is not None:
        clauses.append("last_source = ?")
        params.append(source)
    if experiment is not None:
        clauses.append("last_experiment = ?")
        params.append(experiment)
    sql = f"SELECT {_LATEST_COLUMNS} FROM series WHERE {' AND '.join(clauses)} ORDER BY name, tags"
    return [metric_from_row(row) for row in conn.execute(sql, params)]


def metric_names(conn: sqlite3.Connection) -> list[str]:
    """Return every metric name stored, sorted."""
    return [name for (name,) in conn.execute("SELECT DISTINCT name FROM series ORDER BY name")]


def event_where(query: EventQuery) -> tuple[str, list[Any]]:
    """Return the WHERE clause (over ``events``) and its parameters for ``query``."""
    params: list[Any] = []
    clauses: list[str] = []
    if query.types is not None:
        clauses.append(_in("type", list(query.types), params))
    if query.levels is not None:
        clauses.append(_in("level", [level.upper() for level in query.levels], params))
    for sql, value in (
        ("id > ?", query.since_id),
        ("source = ?", query.source),
        ("experiment = ?", query.experiment),
        ("round = ?", query.round),
        ("time_ns >= ?", query.start_ns),
        ("time_ns <= ?", query.end_ns),
    ):
        if value is not None:
            clauses.append(sql)
            params.append(value)
    return (" AND ".join(clauses) or "1"), params


def event_select(query: EventQuery) -> tuple[str, list[Any]]:
    """The SELECT (and its parameters) of the events matching ``query``: the columns of :func:`event_from_row`."""
    where, params = event_where(query)
    direction = DIRECTION[query.order]
    # events_time (time_ns) holds the rowid too, so ordering by time then id walks that index
    order = f"time_ns {direction}, id {direction}" if query.sort == "time" else f"id {direction}"
    sql = f"SELECT {_EVENT_COLUMNS} FROM events WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?"
    return sql, [*params, query.limit, query.offset]


def query_events(conn: sqlite3.Connection, query: EventQuery) -> list[Event]:
    """Return the events matching ``query`` ordered by id (or by time, ties by id), after offset, at most limit."""
    return [event_from_row(row) for row in conn.execute(*event_select(query))]


def count_events(conn: sqlite3.Connection, query: EventQuery) -> int:
    """Return how many events match ``query``."""
    where, params = event_where(query)
    return int(conn.execute(f"SELECT count(*) FROM events WHERE {where}", params).fetchone()[0])


def count_and_oldest(conn: sqlite3.Connection, query: EventQuery) -> tuple[int, int | None]:
    """Return how many events match ``query`` and the oldest time among them (None when there is none)."""
    where, params = event_where(query)
    count, oldest = conn.execute(f"SELECT count(*), min(time_ns) FROM events WHERE {where}", params).fetchone()
    return int(count), oldest


def selects_all_metrics(query: MetricQuery) -> bool:
    """True when ``query`` selects every metric (limit, offset and order do not filter)."""
    return query == MetricQuery(limit=query.limit, offset=query.offset, order=query.order)


def selects_all_events(query: EventQuery) -> bool:
    """True when ``query`` selects every event (limit, offset and order do not filter)."""
    return all(
        value is None
        for value in (
            query.since_id,
            query.types,
            query.source,
            query.levels,
            query.experiment,
            query.round,
            query.start_ns,
            query.end_ns,
        )
    )


def event_counts(conn: sqlite3.Connection, query: EventQuery, by: str) -> dict[str, int]:
    """Return ``{value: count}`` of the events matching ``query``, grouped by the column ``by``."""
    if by not in GROUP_COLUMNS:
        raise ValueError(f"cannot group events by {by!r}; choose one of {', '.join(sorted(GROUP_COLUMNS))}")
    if selects_all_events(query):  # the running counts the triggers keep (see schema.py)
        rows = conn.execute("SELECT key, n FROM event_counts WHERE dim = ? AND n > 0 ORDER BY key", (by,))
        return dict(rows.fetchall())
    where, params = event_where(query)
    sql = f"SELECT {by}, count(*) FROM events WHERE {where} GROUP BY {by} ORDER BY {by}"
    return {key: count for key, count in conn.execute(sql, params)}


def latest_event(conn: sqlite3.Connection, type_: str, source: str | None) -> Event | None:
    """Return the newest event of ``type_`` (optionally from ``source``), walking the (type, id) index backwards."""
    sql = f"SELECT {_EVENT_COLUMNS} FROM events WHERE type = ?" + (" AND source = ?" if source is not None else "")
    params = [type_] if source is None else [type_, source]
    row = conn.execute(sql + " ORDER BY id DESC LIMIT 1", params).fetchone()
    return None if row is None else event_from_row(row)


def time_bounds(conn: sqlite3.Connection) -> dict[str, int | None]:
    """Return the oldest and newest ``time_ns`` over metrics and events (index lookups, no scans)."""
    row = conn.execute(
        "SELECT (SELECT min(time_ns) FROM metrics), (SELECT max(time_ns) FROM metrics), "
        "(SELECT min(time_ns) FROM events), (SELECT max(time_ns) FROM events)"
    ).fetchone()
    oldest = [t for t in (row[0], row[2]) if t is not None]
    newest = [t for t in (row[1], row[3]) if t is not None]
    return {"oldest_ns": min(oldest, default=None), "newest_ns": max(newest, default=None)}
