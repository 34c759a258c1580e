"""SQL of the bulk reads (exports, reports): the layout pass, raw rows, SQL aggregation, event tallies and facts.

Plain synchronous functions over a reader connection, run in worker threads by :mod:`.bulk`. The JSON of
``fields`` is taken apart by SQLite (``json_extract``, ``json_each``), so a row reaches Python already split into
columns, and an aggregation reaches Python as one row per series and bucket. Every value is a bound parameter
(JSON paths included); the only text spliced into SQL is built here from fixed pieces.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from flcollector import MetricQuery
from flcollector.store import Aggregation, FieldInfo, FieldType, MetricLayout, Selection

from .queries import metric_where

#: ISO 8601 UTC text with all nine digits of the nanoseconds, computed by SQLite (``{0}`` is the ns expression).
ISO_SQL = "strftime('%Y-%m-%dT%H:%M:%S', {0} / 1000000000, 'unixepoch') || printf('.%09dZ', {0} % 1000000000)"
_JSON_TYPES: dict[str, FieldType] = {"integer": "int", "real": "float", "true": "bool", "false": "bool", "text": "str"}
EVENT_ROW_COLUMNS = "id, type, level, source, experiment, round, message, details, origin_id"


def json_path(key: str) -> str:
    """Return the JSON path of a top-level ``key`` (quoted, so dots and spaces in keys are fine)."""
    return f'$."{key}"'


def selection_where(selection: Selection) -> tuple[str, list[Any]]:
    """Return the WHERE clause over ``metrics m`` for the selection's metrics."""
    names = list(selection.metric_names) if selection.metric_names is not None else None
    query = MetricQuery(names=names, experiment=selection.experiment, start_ns=selection.start_ns,
                        end_ns=selection.end_ns)
    return metric_where(query)


def event_where(selection: Selection) -> tuple[str, list[Any]]:
    """Return the WHERE clause over ``events`` for the selection's events (sources OR types, see Selection)."""
    clauses: list[str] = []
    params: list[Any] = []
    for sql, value in (("experiment = ?", selection.experiment), ("time_ns >= ?", selection.start_ns),
                       ("time_ns <= ?", selection.end_ns)):
        if value is not None:
            clauses.append(sql)
            params.append(value)
    if selection.event_sources is not None or selection.event_types is not None:
        alternatives = []
        for column, values in (("source", selection.event_sources), ("type", selection.event_types)):
            if values:
                alternatives.append(f"{column} IN ({','.join('?' * len(values))})")
                params.extend(values)
        clauses.append(f"({' OR '.join(alternatives)})" if alternatives else "0")
    return (" AND ".join(clauses) or "1"), params


def metric_layout(conn: sqlite3.Connection, selection: Selection) -> MetricLayout:
    """Scan the selection once for its field keys and types; tag keys come from the series that have samples."""
    if not selection.wants_metrics:
        return MetricLayout((), (), 0)
    where, params = selection_where(selection)
    rows = int(conn.execute(f"SELECT count(*) FROM metrics m WHERE {where}", params).fetchone()[0])
    types: dict[str, set[FieldType]] = {}
    for key, json_type in conn.execute(
        f"SELECT DISTINCT j.key, j.type FROM metrics m, json_each(m.fields) AS j WHERE {where}", params
    ):
        kinds = types.setdefault(key, set())
        if json_type in _JSON_TYPES:
            kinds.add(_JSON_TYPES[json_type])
        elif json_type != "null":
            kinds.add("str")  # an object or array is exported as its JSON text
    tags = conn.execute(
        "SELECT DISTINCT j.key FROM series s, json_each(s.tags) AS j WHERE EXISTS "
        f"(SELECT 1 FROM metrics m WHERE m.series_id = s.id AND {where}) ORDER BY j.key",
        params,
    ).fetchall()
    fields = tuple(FieldInfo(key, frozenset(types[key])) for key in sorted(types))
    return MetricLayout(tuple(key for (key,) in tags), fields, rows)


def series_columns(conn: sqlite3.Connection, tag_keys: tuple[str, ...]) -> dict[int, tuple[Any, ...]]:
    """Return ``{series id: (name, *tag values)}`` for every series (a few hundred rows)."""
    paths = [json_path(key) for key in tag_keys]
    select = "".join(", json_extract(tags, ?)" for _ in paths)
    return {row[0]: row[1:] for row in conn.execute(f"SELECT id, name{select} FROM series", paths)}


