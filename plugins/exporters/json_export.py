"""The ``json`` exporter: records as a JSON array, or JSON lines; nested (round-trippable) or flat rows."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import orjson
import trio
from flcollector import Exporter, Record, record_to_dict

from .tables import check_options, event_columns, metric_columns, rows, split, write_atomically

DEFAULTS: dict[str, Any] = {"lines": False, "flat": False, "indent": False}


class JsonExporter(Exporter):
    """Writes every record to one JSON file.

    Options: ``lines`` (one JSON object per line instead of an array), ``flat`` (rows like the CSV export, with a
    ``kind`` key, instead of the nested record shape that ``flcollector.record_from_dict`` reads back), ``indent``.
    """

    name: ClassVar[str] = "json"
    suffix: ClassVar[str] = ".json"

    async def export(self, records: Sequence[Record], path: Path, options: dict[str, Any]) -> Path:
        """Write ``records`` to ``path`` and return it."""
        opts = check_options(self.name, options, DEFAULTS)
        items = _flat(records) if opts["flat"] else [record_to_dict(r) for r in records]
        await trio.to_thread.run_sync(_write, path, items, opts)
        return path


def _flat(records: Sequence[Record]) -> list[dict[str, Any]]:
    metrics, events = split(records)
    out = [{"kind": "metric", **row} for row in rows(metric_columns(metrics))]
    out += [{"kind": "event", **row} for row in rows(event_columns(events))]
    return out


def _write(path: Path, items: list[dict[str, Any]], opts: dict[str, Any]) -> None:
    option = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
    if opts["lines"]:
        data = b"".join(orjson.dumps(item, option=option) + b"\n" for item in items)
    else:
        data = orjson.dumps(items, option=option | (orjson.OPT_INDENT_2 if opts["indent"] else 0))
    write_atomically(path, lambda tmp: tmp.write_bytes(data))
