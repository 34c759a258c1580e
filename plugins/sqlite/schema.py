"""The SQLite schema of the store and how its connections are opened.

Metrics are normalised into a small ``series`` table (one row per ``(name, tags)``) and a narrow ``metrics`` table
that refers to it by integer id: the index ``(series_id, time_ns)`` stays small, and tags are matched against the
series table (hundreds of rows) instead of against every sample. ``series`` also carries the latest sample of each
series, upserted per batch, so "latest" is O(series) and never a scan. Tags are stored as canonical JSON text
(keys sorted), which is also the series key; fields and event details are JSON text written by orjson, so integers
stay integers and floats stay floats.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .round_table import BACKFILL_ROUNDS, ROUND_DDL

#: 2: ``events.origin_id`` (the source's own event id); a version-1 file gains the column when the writer opens it.
#: 3: ``round_newest`` and ``round_scopes`` (see :mod:`.round_table`); an older file gains them, filled from its rows.
SCHEMA_VERSION = 3

#: Created once, in this order, when the file is new (``auto_vacuum`` must be set before the first table).
DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS series (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        tags TEXT NOT NULL,            -- canonical JSON (sorted keys): the series key and the tag values
        last_time_ns INTEGER,          -- the latest sample of this series, upserted per batch
        last_fields TEXT,
        last_source TEXT,
        last_experiment TEXT,
        last_round INTEGER,
        UNIQUE (name, tags)
    )""",
    """CREATE TABLE IF NOT EXISTS metrics (
        id INTEGER PRIMARY KEY,
        time_ns INTEGER NOT NULL,
        series_id INTEGER NOT NULL,
        fields TEXT NOT NULL,
        source TEXT NOT NULL,
        experiment TEXT,
        round INTEGER
    )""",
    "CREATE INDEX IF NOT EXISTS metrics_series_time ON metrics (series_id, time_ns)",
    # Time-only queries (the WebSocket backfill, "everything in the last 5 minutes") and the retention cleanup.
    "CREATE INDEX IF NOT EXISTS metrics_time ON metrics (time_ns)",
    """CREATE TABLE IF NOT EXISTS events (
        id INTEGER PRIMARY KEY,        -- the pipeline's event id, strictly increasing
        time_ns INTEGER NOT NULL,
        type TEXT NOT NULL,
        source TEXT NOT NULL,
        level TEXT NOT NULL,
        message TEXT NOT NULL,
        details TEXT NOT NULL,
        experiment TEXT,
        round INTEGER,
        origin_id TEXT                 -- the source's own id of the event (NULL for events we make)
    )""",
    # "Latest event of a type" and type-filtered cursors walk this index backwards/forwards.
    "CREATE INDEX IF NOT EXISTS events_type_id ON events (type, id)",
    "CREATE INDEX IF NOT EXISTS events_time ON events (time_ns)",
    # Running event counts per level, source and type, kept by triggers in the writing transaction (retention's
    # deletes included), so the dashboard's unfiltered summary, polled every few seconds, is O(groups), not a scan.
    """CREATE TABLE IF NOT EXISTS event_counts (
        dim TEXT NOT NULL,             -- 'level' | 'source' | 'type'
        key TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (dim, key)
    ) WITHOUT ROWID""",
    """CREATE TRIGGER IF NOT EXISTS events_counted AFTER INSERT ON events BEGIN
        INSERT OR IGNORE INTO event_counts VALUES ('level', NEW.level, 0), ('source', NEW.source, 0),
            ('type', NEW.type, 0);
        UPDATE event_counts SET n = n + 1 WHERE (dim = 'level' AND key = NEW.level)
            OR (dim = 'source' AND key = NEW.source) OR (dim = 'type' AND key = NEW.type);
    END""",
    """CREATE TRIGGER IF NOT EXISTS events_uncounted AFTER DELETE ON events BEGIN
        UPDATE event_counts SET n = n - 1 WHERE (dim = 'level' AND key = OLD.level)
            OR (dim = 'source' AND key = OLD.source) OR (dim = 'type' AND key = OLD.type);
    END""",
)

