"""The rows the store builds from its stored columns encode, to the byte, as the rows the faces build from records.

Generated records go through the real writer; then each page is read both ways, on the same reader connection: the
store's rows (:mod:`flcollector.plugins.sqlite.json_rows`, stored JSON embedded as it is) against ``jsonio.dumps``
of the face's own row function over the records the store returns (``record_json`` for the spec API,
``metric_item``/``event_item`` for the dashboard).
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from flcollector import Event, EventQuery, Metric, MetricQuery
from flcollector.plugins.dashboard.contract import event_item, metric_item
from flcollector.plugins.server.jsonio import dumps, format_time, format_times, record_json
from flcollector.plugins.sqlite import json_rows, queries
from flcollector.plugins.sqlite.schema import connect
from flcollector.plugins.sqlite.writer import StoreWriter
from hypothesis import given, settings
from hypothesis import strategies as st

#: Strings with what JSON must escape, non-ASCII text, and the names the dashboard's ``data`` adds itself.
texts = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["timestamp", "source_component", "fl_server", "POLICY_ENGINE", 'a"b\\c', "\x00\x1f\x7f\u2028", "é😀", '"k":']
    ),
)
field_values = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.floats(),  # NaN and infinities are stored as null
    st.booleans(),
    texts,
)
times = st.integers(0, 2**63 - 1)
rounds = st.none() | st.integers(0, 2**31 - 1)
details = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
experiments = itertools.count()


def metrics(experiment: str, source: st.SearchStrategy[str] = texts) -> st.SearchStrategy[Metric]:
    return st.builds(
        Metric,
        name=st.text(min_size=1, max_size=10) | texts.filter(bool),
        fields=st.dictionaries(texts, field_values, max_size=5),
        time_ns=times,
        tags=st.dictionaries(texts, texts, max_size=3),
        source=source,
        experiment=st.just(experiment),
        round=rounds,
    )


def events(experiment: str, source: st.SearchStrategy[str] = texts) -> st.SearchStrategy[Event]:
    return st.builds(
        Event,
        type=texts.filter(bool),
        message=texts,
        time_ns=times,
        source=source,
        level=st.sampled_from(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]),
        details=st.dictionaries(texts, details, max_size=4),
        experiment=st.just(experiment),
        round=rounds,
        origin_id=st.none() | texts,
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StoreWriter, sqlite3.Connection]]:
    """One store file for the module's examples (each example writes its own experiment); writer and reader."""
    path: Path = tmp_path_factory.mktemp("json_rows") / "store.db"
    writer = StoreWriter(path)
    reader = connect(path, writer=False)
    yield writer, reader
    reader.close()
    writer.close()


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_metric_rows_are_the_faces_rows(store: tuple[StoreWriter, sqlite3.Connection], data: st.DataObject) -> None:
    writer, reader = store
    experiment = f"m{next(experiments)}"
    writer.write(data.draw(st.lists(metrics(experiment), min_size=1, max_size=8)))
    for order in ("asc", "desc"):
        query = MetricQuery(experiment=experiment, order=order, limit=5, offset=data.draw(st.integers(0, 2)))
        stored = queries.query_metrics(reader, query)
        for shape, item in (("record", record_json), ("dashboard", metric_item)):
            rows, max_id = json_rows.metrics_json(reader, query, shape)
            assert dumps(rows) == dumps([item(m) for m in stored]), shape
            assert (len(rows), max_id) == (len(stored), None)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_event_rows_are_the_faces_rows(store: tuple[StoreWriter, sqlite3.Connection], data: st.DataObject) -> None:
    writer, reader = store
    experiment = f"e{next(experiments)}"
    writer.write(data.draw(st.lists(events(experiment), min_size=1, max_size=8)))
    for order, sort in itertools.product(("asc", "desc"), ("id", "time")):
        query = EventQuery(experiment=experiment, order=order, sort=sort, limit=5)
        stored = queries.query_events(reader, query)
        for shape, item in (("record", record_json), ("dashboard", event_item)):
            rows, max_id = json_rows.events_json(reader, query, shape)
            assert dumps(rows) == dumps([item(e) for e in stored]), shape
            assert (len(rows), max_id) == (len(stored), max(e.id for e in stored if e.id is not None))


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_rows_of_any_experiment_are_the_faces_rows(
    store: tuple[StoreWriter, sqlite3.Connection], data: st.DataObject
) -> None:
    """Experiments of any text, or none: each example's records have a source of their own to be found by."""
    writer, reader = store
    source = f"s{next(experiments)}"
    experiment = data.draw(st.none() | texts)
    writer.write(data.draw(st.lists(metrics(experiment, st.just(source)), min_size=1, max_size=6)))
    writer.write(data.draw(st.lists(events(experiment, st.just(source)), min_size=1, max_size=6)))
    metric_query, event_query = MetricQuery(source=source, limit=10), EventQuery(source=source, limit=10)
    stored_metrics, stored_events = (
        queries.query_metrics(reader, metric_query),
        queries.query_events(reader, event_query),
    )
    for shape, metric_row, event_row in (("record", record_json, record_json), ("dashboard", metric_item, event_item)):
        assert dumps(json_rows.metrics_json(reader, metric_query, shape)[0]) == dumps(
            [metric_row(m) for m in stored_metrics]
        )
        assert dumps(json_rows.events_json(reader, event_query, shape)[0]) == dumps(
            [event_row(e) for e in stored_events]
        )


