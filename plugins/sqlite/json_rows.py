"""A page of records as rows in the shape a face serves, written as JSON text straight from the stored columns.

A list route used to parse every stored ``fields``/``tags``/``details`` text into Python objects, build a record,
then a dict per row, and encode it all again. The stored text is orjson's own encoding of that value, so a row here
is JSON text written around it (an ``orjson.Fragment``, copied into the answer as it is): no stored JSON is parsed,
no dict is built per row. What depends only on a row's series, source, type, level and experiment (their JSON text,
the component name, the keys between them) is written once per combination and kept (the ``_*_parts`` functions);
per row there is the time's text, the row's numbers and, for an event, its message. (Building the rows' JSON in SQL
with ``json_object`` was tried first: SQLite's ``strftime`` and JSON functions cost more per row than this.) The
shapes are those of the faces, which build them from records for any other store; the two agree to the byte
(``tests/plugins/sqlite/test_sqlite_json_rows.py``):

* ``record``: the spec API's record (``flcollector.plugins.server.jsonio.record_json``);
* ``dashboard``: the FLOPY-NET dashboard's row (``flcollector.plugins.dashboard.contract.metric_item`` and
  ``event_item``); a metric's ``data`` is its stored fields with its tags and two more keys written after them.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Callable
from typing import Any, Literal

import orjson
from flcollector import EventQuery, MetricQuery, component_name
from flcollector.plugins.server.jsonio import format_times

from .queries import event_select, metric_select

Shape = Literal["record", "dashboard"]
SHAPES: tuple[Shape, ...] = ("record", "dashboard")
#: The zone the dashboard writes its times with (the spec API's is ``Z``).
DASHBOARD_ZONE = "+00:00"
Row = tuple[Any, ...]

_text = orjson.Fragment  # JSON text, copied into the answer as it is
#: Distinct (series, source, experiment) or (type, source, level, experiment) combinations whose text is kept.
_PARTS_KEPT = 4096


def _json(value: str | None) -> str:
    """The JSON text of a string (or ``null``), as orjson writes it."""
    return orjson.dumps(value).decode()


def _times(rows: list[Row], column: int, zone: str) -> list[str]:
    """The ISO-8601 text of each row's time (its ``column``), ending in ``zone``."""
    return format_times([row[column] for row in rows], zone)


# -- metrics ----------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=_PARTS_KEPT)
def _record_metric_parts(name: str, tags: str, source: str, experiment: str | None) -> tuple[str, str]:
    """The text of a spec API metric around its ``fields``, ``time_ns`` and ``round``."""
    return (
        f'{{"name":{_json(name)},"fields":',
        f',"tags":{tags},"source":{_json(source)},"experiment":{_json(experiment)},"round":',
    )


def _record_metrics(rows: list[Row]) -> list[_text]:
    parts_of, text = _record_metric_parts, _text  # locals: the loop runs once per row
    page = []
    for (time_ns, name, tags, fields, source, experiment, round_), iso in zip(rows, _times(rows, 0, "Z"), strict=True):
        head, middle = parts_of(name, tags, source, experiment)
        number = "null" if round_ is None else round_
        page.append(text(f'{head}{fields},"time_ns":{time_ns}{middle}{number},"kind":"metric","timestamp":"{iso}"}}'))
    return page


@functools.lru_cache(maxsize=1024)
def _key_text(key: str) -> str:
    """How a key starts its pair in orjson's text: ``"key":``."""
    return orjson.dumps(key).decode() + ":"


class _DashboardMetricParts:
    """The text of a dashboard metric row around its time, fields and round, for one series, source, experiment.

    Upstream's ``data`` (``metric_data``) is the fields, then each tag no field is called, then ``timestamp`` and
    ``source_component`` unless a field or tag has that name. The added pairs (the tags' own text, then the two
    keys the tags lack) are written after the stored fields' text. That is only right when no field has an added
    key: a row whose fields' text holds an added key's text (``"key":``, as orjson writes every key; a string
    value that holds it too only costs the long way) is merged parsed instead (:meth:`merged`).
    """

    __slots__ = ("after_time", "before_time", "component", "head", "may_collide", "tags", "tail", "time_in_data")

    def __init__(self, name: str, tags: str, source: str, experiment: str | None) -> None:
        self.component = component_name(source)
        component = _json(self.component)
        self.tags: dict[str, Any] = orjson.loads(tags)
        added = (*self.tags, "timestamp", "source_component")
        self.may_collide = re.compile("|".join(re.escape(_key_text(key)) for key in added)).search
        pairs = [tags[1:-1]] if self.tags else []
        self.time_in_data = "timestamp" not in self.tags
        if self.time_in_data:
            pairs.append('"timestamp":"')
        before, after = ",".join(pairs), ""
        if "source_component" not in self.tags:
            after = f',"source_component":{component}' if pairs else f'"source_component":{component}'
        if self.time_in_data:  # the time's text goes between: '..."timestamp":"' + time + '"...'
            after = '"' + after
        self.before_time, self.after_time = before, after + "}"
        self.head = f'","metric_type":{_json(name)},"data":'
        self.tail = f',"source_component":{component},"tags":{tags},"experiment":{_json(experiment)},"round":'

    def merged(self, fields: str, iso: str) -> str:
        """``data`` built as upstream builds it: the fields, then each added key no field has."""
        data = orjson.loads(fields)
        for key, value in (*self.tags.items(), ("timestamp", iso), ("source_component", self.component)):
            data.setdefault(key, value)
        return orjson.dumps(data).decode()


