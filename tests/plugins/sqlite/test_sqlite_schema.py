"""The store file: WAL, incremental auto-vacuum, a schema version, read-only reader connections."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
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
    assert tables == {"series", "metrics", "events", "event_counts"}


def test_readers_cannot_write(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    open_writer(path).close()
    reader = connect(path, writer=False)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.execute("DELETE FROM metrics")
    finally:
        reader.close()


def test_a_file_that_is_not_a_database_is_named_in_the_error(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    path.write_bytes(b"this is not an SQLite file, it is long enough to have a header" * 10)
    with pytest.raises(StoreOpenError, match=r"store\.db"):
        open_writer(path)