def test_a_field_named_like_a_tag_or_an_added_key_keeps_the_fields_value(
    store: tuple[StoreWriter, sqlite3.Connection],
) -> None:
    """The dashboard's ``data``: a field wins over a tag and the two added keys of the same name (merged parsed);
    a string value holding a key's text only takes the long way, with the same answer."""
    writer, reader = store
    writer.write(
        [
            Metric(
                "m", {"host": 1, "timestamp": "field", "v": 2.5}, 10**18, {"host": "h1", "zone": "z"}, "fl_server", "x1"
            ),
            Metric("m", {"note": '"zone":'}, 10**18 + 1, {"host": "h1", "zone": "z"}, "fl_server", "x1"),
            Metric("m", {}, 10**18 + 2, {"source_component": "tag", "timestamp": "tag"}, "fl_server", "x1"),
            Metric("m", {}, 10**18 + 3, {}, "fl_server", "x1"),
        ]
    )
    rows, _ = json_rows.metrics_json(reader, MetricQuery(experiment="x1", order="asc"), "dashboard")
    data = [orjson.loads(dumps(row))["data"] for row in rows]
    at = format_time(10**18, "+00:00")
    assert list(data[0].items()) == [
        ("host", 1),
        ("timestamp", "field"),
        ("v", 2.5),
        ("zone", "z"),
        ("source_component", "FL_SERVER"),
    ]
    assert list(data[1].items()) == [
        ("note", '"zone":'),
        ("host", "h1"),
        ("zone", "z"),
        ("timestamp", at),
        ("source_component", "FL_SERVER"),
    ]
    assert list(data[2].items()) == [("source_component", "tag"), ("timestamp", "tag")]
    assert list(data[3]) == ["timestamp", "source_component"]


def test_an_empty_page_is_an_empty_list(store: tuple[StoreWriter, sqlite3.Connection]) -> None:
    _, reader = store
    assert json_rows.metrics_json(reader, MetricQuery(experiment="none"), "record") == ([], None)
    assert json_rows.events_json(reader, EventQuery(experiment="none"), "dashboard") == ([], None)


@given(time_ns=st.integers(-(2**62), 2**63 - 1))
def test_format_time_is_the_iso_format_of_the_datetime(time_ns: int) -> None:
    """format_time caches each second's text; what it writes is still ``datetime.isoformat`` to the microsecond."""
    seconds, rest = divmod(time_ns, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest // 1000, tzinfo=None)
    for zone in ("Z", "+00:00"):
        assert format_time(time_ns, zone) == moment.isoformat(timespec="microseconds") + zone


@given(times=st.lists(st.integers(-(2**62), 2**63 - 1) | st.integers(10**18, 10**18 + 3 * 10**9), max_size=8))
def test_format_times_is_format_time_of_each(times: list[int]) -> None:
    """A page's times (some of the same second, reusing its text) are written as one by one."""
    for zone in ("Z", "+00:00"):
        assert format_times(times, zone) == [format_time(t, zone) for t in times]