def _field_value(field: FieldInfo, column: str, params: list[Any]) -> str:
    """The SQL value of ``field`` in the JSON ``column``: booleans stay booleans in a mixed column (as text)."""
    path = json_path(field.key)
    if "bool" in field.types and len(field.types) > 1:
        params += [path, path]
        return (f"CASE json_type({column}, ?) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
                f"ELSE json_extract({column}, ?) END")
    params.append(path)
    return f"json_extract({column}, ?)"


def raw_metrics_sql(selection: Selection, layout: MetricLayout) -> tuple[str, list[Any]]:
    """The raw scan: ``(iso, time_ns, series_id, source, experiment, round, *fields)`` ordered by time."""
    params: list[Any] = []
    fields = "".join(f", {_field_value(f, 'm.fields', params)}" for f in layout.fields)
    where, where_params = selection_where(selection)
    sql = (f"SELECT {ISO_SQL.format('m.time_ns')}, m.time_ns, m.series_id, m.source, m.experiment, m.round{fields} "
           f"FROM metrics m WHERE {where} ORDER BY m.time_ns, m.id")
    return sql, params + where_params


def aggregated_sql(selection: Selection, layout: MetricLayout, aggregation: Aggregation) -> tuple[str, list[Any]]:
    """One row per (series, experiment, bucket): ``(iso, start_ns, series_id, source, experiment, round, samples,
    *stats)``. Sums run in SQLite; ``last`` and ``rate`` read the bucket's last and first rows by index lookup.

    Each numeric field is extracted once per row in a subquery that ``LIMIT -1`` keeps from being flattened into
    the grouping (flattened, every aggregate re-parses the JSON: 1.7x slower on 1M rows).
    """
    values: list[str] = []
    value_params: list[Any] = []
    grouped: list[str] = []
    outer: list[str] = []
    outer_params: list[Any] = []
    first_needed = False
    functions = {"count": "count", "mean": "avg", "min": "min", "max": "max"}
    for index, field in enumerate(layout.fields):
        stats = aggregation.field_columns(field)
        if field.numeric:
            values.append(f"json_extract(m.fields, ?) AS v{index}")
            value_params.append(json_path(field.key))
        for stat in stats:
            if stat in functions:
                grouped.append(f"{functions[stat]}(r.v{index}) AS s{index}_{stat}")
                outer.append(f"g.s{index}_{stat}")
            elif stat == "last":
                outer.append(_field_value(field, "l.fields", outer_params))
            else:  # rate: (last - first) / seconds between them, none when the counter went backwards
                first_needed = True
                outer.append(
                    "CASE WHEN g.t1 > g.t0 AND json_extract(l.fields, ?) >= json_extract(f.fields, ?) THEN "
                    "(json_extract(l.fields, ?) - json_extract(f.fields, ?)) * 1e9 / (g.t1 - g.t0) END"
                )
                outer_params += [json_path(field.key)] * 4
    where, where_params = selection_where(selection)
    row_at = ("(SELECT x.id FROM metrics x WHERE x.series_id = g.sid AND x.time_ns = g.{0} "
              "AND x.experiment IS g.experiment ORDER BY x.id {1} LIMIT 1)")
    bucket = aggregation.bucket_ns
    rows = ("SELECT m.series_id AS sid, m.experiment AS experiment, m.time_ns / ? AS b, m.time_ns AS t, "
            f"m.source AS source, m.round AS round{''.join(', ' + v for v in values)} "
            f"FROM metrics m WHERE {where} LIMIT -1")
    groups = ("SELECT r.sid AS sid, r.experiment AS experiment, r.b AS b, max(r.source) AS source, "
              "max(r.round) AS round, count(*) AS samples, min(r.t) AS t0, max(r.t) AS t1"
              f"{''.join(', ' + g for g in grouped)} FROM ({rows}) AS r GROUP BY r.sid, r.experiment, r.b")
    sql = (
        f"SELECT {ISO_SQL.format('g.b * ?')}, g.b * ?, g.sid, g.source, g.experiment, g.round, g.samples"
        f"{''.join(', ' + column for column in outer)} FROM ({groups}) AS g JOIN series s ON s.id = g.sid "
        f"LEFT JOIN metrics l ON l.id = {row_at.format('t1', 'DESC')} "
        + (f"LEFT JOIN metrics f ON f.id = {row_at.format('t0', 'ASC')} " if first_needed else "")
        + "ORDER BY g.b, s.name, s.tags, g.experiment"
    )
    return sql, [bucket, bucket, bucket, *outer_params, bucket, *value_params, *where_params]


