"""The two record types that flow through the pipeline: :class:`Metric` and :class:`Event`.

Both are small frozen attrs classes. Timestamps are integer nanoseconds of wall-clock time and are never
rounded. ``experiment`` and ``round`` may be left ``None`` by a producer: the pipeline stamps them from the
run context (see :mod:`flcollector.context`), which is what makes the FL round a first-class axis.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Literal

import attrs
import cattrs

FieldValue = float | int | bool | str
Level = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")



def now_ns() -> int:
    """Return the wall-clock time in integer nanoseconds since the Unix epoch."""
    return time.time_ns()


@attrs.frozen(slots=True)
class Metric:
    """A flat measurement: one name, a timestamp, numeric or string fields and string tags.

    Flat on purpose, so it maps 1:1 onto CSV, Parquet, InfluxDB line protocol and Prometheus.
    ``source`` names the component measured (``fl_server``, ``policy_engine``, ``sdn_controller``, ``host``...).
    """

    name: str
    fields: Mapping[str, FieldValue]
    time_ns: int = attrs.field(factory=now_ns)
    tags: Mapping[str, str] = attrs.field(factory=dict)
    source: str = "flcollector"
    experiment: str | None = None
    round: int | None = None

    kind = "metric"


@attrs.frozen(slots=True)
class Event:
    """Something that happened: a round finished, a policy denied a request, a link went down.

    ``id`` is assigned by the pipeline before fan-out (strictly increasing, also across restarts), so every sink
    and the store agree on it; the dashboard's ``since_id`` cursor depends on it. ``origin_id`` is the source's own
    id of the event when it has one (the FL server's uuid ``event_id``, the policy engine's ``id``), kept so a row
    can be matched to the source's log and exactly-once checked from outside; ``None`` for events we make. An event
    polled from a source has ``source = source_name(<the source's component name>)`` (see
    :mod:`flcollector.source_names`). Snapshots that are documents (a topology) are Events whose ``details`` hold
    the document; the latest one per ``type`` is always queryable.
    """

    type: str
    message: str = ""
    time_ns: int = attrs.field(factory=now_ns)
    source: str = "flcollector"
    level: Level = "INFO"
    details: Mapping[str, Any] = attrs.field(factory=dict)
    experiment: str | None = None
    round: int | None = None
    id: int | None = None
    origin_id: str | None = None

    kind = "event"


Record = Metric | Event


#: The converter for records: unstructures to plain dicts (fast, generated code) and back.
converter = cattrs.Converter()


def _structure_field_value(value: Any, _type: Any) -> FieldValue:
    """Accept a field value as it is (cattrs cannot structure the union by itself); refuse other types."""
    if isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"must be a number, a boolean or a string, got {type(value).__name__} {_preview(value)}")


def _structure_int(value: Any, _type: Any) -> int:
    """Only a JSON integer is an integer: ``"5"``, ``5.0`` and ``true`` are refused, never converted."""
    if type(value) is int:
        return value
    raise TypeError(f"must be an integer, got {type(value).__name__} {_preview(value)}")


def _structure_str(value: Any, _type: Any) -> str:
    """Only a string is a string: an object or a number is refused, never turned into its text."""
    if type(value) is str:
        return value
    raise TypeError(f"must be a string, got {type(value).__name__} {_preview(value)}")


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


converter.register_structure_hook(FieldValue, _structure_field_value)
converter.register_structure_hook(int, _structure_int)
converter.register_structure_hook(str, _structure_str)


def record_to_dict(record: Record) -> dict[str, Any]:
    """Return a JSON-ready dict for ``record`` with a ``kind`` key (``"metric"`` or ``"event"``)."""
    if type(record) is Metric:  # the hot path (remote sinks, the API): the converter's dict, built 3x cheaper
        return {"name": record.name, "fields": dict(record.fields), "time_ns": record.time_ns,
                "tags": dict(record.tags), "source": record.source, "experiment": record.experiment,
                "round": record.round, "kind": "metric"}
    data: dict[str, Any] = converter.unstructure(record)
    data["kind"] = record.kind
    return data


def record_from_dict(data: Mapping[str, Any]) -> Record:
    """Build a record from a dict made by :func:`record_to_dict` (``kind`` chooses the class).

    Strict: an integer must be a JSON integer and a string a string (nothing is converted), and the record must
    pass :func:`~flcollector.limits.check_record`. Raises ``ValueError`` with a message naming the field when the
    dict is wrong (an ``InvalidRecord`` for a value out of range).
    """
    body = {k: v for k, v in data.items() if k != "kind"}
    kind = data.get("kind") or ("event" if "type" in data else "metric")
    cls: type[Metric] | type[Event] = Event if kind == "event" else Metric
    try:
        record = converter.structure(body, cls)
    except Exception as exc:  # cattrs raises ExceptionGroups; flatten to one clear message
        problems = cattrs.transform_error(exc, format_exception=_why)
        raise ValueError(f"not a valid {kind}: {'; '.join(problems)}") from None
    from .limits import check_record  # limits imports this module

    check_record(record)
    return record


def _why(exc: BaseException, _type: Any) -> str:
    """cattrs' message for one error, with our own reason when a structure hook gave one."""
    if isinstance(exc, TypeError) and str(exc).startswith("must be"):
        return str(exc)
    if isinstance(exc, KeyError):
        return "required field missing"
    if "not in literal" in str(exc):
        return f"must be one of {', '.join(LEVELS)}" if "DEBUG" in str(_type) else str(exc)
    return cattrs.v.format_exception(exc, _type)
