"""A page of records as JSON built by SQLite, each row already in the shape a face serves.

A list route used to parse every stored ``fields``/``tags``/``details`` text into Python objects, build a record,
then a dict per row, and encode it all again: 3-10 µs per row in Python, where SQLite's JSON functions copy the
stored text into the row's JSON in C. The shapes are those of the faces, which also build them in Python for any
other store (the two must agree to the byte; ``tests/plugins/sqlite/test_sqlite_json_rows.py`` checks them):

* ``record``: the spec API's record (``flcollector.plugins.server.jsonio.record_json``);
* ``dashboard``: the FLOPY-NET dashboard's row (``flcollector.plugins.dashboard.contract.metric_item`` and
  ``event_item``).

Stored JSON is orjson's, and SQLite writes numbers and strings back as they were stored and escapes strings as
orjson does, so ``json(fields)`` is the stored text. FLOPY-NET's component name of a source is not SQL: it is
``flcollector.component_name``, registered on each reader connection as a SQL function.
"""

from __future__ import annotations

import functools
import sqlite3
from typing import Any, Literal

from flcollector import SOURCE_COMPONENTS, EventQuery, MetricQuery, component_name

from .queries import event_select, metric_select

Shape = Literal["record", "dashboard"]
SHAPES: tuple[Shape, ...] = ("record", "dashboard")


def iso_sql(column: str, zone: str) -> str:
    """SQL of ``format_time(column, zone)``: ISO-8601 UTC with microseconds (integer arithmetic, exact)."""
    return (
        f"strftime('%Y-%m-%dT%H:%M:%S', {column} / 1000000000, 'unixepoch') "
        f"|| printf('.%06d', ({column} / 1000) % 1000000) || '{zone}'"
    )


#: Each shape's SQL over the page's columns (``time_ns, name, tags, fields, source, experiment, round`` for metrics,
#: those of ``queries._EVENT_COLUMNS`` for events) and two more the page's SELECT adds once per row (:func:`_extra`):
#: ``iso``, the time as the face writes it, and ``component``, FLOPY-NET's name of the source.
_RECORD_METRIC = (
    "json_object('name', name, 'fields', json(fields), 'time_ns', time_ns, 'tags', json(tags), 'source', source, "
    "'experiment', experiment, 'round', round, 'kind', 'metric', 'timestamp', iso)"
)
_RECORD_EVENT = (
    "json_object('type', type, 'message', message, 'time_ns', time_ns, 'source', source, 'level', level, "
    "'details', json(details), 'experiment', experiment, 'round', round, 'id', id, 'origin_id', origin_id, "
    "'kind', 'event', 'timestamp', iso)"
)
#: The dashboard's ``data``: the fields, then each tag no field is called, then ``timestamp`` and
#: ``source_component`` unless a field or tag has that name. The inner ``json_patch`` gives the tags overwritten by
#: the fields (a field's null, a NaN when stored, only removes that tag); the outer one adds the rest to the fields,
#: in order. ``json_insert`` adds a key only where there is none.
_DASHBOARD_DATA = (
    "json_insert(CASE tags WHEN '{}' THEN fields ELSE json_patch(fields, json_patch(tags, fields)) END, "
    "'$.timestamp', iso, '$.source_component', component)"
)
_DASHBOARD_METRIC = (
    f"json_object('timestamp', iso, 'metric_type', name, 'data', {_DASHBOARD_DATA}, "
    "'source_component', component, 'tags', json(tags), 'experiment', experiment, 'round', round)"
)
_DASHBOARD_EVENT = (
    "json_object('id', id, 'event_id', coalesce(origin_id, CAST(id AS TEXT)), 'timestamp', iso, "
    "'source_component', component, 'component', component, 'event_type', type, 'type', type, 'level', level, "
    "'event_level', level, 'message', message, 'details', json(details), 'experiment', experiment, "
    "'round', round)"
)
_ITEMS: dict[tuple[str, Shape], str] = {
    ("metric", "record"): _RECORD_METRIC,
    ("event", "record"): _RECORD_EVENT,
    ("metric", "dashboard"): _DASHBOARD_METRIC,
    ("event", "dashboard"): _DASHBOARD_EVENT,
}
#: The zone each face writes its times with.
_ZONES: dict[Shape, str] = {"record": "Z", "dashboard": "+00:00"}
#: FLOPY-NET's component names of the sources the table lists, in SQL; any other name asks the Python function.
_COMPONENT = (
    "CASE {source} "
    + " ".join(f"WHEN '{source}' THEN '{component}'" for source, component in SOURCE_COMPONENTS.items())
    + " ELSE flc_component({source}) END"
)


def _extra(shape: Shape, table: str) -> str:
    """The columns the page's SELECT adds for ``shape`` (``table`` is the alias of the records' table, if any)."""
    columns = f", {iso_sql(table + 'time_ns', _ZONES[shape])} AS iso"
    if shape == "dashboard":
        columns += f", {_COMPONENT.format(source=table + 'source')} AS component"
    return columns


def register_functions(conn: sqlite3.Connection) -> None:
    """Add the SQL function the shapes use to a reader connection."""
    conn.create_function("flc_component", 1, functools.lru_cache(maxsize=256)(component_name), deterministic=True)


def metrics_select(query: MetricQuery, shape: Shape) -> tuple[str, list[Any]]:
    """The SELECT of the metrics of ``query`` as rows of ``shape``: ``(row JSON, NULL)`` per metric."""
    sql, params = metric_select(query, _extra(shape, "m."))
    # The page's SELECT, with its ORDER BY and LIMIT, is the inner query; the outer one keeps its order.
    return f"SELECT {_ITEMS['metric', shape]}, NULL FROM ({sql})", params


def events_select(query: EventQuery, shape: Shape) -> tuple[str, list[Any]]:
    """The SELECT of the events of ``query`` as rows of ``shape``: ``(row JSON, id)`` per event."""
    sql, params = event_select(query, _extra(shape, ""))
    return f"SELECT {_ITEMS['event', shape]}, id FROM ({sql})", params


def _page(conn: sqlite3.Connection, select: tuple[str, list[Any]]) -> tuple[str, int, int | None]:
    rows = conn.execute(*select).fetchall()
    ids = [row[1] for row in rows if row[1] is not None]
    return "[" + ",".join(row[0] for row in rows) + "]", len(rows), max(ids, default=None)


def metrics_json(conn: sqlite3.Connection, query: MetricQuery, shape: Shape) -> tuple[str, int, int | None]:
    """The metrics of ``query`` in ``shape``: ``(JSON array, rows, None)``."""
    return _page(conn, metrics_select(query, shape))


def events_json(conn: sqlite3.Connection, query: EventQuery, shape: Shape) -> tuple[str, int, int | None]:
    """The events of ``query`` in ``shape``: ``(JSON array, rows, highest id or None)``."""
    return _page(conn, events_select(query, shape))
