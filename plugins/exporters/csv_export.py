"""The ``csv`` exporter: one flat row per metric; events to a second file beside it (``<name>_events.csv``)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import trio
from flcollector import Exporter, Record

from .tables import Columns, check_options, event_columns, events_path, metric_columns, split, write_atomically

DEFAULTS: dict[str, Any] = {"events": True, "delimiter": ","}


class CsvExporter(Exporter):
    """Writes metrics to ``path`` and, when there are any, events to ``<stem>_events.csv``.

    Columns are described in :mod:`flcollector.plugins.exporters.tables`; a missing value is an empty cell.
    Options: ``events`` (write the events file; default true), ``delimiter`` (default ``,``).
    """

    name: ClassVar[str] = "csv"
    suffix: ClassVar[str] = ".csv"

    async def export(self, records: Sequence[Record], path: Path, options: dict[str, Any]) -> Path:
        """Write ``records`` to ``path`` (and the events file) and return ``path``."""
        opts = check_options(self.name, options, DEFAULTS)
        if len(opts["delimiter"]) != 1:
            raise ValueError(f"csv exporter: delimiter must be one character, got {opts['delimiter']!r}")
        metrics, events = split(records)
        await trio.to_thread.run_sync(write_csv, path, metric_columns(metrics), opts["delimiter"])
        if opts["events"] and events:
            await trio.to_thread.run_sync(write_csv, events_path(path), event_columns(events), opts["delimiter"])
        return path


def write_csv(path: Path, columns: Columns, delimiter: str = ",") -> None:
    """Write ``columns`` to ``path`` with a header row (blocking)."""

    def write(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, delimiter=delimiter)
            writer.writerow(columns)
            writer.writerows(zip(*columns.values(), strict=True))

    write_atomically(path, write)
