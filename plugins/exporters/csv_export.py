"""The ``csv`` exporter: one flat row per metric; events to a second file beside it (``<name>_events.csv``)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import IO, Any, ClassVar

from flcollector import Exporter, ExportSource, Record

from .tables import (
    Columns,
    Row,
    check_options,
    source_tables,
    stream_table,
    write_atomically,
    write_split,
)

DEFAULTS: dict[str, Any] = {"events": True, "delimiter": ","}


def _options(options: dict[str, Any]) -> dict[str, Any]:
    opts = check_options(CsvExporter.name, options, DEFAULTS)
    if len(opts["delimiter"]) != 1:
        raise ValueError(f"csv exporter: delimiter must be one character, got {opts['delimiter']!r}")
    return opts


class CsvExporter(Exporter):
    """Writes metrics to ``path`` and, when there are any, events to ``<stem>_events.csv``.

    Columns are those of :mod:`flcollector.export_tables`; a missing value is an empty cell. Options: ``events``
    (write the events file; default true), ``delimiter`` (default ``,``).
    """

    name: ClassVar[str] = "csv"
    suffix: ClassVar[str] = ".csv"

    async def export(self, records: Sequence[Record], path: Path, options: dict[str, Any]) -> Path:
        """Write ``records`` to ``path`` (and the events file) and return ``path``."""
        opts = _options(options)
        return await write_split(records, path, opts["events"], partial(write_csv, delimiter=opts["delimiter"]))

    async def export_source(self, source: ExportSource, path: Path, options: dict[str, Any]) -> list[Path]:
        """Stream the source's tables to ``path`` (events beside it, or in it when there is no metric)."""
        opts = _options(options)
        written = []
        for table, target in source_tables(source, path, opts["events"]):
            written.append(await stream_table(table, target, partial(CsvRows, header=table.columns,
                                                                      delimiter=opts["delimiter"])))
        return written


class CsvRows:
    """A CSV file written chunk by chunk (see :func:`~flcollector.plugins.exporters.tables.stream_table`)."""

    def __init__(self, path: Path, header: Sequence[str], delimiter: str) -> None:
        self.file: IO[str] = path.open("w", newline="", encoding="utf-8")
        self.writer = csv.writer(self.file, delimiter=delimiter)
        self.writer.writerow(header)

    def write(self, rows: list[Row]) -> None:
        """Append ``rows``."""
        self.writer.writerows(rows)

    def close(self) -> None:
        """Flush and close the file."""
        self.file.close()

    def abort(self) -> None:
        """Close the file (it is deleted by the caller)."""
        self.file.close()


def write_csv(path: Path, columns: Columns, delimiter: str = ",") -> None:
    """Write ``columns`` to ``path`` with a header row (blocking)."""

    def write(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, delimiter=delimiter)
            writer.writerow(columns)
            writer.writerows(zip(*columns.values(), strict=True))

    write_atomically(path, write)
