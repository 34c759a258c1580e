"""The newest stored metric of each round, chosen, counted and paged by index (the dashboard's FL rounds routes).

The FL monitor may store a round more than once (a re-read ``/rounds`` row); the dashboard serves the newest stored
row of each round (latest ``time_ns``, ties by the higher id). ``round_newest`` (:mod:`.round_table`) keeps that
row's id per (series, experiment, round), so a page is a walk of its index joined to ``metrics`` by id, the highest
round is one index step, and the counts come from ``round_scopes``' running totals (with a count of the rounds
outside the asked range, whichever side is shorter). Reading every row of the experiment instead (the statement
this replaced, kept in :func:`_scan` for the scopes the table cannot answer) cost ~25 ms at 10,000 rounds.

The filters commute with the choice of the newest row: series, experiment and round are the table's key; "stored at
or after" and "newer than" hold for a round's newest row when they hold for any of its rows. A scope over several
series or experiments (the dashboard's ``experiment=*``) ranks their newest rows per round, a small table's rows.
A source filter or an end time picks an older row when the newest is outside it: those scopes take :func:`_scan`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Hashable
from typing import Any, Literal

import attrs
from flcollector import Metric, MetricQuery

from .queries import DIRECTION, METRIC_COLUMNS, metric_from_row, metric_where

#: ``(page, distinct rounds selected, highest round in scope)``.
RoundAnswer = tuple[list[Metric], int, int | None]
_PAGE_JOIN = "JOIN metrics m ON m.id = r.metric_id JOIN series s ON s.id = m.series_id"
#: The page's columns: the row's id, then those of :func:`metric_from_row`.
_ROW_COLUMNS = f"m.id, {METRIC_COLUMNS}"
#: Stored rows already read, by id (see :func:`newest_per_round`'s ``known``).
KnownRows = dict[int, Metric]


def _metrics(rows: list[Any], start: int, known: KnownRows | None) -> list[Metric]:
    """The metrics of ``rows`` (the id at ``start``, the columns after it; a row without an id is no metric): the one
    in ``known`` for an id it has, else read from the row (and added to ``known``)."""
    found = []
    for row in rows:
        row_id = row[start]
        if row_id is None:
            continue
        metric = known.get(row_id) if known is not None else None
        if metric is None:
            metric = metric_from_row(row[start + 1 :])
            if known is not None:
                known[row_id] = metric
        found.append(metric)
    return found


@attrs.frozen
class _Window:
    """The rounds asked for: a round range, "newer than", the order and the page."""

    low: int | None
    high: int | None
    after_ns: int | None
    order: Literal["asc", "desc"]
    offset: int
    limit: int

    def where(self, column_prefix: str) -> tuple[list[str], list[Any]]:
        clauses, params = [], []
        for sql, value in (("round >= ?", self.low), ("round <= ?", self.high), ("time_ns > ?", self.after_ns)):
            if value is not None:
                clauses.append(column_prefix + sql)
                params.append(value)
        return clauses, params


#: Scopes whose pages the store keeps at once (see :func:`scope_key`); more empties them all.
MAX_KEPT_SCOPES = 32
#: Rows the store keeps for those pages (a few pages of 100 rounds); more starts it again. A page of the newest
#: rounds adds one row a round, so the cap is also how long the rows climb before they start again: 2,000 took an
#: hour at the soak's round every two seconds (issue 13, item 7); 500 take a quarter of that.
MAX_KNOWN_ROWS = 500


def scope_key(scope: MetricQuery) -> Hashable:
    """``scope`` as a dictionary key (a query holds a list and a mapping)."""
    names = tuple(scope.names) if scope.names is not None else None
    return (
        names,
        scope.name_prefix,
        tuple(sorted(scope.tags.items())),
        scope.source,
        scope.experiment,
        scope.round,
        scope.min_round,
        scope.max_round,
        scope.start_ns,
        scope.end_ns,
        scope.limit,
    )


def _keys(scope: MetricQuery) -> tuple[str, list[Any]]:
    """The WHERE clause (over ``round_scopes m`` or ``round_newest m``) of the (series, experiment) of ``scope``."""
    return metric_where(MetricQuery(scope.names, scope.name_prefix, experiment=scope.experiment, tags=scope.tags))


#: How many (series, experiment) a scope spans, their rounds and rows, and the key of one of them.
ScopeCounts = tuple[int, int | None, int | None, int | None, str | bytes | None]


def scope_counts(conn: sqlite3.Connection, scope: MetricQuery) -> ScopeCounts:
    """How many (series, experiment) ``scope`` spans, their rounds and rows, and the (series, experiment) of one:
    every insert into the scope and every delete changes them (what the store keeps its pages by); an index lookup
    per (series, experiment)."""
    where, params = _keys(scope)
    sql = (
        f"SELECT count(*), sum(rounds), sum(stored), min(series_id), min(experiment) FROM round_scopes m WHERE {where}"
    )
    scopes, rounds, stored, series_id, experiment = conn.execute(sql, params).fetchone()
    return scopes, rounds, stored, series_id, experiment


def newest_per_round(
    conn: sqlite3.Connection,
    scope: MetricQuery,
    min_round: int | None,
    max_round: int | None,
    after_ns: int | None,
    order: Literal["asc", "desc"],
    offset: int,
    limit: int,
    known: KnownRows | None = None,
) -> RoundAnswer | None:
    """The page of rounds and ``(page, distinct rounds selected, highest round in scope)``, or None when ``scope``
    holds more than ``scope.limit`` rows with a round (a reader of the newest ``scope.limit`` rows would miss older
    rounds; the rows without a round, which no round shows, are not counted).

    ``known``: rows read before, by id (stored rows never change; the caller forgets them when rows are deleted, as
    SQLite may then give an id again): the page holds those same objects, and the rows it reads are added to it.
    """
    window = _Window(min_round, max_round, after_ns, order, offset, limit)
    if scope.source is not None or scope.end_ns is not None:
        return _scan(conn, scope, window, known)
    scopes, rounds, stored, series_id, experiment = scope_counts(conn, scope)
    if not scopes or rounds is None or stored is None:
        return [], 0, None
    narrowed = any(v is not None for v in (scope.round, scope.min_round, scope.max_round, scope.start_ns))
    if stored > scope.limit:  # all of them may be in scope: count exactly (or decline) the slow way
        return _scan(conn, scope, window, known) if narrowed else None
    if scopes > 1:
        return _ranked(conn, *metric_where(attrs.evolve(scope, source=None, end_ns=None)), window, known)
    # One (series, experiment): named by its key, so its rounds are read off the index in order (a key found by
    # the scope's name and tags, "series_id IN (...)", would have them sorted again).
    key = ("m.series_id = ? AND m.experiment = ?", [series_id, experiment])
    rest, rest_params = metric_where(
        MetricQuery(round=scope.round, min_round=scope.min_round, max_round=scope.max_round, start_ns=scope.start_ns)
    )
    where, params = f"{key[0]} AND {rest}", [*key[1], *rest_params]
    page = _page(conn, where, params, window, known)
    highest = conn.execute(f"SELECT max(round) FROM round_newest m WHERE {where}", params).fetchone()[0]
    if scope.start_ns is not None or after_ns is not None or scope.round is not None:
        total = _count(conn, where, params, window)
    else:  # only round bounds: the running count, less what lies outside them
        low = max((b for b in (scope.min_round, min_round) if b is not None), default=None)
        high = min((b for b in (scope.max_round, max_round) if b is not None), default=None)
        total = _count_by_bounds(conn, key, low, high, rounds)
    return page, total, highest


def _page(
    conn: sqlite3.Connection, where: str, params: list[Any], window: _Window, known: KnownRows | None
) -> list[Metric]:
    """The page's rows of a one-(series, experiment) scope: a walk of ``round_newest``'s key in round order."""
    clauses, narrowed = window.where("m.")
    sql = f"""SELECT {_ROW_COLUMNS} FROM (SELECT m.metric_id, m.round FROM round_newest m
        WHERE {" AND ".join([where, *clauses])} ORDER BY m.round {DIRECTION[window.order]} LIMIT ? OFFSET ?) r
        {_PAGE_JOIN} ORDER BY r.round {DIRECTION[window.order]}"""
    rows = conn.execute(sql, [*params, *narrowed, window.limit, window.offset]).fetchall()
    return _metrics(rows, 0, known)


def _count(conn: sqlite3.Connection, where: str, params: list[Any], window: _Window) -> int:
    clauses, narrowed = window.where("m.")
    sql = f"SELECT count(*) FROM round_newest m WHERE {' AND '.join([where, *clauses])}"
    return int(conn.execute(sql, [*params, *narrowed]).fetchone()[0])


def _count_by_bounds(
    conn: sqlite3.Connection, keys: tuple[str, list[Any]], low: int | None, high: int | None, rounds: int
) -> int:
    """The rounds of a one-(series, experiment) scope (``keys``, ``rounds`` of them) within ``low``..``high``:
    counted in that range or, when more round numbers lie inside it than outside, ``rounds`` less those outside."""
    if low is None and high is None:
        return rounds
    where, params = keys
    # Two statements' worth: SQLite reads a lone min() or max() off the index, min() and max() together by a scan.
    each = f"FROM round_newest m WHERE {where}"
    bounds = f"SELECT (SELECT min(m.round) {each}), (SELECT max(m.round) {each})"
    first, last = conn.execute(bounds, [*params, *params]).fetchone()
    low = first if low is None else max(low, first)
    high = last if high is None else min(high, last)
    if high < low:
        return 0
    if high - low + 1 <= (low - first) + (last - high):  # each count steps through the index entries it counts
        sql = f"SELECT count(*) FROM round_newest m WHERE {where} AND m.round BETWEEN ? AND ?"
        return int(conn.execute(sql, [*params, low, high]).fetchone()[0])
    outside = f"""SELECT (SELECT count(*) FROM round_newest m WHERE {where} AND m.round < ?)
        + (SELECT count(*) FROM round_newest m WHERE {where} AND m.round > ?)"""
    return rounds - int(conn.execute(outside, [*params, low, *params, high]).fetchone()[0])


def _ranked(
    conn: sqlite3.Connection, where: str, params: list[Any], window: _Window, known: KnownRows | None
) -> RoundAnswer:
    """A scope over several (series, experiment): their newest rows ranked per round, counted and paged."""
    clauses, narrowed = window.where("")
    direction = DIRECTION[window.order]
    sql = f"""WITH entries AS MATERIALIZED (SELECT m.metric_id, m.round, m.time_ns FROM round_newest m WHERE {where}),
        ranked AS MATERIALIZED (SELECT metric_id, round, ROW_NUMBER() OVER (
            PARTITION BY round ORDER BY time_ns DESC, metric_id DESC) AS nth FROM entries
            WHERE {" AND ".join(clauses) or "1"}),
        stats AS (SELECT (SELECT max(round) FROM entries) AS highest,
            (SELECT count(*) FROM ranked WHERE nth = 1) AS total),
        page AS (SELECT metric_id, round FROM ranked WHERE nth = 1 ORDER BY round {direction} LIMIT ? OFFSET ?)
        SELECT highest, total, {_ROW_COLUMNS} FROM stats LEFT JOIN page r
        LEFT JOIN metrics m ON m.id = r.metric_id LEFT JOIN series s ON s.id = m.series_id
        ORDER BY r.round {direction}"""
    rows: list[Any] = conn.execute(sql, [*params, *narrowed, window.limit, window.offset]).fetchall()
    highest, total = rows[0][:2]
    return _metrics(rows, 2, known), total, highest


def _scan(
    conn: sqlite3.Connection, scope: MetricQuery, window: _Window, known: KnownRows | None = None
) -> RoundAnswer | None:
    """Every row of the scope ranked per round in one pass (each a lookup in ``metrics``: slow on a big scope), for
    the scopes ``round_newest`` cannot answer; None when the scope holds more than ``scope.limit`` rows with a round."""
    where, params = metric_where(scope)
    clauses, narrowed = window.where("")
    direction = DIRECTION[window.order]
    sql = f"""WITH scoped AS MATERIALIZED (SELECT m.id, m.round, m.time_ns FROM metrics m WHERE {where}),
        ranked AS MATERIALIZED (SELECT id, round, ROW_NUMBER() OVER (
            PARTITION BY round ORDER BY time_ns DESC, id DESC) AS nth FROM scoped
            WHERE {" AND ".join(["round IS NOT NULL", *clauses])}),
        stats AS (SELECT (SELECT count(round) FROM scoped) AS rows_in_scope, (SELECT max(round) FROM scoped) AS highest,
            (SELECT count(*) FROM ranked WHERE nth = 1) AS total),
        page AS (SELECT id, round FROM ranked WHERE nth = 1 ORDER BY round {direction} LIMIT ? OFFSET ?)
        SELECT rows_in_scope, highest, total, {_ROW_COLUMNS} FROM stats LEFT JOIN page p
        LEFT JOIN metrics m ON m.id = p.id LEFT JOIN series s ON s.id = m.series_id
        ORDER BY p.round {direction}"""
    rows: list[Any] = conn.execute(sql, [*params, *narrowed, window.limit, window.offset]).fetchall()
    rows_in_scope, highest, total = rows[0][:3]
    if rows_in_scope > scope.limit:
        return None
    return _metrics(rows, 3, known), total, highest
