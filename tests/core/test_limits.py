"""The limits every record is held to (flcollector.limits) and the strict record parsing (record_from_dict)."""

from __future__ import annotations

import pytest
from flcollector import MAX_ROUND, MAX_TIME_NS, Event, InvalidRecord, Metric, check_record, record_from_dict
from flcollector.limits import split_valid

GOOD_METRIC = Metric("cpu", {"usage": 1.5, "cores": 4, "ok": True, "state": "up"}, 1, {"host": "n1"}, "host", "e", 3)
GOOD_EVENT = Event("ROUND_END", "done", 1, "fl", "INFO", {"x": [1]}, "e", 3, 7, "abc")


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (Metric("m", {"v": 1}, time_ns=2**63), "time_ns"),  # beyond int64: SQLite cannot bind it
        (Metric("m", {"v": 1}, time_ns=-1), "time_ns"),
        (Metric("m", {"v": 1}, time_ns="5"), "time_ns"),  # type: ignore[arg-type]
        (Metric("m", {"v": 1}, time_ns=5.0), "time_ns"),  # type: ignore[arg-type]
        (Metric("m", {"v": 1}, time_ns=True), "time_ns"),  # type: ignore[arg-type]
        (Metric("m", {"v": 1}, round=10**23), "round"),
        (Metric("m", {"v": 1}, round=-1), "round"),
        (Metric("m", {"v": 1}, round=MAX_ROUND + 1), "round"),
        (Metric("m", {"v": 2**64 - 1}), "fields.v"),
        (Metric("m", {"v": [1]}), "fields.v"),  # type: ignore[dict-item]
        (Metric("m", {"v": None}), "fields.v"),  # type: ignore[dict-item]
        (Metric("m", {"v": 1}, tags={"a": {"b": 1}}), "tags.a"),  # type: ignore[dict-item]
        (Metric("m", {"v": 1}, tags={"a": 1}), "tags.a"),  # type: ignore[dict-item]
        (Metric("", {"v": 1}), "name"),
        (Metric("m", {"v": 1}, source=None), "source"),  # type: ignore[arg-type]
        (Metric("m", {"v": 1}, experiment=5), "experiment"),  # type: ignore[arg-type]
        (Event("X", level="LOUD"), "level"),  # type: ignore[arg-type]
        (Event("X", id=0), "id"),
        (Event("X", id=2**63), "id"),
        (Event("X", details=[1]), "details"),  # type: ignore[arg-type]
        (Event("", message="m"), "type"),
    ],
)
def test_a_value_no_sink_can_store_is_named(record: Metric | Event, field: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        check_record(record)
    assert caught.value.field == field and str(caught.value).startswith(f"{field}: ")


def test_the_edges_of_every_range_pass() -> None:
    for record in (
        GOOD_METRIC,
        GOOD_EVENT,
        Metric("m", {"big": 2**63 - 1, "small": -(2**63), "nan": float("nan")}, MAX_TIME_NS, round=MAX_ROUND),
        Metric("m", {}, 0, round=0),
    ):
        check_record(record)


def test_split_valid_keeps_the_good_records_in_order_and_names_the_bad() -> None:
    bad_time, bad_field = Metric("m", {"v": 1}, time_ns=2**64), Metric("m", {"v": 2**70})
    good, bad = split_valid([GOOD_METRIC, bad_time, GOOD_EVENT, "not a record", bad_field])  # type: ignore[list-item]
    assert good == [GOOD_METRIC, GOOD_EVENT]
    assert [(index, error.field) for index, error in bad] == [(1, "time_ns"), (3, "record"), (4, "fields.v")]


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"name": "m", "fields": {"v": 1}, "time_ns": "1700000000"}, "$.time_ns"),  # a string is not converted
        ({"name": "m", "fields": {"v": 1}, "time_ns": 1.7e18}, "$.time_ns"),  # nor a float
        ({"name": "m", "fields": {"v": 1}, "tags": {"a": {"b": 1}}}, "$.tags['a']"),  # an object is not a tag
        ({"name": "m", "fields": {"v": 1}, "tags": {"a": 5}}, "$.tags['a']"),
        ({"name": "m", "fields": {"v": 1}, "round": "3"}, "$.round"),
        ({"name": "m", "fields": {"v": 1}, "round": -1}, "round: "),
        ({"name": "m", "fields": {"v": 1}, "time_ns": -5}, "time_ns: "),
        ({"name": "m", "fields": {"v": 1}, "round": 2**64 - 1}, "round: "),
        ({"name": "m", "fields": {"v": {"x": 1}}}, "$.fields['v']"),
        ({"type": "X", "level": "LOUD"}, "$.level"),
        ({"fields": {"v": 1}}, "$.name"),
    ],
)
def test_record_from_dict_is_strict_and_names_the_field(data: dict, named: str) -> None:
    with pytest.raises(ValueError) as caught:
        record_from_dict(data)
    assert named in str(caught.value)


def test_record_from_dict_reads_what_record_to_dict_wrote() -> None:
    from flcollector import record_to_dict

    assert record_from_dict(record_to_dict(GOOD_METRIC)) == GOOD_METRIC
    assert record_from_dict(record_to_dict(GOOD_EVENT)) == GOOD_EVENT
