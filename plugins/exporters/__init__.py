"""The ``exporters`` plugin: query results as files (``json``, ``jsonl``, ``csv``, ``parquet``, ``notebook``)."""

from __future__ import annotations

from flcollector import hookimpl

from .csv_export import CsvExporter
from .json_export import JsonExporter, JsonlExporter
from .notebook_export import NotebookExporter
from .parquet_export import ParquetExporter


@hookimpl
def register_exporters() -> list[type]:
    """Register the built-in exporters; ``parquet`` is listed even without pyarrow and explains what to install."""
    return [JsonExporter, JsonlExporter, CsvExporter, ParquetExporter, NotebookExporter]
