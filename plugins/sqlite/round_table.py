"""The newest stored row of every round, kept beside ``metrics`` so the dashboard's rounds are an index lookup.

A round may be stored more than once (the FL monitor re-reads ``/rounds``); the dashboard serves the newest stored
row of each round: the latest ``time_ns``, ties by the higher id (the later insert). ``round_newest`` holds that
row's id per ``(series, experiment, round)`` and how many rows of the round are stored; ``round_scopes`` holds, per
``(series, experiment)``, how many rounds and rows it has, so the counts the routes answer need no scan.

Triggers keep both in the transaction that inserts or deletes a metric (as ``event_counts`` is kept), whatever
version of the writer runs. Retention deletes the oldest rows first, so the newest row of a round goes with the
round's last row; a delete of the newest row while older ones stay (no code path does it) looks the next one up.

A row without an experiment is kept under ``X''`` (a blob, never equal to any text a query names), so the key has
no NULL and a row of experiment ``''`` stays apart from one without an experiment.
"""

from __future__ import annotations

#: The key of a metric row (``{0}`` is ``NEW`` or ``OLD``) in both tables, as SQL over their own columns.
_SCOPE = "series_id = {0}.series_id AND experiment = ifnull({0}.experiment, X'')"
_ROUND = _SCOPE + " AND round = {0}.round"

#: The upsert of one stored row into ``round_newest`` (``{rows}``: the SELECT or VALUES giving the row).
_KEEP_NEWEST = """INSERT INTO round_newest (series_id, experiment, round, metric_id, time_ns, stored) {rows}
    ON CONFLICT DO UPDATE SET stored = stored + excluded.stored,
        metric_id = iif((excluded.time_ns, excluded.metric_id) > (time_ns, metric_id), excluded.metric_id, metric_id),
        time_ns = max(time_ns, excluded.time_ns)"""

_NEW_ROW = "VALUES (NEW.series_id, ifnull(NEW.experiment, X''), NEW.round, NEW.id, NEW.time_ns, 1)"

#: Created in this order after the tables of :data:`~.schema.DDL`.
ROUND_DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS round_newest (
        series_id INTEGER NOT NULL,
        experiment TEXT NOT NULL,      -- X'' for rows without an experiment
        round INTEGER NOT NULL,
        metric_id INTEGER NOT NULL,    -- the newest row of the round: latest time_ns, ties by the higher id
        time_ns INTEGER NOT NULL,      -- that row's time
        stored INTEGER NOT NULL,       -- rows of the round stored
        PRIMARY KEY (series_id, experiment, round)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS round_scopes (
        series_id INTEGER NOT NULL,
        experiment TEXT NOT NULL,
        rounds INTEGER NOT NULL,       -- its rows in round_newest
        stored INTEGER NOT NULL,       -- metrics rows with a round
        PRIMARY KEY (series_id, experiment)
    ) WITHOUT ROWID""",
    f"""CREATE TRIGGER IF NOT EXISTS metrics_round_stored AFTER INSERT ON metrics WHEN NEW.round IS NOT NULL BEGIN
        INSERT INTO round_scopes VALUES (NEW.series_id, ifnull(NEW.experiment, X''), 1, 1)
            ON CONFLICT DO UPDATE SET stored = stored + 1,
                rounds = rounds + NOT EXISTS (SELECT 1 FROM round_newest WHERE {_ROUND.format("NEW")});
        {_KEEP_NEWEST.format(rows=_NEW_ROW)};
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS metrics_round_deleted AFTER DELETE ON metrics WHEN OLD.round IS NOT NULL BEGIN
        UPDATE round_newest SET stored = stored - 1 WHERE {_ROUND.format("OLD")};
        UPDATE round_scopes SET stored = stored - 1,
            rounds = rounds - EXISTS (SELECT 1 FROM round_newest WHERE {_ROUND.format("OLD")} AND stored = 0)
            WHERE {_SCOPE.format("OLD")};
        DELETE FROM round_newest WHERE {_ROUND.format("OLD")} AND stored = 0;
        DELETE FROM round_scopes WHERE {_SCOPE.format("OLD")} AND stored = 0;
        UPDATE round_newest SET (metric_id, time_ns) = (SELECT id, time_ns FROM metrics
                WHERE series_id = OLD.series_id AND experiment IS OLD.experiment AND round = OLD.round
                ORDER BY time_ns DESC, id DESC LIMIT 1)
            WHERE {_ROUND.format("OLD")} AND metric_id = OLD.id;
    END""",
)

#: Fill both tables from the stored rows, for a file written before they existed (run once, when they are created).
BACKFILL_ROUNDS: tuple[str, ...] = (
    _KEEP_NEWEST.format(
        rows="SELECT series_id, ifnull(experiment, X''), round, id, time_ns, 1 FROM metrics WHERE round IS NOT NULL"
    ),
    "INSERT INTO round_scopes SELECT series_id, experiment, count(*), sum(stored) FROM round_newest "
    "GROUP BY series_id, experiment",
)
