"""The limits every record is held to before it enters the pipeline, and the check that enforces them.

A record that breaks them cannot be stored by every sink (SQLite's INTEGER is 64 bits, so is InfluxDB's and Parquet's;
JavaScript reads integers exactly only below 2**53) or is not sane for an FL experiment (a negative round). The
pipeline checks every record it is sent (:func:`split_valid`), so a bad value from a monitor, a plugin or an ingest
client is refused at the edge, named and counted, and never reaches a sink, where it would fail a whole batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .records import LEVELS, Metric, Record

#: The ranges every record is held to before it enters the pipeline (:func:`check_record`): what SQLite's INTEGER,
#: InfluxDB, Parquet and JavaScript clients can all hold, and what is sane for an FL experiment.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: Timestamps: integer nanoseconds from the epoch (1970) up to int64's end (2262-04-11).
MAX_TIME_NS = INT64_MAX
#: FL rounds: 0 up to 2**31 - 1 (no experiment runs two billion rounds; a larger value is a unit or parsing mistake).
MAX_ROUND = 2**31 - 1
#: Event ids (the pipeline's, strictly increasing): positive, below 2**53 so JavaScript clients read them exactly.
MAX_EVENT_ID = 2**53 - 1


class InvalidRecord(ValueError):
    """A record that no sink can hold; ``field`` names the attribute (``time_ns``, ``round``, ``fields.loss``...)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def _check_int(field: str, value: object, low: int, high: int) -> None:
    if type(value) is not int:  # bool is an int subclass: refused too
        raise InvalidRecord(field, f"must be an integer, got {type(value).__name__}")
    if not low <= value <= high:
        raise InvalidRecord(field, f"{value} is out of range [{low}, {high}]")


def _check_text(field: str, value: object, *, optional: bool = False, empty: bool = True) -> None:
    if value is None and optional:
        return
    if type(value) is not str:
        raise InvalidRecord(field, f"must be a string, got {type(value).__name__}")
    if not empty and not value:
        raise InvalidRecord(field, "must not be empty")


def _check_field(key: object, value: object) -> None:
    if type(key) is not str:
        raise InvalidRecord("fields", f"keys must be strings, got {type(key).__name__}")
    kind = type(value)
    if kind is float or kind is str or kind is bool:
        return
    if kind is int:
        if not INT64_MIN <= value <= INT64_MAX:  # type: ignore[operator]
            raise InvalidRecord(f"fields.{key}", f"integer {value} is beyond 64 bits (send it as a float)")
        return
    raise InvalidRecord(f"fields.{key}", f"must be a number, a boolean or a string, got {kind.__name__}")


def check_record(record: Record) -> None:
    """Raise :class:`InvalidRecord` naming the attribute when ``record`` holds a value no sink can store.

    Checked: timestamps within ``[0, MAX_TIME_NS]``, rounds within ``[0, MAX_ROUND]``, event ids within
    ``[1, MAX_EVENT_ID]``, integers (not booleans) where integers belong, string names, tags of strings, field
    values that are numbers (integers within 64 bits), booleans or strings, a known level. Non-finite floats are
    allowed in fields (JSON writes them as null). Cheap: the pipeline calls it for every record it is sent.
    """
    _check_int("time_ns", record.time_ns, 0, MAX_TIME_NS)
    if record.round is not None:
        _check_int("round", record.round, 0, MAX_ROUND)
    _check_text("source", record.source)
    _check_text("experiment", record.experiment, optional=True)
    if isinstance(record, Metric):
        _check_text("name", record.name, empty=False)
        tags, fields = record.tags, record.fields
        if not isinstance(tags, Mapping):
            raise InvalidRecord("tags", f"must be a mapping, got {type(tags).__name__}")
        for key, value in tags.items():
            if type(key) is not str or type(value) is not str:
                raise InvalidRecord(f"tags.{key}", f"tags must map strings to strings, got {type(value).__name__}")
        if not isinstance(fields, Mapping):
            raise InvalidRecord("fields", f"must be a mapping, got {type(fields).__name__}")
        for key, field in fields.items():
            _check_field(key, field)
        return
    _check_text("type", record.type, empty=False)
    _check_text("message", record.message)
    _check_text("origin_id", record.origin_id, optional=True)
    if record.level not in LEVELS:
        raise InvalidRecord("level", f"must be one of {', '.join(LEVELS)}, got {record.level!r}")
    if not isinstance(record.details, Mapping):
        raise InvalidRecord("details", f"must be a mapping, got {type(record.details).__name__}")
    if record.id is not None:
        _check_int("id", record.id, 1, MAX_EVENT_ID)


def _plain_metric(record: Metric) -> bool:
    """The fast path of :func:`check_record` for the common metric (a third of its cost); False: check in full."""
    t, r, e = record.time_ns, record.round, record.experiment
    if not (
        type(t) is int and 0 <= t <= MAX_TIME_NS
        and (r is None or (type(r) is int and 0 <= r <= MAX_ROUND))
        and type(record.name) is str and record.name
        and type(record.source) is str and (e is None or type(e) is str)
    ):
        return False
    for key, value in record.tags.items():
        if type(key) is not str or type(value) is not str:
            return False
    for key, field in record.fields.items():
        kind = type(field)
        if type(key) is not str or not (
            kind is float or kind is str or kind is bool or (kind is int and INT64_MIN <= field <= INT64_MAX)  # type: ignore[operator]
        ):
            return False
    return True


def split_valid(batch: Sequence[Record]) -> tuple[list[Record], list[tuple[int, InvalidRecord]]]:
    """Return the records of ``batch`` that pass :func:`check_record`, and ``(index, error)`` for the others."""
    good: list[Record] = []
    bad: list[tuple[int, InvalidRecord]] = []
    append = good.append
    for index, record in enumerate(batch):
        if type(record) is Metric and _plain_metric(record):
            append(record)
            continue
        try:
            check_record(record)
        except InvalidRecord as exc:
            bad.append((index, exc))
            continue
        except Exception as exc:  # not even a record (a plugin sent something else): refused, never a crash
            bad.append((index, InvalidRecord("record", f"not a Metric or Event: {type(exc).__name__}: {exc}")))
            continue
        append(record)
    return good, bad


def describe(record: object) -> str:
    """A short name of a record for messages: ``metric 'cpu' from 'host'`` or ``event 'ROUND_END' from 'fl'``."""
    kind = getattr(record, "kind", type(record).__name__)
    name = getattr(record, "name", None) or getattr(record, "type", "?")
    return f"{kind} {str(name)[:80]!r} from {str(getattr(record, 'source', '?'))[:80]!r}"
