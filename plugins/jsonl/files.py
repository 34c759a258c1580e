"""The archive's files: one append-only JSON-lines file per kind per UTC day, written from a worker thread.

Each record is encoded with ``orjson.dumps(record_to_dict(r), option=OPT_APPEND_NEWLINE)`` (the dict built by hand,
byte-identical) and written straight
into a buffered binary file: keeping many orjson ``bytes`` alive (joining a batch) was 6-8x slower on this stack
(glibc heap trimming, stack-notes §5a). A batch either lands whole or the files are cut back to where they were, so
a retried batch never leaves half a copy behind.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Sequence
from io import BufferedWriter
from pathlib import Path
from typing import Any, cast

import orjson
from flcollector import Event, Metric, Record, record_to_dict

DAY_NS = 86_400 * 10**9
KIND_PREFIX = {"metric": "metrics", "event": "events"}
_EPOCH = dt.date(1970, 1, 1)
_KEEP_OPEN = 4  # files kept open between batches (today's two, plus late records of yesterday)


def day_name(day: int) -> str:
    """Return ``YYYY-MM-DD`` for a day number counted from the Unix epoch (UTC)."""
    return (_EPOCH + dt.timedelta(days=day)).isoformat()


def file_name(kind: str, time_ns: int) -> str:
    """Return the archive file name holding a record of ``kind`` ("metric"/"event") stamped ``time_ns``."""
    return f"{KIND_PREFIX[kind]}-{day_name(time_ns // DAY_NS)}.jsonl"


def record_dict(record: Record) -> dict[str, Any]:
    """Return exactly :func:`record_to_dict`'s dict (same keys, same order), without cattrs' copies.

    Built by hand because it is the archive's hot path: 2-3x cheaper than the generic converter per record, and the
    bytes orjson writes are identical (a test compares them).
    """
    cls = type(record)
    if cls is Metric:
        m = cast(Metric, record)
        return {
            "name": m.name,
            "fields": m.fields,
            "time_ns": m.time_ns,
            "tags": m.tags,
            "source": m.source,
            "experiment": m.experiment,
            "round": m.round,
            "kind": "metric",
        }
    if cls is Event:
        e = cast(Event, record)
        return {
            "type": e.type,
            "message": e.message,
            "time_ns": e.time_ns,
            "source": e.source,
            "level": e.level,
            "details": e.details,
            "experiment": e.experiment,
            "round": e.round,
            "id": e.id,
            "origin_id": e.origin_id,
            "kind": "event",
        }
    return record_to_dict(record)  # a subclass may carry more attributes


def _encode_fallback(record: Record) -> bytes:
    # orjson refuses ints beyond 64 bits and unknown types; the stdlib encoder writes them (as text if need be).
    return json.dumps(record_to_dict(record), default=str, separators=(",", ":")).encode() + b"\n"


class DailyFiles:
    """Open append handles keyed by ``(kind, day)``; not thread-safe (the sink calls it from one thread at a time)."""

    def __init__(self, directory: Path, log: logging.Logger) -> None:
        self.directory = directory
        self.log = log
        self.handles: dict[tuple[str, int], BufferedWriter] = {}
        self.unsynced: set[tuple[str, int]] = set()
        self.repaired = 0  # torn last lines found when reopening a file (after a crash)
        self.fallbacks = 0  # records orjson could not encode, written by the stdlib encoder instead
        self.fsyncs = 0

    def path(self, key: tuple[str, int]) -> Path:
        """Return the path of the file for ``(kind, day)``."""
        return self.directory / f"{KIND_PREFIX[key[0]]}-{day_name(key[1])}.jsonl"

    def _open(self, key: tuple[str, int]) -> BufferedWriter:
        path = self.path(key)
        handle = open(path, "ab")  # noqa: SIM115 - kept open across batches, closed in close()
        if handle.tell() > 0:
            with open(path, "rb") as existing:
                existing.seek(-1, os.SEEK_END)
                torn = existing.read(1) != b"\n"
            if torn:  # a crash cut the last line: end it, so the next record starts on its own line
                handle.write(b"\n")
                self.repaired += 1
                self.log.warning(
                    "%s: last line was incomplete (earlier crash); it is kept and skipped by readers", path
                )
        self.handles[key] = handle
        return handle

    def write(self, batch: Sequence[Record]) -> tuple[int, list[tuple[int, str]]]:
        """Append every record of ``batch`` and flush to the OS; return the lines written and ``(index, reason)`` of
        each record that could not be (a timestamp beyond any file's day: the others are written all the same).

        On an OSError (disk full, file too large) the files touched are cut back to their size before the batch
        and the error is raised again with the path in its message.
        """
        dumps, option, to_dict = orjson.dumps, orjson.OPT_APPEND_NEWLINE, record_dict
        starts: dict[tuple[str, int], int] = {}
        rejected: list[tuple[int, str]] = []
        key: tuple[str, int] | None = None
        handle: BufferedWriter | None = None
        try:
            for index, record in enumerate(batch):
                try:
                    record_key = (record.kind, record.time_ns // DAY_NS)
                    if record_key != key or handle is None:
                        handle = self.handles.get(record_key) or self._open(record_key)
                        key = record_key
                        starts.setdefault(key, handle.tell())
                except (TypeError, ValueError, OverflowError, AttributeError) as exc:  # no file can hold it
                    rejected.append((index, f"no archive file for it: {type(exc).__name__}: {exc}"))
                    continue
                try:
                    handle.write(dumps(to_dict(record), option=option))
                except TypeError:
                    handle.write(_encode_fallback(record))
                    self.fallbacks += 1
            for touched in starts:
                self.handles[touched].flush()
        except OSError as exc:
            self._cut_back(starts)
            where = ", ".join(str(self.path(k)) for k in starts) or str(self.directory)
            raise OSError(
                exc.errno, f"jsonl archive: batch of {len(batch)} records not written to {where}: {exc.strerror or exc}"
            ) from exc
        self.unsynced.update(starts)
        self._close_idle(set(starts))
        return len(batch) - len(rejected), rejected

    def _cut_back(self, starts: dict[tuple[str, int], int]) -> None:
        for key, size in starts.items():
            handle = self.handles.pop(key, None)
            self.unsynced.discard(key)
            if handle is not None:
                try:
                    handle.close()  # its buffered tail may fail to flush again; the fd is closed either way
                except OSError:
                    pass
            try:
                os.truncate(self.path(key), size)
            except OSError as exc:
                self.log.error("%s: could not cut back a failed batch: %s", self.path(key), exc)

    def _close_idle(self, touched: set[tuple[str, int]]) -> None:
        if len(self.handles) <= _KEEP_OPEN:
            return
        for key in [k for k in self.handles if k not in touched]:
            self._sync_one(key)
            self.handles.pop(key).close()

    def _sync_one(self, key: tuple[str, int]) -> None:
        if key in self.unsynced and key in self.handles:
            handle = self.handles[key]
            handle.flush()
            os.fsync(handle.fileno())
            self.fsyncs += 1
            self.unsynced.discard(key)

    def sync(self) -> None:
        """fsync every file written since the last sync."""
        for key in list(self.unsynced):
            self._sync_one(key)

    def close(self) -> None:
        """Flush, fsync and close every open file."""
        try:
            self.sync()
        finally:
            handles, self.handles = self.handles, {}
            for handle in handles.values():
                handle.close()
