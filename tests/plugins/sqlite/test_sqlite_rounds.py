"""The newest stored row of each round (``round_newest``, ``round_scopes``) and the pages read from them.

The tables are checked against what the ``metrics`` rows say (recomputed in SQL) after random writes — rounds out of
order, stored again later, earlier or at the same time, several experiments and series, rows without an experiment
or a round — retention steps and arbitrary deletes; the pages against a plain Python reading of the stored rows.
A file written by the schema before the tables existed gains them, filled from its rows, once.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import trio
from flcollector import Metric, MetricQuery, now_ns
from flcollector.plugins.sqlite import SqliteStore, round_sql
from flcollector.plugins.sqlite.queries import METRIC_COLUMNS, metric_from_row
from flcollector.plugins.sqlite.schema import DDL, SCHEMA_VERSION, connect
from flcollector.plugins.sqlite.writer import StoreWriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_records import T0

#: What round_newest must hold: per (series, experiment, round) the newest row (latest time, ties by the higher id).
_EXPECTED_NEWEST = """SELECT series_id, ifnull(experiment, X''), round, id, time_ns, stored FROM (
    SELECT *, ROW_NUMBER() OVER w AS nth, count(*) OVER (PARTITION BY series_id, experiment, round) AS stored
    FROM metrics WHERE round IS NOT NULL
    WINDOW w AS (PARTITION BY series_id, experiment, round ORDER BY time_ns DESC, id DESC)) WHERE nth = 1
    ORDER BY 1, 2, 3"""
_EXPECTED_SCOPES = """SELECT series_id, ifnull(experiment, X''), count(DISTINCT round), count(*) FROM metrics
    WHERE round IS NOT NULL GROUP BY series_id, experiment ORDER BY 1, 2"""

EXPERIMENTS = (None, "", "a", "b")


def _tables(conn: sqlite3.Connection) -> tuple[list[Any], list[Any]]:
    newest = conn.execute("SELECT * FROM round_newest ORDER BY 1, 2, 3").fetchall()
    scopes = conn.execute("SELECT * FROM round_scopes ORDER BY 1, 2").fetchall()
    return newest, scopes


def _expected(conn: sqlite3.Connection) -> tuple[list[Any], list[Any]]:
    return conn.execute(_EXPECTED_NEWEST).fetchall(), conn.execute(_EXPECTED_SCOPES).fetchall()


# -- stored rows -----------------------------------------------------------------------------------------------------

_row = st.tuples(
    st.sampled_from(["fl_round", "fl_server"]),
    st.sampled_from([{}, {"client": "c1"}]),
    st.sampled_from(EXPERIMENTS),
    st.one_of(st.none(), st.integers(0, 7)),  # rounds out of order, again, or none
    st.integers(0, 12),  # seconds after T0: many ties
)
#: ("write", rows) | ("retain", cutoff seconds, chunk) | ("delete", which stored row, by position)
_step = st.one_of(
    st.tuples(st.just("write"), st.lists(_row, min_size=1, max_size=12)),
    st.tuples(st.just("retain"), st.integers(0, 13), st.integers(1, 5)),
    st.tuples(st.just("delete"), st.integers(0, 1000)),
)


def _run(writer: StoreWriter, steps: list[Any]) -> None:
    written = 0
    for step in steps:
        if step[0] == "write":
            batch = []
            for name, tags, experiment, round_, second in step[1]:
                written += 1  # each row's fields name it, so the row served can be told from the others of a round
                time_ns = T0 + second * 1_000_000_000
                batch.append(Metric(name, {"n": written}, time_ns, tags, "fl", experiment, round_))
            writer.write(batch)
        elif step[0] == "retain":
            writer.cleanup(T0 + step[1] * 1_000_000_000, step[2], 0)
        else:  # a delete retention never makes (any row, the newest of its round too): the next newest takes over
            ids = [i for (i,) in writer.conn.execute("SELECT id FROM metrics ORDER BY id")]
            if ids:
                writer.conn.execute("DELETE FROM metrics WHERE id = ?", (ids[step[1] % len(ids)],))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_step, min_size=1, max_size=8))
def test_the_round_tables_follow_every_write_and_delete(steps: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        writer = StoreWriter(Path(tmp) / "store.db")
        try:
            _run(writer, steps)
            assert _tables(writer.conn) == _expected(writer.conn)
        finally:
            writer.close()


# -- pages -----------------------------------------------------------------------------------------------------------


def _stored(conn: sqlite3.Connection) -> list[tuple[int, Metric]]:
    sql = f"SELECT m.id, {METRIC_COLUMNS} FROM metrics m JOIN series s ON s.id = m.series_id ORDER BY m.id"
    return [(row[0], metric_from_row(row[1:])) for row in conn.execute(sql)]


def _in_scope(m: Metric, q: MetricQuery) -> bool:
    checks = (
        q.names is None or m.name in q.names,
        all(m.tags.get(k) == v for k, v in q.tags.items()),
        q.source is None or m.source == q.source,
        q.experiment is None or m.experiment == q.experiment,
        q.round is None or m.round == q.round,
        q.min_round is None or (m.round is not None and m.round >= q.min_round),
        q.max_round is None or (m.round is not None and m.round <= q.max_round),
        q.start_ns is None or m.time_ns >= q.start_ns,
        q.end_ns is None or m.time_ns <= q.end_ns,
    )
    return all(checks)


def _oracle(rows: list[tuple[int, Metric]], q: MetricQuery, window: tuple[Any, ...]) -> round_sql.RoundAnswer | None:
    """The answer read from every stored row in Python: the newest (time, id) of each round in scope."""
    low, high, after, order, offset, limit = window
    scoped = [(i, m) for i, m in rows if _in_scope(m, q) and m.round is not None]
    if len(scoped) > q.limit:
        return None
    newest: dict[int, tuple[int, int, Metric]] = {}
    for i, m in scoped:
        assert m.round is not None
        kept = newest.get(m.round)
        if kept is None or (m.time_ns, i) > kept[:2]:
            newest[m.round] = (m.time_ns, i, m)
    chosen = [
        newest[n][2]
        for n in sorted(newest)
        if (low is None or n >= low) and (high is None or n <= high) and (after is None or newest[n][0] > after)
    ]
    if order == "desc":
        chosen.reverse()
    return chosen[offset : offset + limit], len(chosen), max(newest, default=None)


_scope = st.builds(
    MetricQuery,
    names=st.sampled_from([["fl_round"], ["fl_round", "fl_server"], None]),
    tags=st.sampled_from([{}, {"client": "c1"}]),
    source=st.sampled_from([None, None, None, "fl", "other"]),
    experiment=st.sampled_from([None, "", "a", "b", "zz"]),
    round=st.sampled_from([None, None, None, 3]),
    min_round=st.sampled_from([None, None, 1, 4]),
    max_round=st.sampled_from([None, None, 5]),
    start_ns=st.sampled_from([None, None, T0 + 4_000_000_000]),
    end_ns=st.sampled_from([None, None, None, T0 + 8_000_000_000]),
    limit=st.sampled_from([100_000, 100_000, 3, 8]),
)
_window = st.tuples(
    st.sampled_from([None, 0, 1, 2, 6]),
    st.sampled_from([None, 1, 3, 6]),
    st.sampled_from([None, T0 + 3_000_000_000, T0 + 9_000_000_000]),
    st.sampled_from(["asc", "desc"]),
    st.sampled_from([0, 1, 4]),
    st.sampled_from([1, 3, 100]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_step, min_size=1, max_size=6), st.lists(st.tuples(_scope, _window), min_size=1, max_size=6))
def test_pages_are_the_newest_row_of_each_round_as_read_from_every_row(
    steps: list[Any], asked: list[tuple[MetricQuery, tuple[Any, ...]]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "store.db"
        writer = StoreWriter(path)
        reader = connect(path, writer=False)
        try:
            _run(writer, steps)
            rows = _stored(reader)
            for scope, window in asked:
                order: Literal["asc", "desc"] = window[3]
                found = round_sql.newest_per_round(reader, scope, *window[:3], order, *window[4:])
                assert found == _oracle(rows, scope, window), (scope, window)
        finally:
            reader.close()
            writer.close()


def test_a_page_counts_rounds_inside_or_outside_the_range_whichever_is_shorter(tmp_path: Path) -> None:
    """Rounds 0-99 with gaps: a range near either end counts what lies outside it, a short one what lies inside."""
    writer = StoreWriter(tmp_path / "store.db")
    reader = connect(tmp_path / "store.db", writer=False)
    try:
        stored = [n for n in range(100) if n % 7]
        writer.write([Metric("fl_round", {"n": n}, T0 + n, experiment="a", round=n) for n in stored])
        scope = MetricQuery(names=["fl_round"], experiment="a", limit=1000)
        for low, high in ((1, None), (None, 90), (2, 97), (40, 45), (0, 0), (7, 7), (98, 200), (150, None)):
            found = round_sql.newest_per_round(reader, scope, low, high, None, "asc", 0, 5)
            assert found is not None
            inside = [n for n in stored if (low is None or n >= low) and (high is None or n <= high)]
            assert ([m.round for m in found[0]], found[1], found[2]) == (inside[:5], len(inside), 99), (low, high)
    finally:
        reader.close()
        writer.close()


# -- a file from before the tables -----------------------------------------------------------------------------------


def _version_2_file(path: Path, rows: list[tuple[Any, ...]]) -> None:
    """A store file as schema version 2 made it: the tables of :data:`DDL`, no round tables, these metrics."""
    old = sqlite3.connect(path, isolation_level=None)
    for statement in DDL:
        old.execute(statement)
    old.execute("INSERT INTO series (id, name, tags) VALUES (1, 'fl_round', '{}'), (2, 'fl_round', '{\"c\":\"1\"}')")
    old.executemany(
        "INSERT INTO metrics (time_ns, series_id, fields, source, experiment, round) VALUES (?, ?, '{}', 'fl', ?, ?)",
        rows,
    )
    old.execute("PRAGMA user_version = 2")
    old.close()


def test_a_version_2_file_gains_the_round_tables_filled_once(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    rows = [  # (time_ns, series, experiment, round): re-stored later, earlier, at the same time; gaps; no experiment
        (T0 + 5, 1, "a", 2),
        (T0 + 1, 1, "a", 1),
        (T0 + 9, 1, "a", 2),
        (T0 + 3, 1, "a", 2),
        (T0 + 9, 1, "a", 2),
        (T0 + 2, 1, "b", 1),
        (T0 + 2, 1, None, 1),
        (T0 + 2, 1, "", 1),
        (T0 + 4, 2, "a", 2),
        (T0 + 7, 1, "a", None),
    ]
    _version_2_file(path, rows)
    for _ in range(2):  # the second open finds the tables and leaves them (filling again would count twice)
        writer = StoreWriter(path)
        try:
            assert writer.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
            newest, scopes = _tables(writer.conn)
            assert (newest, scopes) == _expected(writer.conn)
        finally:
            writer.close()
    assert [(sid, exp, n, metric_id, stored) for sid, exp, n, metric_id, _t, stored in newest] == [
        (1, "", 1, 8, 1),
        (1, "a", 1, 2, 1),
        (1, "a", 2, 5, 4),  # rows 3 and 5 tie at the latest time: the later insert
        (1, "b", 1, 6, 1),
        (1, b"", 1, 7, 1),  # no experiment: apart from experiment ""
        (2, "a", 2, 9, 1),
    ]
    assert scopes == [(1, "", 1, 1), (1, "a", 2, 5), (1, "b", 1, 1), (1, b"", 1, 1), (2, "a", 1, 1)]
    writer = StoreWriter(path)  # and the triggers keep them from then on
    try:
        writer.write([Metric("fl_round", {}, T0 + 20, source="fl", experiment="a", round=1)])
        assert _tables(writer.conn) == _expected(writer.conn)
    finally:
        writer.close()


# -- pages kept by the store -----------------------------------------------------------------------------------------


async def test_a_kept_page_follows_every_change_of_its_rounds_and_no_other_write(
    make_component: Callable[..., Any],
) -> None:
    scope = MetricQuery(names=["fl_round"], experiment="a", limit=1000)
    old = now_ns() - 30 * 86400 * 10**9

    def fl_round(n: int, at: int, experiment: str = "a") -> Metric:
        return Metric("fl_round", {"n": n, "at": at}, at, experiment=experiment, round=n)

    sink = make_component(SqliteStore, {"retention": "14d", "cleanup_interval": "1h"})
    with trio.fail_after(10):
        async with sink:
            await sink.write([Metric("cpu", {"v": 0.0})])  # the first write runs a retention step, the next in 1 h
            await sink.write([fl_round(1, old), fl_round(2, old + 1)])
            first = await sink.newest_per_round(scope)
            assert first is not None and await sink.newest_per_round(scope) is first  # kept: nothing read again
            await sink.write([Metric("cpu", {"v": 1.0}), fl_round(2, old + 5, "b")])  # not its rounds: still kept
            assert await sink.newest_per_round(scope) is first

            await sink.write([fl_round(3, now_ns())])  # a new round: read again, the stored rows as read before
            second = await sink.newest_per_round(scope)
            assert second is not None and [m.round for m in second[0]] == [1, 2, 3]
            assert second[0][0] is first[0][0] and second[0][1] is first[0][1]
            await sink.write([fl_round(2, old + 9)])  # round 2 stored again, later: its newer row
            third = await sink.newest_per_round(scope)
            assert third is not None and third[0][1].fields["at"] == old + 9 and third[1:] == (3, 3)

            await sink.cleanup()  # rounds 1 and 2 are past the retention
            fourth = await sink.newest_per_round(scope)
    assert fourth is not None and [m.round for m in fourth[0]] == [3] and fourth[1:] == (1, 3)
