"""A page of records as rows in the shape a face serves, built straight from the stored columns.

A list route used to parse every stored ``fields``/``tags``/``details`` text into Python objects, build a record,
then a dict per row, and encode it all again. The stored text is orjson's own encoding of that value, so a row here
carries it as it is (an ``orjson.Fragment``, copied into the answer, never parsed): what is left per row is one
small dict and the timestamp. (Building the rows' JSON in SQL with ``json_object`` was tried first: SQLite's
``strftime`` and JSON functions cost more per row than this.) The shapes are those of the faces, which build them
from records for any other store; the two agree to the byte (``tests/plugins/sqlite/test_sqlite_json_rows.py``):

* ``record``: the spec API's record (``flcollector.plugins.server.jsonio.record_json``);
* ``dashboard``: the FLOPY-NET dashboard's row (``flcollector.plugins.dashboard.contract.metric_item`` and
  ``event_item``); a metric's ``data`` is its stored fields with its tags and two more keys written after them.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from typing import Any, Literal

import orjson
from flcollector import EventQuery, MetricQuery, component_name
from flcollector.plugins.server.jsonio import format_time

from .queries import event_select, metric_select

Shape = Literal["record", "dashboard"]
SHAPES: tuple[Shape, ...] = ("record", "dashboard")
#: The zone the dashboard writes its times with (the spec API's is ``Z``).
DASHBOARD_ZONE = "+00:00"
Row = tuple[Any, ...]

_stored = orjson.Fragment  # stored JSON text, copied into the answer as it is
_component = functools.lru_cache(maxsize=256)(component_name)


def _record_metric(row: Row) -> dict[str, Any]:
    time_ns, name, tags, fields, source, experiment, round_ = row
    return {
        "name": name,
        "fields": _stored(fields),
        "time_ns": time_ns,
        "tags": _stored(tags),
        "source": source,
        "experiment": experiment,
        "round": round_,
        "kind": "metric",
        "timestamp": format_time(time_ns),
    }


@functools.lru_cache(maxsize=1024)
def _key_text(key: str) -> str:
    """How a key starts its pair in orjson's text: ``"key":``."""
    return orjson.dumps(key).decode() + ":"


def _dashboard_data(fields: str, tags: str, iso: str, component: str) -> Any:
    """Upstream's ``data`` (``metric_data``): the fields, then each tag no field is called, then ``timestamp`` and
    ``source_component`` unless a field or tag has that name. When no field has one of the added names, it is the
    stored fields' text with the added pairs written after it; else (a name seen in the text) it is built parsed."""
    added = orjson.loads(tags) if tags != "{}" else {}
    added.setdefault("timestamp", iso)
    added.setdefault("source_component", component)
    if any(_key_text(key) in fields for key in added):
        data = orjson.loads(fields)
        for key, value in added.items():
            data.setdefault(key, value)
        return data
    tail = orjson.dumps(added, option=orjson.OPT_NON_STR_KEYS).decode()[1:]  # '"k":v,...}'
    return _stored(fields[:-1] + ("," if fields != "{}" else "") + tail)


def _dashboard_metric(row: Row) -> dict[str, Any]:
    time_ns, name, tags, fields, source, experiment, round_ = row
    iso = format_time(time_ns, DASHBOARD_ZONE)
    component = _component(source)
    return {
        "timestamp": iso,
        "metric_type": name,
        "data": _dashboard_data(fields, tags, iso, component),
        "source_component": component,
        "tags": _stored(tags),
        "experiment": experiment,
        "round": round_,
    }


def _record_event(row: Row) -> dict[str, Any]:
    id_, time_ns, type_, source, level, message, details, experiment, round_, origin_id = row
    return {
        "type": type_,
        "message": message,
        "time_ns": time_ns,
        "source": source,
        "level": level,
        "details": _stored(details),
        "experiment": experiment,
        "round": round_,
        "id": id_,
        "origin_id": origin_id,
        "kind": "event",
        "timestamp": format_time(time_ns),
    }


def _dashboard_event(row: Row) -> dict[str, Any]:
    id_, time_ns, type_, source, level, message, details, experiment, round_, origin_id = row
    component = _component(source)
    return {
        "id": id_,
        "event_id": origin_id if origin_id is not None else str(id_),
        "timestamp": format_time(time_ns, DASHBOARD_ZONE),
        "source_component": component,
        "component": component,
        "event_type": type_,
        "type": type_,
        "level": level,
        "event_level": level,
        "message": message,
        "details": _stored(details),
        "experiment": experiment,
        "round": round_,
    }


_METRIC_ROWS: dict[str, Callable[[Row], dict[str, Any]]] = {"record": _record_metric, "dashboard": _dashboard_metric}
_EVENT_ROWS: dict[str, Callable[[Row], dict[str, Any]]] = {"record": _record_event, "dashboard": _dashboard_event}


def metrics_json(conn: sqlite3.Connection, query: MetricQuery, shape: Shape) -> tuple[list[dict[str, Any]], None]:
    """The metrics of ``query`` as rows of ``shape``, ready to encode: ``(rows, None)``."""
    build = _METRIC_ROWS[shape]
    return [build(row) for row in conn.execute(*metric_select(query))], None


def events_json(conn: sqlite3.Connection, query: EventQuery, shape: Shape) -> tuple[list[dict[str, Any]], int | None]:
    """The events of ``query`` as rows of ``shape``, ready to encode, and their highest id (None for none)."""
    build = _EVENT_ROWS[shape]
    rows = conn.execute(*event_select(query)).fetchall()
    return [build(row) for row in rows], max((row[0] for row in rows), default=None)