# Fewer kept than the others: each holds a compiled pattern (about a kilobyte).
_dashboard_metric_parts = functools.lru_cache(maxsize=1024)(_DashboardMetricParts)


def _dashboard_metrics(rows: list[Row]) -> list[_text]:
    parts_of, text = _dashboard_metric_parts, _text
    page = []
    for (_, name, tags, fields, source, experiment, round_), iso in zip(
        rows, _times(rows, 0, DASHBOARD_ZONE), strict=True
    ):
        parts = parts_of(name, tags, source, experiment)
        number = "null" if round_ is None else round_
        if (
            parts.may_collide(fields) is None
        ):  # data: the fields' text less its "}", a comma after a field, the added pairs
            comma, time_in_data = "," if len(fields) > 2 else "", iso if parts.time_in_data else ""
            page.append(
                text(
                    f'{{"timestamp":"{iso}{parts.head}{fields[:-1]}{comma}{parts.before_time}{time_in_data}'
                    f"{parts.after_time}{parts.tail}{number}}}"
                )
            )
        else:
            page.append(text(f'{{"timestamp":"{iso}{parts.head}{parts.merged(fields, iso)}{parts.tail}{number}}}'))
    return page


# -- events -----------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=_PARTS_KEPT)
def _record_event_parts(type_: str, source: str, level: str, experiment: str | None) -> tuple[str, str, str]:
    """The text of a spec API event around its message, time, details, round and ids."""
    return (
        f'{{"type":{_json(type_)},"message":',
        f',"source":{_json(source)},"level":{_json(level)},"details":',
        f',"experiment":{_json(experiment)},"round":',
    )


def _record_events(rows: list[Row]) -> list[_text]:
    parts_of, dumps, text = _record_event_parts, orjson.dumps, _text
    page = []
    for row, iso in zip(rows, _times(rows, 1, "Z"), strict=True):
        id_, time_ns, type_, source, level, message, details, experiment, round_, origin_id = row
        head, middle, tail = parts_of(type_, source, level, experiment)
        number = "null" if round_ is None else round_
        own_id = "null" if origin_id is None else dumps(origin_id).decode()
        page.append(
            text(
                f'{head}{dumps(message).decode()},"time_ns":{time_ns}{middle}{details}{tail}{number},"id":{id_},'
                f'"origin_id":{own_id},"kind":"event","timestamp":"{iso}"}}'
            )
        )
    return page


@functools.lru_cache(maxsize=_PARTS_KEPT)
def _dashboard_event_parts(type_: str, source: str, level: str, experiment: str | None) -> tuple[str, str]:
    """The text of a dashboard event row around its message, details and round (after its ids and time)."""
    component, type_text, level_text = _json(component_name(source)), _json(type_), _json(level)
    return (
        f'","source_component":{component},"component":{component},"event_type":{type_text},"type":{type_text},'
        f'"level":{level_text},"event_level":{level_text},"message":',
        f',"experiment":{_json(experiment)},"round":',
    )


def _dashboard_events(rows: list[Row]) -> list[_text]:
    parts_of, dumps, text = _dashboard_event_parts, orjson.dumps, _text
    page = []
    for row, iso in zip(rows, _times(rows, 1, DASHBOARD_ZONE), strict=True):
        id_, _, type_, source, level, message, details, experiment, round_, origin_id = row
        middle, tail = parts_of(type_, source, level, experiment)
        number = "null" if round_ is None else round_
        own_id = f'"{id_}"' if origin_id is None else dumps(origin_id).decode()  # the source's id, else ours as text
        page.append(
            text(
                f'{{"id":{id_},"event_id":{own_id},"timestamp":"{iso}{middle}'
                f'{dumps(message).decode()},"details":{details}{tail}{number}}}'
            )
        )
    return page


_METRIC_PAGES: dict[str, Callable[[list[Row]], list[_text]]] = {
    "record": _record_metrics,
    "dashboard": _dashboard_metrics,
}
_EVENT_PAGES: dict[str, Callable[[list[Row]], list[_text]]] = {
    "record": _record_events,
    "dashboard": _dashboard_events,
}


def metrics_json(conn: sqlite3.Connection, query: MetricQuery, shape: Shape) -> tuple[list[_text], None]:
    """The metrics of ``query`` as rows of ``shape``, ready to encode: ``(rows, None)``."""
    return _METRIC_PAGES[shape](conn.execute(*metric_select(query)).fetchall()), None


def events_json(conn: sqlite3.Connection, query: EventQuery, shape: Shape) -> tuple[list[_text], int | None]:
    """The events of ``query`` as rows of ``shape``, ready to encode, and their highest id (None for none)."""
    rows = conn.execute(*event_select(query)).fetchall()
    return _EVENT_PAGES[shape](rows), max((row[0] for row in rows), default=None)