def raw_events_sql(selection: Selection) -> tuple[str, list[Any]]:
    """The raw event scan, in the BulkStore event row layout, ordered by id."""
    where, params = event_where(selection)
    sql = f"SELECT {ISO_SQL.format('time_ns')}, time_ns, {EVENT_ROW_COLUMNS} FROM events WHERE {where} ORDER BY id"
    return sql, params


def count_events(conn: sqlite3.Connection, selection: Selection) -> int:
    """Return how many events the selection holds."""
    if not selection.wants_events:
        return 0
    where, params = event_where(selection)
    return int(conn.execute(f"SELECT count(*) FROM events WHERE {where}", params).fetchone()[0])


def event_tally(conn: sqlite3.Connection, selection: Selection, bucket_ns: int | None) -> list[tuple[Any, ...]]:
    """Return ``(key, type, level, source, experiment, count)`` with key the bucket start ns or the round."""
    if not selection.wants_events:
        return []
    where, params = event_where(selection)
    key = "time_ns / ? * ?" if bucket_ns else "round"
    key_params = [bucket_ns, bucket_ns] if bucket_ns else []
    sql = (f"SELECT {key} AS k, type, level, source, experiment, count(*) FROM events WHERE {where} "
           "GROUP BY k, type, level, source, experiment ORDER BY k, type, level, source, experiment")
    return conn.execute(sql, key_params + params).fetchall()


def selection_facts(conn: sqlite3.Connection, selection: Selection) -> dict[str, Any]:
    """Counts, time and round bounds, and sources of the selection (one grouped scan per table)."""
    groups: list[tuple[Any, ...]] = []
    counts = {"metrics": 0, "events": 0}
    for table, wanted, (where, params) in (
        ("metrics", selection.wants_metrics, selection_where(selection)),
        ("events", selection.wants_events, event_where(selection)),
    ):
        if wanted:
            alias = "m" if table == "metrics" else "e"
            found = conn.execute(
                f"SELECT {alias}.source, count(*), min({alias}.time_ns), max({alias}.time_ns), min({alias}.round), "
                f"max({alias}.round) FROM {table} {alias} WHERE {where} GROUP BY {alias}.source", params).fetchall()
            counts[table] = sum(row[1] for row in found)
            groups += found

    def bound(column: int, pick: Any) -> Any:
        values = [row[column] for row in groups if row[column] is not None]
        return pick(values) if values else None

    return {
        **counts, "first_ns": bound(2, min), "last_ns": bound(3, max),
        "min_round": bound(4, min), "max_round": bound(5, max), "sources": sorted({row[0] for row in groups}),
    }


def experiments(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every experiment with its first and last time and record count, the most recent last."""
    found: dict[str, dict[str, Any]] = {}
    for table in ("metrics", "events"):
        sql = (f"SELECT experiment, min(time_ns), max(time_ns), count(*) FROM {table} "
               "WHERE experiment IS NOT NULL GROUP BY experiment")
        for name, first, last, count in conn.execute(sql):
            entry = found.setdefault(name, {"experiment": name, "first_ns": first, "last_ns": last, "records": 0})
            entry["first_ns"] = min(entry["first_ns"], first)
            entry["last_ns"] = max(entry["last_ns"], last)
            entry["records"] += count
    return sorted(found.values(), key=lambda e: (e["last_ns"], e["experiment"]))


def fetch_chunks(conn: sqlite3.Connection, sql: str, params: list[Any], chunk: int) -> Iterator[list[Any]]:
    """Yield the rows of ``sql`` ``chunk`` at a time (each ``next`` runs one fetchmany)."""
    cursor = conn.execute(sql, params)
    try:
        while rows := cursor.fetchmany(chunk):
            yield rows
    finally:
        cursor.close()
