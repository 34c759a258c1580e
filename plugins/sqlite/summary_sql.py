"""Per-series summaries of a window in one SQL pass (``SummaryStore.summarize_metrics``): samples, first and last
time, the distinct rounds, and the count, sum, min and max of each asked field's numeric values.

SQLite takes the JSON apart; Python gets one row per series, whatever the window holds. Every value is a bound
parameter (the JSON paths too); the text spliced into SQL is built here from fixed pieces.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import orjson
from flcollector import FieldStats, MetricQuery, SeriesSummary

from .bulk_sql import json_path
from .queries import metric_where

_NUMERIC = "('integer', 'real')"


def summarize_metrics(conn: sqlite3.Connection, query: MetricQuery, fields: Sequence[str]) -> list[SeriesSummary]:
    """One :class:`SeriesSummary` per series matching ``query`` (limit, offset and order ignored)."""
    where, where_params = metric_where(query)
    values: list[str] = []
    params: list[Any] = []
    stats: list[str] = []
    for index, name in enumerate(fields):
        path = json_path(name)
        # only numbers count: a boolean or a text value of the field is left out, as in flcollector.summary.fold
        values.append(f"CASE WHEN json_type(m.fields, ?) IN {_NUMERIC} THEN json_extract(m.fields, ?) END AS v{index}")
        params += [path, path]
        stats.append(f"count(v{index}), total(v{index}), min(v{index}), max(v{index})")
    inner = ", ".join(["m.series_id", "m.time_ns", "m.round", *values])
    columns = ", ".join(["count(*)", "min(time_ns)", "max(time_ns)", "json_group_array(DISTINCT round)", *stats])
    # LIMIT -1 keeps SQLite from flattening the subquery, so each field is taken out of the JSON once per row
    sql = (
        f"SELECT s.name, s.tags, g.* FROM (SELECT series_id, {columns} FROM "
        f"(SELECT {inner} FROM metrics m WHERE {where} LIMIT -1) GROUP BY series_id) AS g "
        "JOIN series s ON s.id = g.series_id ORDER BY s.name, s.tags"
    )
    summaries = []
    for row in conn.execute(sql, params + where_params):
        name, tags, _series, samples, first_ns, last_ns, rounds = row[:7]
        found: dict[str, FieldStats] = {}
        for index, field in enumerate(fields):
            count, total, low, high = row[7 + 4 * index : 11 + 4 * index]
            if count:
                found[field] = FieldStats(count, total, low, high)
        summaries.append(
            SeriesSummary(
                name,
                orjson.loads(tags),
                samples,
                first_ns,
                last_ns,
                frozenset(r for r in orjson.loads(rounds) if r is not None),
                found,
            )
        )
    return summaries
