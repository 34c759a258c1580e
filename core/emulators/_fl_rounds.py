"""The emulated FL server's rounds database: a real SQLite table with the upstream columns and queries.

FLOPY-NET's ``FLRoundStorage`` (``src/fl/server/fl_server.py``) keeps one row per round number (``INSERT OR
REPLACE``, so a new run that re-uses round numbers replaces rows), with ``raw_metrics`` as JSON text, and answers
``/rounds`` with ``ORDER BY round_number ASC LIMIT ? OFFSET ?``. Using SQLite here too gives the same answer for
every parameter the route passes through: a negative ``LIMIT`` means no limit, a negative ``OFFSET`` counts as 0,
``accuracy >= NaN`` matches nothing, ``REAL`` columns hand back floats. Like upstream, a query that fails (an
integer too large for SQLite) answers no rows and a count of 0.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

_COLUMNS = (
    "round_number AS round, timestamp, status, accuracy, loss, training_duration, model_size_mb, clients, raw_metrics"
)


class RoundStorage:
    """One in-memory SQLite table; the emulator keeps it across its process restarts, as upstream keeps the file."""

    def __init__(self) -> None:
        self.conn = sqlite3.connect(":memory:", check_same_thread=False)
        self.conn.execute(
            """CREATE TABLE fl_rounds (
                round_number INTEGER PRIMARY KEY,
                timestamp TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'complete',
                accuracy REAL DEFAULT 0.0,
                loss REAL DEFAULT 0.0,
                training_duration REAL DEFAULT 0.0,
                model_size_mb REAL DEFAULT 0.0,
                clients INTEGER DEFAULT 0,
                raw_metrics TEXT
            )"""
        )

    def store(self, row: dict[str, Any]) -> None:
        """Insert or replace the row of ``row["round"]``."""
        self.conn.execute(
            "INSERT OR REPLACE INTO fl_rounds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row["round"],
                row["timestamp"],
                row["status"],
                row["accuracy"],
                row["loss"],
                row["training_duration"],
                row["model_size_mb"],
                row["clients"],
                json.dumps(row["raw_metrics"]),
            ),
        )

    @staticmethod
    def _where(start: int, end: int | None, lo: float | None, hi: float | None) -> tuple[str, list[Any]]:
        clauses: list[str] = ["round_number >= ?"]
        params: list[Any] = [start]
        for sql, value in (("round_number <= ?", end), ("accuracy >= ?", lo), ("accuracy <= ?", hi)):
            if value is not None:
                clauses.append(sql)
                params.append(value)
        return " AND ".join(clauses), params

    def rows(
        self,
        start: int = 1,
        end: int | None = None,
        limit: int = 1000,
        offset: int = 0,
        lo: float | None = None,
        hi: float | None = None,
    ) -> list[dict[str, Any]]:
        """The rows in ascending round order, ``raw_metrics`` decoded ({} when it is not JSON); [] on an error."""
        where, params = self._where(start, end, lo, hi)
        try:
            cursor = self.conn.execute(
                f"SELECT {_COLUMNS} FROM fl_rounds WHERE {where} ORDER BY round_number ASC LIMIT ? OFFSET ?",
                [*params, limit, offset],
            )
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
        except (sqlite3.Error, OverflowError):
            return []
        for row in rows:
            try:
                row["raw_metrics"] = json.loads(row["raw_metrics"])
            except (TypeError, ValueError):
                row["raw_metrics"] = {}
        return rows

    def count(self, start: int = 1, end: int | None = None, lo: float | None = None, hi: float | None = None) -> int:
        """How many rows match (0 on an error)."""
        where, params = self._where(start, end, lo, hi)
        try:
            return int(self.conn.execute(f"SELECT COUNT(*) FROM fl_rounds WHERE {where}", params).fetchone()[0])
        except (sqlite3.Error, OverflowError):
            return 0

    def latest(self) -> int:
        """The highest round number stored, 0 when there is none."""
        value = self.conn.execute("SELECT MAX(round_number) FROM fl_rounds").fetchone()[0]
        return int(value) if value is not None else 0
