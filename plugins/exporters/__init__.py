"""The ``exporters`` plugin: query results as files (``json``, ``jsonl``, ``csv``, ``parquet``, ``notebook``)."""

from __future__ import annotations

from flcollector import hookimpl

from .csv_export import CsvExporter
from .json_export import JsonExporter, JsonlExporter
from .notebook_export import NotebookExporter
from .parquet_export import ParquetExporter
from .report_export import ReportExporter


@hookimpl
def register_exporters() -> list[type]:
    """Register the built-in exporters; ``parquet`` and ``report`` are listed even without pyarrow or matplotlib
    and explain what to install."""
    return [JsonExporter, JsonlExporter, CsvExporter, ParquetExporter, NotebookExporter, ReportExporter]
