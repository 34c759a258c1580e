"""The manifest of the exports this agent made: which files are its own, their state, and when they expire.

One JSON file, ``manifest.json`` in the exports directory, rewritten whole (atomically) on every change. Retention
deletes only the files an entry names, so anything else in the directory (a user's own files, another tool's) is
never touched. The entries are read and changed on the Trio thread only; ``write`` and ``remove_files`` are the
blocking parts, safe from any thread (writes are serialised by a lock).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any, Literal

import attrs
import cattrs
import orjson
from flcollector import iso_time

log = logging.getLogger("flcollector.export.api")
MANIFEST = "manifest.json"
Status = Literal["running", "completed", "failed"]
STOPPED = "the agent stopped before the export finished"
_converter = cattrs.Converter()


@attrs.define
class ExportEntry:
    """One export: what was asked, its state, its file and when it expires."""

    export_id: str
    format: str
    aggregation: str
    experiment_id: str | None
    components: list[str] | None
    start_ns: int | None
    end_ns: int | None
    created_ns: int
    expires_ns: int | None
    status: Status = "running"
    file: str | None = None  # the file's name in the exports directory
    filename: str | None = None  # the name a download suggests
    content_type: str | None = None
    file_size: int | None = None
    metric_rows: int | None = None
    event_rows: int | None = None
    finished_ns: int | None = None
    error: str | None = None

    def public(self) -> dict[str, Any]:
        """The entry as the API shows it (the spec's keys first, times as ISO 8601)."""
        return {
            "export_id": self.export_id,
            "status": self.status,
            "download_url": f"/api/v1/downloads/{self.export_id}",
            "file_size": self.file_size,
            "format": self.format,
            "expires_at": None if self.expires_ns is None else iso_time(self.expires_ns),
            "aggregation": self.aggregation,
            "experiment_id": self.experiment_id,
            "components": self.components,
            "start_time": None if self.start_ns is None else iso_time(self.start_ns),
            "end_time": None if self.end_ns is None else iso_time(self.end_ns),
            "created_at": iso_time(self.created_ns),
            "finished_at": None if self.finished_ns is None else iso_time(self.finished_ns),
            "filename": self.filename,
            "rows": {"metrics": self.metric_rows, "events": self.event_rows},
            "error": self.error,
        }


class Manifest:
    """The entries of one exports directory, newest last."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / MANIFEST
        self.entries: dict[str, ExportEntry] = {}
        self._writing = threading.Lock()

    def load(self) -> None:
        """Read the manifest; an export left running by an earlier agent is marked failed and its parts deleted."""
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            raw = orjson.loads(self.path.read_bytes())
            self.entries = {e["export_id"]: _converter.structure(e, ExportEntry) for e in raw["exports"]}
        except FileNotFoundError:
            self.entries = {}
        except (ValueError, KeyError, TypeError, cattrs.BaseValidationError) as exc:
            log.error("export manifest %s cannot be read (%s); starting a new one, old files are left alone",
                      self.path, exc)
            self.entries = {}
        for entry in self.entries.values():
            if entry.status == "running":
                entry.status, entry.error = "failed", STOPPED
                self.remove_files(entry)
        self.save()

    def dumps(self) -> bytes:
        """The manifest as JSON (on the Trio thread, where the entries change)."""
        data = {"exports": [_converter.unstructure(e) for e in self.entries.values()]}
        return orjson.dumps(data, option=orjson.OPT_INDENT_2)

    def write(self, data: bytes) -> None:
        """Replace the file with ``data`` atomically (blocking; any thread)."""
        with self._writing:
            tmp = self.path.with_name(f".{MANIFEST}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, self.path)

    def save(self) -> None:
        """Write the entries now (blocking: at start-up, and when the agent stops and nothing may wait)."""
        self.write(self.dumps())

    def remove_files(self, entry: ExportEntry) -> None:
        """Delete the entry's file and any part it left (``<id>.*``, ``.<id>*.tmp``): only names it owns."""
        for pattern in (f"{entry.export_id}.*", f"{entry.export_id}_events.*", f".{entry.export_id}*.tmp"):
            for path in self.directory.glob(pattern):
                path.unlink(missing_ok=True)

    def take_expired(self, now_ns: int) -> list[ExportEntry]:
        """Remove the entries past their expiry (not one still running) and return them; their files remain."""
        gone = [e for e in self.entries.values() if e.expires_ns is not None and e.expires_ns <= now_ns
                and e.status != "running"]
        for entry in gone:
            del self.entries[entry.export_id]
        return gone
