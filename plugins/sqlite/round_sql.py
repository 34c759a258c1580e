"""The newest stored metric of each round, chosen, counted and paged in SQL (the dashboard's FL rounds routes).

The FL monitor may store a round more than once (a re-read ``/rounds`` row); the dashboard serves the newest stored
row of each round (latest ``time_ns``, ties by insertion). Reading every row of an experiment to dedupe and page in
Python cost 150-200 ms at 10,000 rounds; here SQLite ranks the rows per round (``ROW_NUMBER()``), counts the
distinct rounds and parses only the page's rows. The round range and "newer than" filters commute with the dedupe
(the newest row of a round is the one with the latest time), so they are applied before it, in the WHERE clause.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Literal

from flcollector import Metric, MetricQuery

from .queries import DIRECTION, METRIC_COLUMNS, metric_from_row, metric_where


def newest_per_round(
    conn: sqlite3.Connection,
    scope: MetricQuery,
    min_round: int | None,
    max_round: int | None,
    after_ns: int | None,
    order: Literal["asc", "desc"],
    offset: int,
    limit: int,
) -> tuple[list[Metric], int, int | None] | None:
    """The page of rounds and ``(page, distinct rounds selected, highest round in scope)``, or None when ``scope``
    holds more than ``scope.limit`` rows (a reader of the newest ``scope.limit`` rows would miss older rounds)."""
    where, params = metric_where(scope)
    rows_in_scope, highest = conn.execute(
        f"SELECT count(*), max(m.round) FROM metrics m WHERE {where}", params
    ).fetchone()
    if rows_in_scope > scope.limit:
        return None
    clauses, narrowed = [where, "m.round IS NOT NULL"], list(params)
    for sql, value in (("m.round >= ?", min_round), ("m.round <= ?", max_round), ("m.time_ns > ?", after_ns)):
        if value is not None:
            clauses.append(sql)
            narrowed.append(value)
    selected = " AND ".join(clauses)
    total = conn.execute(f"SELECT count(DISTINCT m.round) FROM metrics m WHERE {selected}", narrowed).fetchone()[0]
    if offset >= total:
        return [], total, highest
    ranked = (
        "SELECT m.id, m.round, ROW_NUMBER() OVER (PARTITION BY m.round ORDER BY m.time_ns DESC, m.id DESC) AS nth "
        f"FROM metrics m WHERE {selected}"
    )
    sql = (
        f"WITH ranked AS ({ranked}) SELECT {METRIC_COLUMNS} FROM ranked r JOIN metrics m ON m.id = r.id "
        f"JOIN series s ON s.id = m.series_id WHERE r.nth = 1 ORDER BY r.round {DIRECTION[order]} LIMIT ? OFFSET ?"
    )
    page: list[Any] = conn.execute(sql, [*narrowed, limit, offset]).fetchall()
    return [metric_from_row(row) for row in page], total, highest
