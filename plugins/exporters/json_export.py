"""The ``json`` and ``jsonl`` exporters: records as a JSON array or JSON lines; nested (round-trippable) or flat.

Nested items have the shape ``flcollector.record_from_dict`` reads back (``kind``, ``name``, ``fields``, ``tags``...);
flat items are the CSV export's rows as objects, with a ``kind`` key. An aggregated export's metric items carry the
statistics as fields (``samples``, ``rx_bps_mean``...) and its event items are counts (``kind`` ``event_count``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import aclosing
from functools import partial
from pathlib import Path
from typing import IO, Any, ClassVar

import orjson
import trio
from flcollector import Exporter, ExportSource, ExportTable, Record, record_to_dict

from .tables import Row, check_options, event_columns, metric_columns, rows, split, stream_table, write_atomically

DEFAULTS: dict[str, Any] = {"lines": False, "flat": False, "indent": False}
_OPTION = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
Item = dict[str, Any]


class JsonExporter(Exporter):
    """Writes every record to one JSON file (metrics first, then events).

    Options: ``lines`` (one JSON object per line instead of an array), ``flat`` (rows like the CSV export, with a
    ``kind`` key, instead of the nested record shape that ``flcollector.record_from_dict`` reads back), ``indent``.
    """

    name: ClassVar[str] = "json"
    suffix: ClassVar[str] = ".json"
    defaults: ClassVar[dict[str, Any]] = DEFAULTS

    async def export(self, records: Sequence[Record], path: Path, options: dict[str, Any]) -> Path:
        """Write ``records`` to ``path`` and return it."""
        opts = check_options(self.name, options, self.defaults)
        items = _flat(records) if opts["flat"] else [record_to_dict(r) for r in records]
        await trio.to_thread.run_sync(_write, path, items, opts)
        return path

    async def export_source(self, source: ExportSource, path: Path, options: dict[str, Any]) -> list[Path]:
        """Stream the source's metrics, then its events, into the one file ``path``."""
        opts = check_options(self.name, options, self.defaults)
        tables = [t for t in (source.metrics(), source.events_table()) if t is not None]
        shaped = [(t, (flat_item if opts["flat"] else nested_item(t, aggregated=source.aggregation is not None)))
                  for t in tables]
        combined = ExportTable("metrics", (), (), None, partial(_items, shaped))
        return [await stream_table(combined, path, partial(JsonItems, lines=opts["lines"], indent=opts["indent"]))]


class JsonlExporter(JsonExporter):
    """The ``json`` exporter writing JSON lines (one record per line) by default: ``format=jsonl``."""

    name: ClassVar[str] = "jsonl"
    suffix: ClassVar[str] = ".jsonl"
    defaults: ClassVar[dict[str, Any]] = {**DEFAULTS, "lines": True}


async def _items(shaped: list[tuple[ExportTable, Callable[[ExportTable, Row], Item]]]) -> Any:
    """Yield chunks of JSON-ready items, table after table."""
    for table, shape in shaped:
        async with aclosing(table.chunks()) as chunks:
            async for chunk in chunks:
                yield [(shape(table, row),) for row in chunk]


def flat_item(table: ExportTable, row: Row) -> Item:
    """The row as an object keyed by column, with ``kind``."""
    return {"kind": "metric" if table.name == "metrics" else "event", **dict(zip(table.columns, row, strict=True))}


def nested_item(table: ExportTable, aggregated: bool) -> Callable[[ExportTable, Row], Item]:
    """Return the function shaping a row as a record dict (what ``record_from_dict`` reads; empty values left
    out of ``fields`` and ``tags``)."""
    if table.name == "metrics":

        def metric(table: ExportTable, row: Row) -> Item:
            return {
                "name": row[2], "fields": {k: row[i] for i, k in table.fields if row[i] is not None},
                "time_ns": row[1], "tags": {k: row[i] for i, k in table.tags if row[i] is not None},
                "source": row[3], "experiment": row[4], "round": row[5], "kind": "metric",
            }

        return metric
    if aggregated:
        return lambda table, row: {**flat_item(table, row), "kind": "event_count"}

    def event(table: ExportTable, row: Row) -> Item:
        _, time_ns, id_, type_, level, source, experiment, round_, message, details, origin_id = row
        return {"type": type_, "message": message, "time_ns": time_ns, "source": source, "level": level,
                "details": orjson.loads(details), "experiment": experiment, "round": round_, "id": id_,
                "origin_id": origin_id, "kind": "event"}

    return event


class JsonItems:
    """A JSON array (or JSON lines) written chunk by chunk; each chunk row holds one item."""

    def __init__(self, path: Path, lines: bool, indent: bool) -> None:
        self.file: IO[bytes] = path.open("wb")
        self.lines = lines
        self.option = _OPTION | (orjson.OPT_INDENT_2 if indent else 0)
        self.first = True
        if not lines:
            self.file.write(b"[")

    def write(self, rows: list[Row]) -> None:
        """Append the items of ``rows``."""
        dumps, option = orjson.dumps, self.option
        if self.lines:
            self.file.write(b"".join(dumps(item, option=option) + b"\n" for (item,) in rows))
            return
        body = b",\n".join(dumps(item, option=option) for (item,) in rows)
        if body:
            self.file.write((b"\n" if self.first else b",\n") + body)
            self.first = False

    def close(self) -> None:
        """End the array and close the file."""
        if not self.lines:
            self.file.write(b"\n]\n")
        self.file.close()

    def abort(self) -> None:
        """Close the file (it is deleted by the caller)."""
        self.file.close()


def _flat(records: Sequence[Record]) -> list[dict[str, Any]]:
    metrics, events = split(records)
    out = [{"kind": "metric", **row} for row in rows(metric_columns(metrics))]
    out += [{"kind": "event", **row} for row in rows(event_columns(events))]
    return out


def _write(path: Path, items: list[dict[str, Any]], opts: dict[str, Any]) -> None:
    if opts["lines"]:
        data = b"".join(orjson.dumps(item, option=_OPTION) + b"\n" for item in items)
    else:
        data = orjson.dumps(items, option=_OPTION | (orjson.OPT_INDENT_2 if opts["indent"] else 0))
    write_atomically(path, lambda tmp: tmp.write_bytes(data))
