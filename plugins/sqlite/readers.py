"""The store's read connections: a small read answers inline, on the event loop, within a time budget; the rest runs
on a pooled connection in a worker thread.

Handing a query to a worker thread and back costs about 60 µs of CPU (a lock, a wake-up through the event loop's
socket): ten times what reading the newest 100 events costs SQLite. So every read first runs inline, on a
connection only the event loop uses, with a progress handler that interrupts it once it has run ``budget`` seconds
(and ``busy_timeout = 0``, so a locked file never makes the loop wait); an interrupted or refused read runs again
in a worker thread, where it may take as long as it needs. The loop is never held longer than the budget, and a
read that is known to be long (a count or summary over a window) goes to a thread at once (``inline=False``).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import trio
from flcollector import ComponentStats

from .schema import connect

T = TypeVar("T")
#: How long an inline read may hold the event loop before it is interrupted and sent to a worker thread.
INLINE_BUDGET_S = 0.002
#: SQLite virtual-machine steps between two looks at the clock (a few µs of work).
_STEPS_PER_CHECK = 500
_KEEP_IDLE_READERS = 4


class Readers:
    """The inline connection and the pool of worker-thread connections of one store file."""

    def __init__(self, path: Path, stats: ComponentStats, budget: float = INLINE_BUDGET_S) -> None:
        self.path = path
        self.stats = stats
        self.budget = budget
        self._inline: sqlite3.Connection | None = None
        self._deadline = 0.0
        self._idle: list[sqlite3.Connection] = []
        self._closed = False

    def close(self) -> None:
        """Close every connection (a read running in a thread closes its own when it returns)."""
        self._closed = True
        connections, self._idle = self._idle, []
        if self._inline is not None:
            connections.append(self._inline)
            self._inline = None
        for conn in connections:
            conn.close()

    async def read(self, query: Callable[..., T], *args: Any, inline: bool = True) -> T:
        """Return ``query(conn, *args)``: inline within the budget when ``inline``, else (or then) in a thread."""
        if inline:
            conn = self._inline_connection()
            self._deadline = time.perf_counter() + self.budget
            try:
                result = query(conn, *args)
            except sqlite3.OperationalError:  # over budget ("interrupted") or the file is busy: take the long way
                self.stats.count("reads_deferred")
            else:
                return result
        return await self._in_thread(query, *args)

    def _inline_connection(self) -> sqlite3.Connection:
        if self._inline is None:
            conn = connect(self.path, writer=False)
            conn.execute("PRAGMA busy_timeout = 0")
            conn.set_progress_handler(self._over_budget, _STEPS_PER_CHECK)
            self._inline = conn
        return self._inline

    def _over_budget(self) -> bool:
        return time.perf_counter() > self._deadline

    async def _in_thread(self, query: Callable[..., T], *args: Any) -> T:
        conn = self._idle.pop() if self._idle else None

        def run() -> tuple[sqlite3.Connection, T]:
            reader = conn if conn is not None else connect(self.path, writer=False)
            try:
                return reader, query(reader, *args)
            except BaseException:
                reader.close()
                raise

        reader, result = await trio.to_thread.run_sync(run)
        if len(self._idle) < _KEEP_IDLE_READERS and not self._closed:
            self._idle.append(reader)
        else:
            reader.close()
        return result
