"""The export service: runs exports in the background, keeps the manifest, and deletes expired exports.

A request only checks its input, records the export as ``running`` and hands it over; the export itself runs in
the service's own task (never on the request path), at most ``concurrent`` at a time. The service task is the
``export`` listener's (see :mod:`.listener`); it never raises, and stops when the agent shuts down, so an export cut
short is marked failed and its parts deleted before the store closes.
"""

from __future__ import annotations

import logging
import secrets
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trio
import trio.lowlevel
from flcollector import Selection, now_ns
from flcollector.export import export_selection

from .manifest import STOPPED, ExportEntry, Manifest
from .request import ExportRequest
from .settings import ExportSettings

log = logging.getLogger("flcollector.export.api")
CONTENT_TYPES = {".csv": "text/csv; charset=utf-8", ".json": "application/json", ".jsonl": "application/x-ndjson",
                 ".parquet": "application/vnd.apache.parquet", ".zip": "application/zip", ".html": "text/html"}
SWEEP_EVERY_S = 3600.0


class QueueFull(RuntimeError):
    """Too many exports are waiting; the request should be retried later."""


class ServiceDown(RuntimeError):
    """The export service could not start (e.g. the exports directory cannot be written); the message says why."""


class ExportService:
    """Owns one exports directory for one agent."""

    def __init__(self, agent: Any, settings: ExportSettings, clock: Callable[[], int] = now_ns) -> None:
        self.agent = agent
        self.settings = settings
        self.clock = clock
        self.manifest = Manifest(settings.directory)
        self.finished: dict[str, trio.Event] = {}  # set when the export completed or failed
        self._send, self._receive = trio.open_memory_channel[ExportEntry](settings.queued)
        self._requests: dict[str, tuple[ExportRequest, Selection]] = {}
        self._loaded = trio.Event()
        self._scope: trio.CancelScope | None = None
        self.stopped = trio.Event()  # set when the service task has ended (every export finished or cut)
        self.failure: str | None = None  # why the service could not start
        self.limiter = trio.CapacityLimiter(settings.concurrent)  # exports written at the same time
        self.reports: dict[tuple[Any, ...], str] = {}  # the last HTML report drawn, by what it was drawn from

    # -- lifecycle -----------------------------------------------------------------------------------------------

    async def run(self, task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED) -> None:
        """Read the manifest, then run the queued exports and the retention sweep until the agent shuts down
        (the ``export`` listener's task). Never raises: a directory that cannot be used is reported by the routes."""
        try:
            with trio.CancelScope() as self._scope:
                try:
                    await trio.to_thread.run_sync(self.manifest.load)
                except OSError as exc:
                    self.failure = f"exports directory {str(self.settings.directory)!r} unusable: {exc}"
                    log.error("the export API is unavailable: %s", self.failure)
                    return
                finally:
                    self._loaded.set()
                    task_status.started()
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._sweep_forever)
                    nursery.start_soon(self._stop_at_shutdown)
                    async for entry in self._receive:
                        nursery.start_soon(self._job, entry)
        except Exception:  # one failing plugin never takes the agent down
            log.exception("the export service stopped")
        finally:
            self.stopped.set()

    async def _stop_at_shutdown(self) -> None:
        await self.agent.shutting_down.wait()
        self.stop()

    def stop(self) -> None:
        """Cancel the service (when the agent shuts down, before the store closes): every export still running is
        marked failed and its parts deleted here and now."""
        if self._scope is not None:
            self._scope.cancel()
        cut = [e for e in self.manifest.entries.values() if e.status == "running"]
        for entry in cut:
            entry.status, entry.error = "failed", STOPPED
            entry.finished_ns = self.clock()
            self.manifest.remove_files(entry)
        if cut:
            self.manifest.save()
            log.warning("the agent stopped before %d exports finished: %s", len(cut),
                        ", ".join(e.export_id for e in cut))

    async def ready(self) -> None:
        """Wait until the manifest has been read; raise ServiceDown when the service could not start."""
        await self._loaded.wait()
        if self.failure is not None:
            raise ServiceDown(self.failure)

    # -- exports -------------------------------------------------------------------------------------------------

    async def submit(self, request: ExportRequest, selection: Selection) -> ExportEntry:
        """Record the export of ``selection`` as running and queue it; raise QueueFull when too many wait."""
        await self.ready()
        created = self.clock()
        retention = self.settings.retention_ns
        entry = ExportEntry(
            export_id=secrets.token_hex(8), format=request.format, aggregation=request.aggregation,
            experiment_id=request.experiment_id, components=list(request.components) if request.components else None,
            start_ns=request.start_ns, end_ns=request.end_ns, created_ns=created,
            expires_ns=None if retention is None else created + retention,
        )
        try:
            self._send.send_nowait(entry)
        except trio.WouldBlock:
            raise QueueFull(f"{self.settings.queued} exports are already waiting; retry later") from None
        self._requests[entry.export_id] = (request, selection)
        self.finished[entry.export_id] = trio.Event()
        self.manifest.entries[entry.export_id] = entry
        await self._save()
        return entry

    async def _save(self) -> None:
        await trio.to_thread.run_sync(self.manifest.write, self.manifest.dumps())

    async def _job(self, entry: ExportEntry) -> None:
        request, selection = self._requests.pop(entry.export_id)
        try:
            async with self.limiter:
                await self._export(entry, request, selection)
            entry.status = "completed"
        except BaseException as exc:
            stopping = isinstance(exc, trio.Cancelled) or (self._scope is not None and self._scope.cancel_called)
            entry.status, entry.error = "failed", STOPPED if stopping else f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, Exception):
                raise
            if not stopping:  # one failed export is reported in its entry, never a crash of the service
                log.warning("export %s failed: %s", entry.export_id, exc)
        finally:
            entry.finished_ns = entry.finished_ns or self.clock()
            if entry.status == "failed":
                self.manifest.remove_files(entry)
            with trio.CancelScope(shield=True):  # recorded even when the export was cut short
                await self._save()
            self.finished[entry.export_id].set()

    async def _export(self, entry: ExportEntry, request: ExportRequest, selection: Selection) -> None:
        store = self.agent.store
        if store is None:
            raise RuntimeError("the agent has no store")
        exporter = self.agent.exporter(request.format)
        if exporter is None:
            raise RuntimeError(f"no exporter {request.format!r} is installed")
        target = self.manifest.directory / f"{entry.export_id}{exporter.suffix}"
        result = await export_selection(store, exporter(), target, selection, bucket_ns=request.bucket_ns)
        # every file written under the export's id is part of it: metrics and events, a round table's manifest
        written = sorted(self.manifest.directory.glob(f"{entry.export_id}[._]*"))
        parts = [*result.paths, *(p for p in written if p not in result.paths)]
        path = result.path
        if len(parts) > 1:  # one download
            base = "rounds" if request.format == "rounds" else "metrics"
            path = await trio.to_thread.run_sync(_zip, self.manifest.directory / f"{entry.export_id}.zip", parts,
                                                 entry.export_id, base)
        entry.file, entry.file_size = path.name, path.stat().st_size
        entry.content_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
        stem = "-".join(p for p in (request.experiment_id or "flcollector", request.aggregation) if p)
        entry.filename = f"{stem}-{entry.export_id}{path.suffix}"
        entry.metric_rows, entry.event_rows = result.metrics, result.events

    async def wait(self, export_id: str, seconds: float) -> None:
        """Wait up to ``seconds`` for the export to finish (returns at once when it has)."""
        done = self.finished.get(export_id)
        if done is not None:
            with trio.move_on_after(seconds):
                await done.wait()

    # -- reading and retention -----------------------------------------------------------------------------------

    def get(self, export_id: str) -> ExportEntry | None:
        """Return the entry, or None when it is unknown or has expired."""
        entry = self.manifest.entries.get(export_id)
        if entry is None or (entry.expires_ns is not None and entry.expires_ns <= self.clock()):
            return None
        return entry

    def listing(self) -> list[ExportEntry]:
        """Every export not yet expired, newest first."""
        now = self.clock()
        entries = [e for e in self.manifest.entries.values() if e.expires_ns is None or e.expires_ns > now]
        return sorted(entries, key=lambda e: e.created_ns, reverse=True)

    def file_of(self, entry: ExportEntry) -> Path | None:
        """The entry's file, when it is there."""
        path = self.manifest.directory / entry.file if entry.file else None
        return path if path is not None and path.is_file() else None

    async def sweep(self) -> list[str]:
        """Delete the expired exports now (files and entries); return their ids."""
        await self.ready()
        gone = self.manifest.take_expired(self.clock())
        if gone:
            for entry in gone:
                self.finished.pop(entry.export_id, None)
                await trio.to_thread.run_sync(self.manifest.remove_files, entry)
            await self._save()
            log.info("deleted %d expired exports: %s", len(gone), ", ".join(e.export_id for e in gone))
        return [entry.export_id for entry in gone]

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except OSError as exc:
                log.error("deleting expired exports failed: %s", exc)
            await trio.sleep(SWEEP_EVERY_S)


def _zip(target: Path, parts: list[Path], export_id: str, base: str) -> Path:
    """Pack ``parts`` into ``target`` (deflated, but Parquet, already compressed, is stored) and delete them; in the
    archive, ``<id>_events.csv`` is ``events.csv`` and ``<id>.csv`` (``<id>.manifest.json``) ``<base>.csv``
    (``<base>.manifest.json``)."""
    tmp = target.with_name(f".{target.name}.tmp")
    with zipfile.ZipFile(tmp, "w") as archive:
        for part in parts:
            method = zipfile.ZIP_STORED if part.suffix == ".parquet" else zipfile.ZIP_DEFLATED
            name = part.name.replace(f"{export_id}_events", "events").replace(export_id, base)
            archive.write(part, name, compress_type=method)
    tmp.replace(target)
    for part in parts:
        part.unlink(missing_ok=True)
    return target
