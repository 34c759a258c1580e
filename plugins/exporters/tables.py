"""Tables for the CSV, Parquet and JSON exporters: records flattened into columns, and streamed tables written.

The column names and order are the core's (:mod:`flcollector.export_tables`), so a file written from a list of
records and one streamed from the store agree: metrics ``time``, ``time_ns``, ``name``, ``source``,
``experiment``, ``round``, ``tag_<key>``..., then the fields; events ``time`` ... ``details`` (JSON text).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from contextlib import aclosing
from pathlib import Path
from typing import Any, Protocol

import orjson
import trio
from flcollector import Event, ExportTable, Metric, Record, field_column, iso_time

Columns = dict[str, list[Any]]
Row = tuple[Any, ...]


def split(records: Iterable[Record]) -> tuple[list[Metric], list[Event]]:
    """Return the metrics and the events of ``records``, each in their original order."""
    metrics: list[Metric] = []
    events: list[Event] = []
    for record in records:
        if isinstance(record, Metric):
            metrics.append(record)
        else:
            events.append(record)
    return metrics, events


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
        "origin_id": [e.origin_id for e in events],
    }


def rows(columns: Columns) -> list[dict[str, Any]]:
    """Return the columns as a list of row dicts (for JSON)."""
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


async def write_split(records: Iterable[Record], path: Path, events: bool,
                      write: Callable[[Path, Columns], None]) -> Path:
    """Write the metrics of ``records`` to ``path`` and, when ``events`` and there are any, the events beside it
    (:func:`events_path`), each with ``write`` in a worker thread; return ``path``."""
    metrics, found = split(records)
    await trio.to_thread.run_sync(write, path, metric_columns(metrics))
    if events and found:
        await trio.to_thread.run_sync(write, events_path(path), event_columns(found))
    return path


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


class TableWriter(Protocol):
    """Writes one table's rows chunk by chunk into an open file (blocking calls, run in a worker thread)."""

    def write(self, rows: list[Row]) -> None:
        """Append ``rows``."""

    def close(self) -> None:
        """Finish the file (footer, flush) and close it."""

    def abort(self) -> None:
        """Close the file after a failure; it is deleted."""


async def stream_table(table: ExportTable, path: Path, open_writer: Callable[[Path], TableWriter]) -> Path:
    """Write ``table`` to ``path`` chunk by chunk through ``open_writer(tmp)``; ``path`` appears only when complete.

    The next chunk is read while the last one is written (both in worker threads: SQLite leaves the GIL while it
    steps), so the Trio thread stays free; memory holds three chunks at most.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    writer = await trio.to_thread.run_sync(open_writer, tmp)
    try:
        try:
            async with trio.open_nursery() as nursery:
                send, receive = trio.open_memory_channel[list[Row]](1)
                nursery.start_soon(_read_ahead, table, send)
                async with receive:
                    async for rows in receive:
                        await trio.to_thread.run_sync(writer.write, rows)
        except BaseExceptionGroup as group:  # one failure, not a group of one: callers name its cause
            raise _single(group) from None
        await trio.to_thread.run_sync(writer.close)
        os.replace(tmp, path)
    except BaseException:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(writer.abort)
        tmp.unlink(missing_ok=True)
        raise
    return path


async def _read_ahead(table: ExportTable, send: trio.MemorySendChannel[list[Row]]) -> None:
    async with send, aclosing(table.chunks()) as chunks:
        async for rows in chunks:
            await send.send(rows)


def _single(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The one exception inside ``group`` (nested groups flattened), or the group itself when there are more."""
    found: list[BaseException] = []

    def walk(error: BaseException) -> None:
        if isinstance(error, BaseExceptionGroup):
            for inner in error.exceptions:
                walk(inner)
        else:
            found.append(error)

    walk(group)
    return found[0] if len(found) == 1 else group


def source_tables(source: Any, path: Path, with_events: bool) -> list[tuple[ExportTable, Path]]:
    """Where each table of ``source`` goes: metrics to ``path`` and events beside it (``<stem>_events``), or
    events to ``path`` when the selection has no metric."""
    metrics = source.metrics()
    events = source.events_table() if with_events else None
    placed = [(metrics, path)] if metrics is not None else []
    if events is not None:
        placed.append((events, events_path(path) if placed else path))
    return placed