#: Fills event_counts for a store written before it existed (a no-op on a new or already counted store).
BACKFILL_EVENT_COUNTS = """INSERT INTO event_counts (dim, key, n)
    SELECT 'level', level, count(*) FROM events GROUP BY level
    UNION ALL SELECT 'source', source, count(*) FROM events GROUP BY source
    UNION ALL SELECT 'type', type, count(*) FROM events GROUP BY type"""

#: Columns added after version 1, as ``(table, column, type)``: an older file gains them when the writer opens it
#: (ADD COLUMN only changes the schema, it rewrites no rows, so it is instant on a big file).
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (("events", "origin_id", "TEXT"),)

#: Per-connection settings. NORMAL is safe in WAL mode (a power cut may lose the last commits, never corrupt).
CONNECTION_PRAGMAS: tuple[str, ...] = (
    "PRAGMA synchronous = NORMAL",
    "PRAGMA busy_timeout = 10000",
    "PRAGMA foreign_keys = OFF",
)

#: Writer-only settings: a 16 MiB page cache (10% faster inserts than the 2 MiB default; 64 MiB was no faster and
#: cost 55 MiB more RSS at 1M rows), fewer checkpoints, and a cap on the WAL file left behind after a checkpoint.
WRITER_PRAGMAS: tuple[str, ...] = (
    "PRAGMA cache_size = -16384",
    "PRAGMA wal_autocheckpoint = 10000",
    "PRAGMA journal_size_limit = 67108864",
)

#: Reader-only settings: no writes, and a 256 KiB page cache. Each reader's cache (SQLite's default is 2 MiB) filled
#: for a quarter of an hour and was kept, so the RSS of a long run rose by up to 2 MiB per pooled reader (issue 13,
#: item 7); the routes' reads (a page of 100 rows, an index walk) cost the same with 256 KiB (``route_cost.py``).
READER_PRAGMAS: tuple[str, ...] = (
    "PRAGMA query_only = ON",
    "PRAGMA cache_size = -256",
)


class StoreOpenError(OSError):
    """The store file cannot be created or opened; the message names the path."""


def connect(path: Path, *, writer: bool) -> sqlite3.Connection:
    """Open a connection in autocommit mode (transactions are explicit) usable from any one thread at a time."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, cached_statements=64)
    for pragma in CONNECTION_PRAGMAS + (WRITER_PRAGMAS if writer else READER_PRAGMAS):
        conn.execute(pragma)
    return conn


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    """Bring a file written by an older version up to the current columns (inside the opening transaction)."""
    for table, column, sql_type in ADDED_COLUMNS:
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}")


def open_writer(path: Path) -> sqlite3.Connection:
    """Create the directory and schema if needed and return the writer connection.

    Raises :class:`StoreOpenError` naming ``path`` when the directory or the file cannot be created or written.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = connect(path, writer=True)
        try:
            # Set before the first table is created; on an existing file it only takes effect after a VACUUM,
            # which we never run on the write path (incremental_vacuum is then a harmless no-op).
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise sqlite3.OperationalError(f"cannot switch to WAL mode (got {mode!r})")
            conn.execute("BEGIN IMMEDIATE")
            # Filled from the stored rows only when created here: once they exist, their triggers keep them (even
            # while an older version writes the file), so filling them again would count every row twice.
            rounds_kept = conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'round_newest'").fetchone()[0]
            for statement in DDL + ROUND_DDL:
                conn.execute(statement)
            if not rounds_kept:
                for statement in BACKFILL_ROUNDS:
                    conn.execute(statement)
            _add_missing_columns(conn)
            if conn.execute("SELECT NOT EXISTS (SELECT 1 FROM event_counts)").fetchone()[0]:
                conn.execute(BACKFILL_EVENT_COUNTS)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.close()
            raise
    except (OSError, sqlite3.Error) as exc:
        raise StoreOpenError(f"sqlite store {str(path)!r} cannot be opened for writing: {exc}") from None
    return conn
