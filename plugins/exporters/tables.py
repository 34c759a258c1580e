"""Flattening records into columns: one row per metric (tags and fields as columns), one row per event.

Shared by the CSV, Parquet and flat-JSON exporters so the three agree on column names and order:

* metrics: ``time`` (ISO 8601 UTC with nanoseconds), ``time_ns``, ``name``, ``source``, ``experiment``, ``round``,
  then ``tag_<key>`` per tag key (sorted), then one column per field name (sorted). A field whose name would clash
  with one of those columns (``round``, ``tag_x``...) is written as ``field_<name>``.
* events: ``time``, ``time_ns``, ``id``, ``type``, ``level``, ``source``, ``experiment``, ``round``, ``message``,
  ``details`` (a JSON object as text).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson
from flcollector import Event, Metric, Record

METRIC_COLUMNS = ("time", "time_ns", "name", "source", "experiment", "round")
EVENT_COLUMNS = ("time", "time_ns", "id", "type", "level", "source", "experiment", "round", "message", "details")
Columns = dict[str, list[Any]]


def iso_time(time_ns: int) -> str:
    """Return ``time_ns`` as ISO 8601 UTC keeping all nine digits: ``2025-01-01T00:00:00.123456789Z``."""
    seconds, nanos = divmod(time_ns, 1_000_000_000)
    stamp = dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos:09d}Z"


def split(records: Iterable[Record]) -> tuple[list[Metric], list[Event]]:
    """Return the metrics and the events of ``records``, each in their original order."""
    metrics: list[Metric] = []
    events: list[Event] = []
    for record in records:
        (metrics if isinstance(record, Metric) else events).append(record)
    return metrics, events


def field_column(field: str) -> str:
    """Return the column name of a metric field (prefixed only when it would clash with a fixed column)."""
    if field in METRIC_COLUMNS or field.startswith(("tag_", "field_")):
        return f"field_{field}"
    return field


def metric_columns(metrics: Sequence[Metric]) -> Columns:
    """Return the metrics as columns (``None`` where a metric lacks a tag or field)."""
    tag_keys = sorted({k for m in metrics for k in m.tags})
    field_keys = sorted({k for m in metrics for k in m.fields})
    columns: Columns = {
        "time": [iso_time(m.time_ns) for m in metrics],
        "time_ns": [m.time_ns for m in metrics],
        "name": [m.name for m in metrics],
        "source": [m.source for m in metrics],
        "experiment": [m.experiment for m in metrics],
        "round": [m.round for m in metrics],
    }
    for key in tag_keys:
        columns[f"tag_{key}"] = [m.tags.get(key) for m in metrics]
    for key in field_keys:
        columns[field_column(key)] = [m.fields.get(key) for m in metrics]
    return columns


def event_columns(events: Sequence[Event]) -> Columns:
    """Return the events as columns; ``details`` is serialised to JSON text."""
    return {
        "time": [iso_time(e.time_ns) for e in events],
        "time_ns": [e.time_ns for e in events],
        "id": [e.id for e in events],
        "type": [e.type for e in events],
        "level": [e.level for e in events],
        "source": [e.source for e in events],
        "experiment": [e.experiment for e in events],
        "round": [e.round for e in events],
        "message": [e.message for e in events],
        "details": [orjson.dumps(e.details, option=orjson.OPT_NON_STR_KEYS).decode() for e in events],
    }


def rows(columns: Columns) -> list[dict[str, Any]]:
    """Return the columns as a list of row dicts (for JSON)."""
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def events_path(path: Path) -> Path:
    """Return where the events go when metrics go to ``path``: ``run.csv`` gives ``run_events.csv``."""
    return path.with_name(f"{path.stem}_events{path.suffix}")


def check_options(exporter: str, options: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """Return ``defaults`` updated with ``options``; an unknown key or a wrong type raises ``ValueError``."""
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise ValueError(f"{exporter} exporter: unknown option(s) {', '.join(unknown)}; known: {', '.join(defaults)}")
    for key, value in options.items():
        if type(value) is not type(defaults[key]):
            raise ValueError(f"{exporter} exporter: option {key} expects {type(defaults[key]).__name__}, got {value!r}")
    return {**defaults, **options}


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` then move ``tmp`` onto ``path``, so nobody ever reads a half-written export.

    Blocking: call it through ``trio.to_thread.run_sync``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
