"""The ``exporters`` plugin: turns query results into files (``json``, ``csv``, ``parquet``, ``notebook``)."""

from __future__ import annotations

from flcollector import hookimpl

from .csv_export import CsvExporter
from .json_export import JsonExporter
from .notebook_export import NotebookExporter
from .parquet_export import ParquetExporter


@hookimpl
def register_exporters() -> list[type]:
    """Register the built-in exporters; ``parquet`` is listed even without pyarrow and explains what to install."""
    return [JsonExporter, CsvExporter, ParquetExporter, NotebookExporter]
