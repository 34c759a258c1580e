"""Records as InfluxDB line protocol: one line per record, tags sorted, fields typed, a timestamp per precision.

``measurement,tag=v,... field=1.5,name="text",ok=true 1700000000000000000``. Metrics are their own measurement
(``metric.name``); events go to one measurement (``events_measurement``) with ``type``, ``level`` and ``source`` as
tags and ``message``, ``id`` and ``details`` (JSON) as fields. The record's axes named in ``axis_tags``
(``source``, ``experiment``, ``round``) become tags too, as the ingest parser of the server plugin lifts them back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import orjson
from flcollector import Event, Metric, Record

PRECISION_DIVISOR = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_MEASUREMENT = str.maketrans({",": "\\,", " ": "\\ ", "\n": "\\n"})
_KEY = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ ", "\n": "\\n"})
_STRING = str.maketrans({'"': '\\"', "\\": "\\\\"})
INT64 = 2**63
CACHE_SIZE = 50_000  # series prefixes kept (cleared when full: a churn of tags must not grow memory)


class LineEncoder:
    """Encodes records for one sink's settings (precision, axis tags, integer and string field handling)."""

    def __init__(self, *, precision: str = "ns", axis_tags: tuple[str, ...] = ("source", "experiment", "round"),
                 integers: str = "float", strings: bool = True, events_measurement: str = "flcollector_events"
                 ) -> None:
        self.divisor = PRECISION_DIVISOR[precision]
        self.axis_tags = axis_tags
        self.integers = integers
        self.strings = strings
        self.events_measurement = events_measurement
        self._cache: dict[tuple[object, ...], str] = {}
        self._keys: dict[str, str] = {}  # escaped field keys

    def _tags(self, record: Record, tags: Mapping[str, str]) -> str:
        merged = dict(tags)
        for axis in self.axis_tags:
            value = getattr(record, axis, None)
            if value is not None and value != "":
                merged.setdefault(axis, str(value))
        return "".join(
            f",{key.translate(_KEY)}={value.translate(_KEY)}"
            for key, value in sorted(merged.items()) if key and value  # influx refuses empty tag keys and values
        )

    def _series(self, record: Record, measurement: str, tags: Mapping[str, str]) -> str:
        """``measurement,tags`` of a record, cached: a monitor's records repeat a few series over and over."""
        key = (measurement, tuple(tags.items()), record.source, record.experiment, record.round)
        series = self._cache.get(key)
        if series is None:
            series = measurement.translate(_MEASUREMENT) + self._tags(record, tags)
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = series
        return series

    def _field(self, value: object, strings: bool) -> str | None:
        if type(value) is float:  # the common case first
            return repr(value) if math.isfinite(value) else None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            if self.integers == "integer" and -INT64 <= value < INT64:
                return f"{value}i"
            return repr(float(value))
        if isinstance(value, float):
            return repr(value) if math.isfinite(value) else None  # influx has no NaN or infinity
        if isinstance(value, str):
            return f'"{value.translate(_STRING)}"' if strings else None
        return None

    def _fields(self, fields: Mapping[str, object], strings: bool) -> str:
        parts = []
        keys = self._keys
        for key, value in fields.items():
            if type(value) is float and value - value == 0.0:  # a finite float, the common case, inline
                text: str | None = repr(value)
            else:
                text = self._field(value, strings)
            if text is None or not key:
                continue
            escaped = keys.get(key)
            if escaped is None:
                escaped = key.translate(_KEY)
                if len(keys) < CACHE_SIZE:
                    keys[key] = escaped
            parts.append(f"{escaped}={text}")
        return ",".join(parts)

    def line(self, record: Record) -> bytes | None:
        """The record as one line, or None when nothing of it can be written (no field left)."""
        if isinstance(record, Metric):
            measurement, tags, fields = record.name, record.tags, self._fields(record.fields, self.strings)
        else:
            event: Event = record
            measurement = self.events_measurement
            tags = {"type": event.type, "level": event.level}
            values = {"message": event.message, "details": orjson.dumps(event.details).decode()}
            fields = self._fields(values, True)  # an event's message is its point, whatever `strings` says
            if event.id is not None:  # always an integer: ids are the dashboard's cursor, exact beyond 2**53
                fields += f",id={event.id}i"
        if not fields or not measurement:
            return None
        return f"{self._series(record, measurement, tags)} {fields} {record.time_ns // self.divisor}".encode()
