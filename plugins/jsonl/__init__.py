"""The ``jsonl`` sink: the research archive (one JSON-lines file per kind per UTC day), and its reader."""

from __future__ import annotations

from flcollector import hookimpl

from .reader import ReadStats, archive_files, read_archive, read_jsonl
from .sink import JsonlOptions, JsonlSink

__all__ = ["JsonlOptions", "JsonlSink", "ReadStats", "archive_files", "read_archive", "read_jsonl", "register_sinks"]


@hookimpl
def register_sinks() -> list[type]:
    """Provide the ``jsonl`` archive sink."""
    return [JsonlSink]
