"""The store file: WAL, incremental auto-vacuum, a schema version, read-only reader connections."""

from __future__ import annotations

import ctypes
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trio
from flcollector import Event, EventQuery
from flcollector.plugins.sqlite import SqliteStore
from flcollector.plugins.sqlite.schema import SCHEMA_VERSION, StoreOpenError, connect, open_writer


def test_new_file_is_wal_with_incremental_vacuum_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "store.db"
    open_writer(path).close()
    writer = open_writer(path)  # an existing file opens again without touching its data
    try:
        assert writer.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert writer.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # INCREMENTAL
        assert writer.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {name for (name,) in writer.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        writer.close()
    assert tables == {"series", "metrics", "events", "event_counts", "round_newest", "round_scopes"}


def test_readers_cannot_write(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    open_writer(path).close()
    reader = connect(path, writer=False)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.execute("DELETE FROM metrics")
    finally:
        reader.close()


def sqlite_memory_used() -> Callable[[], int]:
    """SQLite's own count of the heap it holds (``sqlite3_memory_used``), from the library Python's module uses."""
    try:
        used = ctypes.CDLL("libsqlite3.so.0").sqlite3_memory_used
    except (OSError, AttributeError):
        pytest.skip("no shared libsqlite3 to ask")
    used.restype = ctypes.c_int64
    before = used()
    probe = sqlite3.connect(":memory:")
    opened = used()
    probe.close()
    if opened == before:
        pytest.skip("Python's sqlite3 module holds its own copy of SQLite")
    return lambda: int(used())


def test_a_reader_that_read_the_whole_file_keeps_a_small_page_cache(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    writer = open_writer(path)
    writer.execute("CREATE TABLE filler (blob BLOB)")
    writer.executemany("INSERT INTO filler VALUES (?)", [(bytes(1000),)] * 8000)  # about 8 MiB of pages
    writer.close()
    used = sqlite_memory_used()
    reader = connect(path, writer=False)
    try:
        before = used()
        assert reader.execute("SELECT sum(length(blob)) FROM filler").fetchone()[0] == 8_000_000
        # Every page went through the cache; SQLite's default cache (2 MiB) would keep them all until it was full.
        assert used() - before < 512 * 1024
    finally:
        reader.close()


def test_a_file_that_is_not_a_database_is_named_in_the_error(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    path.write_bytes(b"this is not an SQLite file, it is long enough to have a header" * 10)
    with pytest.raises(StoreOpenError, match=r"store\.db"):
        open_writer(path)


#: The events table as version 1 of the schema created it (before ``origin_id``).
_V1_EVENTS = """CREATE TABLE events (
    id INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL, type TEXT NOT NULL, source TEXT NOT NULL,
    level TEXT NOT NULL, message TEXT NOT NULL, details TEXT NOT NULL, experiment TEXT, round INTEGER)"""


async def test_a_version_1_file_opens_keeps_its_events_and_gains_origin_id(
    tmp_path: Path, make_component: Callable[..., Any]
) -> None:
    path = tmp_path / "data" / "old.db"
    path.parent.mkdir(parents=True)
    old = sqlite3.connect(path)
    old.execute(_V1_EVENTS)
    old.execute("INSERT INTO events VALUES (5, 1000, 'NOTE', 'fl_server', 'INFO', 'kept', '{\"a\": 1}', 'e', 2)")
    old.execute("PRAGMA user_version = 1")
    old.commit()
    old.close()
    with trio.fail_after(10):
        async with make_component(SqliteStore, {"path": "old.db", "retention": "0s"}) as store:
            await store.write([Event("ROUND_COMPLETED", time_ns=2000, source="fl_server", id=6, origin_id="u-6")])
            events = await store.query_events(EventQuery())
            counts = await store.event_counts(EventQuery(), "source")
    assert [(e.id, e.message, e.details, e.origin_id) for e in events] == [
        (5, "kept", {"a": 1}, None),
        (6, "", {}, "u-6"),
    ]
    assert counts == {"fl_server": 2}
    reader = connect(path, writer=False)
    try:
        assert reader.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    finally:
        reader.close()
